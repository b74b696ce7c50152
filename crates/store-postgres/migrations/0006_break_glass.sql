-- Break-glass access: a user's time-boxed access to one record beyond their reach, with a
-- written justification; pending until approved where policy asks for approval.
CREATE TABLE break_glass (
    id            UUID PRIMARY KEY,
    customer_id   UUID NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    justification TEXT NOT NULL,
    status        TEXT NOT NULL,
    minutes       BIGINT NOT NULL,
    requested_at  TIMESTAMPTZ NOT NULL,
    decided_by    UUID,
    decided_at    TIMESTAMPTZ,
    expires_at    TIMESTAMPTZ
);
CREATE INDEX break_glass_by_user ON break_glass (user_id, requested_at);
CREATE INDEX break_glass_by_time ON break_glass (requested_at);
