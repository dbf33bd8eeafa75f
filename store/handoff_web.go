package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/calendar"
)

// What the web inbox reads besides Handoffs: the business calendar its
// countdowns run on, the recent decisions and where each lead came from.

// BusinessCalendar returns the active agreement's business-hours calendar,
// or nil when no agreement is active (then deadlines run in wall-clock
// time). One lookup serves a whole page of countdowns.
func (s *Store) BusinessCalendar(ctx context.Context) (*calendar.Calendar, error) {
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil || live == nil {
		return nil, err
	}
	return live.compiled.Calendar(), nil
}

// DecidedHandoffs lists the handoffs accepted, rejected or closed since a
// moment, latest decision first, with their clocks: ownerID's only, or
// everyone's when 0.
func (s *Store) DecidedHandoffs(ctx context.Context, ownerID int64, since time.Time, n int) ([]alinea.Handoff, error) {
	q := handoffColumns + ` WHERE a.status <> 'open' AND a.decided_at >= ?`
	args := []any{ms(since)}
	if ownerID != 0 {
		q += ` AND a.owner_id = ?`
		args = append(args, ownerID)
	}
	q += ` ORDER BY a.decided_at DESC, a.id DESC LIMIT ?`
	args = append(args, limit(n, 50, 200))
	rows, err := s.rdb.QueryContext(ctx, s.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("decided handoffs: %w", err)
	}
	var list []alinea.Handoff
	for rows.Next() {
		h, err := scanHandoff(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("decided handoffs: %w", err)
		}
		list = append(list, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("decided handoffs: %w", err)
	}
	if err := s.attachClocks(ctx, list); err != nil {
		return nil, err
	}
	return list, nil
}

// ContactOrigin is where a contact is and came from: what a rep weighs
// before accepting a lead.
type ContactOrigin struct {
	Country string
	Source  string
}

// ContactOrigins returns the country and source of the given contacts.
func (s *Store) ContactOrigins(ctx context.Context, ids []int64) (map[int64]ContactOrigin, error) {
	out := make(map[int64]ContactOrigin, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	marks := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		marks[i], args[i] = "?", id
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT id, country, source FROM contacts WHERE id IN (`+strings.Join(marks, ", ")+`)`), args...)
	if err != nil {
		return nil, fmt.Errorf("contact origins: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var o ContactOrigin
		if err := rows.Scan(&id, &o.Country, &o.Source); err != nil {
			return nil, fmt.Errorf("contact origins: %w", err)
		}
		out[id] = o
	}
	return out, rows.Err()
}
