-- +goose Up
-- Handoff from marketing to sales (DESIGN.md section 4): who a new MQL is
-- routed to, whether sales accepted it, and the SLA clocks that measure it.

-- Reps' routing settings: how many open MQLs they may hold, who they
-- escalate to; absences are their out-of-office days.
CREATE TABLE rep_settings (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    capacity   INTEGER NOT NULL DEFAULT 0 CHECK (capacity >= 0),
    manager_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE rep_absences (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX rep_absences_user ON rep_absences (user_id, ends_on);

-- Every entry into mql or sql, whatever wrote it (live evaluation, the API,
-- an import, a re-evaluation), waits here until the handoff worker routes
-- it: a trigger fills it so no write path can forget.
CREATE TABLE handoff_inbox (
    transition_id INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL,
    to_stage      TEXT NOT NULL,
    at            INTEGER NOT NULL
);
-- +goose StatementBegin
CREATE TRIGGER stage_transitions_handoff AFTER INSERT ON stage_transitions
WHEN NEW.to_stage IN ('mql', 'sql')
BEGIN
    INSERT INTO handoff_inbox (transition_id, contact_id, to_stage, at) VALUES (NEW.id, NEW.contact_id, NEW.to_stage, NEW.at);
END;
-- +goose StatementEnd

-- An assignment is one handoff of a contact to a rep (or to the fallback
-- queue) and its outcome.
CREATE TABLE assignments (
    id                INTEGER PRIMARY KEY,
    contact_id        INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    transition_id     INTEGER,
    owner_id          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    queue             TEXT NOT NULL DEFAULT '',
    rule              TEXT NOT NULL DEFAULT '',
    why               TEXT NOT NULL DEFAULT '{}',
    agreement_version INTEGER,
    status            TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','accepted','rejected','closed')),
    assigned_at       INTEGER NOT NULL,
    decided_at        INTEGER,
    decided_by        INTEGER REFERENCES users(id) ON DELETE SET NULL,
    reason_code       TEXT NOT NULL DEFAULT '',
    comment           TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX assignments_one_open ON assignments (contact_id) WHERE status = 'open';
CREATE INDEX assignments_contact ON assignments (contact_id, assigned_at);
CREATE INDEX assignments_owner ON assignments (owner_id, status, assigned_at);
CREATE INDEX assignments_status ON assignments (status, assigned_at);
CREATE INDEX assignments_assigned ON assignments (assigned_at);

-- The round-robin's memory: how many leads each rule gave each rep.
CREATE TABLE routing_counters (
    rule             TEXT NOT NULL,
    user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    assigned         INTEGER NOT NULL DEFAULT 0,
    last_assigned_at INTEGER NOT NULL,
    PRIMARY KEY (rule, user_id)
);

-- An SLA clock measures one term of the agreement for one handoff. status:
-- running until met, breached at the deadline, cancelled when the handoff
-- ends otherwise. stopped_at/elapsed_ms record when the awaited thing
-- happened, even after a breach, for the time-to distributions.
CREATE TABLE sla_clocks (
    id                INTEGER PRIMARY KEY,
    assignment_id     INTEGER NOT NULL REFERENCES assignments(id) ON DELETE CASCADE,
    contact_id        INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    owner_id          INTEGER REFERENCES users(id) ON DELETE SET NULL,
    term              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    agreement_version INTEGER,
    started_at        INTEGER NOT NULL,
    deadline_at       INTEGER NOT NULL,
    target            INTEGER NOT NULL DEFAULT 1,
    done              INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running','met','breached','cancelled')),
    stopped_at        INTEGER,
    elapsed_ms        INTEGER,
    breached_at       INTEGER,
    escalate_at       INTEGER,
    escalated_at      INTEGER
);
CREATE INDEX sla_clocks_due ON sla_clocks (deadline_at) WHERE status = 'running';
CREATE INDEX sla_clocks_waiting ON sla_clocks (kind, contact_id) WHERE stopped_at IS NULL;
CREATE INDEX sla_clocks_escalate ON sla_clocks (escalate_at) WHERE escalated_at IS NULL AND escalate_at IS NOT NULL;
CREATE INDEX sla_clocks_assignment ON sla_clocks (assignment_id);
CREATE INDEX sla_clocks_contact ON sla_clocks (contact_id);
CREATE INDEX sla_clocks_started ON sla_clocks (started_at);

-- +goose Down
DROP TABLE sla_clocks;
DROP TABLE routing_counters;
DROP TABLE assignments;
DROP TRIGGER stage_transitions_handoff;
DROP TABLE handoff_inbox;
DROP TABLE rep_absences;
DROP TABLE rep_settings;
