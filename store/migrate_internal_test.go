package store

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/alinea-crm/alinea"
)

// TestSQLiteEventForeignKeyMigration takes migrations 00019 and 00018 down
// and up again on a database with events: the rows survive both ways, the
// foreign keys come back down and go away up, the stored message ids are
// indexed, and deleting a contact still deletes its events and activity
// afterwards (by trigger instead of ON DELETE CASCADE).
func TestSQLiteEventForeignKeyMigration(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(ctx, 0, []alinea.Message{
		{Type: "identify", MessageID: "i1", UserID: "u1"},
		{Type: "track", MessageID: "t1", UserID: "u1", Event: "Demo Requested"},
		{Type: "track", MessageID: "t2", UserID: "u2", Event: "Demo Requested"},
	}); err != nil {
		t.Fatal(err)
	}
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub)
	if err != nil {
		t.Fatal(err)
	}
	foreignKeys := func(table string) int {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_list(?)`, table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	count := func(q string) int {
		t.Helper()
		var n int
		if err := s.db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if foreignKeys("events") != 0 || foreignKeys("contact_activity") != 0 {
		t.Fatal("events or contact_activity still has a foreign key after migrating up")
	}
	if _, err := p.DownTo(ctx, 17); err != nil {
		t.Fatalf("down to 17: %v", err)
	}
	if foreignKeys("events") != 1 || foreignKeys("contact_activity") != 1 {
		t.Fatalf("down to 17: foreign keys events %d, contact_activity %d, want 1 each", foreignKeys("events"), foreignKeys("contact_activity"))
	}
	if n := count(`SELECT count(*) FROM events`); n != 3 {
		t.Fatalf("down to 17: %d events, want 3", n)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if n := count(`SELECT count(*) FROM events`); n != 3 {
		t.Fatalf("up again: %d events, want 3", n)
	}
	// 00019 indexed the message ids of the events already stored.
	if n := count(`SELECT count(*) FROM event_message_ids WHERE message_id IN ('i1', 't1', 't2')`); n != 3 {
		t.Fatalf("up again: %d of 3 message ids indexed", n)
	}
	if n := count(`SELECT count(*) FROM event_message_id_index WHERE event_id = (SELECT max(id) FROM events)`); n != 1 {
		t.Fatal("up again: the index does not cover the last event")
	}
	res, err := s.Ingest(ctx, 0, []alinea.Message{{Type: "track", MessageID: "t2", UserID: "u2", Event: "Demo Requested"}})
	if err != nil || res.Duplicates != 1 {
		t.Fatalf("up again: ingesting t2 once more: %+v, %v; want a duplicate", res, err)
	}
	var id int64
	if err := s.db.QueryRowContext(ctx, `SELECT id FROM contacts WHERE external_id = 'u1'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteContact(ctx, id); err != nil {
		t.Fatal(err)
	}
	if n := count(`SELECT count(*) FROM events`); n != 1 {
		t.Fatalf("after deleting u1: %d events, want u2's 1", n)
	}
	if n := count(`SELECT count(*) FROM contact_activity a WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.contact_id)`); n != 0 {
		t.Fatalf("after deleting u1: %d activity rows of no contact", n)
	}
}
