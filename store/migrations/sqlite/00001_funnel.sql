-- +goose Up
-- Times are Unix milliseconds (UTC) in both backends, so that SQL stays
-- portable and comparisons are integer comparisons.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin','marketing','sales','manager')),
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL DEFAULT 'es',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

CREATE TABLE write_keys (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE accounts (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    domain      TEXT UNIQUE,
    external_id TEXT UNIQUE,
    industry    TEXT NOT NULL DEFAULT '',
    employees   INTEGER NOT NULL DEFAULT 0,
    country     TEXT NOT NULL DEFAULT '',
    owner_id    INTEGER REFERENCES users(id) ON DELETE SET NULL,
    properties  TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE contacts (
    id               INTEGER PRIMARY KEY,
    email            TEXT UNIQUE,
    external_id      TEXT UNIQUE,
    first_name       TEXT NOT NULL DEFAULT '',
    last_name        TEXT NOT NULL DEFAULT '',
    phone            TEXT NOT NULL DEFAULT '',
    job_title        TEXT NOT NULL DEFAULT '',
    account_id       INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    country          TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL DEFAULT '',
    owner_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    consent          TEXT NOT NULL DEFAULT 'unknown',
    stage            TEXT NOT NULL,
    stage_changed_at INTEGER NOT NULL,
    properties       TEXT NOT NULL DEFAULT '{}',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX contacts_stage ON contacts (stage, id);
CREATE INDEX contacts_owner ON contacts (owner_id, id);
CREATE INDEX contacts_account ON contacts (account_id);
CREATE INDEX contacts_updated ON contacts (updated_at);

-- Anonymous ids (cookies, devices) linked to the contact they turned out to be.
CREATE TABLE identities (
    anonymous_id TEXT PRIMARY KEY,
    contact_id   INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL
);
CREATE INDEX identities_contact ON identities (contact_id);

CREATE TABLE events (
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
CREATE INDEX events_contact ON events (contact_id, occurred_at);
CREATE INDEX events_anonymous ON events (anonymous_id) WHERE contact_id IS NULL AND anonymous_id <> '';

-- Per-contact activity summary per event type, kept current on ingest so that
-- rule evaluation costs O(rules), not O(history). Decayed points per rule are
-- added by the agreement's scoring.
CREATE TABLE contact_activity (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    event_type TEXT NOT NULL,
    count      INTEGER NOT NULL,
    first_at   INTEGER NOT NULL,
    last_at    INTEGER NOT NULL,
    PRIMARY KEY (contact_id, event_type)
);

CREATE TABLE stage_transitions (
    id                INTEGER PRIMARY KEY,
    contact_id        INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    from_stage        TEXT NOT NULL,
    to_stage          TEXT NOT NULL,
    at                INTEGER NOT NULL,
    actor_type        TEXT NOT NULL,
    actor_user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    agreement_version INTEGER,
    reason            TEXT NOT NULL DEFAULT '',
    why               TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX stage_transitions_contact ON stage_transitions (contact_id, at);
CREATE INDEX stage_transitions_to ON stage_transitions (to_stage, at);

CREATE TABLE notes (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX notes_contact ON notes (contact_id, created_at);

CREATE TABLE pipeline_stages (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    position    INTEGER NOT NULL,
    probability INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    kind        TEXT NOT NULL CHECK (kind IN ('open','won','lost'))
);
INSERT INTO pipeline_stages (name, position, probability, kind) VALUES
    ('discovery', 1, 10, 'open'),
    ('qualification', 2, 25, 'open'),
    ('proposal', 3, 50, 'open'),
    ('negotiation', 4, 75, 'open'),
    ('won', 5, 100, 'won'),
    ('lost', 6, 0, 'lost');

CREATE TABLE deals (
    id             INTEGER PRIMARY KEY,
    name           TEXT NOT NULL,
    account_id     INTEGER REFERENCES accounts(id) ON DELETE SET NULL,
    owner_id       INTEGER REFERENCES users(id) ON DELETE SET NULL,
    stage_id       INTEGER NOT NULL REFERENCES pipeline_stages(id),
    status         TEXT NOT NULL DEFAULT 'open',
    amount         INTEGER NOT NULL DEFAULT 0,
    currency       TEXT NOT NULL DEFAULT 'EUR',
    expected_close TEXT NOT NULL DEFAULT '',
    closed_at      INTEGER,
    close_reason   TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX deals_stage ON deals (stage_id);
CREATE INDEX deals_account ON deals (account_id);

CREATE TABLE deal_contacts (
    deal_id    INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    role       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (deal_id, contact_id)
);
CREATE INDEX deal_contacts_contact ON deal_contacts (contact_id);

CREATE TABLE deal_stage_history (
    id            INTEGER PRIMARY KEY,
    deal_id       INTEGER NOT NULL REFERENCES deals(id) ON DELETE CASCADE,
    from_stage_id INTEGER,
    to_stage_id   INTEGER NOT NULL,
    at            INTEGER NOT NULL,
    actor_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    reason        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deal_stage_history_deal ON deal_stage_history (deal_id, at);

-- +goose Down
DROP TABLE deal_stage_history;
DROP TABLE deal_contacts;
DROP TABLE deals;
DROP TABLE pipeline_stages;
DROP TABLE notes;
DROP TABLE stage_transitions;
DROP TABLE contact_activity;
DROP TABLE events;
DROP TABLE identities;
DROP TABLE contacts;
DROP TABLE accounts;
DROP TABLE write_keys;
DROP TABLE api_keys;
DROP TABLE users;
