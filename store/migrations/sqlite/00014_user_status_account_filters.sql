-- +goose Up
-- An administrator can deactivate a user instead of deleting them: their
-- name stays on the contacts, notes and deals they touched, while they can
-- no longer sign in or use their API keys. NULL means active.
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;

-- The accounts list filters by industry, country or owner and pages by id;
-- these indexes walk the matching accounts in id order and give the
-- filters' choices (distinct values) without reading every account.
CREATE INDEX accounts_industry ON accounts (industry, id);
CREATE INDEX accounts_country ON accounts (country, id);
CREATE INDEX accounts_owner ON accounts (owner_id, id);

-- +goose Down
DROP INDEX accounts_owner;
DROP INDEX accounts_country;
DROP INDEX accounts_industry;
ALTER TABLE users DROP COLUMN deactivated_at;
