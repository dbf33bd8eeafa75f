-- +goose Up
-- Ingestion looks a batch's user ids, anonymous ids and emails up on a read
-- connection before the batch reaches the single writer (store/ingest_pre.go).
-- What it found stays true unless a contact or an anonymous id link is
-- deleted, or a contact's user id or email changes from one value to
-- another: these bump the generation, and the writer trusts the look-up only
-- when the generation is still the one read with it. Ids not found are
-- always looked up again by the writer, so inserts need no trigger.
CREATE TABLE ingest_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO ingest_generation (id, n) VALUES (1, 0);

-- +goose StatementBegin
CREATE TRIGGER ingest_generation_contact_delete AFTER DELETE ON contacts
BEGIN
    UPDATE ingest_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ingest_generation_contact_keys AFTER UPDATE OF external_id, email ON contacts
WHEN (OLD.external_id IS NOT NULL AND NEW.external_id IS NOT OLD.external_id)
  OR (OLD.email IS NOT NULL AND NEW.email IS NOT OLD.email)
BEGIN
    UPDATE ingest_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ingest_generation_identity_delete AFTER DELETE ON identities
BEGIN
    UPDATE ingest_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ingest_generation_identity_update AFTER UPDATE ON identities
BEGIN
    UPDATE ingest_generation SET n = n + 1 WHERE id = 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER ingest_generation_identity_update;
DROP TRIGGER ingest_generation_identity_delete;
DROP TRIGGER ingest_generation_contact_keys;
DROP TRIGGER ingest_generation_contact_delete;
DROP TABLE ingest_generation;
