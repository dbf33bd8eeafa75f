package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// SweepResult says what one pass over the SLA clocks did.
type SweepResult struct {
	Routed    int `json:"routed"`
	Touched   int `json:"touched"`
	Closed    int `json:"closed"`
	Breached  int `json:"breached"`
	Escalated int `json:"escalated"`
}

// sweepBatch bounds the clocks one transaction breaches or escalates.
const sweepBatch = 500

// SweepHandoffs is the handoff worker's periodic pass: route waiting leads,
// record touches on running clocks, close handoffs the contact left some
// other way, then breach the clocks past their deadline and escalate old
// breaches. Touches are read before breaches so that a call logged just
// before the deadline is never reported as a breach. Every step claims its
// rows, so two instances sweeping at once do each thing once.
func (s *Store) SweepHandoffs(ctx context.Context) (SweepResult, error) {
	var r SweepResult
	var err error
	if r.Routed, err = s.RoutePending(ctx); err != nil {
		return r, err
	}
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil {
		return r, err
	}
	if r.Touched, err = s.recordTouches(ctx, live); err != nil {
		return r, err
	}
	if r.Closed, err = s.closeLeftHandoffs(ctx, live); err != nil {
		return r, err
	}
	if r.Breached, err = s.breachDue(ctx, live); err != nil {
		return r, err
	}
	if r.Escalated, err = s.escalateDue(ctx, live); err != nil {
		return r, err
	}
	return r, nil
}

// recordTouches counts the touch events logged since each waiting
// first-touch or touches clock started: the first stops a first-touch
// clock (met when on time), enough of them meet a touches clock. One
// grouped query per distinct list of touch events (usually one) returns
// only the clocks that have touches; its cost grows with the open clocks
// (an index probe each), not with the events ingested.
func (s *Store) recordTouches(ctx context.Context, live *liveAgreement) (int, error) {
	// Terms grouped by their touch events; clocks of terms no longer in the
	// agreement count the default touches.
	lists := map[string][]string{}
	termsOf := map[string][]string{}
	known := []string{}
	if live != nil {
		for _, t := range live.compiled.Doc.SLAs {
			if t.Kind != "first_touch_within" && t.Kind != "touches_within" {
				continue
			}
			key := strings.Join(t.Touches(), "\x00")
			lists[key] = t.Touches()
			termsOf[key] = append(termsOf[key], t.Name)
			known = append(known, t.Name)
		}
	}
	type found struct {
		id, first, count, started, deadline, target int64
		kind                                        string
		status                                      alinea.ClockStatus
	}
	var ups []found
	now := ms(s.now())
	run := func(touches []string, termFilter string, termArgs []string) error {
		args := []any{now}
		for _, ev := range touches {
			args = append(args, ev)
		}
		for _, t := range termArgs {
			args = append(args, t)
		}
		rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT k.id, k.kind, k.started_at, k.deadline_at, k.target, k.status, k.done, COUNT(*), MIN(e.occurred_at)
			FROM sla_clocks k `+s.joinContactEvents("e")+`e.contact_id = k.contact_id AND e.occurred_at >= k.started_at
				AND e.occurred_at <= CASE WHEN k.kind = 'touches_within' AND k.deadline_at < ? THEN k.deadline_at ELSE ? END
				AND e.type = 'track' AND e.name IN (`+marks(len(touches))+`)
			WHERE k.stopped_at IS NULL AND k.kind IN ('first_touch_within', 'touches_within') AND `+termFilter+`
			GROUP BY k.id, k.kind, k.started_at, k.deadline_at, k.target, k.status, k.done`), append([]any{now}, args...)...)
		if err != nil {
			return fmt.Errorf("count touches: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var f found
			var done int64
			if err := rows.Scan(&f.id, &f.kind, &f.started, &f.deadline, &f.target, &f.status, &done, &f.count, &f.first); err != nil {
				return fmt.Errorf("count touches: %w", err)
			}
			if f.kind == "touches_within" && f.count == done {
				continue // nothing new
			}
			ups = append(ups, f)
		}
		return rows.Err()
	}
	for key, touches := range lists {
		if err := run(touches, "k.term IN ("+marks(len(termsOf[key]))+")", termsOf[key]); err != nil {
			return 0, err
		}
	}
	filter := "1 = 1"
	if len(known) > 0 {
		filter = "k.term NOT IN (" + marks(len(known)) + ")"
	}
	if err := run(agreement.DefaultTouchEvents, filter, known); err != nil {
		return 0, err
	}
	if len(ups) == 0 {
		return 0, nil
	}
	changed := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, u := range ups {
			var res sql.Result
			var err error
			switch {
			case u.kind == "first_touch_within":
				status := u.status
				if status == alinea.ClockRunning && u.first <= u.deadline {
					status = alinea.ClockMet
				}
				elapsed := u.first - u.started
				if live != nil {
					elapsed = live.compiled.Calendar().Between(fromMS(u.started), fromMS(u.first)).Milliseconds()
				}
				res, err = tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET status = ?, done = ?, stopped_at = ?, elapsed_ms = ?,
					escalate_at = CASE WHEN ? = 'met' THEN NULL ELSE escalate_at END WHERE id = ? AND stopped_at IS NULL`),
					status, u.count, u.first, elapsed, status, u.id)
			case u.count >= u.target && u.status == alinea.ClockRunning:
				res, err = tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET status = 'met', done = ?, stopped_at = ?, elapsed_ms = ?, escalate_at = NULL WHERE id = ? AND stopped_at IS NULL`),
					u.count, now, now-u.started, u.id)
			default:
				res, err = tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET done = ? WHERE id = ? AND stopped_at IS NULL`), u.count, u.id)
			}
			if err != nil {
				return fmt.Errorf("record touches of clock %d: %w", u.id, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				changed++
			}
		}
		return nil
	})
	return changed, err
}

// marks is n comma-separated placeholders.
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// closeLeftHandoffs settles open handoffs whose contact left mql/sql by
// another path than accept/reject (moved on by hand or by the rules, sent
// back, disqualified): moved forward counts as accepted, anything else
// closes the handoff. Their acceptance clocks stop accordingly.
func (s *Store) closeLeftHandoffs(ctx context.Context, live *liveAgreement) (int, error) {
	closed := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT a.id, a.contact_id, c.stage, c.stage_changed_at FROM assignments a JOIN contacts c ON c.id = a.contact_id
			WHERE a.status = 'open' AND c.stage NOT IN ('mql', 'sql') ORDER BY a.id LIMIT ?`+s.lockSkip()), sweepBatch)
		if err != nil {
			return fmt.Errorf("read left handoffs: %w", err)
		}
		type left struct {
			id, contact, at int64
			stage           alinea.Stage
		}
		var ls []left
		for rows.Next() {
			var l left
			if err := rows.Scan(&l.id, &l.contact, &l.stage, &l.at); err != nil {
				rows.Close()
				return fmt.Errorf("read left handoffs: %w", err)
			}
			ls = append(ls, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read left handoffs: %w", err)
		}
		for _, l := range ls {
			outcome := alinea.HandoffClosed
			if l.stage.Mode() == alinea.ModeBuy || l.stage.Mode() == alinea.ModeCustomer {
				outcome = alinea.HandoffAccepted
			}
			if _, err := tx.ExecContext(ctx, s.q(`UPDATE assignments SET status = ?, decided_at = ? WHERE id = ? AND status = 'open'`), outcome, l.at, l.id); err != nil {
				return fmt.Errorf("settle handoff %d: %w", l.id, err)
			}
			if outcome == alinea.HandoffAccepted {
				if err := s.stopClocks(ctx, tx, l.id, fromMS(l.at), live, "accept_within"); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET status = CASE WHEN status = 'running' THEN 'cancelled' ELSE status END, stopped_at = ?, escalate_at = NULL
				WHERE assignment_id = ? AND stopped_at IS NULL`), l.at, l.id); err != nil {
				return fmt.Errorf("cancel clocks of handoff %d: %w", l.id, err)
			}
			closed++
		}
		return nil
	})
	return closed, err
}

// breachDue marks running clocks past their deadline as breached and
// queues one notification per breach to the owner (managers for the
// fallback queue). The UPDATE ... WHERE status = 'running' and the
// notification key make it exactly once across instances.
func (s *Store) breachDue(ctx context.Context, live *liveAgreement) (int, error) {
	total := 0
	for {
		n, err := s.breachSome(ctx, live)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

type dueClock struct {
	id, assignment, contact, owner, started, deadline int64
	term, kind                                        string
}

func (s *Store) breachSome(ctx context.Context, live *liveAgreement) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		clocks, err := s.dueClocks(ctx, tx, `status = 'running' AND deadline_at <= ? ORDER BY deadline_at`, ms(now))
		if err != nil {
			return err
		}
		for _, c := range clocks {
			var escalateAt any
			term := termOf(live, c.term)
			if term.EscalateAfterHours > 0 && live != nil {
				escalateAt = ms(live.compiled.Calendar().Add(fromMS(c.deadline), hoursDuration(term.EscalateAfterHours)))
			}
			stop := ""
			if c.kind == "touches_within" {
				stop = ", stopped_at = deadline_at" // the window is over
			}
			res, err := tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET status = 'breached', breached_at = ?, escalate_at = ?`+stop+` WHERE id = ? AND status = 'running'`),
				ms(now), escalateAt, c.id)
			if err != nil {
				return fmt.Errorf("breach clock %d: %w", c.id, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			to := []int64{c.owner}
			if c.owner == 0 {
				if to, err = s.managers(ctx, tx, 0); err != nil {
					return err
				}
			}
			data, err := s.clockNotification(ctx, tx, c, term, now)
			if err != nil {
				return err
			}
			if err := s.notify(ctx, tx, alinea.NotifySLABreached, fmt.Sprintf("%s:clock:%d", alinea.NotifySLABreached, c.id), data, to, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// escalateDue tells the rep's manager about breaches still unresolved
// escalate_after_hours business hours after the deadline.
func (s *Store) escalateDue(ctx context.Context, live *liveAgreement) (int, error) {
	n := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		clocks, err := s.dueClocks(ctx, tx, `escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= ? ORDER BY escalate_at`, ms(now))
		if err != nil {
			return err
		}
		for _, c := range clocks {
			res, err := tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET escalated_at = ? WHERE id = ? AND escalated_at IS NULL`), ms(now), c.id)
			if err != nil {
				return fmt.Errorf("escalate clock %d: %w", c.id, err)
			}
			if k, _ := res.RowsAffected(); k == 0 {
				continue
			}
			to, err := s.managers(ctx, tx, c.owner)
			if err != nil {
				return err
			}
			data, err := s.clockNotification(ctx, tx, c, termOf(live, c.term), now)
			if err != nil {
				return err
			}
			if len(to) == 1 {
				if data.Manager, err = s.userRef(ctx, tx, to[0]); err != nil {
					return err
				}
			}
			if err := s.notify(ctx, tx, alinea.NotifySLAEscalated, fmt.Sprintf("%s:clock:%d", alinea.NotifySLAEscalated, c.id), data, to, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

func (s *Store) dueClocks(ctx context.Context, tx *sql.Tx, where string, now int64) ([]dueClock, error) {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, assignment_id, contact_id, COALESCE(owner_id, 0), started_at, deadline_at, term, kind FROM sla_clocks
		WHERE `+where+` LIMIT ?`+s.lockSkip()), now, sweepBatch)
	if err != nil {
		return nil, fmt.Errorf("read due SLA clocks: %w", err)
	}
	defer rows.Close()
	var out []dueClock
	for rows.Next() {
		var c dueClock
		if err := rows.Scan(&c.id, &c.assignment, &c.contact, &c.owner, &c.started, &c.deadline, &c.term, &c.kind); err != nil {
			return nil, fmt.Errorf("read due SLA clocks: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func termOf(live *liveAgreement, name string) agreement.SLA {
	if live != nil {
		for _, t := range live.compiled.Doc.SLAs {
			if t.Name == name {
				return t
			}
		}
	}
	return agreement.SLA{Name: name}
}

func (s *Store) clockNotification(ctx context.Context, tx *sql.Tx, c dueClock, term agreement.SLA, now time.Time) (notificationData, error) {
	st, err := s.loadContactState(ctx, tx, c.contact)
	if err != nil {
		return notificationData{}, err
	}
	data := notificationData{
		Contact:    contactRef(c.contact, st),
		SLA:        &notifySLA{Name: c.term, Kind: c.kind, BusinessHours: term.BusinessHours, Count: term.Count, Days: term.Days},
		Deadline:   fromMS(c.deadline).Format(time.RFC3339),
		BreachedAt: now.UTC().Format(time.RFC3339),
		URL:        fmt.Sprintf("/contacts/%d", c.contact),
	}
	if c.owner != 0 {
		if data.Owner, err = s.userRef(ctx, tx, c.owner); err != nil {
			return data, err
		}
	} else {
		var queue string
		if err := tx.QueryRowContext(ctx, s.q(`SELECT queue FROM assignments WHERE id = ?`), c.assignment).Scan(&queue); err != nil {
			return data, fmt.Errorf("handoff %d: %w", c.assignment, err)
		}
		data.Queue = queue
	}
	return data, nil
}
