-- +goose Up
-- Ingestion writes every event and an activity summary row per contact and
-- event type through SQLite's single writer, and the foreign keys of
-- events.contact_id and contact_activity.contact_id made it look every
-- row's contact up again: about a tenth of the writer's CPU time per event
-- (docs/BENCHMARKS.md). The writer already knows each contact exists: it
-- found or created it in the same transaction, or trusts an earlier
-- look-up only while no contact was deleted meanwhile (00017's counter),
-- and nothing else writes these columns but with ids it read in its own
-- transaction. So the two tables lose the foreign key, and deleting a
-- contact deletes its events and activity by trigger, as ON DELETE CASCADE
-- did. (PostgreSQL drops its check per statement from 00013 in its
-- 00018, relying on lock order.) The tables are rebuilt, as SQLite cannot
-- drop a constraint.
CREATE TABLE events_new (
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
INSERT INTO events_new (id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at)
    SELECT id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_contact ON events (contact_id, occurred_at);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE contact_id IS NULL AND anonymous_id <> '';

CREATE TABLE contact_activity_new (
    contact_id INTEGER NOT NULL,
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

-- +goose StatementBegin
CREATE TRIGGER contacts_delete_events AFTER DELETE ON contacts
BEGIN
    DELETE FROM events WHERE contact_id = OLD.id;
    DELETE FROM contact_activity WHERE contact_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER contacts_delete_events;

CREATE TABLE events_old (
    id           INTEGER PRIMARY KEY,
    message_id   TEXT NOT NULL UNIQUE,
    write_key_id INTEGER,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    contact_id   INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
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
INSERT INTO events_old (id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at)
    SELECT id, message_id, write_key_id, type, name, contact_id, anonymous_id, user_id, properties, context,
        utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at FROM events;
DROP TABLE events;
ALTER TABLE events_old RENAME TO events;
CREATE INDEX events_contact ON events (contact_id, occurred_at);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE contact_id IS NULL AND anonymous_id <> '';

CREATE TABLE contact_activity_old (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (contact_id, event_type)
) WITHOUT ROWID;
INSERT INTO contact_activity_old (contact_id, event_type, count, first_at, last_at)
    SELECT contact_id, event_type, count, first_at, last_at FROM contact_activity;
DROP TABLE contact_activity;
ALTER TABLE contact_activity_old RENAME TO contact_activity;
