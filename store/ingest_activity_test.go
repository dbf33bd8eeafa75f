package store

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestActivityWrittenInRuns follows SQLite's activity summaries written in
// runs: what Activity shows before and after a run, a contact deleted while
// its activity was pending, a start with events the summaries do not count,
// and anonymous events merged on identify, older and newer than the run.
func TestActivityWrittenInRuns(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "activity.db")
	var s *Store
	open := func() {
		t.Helper()
		var err error
		// No idle run during the test: runs happen after a group that
		// brings the pending activity to 3 events, and when the store
		// closes.
		if s, err = Open(ctx, path, Options{moveIDsIdle: time.Hour, activityRun: 3}); err != nil {
			t.Fatal(err)
		}
	}
	reopen := func() {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		open()
	}
	open()
	defer func() { s.Close() }()
	n := 0
	ingest := func(msgs ...alinea.Message) {
		t.Helper()
		for i := range msgs {
			n++
			msgs[i].MessageID = "m" + strconv.Itoa(n)
			msgs[i].ReceivedAt = time.Now()
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
	}
	contact := func(user string) int64 {
		t.Helper()
		var id int64
		if err := s.db.QueryRowContext(ctx, `SELECT id FROM contacts WHERE external_id = ?`, user).Scan(&id); err != nil {
			t.Fatalf("contact %s: %v", user, err)
		}
		return id
	}
	summary := func(id int64) map[string]int64 {
		t.Helper()
		acts, err := s.Activity(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, a := range acts {
			out[a.EventType] = a.Count
		}
		return out
	}
	rows := func(where string) int {
		t.Helper()
		var c int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM contact_activity a WHERE `+where).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	want := func(step string, id int64, w map[string]int64) {
		t.Helper()
		got := summary(id)
		if len(got) != len(w) {
			t.Fatalf("%s: activity %v, want %v", step, got, w)
		}
		for k, v := range w {
			if got[k] != v {
				t.Fatalf("%s: activity %v, want %v", step, got, w)
			}
		}
	}
	track := func(user, event string) alinea.Message {
		return alinea.Message{Type: "track", UserID: user, Event: event}
	}

	ingest(track("u1", "Seen"), track("u2", "Other"))
	if c := rows("true"); c != 0 {
		t.Fatalf("%d summary rows written at once; the writer should hold them for a run", c)
	}
	u1, u2 := contact("u1"), contact("u2")
	want("before a run", u1, map[string]int64{"Seen": 1})
	// The third event brings a run.
	ingest(track("u1", "Seen"))
	// u2 is deleted while activity of its is pending: the next run must
	// not write it back.
	ingest(track("u2", "Other"))
	if err := s.DeleteContact(ctx, u2); err != nil {
		t.Fatal(err)
	}
	ingest(track("u1", "Seen"), alinea.Message{Type: "page", UserID: "u1", Event: "Precios"})
	want("between runs", u1, map[string]int64{"Seen": 3, "page": 1})
	reopen() // after the second run
	if c := rows("NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = a.contact_id)"); c != 0 {
		t.Fatalf("%d summary rows of the deleted contact", c)
	}
	if c := rows("contact_id = " + strconv.FormatInt(u1, 10)); c != 2 {
		t.Fatalf("%d summary rows of u1 after the run, want 2", c)
	}
	want("after a run", u1, map[string]int64{"Seen": 3, "page": 1})

	// A start with events the summaries do not count (a crash before the
	// run): they are shown, and the next run counts them once.
	if _, err := s.db.ExecContext(ctx, `DELETE FROM contact_activity; UPDATE contact_activity_index SET event_id = 0`); err != nil {
		t.Fatal(err)
	}
	reopen()
	want("after a lost run", u1, map[string]int64{"Seen": 3, "page": 1})
	ingest(track("u1", "Seen"))
	reopen()
	want("after the next run", u1, map[string]int64{"Seen": 4, "page": 1})
	if c := rows("contact_id = " + strconv.FormatInt(u1, 10)); c != 2 {
		t.Fatalf("%d summary rows of u1, want 2", c)
	}

	// Anonymous history merged on identify: a page counted by a run
	// already is written with the identify's batch, a newer one with the
	// next run; both count once.
	ingest(alinea.Message{Type: "page", AnonymousID: "anon-old", Event: "Blog"})
	reopen()
	ingest(alinea.Message{Type: "page", AnonymousID: "anon-old", Event: "Blog"})
	ingest(alinea.Message{Type: "identify", UserID: "u3", AnonymousID: "anon-old"})
	u3 := contact("u3")
	if c := rows("contact_id = " + strconv.FormatInt(u3, 10) + " AND event_type = 'page' AND count = 1"); c != 1 {
		t.Fatal("the merged page older than the run was not written with the identify")
	}
	want("after the merge", u3, map[string]int64{"page": 2, "identify": 1})
	reopen()
	want("after the merge and a run", u3, map[string]int64{"page": 2, "identify": 1})
}
