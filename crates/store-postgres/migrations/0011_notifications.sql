-- The notifier's outbox. A notice is one inbox entry per recipient (the console channel,
-- read or unread); each outside channel it goes through (e-mail today) is a delivery with
-- its own status, attempts, last error and next attempt time. A delivery is claimed by the
-- node sending it until `claimed_until`, so two nodes never send the same one.
CREATE TABLE notifications (
    id         UUID PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    params     JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    read_at    TIMESTAMPTZ
);
CREATE INDEX notifications_by_user ON notifications (user_id, id);

CREATE TABLE notification_deliveries (
    id              UUID PRIMARY KEY,
    notification_id UUID NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL,
    address         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    last_error      TEXT,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    claimed_until   TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL,
    sent_at         TIMESTAMPTZ
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (status, next_attempt_at);
CREATE INDEX notification_deliveries_by_time ON notification_deliveries (updated_at);

-- Devices and networks each user has signed in from: a keyed 32-bit hash only (see
-- tutela_core::notify::device), never the address or the browser.
CREATE TABLE known_devices (
    user_id       UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device        BIGINT NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL,
    last_seen_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, device)
);
