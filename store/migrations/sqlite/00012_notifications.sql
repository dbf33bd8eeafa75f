-- +goose Up
-- Webhook subscriptions. The secret is kept in the clear because Alinea
-- signs every delivery with it (HMAC); it is shown to the admin once, when
-- the subscription is created. types is a JSON array of notification types.
CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    types       TEXT NOT NULL DEFAULT '[]',
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One row per notification and recipient: an email to a user or a POST to
-- a webhook. recipient_id is the user's or the webhook's id, so that the
-- unique key holds even after either is deleted (their ids are then NULL):
-- an occurrence is delivered at most once to each recipient, however many
-- instances notice it. next_attempt_at is NULL once delivered or failed.
CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    recipient_id    INTEGER NOT NULL,
    user_id         INTEGER REFERENCES users(id) ON DELETE SET NULL,
    webhook_id      INTEGER REFERENCES webhooks(id) ON DELETE SET NULL,
    type            TEXT NOT NULL,
    key             TEXT NOT NULL,
    payload         TEXT NOT NULL,
    occurred_at     INTEGER NOT NULL,
    state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failing', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at INTEGER,
    delivered_at    INTEGER,
    created_at      INTEGER NOT NULL,
    UNIQUE (key, channel, recipient_id)
);
-- The sweep looks only at deliveries still to be made.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'failing');
CREATE INDEX deliveries_state ON deliveries (state, id);
CREATE INDEX deliveries_webhook ON deliveries (webhook_id);
CREATE INDEX deliveries_user ON deliveries (user_id);

-- Every attempt, for the delivery log: the HTTP status (0 for email or
-- when no response came) or the error, and how long it took.
CREATE TABLE delivery_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    status_code INTEGER NOT NULL DEFAULT 0,
    error       TEXT NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, id);

-- +goose Down
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
DROP TABLE webhooks;
