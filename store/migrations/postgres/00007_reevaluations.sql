-- +goose Up
-- Progress of the re-evaluation of every contact when an agreement version
-- is activated. last_contact_id is the resume point: contacts are processed
-- in id order, so a restarted job continues where it stopped.
CREATE TABLE reevaluations (
    agreement_id    BIGINT PRIMARY KEY REFERENCES agreements(id) ON DELETE CASCADE,
    status          TEXT NOT NULL DEFAULT 'queued',
    total           BIGINT NOT NULL DEFAULT 0,
    done            BIGINT NOT NULL DEFAULT 0,
    transitions     BIGINT NOT NULL DEFAULT 0,
    last_contact_id BIGINT NOT NULL DEFAULT 0,
    error           TEXT NOT NULL DEFAULT '',
    started_at      BIGINT,
    finished_at     BIGINT
);

-- +goose Down
DROP TABLE reevaluations;
