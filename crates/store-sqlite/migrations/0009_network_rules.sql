-- Address ranges (CIDR) that a role, a user or an API token may be used from.
CREATE TABLE network_rules (
    subject_kind TEXT NOT NULL,
    subject_id   BLOB NOT NULL,
    networks     TEXT NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
) STRICT, WITHOUT ROWID;
