-- +goose Up
-- Web UI sessions. Only a hash of the token is stored, so a copy of the
-- database does not hand out live sessions. expires_at is the absolute end;
-- the idle timeout is checked against last_seen_at.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_secret  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- The home page lists the most recently closed deals.
CREATE INDEX deals_closed ON deals (status, closed_at);

-- (contact_scores (grade) already ends in contact_id on SQLite, where the
-- primary key is the rowid, so the contacts list can page a grade by id.)

-- +goose Down
DROP INDEX deals_closed;
DROP TABLE sessions;
