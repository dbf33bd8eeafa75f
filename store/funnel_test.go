package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestStageCountsAndFlows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(now)
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		api := alinea.Actor{Type: alinea.ActorAPI}
		at := func(daysAgo int) { clock.ms.Store(now.AddDate(0, 0, -daysAgo).UnixMilli()) }
		create := func(email string, stage alinea.Stage) int64 {
			t.Helper()
			c, err := s.CreateContact(ctx, alinea.ContactFields{Email: &email, Stage: &stage}, api)
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		move := func(id int64, to alinea.Stage, reason string) {
			t.Helper()
			if _, err := s.Transition(ctx, id, alinea.TransitionRequest{To: to, Reason: reason, Actor: api}); err != nil {
				t.Fatalf("move contact %d to %s: %v", id, to, err)
			}
		}

		// Before the 90-day window.
		at(200)
		c1 := create("c1@example.com", alinea.StageSubscriber)
		c5 := create("c5@example.com", alinea.StageMQL)
		c6 := create("c6@example.com", alinea.StageSQL)
		at(100)
		move(c1, alinea.StageLead, "")
		// Inside it.
		at(60)
		c2 := create("c2@example.com", alinea.StageSubscriber)
		move(c2, alinea.StageLead, "")
		move(c2, alinea.StageMQL, "")
		c3 := create("c3@example.com", alinea.StageSubscriber)
		move(c3, alinea.StageLead, "")
		create("c4@example.com", alinea.StageCustomer) // skips every stage before customer
		move(c5, alinea.StageSAL, "")
		move(c5, alinea.StageRecycled, "no_budget")
		at(30)
		move(c5, alinea.StageMQL, "") // qualifies again
		move(c6, alinea.StageDisqualified, "competitor")
		clock.ms.Store(now.UnixMilli())

		counts, err := s.StageCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantCounts := map[alinea.Stage]int64{alinea.StageLead: 2, alinea.StageMQL: 2, alinea.StageCustomer: 1, alinea.StageDisqualified: 1}
		for _, st := range alinea.AllStages {
			if counts[st] != wantCounts[st] {
				t.Errorf("count of %s = %d, want %d", st, counts[st], wantCounts[st])
			}
		}

		flows, err := s.StageFlows(ctx, now.AddDate(0, 0, -90), now)
		if err != nil {
			t.Fatal(err)
		}
		// c2: subscriber→lead→mql; c3: subscriber→lead; c4: created as
		// customer; c5: mql→sal→recycled→mql (enters mql and sal); c6 only
		// left the funnel; c1 moved before the window.
		want := []store.StageFlow{
			{alinea.StageSubscriber, 3, 3},
			{alinea.StageLead, 3, 2},
			{alinea.StageMQL, 3, 2},
			{alinea.StageSAL, 2, 1},
			{alinea.StageSQL, 1, 1},
			{alinea.StageOpportunity, 1, 1},
			{alinea.StageCustomer, 1, 0},
			{alinea.StageEvangelist, 0, 0},
		}
		if !slices.Equal(flows, want) {
			t.Errorf("flows:\n got %+v\nwant %+v", flows, want)
		}

		empty, err := s.StageFlows(ctx, now, now.AddDate(0, 0, 1))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range empty {
			if f.Entered != 0 || f.Advanced != 0 {
				t.Errorf("window without moves: %+v", f)
			}
		}
	})
}

func TestRecentlyClosedDeals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
		clock := newTestClock(now)
		s := storetest.Open(t, b, store.Options{Now: clock.Now})
		ids := stageIDs(t, s)
		rep := mustUser(t, s, "rep@example.com", alinea.RoleSales)
		actor := alinea.Actor{Type: alinea.ActorUser, UserID: rep.ID, Role: rep.Role}
		closeDeal := func(name string, daysAgo int, stage string, reason string) {
			t.Helper()
			clock.ms.Store(now.AddDate(0, 0, -daysAgo-5).UnixMilli())
			d, err := s.CreateDeal(ctx, alinea.DealFields{Name: &name}, actor)
			if err != nil {
				t.Fatal(err)
			}
			clock.ms.Store(now.AddDate(0, 0, -daysAgo).UnixMilli())
			if _, err := s.MoveDeal(ctx, d.ID, alinea.DealMove{StageID: ids[stage], Reason: reason, Actor: actor}); err != nil {
				t.Fatal(err)
			}
		}
		// Created in one order, closed in another.
		closeDeal("won 10 days ago", 10, "won", "")
		closeDeal("won 2 days ago", 2, "won", "")
		closeDeal("lost 3 days ago", 3, "lost", "price")
		closeDeal("won 5 days ago", 5, "won", "")
		if _, err := s.CreateDeal(ctx, alinea.DealFields{Name: ptr("still open")}, actor); err != nil {
			t.Fatal(err)
		}

		won, err := s.RecentlyClosedDeals(ctx, alinea.DealWon, 2)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, d := range won {
			names = append(names, d.Name)
		}
		if want := []string{"won 2 days ago", "won 5 days ago"}; !slices.Equal(names, want) {
			t.Errorf("recent wins %q, want %q", names, want)
		}
		lost, err := s.RecentlyClosedDeals(ctx, alinea.DealLost, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(lost) != 1 || lost[0].CloseReason != "price" {
			t.Errorf("recent losses %+v, want the one lost for price", lost)
		}
		if _, err := s.RecentlyClosedDeals(ctx, alinea.DealOpen, 5); alinea.ErrorFields(err)["status"] == "" {
			t.Errorf("open deals are not closed: got %v", err)
		}
	})
}

func TestContactListFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		api := alinea.Actor{Type: alinea.ActorAPI}
		acc, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Acme Ibérica"), Domain: ptr("acme.es")})
		if err != nil {
			t.Fatal(err)
		}
		stages := []alinea.Stage{alinea.StageSubscriber, alinea.StageLead, alinea.StageSAL, alinea.StageSQL, alinea.StageCustomer, alinea.StageOpportunity, alinea.StageMQL}
		var ids []int64
		for i, st := range stages {
			f := alinea.ContactFields{Email: ptr(fmt.Sprintf("p%d@example.com", i)), Stage: &st}
			if i%2 == 0 {
				f.AccountID = &acc.ID
			}
			c, err := s.CreateContact(ctx, f, api)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		list := func(f alinea.ContactFilter) ([]int64, int64) {
			t.Helper()
			cs, next, err := s.Contacts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range cs {
				got = append(got, c.ID)
			}
			return got, next
		}

		if got, _ := list(alinea.ContactFilter{Mode: alinea.ModeBuy}); !slices.Equal(got, []int64{ids[2], ids[3], ids[5]}) {
			t.Errorf("buy mode: got %v, want the sal, sql and opportunity contacts", got)
		}
		if _, _, err := s.Contacts(ctx, alinea.ContactFilter{Mode: "shopping"}); alinea.ErrorFields(err)["mode"] == "" {
			t.Errorf("unknown mode: got %v", err)
		}

		// Newest first with Before, then back with After.
		page1, next := list(alinea.ContactFilter{Before: 1 << 62, Limit: 3})
		if !slices.Equal(page1, []int64{ids[6], ids[5], ids[4]}) || next != ids[4] {
			t.Fatalf("first page newest first: %v next %d", page1, next)
		}
		page2, next := list(alinea.ContactFilter{Before: next, Limit: 3})
		if !slices.Equal(page2, []int64{ids[3], ids[2], ids[1]}) || next != ids[1] {
			t.Fatalf("second page: %v next %d", page2, next)
		}
		page3, next := list(alinea.ContactFilter{Before: next, Limit: 3})
		if !slices.Equal(page3, []int64{ids[0]}) || next != 0 {
			t.Fatalf("last page: %v next %d", page3, next)
		}
		back, next := list(alinea.ContactFilter{After: ids[0], Limit: 3})
		if !slices.Equal(back, []int64{ids[1], ids[2], ids[3]}) || next != ids[3] {
			t.Fatalf("paging back up: %v next %d", back, next)
		}

		names, err := s.AccountNames(ctx, []int64{acc.ID, 0, acc.ID, acc.ID + 99})
		if err != nil {
			t.Fatal(err)
		}
		if len(names) != 1 || names[acc.ID] != "Acme Ibérica" {
			t.Errorf("account names %v", names)
		}
		if none, err := s.AccountNames(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("no ids: %v %v", none, err)
		}
	})
}

func TestContactGradeFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		activeExample(t, s)
		acc, err := s.CreateAccount(ctx, alinea.AccountFields{Name: ptr("Logística Sur"), Domain: ptr("logisur.es"), Industry: ptr("logistics"), Employees: ptr(200)})
		if err != nil {
			t.Fatal(err)
		}
		api := alinea.Actor{Type: alinea.ActorAPI}
		var ids []int64
		for i, title := range []string{"Directora de Marketing", "Analista", "CEO", "Becario"} {
			f := alinea.ContactFields{Email: ptr(fmt.Sprintf("g%d@logisur.es", i)), JobTitle: ptr(title), Country: ptr("ES"), AccountID: &acc.ID}
			c, err := s.CreateContact(ctx, f, api)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, c.ID)
		}
		grades, err := s.ContactGrades(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(grades) != len(ids) {
			t.Fatalf("grades %v: want one per contact", grades)
		}
		// Decision makers fit better than the rest.
		if grades[ids[0]] == grades[ids[1]] {
			t.Fatalf("a director and an analyst got the same grade %q", grades[ids[0]])
		}
		for _, grade := range []string{grades[ids[0]], grades[ids[1]]} {
			var want []int64
			for _, id := range ids {
				if grades[id] == grade {
					want = append(want, id)
				}
			}
			cs, _, err := s.Contacts(ctx, alinea.ContactFilter{Grade: grade})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, c := range cs {
				got = append(got, c.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("grade %s: got %v, want %v", grade, got, want)
			}
		}
		if cs, _, err := s.Contacts(ctx, alinea.ContactFilter{Grade: "Z9"}); err != nil || len(cs) != 0 {
			t.Errorf("unknown grade: %d contacts, %v", len(cs), err)
		}
	})
}
