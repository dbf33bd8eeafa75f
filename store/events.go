package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"database/sql"

	"github.com/alinea-crm/alinea"
)

const eventColumns = `id, message_id, type, name, contact_id, anonymous_id, user_id, properties, context,
	utm_source, utm_medium, utm_campaign, utm_term, utm_content, occurred_at, received_at`

func scanEvent(row interface{ Scan(...any) error }) (alinea.Event, error) {
	var e alinea.Event
	var contact sql.NullInt64
	var props, ctx string
	var occ, rec int64
	err := row.Scan(&e.ID, &e.MessageID, &e.Type, &e.Name, &contact, &e.AnonymousID, &e.UserID, &props, &ctx,
		&e.UTM.Source, &e.UTM.Medium, &e.UTM.Campaign, &e.UTM.Term, &e.UTM.Content, &occ, &rec)
	e.ContactID = contact.Int64
	e.Properties, e.Context = json.RawMessage(props), json.RawMessage(ctx)
	e.OccurredAt, e.ReceivedAt = fromMS(occ), fromMS(rec)
	return e, err
}

// Events lists events newest first (by id); the returned cursor is 0 on the
// last page.
func (s *Store) Events(ctx context.Context, f alinea.EventFilter) ([]alinea.Event, int64, error) {
	var where []string
	var args []any
	if f.ContactID != 0 {
		where = append(where, s.eventBuckets("")+"contact_id = ?")
		args = append(args, f.ContactID)
	}
	if f.Type != "" {
		where = append(where, "type = ?")
		args = append(args, f.Type)
	}
	if f.Name != "" {
		where = append(where, "name = ?")
		args = append(args, f.Name)
	}
	if !f.Since.IsZero() {
		where = append(where, "occurred_at >= ?")
		args = append(args, ms(f.Since))
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	n := limit(f.Limit, 50, 1000)
	q := `SELECT ` + eventColumns + ` FROM events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	return listPage(ctx, s, "events", q, args, n, scanEvent, func(v alinea.Event) int64 { return v.ID })
}

// Activity returns a contact's per-event-type summary.
func (s *Store) Activity(ctx context.Context, contactID int64) ([]alinea.Activity, error) {
	// What the summaries do not count yet is added in the same snapshot:
	// on SQLite the contact's events after contact_activity_index
	// (ingest_activity.go), on PostgreSQL the deltas not folded yet
	// (activity_fold.go).
	pending := `SELECT ` + activityKeySQL + `, count(*), min(occurred_at), max(occurred_at) FROM events
		WHERE ` + s.eventBuckets("") + `contact_id = ? AND id > (SELECT event_id FROM contact_activity_index) GROUP BY 1`
	if s.backend == Postgres {
		pending = `SELECT event_type, count, first_at, last_at FROM contact_activity_deltas WHERE contact_id = ?`
	}
	query := `SELECT event_type, CAST(sum(count) AS BIGINT), min(first_at), max(last_at) FROM (
			SELECT event_type, count, first_at, last_at FROM contact_activity WHERE contact_id = ?
			UNION ALL ` + pending + `
		) AS a GROUP BY event_type ORDER BY event_type`
	rows, err := s.rdb.QueryContext(ctx, s.q(query), contactID, contactID)
	if err != nil {
		return nil, fmt.Errorf("activity of contact %d: %w", contactID, err)
	}
	defer rows.Close()
	var out []alinea.Activity
	for rows.Next() {
		var a alinea.Activity
		var first, last int64
		if err := rows.Scan(&a.EventType, &a.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("activity of contact %d: %w", contactID, err)
		}
		a.FirstAt, a.LastAt = fromMS(first), fromMS(last)
		out = append(out, a)
	}
	return out, rows.Err()
}

func sortSlice[T any](s []T, less func(a, b T) bool) {
	slices.SortStableFunc(s, func(a, b T) int {
		if less(a, b) {
			return -1
		}
		if less(b, a) {
			return 1
		}
		return 0
	})
}
