-- Export requests: bulk exports that policy puts before an approver (too many rows, or
-- restricted fields in plaintext), and the evidence of every approved one.
CREATE TABLE export_requests (
    id           BLOB PRIMARY KEY,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    format       TEXT NOT NULL,
    purpose      TEXT,
    revealed     TEXT NOT NULL,
    rows         INTEGER NOT NULL,
    reasons      TEXT NOT NULL,
    status       TEXT NOT NULL,
    requested_at INTEGER NOT NULL,
    decided_by   BLOB,
    decided_at   INTEGER,
    note         TEXT,
    expires_at   INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX export_requests_by_user ON export_requests (user_id, requested_at);
CREATE INDEX export_requests_by_time ON export_requests (requested_at);
