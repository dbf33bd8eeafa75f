package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

const handoffColumns = `SELECT a.id, a.contact_id, c.first_name, c.last_name, COALESCE(c.email, ''), COALESCE(ac.name, ''), c.stage,
	COALESCE(a.owner_id, 0), COALESCE(u.name, ''), a.queue, a.rule, a.why, COALESCE(a.agreement_version, 0), a.status, a.assigned_at,
	a.decided_at, COALESCE(a.decided_by, 0), a.reason_code, a.comment
	FROM assignments a JOIN contacts c ON c.id = a.contact_id LEFT JOIN accounts ac ON ac.id = c.account_id LEFT JOIN users u ON u.id = a.owner_id`

func scanHandoff(row interface{ Scan(...any) error }) (alinea.Handoff, error) {
	var h alinea.Handoff
	var first, last, why string
	var assigned int64
	var decided sql.NullInt64
	err := row.Scan(&h.ID, &h.ContactID, &first, &last, &h.ContactEmail, &h.Company, &h.Stage, &h.OwnerID, &h.OwnerName, &h.Queue, &h.Rule,
		&why, &h.Version, &h.Status, &assigned, &decided, &h.DecidedBy, &h.ReasonCode, &h.Comment)
	if err != nil {
		return h, err
	}
	h.ContactName = strings.TrimSpace(first + " " + last)
	if h.ContactName == "" {
		h.ContactName = h.ContactEmail
	}
	h.Why = []byte(why)
	h.AssignedAt = fromMS(assigned)
	h.DecidedAt = nullMS(decided)
	h.Clocks = []alinea.SLAClock{}
	return h, nil
}

// Handoff returns one handoff with its SLA clocks.
func (s *Store) Handoff(ctx context.Context, id int64) (alinea.Handoff, error) {
	h, err := scanHandoff(s.rdb.QueryRowContext(ctx, s.q(handoffColumns+` WHERE a.id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return h, notFound("handoff", id)
	}
	if err != nil {
		return h, fmt.Errorf("handoff %d: %w", id, err)
	}
	list := []alinea.Handoff{h}
	if err := s.attachClocks(ctx, list); err != nil {
		return h, err
	}
	return list[0], nil
}

// Handoffs lists handoffs newest first, with their clocks.
func (s *Store) Handoffs(ctx context.Context, f alinea.HandoffFilter) ([]alinea.Handoff, int64, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "a.status = ?"), append(args, f.Status)
	}
	if f.OwnerID != 0 {
		where, args = append(where, "a.owner_id = ?"), append(args, f.OwnerID)
	}
	if f.Queue != "" {
		where, args = append(where, "a.queue = ? AND a.owner_id IS NULL"), append(args, f.Queue)
	}
	if f.ContactID != 0 {
		where, args = append(where, "a.contact_id = ?"), append(args, f.ContactID)
	}
	if f.Cursor != 0 {
		where, args = append(where, "a.id < ?"), append(args, f.Cursor)
	}
	q := handoffColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.id DESC"
	list, next, err := listPage(ctx, s, "handoffs", q, args, limit(f.Limit, 50, 200), scanHandoff, func(h alinea.Handoff) int64 { return h.ID })
	if err != nil {
		return nil, 0, err
	}
	if err := s.attachClocks(ctx, list); err != nil {
		return nil, 0, err
	}
	return list, next, nil
}

func (s *Store) attachClocks(ctx context.Context, list []alinea.Handoff) error {
	if len(list) == 0 {
		return nil
	}
	byID := map[int64]int{}
	marks := make([]string, len(list))
	args := make([]any, len(list))
	for i, h := range list {
		byID[h.ID] = i
		marks[i], args[i] = "?", h.ID
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, assignment_id, term, kind, COALESCE(owner_id, 0), started_at, deadline_at, target, done, status,
		stopped_at, breached_at, escalated_at, elapsed_ms FROM sla_clocks WHERE assignment_id IN (`+strings.Join(marks, ", ")+`) ORDER BY id`), args...)
	if err != nil {
		return fmt.Errorf("SLA clocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c alinea.SLAClock
		var handoff, started, deadline int64
		var stopped, breached, escalated, elapsed sql.NullInt64
		if err := rows.Scan(&c.ID, &handoff, &c.Term, &c.Kind, &c.OwnerID, &started, &deadline, &c.Target, &c.Done, &c.Status,
			&stopped, &breached, &escalated, &elapsed); err != nil {
			return fmt.Errorf("SLA clocks: %w", err)
		}
		c.StartedAt, c.Deadline = fromMS(started), fromMS(deadline)
		c.StoppedAt, c.BreachedAt, c.EscalatedAt = nullMS(stopped), nullMS(breached), nullMS(escalated)
		if elapsed.Valid {
			secs := elapsed.Int64 / 1000
			c.ElapsedBusinessSeconds = &secs
		}
		i := byID[handoff]
		list[i].Clocks = append(list[i].Clocks, c)
	}
	return rows.Err()
}

// BusinessTimeLeft returns the business time from now to a deadline in the
// active agreement's calendar (negative when past), for inbox countdowns.
func (s *Store) BusinessTimeLeft(ctx context.Context, deadline time.Time) (time.Duration, error) {
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil {
		return 0, err
	}
	now := s.now()
	if live == nil {
		return deadline.Sub(now), nil
	}
	cal := live.compiled.Calendar()
	if deadline.Before(now) {
		return -cal.Between(deadline, now), nil
	}
	return cal.Between(now, deadline), nil
}

// Reps lists the users who can receive leads (sales, managers) with their
// routing settings, open handoffs and absences that have not ended.
func (s *Store) Reps(ctx context.Context) ([]alinea.Rep, error) {
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT u.id, u.name, u.email, u.role, COALESCE(r.capacity, 0), COALESCE(r.manager_id, 0),
		(SELECT COUNT(*) FROM assignments a WHERE a.owner_id = u.id AND a.status = 'open')
		FROM users u LEFT JOIN rep_settings r ON r.user_id = u.id
		WHERE u.role IN ('sales', 'manager') AND u.deactivated_at IS NULL ORDER BY u.name, u.id`))
	if err != nil {
		return nil, fmt.Errorf("reps: %w", err)
	}
	var reps []alinea.Rep
	for rows.Next() {
		var r alinea.Rep
		if err := rows.Scan(&r.UserID, &r.Name, &r.Email, &r.Role, &r.Capacity, &r.ManagerID, &r.Open); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reps: %w", err)
		}
		r.Absences = []alinea.Absence{}
		reps = append(reps, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reps: %w", err)
	}
	today := s.now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	absences, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, user_id, starts_on, ends_on, note FROM rep_absences WHERE ends_on >= ? ORDER BY starts_on, id`), today)
	if err != nil {
		return nil, fmt.Errorf("absences: %w", err)
	}
	defer absences.Close()
	idx := map[int64]int{}
	for i, r := range reps {
		idx[r.UserID] = i
	}
	for absences.Next() {
		var a alinea.Absence
		if err := absences.Scan(&a.ID, &a.UserID, &a.StartsOn, &a.EndsOn, &a.Note); err != nil {
			return nil, fmt.Errorf("absences: %w", err)
		}
		if i, ok := idx[a.UserID]; ok {
			reps[i].Absences = append(reps[i].Absences, a)
		}
	}
	return reps, absences.Err()
}

// RepSettings are the changeable routing settings of a rep.
type RepSettings struct {
	Capacity  int
	ManagerID int64
}

// SetRepSettings changes a rep's capacity and manager.
func (s *Store) SetRepSettings(ctx context.Context, userID int64, rs RepSettings) error {
	fe := alinea.FieldErrors{}
	if rs.Capacity < 0 || rs.Capacity > 10000 {
		fe.Add("capacity", "must be between 0 (no limit) and 10000")
	}
	if rs.ManagerID == userID && userID != 0 {
		fe.Add("manager_id", "a rep cannot be their own manager")
	}
	if err := fe.Err("invalid rep settings"); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var role alinea.Role
		if err := tx.QueryRowContext(ctx, s.q(`SELECT role FROM users WHERE id = ?`), userID).Scan(&role); errors.Is(err, sql.ErrNoRows) {
			return notFound("user", userID)
		} else if err != nil {
			return fmt.Errorf("rep %d: %w", userID, err)
		}
		if rs.ManagerID != 0 {
			var mrole alinea.Role
			err := tx.QueryRowContext(ctx, s.q(`SELECT role FROM users WHERE id = ?`), rs.ManagerID).Scan(&mrole)
			if errors.Is(err, sql.ErrNoRows) {
				return alinea.FieldErrors{"manager_id": fmt.Sprintf("user %d does not exist", rs.ManagerID)}.Err("invalid rep settings")
			}
			if err != nil {
				return fmt.Errorf("rep %d: %w", userID, err)
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO rep_settings (user_id, capacity, manager_id, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET capacity = excluded.capacity, manager_id = excluded.manager_id, updated_at = excluded.updated_at`),
			userID, rs.Capacity, nullID(rs.ManagerID), ms(s.now()))
		if err != nil {
			return fmt.Errorf("rep %d: %w", userID, mapErr(err))
		}
		return nil
	})
}

// AddAbsence records days a rep is out of office.
func (s *Store) AddAbsence(ctx context.Context, a alinea.Absence) (alinea.Absence, error) {
	if err := a.Validate(); err != nil {
		return a, err
	}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO rep_absences (user_id, starts_on, ends_on, note, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`),
		a.UserID, a.StartsOn, a.EndsOn, a.Note, ms(s.now())).Scan(&a.ID)
	if err != nil {
		err = mapErr(err)
		var de *alinea.Error
		if errors.As(err, &de) && de.Code == alinea.EINVALID {
			return a, notFound("user", a.UserID)
		}
		return a, fmt.Errorf("absence of user %d: %w", a.UserID, err)
	}
	return a, nil
}

// DeleteAbsence removes a recorded absence.
func (s *Store) DeleteAbsence(ctx context.Context, id int64) error {
	return s.deleteByID(ctx, "rep_absences", "absence", id)
}
