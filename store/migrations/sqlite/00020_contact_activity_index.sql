-- +goose Up
-- SQLite's ingestion writer adds events to the per-contact activity
-- summaries in large runs instead of at every group commit, where each
-- commit rewrote a random page per contact (store/ingest_activity.go).
-- contact_activity counts every event up to contact_activity_index.event_id;
-- readers add the later events of the contact they read.
CREATE TABLE contact_activity_index (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    event_id INTEGER NOT NULL
);
INSERT INTO contact_activity_index (id, event_id) VALUES (1, COALESCE((SELECT max(id) FROM events), 0));

-- +goose Down
-- Count the events the summaries did not yet before dropping the index.
INSERT INTO contact_activity (contact_id, event_type, count, first_at, last_at)
    SELECT contact_id, CASE WHEN type = 'track' AND name <> '' THEN name ELSE type END, count(*), min(occurred_at), max(occurred_at)
    FROM events WHERE id > (SELECT event_id FROM contact_activity_index) AND contact_id IS NOT NULL
    GROUP BY 1, 2
    ON CONFLICT (contact_id, event_type) DO UPDATE SET count = contact_activity.count + excluded.count,
        first_at = min(contact_activity.first_at, excluded.first_at), last_at = max(contact_activity.last_at, excluded.last_at);
DROP TABLE contact_activity_index;
