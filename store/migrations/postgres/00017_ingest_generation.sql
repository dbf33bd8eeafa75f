-- +goose Up
-- SQLite only: its ingestion resolves ids on a read connection before the
-- single writer and needs a counter of contact key changes
-- (store/migrations/sqlite/00017_ingest_generation.sql). PostgreSQL's
-- ingestion runs batches in parallel and looks ids up in its own
-- transaction, so there is nothing to add here.
SELECT 1;

-- +goose Down
SELECT 1;
