-- Tutela foundation schema (SQLite). Times are Unix microseconds (UTC); ids are UUID bytes.
-- Sealed values are ciphertext only: no column here ever holds a confidential or restricted
-- plaintext.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

-- Keys wrapped by the root key (key-encryption keys by version, blind-index key, audit signing key).
CREATE TABLE keys (
    purpose    TEXT    NOT NULL,
    version    INTEGER NOT NULL,
    wrapped    BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (purpose, version)
) STRICT;

CREATE TABLE fields (
    id             TEXT PRIMARY KEY,
    label_en       TEXT    NOT NULL,
    label_zh       TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    classification TEXT    NOT NULL,
    required       INTEGER NOT NULL,
    position       INTEGER NOT NULL
) STRICT;

CREATE TABLE customers (
    id          BLOB PRIMARY KEY,
    version     INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped_dek BLOB    NOT NULL,
    plain       TEXT    NOT NULL,
    sealed      BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX customers_by_kek ON customers (kek_version, id);

CREATE TABLE customer_blind (
    field_id    TEXT    NOT NULL,
    hash        INTEGER NOT NULL,
    customer_id BLOB    NOT NULL,
    PRIMARY KEY (field_id, hash, customer_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX customer_blind_by_customer ON customer_blind (customer_id);

CREATE TABLE erasures (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id BLOB    NOT NULL,
    erased_at   INTEGER NOT NULL,
    actor_id    BLOB,
    reason      TEXT    NOT NULL
) STRICT;

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    BLOB,
    actor       TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    customer_id BLOB,
    fields      TEXT    NOT NULL,
    purpose     TEXT,
    source      TEXT,
    detail      TEXT,
    hash        BLOB    NOT NULL
) STRICT;
CREATE INDEX audit_by_customer ON audit_events (customer_id, seq) WHERE customer_id IS NOT NULL;
CREATE INDEX audit_by_actor ON audit_events (actor_id, seq) WHERE actor_id IS NOT NULL;
CREATE INDEX audit_by_action ON audit_events (action, seq);
CREATE INDEX audit_by_time ON audit_events (at);

CREATE TABLE audit_checkpoints (
    seq         INTEGER PRIMARY KEY,
    hash        BLOB    NOT NULL,
    at          INTEGER NOT NULL,
    key_version INTEGER NOT NULL,
    signature   BLOB    NOT NULL
) STRICT;

CREATE TABLE users (
    id             BLOB PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,
    display_name   TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    kek_version    INTEGER NOT NULL,
    wrapped_dek    BLOB    NOT NULL,
    totp_secret    BLOB,
    totp_enabled   INTEGER NOT NULL,
    totp_last_step INTEGER,
    locale         TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX users_by_kek ON users (kek_version, id);

CREATE TABLE roles (
    id          BLOB PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL,
    builtin     INTEGER NOT NULL,
    permissions TEXT    NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE user_roles (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role_id BLOB NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, role_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE recovery_codes (
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash    BLOB NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, hash)
) STRICT, WITHOUT ROWID;

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    mfa_done     INTEGER NOT NULL,
    source       TEXT,
    user_agent   TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BLOB PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   BLOB    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
