-- Audit events by actor, by action and by time, filed in batches like those by customer (0003).
--
-- Every page a commit touches is written whole to the WAL and synced, and the three indexes
-- kept per event (actor, action, time) each touched a leaf (and often its parent) on every
-- commit: a group commit of 32 events wrote about 15 pages, 5.5 without them. The writer now
-- files actors and actions with the customers, once 10,000 events are waiting, sorted, and
-- keeps one time zone per filed batch (its first and last event, earliest and latest time):
-- a search by time scans the batches whose zone meets the range, and the events not yet
-- filed. Zones stay right when the clock steps back; they only grow less selective.
-- audit_customer_index_state.filed_upto (0003) now marks what is filed in all four.
DROP INDEX audit_by_actor;
DROP INDEX audit_by_action;
DROP INDEX audit_by_time;

CREATE TABLE audit_actor_index (
    bucket   INTEGER NOT NULL,
    actor_id BLOB    NOT NULL,
    seq      INTEGER NOT NULL,
    PRIMARY KEY (bucket, actor_id, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_action_index (
    bucket INTEGER NOT NULL,
    action TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (bucket, action, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE audit_time_zones (
    first_seq INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    min_at    INTEGER NOT NULL,
    max_at    INTEGER NOT NULL
) STRICT;

-- What is filed already (up to filed_upto) is filed in the new tables too; one zone per
-- 16,384 events of it.
INSERT INTO audit_actor_index (bucket, actor_id, seq)
SELECT seq >> 16, actor_id, seq FROM audit_events
WHERE actor_id IS NOT NULL AND seq <= (SELECT filed_upto FROM audit_customer_index_state WHERE id = 1);
INSERT INTO audit_action_index (bucket, action, seq)
SELECT seq >> 16, action, seq FROM audit_events
WHERE seq <= (SELECT filed_upto FROM audit_customer_index_state WHERE id = 1);
INSERT INTO audit_time_zones (first_seq, last_seq, min_at, max_at)
SELECT MIN(seq), MAX(seq), MIN(at), MAX(at) FROM audit_events
WHERE seq <= (SELECT filed_upto FROM audit_customer_index_state WHERE id = 1)
GROUP BY seq >> 14;
