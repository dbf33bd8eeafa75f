package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// Reevaluation is the progress of re-evaluating every contact under a newly
// activated agreement version.
type Reevaluation struct {
	AgreementID   int64      `json:"agreement_id"`
	Status        string     `json:"status"` // queued, running, done, failed
	Total         int64      `json:"total"`
	Done          int64      `json:"done"`
	Transitions   int64      `json:"transitions"`
	LastContactID int64      `json:"last_contact_id"`
	Error         string     `json:"error,omitempty"`
	StartedAt     *time.Time `json:"started_at,omitempty"`
	FinishedAt    *time.Time `json:"finished_at,omitempty"`
}

// QueueReevaluation records that a version's contacts must be re-evaluated
// (idempotent: a second call keeps the progress made).
func (s *Store) QueueReevaluation(ctx context.Context, agreementID int64) error {
	var total int64
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM contacts`).Scan(&total); err != nil {
		return fmt.Errorf("queue re-evaluation: %w", err)
	}
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO reevaluations (agreement_id, total) VALUES (?, ?) ON CONFLICT (agreement_id) DO NOTHING`), agreementID, total)
	if err != nil {
		return fmt.Errorf("queue re-evaluation of agreement %d: %w", agreementID, mapErr(err))
	}
	return nil
}

// ReevaluationStatus returns a re-evaluation's progress.
func (s *Store) ReevaluationStatus(ctx context.Context, agreementID int64) (Reevaluation, error) {
	var r Reevaluation
	var started, finished sql.NullInt64
	err := s.rdb.QueryRowContext(ctx, s.q(`SELECT agreement_id, status, total, done, transitions, last_contact_id, error, started_at, finished_at
		FROM reevaluations WHERE agreement_id = ?`), agreementID).Scan(&r.AgreementID, &r.Status, &r.Total, &r.Done, &r.Transitions,
		&r.LastContactID, &r.Error, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return r, alinea.Errorf(alinea.ENOTFOUND, "agreement version %d has no re-evaluation", agreementID)
	}
	if err != nil {
		return r, fmt.Errorf("re-evaluation of agreement %d: %w", agreementID, err)
	}
	r.StartedAt, r.FinishedAt = nullMS(started), nullMS(finished)
	return r, nil
}

// ReevaluateChunk re-evaluates up to n contacts after the resume point of a
// version's re-evaluation, in one transaction that also advances the resume
// point, so a crash never loses or repeats work. It reports whether more
// contacts remain. If the version is no longer active the job stops.
//
// Contacts already evaluated under this version by live ingestion are
// skipped: their summaries include every event, because live evaluation
// rebuilds a contact from its whole history the first time it sees it under
// a new version. On PostgreSQL the chunk's contact rows are locked so that a
// concurrent batch for the same contact waits instead of racing.
func (s *Store) ReevaluateChunk(ctx context.Context, agreementID int64, n int) (more bool, err error) {
	return s.reevaluateChunk(ctx, agreementID, n, nil)
}

// prefetched holds the summaries of the contacts with ids in (after, last],
// built from their events ahead of the chunk's transaction.
type prefetched struct {
	version     int64
	after, last int64
	histories   map[int64]agreement.Summary
	encoded     map[int64][]byte
}

// ReevaluateAll runs a re-evaluation to its end. On SQLite the next chunk's
// events are read on the read pool while the current chunk is written: that
// is safe there because writes are serialised, so any event committed after
// the read was evaluated live under this version and its contact is skipped.
// PostgreSQL reads each chunk inside its own locked transaction.
func (s *Store) ReevaluateAll(ctx context.Context, agreementID int64, n int) error {
	st, err := s.ReevaluationStatus(ctx, agreementID)
	if err != nil {
		return err
	}
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil {
		return err
	}
	if s.backend == Postgres || live == nil || live.id != agreementID || st.Status == "done" {
		for {
			more, err := s.ReevaluateChunk(ctx, agreementID, n)
			if err != nil || !more {
				return err
			}
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan prefetched, 1)
	readErr := make(chan error, 1)
	go func() {
		defer close(chunks)
		after := st.LastContactID
		for {
			ids, err := s.contactIDsAfter(ctx, after, n)
			if err != nil || len(ids) == 0 {
				readErr <- err
				return
			}
			h, err := s.chunkHistories(ctx, s.rdb, live.compiled, ids[0], ids[len(ids)-1])
			if err != nil {
				readErr <- err
				return
			}
			enc := make(map[int64][]byte, len(h))
			for id, sum := range h {
				if enc[id], err = json.Marshal(sum); err != nil {
					readErr <- err
					return
				}
			}
			select {
			case chunks <- prefetched{version: live.id, after: after, last: ids[len(ids)-1], histories: h, encoded: enc}:
			case <-ctx.Done():
				readErr <- ctx.Err()
				return
			}
			after = ids[len(ids)-1]
		}
	}()
	for pre := range chunks {
		more, err := s.reevaluateChunk(ctx, agreementID, n, &pre)
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
	}
	if err := <-readErr; err != nil {
		return err
	}
	// The reader found no more contacts: let one last chunk mark it done.
	_, err = s.ReevaluateChunk(ctx, agreementID, n)
	return err
}

func (s *Store) reevaluateChunk(ctx context.Context, agreementID int64, n int, pre *prefetched) (more bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var after, done, moved int64
		var status string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT last_contact_id, done, transitions, status FROM reevaluations WHERE agreement_id = ?`), agreementID).
			Scan(&after, &done, &moved, &status); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return alinea.Errorf(alinea.ENOTFOUND, "agreement version %d has no re-evaluation", agreementID)
			}
			return fmt.Errorf("re-evaluation of agreement %d: %w", agreementID, err)
		}
		if status == "done" {
			return nil
		}
		live, err := s.liveAgreementFor(ctx, tx)
		if err != nil {
			return err
		}
		now := ms(s.now())
		if live == nil || live.id != agreementID {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE reevaluations SET status = 'done', error = ?, finished_at = ? WHERE agreement_id = ?`),
				"superseded before it finished", now, agreementID)
			return err
		}
		lock := ""
		if s.backend == Postgres {
			lock = " FOR NO KEY UPDATE"
		}
		rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM contacts WHERE id > ? ORDER BY id LIMIT ?`+lock), after, n)
		if err != nil {
			return fmt.Errorf("re-evaluate: %w", err)
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("re-evaluate: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("re-evaluate: %w", err)
		}
		if len(ids) == 0 {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE reevaluations SET status = 'done', finished_at = ? WHERE agreement_id = ?`), now, agreementID)
			return err
		}
		var histories map[int64]agreement.Summary
		usable := pre != nil && pre.version == live.id && pre.after == after
		if usable {
			histories = pre.histories
		} else if histories, err = s.chunkHistories(ctx, tx, live.compiled, ids[0], ids[len(ids)-1]); err != nil {
			return err
		}
		states, err := s.loadContactStates(ctx, tx, ids[0], ids[len(ids)-1])
		if err != nil {
			return err
		}
		scores := make([]scoreRow, 0, len(ids))
		var moves []pendingMove
		evalAt := s.now()
		for _, id := range ids {
			done++
			st, ok := states[id]
			if !ok || st.scoredBy == live.id {
				continue
			}
			sum := histories[id]
			if usable && id > pre.last {
				// Created after the read ahead: read its history now.
				if sum, err = s.rebuildSummary(ctx, tx, live.compiled, id); err != nil {
					return err
				}
			}
			st.summary = sum
			res := live.compiled.Score(st.facts, st.account, &sum, evalAt)
			row := scoreRow{contactID: id, summary: &sum, res: res}
			if usable && id <= pre.last {
				row.encoded = pre.encoded[id]
			}
			scores = append(scores, row)
			if to, def := nextStage(st, res); to != "" {
				moves = append(moves, pendingMove{contactID: id, from: st.stage, to: to, def: def, res: res})
			}
		}
		if err := s.saveScores(ctx, tx, live.id, scores, evalAt); err != nil {
			return err
		}
		if err := s.applyMoves(ctx, tx, live, moves); err != nil {
			return err
		}
		moved += int64(len(moves))
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE reevaluations SET status = 'running', done = ?, transitions = ?, last_contact_id = ?,
			started_at = COALESCE(started_at, ?) WHERE agreement_id = ?`), done, moved, ids[len(ids)-1], now, agreementID); err != nil {
			return fmt.Errorf("re-evaluate: %w", err)
		}
		more = len(ids) == n
		if !more {
			_, err := tx.ExecContext(ctx, s.q(`UPDATE reevaluations SET status = 'done', finished_at = ? WHERE agreement_id = ?`), now, agreementID)
			return err
		}
		return nil
	})
	return more, err
}

// chunkHistories builds the summaries of a range of contacts with one scan
// of their events.
func (s *Store) chunkHistories(ctx context.Context, tx rowQuerier, c *agreement.Compiled, from, to int64) (map[int64]agreement.Summary, error) {
	out := map[int64]agreement.Summary{}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT contact_id, type, name, occurred_at FROM events WHERE `+s.eventBuckets("")+`contact_id >= ? AND contact_id <= ?
		ORDER BY contact_id, occurred_at`), from, to)
	if err != nil {
		return nil, fmt.Errorf("re-evaluate: events: %w", err)
	}
	defer rows.Close()
	var cur int64
	var sum agreement.Summary
	for rows.Next() {
		var id, at int64
		var typ, name string
		if err := rows.Scan(&id, &typ, &name, &at); err != nil {
			return nil, fmt.Errorf("re-evaluate: events: %w", err)
		}
		if id != cur {
			if cur != 0 {
				out[cur] = sum
			}
			cur, sum = id, agreement.Summary{}
		}
		key := activityKeyOf(typ, name)
		sum.Add(key, fromMS(at), c.HalfLives(key))
	}
	if cur != 0 {
		out[cur] = sum
	}
	return out, rows.Err()
}

// pendingMove is a rule-driven transition decided during a chunk.
type pendingMove struct {
	contactID int64
	from, to  alinea.Stage
	def       string
	res       agreement.Result
}

// applyMoves records a chunk's transitions: one prepared update per
// contact and multi-row inserts of the history rows.
func (s *Store) applyMoves(ctx context.Context, tx *sql.Tx, live *liveAgreement, moves []pendingMove) error {
	if len(moves) == 0 {
		return nil
	}
	now := ms(s.now())
	upd, err := tx.PrepareContext(ctx, s.q(`UPDATE contacts SET stage = ?, stage_changed_at = ?, updated_at = ? WHERE id = ?`))
	if err != nil {
		return fmt.Errorf("re-evaluate: %w", err)
	}
	defer upd.Close()
	const perStmt = 100
	for start := 0; start < len(moves); start += perStmt {
		part := moves[start:min(start+perStmt, len(moves))]
		var q strings.Builder
		q.WriteString(`INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, agreement_version, reason, why) VALUES `)
		args := make([]any, 0, len(part)*8)
		for i, m := range part {
			if _, err := upd.ExecContext(ctx, m.to, now, now, m.contactID); err != nil {
				return fmt.Errorf("move contact %d to %s: %w", m.contactID, m.to, err)
			}
			why, err := json.Marshal(transitionWhy(live.id, m.def, live.compiled, m.res))
			if err != nil {
				return fmt.Errorf("explain transition of contact %d: %w", m.contactID, err)
			}
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, m.contactID, m.from, m.to, now, alinea.ActorRule, live.id, "definition "+m.def+" met", string(why))
		}
		if _, err := tx.ExecContext(ctx, s.q(q.String()), args...); err != nil {
			return fmt.Errorf("record transitions: %w", err)
		}
	}
	return nil
}
