-- Address ranges (CIDR) that a role, a user or an API token may be used from.
CREATE TABLE network_rules (
    subject_kind TEXT NOT NULL,
    subject_id   UUID NOT NULL,
    networks     JSONB NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
);
