package store

import (
	"context"
	"database/sql"
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
	var group int
	tests := []struct {
		name  string
		run   func() []bool
		fresh []bool
	}{
		{"new ids, one repeated", func() []bool { return fresh("a", "b", "a") }, []bool{true, true, false}},
		{"known ids", func() []bool { return fresh("b", "a") }, []bool{false, false}},
		{"a rolled-back request", func() []bool {
			mark := d.mark()
			fresh("c", "d")
			d.forget(mark)
			return fresh("c", "a")
		}, []bool{true, false}},
		{"a rolled-back group", func() []bool {
			group = d.mark()
			fresh("e", "f")
			d.forget(group)
			return fresh("e", "c")
		}, []bool{true, false}},
	}
	for _, tt := range tests {
		if got := tt.run(); !slices.Equal(got, tt.fresh) {
			t.Fatalf("%s: fresh %v, want %v", tt.name, got, tt.fresh)
		}
	}
	if want := []string{"a", "b", "c", "e"}; !slices.Equal(d.ids, want) {
		t.Fatalf("ids in memory %v, want %v", d.ids, want)
	}
}

// TestMessageIDsMoveInChunks: a move is written a chunk at a time, and
// until its last chunk the table is not said to cover the events and the
// ids stay in memory, so an interrupted move loses nothing; ids stored
// during the move wait for the next one.
func TestMessageIDsMoveInChunks(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "chunks.db"), Options{moveIDsIdle: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range []string{"e4", "e2", "e5", "e1", "e3"} {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO events (message_id, type, occurred_at, received_at) VALUES (?, 'track', 0, 0)`, id); err != nil {
			t.Fatal(err)
		}
	}
	d := newMessageIDs()
	d.chunk = 2
	inTx := func(f func(tx *sql.Tx)) {
		t.Helper()
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		f(tx)
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	fresh := func(ids ...string) (got []bool) {
		t.Helper()
		inTx(func(tx *sql.Tx) {
			var err error
			if got, err = d.fresh(ctx, tx, ids, nil); err != nil {
				t.Fatal(err)
			}
		})
		return got
	}
	table := func() (ids []string, through int64) {
		t.Helper()
		rows, err := s.db.QueryContext(ctx, `SELECT message_id FROM event_message_ids ORDER BY message_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if err := s.db.QueryRowContext(ctx, `SELECT event_id FROM event_message_id_index`).Scan(&through); err != nil {
			t.Fatal(err)
		}
		return ids, through
	}
	inTx(func(tx *sql.Tx) {
		last, err := lastEventID(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.catchUp(ctx, tx, last); err != nil {
			t.Fatal(err)
		}
	})
	d.startMove()
	if err := d.moveChunk(ctx, s.db); err != nil {
		t.Fatal(err)
	}
	if ids, through := table(); !slices.Equal(ids, []string{"e1", "e2"}) || through != 0 {
		t.Fatalf("after one chunk: table %v covering events up to %d, want e1, e2 and 0", ids, through)
	}
	if got := fresh("e3", "e1", "n1"); !slices.Equal(got, []bool{false, false, true}) {
		t.Fatalf("during the move: fresh %v, want e3 and e1 known, n1 new", got)
	}
	for d.movingIDs() {
		if err := d.moveChunk(ctx, s.db); err != nil {
			t.Fatal(err)
		}
	}
	if ids, through := table(); !slices.Equal(ids, []string{"e1", "e2", "e3", "e4", "e5"}) || through != 5 {
		t.Fatalf("after the move: table %v covering events up to %d, want e1-e5 and 5", ids, through)
	}
	if d.moves.Load() != 1 || len(d.recent) != 1 || !slices.Equal(d.ids, []string{"n1"}) {
		t.Fatalf("after the move: %d moves, %d ids in memory (%v), want 1 move and n1 alone", d.moves.Load(), len(d.recent), d.ids)
	}
	if got := fresh("e5", "n1", "n2"); !slices.Equal(got, []bool{false, false, true}) {
		t.Fatalf("after the move: fresh %v, want e5 and n1 known, n2 new", got)
	}
}
