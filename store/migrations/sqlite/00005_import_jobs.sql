-- +goose Up
-- CSV imports submitted through the API. The file is kept in the database so
-- that any Alinea instance's worker can run the job, and deleted when done.
CREATE TABLE import_jobs (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER REFERENCES users(id) ON DELETE SET NULL,
    filename    TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued',
    dry_run     INTEGER NOT NULL DEFAULT 0,
    mapping     TEXT NOT NULL DEFAULT '{}',
    bytes       INTEGER NOT NULL DEFAULT 0,
    content     BLOB,
    rows_done   INTEGER NOT NULL DEFAULT 0,
    created     INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    row_errors  TEXT NOT NULL DEFAULT '[]',
    error       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER
);

-- +goose Down
DROP TABLE import_jobs;
