package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// ingestFixture wraps a store with the lookups the ingestion tests need.
type ingestFixture struct {
	t  *testing.T
	s  *store.Store
	at time.Time
}

func newIngestFixture(t *testing.T, b store.Backend) *ingestFixture {
	return &ingestFixture{t: t, s: storetest.Open(t, b, store.Options{}), at: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (f *ingestFixture) ingest(msgs ...alinea.Message) alinea.IngestResult {
	f.t.Helper()
	for i := range msgs {
		if msgs[i].ReceivedAt.IsZero() {
			msgs[i].ReceivedAt = f.at
		}
	}
	res, err := f.s.Ingest(context.Background(), 0, msgs)
	if err != nil {
		f.t.Fatal(err)
	}
	return res
}

func (f *ingestFixture) contacts() []alinea.Contact {
	f.t.Helper()
	cs, _, err := f.s.Contacts(context.Background(), alinea.ContactFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	return cs
}

func (f *ingestFixture) contact(userID string) alinea.Contact {
	f.t.Helper()
	for _, c := range f.contacts() {
		if c.ExternalID == userID {
			return c
		}
	}
	f.t.Fatalf("no contact with user id %q", userID)
	return alinea.Contact{}
}

func (f *ingestFixture) events() map[string]alinea.Event {
	f.t.Helper()
	evs, _, err := f.s.Events(context.Background(), alinea.EventFilter{Limit: 1000})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]alinea.Event{}
	for _, e := range evs {
		out[e.MessageID] = e
	}
	return out
}

func (f *ingestFixture) activity(contact int64) map[string]int64 {
	f.t.Helper()
	acts, err := f.s.Activity(context.Background(), contact)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, a := range acts {
		out[a.EventType] = a.Count
	}
	return out
}

func identifyCall(id, user, anon, traits string) alinea.Message {
	return alinea.Message{Type: "identify", MessageID: id, UserID: user, AnonymousID: anon, Traits: json.RawMessage(traits)}
}

func trackCall(id, user, event string) alinea.Message {
	return alinea.Message{Type: "track", MessageID: id, UserID: user, Event: event}
}

func TestIngestCountsDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		f := newIngestFixture(t, b)
		// A message id repeated within the batch is stored once.
		res := f.ingest(trackCall("a", "u1", "Seen"), trackCall("b", "u1", "Seen"), trackCall("a", "u1", "Seen"))
		if res.Stored != 2 || res.Duplicates != 1 {
			t.Fatalf("first batch: %+v, want 2 stored and 1 duplicate", res)
		}
		// A batch repeating stored events stores only the new ones.
		res = f.ingest(trackCall("b", "u1", "Seen"), trackCall("c", "u1", "Seen"), trackCall("a", "u1", "Seen"), trackCall("d", "u1", "Other"))
		if res.Stored != 2 || res.Duplicates != 2 {
			t.Fatalf("second batch: %+v, want 2 stored and 2 duplicates", res)
		}
		// A batch of nothing but stored events stores nothing.
		res = f.ingest(trackCall("c", "u1", "Seen"), trackCall("d", "u1", "Other"))
		if res.Stored != 0 || res.Duplicates != 2 {
			t.Fatalf("third batch: %+v, want 2 duplicates", res)
		}
		u1 := f.contact("u1")
		if got := f.activity(u1.ID); got["Seen"] != 3 || got["Other"] != 1 {
			t.Fatalf("activity %v, want 3 Seen and 1 Other", got)
		}
		if n := len(f.events()); n != 4 {
			t.Fatalf("%d events stored, want 4", n)
		}
	})
}

// TestIngestNewContactsInOneBatch covers the batch-wide writing of new
// contacts: later calls in the batch must find, update and link the
// contacts earlier calls made, before those are written.
func TestIngestNewContactsInOneBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		f := newIngestFixture(t, b)
		f.ingest(
			alinea.Message{Type: "page", MessageID: "p0", AnonymousID: "cookie-9", Event: "Pricing"},
		)
		f.ingest(
			trackCall("t1", "u1", "Trial Started"), // makes u1 without traits
			identifyCall("i1", "u1", "", `{"email":"Ana@Acme.es","firstName":"Ana"}`),
			identifyCall("i2", "u2", "cookie-9", `{"email":"bea@acme.es","title":"CMO"}`),
			alinea.Message{Type: "group", MessageID: "g2", UserID: "u2", GroupID: "acme", Traits: json.RawMessage(`{"name":"Acme"}`)},
			alinea.Message{Type: "page", MessageID: "p1", AnonymousID: "cookie-9", Event: "Pricing"},
			identifyCall("i3", "", "cookie-3", `{"email":"carla@beta.es"}`), // no user id: found or made by email
			identifyCall("i4", "u4", "", `{"email":"carla@beta.es"}`),       // claims the contact made by email
			alinea.Message{Type: "alias", MessageID: "a4", UserID: "u4", PreviousID: "device-4"},
		)
		u1, u2, u4 := f.contact("u1"), f.contact("u2"), f.contact("u4")
		if u1.Email != "ana@acme.es" || u1.FirstName != "Ana" {
			t.Errorf("u1 %+v: identify after track did not apply its traits", u1)
		}
		if u2.Email != "bea@acme.es" || u2.JobTitle != "CMO" || u2.AccountID == 0 {
			t.Errorf("u2 %+v: want its traits and its account", u2)
		}
		if u4.Email != "carla@beta.es" {
			t.Errorf("u4 %+v: want the contact made by email for carla", u4)
		}
		if n := len(f.contacts()); n != 3 {
			t.Errorf("%d contacts, want 3", n)
		}
		evs := f.events()
		for id, want := range map[string]int64{"t1": u1.ID, "i1": u1.ID, "i2": u2.ID, "g2": u2.ID, "p0": u2.ID, "p1": u2.ID, "i3": u4.ID, "i4": u4.ID, "a4": u4.ID} {
			if got := evs[id].ContactID; got != want {
				t.Errorf("event %s has contact %d, want %d", id, got, want)
			}
		}
		if got := f.activity(u2.ID); got["page"] != 2 || got["identify"] != 1 || got["group"] != 1 {
			t.Errorf("u2 activity %v, want 2 pages (one merged from before), 1 identify, 1 group", got)
		}
		// Each new contact has its first transition.
		for _, c := range []alinea.Contact{u1, u2, u4} {
			hist, err := f.s.Transitions(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 1 || hist[0].To != alinea.StageSubscriber || string(hist[0].Why) != `{"event":"created"}` {
				t.Errorf("contact %d history %+v, want one creation", c.ID, hist)
			}
		}
		// The links hold for later batches.
		f.ingest(alinea.Message{Type: "page", MessageID: "p2", AnonymousID: "device-4"})
		if got := f.events()["p2"].ContactID; got != u4.ID {
			t.Errorf("page from the aliased device has contact %d, want %d", got, u4.ID)
		}
	})
}

// TestIngestEmailTakenEarlierInBatch: an identify that gives a known user
// an address makes it taken for the rest of the batch.
func TestIngestEmailTakenEarlierInBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		f := newIngestFixture(t, b)
		f.ingest(trackCall("t0", "u1", "Seen"))
		f.ingest(
			identifyCall("i1", "u1", "", `{"email":"shared@acme.es"}`),
			identifyCall("i2", "u2", "", `{"email":"shared@acme.es","firstName":"Otra"}`),
		)
		u1, u2 := f.contact("u1"), f.contact("u2")
		if u1.Email != "shared@acme.es" || u2.Email != "" || u2.FirstName != "Otra" || u1.ID == u2.ID {
			t.Fatalf("u1 %+v, u2 %+v: the address belongs to u1", u1, u2)
		}
	})
}

// TestIngestConcurrentActivity sends many batches about the same contacts
// at once: on SQLite they are group-committed and their activity summed
// per group, on PostgreSQL they run in parallel transactions.
func TestIngestConcurrentActivity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		f := newIngestFixture(t, b)
		const workers, batches, users = 8, 5, 4
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range batches {
					var msgs []alinea.Message
					for u := range users {
						msgs = append(msgs, alinea.Message{Type: "track", MessageID: fmt.Sprintf("w%d-b%d-u%d", w, n, u), UserID: fmt.Sprintf("u%d", u),
							Event: "Seen", Timestamp: f.at.Add(time.Duration(w*batches+n) * time.Minute), ReceivedAt: f.at})
					}
					if _, err := f.s.Ingest(context.Background(), 0, msgs); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for u := range users {
			c := f.contact(fmt.Sprintf("u%d", u))
			acts, err := f.s.Activity(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != 1 || acts[0].Count != workers*batches || !acts[0].FirstAt.Equal(f.at) ||
				!acts[0].LastAt.Equal(f.at.Add(time.Duration(workers*batches-1)*time.Minute)) {
				t.Errorf("u%d activity %+v, want %d Seen from %v to %v", u, acts, workers*batches, f.at, f.at.Add(time.Duration(workers*batches-1)*time.Minute))
			}
		}
		if n := len(f.contacts()); n != users {
			t.Fatalf("%d contacts, want %d", n, users)
		}
	})
}
