-- Passkeys (WebAuthn credentials): a second factor after the password, or on their own a
-- passwordless sign-in (user verification makes one passkey two factors).
--
-- `passkey` is the WebAuthn library's serialised credential (JSON): the public key, the
-- signature counter and the authenticator's flags; nothing in it is secret. `sign_count`
-- repeats the counter as a column so that a use can be a compare-and-swap on it: two
-- assertions racing from one stored state cannot both be accepted. A passkey whose counter
-- went backwards (a possibly cloned authenticator) is suspended, not deleted, so that the
-- user sees why it stopped working.
--
-- Number 0005: 0004 is reserved for another change. This runner counts migrations by
-- position (PRAGMA user_version), so 0004 must be listed before this file when it lands.

CREATE TABLE passkeys (
    id            BLOB PRIMARY KEY,
    user_id       BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id BLOB    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    passkey       TEXT    NOT NULL,
    sign_count    INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER,
    suspended_at  INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX passkeys_by_user ON passkeys (user_id);
