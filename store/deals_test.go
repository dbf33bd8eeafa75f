package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// stageIDs maps the seeded pipeline stages by name.
func stageIDs(t *testing.T, s *store.Store) map[string]int64 {
	t.Helper()
	stages, err := s.PipelineStages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, p := range stages {
		ids[p.Name] = p.ID
	}
	return ids
}

func TestPipelineStages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		s := storetest.Open(t, b, store.Options{})
		stages, err := s.PipelineStages(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			name string
			kind alinea.DealStatus
		}{{"discovery", alinea.DealOpen}, {"qualification", alinea.DealOpen}, {"proposal", alinea.DealOpen},
			{"negotiation", alinea.DealOpen}, {"won", alinea.DealWon}, {"lost", alinea.DealLost}}
		if len(stages) != len(want) {
			t.Fatalf("got %d stages, want %d", len(stages), len(want))
		}
		for i, w := range want {
			if stages[i].Name != w.name || stages[i].Kind != w.kind {
				t.Errorf("stage %d = %+v, want %s/%s", i, stages[i], w.name, w.kind)
			}
		}
	})
}

func TestDealLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
		clock := func() time.Time { return now }
		s := storetest.Open(t, b, store.Options{Now: clock})
		stages := stageIDs(t, s)
		seller, err := s.CreateUser(ctx, alinea.NewUser{Email: "sara@example.com", Name: "Sara", Role: alinea.RoleSales, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		actor := alinea.Actor{Type: alinea.ActorUser, UserID: seller.ID, Role: seller.Role}
		acc, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Acme"), Domain: ptr("acme.es")})
		if err != nil {
			t.Fatal(err)
		}
		c1, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("ana@acme.es")}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("luis@acme.es")}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}

		d, err := s.CreateDeal(ctx, alinea.DealFields{Name: ptr("Acme annual"), AccountID: &acc.ID, OwnerID: &seller.ID, Amount: ptr(int64(1200000)),
			Contacts: &[]alinea.DealContact{{ContactID: c1.ID, Role: "champion"}, {ContactID: c2.ID, Role: "economic buyer"}}}, actor)
		if err != nil {
			t.Fatal(err)
		}
		if d.StageID != stages["discovery"] || d.Status != alinea.DealOpen || d.Currency != "EUR" || d.ClosedAt != nil || len(d.Contacts) != 2 {
			t.Fatalf("new deal defaults: %+v", d)
		}
		got, err := s.Deal(ctx, d.ID)
		if err != nil || len(got.Contacts) != 2 || got.Contacts[0].Role != "champion" {
			t.Fatalf("read deal: %+v %v", got, err)
		}

		// The stage only moves through MoveDeal.
		_, err = s.UpdateDeal(ctx, d.ID, alinea.DealFields{StageID: ptr(stages["won"])})
		if alinea.ErrorCode(err) != alinea.EINVALID || alinea.ErrorFields(err)["stage_id"] == "" {
			t.Fatalf("stage in update: got %v", err)
		}
		upd, err := s.UpdateDeal(ctx, d.ID, alinea.DealFields{Amount: ptr(int64(1500000)), Currency: ptr("usd"), Contacts: &[]alinea.DealContact{{ContactID: c2.ID, Role: "champion"}}})
		if err != nil {
			t.Fatal(err)
		}
		if upd.Amount != 1500000 || upd.Currency != "USD" || len(upd.Contacts) != 1 || upd.Contacts[0].ContactID != c2.ID || upd.Name != "Acme annual" {
			t.Fatalf("update: %+v", upd)
		}

		moves := []struct {
			name      string
			move      alinea.DealMove
			code      string
			field     string
			status    alinea.DealStatus
			closed    bool
			closeWhy  string
			advanceMS int
		}{
			{name: "forward", move: alinea.DealMove{StageID: stages["proposal"]}, status: alinea.DealOpen},
			{name: "same stage", move: alinea.DealMove{StageID: stages["proposal"]}, code: alinea.ECONFLICT, field: "stage_id"},
			{name: "unknown stage", move: alinea.DealMove{StageID: 999}, code: alinea.EINVALID, field: "stage_id"},
			{name: "lost without reason", move: alinea.DealMove{StageID: stages["lost"]}, code: alinea.EINVALID, field: "reason"},
			{name: "lost", move: alinea.DealMove{StageID: stages["lost"], Reason: "price"}, status: alinea.DealLost, closed: true, closeWhy: "price"},
			{name: "reopen", move: alinea.DealMove{StageID: stages["negotiation"], Reason: "budget found"}, status: alinea.DealOpen},
			{name: "won", move: alinea.DealMove{StageID: stages["won"]}, status: alinea.DealWon, closed: true},
		}
		for _, m := range moves {
			now = now.Add(time.Minute)
			m.move.Actor = actor
			got, err := s.MoveDeal(ctx, d.ID, m.move)
			if m.code != "" {
				if alinea.ErrorCode(err) != m.code || alinea.ErrorFields(err)[m.field] == "" {
					t.Fatalf("%s: got %v (%s), want %s naming %s", m.name, err, alinea.ErrorCode(err), m.code, m.field)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", m.name, err)
			}
			if got.Status != m.status || (got.ClosedAt != nil) != m.closed || got.CloseReason != m.closeWhy || got.StageID != m.move.StageID {
				t.Fatalf("%s: deal %+v", m.name, got)
			}
			if m.closed && !got.ClosedAt.Equal(now) {
				t.Fatalf("%s: closed_at %v, want %v", m.name, got.ClosedAt, now)
			}
		}
		if _, err := s.MoveDeal(ctx, 4242, alinea.DealMove{StageID: stages["won"]}); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("move missing deal: got %v", err)
		}

		hist, err := s.DealHistory(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantTo := []int64{stages["discovery"], stages["proposal"], stages["lost"], stages["negotiation"], stages["won"]}
		if len(hist) != len(wantTo) {
			t.Fatalf("history has %d entries, want %d: %+v", len(hist), len(wantTo), hist)
		}
		for i, h := range hist {
			if h.ToStageID != wantTo[i] || h.ActorUserID != seller.ID {
				t.Fatalf("history[%d] = %+v, want to %d by %d", i, h, wantTo[i], seller.ID)
			}
			if i > 0 && h.FromStageID != wantTo[i-1] {
				t.Fatalf("history[%d] from %d, want %d", i, h.FromStageID, wantTo[i-1])
			}
		}
		if hist[0].FromStageID != 0 || hist[2].Reason != "price" || hist[3].Reason != "budget found" {
			t.Fatalf("history details: %+v", hist)
		}

		// The deal shows up in its contact's timeline.
		tl, err := s.Timeline(ctx, alinea.TimelineQuery{ContactID: c2.ID})
		if err != nil {
			t.Fatal(err)
		}
		deals := 0
		for _, it := range tl {
			if it.Kind == "deal" {
				deals++
			}
		}
		if deals != len(wantTo) {
			t.Fatalf("timeline of contact %d has %d deal items, want %d", c2.ID, deals, len(wantTo))
		}

		if err := s.DeleteDeal(ctx, d.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deal(ctx, d.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("deleted deal: got %v", err)
		}
		if _, err := s.DealHistory(ctx, d.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("history of deleted deal: got %v", err)
		}
		if err := s.DeleteDeal(ctx, d.ID); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("second delete: got %v", err)
		}
	})
}

func TestDealValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		stages := stageIDs(t, s)
		c, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("ana@acme.es")}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		api := alinea.Actor{Type: alinea.ActorAPI}
		cases := []struct {
			name  string
			f     alinea.DealFields
			field string
		}{
			{"no name", alinea.DealFields{}, "name"},
			{"unknown stage", alinea.DealFields{Name: ptr("x"), StageID: ptr(int64(999))}, "stage_id"},
			{"starts lost", alinea.DealFields{Name: ptr("x"), StageID: ptr(stages["lost"])}, "stage_id"},
			{"unknown account", alinea.DealFields{Name: ptr("x"), AccountID: ptr(int64(999))}, "account_id"},
			{"unknown owner", alinea.DealFields{Name: ptr("x"), OwnerID: ptr(int64(999))}, "owner_id"},
			{"unknown contact", alinea.DealFields{Name: ptr("x"), Contacts: &[]alinea.DealContact{{ContactID: c.ID}, {ContactID: 999}}}, "contacts[1].contact_id"},
			{"duplicate contact", alinea.DealFields{Name: ptr("x"), Contacts: &[]alinea.DealContact{{ContactID: c.ID}, {ContactID: c.ID}}}, "contacts[1].contact_id"},
			{"bad currency", alinea.DealFields{Name: ptr("x"), Currency: ptr("euro")}, "currency"},
			{"bad date", alinea.DealFields{Name: ptr("x"), ExpectedClose: ptr("31/12/2025")}, "expected_close"},
		}
		for _, tc := range cases {
			_, err := s.CreateDeal(ctx, tc.f, api)
			if alinea.ErrorCode(err) != alinea.EINVALID || alinea.ErrorFields(err)[tc.field] == "" {
				t.Errorf("%s: got %v, want EINVALID naming %s", tc.name, err, tc.field)
			}
		}
		all, _, err := s.Deals(ctx, alinea.DealFilter{})
		if err != nil || len(all) != 0 {
			t.Fatalf("failed creates left %d deals (%v)", len(all), err)
		}

		won, err := s.CreateDeal(ctx, alinea.DealFields{Name: ptr("signed already"), StageID: ptr(stages["won"])}, api)
		if err != nil {
			t.Fatal(err)
		}
		if won.Status != alinea.DealWon || won.ClosedAt == nil {
			t.Fatalf("deal created in won stage: %+v", won)
		}
	})
}

func TestDealsFilterAndPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		stages := stageIDs(t, s)
		api := alinea.Actor{Type: alinea.ActorAPI}
		c, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("ana@acme.es")}, api)
		if err != nil {
			t.Fatal(err)
		}
		var withContact []int64
		for i := range 9 {
			f := alinea.DealFields{Name: ptr("deal " + string(rune('a'+i)))}
			if i%3 == 0 {
				f.Contacts = &[]alinea.DealContact{{ContactID: c.ID, Role: "user"}}
			}
			d, err := s.CreateDeal(ctx, f, api)
			if err != nil {
				t.Fatal(err)
			}
			if i%3 == 0 {
				withContact = append(withContact, d.ID)
			}
			if i%2 == 0 {
				if _, err := s.MoveDeal(ctx, d.ID, alinea.DealMove{StageID: stages["lost"], Reason: "no budget", Actor: api}); err != nil {
					t.Fatal(err)
				}
			}
		}
		collect := func(f alinea.DealFilter) []alinea.Deal {
			var out []alinea.Deal
			for {
				page, next, err := s.Deals(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if len(page) > f.Limit {
					t.Fatalf("page of %d > limit %d", len(page), f.Limit)
				}
				out = append(out, page...)
				if next == 0 {
					return out
				}
				f.After = next
			}
		}
		lost := collect(alinea.DealFilter{Status: alinea.DealLost, Limit: 2})
		if len(lost) != 5 {
			t.Fatalf("lost deals: got %d, want 5", len(lost))
		}
		for i, d := range lost {
			if d.Status != alinea.DealLost || d.StageID != stages["lost"] {
				t.Fatalf("filter leaked %+v", d)
			}
			if i > 0 && d.ID <= lost[i-1].ID {
				t.Fatalf("not in id order: %d after %d", d.ID, lost[i-1].ID)
			}
		}
		mine := collect(alinea.DealFilter{ContactID: c.ID, Limit: 2})
		if len(mine) != len(withContact) {
			t.Fatalf("deals of contact: got %d, want %d", len(mine), len(withContact))
		}
		for i, d := range mine {
			if d.ID != withContact[i] || len(d.Contacts) != 1 || d.Contacts[0].ContactID != c.ID {
				t.Fatalf("deal of contact %+v, want id %d with the contact", d, withContact[i])
			}
		}
		if _, _, err := s.Deals(ctx, alinea.DealFilter{Status: "maybe"}); alinea.ErrorFields(err)["status"] == "" {
			t.Fatalf("bad status filter: got %v", err)
		}
	})
}

// TestClosedDealsSince reads the deals closed since a time, by status and
// owner, latest first, on both backends.
func TestClosedDealsSince(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		stages := stageIDs(t, s)
		api := alinea.Actor{Type: alinea.ActorAPI}
		seller, err := s.CreateUser(ctx, alinea.NewUser{Email: "rep@acme.es", Name: "Rep", Role: alinea.RoleSales, Password: "una contraseña larga"})
		if err != nil {
			t.Fatal(err)
		}
		closeDeal := func(name string, owner *int64, stage string, at time.Time) int64 {
			t.Helper()
			now = at
			d, err := s.CreateDeal(ctx, alinea.DealFields{Name: ptr(name), OwnerID: owner}, api)
			if err == nil {
				_, err = s.MoveDeal(ctx, d.ID, alinea.DealMove{StageID: stages[stage], Reason: "no budget", Actor: api})
			}
			if err != nil {
				t.Fatal(err)
			}
			return d.ID
		}
		since := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
		closeDeal("old win", &seller.ID, "won", since.Add(-time.Hour))
		a := closeDeal("win a", &seller.ID, "won", since)
		bWin := closeDeal("win b", nil, "won", since.Add(48*time.Hour))
		c := closeDeal("win c", &seller.ID, "won", since.Add(72*time.Hour))
		closeDeal("loss", &seller.ID, "lost", since.Add(24*time.Hour))
		ids := func(owner int64) []int64 {
			t.Helper()
			ds, err := s.ClosedDealsSince(ctx, alinea.DealWon, since, owner)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, d := range ds {
				out = append(out, d.ID)
			}
			return out
		}
		if got, want := ids(0), []int64{c, bWin, a}; !slices.Equal(got, want) {
			t.Errorf("won since: %v, want %v (latest first, none before since, no losses)", got, want)
		}
		if got, want := ids(seller.ID), []int64{c, a}; !slices.Equal(got, want) {
			t.Errorf("won by the rep since: %v, want %v", got, want)
		}
		if _, err := s.ClosedDealsSince(ctx, alinea.DealOpen, since, 0); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Errorf("open status: %v, want invalid", err)
		}
	})
}
