-- Single sign-on: which identity-provider account (issuer, subject) is which user. Users are
-- recognised by this pair, never by e-mail alone: a provider may give an address to someone
-- else, never a subject. A user may be linked to several accounts (another issuer after a
-- provider migration); an account to one user only.
--
-- Number 0008: 0007 is another change's.

CREATE TABLE sso_identities (
    issuer          TEXT        NOT NULL,
    subject         TEXT        NOT NULL,
    user_id         UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email           TEXT,
    created_at      TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX sso_identities_by_user ON sso_identities (user_id);
