package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// StageCounts counts the contacts in each lifecycle stage now; every stage
// is in the map, with zero when it is empty.
func (s *Store) StageCounts(ctx context.Context) (map[alinea.Stage]int64, error) {
	out := make(map[alinea.Stage]int64, len(alinea.AllStages))
	for _, st := range alinea.AllStages {
		out[st] = 0
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT stage, count(*) FROM contacts GROUP BY stage`)
	if err != nil {
		return nil, fmt.Errorf("count contacts per stage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st alinea.Stage
		var n int64
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count contacts per stage: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count contacts per stage: %w", err)
	}
	return out, nil
}

// StageFlow is the movement through one funnel stage during a window of
// time: how many contacts entered it (reaching it, or skipping past it) and
// how many of those went on to the next stage within the same window.
type StageFlow struct {
	Stage    alinea.Stage
	Entered  int64
	Advanced int64
}

// StageFlows measures stage-to-stage conversion over [from, to) from the
// transition history, as cohorts: of the contacts that entered a stage in
// the window, the share that also entered the next one. Each contact counts
// once per stage, from the lowest stage it left in the window to the highest
// it reached. Side states are on the lead step: a recycled or disqualified
// contact that qualifies again enters the stages after lead once more.
func (s *Store) StageFlows(ctx context.Context, from, to time.Time) ([]StageFlow, error) {
	// The stage names are written into the query rather than bound: they
	// are the domain's own constants, and bound CASE labels made SQLite
	// twice as slow here.
	rank := func(col string, sideStates int) string {
		var b strings.Builder
		b.WriteString("CASE " + col)
		for i, st := range alinea.FunnelStages {
			fmt.Fprintf(&b, " WHEN '%s' THEN %d", st, i)
		}
		fmt.Fprintf(&b, " WHEN '%s' THEN %d WHEN '%s' THEN %d ELSE -1 END", alinea.StageRecycled, sideStates, alinea.StageDisqualified, sideStates)
		return b.String()
	}
	// Leaving a side state starts from the lead step; arriving in one
	// reaches nothing.
	fromRank := rank("from_stage", alinea.StageLead.Rank())
	toRank := rank("to_stage", -1)
	args := []any{ms(from), ms(to)}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT lo, hi, count(*) FROM (
		SELECT contact_id, min(`+fromRank+`) AS lo, max(`+toRank+`) AS hi
		FROM stage_transitions WHERE at >= ? AND at < ? GROUP BY contact_id) moved
		GROUP BY lo, hi`), args...)
	if err != nil {
		return nil, fmt.Errorf("stage flows: %w", err)
	}
	defer rows.Close()
	out := make([]StageFlow, len(alinea.FunnelStages))
	for i, st := range alinea.FunnelStages {
		out[i].Stage = st
	}
	for rows.Next() {
		var lo, hi int
		var n int64
		if err := rows.Scan(&lo, &hi, &n); err != nil {
			return nil, fmt.Errorf("stage flows: %w", err)
		}
		// The contacts crossed into every stage in (lo, hi].
		for i := max(lo+1, 0); i <= hi && i < len(out); i++ {
			out[i].Entered += n
			if hi > i {
				out[i].Advanced += n
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stage flows: %w", err)
	}
	return out, nil
}

// ClosedDealsSince returns every deal won (or lost) at or after since, of
// one owner when ownerID is not 0, the latest first: what the pipeline's
// closed columns count and total. Their contacts are not loaded.
func (s *Store) ClosedDealsSince(ctx context.Context, status alinea.DealStatus, since time.Time, ownerID int64) ([]alinea.Deal, error) {
	if status != alinea.DealWon && status != alinea.DealLost {
		return nil, &alinea.Error{Code: alinea.EINVALID, Message: "invalid filter", Fields: map[string]string{"status": "must be won or lost"}}
	}
	q, args := `SELECT `+dealColumns+` FROM deals WHERE status = ? AND closed_at >= ?`, []any{status, ms(since)}
	if ownerID != 0 {
		q += ` AND owner_id = ?`
		args = append(args, ownerID)
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(q+` ORDER BY closed_at DESC, id DESC`), args...)
	if err != nil {
		return nil, fmt.Errorf("%s deals since %s: %w", status, since.Format(time.DateOnly), err)
	}
	defer rows.Close()
	var out []alinea.Deal
	for rows.Next() {
		d, err := scanDeal(rows)
		if err != nil {
			return nil, fmt.Errorf("%s deals since %s: %w", status, since.Format(time.DateOnly), err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RecentlyClosedDeals returns the deals most recently won (or lost), the
// latest first.
func (s *Store) RecentlyClosedDeals(ctx context.Context, status alinea.DealStatus, n int) ([]alinea.Deal, error) {
	if status != alinea.DealWon && status != alinea.DealLost {
		return nil, &alinea.Error{Code: alinea.EINVALID, Message: "invalid filter", Fields: map[string]string{"status": "must be won or lost"}}
	}
	n = limit(n, 5, 100)
	rows, err := s.rdb.QueryContext(ctx, s.q(fmt.Sprintf(`SELECT `+dealColumns+` FROM deals WHERE status = ?
		ORDER BY closed_at DESC, id DESC LIMIT %d`, n)), status)
	if err != nil {
		return nil, fmt.Errorf("recently %s deals: %w", status, err)
	}
	out := make([]alinea.Deal, 0, n)
	for rows.Next() {
		d, err := scanDeal(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("recently %s deals: %w", status, err)
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recently %s deals: %w", status, err)
	}
	if err := s.loadDealContacts(ctx, s.rdb, out); err != nil {
		return nil, err
	}
	return out, nil
}

// AccountNames returns the names of the accounts with the given ids, for
// lists that show a page of contacts with their company.
func (s *Store) AccountNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	err := s.byIDs(ctx, `SELECT id, name FROM accounts WHERE id IN (%s)`, ids, func(scan func(...any) error) error {
		var id int64
		var name string
		if err := scan(&id, &name); err != nil {
			return err
		}
		out[id] = name
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("account names: %w", err)
	}
	return out, nil
}

// ContactGrades returns the stored grades of the given contacts; contacts
// never scored are absent.
func (s *Store) ContactGrades(ctx context.Context, contactIDs []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(contactIDs))
	err := s.byIDs(ctx, `SELECT contact_id, grade FROM contact_scores WHERE contact_id IN (%s)`, contactIDs, func(scan func(...any) error) error {
		var id int64
		var grade string
		if err := scan(&id, &grade); err != nil {
			return err
		}
		out[id] = grade
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("contact grades: %w", err)
	}
	return out, nil
}

// byIDs runs query, whose %s is replaced by one placeholder per distinct
// non-zero id, and hands each row to fn.
func (s *Store) byIDs(ctx context.Context, query string, ids []int64, fn func(scan func(...any) error) error) error {
	seen := make(map[int64]bool, len(ids))
	var marks []string
	var args []any
	for _, id := range ids {
		if id == 0 || seen[id] {
			continue
		}
		seen[id] = true
		marks = append(marks, "?")
		args = append(args, id)
	}
	if len(args) == 0 {
		return nil
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(fmt.Sprintf(query, strings.Join(marks, ", "))), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
