-- Sessions get a public id: lists show it and "end this session" names it, so neither the
-- cookie nor its hash (which finds the session) ever leaves the server. Existing sessions
-- keep working with a random id.

ALTER TABLE sessions ADD COLUMN id UUID;
UPDATE sessions SET id = gen_random_uuid();
ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
