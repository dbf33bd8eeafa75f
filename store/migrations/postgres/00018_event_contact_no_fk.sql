-- +goose Up
-- 00013 replaced the foreign keys of events.contact_id and
-- contact_activity.contact_id by a check per statement. That check still
-- copied every new row into a transition table and probed contacts for
-- each batch: 12-15% of ingestion's throughput (docs/BENCHMARKS.md). The
-- guarantee now comes from lock order instead, as SQLite's single writer
-- gives it there (its 00018):
--
-- * ingestion, the only writer of these two tables, takes ROW EXCLUSIVE on
--   both before it looks any contact up (store/ingest.go, ingestPostgres);
-- * deleting contacts takes SHARE on both first (00013), which waits for
--   every such transaction and holds new ones off until the delete
--   commits, and then deletes the contacts' rows in both tables.
--
-- So a batch either looked its contacts up after the delete committed
-- (and does not find the deleted one), or the delete waits for the batch
-- and deletes what it wrote. The check functions stay for the way down.
DROP TRIGGER events_contact_insert ON events;
DROP TRIGGER events_contact_update ON events;
DROP TRIGGER contact_activity_contact_insert ON contact_activity;
DROP TRIGGER contact_activity_contact_update ON contact_activity;

-- +goose Down
CREATE TRIGGER events_contact_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER events_contact_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER contact_activity_contact_insert AFTER INSERT ON contact_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER contact_activity_contact_update AFTER UPDATE OF contact_id ON contact_activity
    FOR EACH ROW WHEN (NEW.contact_id IS DISTINCT FROM OLD.contact_id) EXECUTE FUNCTION check_contact_exists();
