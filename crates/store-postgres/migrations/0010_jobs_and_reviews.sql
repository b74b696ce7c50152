-- Jobs: the scheduler's history of runs, and the lease that lets one node at a time run a
-- job kind.
CREATE TABLE job_runs (
    id          UUID PRIMARY KEY,
    kind        TEXT NOT NULL,
    node        TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    status      TEXT NOT NULL,
    done        BIGINT NOT NULL,
    total       BIGINT,
    summary     TEXT
);
CREATE INDEX job_runs_by_kind ON job_runs (kind, started_at);
CREATE INDEX job_runs_by_time ON job_runs (started_at);

CREATE TABLE job_leases (
    kind        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until TIMESTAMPTZ NOT NULL
);

-- Access reviews: a department may name its manager, who reviews its members' access.
ALTER TABLE departments ADD COLUMN manager_id UUID REFERENCES users (id) ON DELETE SET NULL;

CREATE TABLE review_campaigns (
    id            UUID PRIMARY KEY,
    name          TEXT NOT NULL,
    department_id UUID,
    routing       TEXT NOT NULL,
    reviewer_id   UUID,
    policy        TEXT NOT NULL,
    recur_days    BIGINT,
    created_by    UUID,
    created_at    TIMESTAMPTZ NOT NULL,
    deadline      TIMESTAMPTZ NOT NULL,
    status        TEXT NOT NULL,
    closed_at     TIMESTAMPTZ,
    report        TEXT
);
CREATE INDEX review_campaigns_by_time ON review_campaigns (created_at);

-- Items keep ids rather than foreign keys: the evidence outlives the roles, shares and
-- users it names.
CREATE TABLE review_items (
    id            UUID PRIMARY KEY,
    campaign_id   UUID NOT NULL REFERENCES review_campaigns (id),
    seq           BIGINT NOT NULL,
    user_id       UUID NOT NULL,
    kind          TEXT NOT NULL,
    subject_id    UUID NOT NULL,
    label         TEXT NOT NULL,
    reviewer_id   UUID,
    decision      TEXT,
    note          TEXT,
    justification TEXT,
    decided_by    UUID,
    decided_at    TIMESTAMPTZ,
    outcome       TEXT
);
CREATE INDEX review_items_by_campaign ON review_items (campaign_id, seq);
CREATE INDEX review_items_by_reviewer ON review_items (reviewer_id, decision);

CREATE TABLE review_reminders (
    campaign_id UUID NOT NULL REFERENCES review_campaigns (id),
    reviewer_id UUID NOT NULL,
    reminded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (campaign_id, reviewer_id)
);
