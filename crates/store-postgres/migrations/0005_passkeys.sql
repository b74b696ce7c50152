-- Passkeys (WebAuthn credentials): a second factor after the password, or on their own a
-- passwordless sign-in (user verification makes one passkey two factors).
--
-- `passkey` is the WebAuthn library's serialised credential (JSON text, kept byte for byte):
-- the public key, the signature counter and the authenticator's flags; nothing in it is
-- secret. `sign_count` repeats the counter as a column so that a use can be a
-- compare-and-swap on it. A passkey whose counter went backwards (a possibly cloned
-- authenticator) is suspended, not deleted, so that the user sees why it stopped working.
--
-- Number 0005: 0004 is reserved for another change (sqlx applies a lower number added later).

CREATE TABLE passkeys (
    id            UUID PRIMARY KEY,
    user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BYTEA       NOT NULL UNIQUE,
    name          TEXT        NOT NULL,
    passkey       TEXT        NOT NULL,
    sign_count    BIGINT      NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    suspended_at  TIMESTAMPTZ
);
CREATE INDEX passkeys_by_user ON passkeys (user_id);
