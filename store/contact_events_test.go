package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestContactEventReadsUseBucketIndex checks SQLite's plans for the shapes
// of query that read a contact's events (migration 00021): each must look
// the contact up in events_contact_bucket, never scan the events table —
// a single contact, a range of contacts, a join on the contact (SLA
// touches), a correlated sub-select (the rejection report) and the delete
// of a contact's events.
func TestContactEventReadsUseBucketIndex(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "plans.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)
		INSERT INTO events (message_id, type, contact_id, occurred_at, received_at) SELECT 'x' || i, 'track', i % 5000, i, i FROM n`); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"contact": `SELECT type, name, occurred_at FROM events WHERE ` + s.eventBuckets("") + `contact_id = ? ORDER BY occurred_at, id`,
		"range":   `SELECT contact_id, type FROM events WHERE ` + s.eventBuckets("") + `contact_id >= ? AND contact_id <= ? ORDER BY contact_id, occurred_at`,
		"join": `SELECT k.id, count(*) FROM sla_clocks k ` + s.joinContactEvents("e") + `e.contact_id = k.contact_id AND e.occurred_at >= k.started_at
			WHERE k.stopped_at IS NULL GROUP BY k.id`,
		"correlated":  `SELECT a.id, (SELECT e.utm_campaign FROM events e WHERE ` + s.eventBuckets("e.") + `e.contact_id = a.contact_id ORDER BY e.occurred_at LIMIT 1) FROM assignments a`,
		"events list": `SELECT id FROM events WHERE ` + s.eventBuckets("") + `contact_id = ? ORDER BY id DESC LIMIT 51`,
		"timeline":    `SELECT id FROM events WHERE ` + s.eventBuckets("") + `contact_id = ? AND occurred_at < ? ORDER BY occurred_at DESC, id DESC LIMIT 50`,
		"delete":      `DELETE FROM events WHERE bucket IN (SELECT bucket FROM event_buckets) AND contact_id = ?`, // the trigger's
	} {
		rows, err := s.db.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, 1, 2)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		all := strings.Join(plan, "; ")
		if !strings.Contains(all, "events_contact_bucket") || strings.Contains(all, "SCAN events") || strings.Contains(all, "SCAN e ") || strings.HasSuffix(all, "SCAN e") {
			t.Errorf("%s: plan %q, want a search of events_contact_bucket", name, all)
		}
	}
}

// TestEventBucketsFollowIngestion stores events on both sides of a bucket
// boundary, and one by SQL in a later bucket: the buckets are recorded,
// and the contact's events in them are found by its timeline, its
// activity and the delete of the contact.
func TestEventBucketsFollowIngestion(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "buckets.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ingest := func(ids ...string) {
		t.Helper()
		msgs := make([]alinea.Message, len(ids))
		for i, id := range ids {
			msgs[i] = alinea.Message{Type: "track", MessageID: id, UserID: "u1", Event: "Seen", ReceivedAt: time.Now()}
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
	}
	ingest("a")
	// The next events get ids 65,535 and 65,536: the last of bucket 0 and
	// the first of bucket 1.
	if _, err := s.db.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = 65534 WHERE name = 'events'`); err != nil {
		t.Fatal(err)
	}
	ingest("b", "c")
	var buckets string
	if err := s.db.QueryRowContext(ctx, `SELECT group_concat(bucket) FROM (SELECT bucket FROM event_buckets ORDER BY bucket)`).Scan(&buckets); err != nil || buckets != "0,1" {
		t.Fatalf("event buckets %q (%v), want 0,1", buckets, err)
	}
	// Events inserted by SQL, not by ingestion, have their bucket
	// recorded as well.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events (id, message_id, type, name, contact_id, occurred_at, received_at)
		SELECT 3 * 65536 + 5, 'sql', 'track', 'Seen', id, 0, 0 FROM contacts WHERE external_id = 'u1'`); err != nil {
		t.Fatal(err)
	}
	var contact int64
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM contacts WHERE external_id = 'u1'`).Scan(&contact); err != nil {
		t.Fatal(err)
	}
	page, err := s.Timeline(ctx, alinea.TimelineQuery{ContactID: contact, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	events := 0
	for _, item := range page {
		if item.Kind == "event" {
			events++
		}
	}
	if events != 4 {
		t.Fatalf("timeline shows %d events, want 4", events)
	}
	acts, err := s.Activity(ctx, contact)
	if err != nil || len(acts) != 1 || acts[0].Count != 4 {
		t.Fatalf("activity %+v (%v), want 4 Seen", acts, err)
	}
	if err := s.DeleteContact(ctx, contact); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM events`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d events left after deleting their contact (%v)", left, err)
	}
}
