package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func ptr[T any](v T) *T { return &v }

func TestContactLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		sales, err := s.CreateUser(ctx, alinea.NewUser{Email: "Ana@Example.com", Name: "Ana", Role: alinea.RoleSales, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		if sales.Email != "ana@example.com" {
			t.Errorf("email not normalised: %q", sales.Email)
		}
		c, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr(" Luis@ACME.es "), FirstName: ptr("Luis"), Country: ptr("es"), Properties: json.RawMessage(`{"plan":"pro"}`)}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		if c.Email != "luis@acme.es" || c.Country != "ES" || c.Stage != alinea.StageSubscriber || c.Mode != alinea.ModeInformation {
			t.Fatalf("unexpected contact %+v", c)
		}
		_, err = s.CreateContact(ctx, alinea.ContactFields{Email: ptr("LUIS@acme.es")}, alinea.Actor{Type: alinea.ActorAPI})
		if alinea.ErrorCode(err) != alinea.ECONFLICT || alinea.ErrorFields(err)["email"] == "" {
			t.Fatalf("duplicate email: got %v (%s)", err, alinea.ErrorCode(err))
		}

		user := alinea.Actor{Type: alinea.ActorUser, UserID: sales.ID, Role: sales.Role}
		if _, err := s.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageSQL, Actor: user}); err != nil {
			t.Fatal(err)
		}
		_, err = s.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageMQL, Actor: user})
		if alinea.ErrorCode(err) != alinea.EINVALID {
			t.Fatalf("backwards move: got %v", err)
		}
		_, err = s.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageRecycled, Actor: user})
		if alinea.ErrorFields(err)["reason"] == "" {
			t.Fatalf("recycle without reason: got %v", err)
		}
		if _, err := s.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageRecycled, Reason: "no_budget", Actor: user, Why: json.RawMessage(`{"reason_code":"no_budget"}`)}); err != nil {
			t.Fatal(err)
		}
		hist, err := s.Transitions(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []alinea.Stage
		for _, h := range hist {
			got = append(got, h.To)
		}
		want := []alinea.Stage{alinea.StageSubscriber, alinea.StageSQL, alinea.StageRecycled}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("history %v, want %v", got, want)
		}
		if hist[2].From != alinea.StageSQL || hist[2].Reason != "no_budget" || hist[2].Actor.UserID != sales.ID {
			t.Fatalf("last transition %+v", hist[2])
		}

		upd, err := s.UpdateContact(ctx, c.ID, alinea.ContactFields{LastName: ptr("García"), Properties: json.RawMessage(`{"plan":null,"seats":12}`)})
		if err != nil {
			t.Fatal(err)
		}
		var props map[string]any
		_ = json.Unmarshal(upd.Properties, &props)
		if upd.LastName != "García" || props["plan"] != nil || props["seats"] != float64(12) {
			t.Fatalf("update: %+v props %v", upd, props)
		}
		if _, err := s.AddNote(ctx, c.ID, sales.ID, "Llamada: interesado en plan anual"); err != nil {
			t.Fatal(err)
		}
		tl, err := s.Timeline(ctx, alinea.TimelineQuery{ContactID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		if len(tl) != 4 || tl[0].Kind != "note" {
			t.Fatalf("timeline: %d items, first %+v", len(tl), tl)
		}
	})
}

func TestContactsPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		for i := range 7 {
			email := string(rune('a'+i)) + "@example.com"
			st := alinea.StageLead
			if i%2 == 0 {
				st = alinea.StageMQL
			}
			if _, err := s.CreateContact(ctx, alinea.ContactFields{Email: &email, Stage: &st}, alinea.Actor{Type: alinea.ActorAPI}); err != nil {
				t.Fatal(err)
			}
		}
		var seen []int64
		var after int64
		for {
			page, next, err := s.Contacts(ctx, alinea.ContactFilter{Stage: alinea.StageMQL, Limit: 3, After: after})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				if c.Stage != alinea.StageMQL {
					t.Fatalf("filter leaked %s", c.Stage)
				}
				seen = append(seen, c.ID)
			}
			if next == 0 {
				break
			}
			after = next
		}
		if len(seen) != 4 {
			t.Fatalf("got %d mql contacts over pages, want 4", len(seen))
		}
	})
}

// TestTimelineCursorKeepsTies pages one item at a time through a timeline
// whose items share a millisecond: each must come exactly once.
func TestTimelineCursorKeepsTies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		at := time.Date(2027, 1, 5, 10, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return at }})
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: "n@example.com", Name: "N", Role: alinea.RoleSales, Password: "a long enough password"})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("tie@example.com")}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := s.AddNote(ctx, c.ID, u.ID, fmt.Sprintf("nota %d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Ingest(ctx, 0, []alinea.Message{
			{Type: "identify", MessageID: "t1", UserID: "tie", Traits: json.RawMessage(`{"email":"tie@example.com"}`), Timestamp: at},
			{Type: "track", MessageID: "t2", UserID: "tie", Event: "Trial Started", Timestamp: at},
		}); err != nil {
			t.Fatal(err)
		}
		all, err := s.Timeline(ctx, alinea.TimelineQuery{ContactID: c.ID, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 6 {
			t.Fatalf("timeline has %d items, want 6 (3 notes, 1 transition, 2 events)", len(all))
		}
		seen := map[string]bool{}
		q := alinea.TimelineQuery{ContactID: c.ID, Limit: 1}
		for range 10 {
			page, err := s.Timeline(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			it := page[0]
			key := fmt.Sprintf("%s/%d", it.Kind, it.ID)
			if seen[key] {
				t.Fatalf("%s came twice", key)
			}
			seen[key] = true
			q.Before, q.AfterKind, q.AfterID = it.At, it.Kind, it.ID
		}
		if len(seen) != 6 {
			t.Fatalf("paged through %d of 6 items: %v", len(seen), seen)
		}
	})
}
