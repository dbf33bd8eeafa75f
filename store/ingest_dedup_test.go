package store

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestMessageIDsStayDuplicates follows message ids through every place the
// duplicate check keeps them on SQLite: the writer's memory, the table the
// writer moves them to when idle, events written outside ingestion, and a
// restart with ids never moved.
func TestMessageIDsStayDuplicates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dedup.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	ingest := func(step string, wantStored, wantDuplicates int, ids ...string) {
		t.Helper()
		msgs := make([]alinea.Message, len(ids))
		for i, id := range ids {
			msgs[i] = alinea.Message{Type: "track", MessageID: id, UserID: "u1", Event: "Seen", ReceivedAt: time.Now()}
		}
		res, err := s.Ingest(ctx, 0, msgs)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if res.Stored != wantStored || res.Duplicates != wantDuplicates {
			t.Fatalf("%s: %+v, want %d stored and %d duplicates", step, res, wantStored, wantDuplicates)
		}
	}
	indexedThrough := func() int64 {
		t.Helper()
		var id int64
		if err := s.db.QueryRowContext(ctx, `SELECT event_id FROM event_message_id_index`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	lastEvent := func() int64 {
		t.Helper()
		var id int64
		if err := s.db.QueryRowContext(ctx, `SELECT max(id) FROM events`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	waitForMove := func(step string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for indexedThrough() != lastEvent() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the idle writer did not move the message ids into the table (indexed through %d, last event %d)", step, indexedThrough(), lastEvent())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	ingest("first batch", 2, 1, "a1", "a2", "a1")
	ingest("again, from memory", 1, 2, "a1", "a2", "b1")
	waitForMove("after b1")
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM event_message_ids WHERE message_id IN ('a1', 'a2', 'b1')`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("%d of a1, a2, b1 in event_message_ids (%v)", n, err)
	}
	ingest("again, from the table", 1, 3, "a1", "b1", "a2", "c1")

	// An event written outside ingestion counts too.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO events (message_id, type, occurred_at, received_at) VALUES ('x1', 'track', 0, 0)`); err != nil {
		t.Fatal(err)
	}
	ingest("an event written by SQL", 1, 1, "x1", "d1")

	// A writer that never idles long enough to move its ids, restarted
	// with ids it did not move, reads them in again.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{moveIDsIdle: time.Hour}); err != nil {
		t.Fatal(err)
	}
	ingest("before the restart", 1, 2, "c1", "x1", "f1")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(ctx, path, Options{moveIDsIdle: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if indexedThrough() == lastEvent() {
		t.Fatal("every message id was moved before the restart; the restart proves nothing")
	}
	ingest("after a restart", 1, 6, "c1", "x1", "d1", "f1", "a2", "b1", "e1")
}

// TestMessageIDLookUpBeforeAMove: a batch's message ids looked up in the
// table before the writer moved its memory there must be checked again,
// or an id that was only in memory at the look-up would be stored twice.
func TestMessageIDLookUpBeforeAMove(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "stale.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs := []alinea.Message{{Type: "track", MessageID: "m1", UserID: "u1", Event: "Seen", ReceivedAt: time.Now()}}
	if _, err := s.Ingest(ctx, 0, msgs); err != nil {
		t.Fatal(err)
	}
	batch := s.prepareBatch(0, slices.Clone(msgs))
	s.preResolve(ctx, batch)
	if batch.pre == nil || batch.pre.indexedIDs["m1"] {
		t.Fatalf("the look-up should have run and not found m1 in the table yet: %+v", batch.pre)
	}
	before := batch.pre.moves
	deadline := time.Now().Add(10 * time.Second)
	for s.ingest.ids.moves.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("the idle writer did not move the message ids")
		}
		time.Sleep(20 * time.Millisecond)
	}
	res, err := s.ingest.submit(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 0 || res.Duplicates != 1 {
		t.Fatalf("m1 after a move since its look-up: %+v, want a duplicate", res)
	}
}

// TestMessageIDsForget: ids added by a request or group that is rolled back
// are new again, those added before stay known.
func TestMessageIDsForget(t *testing.T) {
	ctx := context.Background()
	d := newMessageIDs()
	none := map[string]bool{}
	fresh := func(ids ...string) []bool {
		t.Helper()
		got, err := d.fresh(ctx, nil, ids, none)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	tests := []struct {
		name  string
		run   func() []bool
		fresh []bool
	}{
		{"new ids, one repeated", func() []bool { return fresh("a", "b", "a") }, []bool{true, true, false}},
		{"known ids", func() []bool { return fresh("b", "a") }, []bool{false, false}},
		{"a rolled-back request", func() []bool {
			mark := len(d.added)
			fresh("c", "d")
			d.forget(mark)
			return fresh("c", "a")
		}, []bool{true, false}},
		{"a committed group stays", func() []bool {
			d.committed(10)
			d.forget(0)
			return fresh("a", "b", "c")
		}, []bool{false, false, false}},
		{"a rolled-back group", func() []bool {
			fresh("e")
			d.forget(0)
			return fresh("e", "c")
		}, []bool{true, false}},
	}
	for _, tt := range tests {
		if got := tt.run(); !slices.Equal(got, tt.fresh) {
			t.Fatalf("%s: fresh %v, want %v", tt.name, got, tt.fresh)
		}
	}
}
