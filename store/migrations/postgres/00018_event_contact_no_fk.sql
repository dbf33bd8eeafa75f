-- +goose Up
-- SQLite only: its events and contact_activity lose their foreign keys to
-- contacts (store/migrations/sqlite/00018_event_contact_no_fk.sql), which
-- PostgreSQL replaced by a check per statement in 00013. The file keeps the
-- two backends' version numbers in step.
SELECT 1;

-- +goose Down
SELECT 1;
