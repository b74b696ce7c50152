-- Audit events by customer, indexed in batches rather than one entry per event.
--
-- An index keyed by customer first puts each new event on a random page of it, and every
-- page a commit touches is written whole to the WAL and synced: a group commit of 50 reads of
-- 50 customers wrote 50 index pages, and its COMMIT took milliseconds instead of a fraction.
-- Instead, each time 10,000 events have accumulated the writer files them here, sorted, in
-- the same transaction as the events that complete the batch (audit_index.rs). Keys start
-- with the event's bucket (seq >> 16), so a batch lands in the few hundred pages of one or
-- two buckets; a search by customer probes each bucket, then scans the events not yet filed.
DROP INDEX audit_by_customer;

CREATE TABLE audit_customer_index (
    bucket      INTEGER NOT NULL,
    customer_id BLOB    NOT NULL,
    seq         INTEGER NOT NULL,
    PRIMARY KEY (bucket, customer_id, seq)
) STRICT, WITHOUT ROWID;

-- Events up to `filed_upto` are in audit_customer_index; later ones are not yet.
CREATE TABLE audit_customer_index_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    filed_upto INTEGER NOT NULL
) STRICT;

INSERT INTO audit_customer_index (bucket, customer_id, seq)
SELECT seq >> 16, customer_id, seq FROM audit_events WHERE customer_id IS NOT NULL;
INSERT INTO audit_customer_index_state (id, filed_upto) VALUES (1, COALESCE((SELECT MAX(seq) FROM audit_events), 0));
