package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/routing"
)

// The handoff (DESIGN.md section 4): every entry into mql or sql lands in
// handoff_inbox (a trigger on stage_transitions, so no write path can skip
// it); the handoff worker routes each to a rep by the active agreement's
// rules, starts the SLA clocks, and later watches them. Ingestion and
// evaluation pay nothing for it.

// routeBatch bounds how many inbox entries one transaction routes.
const routeBatch = 200

// lockSkip is appended to a SELECT of rows a worker claims: on PostgreSQL
// another instance skips them instead of waiting, so two instances never
// work the same row; SQLite has one writer anyway.
func (s *Store) lockSkip() string {
	if s.backend == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

type inboxEntry struct {
	transitionID, contactID int64
	toStage                 alinea.Stage
	at                      int64
}

// RoutePending routes the leads waiting in the handoff inbox and returns
// how many it assigned (to a rep or to the fallback queue).
func (s *Store) RoutePending(ctx context.Context) (int, error) {
	total := 0
	for {
		n, more, err := s.routeSome(ctx)
		total += n
		if err != nil || !more {
			return total, err
		}
	}
}

func (s *Store) routeSome(ctx context.Context) (routed int, more bool, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.q(`SELECT transition_id, contact_id, to_stage, at FROM handoff_inbox ORDER BY transition_id LIMIT ?`+s.lockSkip()), routeBatch)
		if err != nil {
			return fmt.Errorf("read handoff inbox: %w", err)
		}
		var entries []inboxEntry
		for rows.Next() {
			var e inboxEntry
			if err := rows.Scan(&e.transitionID, &e.contactID, &e.toStage, &e.at); err != nil {
				rows.Close()
				return fmt.Errorf("read handoff inbox: %w", err)
			}
			entries = append(entries, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read handoff inbox: %w", err)
		}
		more = len(entries) == routeBatch
		if len(entries) == 0 {
			return nil
		}
		for _, e := range entries {
			if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM handoff_inbox WHERE transition_id = ?`), e.transitionID); err != nil {
				return fmt.Errorf("clear handoff inbox: %w", err)
			}
		}
		live, err := s.liveAgreementFor(ctx, tx)
		if err != nil || live == nil {
			// Without an agreement there are no routing rules nor SLAs:
			// the entries are dropped.
			return err
		}
		var activated sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.q(`SELECT activated_at FROM agreements WHERE id = ?`), live.id).Scan(&activated); err != nil {
			return fmt.Errorf("active agreement: %w", err)
		}
		for _, e := range entries {
			// Entries from before the agreement took effect are history
			// (an import, the demo's past), not leads to hand off now.
			if e.at < activated.Int64 {
				continue
			}
			ok, err := s.routeEntry(ctx, tx, live, e)
			if err != nil {
				return err
			}
			if ok {
				routed++
			}
		}
		return nil
	})
	return routed, more, err
}

// routeEntry hands one contact to sales, unless it no longer needs it: it
// moved on since, or sales already has it (an open handoff, or one accepted
// since it was last recycled — an SQL that passed MQL is not routed again).
func (s *Store) routeEntry(ctx context.Context, tx *sql.Tx, live *liveAgreement, e inboxEntry) (bool, error) {
	st, err := s.loadContactState(ctx, tx, e.contactID)
	if err != nil {
		var de *alinea.Error
		if errors.As(err, &de) && de.Code == alinea.ENOTFOUND {
			return false, nil
		}
		return false, err
	}
	if st.stage != e.toStage {
		return false, nil
	}
	var held int
	err = tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM assignments a WHERE a.contact_id = ? AND (a.status = 'open' OR (a.status = 'accepted'
		AND a.assigned_at > COALESCE((SELECT MAX(t.at) FROM stage_transitions t WHERE t.contact_id = ? AND t.to_stage IN ('recycled', 'disqualified')), 0)))`),
		e.contactID, e.contactID).Scan(&held)
	if err != nil {
		return false, fmt.Errorf("route contact %d: %w", e.contactID, err)
	}
	if held > 0 {
		return false, nil
	}
	now := s.now()
	c := live.compiled
	score := c.Score(st.facts, st.account, &st.summary, now)
	why := assignmentWhy{Stage: e.toStage, Fit: score.Fit, Engagement: score.Engagement}
	var owner int64
	rule, matched, ruleErrs := c.Route(st.facts, st.account, score.Fit, score.Engagement)
	for _, re := range ruleErrs {
		why.RuleErrors = append(why.RuleErrors, re.Rule+": "+re.Message)
	}
	if matched {
		why.Rule, why.When = rule.Name, rule.When
		cands, unknown, err := s.routingCandidates(ctx, tx, rule, c, now)
		if err != nil {
			return false, err
		}
		why.UnknownReps = unknown
		d := routing.Pick(cands)
		why.Considered = d.Considered
		owner = d.UserID
		if owner == 0 {
			why.Fallback = "no_rep_available"
		}
	} else {
		why.Fallback = "no_rule_matched"
	}
	queue := ""
	if owner == 0 {
		queue = c.Doc.Routing.Queue()
		why.Queue = queue
	}
	whyJSON, err := json.Marshal(why)
	if err != nil {
		return false, fmt.Errorf("route contact %d: %w", e.contactID, err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, s.q(`INSERT INTO assignments (contact_id, transition_id, owner_id, queue, rule, why, agreement_version, status, assigned_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?) RETURNING id`), e.contactID, e.transitionID, nullID(owner), queue, why.Rule, string(whyJSON), live.id, ms(now)).Scan(&id)
	if err != nil {
		return false, fmt.Errorf("assign contact %d: %w", e.contactID, mapErr(err))
	}
	if owner != 0 {
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET owner_id = ?, updated_at = ? WHERE id = ?`), owner, ms(now), e.contactID); err != nil {
			return false, fmt.Errorf("assign contact %d: %w", e.contactID, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO routing_counters (rule, user_id, assigned, last_assigned_at) VALUES (?, ?, 1, ?)
			ON CONFLICT (rule, user_id) DO UPDATE SET assigned = routing_counters.assigned + 1, last_assigned_at = excluded.last_assigned_at`), rule.Name, owner, ms(now)); err != nil {
			return false, fmt.Errorf("count assignment of contact %d: %w", e.contactID, err)
		}
	}
	h := handoffRow{id: id, contactID: e.contactID, ownerID: owner, version: live.id}
	deadline, err := s.startClocks(ctx, tx, c, h, now, "accept_within")
	if err != nil {
		return false, err
	}
	recipients := []int64{owner}
	if owner == 0 {
		recipients, err = s.managers(ctx, tx, 0)
		if err != nil {
			return false, err
		}
	}
	data := notificationData{Contact: contactRef(e.contactID, st), Reason: why.summary(), URL: fmt.Sprintf("/contacts/%d", e.contactID)}
	if owner != 0 {
		data.Owner, err = s.userRef(ctx, tx, owner)
		if err != nil {
			return false, err
		}
	}
	if !deadline.IsZero() {
		data.Deadline = deadline.UTC().Format(time.RFC3339)
	}
	if err := s.notify(ctx, tx, alinea.NotifyLeadAssigned, fmt.Sprintf("%s:handoff:%d", alinea.NotifyLeadAssigned, id), data, recipients, now); err != nil {
		return false, err
	}
	return true, nil
}

// assignmentWhy is the recorded explanation of an assignment.
type assignmentWhy struct {
	Stage       alinea.Stage         `json:"stage"`
	Fit         int                  `json:"fit"`
	Engagement  int                  `json:"engagement"`
	Rule        string               `json:"rule,omitempty"`
	When        string               `json:"when,omitempty"`
	Considered  []routing.Considered `json:"considered,omitempty"`
	UnknownReps []string             `json:"unknown_reps,omitempty"`
	Fallback    string               `json:"fallback,omitempty"`
	Queue       string               `json:"queue,omitempty"`
	RuleErrors  []string             `json:"rule_errors,omitempty"`
}

// summary says in one line why the lead went where it went (English; the
// UI renders the structured fields in the reader's language).
func (w assignmentWhy) summary() string {
	switch w.Fallback {
	case "no_rule_matched":
		return fmt.Sprintf("no routing rule matched; waiting in queue %s", w.Queue)
	case "no_rep_available":
		return fmt.Sprintf("rule %s matched but none of its reps could take it (away or at capacity); waiting in queue %s", w.Rule, w.Queue)
	}
	return fmt.Sprintf("rule %s (%s), weighted round-robin among %d reps", w.Rule, w.When, len(w.Considered))
}

// routingCandidates are the reps a rule names (every active sales rep when
// it names none) with their capacity, open handoffs, absence today and
// round-robin counters. Emails that are no active user are returned apart,
// for the explanation.
func (s *Store) routingCandidates(ctx context.Context, tx *sql.Tx, rule agreement.RouteRule, c *agreement.Compiled, now time.Time) ([]routing.Candidate, []string, error) {
	q := `SELECT u.id, u.email, COALESCE(r.capacity, 0),
		(SELECT COUNT(*) FROM assignments a WHERE a.owner_id = u.id AND a.status = 'open'),
		(SELECT COUNT(*) FROM rep_absences b WHERE b.user_id = u.id AND b.starts_on <= ? AND b.ends_on >= ?),
		COALESCE(rc.assigned, 0), COALESCE(rc.last_assigned_at, 0)
		FROM users u LEFT JOIN rep_settings r ON r.user_id = u.id LEFT JOIN routing_counters rc ON rc.rule = ? AND rc.user_id = u.id
		WHERE u.deactivated_at IS NULL AND `
	today := now.In(c.Calendar().Location()).Format(time.DateOnly)
	args := []any{today, today, rule.Name}
	weights := map[string]int{}
	if len(rule.Reps) == 0 {
		q += `u.role = 'sales'`
	} else {
		marks := make([]string, len(rule.Reps))
		for i, r := range rule.Reps {
			email := strings.ToLower(strings.TrimSpace(r.Email))
			weights[email] = r.Share()
			marks[i] = "?"
			args = append(args, email)
		}
		q += `u.email IN (` + strings.Join(marks, ", ") + `)`
	}
	rows, err := tx.QueryContext(ctx, s.q(q+` ORDER BY u.id`), args...)
	if err != nil {
		return nil, nil, fmt.Errorf("routing candidates of rule %s: %w", rule.Name, err)
	}
	defer rows.Close()
	var out []routing.Candidate
	found := map[string]bool{}
	for rows.Next() {
		var cd routing.Candidate
		var away int
		var last int64
		if err := rows.Scan(&cd.UserID, &cd.Email, &cd.Capacity, &cd.Open, &away, &cd.Assigned, &last); err != nil {
			return nil, nil, fmt.Errorf("routing candidates of rule %s: %w", rule.Name, err)
		}
		cd.Away = away > 0
		if last > 0 {
			cd.LastAssigned = fromMS(last)
		}
		cd.Weight = 1
		if w, ok := weights[cd.Email]; ok {
			cd.Weight = w
		}
		found[cd.Email] = true
		out = append(out, cd)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("routing candidates of rule %s: %w", rule.Name, err)
	}
	var unknown []string
	for _, r := range rule.Reps {
		if email := strings.ToLower(strings.TrimSpace(r.Email)); !found[email] {
			unknown = append(unknown, email)
		}
	}
	return out, unknown, nil
}

// handoffRow is what starting clocks needs to know of a handoff.
type handoffRow struct {
	id, contactID, ownerID, version int64
}

// startClocks starts the agreement's SLA clocks of the given kinds for a
// handoff and returns the earliest deadline (zero when none started).
func (s *Store) startClocks(ctx context.Context, tx *sql.Tx, c *agreement.Compiled, h handoffRow, now time.Time, kinds ...string) (time.Time, error) {
	var first time.Time
	for _, term := range c.Doc.SLAs {
		if !slices.Contains(kinds, term.Kind) {
			continue
		}
		var deadline time.Time
		target := 1
		switch term.Kind {
		case "accept_within", "first_touch_within":
			deadline = c.Calendar().Add(now, hoursDuration(term.BusinessHours))
		case "touches_within":
			deadline = now.Add(time.Duration(term.Days) * 24 * time.Hour)
			target = term.Count
		default:
			continue
		}
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO sla_clocks (assignment_id, contact_id, owner_id, term, kind, agreement_version, started_at, deadline_at, target, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')`), h.id, h.contactID, nullID(h.ownerID), term.Name, term.Kind, h.version, ms(now), ms(deadline), target); err != nil {
			return time.Time{}, fmt.Errorf("start SLA clock %s for contact %d: %w", term.Name, h.contactID, err)
		}
		if first.IsZero() || deadline.Before(first) {
			first = deadline
		}
	}
	return first, nil
}

func hoursDuration(h float64) time.Duration { return time.Duration(h * float64(time.Hour)) }

// AcceptHandoff records that sales takes the lead: an MQL moves to sal, the
// acceptance clock stops and the follow-up clocks (first touch, touches)
// start. The owner accepts; a lead in the fallback queue may be taken by
// anyone in sales; managers and admins may accept for their team.
func (s *Store) AcceptHandoff(ctx context.Context, id int64, u alinea.User) (alinea.Handoff, error) {
	return s.decideHandoff(ctx, id, u, alinea.HandoffAccepted, alinea.HandoffDecision{})
}

// RejectHandoff sends the lead back to marketing's nurturing (recycled)
// with one of the agreement's reason codes, counted in marketing's
// feedback report.
func (s *Store) RejectHandoff(ctx context.Context, id int64, u alinea.User, d alinea.HandoffDecision) (alinea.Handoff, error) {
	return s.decideHandoff(ctx, id, u, alinea.HandoffRejected, d)
}

func (s *Store) decideHandoff(ctx context.Context, id int64, u alinea.User, outcome alinea.HandoffStatus, d alinea.HandoffDecision) (alinea.Handoff, error) {
	d.Reason, d.Comment = strings.TrimSpace(d.Reason), strings.TrimSpace(d.Comment)
	if len(d.Comment) > alinea.MaxHandoffComment {
		return alinea.Handoff{}, alinea.FieldErrors{"comment": fmt.Sprintf("must be at most %d characters", alinea.MaxHandoffComment)}.Err("invalid rejection")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var contactID int64
		var owner sql.NullInt64
		var status alinea.HandoffStatus
		err := tx.QueryRowContext(ctx, s.q(`SELECT contact_id, owner_id, status FROM assignments WHERE id = ?`+s.lockFor()), id).Scan(&contactID, &owner, &status)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("handoff", id)
		}
		if err != nil {
			return fmt.Errorf("handoff %d: %w", id, err)
		}
		if status != alinea.HandoffOpen {
			return alinea.Errorf(alinea.ECONFLICT, "handoff %d is already %s", id, status)
		}
		switch {
		case u.Role == alinea.RoleAdmin || u.Role == alinea.RoleManager:
		case u.Role == alinea.RoleSales && (!owner.Valid || owner.Int64 == u.ID):
		case u.Role == alinea.RoleSales:
			return alinea.Errorf(alinea.EFORBIDDEN, "handoff %d is assigned to another rep", id)
		default:
			return alinea.Errorf(alinea.EFORBIDDEN, "role %s may not accept or reject leads", u.Role)
		}
		live, err := s.liveAgreementFor(ctx, tx)
		if err != nil {
			return err
		}
		if outcome == alinea.HandoffRejected {
			switch {
			case d.Reason == "":
				return alinea.FieldErrors{"reason": "is required: one of the agreement's rejection reasons"}.Err("invalid rejection")
			case live == nil || !live.compiled.ValidReason(d.Reason):
				return alinea.FieldErrors{"reason": fmt.Sprintf("%q is not one of the active agreement's rejection reasons (%s)", d.Reason, reasonCodes(live))}.Err("invalid rejection")
			}
		}
		now := s.now()
		var stage alinea.Stage
		if err := tx.QueryRowContext(ctx, s.q(`SELECT stage FROM contacts WHERE id = ?`), contactID).Scan(&stage); err != nil {
			return fmt.Errorf("handoff %d: %w", id, err)
		}
		actor := alinea.Actor{Type: alinea.ActorUser, UserID: u.ID, Role: u.Role}
		newOwner := owner.Int64
		if outcome == alinea.HandoffAccepted {
			if !owner.Valid {
				newOwner = u.ID // taken from the queue
			}
			if stage == alinea.StageMQL {
				why, _ := json.Marshal(map[string]any{"handoff": id, "accepted_by": u.ID})
				if _, err := s.transition(ctx, tx, contactID, alinea.TransitionRequest{To: alinea.StageSAL, Reason: "accepted by sales", Why: why, Actor: actor}); err != nil {
					return err
				}
			}
		} else {
			why, _ := json.Marshal(map[string]any{"handoff": id, "rejected_by": u.ID, "reason": d.Reason, "comment": d.Comment})
			if _, err := s.transition(ctx, tx, contactID, alinea.TransitionRequest{To: alinea.StageRecycled, Reason: "rejected by sales: " + d.Reason, Why: why, Actor: actor}); err != nil {
				return err
			}
			newOwner = 0 // back to marketing
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE assignments SET status = ?, decided_at = ?, decided_by = ?, reason_code = ?, comment = ?, owner_id = COALESCE(owner_id, ?) WHERE id = ?`),
			outcome, ms(now), u.ID, d.Reason, d.Comment, nullID(u.ID), id); err != nil {
			return fmt.Errorf("handoff %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE contacts SET owner_id = ?, updated_at = ? WHERE id = ?`), nullID(newOwner), ms(now), contactID); err != nil {
			return fmt.Errorf("handoff %d: %w", id, err)
		}
		if err := s.stopClocks(ctx, tx, id, now, live, "accept_within"); err != nil {
			return err
		}
		if outcome == alinea.HandoffAccepted && live != nil {
			h := handoffRow{id: id, contactID: contactID, ownerID: newOwner, version: live.id}
			if _, err := s.startClocks(ctx, tx, live.compiled, h, now, "first_touch_within", "touches_within"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return alinea.Handoff{}, err
	}
	return s.Handoff(ctx, id)
}

// lockFor locks a row for the rest of the transaction on PostgreSQL
// (SQLite's single writer already serialises).
func (s *Store) lockFor() string {
	if s.backend == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

func reasonCodes(live *liveAgreement) string {
	if live == nil {
		return "no agreement is active"
	}
	var codes []string
	for _, r := range live.compiled.Doc.RejectionReasons {
		codes = append(codes, r.Code)
	}
	return strings.Join(codes, ", ")
}

// stopClocks stops a handoff's running clocks of the given kinds now: met
// when on time; a breached clock keeps its breach but records when the
// awaited thing finally happened.
func (s *Store) stopClocks(ctx context.Context, tx *sql.Tx, handoffID int64, now time.Time, live *liveAgreement, kinds ...string) error {
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id, kind, started_at, deadline_at, status FROM sla_clocks WHERE assignment_id = ? AND stopped_at IS NULL`), handoffID)
	if err != nil {
		return fmt.Errorf("stop clocks of handoff %d: %w", handoffID, err)
	}
	type open struct {
		id, started, deadline int64
		kind                  string
		status                alinea.ClockStatus
	}
	var clocks []open
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.kind, &o.started, &o.deadline, &o.status); err != nil {
			rows.Close()
			return fmt.Errorf("stop clocks of handoff %d: %w", handoffID, err)
		}
		if slices.Contains(kinds, o.kind) {
			clocks = append(clocks, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stop clocks of handoff %d: %w", handoffID, err)
	}
	for _, o := range clocks {
		status := o.status
		if status == alinea.ClockRunning {
			status = alinea.ClockMet
			if ms(now) > o.deadline {
				status = alinea.ClockBreached // the sweep has not seen it yet
			}
		}
		var elapsed int64
		if live != nil {
			elapsed = live.compiled.Calendar().Between(fromMS(o.started), now).Milliseconds()
		} else {
			elapsed = ms(now) - o.started
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE sla_clocks SET status = ?, stopped_at = ?, elapsed_ms = ?, escalate_at = NULL WHERE id = ?`),
			status, ms(now), elapsed, o.id); err != nil {
			return fmt.Errorf("stop clock %d: %w", o.id, err)
		}
	}
	return nil
}

// managers returns who is told about a rep's breaches: the rep's manager
// when set, else every active manager.
func (s *Store) managers(ctx context.Context, tx *sql.Tx, repID int64) ([]int64, error) {
	if repID != 0 {
		var m sql.NullInt64
		err := tx.QueryRowContext(ctx, s.q(`SELECT r.manager_id FROM rep_settings r JOIN users u ON u.id = r.manager_id WHERE r.user_id = ? AND u.deactivated_at IS NULL`), repID).Scan(&m)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("manager of user %d: %w", repID, err)
		}
		if m.Valid {
			return []int64{m.Int64}, nil
		}
	}
	rows, err := tx.QueryContext(ctx, s.q(`SELECT id FROM users WHERE role = 'manager' AND deactivated_at IS NULL ORDER BY id`))
	if err != nil {
		return nil, fmt.Errorf("managers: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("managers: %w", err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// notificationData is the JSON the email templates and webhooks receive.
type notificationData struct {
	Contact    notifyContact `json:"contact"`
	Owner      *notifyUser   `json:"owner,omitempty"`
	Manager    *notifyUser   `json:"manager,omitempty"`
	SLA        *notifySLA    `json:"sla,omitempty"`
	Queue      string        `json:"queue,omitempty"`
	Reason     string        `json:"reason,omitempty"`
	Deadline   string        `json:"deadline,omitempty"`
	BreachedAt string        `json:"breached_at,omitempty"`
	URL        string        `json:"url"`
}

type notifyContact struct {
	ID      int64  `json:"id"`
	Name    string `json:"name"`
	Email   string `json:"email"`
	Company string `json:"company,omitempty"`
}

type notifyUser struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

type notifySLA struct {
	Name          string  `json:"name"`
	Kind          string  `json:"kind"`
	BusinessHours float64 `json:"business_hours,omitempty"`
	Count         int     `json:"count,omitempty"`
	Days          int     `json:"days,omitempty"`
}

func contactRef(id int64, st contactState) notifyContact {
	name := strings.TrimSpace(st.facts.FirstName + " " + st.facts.LastName)
	if name == "" {
		name = st.facts.Email
	}
	return notifyContact{ID: id, Name: name, Email: st.facts.Email, Company: st.account.Name}
}

func (s *Store) userRef(ctx context.Context, q rowQuerier, id int64) (*notifyUser, error) {
	u := &notifyUser{ID: id}
	if err := q.QueryRowContext(ctx, s.q(`SELECT name, email FROM users WHERE id = ?`), id).Scan(&u.Name, &u.Email); err != nil {
		return nil, fmt.Errorf("user %d: %w", id, err)
	}
	return u, nil
}

func (s *Store) notify(ctx context.Context, tx *sql.Tx, typ, key string, data notificationData, users []int64, now time.Time) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("notification %s: %w", key, err)
	}
	var to []int64
	for _, u := range users {
		if u != 0 {
			to = append(to, u)
		}
	}
	_, err = s.QueueNotificationTx(ctx, tx, alinea.Notification{Type: typ, Key: key, Data: raw, UserIDs: to, OccurredAt: now})
	return err
}
