-- Break-glass access: a user's time-boxed access to one record beyond their reach, with a
-- written justification; pending until approved where policy asks for approval.
CREATE TABLE break_glass (
    id            BLOB PRIMARY KEY,
    customer_id   BLOB NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    justification TEXT NOT NULL,
    status        TEXT NOT NULL,
    minutes       INTEGER NOT NULL,
    requested_at  INTEGER NOT NULL,
    decided_by    BLOB,
    decided_at    INTEGER,
    expires_at    INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX break_glass_by_user ON break_glass (user_id, requested_at);
CREATE INDEX break_glass_by_time ON break_glass (requested_at);
