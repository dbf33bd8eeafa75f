-- +goose Up
-- Readers find a contact's events through an index on the contact. Keyed
-- (contact_id, occurred_at), that index took every stored event to a
-- random page, and each group commit of ~800 events rewrote ~800 of its
-- pages to the WAL: past a million events the largest cost of SQLite's
-- single writer (docs/BENCHMARKS.md). The index now leads with the
-- event's bucket of 65,536 ids (a virtual column, id >> 16): new events
-- only ever land in the newest bucket's few hundred pages, whatever the
-- table's size. Readers ask for the contact in every bucket
-- (store/contact_events.go): "bucket IN (SELECT bucket FROM
-- event_buckets) AND contact_id = ?", one index look-up per bucket. A
-- trigger records each event's bucket, whatever inserts it (about 5% of
-- the writer's time; recording them from the writer alone left events
-- inserted otherwise unfound). (SQLite's planner did not use an index on the
-- expression itself for an IN list read from a table; it does use the
-- virtual column's.)
CREATE TABLE event_buckets (bucket INTEGER PRIMARY KEY);
INSERT INTO event_buckets (bucket) SELECT DISTINCT id >> 16 FROM events;
ALTER TABLE events ADD COLUMN bucket INTEGER GENERATED ALWAYS AS (id >> 16) VIRTUAL;
DROP INDEX events_contact;
CREATE INDEX events_contact_bucket ON events (bucket, contact_id, occurred_at);
-- +goose StatementBegin
CREATE TRIGGER events_bucket AFTER INSERT ON events
BEGIN
    INSERT OR IGNORE INTO event_buckets (bucket) VALUES (NEW.bucket);
END;
-- +goose StatementEnd

DROP TRIGGER contacts_delete_events;
-- +goose StatementBegin
CREATE TRIGGER contacts_delete_events AFTER DELETE ON contacts
BEGIN
    DELETE FROM events WHERE bucket IN (SELECT bucket FROM event_buckets) AND contact_id = OLD.id;
    DELETE FROM contact_activity WHERE contact_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER events_bucket;
DROP TRIGGER contacts_delete_events;
-- +goose StatementBegin
CREATE TRIGGER contacts_delete_events AFTER DELETE ON contacts
BEGIN
    DELETE FROM events WHERE contact_id = OLD.id;
    DELETE FROM contact_activity WHERE contact_id = OLD.id;
END;
-- +goose StatementEnd
DROP INDEX events_contact_bucket;
ALTER TABLE events DROP COLUMN bucket;
CREATE INDEX events_contact ON events (contact_id, occurred_at);
DROP TABLE event_buckets;
