-- Sessions get a public id: lists show it and "end this session" names it, so neither the
-- cookie nor its hash (which finds the session) ever leaves the server. Existing sessions
-- keep working with a random id. SQLite cannot add a NOT NULL column without a default,
-- hence the copy.

CREATE TABLE sessions_new (
    token_hash   BLOB PRIMARY KEY,
    id           BLOB    NOT NULL UNIQUE,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    mfa_done     INTEGER NOT NULL,
    source       TEXT,
    user_agent   TEXT
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_new (token_hash, id, user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent)
    SELECT token_hash, randomblob(16), user_id, created_at, last_seen_at, expires_at, mfa_done, source, user_agent
    FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_by_user ON sessions (user_id);
