package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// AddNote records a note from any user on a contact.
func (s *Store) AddNote(ctx context.Context, contactID, authorID int64, body string) (alinea.Note, error) {
	body = strings.TrimSpace(body)
	fe := alinea.FieldErrors{}
	if body == "" {
		fe.Add("body", "is required")
	} else if utf8.RuneCountInString(body) > 20000 {
		fe.Add("body", "is longer than 20000 characters")
	}
	if err := fe.Err("invalid note"); err != nil {
		return alinea.Note{}, err
	}
	n := alinea.Note{ContactID: contactID, AuthorID: authorID, Body: body, CreatedAt: fromMS(ms(s.now()))}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT 1 FROM contacts WHERE id = ?`), contactID).Scan(&one); err != nil {
			if err == sql.ErrNoRows {
				return notFound("contact", contactID)
			}
			return fmt.Errorf("add note: %w", err)
		}
		err := tx.QueryRowContext(ctx, s.q(`INSERT INTO notes (contact_id, author_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`),
			contactID, authorID, body, ms(n.CreatedAt)).Scan(&n.ID)
		if err != nil {
			return fmt.Errorf("add note: %w", mapErr(err))
		}
		_, err = tx.ExecContext(ctx, s.q(`UPDATE contacts SET updated_at = ? WHERE id = ?`), ms(n.CreatedAt), contactID)
		return err
	})
	return n, err
}

// Timeline merges a contact's events, transitions, notes and deals, newest
// first. Each source is read with the same bound and limit and the merge
// keeps the newest Limit items, so paging with Before never skips an item.
func (s *Store) Timeline(ctx context.Context, q alinea.TimelineQuery) ([]alinea.TimelineItem, error) {
	if _, err := s.Contact(ctx, q.ContactID); err != nil {
		return nil, err
	}
	n := limit(q.Limit, 50, 500)
	before := int64(1<<62 - 1)
	if !q.Before.IsZero() {
		before = ms(q.Before)
	}
	var items []alinea.TimelineItem
	add := func(kind string, rows *sql.Rows, scan func(*sql.Rows) (int64, int64, any, error)) error {
		defer rows.Close()
		for rows.Next() {
			id, at, v, err := scan(rows)
			if err != nil {
				return err
			}
			b, err := json.Marshal(v)
			if err != nil {
				return err
			}
			items = append(items, alinea.TimelineItem{Kind: kind, At: fromMS(at), ID: id, Data: b})
		}
		return rows.Err()
	}
	// bound restricts one source to the items after the cursor.
	bound := func(kind, col, idCol string, contact int64) (string, []any) {
		if q.AfterKind == "" {
			return col + " < ?", []any{contact, before}
		}
		k, ck := alinea.TimelineKindOrder[kind], alinea.TimelineKindOrder[q.AfterKind]
		switch {
		case k > ck:
			return col + " <= ?", []any{contact, before}
		case k == ck:
			return "(" + col + " < ? OR (" + col + " = ? AND " + idCol + " < ?))", []any{contact, before, before, q.AfterID}
		}
		return col + " < ?", []any{contact, before}
	}
	lim := fmt.Sprintf(" LIMIT %d", n)
	cond, args := bound("event", "occurred_at", "id", q.ContactID)
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT `+eventColumns+` FROM events WHERE `+s.eventBuckets("")+`contact_id = ? AND `+cond+` ORDER BY occurred_at DESC, id DESC`+lim), args...)
	if err != nil {
		return nil, fmt.Errorf("timeline events: %w", err)
	}
	if err := add("event", rows, func(r *sql.Rows) (int64, int64, any, error) {
		e, err := scanEvent(r)
		return e.ID, ms(e.OccurredAt), e, err
	}); err != nil {
		return nil, fmt.Errorf("timeline events: %w", err)
	}
	cond, args = bound("transition", "at", "id", q.ContactID)
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT id, contact_id, from_stage, to_stage, at, actor_type, actor_user_id, agreement_version, reason, why
		FROM stage_transitions WHERE contact_id = ? AND `+cond+` ORDER BY at DESC, id DESC`+lim), args...)
	if err != nil {
		return nil, fmt.Errorf("timeline transitions: %w", err)
	}
	if err := add("transition", rows, func(r *sql.Rows) (int64, int64, any, error) {
		t, err := scanTransition(r)
		return t.ID, ms(t.At), t, err
	}); err != nil {
		return nil, fmt.Errorf("timeline transitions: %w", err)
	}
	cond, args = bound("note", "created_at", "id", q.ContactID)
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT id, contact_id, author_id, body, created_at FROM notes WHERE contact_id = ? AND `+cond+` ORDER BY created_at DESC, id DESC`+lim), args...)
	if err != nil {
		return nil, fmt.Errorf("timeline notes: %w", err)
	}
	if err := add("note", rows, func(r *sql.Rows) (int64, int64, any, error) {
		var nt alinea.Note
		var at int64
		err := r.Scan(&nt.ID, &nt.ContactID, &nt.AuthorID, &nt.Body, &at)
		nt.CreatedAt = fromMS(at)
		return nt.ID, at, nt, err
	}); err != nil {
		return nil, fmt.Errorf("timeline notes: %w", err)
	}
	dealCond, args := bound("deal", "h.at", "h.id", q.ContactID)
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT h.id, h.deal_id, d.name, h.from_stage_id, h.to_stage_id, p.name, h.at, h.actor_user_id, h.reason
		FROM deal_stage_history h JOIN deal_contacts dc ON dc.deal_id = h.deal_id JOIN deals d ON d.id = h.deal_id JOIN pipeline_stages p ON p.id = h.to_stage_id
		WHERE dc.contact_id = ? AND `+dealCond+` ORDER BY h.at DESC, h.id DESC`+lim), args...)
	if err != nil {
		return nil, fmt.Errorf("timeline deals: %w", err)
	}
	if err := add("deal", rows, func(r *sql.Rows) (int64, int64, any, error) {
		var v struct {
			ID          int64     `json:"id"`
			DealID      int64     `json:"deal_id"`
			DealName    string    `json:"deal_name"`
			FromStageID int64     `json:"from_stage_id,omitempty"`
			ToStageID   int64     `json:"to_stage_id"`
			ToStage     string    `json:"to_stage"`
			At          time.Time `json:"at"`
			ActorUserID int64     `json:"actor_user_id,omitempty"`
			Reason      string    `json:"reason,omitempty"`
		}
		var from, actor sql.NullInt64
		var at int64
		err := r.Scan(&v.ID, &v.DealID, &v.DealName, &from, &v.ToStageID, &v.ToStage, &at, &actor, &v.Reason)
		v.FromStageID, v.ActorUserID, v.At = from.Int64, actor.Int64, fromMS(at)
		return v.ID, at, v, err
	}); err != nil {
		return nil, fmt.Errorf("timeline deals: %w", err)
	}
	sortTimeline(items)
	if len(items) > n {
		items = items[:n]
	}
	return items, nil
}

func sortTimeline(items []alinea.TimelineItem) {
	kindOrder := alinea.TimelineKindOrder
	sortSlice(items, func(a, b alinea.TimelineItem) bool {
		if !a.At.Equal(b.At) {
			return a.At.After(b.At)
		}
		if a.Kind != b.Kind {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		return a.ID > b.ID
	})
}
