-- +goose Up
-- SQLite's contact_activity becomes a WITHOUT ROWID table in this version;
-- a PostgreSQL table is a heap with a separate primary-key index either
-- way, so there is nothing to change here. The file keeps the two
-- backends' version numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
