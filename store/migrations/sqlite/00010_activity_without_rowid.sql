-- +goose Up
-- contact_activity is upserted for every ingested event. As a rowid table
-- each upsert changed two b-trees (the rows and the primary-key index);
-- WITHOUT ROWID keeps the rows in the primary key's b-tree, so an upsert
-- changes one, and a group commit writes fewer pages.
CREATE TABLE contact_activity_new (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (contact_id, event_type)
) WITHOUT ROWID;
INSERT INTO contact_activity_new (contact_id, event_type, count, first_at, last_at)
    SELECT contact_id, event_type, count, first_at, last_at FROM contact_activity;
DROP TABLE contact_activity;
ALTER TABLE contact_activity_new RENAME TO contact_activity;

-- +goose Down
CREATE TABLE contact_activity_old (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (contact_id, event_type)
);
INSERT INTO contact_activity_old (contact_id, event_type, count, first_at, last_at)
    SELECT contact_id, event_type, count, first_at, last_at FROM contact_activity;
DROP TABLE contact_activity;
ALTER TABLE contact_activity_old RENAME TO contact_activity;
