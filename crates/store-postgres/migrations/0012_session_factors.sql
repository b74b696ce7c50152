-- Per-role sign-in policies need to know how each session (and each API token, through the
-- session that made it) proved its second factor, and when its user last proved who they are
-- (re-authentication before reveal or export). Rows from before stay valid: no factor
-- recorded (it satisfies no role that asks for a particular one) and authenticated when they
-- were created.

ALTER TABLE sessions ADD COLUMN factor TEXT;
ALTER TABLE sessions ADD COLUMN authenticated_at TIMESTAMPTZ;
UPDATE sessions SET authenticated_at = created_at;
ALTER TABLE sessions ALTER COLUMN authenticated_at SET NOT NULL;
ALTER TABLE api_tokens ADD COLUMN factor TEXT;
