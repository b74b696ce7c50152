-- Export requests: bulk exports that policy puts before an approver (too many rows, or
-- restricted fields in plaintext), and the evidence of every approved one.
CREATE TABLE export_requests (
    id           UUID PRIMARY KEY,
    user_id      UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format       TEXT NOT NULL,
    purpose      TEXT,
    revealed     JSONB NOT NULL,
    rows         BIGINT NOT NULL,
    reasons      JSONB NOT NULL,
    status       TEXT NOT NULL,
    requested_at TIMESTAMPTZ NOT NULL,
    decided_by   UUID,
    decided_at   TIMESTAMPTZ,
    note         TEXT,
    expires_at   TIMESTAMPTZ
);
CREATE INDEX export_requests_by_user ON export_requests (user_id, requested_at);
CREATE INDEX export_requests_by_time ON export_requests (requested_at);
