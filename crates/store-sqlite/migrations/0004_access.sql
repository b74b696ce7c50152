-- Access governance: the organisation (departments, teams, memberships), record owners, data
-- scopes and field rules on roles, sharing rules and single-record shares.
-- Existing roles keep reaching every record (`all`) with no field rule, as before; existing
-- records have no owner, so only an `all` scope, a sharing rule or a share reaches them.

CREATE TABLE departments (
    id         BLOB PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    parent_id  BLOB REFERENCES departments (id),
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE teams (
    id            BLOB PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    department_id BLOB REFERENCES departments (id),
    created_at    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE memberships (
    user_id       BLOB PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    department_id BLOB REFERENCES departments (id),
    team_id       BLOB REFERENCES teams (id)
) STRICT, WITHOUT ROWID;

ALTER TABLE customers ADD COLUMN owner_id BLOB;
CREATE INDEX customers_by_owner ON customers (owner_id, id);

ALTER TABLE roles ADD COLUMN data_scope TEXT NOT NULL DEFAULT 'all';
ALTER TABLE roles ADD COLUMN field_rules TEXT NOT NULL DEFAULT '{}';

CREATE TABLE sharing_rules (
    id           BLOB PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    field_id     TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    grantee_kind TEXT    NOT NULL,
    grantee_id   BLOB    NOT NULL,
    access       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE record_shares (
    id          BLOB PRIMARY KEY,
    customer_id BLOB    NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    user_id     BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    granted_by  BLOB,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX record_shares_by_user ON record_shares (user_id);
CREATE INDEX record_shares_by_customer ON record_shares (customer_id);
