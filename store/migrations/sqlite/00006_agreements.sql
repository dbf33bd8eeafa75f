-- +goose Up
-- Versions of the revenue agreement. The document is kept as written (source)
-- and as canonical JSON; a version is immutable once proposed.
CREATE TABLE agreements (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft','proposed','active','superseded')),
    document     TEXT NOT NULL,
    source       TEXT NOT NULL,
    based_on     INTEGER REFERENCES agreements(id) ON DELETE SET NULL,
    created_by   INTEGER REFERENCES users(id) ON DELETE SET NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    proposed_at  INTEGER,
    activated_at INTEGER
);
-- At most one active version.
CREATE UNIQUE INDEX agreements_one_active ON agreements (status) WHERE status = 'active';

CREATE TABLE agreement_signatures (
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    team         TEXT NOT NULL CHECK (team IN ('marketing','sales')),
    user_id      INTEGER NOT NULL REFERENCES users(id),
    signed_at    INTEGER NOT NULL,
    PRIMARY KEY (agreement_id, team)
);

CREATE TABLE agreement_audit (
    id           INTEGER PRIMARY KEY,
    agreement_id INTEGER NOT NULL REFERENCES agreements(id) ON DELETE CASCADE,
    action       TEXT NOT NULL,
    user_id      INTEGER REFERENCES users(id) ON DELETE SET NULL,
    at           INTEGER NOT NULL,
    detail       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agreement_audit_agreement ON agreement_audit (agreement_id, at);

-- Each contact's activity summary (per event type: count, first/last, day
-- buckets, decayed counts) and its latest evaluation under the active
-- agreement. Live evaluation reads and writes one row per contact.
CREATE TABLE contact_scores (
    contact_id   INTEGER PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
    agreement_id INTEGER NOT NULL,
    summary      TEXT NOT NULL,
    fit          INTEGER NOT NULL,
    engagement   INTEGER NOT NULL,
    grade        TEXT NOT NULL,
    result       TEXT NOT NULL,
    evaluated_at INTEGER NOT NULL
);
CREATE INDEX contact_scores_grade ON contact_scores (grade);

-- +goose Down
DROP TABLE contact_scores;
DROP TABLE agreement_audit;
DROP TABLE agreement_signatures;
DROP TABLE agreements;
