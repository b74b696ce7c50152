-- Access governance: the organisation (departments, teams, memberships), record owners, data
-- scopes and field rules on roles, sharing rules and single-record shares. The same tables as
-- SQLite's 0004_access.sql.
-- Existing roles keep reaching every record (`all`) with no field rule, as before; existing
-- records have no owner, so only an `all` scope, a sharing rule or a share reaches them.

CREATE TABLE departments (
    id         UUID PRIMARY KEY,
    name       TEXT COLLATE "C" NOT NULL UNIQUE,
    parent_id  UUID REFERENCES departments (id),
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE teams (
    id            UUID PRIMARY KEY,
    name          TEXT COLLATE "C" NOT NULL UNIQUE,
    department_id UUID REFERENCES departments (id),
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE memberships (
    user_id       UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    department_id UUID REFERENCES departments (id),
    team_id       UUID REFERENCES teams (id)
);

ALTER TABLE customers ADD COLUMN owner_id UUID;
CREATE INDEX customers_by_owner ON customers (owner_id, id);

ALTER TABLE roles ADD COLUMN data_scope TEXT NOT NULL DEFAULT 'all';
ALTER TABLE roles ADD COLUMN field_rules JSONB NOT NULL DEFAULT '{}';

CREATE TABLE sharing_rules (
    id           UUID PRIMARY KEY,
    name         TEXT COLLATE "C" NOT NULL UNIQUE,
    field_id     TEXT        NOT NULL,
    value        TEXT        NOT NULL,
    grantee_kind TEXT        NOT NULL,
    grantee_id   UUID        NOT NULL,
    access       TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE record_shares (
    id          UUID PRIMARY KEY,
    customer_id UUID        NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    user_id     UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access      TEXT        NOT NULL,
    reason      TEXT        NOT NULL,
    granted_by  UUID,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX record_shares_by_user ON record_shares (user_id);
CREATE INDEX record_shares_by_customer ON record_shares (customer_id);
