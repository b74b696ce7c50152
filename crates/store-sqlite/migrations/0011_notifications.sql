-- The notifier's outbox. A notice is one inbox entry per recipient (the console channel,
-- read or unread); each outside channel it goes through (e-mail today) is a delivery with
-- its own status, attempts, last error and next attempt time. A delivery is claimed by the
-- node sending it until `claimed_until`, so two nodes never send the same one.
CREATE TABLE notifications (
    id         BLOB PRIMARY KEY,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    params     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    read_at    INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX notifications_by_user ON notifications (user_id, id);

CREATE TABLE notification_deliveries (
    id              BLOB PRIMARY KEY,
    notification_id BLOB NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    last_error      TEXT,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER,
    updated_at      INTEGER NOT NULL,
    sent_at         INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_by_time ON notification_deliveries (updated_at);

-- Devices and networks each user has signed in from: a keyed 32-bit hash only (see
-- tutela_core::notify::device), never the address or the browser.
CREATE TABLE known_devices (
    user_id       BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device        INTEGER NOT NULL,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, device)
) STRICT, WITHOUT ROWID;
