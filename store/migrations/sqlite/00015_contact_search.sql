-- +goose Up
-- Contact search: every word of the query must start a word of the
-- contact's first name, last name or email, ignoring case and accents
-- ("jose" finds "José", "garcia@acme" finds "ana.garcía@acme.es").
-- A LIKE '%word%' scan read the whole table for a rare word; this
-- full-text index answers from the words instead (store/contact_search.go).
--
-- FTS4, which mattn/go-sqlite3 compiles without build tags (FTS5 needs
-- one), with external content: the index keeps only the words, the text
-- stays in contacts, and docid is the contact id. unicode61 with
-- remove_diacritics=2 folds case and accents; PostgreSQL's contacts.search
-- folds the same Latin letters. The prefix indexes make a short or common
-- prefix ("ma", "garc") one doclist instead of thousands of words.
CREATE VIRTUAL TABLE contacts_search USING fts4(
    content="contacts", first_name, last_name, email,
    tokenize=unicode61 "remove_diacritics=2", prefix="2,4,6,8"
);
-- Merge segments a little at every commit instead of all at once when a
-- level fills up, which would stall the writer for a long merge.
INSERT INTO contacts_search (contacts_search) VALUES ('automerge=8');

-- The same tokenizer as a table function: searches split their words with
-- it, and match the contacts not yet indexed by it, exactly as the index
-- would.
CREATE VIRTUAL TABLE contacts_search_tokens USING fts3tokenize(unicode61, "remove_diacritics=2");

-- Every contact with id <= indexed_through is in the index, with its
-- current names and email. New contacts (ids above it) are added in the
-- background, in batches, by the store's search indexer: indexing costs
-- several microseconds a contact, which a CSV import of 100,000 rows a
-- second or the ingestion writer should not pay row by row. Searches scan
-- the few contacts above indexed_through directly.
CREATE TABLE contact_search_state (
    indexed_through INTEGER NOT NULL
);
INSERT INTO contact_search_state (indexed_through) VALUES (0);

-- The triggers keep indexed contacts in step with every writer (ingestion,
-- import, the API). An external-content index deletes a row's words by
-- reading its current text, so the delete runs BEFORE the change and the
-- insert AFTER it. Updates that leave the three columns alone (most of
-- them: stage, owner, updated_at) do not fire them at all. A new contact
-- that gets an id already covered (the highest id was deleted and reused,
-- or an explicit id) is indexed at once.
-- +goose StatementBegin
CREATE TRIGGER contacts_search_insert AFTER INSERT ON contacts
WHEN new.id <= (SELECT indexed_through FROM contact_search_state) BEGIN
    INSERT INTO contacts_search (docid, first_name, last_name, email) VALUES (new.id, new.first_name, new.last_name, new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_search_update_old BEFORE UPDATE OF first_name, last_name, email ON contacts
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.email IS NOT new.email)
    AND old.id <= (SELECT indexed_through FROM contact_search_state) BEGIN
    DELETE FROM contacts_search WHERE docid = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_search_update_new AFTER UPDATE OF first_name, last_name, email ON contacts
WHEN (old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name OR old.email IS NOT new.email)
    AND new.id <= (SELECT indexed_through FROM contact_search_state) BEGIN
    INSERT INTO contacts_search (docid, first_name, last_name, email) VALUES (new.id, new.first_name, new.last_name, new.email);
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER contacts_search_delete BEFORE DELETE ON contacts
WHEN old.id <= (SELECT indexed_through FROM contact_search_state) BEGIN
    DELETE FROM contacts_search WHERE docid = old.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER contacts_search_delete;
DROP TRIGGER contacts_search_update_new;
DROP TRIGGER contacts_search_update_old;
DROP TRIGGER contacts_search_insert;
DROP TABLE contact_search_state;
DROP TABLE contacts_search_tokens;
DROP TABLE contacts_search;
