-- +goose Up
-- Ingestion inserts events by the hundred per statement, and the foreign
-- keys of events.contact_id and contact_activity.contact_id checked each new
-- row on its own: a look-up of the contact that also locked its row
-- FOR KEY SHARE, which writes the lock into the contact's row (a WAL record,
-- often a multixact, as concurrent batches lock the same contacts) — a sixth
-- of the server's time under ingestion load. The same guarantees, with no
-- row locks:
--
-- * a statement that inserts or updates rows of events or contact_activity
--   checks, once, that every contact its rows refer to exists (with the
--   foreign key's error when one does not);
-- * deleting contacts first takes a SHARE lock on both tables, which waits
--   for every transaction that has written to them to finish and holds off
--   new writes until the delete commits: a batch that checked a contact
--   before the delete is committed before it, and one that writes after it
--   checks after the delete has committed, and fails as it did with the
--   foreign key;
-- * the delete then deletes the contacts' events and activity, as
--   ON DELETE CASCADE did.
--
-- Deleting a contact (rare, an administrator's act) thus briefly pauses
-- ingestion instead of every event paying for a row lock.

-- +goose StatementBegin
CREATE FUNCTION check_contacts_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids BIGINT[];
    missing BIGINT;
BEGIN
    ids := ARRAY(SELECT DISTINCT contact_id FROM new_rows WHERE contact_id IS NOT NULL);
    IF cardinality(ids) = 0 THEN
        RETURN NULL;
    END IF;
    -- "= ANY" of an array keeps the plan an index look-up per id; a join
    -- with new_rows was planned as a scan of all of contacts while the
    -- table was small, and the function keeps its plans.
    IF (SELECT count(*) FROM contacts WHERE id = ANY(ids)) < cardinality(ids) THEN
        SELECT i INTO missing FROM unnest(ids) AS i WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = i) LIMIT 1;
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_TABLE_NAME || '_contact_id_fkey'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_contact_id_fkey', TABLE = TG_TABLE_NAME, COLUMN = 'contact_id',
                DETAIL = format('Key (contact_id)=(%s) is not present in table "contacts".', missing);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- contact_activity's rows never change contact; should one ever, this
-- checks it, and the upserts of ingestion, which do not set contact_id,
-- do not run it.
-- +goose StatementBegin
CREATE FUNCTION check_contact_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM contacts WHERE id = NEW.contact_id) THEN
        RAISE EXCEPTION 'insert or update on table "%" violates foreign key constraint "%"', TG_TABLE_NAME, TG_TABLE_NAME || '_contact_id_fkey'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_contact_id_fkey', TABLE = TG_TABLE_NAME, COLUMN = 'contact_id',
                DETAIL = format('Key (contact_id)=(%s) is not present in table "contacts".', NEW.contact_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION contacts_lock_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE events, contact_activity IN SHARE MODE;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION contacts_delete_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE contact_id IN (SELECT id FROM old_contacts);
    DELETE FROM contact_activity WHERE contact_id IN (SELECT id FROM old_contacts);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

ALTER TABLE events DROP CONSTRAINT events_contact_id_fkey;
ALTER TABLE contact_activity DROP CONSTRAINT contact_activity_contact_id_fkey;
CREATE TRIGGER events_contact_insert AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER events_contact_update AFTER UPDATE ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER contact_activity_contact_insert AFTER INSERT ON contact_activity
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_contacts_exist();
CREATE TRIGGER contact_activity_contact_update AFTER UPDATE OF contact_id ON contact_activity
    FOR EACH ROW WHEN (NEW.contact_id IS DISTINCT FROM OLD.contact_id) EXECUTE FUNCTION check_contact_exists();
CREATE TRIGGER contacts_lock_dependents BEFORE DELETE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_lock_dependents();
CREATE TRIGGER contacts_delete_dependents AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS old_contacts FOR EACH STATEMENT EXECUTE FUNCTION contacts_delete_dependents();

-- contact_activity rows are updated in place by every batch; pages with
-- room left let PostgreSQL update them without a new index entry (HOT).
ALTER TABLE contact_activity SET (fillfactor = 70);

-- +goose Down
ALTER TABLE contact_activity RESET (fillfactor);
DROP TRIGGER contacts_delete_dependents ON contacts;
DROP TRIGGER contacts_lock_dependents ON contacts;
DROP TRIGGER contact_activity_contact_update ON contact_activity;
DROP TRIGGER contact_activity_contact_insert ON contact_activity;
DROP TRIGGER events_contact_update ON events;
DROP TRIGGER events_contact_insert ON events;
DROP FUNCTION contacts_delete_dependents();
DROP FUNCTION contacts_lock_dependents();
DROP FUNCTION check_contact_exists();
DROP FUNCTION check_contacts_exist();
ALTER TABLE contact_activity ADD CONSTRAINT contact_activity_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE;
ALTER TABLE events ADD CONSTRAINT events_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE;
