package store_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// postgresOnly opens a fresh PostgreSQL store, or skips when the run has
// none (storetest.Backends fails instead when CI requires it).
func postgresOnly(t *testing.T) *store.Store {
	t.Helper()
	for _, b := range storetest.Backends(t) {
		if b == store.Postgres {
			return storetest.Open(t, b, store.Options{})
		}
	}
	t.Skip("PostgreSQL only; ALINEA_TEST_POSTGRES is not set")
	return nil
}

// TestActivityDeltasFold follows PostgreSQL's activity deltas: counted by
// Activity before and after a fold, removed with their contact, and folded
// exactly once while batches keep coming.
func TestActivityDeltasFold(t *testing.T) {
	ctx := context.Background()
	s := postgresOnly(t)
	db, _ := s.Handles()
	n := 0
	ingest := func(msgs ...alinea.Message) {
		t.Helper()
		for i := range msgs {
			n++
			msgs[i].MessageID = fmt.Sprintf("m%d", n)
			msgs[i].ReceivedAt = time.Now()
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
	}
	count := func(query string, args ...any) int {
		t.Helper()
		var c int
		if err := db.QueryRowContext(ctx, query, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	contact := func(user string) int64 {
		t.Helper()
		return int64(count(`SELECT id FROM contacts WHERE external_id = $1`, user))
	}
	want := func(step string, id int64, w map[string]int64) {
		t.Helper()
		acts, err := s.Activity(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, a := range acts {
			got[a.EventType] = a.Count
		}
		if fmt.Sprint(got) != fmt.Sprint(w) {
			t.Fatalf("%s: activity %v, want %v", step, got, w)
		}
	}
	track := func(user, event string) alinea.Message {
		return alinea.Message{Type: "track", UserID: user, Event: event}
	}
	fold := func() int {
		t.Helper()
		moved, err := s.FoldActivity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return moved
	}
	fold() // what the background fold may not have reached yet

	ingest(track("u1", "Seen"), track("u1", "Seen"), track("u2", "Other"))
	ingest(track("u1", "Seen"), alinea.Message{Type: "page", UserID: "u1", Event: "Precios"})
	u1, u2 := contact("u1"), contact("u2")
	if c := count(`SELECT count(*) FROM contact_activity`); c != 0 {
		t.Fatalf("%d summary rows written by ingestion; it should append deltas", c)
	}
	want("before a fold", u1, map[string]int64{"Seen": 3, "page": 1})
	if moved := fold(); moved != 4 {
		t.Fatalf("fold moved %d delta rows, want 4 (two batches' u1 Seen, u1 page, u2 Other)", moved)
	}
	if c := count(`SELECT count(*) FROM contact_activity_deltas`); c != 0 {
		t.Fatalf("%d deltas left after a fold", c)
	}
	want("after a fold", u1, map[string]int64{"Seen": 3, "page": 1})
	ingest(track("u1", "Seen"))
	want("folded and pending", u1, map[string]int64{"Seen": 4, "page": 1})

	// A contact deleted with deltas pending takes them along.
	ingest(track("u2", "Other"))
	if err := s.DeleteContact(ctx, u2); err != nil {
		t.Fatal(err)
	}
	if c := count(`SELECT count(*) FROM contact_activity_deltas WHERE contact_id = $1`, u2) + count(`SELECT count(*) FROM contact_activity WHERE contact_id = $1`, u2); c != 0 {
		t.Fatalf("%d activity rows of the deleted contact", c)
	}

	// Batches and folds at once: every event counts once.
	const writers, batches, users = 6, 15, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers+1)
	stop := make(chan struct{})
	folds := make(chan int, 1)
	go func() {
		runs := 0
		for {
			select {
			case <-stop:
				folds <- runs
				return
			default:
			}
			if _, err := s.FoldActivity(ctx); err != nil {
				errs <- err
			}
			runs++
		}
	}()
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				msgs := make([]alinea.Message, 0, users)
				for u := range users {
					msgs = append(msgs, alinea.Message{Type: "track", UserID: fmt.Sprintf("c%d", u), Event: "Load",
						MessageID: fmt.Sprintf("w%d-b%d-u%d", w, b, u), ReceivedAt: time.Now()})
				}
				if _, err := s.Ingest(ctx, 0, msgs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if runs := <-folds; runs < 2 {
		t.Fatalf("only %d folds ran beside the batches", runs)
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for u := range users {
		want(fmt.Sprintf("c%d while pending", u), contact(fmt.Sprintf("c%d", u)), map[string]int64{"Load": writers * batches})
	}
	fold()
	for u := range users {
		id := contact(fmt.Sprintf("c%d", u))
		want(fmt.Sprintf("c%d folded", u), id, map[string]int64{"Load": writers * batches})
		if c := count(`SELECT count(*) FROM contact_activity WHERE contact_id = $1`, id); c != 1 {
			t.Fatalf("c%d has %d summary rows, want 1", u, c)
		}
	}
}

// TestActivityDeltasFoldInBackground checks that the store folds the
// deltas itself: at start (what an earlier run left) and once ingestion
// pauses.
func TestActivityDeltasFoldInBackground(t *testing.T) {
	ctx := context.Background()
	s := postgresOnly(t)
	db, _ := s.Handles()
	for i, step := range []string{"first", "after a pause"} {
		msgs := []alinea.Message{{Type: "track", UserID: "u1", Event: "Seen", MessageID: fmt.Sprintf("bg%d", i), ReceivedAt: time.Now()}}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(15 * time.Second)
		for {
			var pending, count int
			if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM contact_activity_deltas), (SELECT COALESCE(sum(count), 0) FROM contact_activity)`).Scan(&pending, &count); err != nil {
				t.Fatal(err)
			}
			if pending == 0 && count == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: after 15 s %d deltas pending and %d events counted; the fold did not run", step, pending, count)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestActivityDeltasMigration takes PostgreSQL's migration 00021 down and
// up on a database with deltas pending: down folds them into the
// summaries before the table goes, and deleting a contact works both ways.
func TestActivityDeltasMigration(t *testing.T) {
	ctx := context.Background()
	s := postgresOnly(t)
	db, _ := s.Handles()
	if _, err := s.Ingest(ctx, 0, []alinea.Message{
		{Type: "track", MessageID: "t1", UserID: "u1", Event: "Demo Requested"},
		{Type: "track", MessageID: "t2", UserID: "u1", Event: "Demo Requested"},
		{Type: "track", MessageID: "t3", UserID: "u2", Event: "Demo Requested"},
	}); err != nil {
		t.Fatal(err)
	}
	var u1, u2 int64
	if err := db.QueryRowContext(ctx, `SELECT (SELECT id FROM contacts WHERE external_id = 'u1'), (SELECT id FROM contacts WHERE external_id = 'u2')`).Scan(&u1, &u2); err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("migrations/postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 18); err != nil {
		t.Fatalf("down to 18: %v", err)
	}
	var count int64
	if err := db.QueryRowContext(ctx, `SELECT count FROM contact_activity WHERE contact_id = $1 AND event_type = 'Demo Requested'`, u1).Scan(&count); err != nil || count != 2 {
		t.Fatalf("down to 18: u1's summary %d (%v), want the 2 pending events folded", count, err)
	}
	if err := s.DeleteContact(ctx, u2); err != nil {
		t.Fatalf("delete a contact at 18: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if _, err := s.Ingest(ctx, 0, []alinea.Message{{Type: "track", MessageID: "t4", UserID: "u1", Event: "Demo Requested"}}); err != nil {
		t.Fatal(err)
	}
	acts, err := s.Activity(ctx, u1)
	if err != nil || len(acts) != 1 || acts[0].Count != 3 {
		t.Fatalf("after up: activity %+v (%v), want 3 Demo Requested", acts, err)
	}
	if err := s.DeleteContact(ctx, u1); err != nil {
		t.Fatalf("delete a contact after up: %v", err)
	}
	var left int
	if err := db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM contact_activity_deltas) + (SELECT count(*) FROM contact_activity)`).Scan(&left); err != nil || left != 0 {
		t.Fatalf("after deleting both contacts: %d activity rows left (%v)", left, err)
	}
}
