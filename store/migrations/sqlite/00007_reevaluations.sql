-- +goose Up
-- Progress of the re-evaluation of every contact when an agreement version
-- is activated. last_contact_id is the resume point: contacts are processed
-- in id order, so a restarted job continues where it stopped.
CREATE TABLE reevaluations (
    agreement_id    INTEGER PRIMARY KEY REFERENCES agreements(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'queued',
    total           INTEGER NOT NULL DEFAULT 0,
    done            INTEGER NOT NULL DEFAULT 0,
    transitions     INTEGER NOT NULL DEFAULT 0,
    last_contact_id INTEGER NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    started_at      INTEGER,
    finished_at     INTEGER
);

-- +goose Down
DROP TABLE reevaluations;
