-- +goose Up
-- Every ingestion batch upserted its contacts' rows of contact_activity.
-- Concurrent batches about the same contacts then waited for each other's
-- row locks until commit: a fifth of ingestion's throughput
-- (docs/BENCHMARKS.md). Batches now append their changes to
-- contact_activity_deltas, which has no unique key and so no conflicts,
-- and one background fold at a time moves them into contact_activity
-- (store/activity_fold.go). Readers add both in one statement.
--
-- The table joins the lock protocol of 00013/00018: ingestion takes ROW
-- EXCLUSIVE on it with events and contact_activity before it looks any
-- contact up, the fold takes ROW EXCLUSIVE on contact_activity and it (in
-- that order), and deleting contacts takes SHARE on all three and deletes
-- the contacts' deltas too.
CREATE TABLE contact_activity_deltas (
    contact_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    count      BIGINT NOT NULL,
    first_at   BIGINT NOT NULL,
    last_at    BIGINT NOT NULL
);
CREATE INDEX contact_activity_deltas_contact ON contact_activity_deltas (contact_id);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_lock_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE events, contact_activity, contact_activity_deltas IN SHARE MODE;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_delete_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE contact_id IN (SELECT id FROM old_contacts);
    DELETE FROM contact_activity WHERE contact_id IN (SELECT id FROM old_contacts);
    DELETE FROM contact_activity_deltas WHERE contact_id IN (SELECT id FROM old_contacts);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- Fold what is pending before the table goes.
INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at)
SELECT contact_id, event_type, sum(count), min(first_at), max(last_at)
FROM contact_activity_deltas GROUP BY contact_id, event_type
ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
    first_at = LEAST(contact_activity.first_at, excluded.first_at), last_at = GREATEST(contact_activity.last_at, excluded.last_at);

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_lock_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE events, contact_activity IN SHARE MODE;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION contacts_delete_dependents() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM events WHERE contact_id IN (SELECT id FROM old_contacts);
    DELETE FROM contact_activity WHERE contact_id IN (SELECT id FROM old_contacts);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TABLE contact_activity_deltas;
