package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// TestIngestConcurrentFirstSight sends the first calls of the same new
// people from many batches at once: each batch's look-up (on SQLite made
// before the batch reaches the writer) finds none of them, yet every
// person must end up with one contact holding all their events, their
// anonymous ids and their email.
func TestIngestConcurrentFirstSight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		f := newIngestFixture(t, b)
		const workers, people = 12, 6
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		start := make(chan struct{})
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var msgs []alinea.Message
				for p := range people {
					user, anon := fmt.Sprintf("new-%d", p), fmt.Sprintf("anon-%d-%d", p, w)
					msgs = append(msgs,
						alinea.Message{Type: "page", MessageID: fmt.Sprintf("w%d-p%d-page", w, p), AnonymousID: anon, Event: "Pricing", ReceivedAt: f.at},
						alinea.Message{Type: "identify", MessageID: fmt.Sprintf("w%d-p%d-id", w, p), UserID: user, AnonymousID: anon,
							Traits: []byte(fmt.Sprintf(`{"email":"new%d@example.es","firstName":"Marta"}`, p)), ReceivedAt: f.at},
						alinea.Message{Type: "track", MessageID: fmt.Sprintf("w%d-p%d-track", w, p), UserID: user, Event: "Trial Started", ReceivedAt: f.at})
				}
				<-start
				if _, err := f.s.Ingest(context.Background(), 0, msgs); err != nil {
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n := len(f.contacts()); n != people {
			t.Fatalf("%d contacts, want %d (one per person)", n, people)
		}
		evs := f.events()
		if len(evs) != workers*people*3 {
			t.Fatalf("%d events stored, want %d", len(evs), workers*people*3)
		}
		for p := range people {
			c := f.contact(fmt.Sprintf("new-%d", p))
			if c.Email != fmt.Sprintf("new%d@example.es", p) {
				t.Errorf("new-%d has email %q", p, c.Email)
			}
			for w := range workers {
				for _, kind := range []string{"page", "id", "track"} {
					id := fmt.Sprintf("w%d-p%d-%s", w, p, kind)
					if got := evs[id].ContactID; got != c.ID {
						t.Errorf("event %s belongs to contact %d, want %d", id, got, c.ID)
					}
				}
			}
			if act := f.activity(c.ID); act["Trial Started"] != workers || act["page"] != workers || act["identify"] != workers {
				t.Errorf("new-%d activity %v, want %d of each call", p, act, workers)
			}
		}
	})
}
