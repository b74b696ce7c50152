-- Jobs: the scheduler's history of runs, and the lease that lets one node at a time run a
-- job kind.
CREATE TABLE job_runs (
    id          BLOB PRIMARY KEY,
    kind        TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    status      TEXT NOT NULL,
    done        INTEGER NOT NULL,
    total       INTEGER,
    summary     TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX job_runs_by_kind ON job_runs (kind, started_at);
CREATE INDEX job_runs_by_time ON job_runs (started_at);

CREATE TABLE job_leases (
    kind        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Access reviews: a department may name its manager, who reviews its members' access.
ALTER TABLE departments ADD COLUMN manager_id BLOB REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE review_campaigns (
    id            BLOB PRIMARY KEY,
    name          TEXT NOT NULL,
    department_id BLOB,
    routing       TEXT NOT NULL,
    reviewer_id   BLOB,
    policy        TEXT NOT NULL,
    recur_days    INTEGER,
    created_by    BLOB,
    created_at    INTEGER NOT NULL,
    deadline      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    closed_at     INTEGER,
    report        TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX review_campaigns_by_time ON review_campaigns (created_at);

-- Items keep ids rather than foreign keys: the evidence outlives the roles, shares and
-- users it names.
CREATE TABLE review_items (
    id            BLOB PRIMARY KEY,
    campaign_id   BLOB NOT NULL REFERENCES review_campaigns (id),
    seq           INTEGER NOT NULL,
    user_id       BLOB NOT NULL,
    kind          TEXT NOT NULL,
    subject_id    BLOB NOT NULL,
    label         TEXT NOT NULL,
    reviewer_id   BLOB,
    decision      TEXT,
    note          TEXT,
    justification TEXT,
    decided_by    BLOB,
    decided_at    INTEGER,
    outcome       TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX review_items_by_campaign ON review_items (campaign_id, seq);
CREATE INDEX review_items_by_reviewer ON review_items (reviewer_id, decision);

CREATE TABLE review_reminders (
    campaign_id BLOB NOT NULL REFERENCES review_campaigns (id),
    reviewer_id BLOB NOT NULL,
    reminded_at INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, reviewer_id)
) STRICT, WITHOUT ROWID;
