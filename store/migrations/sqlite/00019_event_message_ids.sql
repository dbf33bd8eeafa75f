-- +goose Up
-- Ingestion de-duplicates events by message id. A unique index on
-- events.message_id did it, but Segment's libraries send random UUIDs, so
-- every stored event dirtied a random page of that index: with realistic
-- ids it held SQLite's single writer to ~39k events/s against 54k without
-- it (docs/BENCHMARKS.md). Now the writer keeps the message ids it stored
-- recently in memory, and moves them into event_message_ids in large
-- sorted runs, when idle or when there are many (store/ingest_dedup.go):
-- one page write then serves many ids. event_message_id_index.event_id
-- says which events' ids are in event_message_ids (every id up to it);
-- a writer starting up reads the ids of later events into memory.
-- events.id becomes AUTOINCREMENT so that an id is never given twice: a
-- deleted event's id reused below event_id would never be indexed. The
-- trigger that deletes a contact's events (00018) names the table, so it
-- is dropped while the table is rebuilt.
DROP TRIGGER contacts_delete_events;
CREATE TABLE events_new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   TEXT NOT NULL,
    write_key_id INTEGER,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    contact_id   INTEGER,
    anonymous_id TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL DEFAULT '',
    properties   TEXT NOT NULL DEFAULT '{}',
    context      TEXT NOT NULL DEFAULT '{}',
    utm_source   TEXT NOT NULL DEFAULT '',
    utm_medium   TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term     TEXT NOT NULL DEFAULT '',
    utm_content  TEXT NOT NULL DEFAULT '',
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL
);
INSERT INTO events_new (id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at)
    SELECT id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_contact ON events (contact_id, occurred_at);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE contact_id IS NULL AND anonymous_id <> '';

-- +goose StatementBegin
CREATE TRIGGER contacts_delete_events AFTER DELETE ON contacts
BEGIN
    DELETE FROM events WHERE contact_id = OLD.id;
    DELETE FROM contact_activity WHERE contact_id = OLD.id;
END;
-- +goose StatementEnd

CREATE TABLE event_message_ids (
    message_id TEXT PRIMARY KEY
) WITHOUT ROWID;
INSERT INTO event_message_ids (message_id) SELECT message_id FROM events ORDER BY message_id;

CREATE TABLE event_message_id_index (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    event_id INTEGER NOT NULL
);
INSERT INTO event_message_id_index (id, event_id) VALUES (1, COALESCE((SELECT max(id) FROM events), 0));

-- +goose Down
DROP TABLE event_message_id_index;
DROP TABLE event_message_ids;
DROP TRIGGER contacts_delete_events;

CREATE TABLE events_old (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    write_key_id INTEGER,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    contact_id   INTEGER,
    anonymous_id TEXT NOT NULL DEFAULT '',
    user_id      TEXT NOT NULL DEFAULT '',
    properties   TEXT NOT NULL DEFAULT '{}',
    context      TEXT NOT NULL DEFAULT '{}',
    utm_source   TEXT NOT NULL DEFAULT '',
    utm_medium   TEXT NOT NULL DEFAULT '',
    utm_campaign TEXT NOT NULL DEFAULT '',
    utm_term     TEXT NOT NULL DEFAULT '',
    utm_content  TEXT NOT NULL DEFAULT '',
    occurred_at  INTEGER NOT NULL,
    received_at  INTEGER NOT NULL
);
-- Only events written outside ingestion can repeat a message id; the
-- first one is kept.
INSERT OR IGNORE INTO events_old (id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at)
    SELECT id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_old RENAME TO events;
CREATE INDEX events_contact ON events (contact_id, occurred_at);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE contact_id IS NULL AND anonymous_id <> '';

-- +goose StatementBegin
CREATE TRIGGER contacts_delete_events AFTER DELETE ON contacts
BEGIN
    DELETE FROM events WHERE contact_id = OLD.id;
    DELETE FROM contact_activity WHERE contact_id = OLD.id;
END;
-- +goose StatementEnd
