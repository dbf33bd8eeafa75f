package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// TestInboxReads covers what the web inbox reads besides Handoffs: the
// decisions of the last days, where leads come from and the business
// calendar its countdowns run on.
func TestInboxReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		accepted := w.mql(t, "accepted@cliente.es", "ES")
		rejected := w.mql(t, "rejected@cliente.es", "ES")
		open := w.mql(t, "open@client.co.uk", "GB")
		w.sweep(t)
		start := w.clock.Now()

		w.clock.Add(time.Hour)
		if _, err := w.s.AcceptHandoff(ctx, w.handoffOf(t, accepted).ID, w.carlos); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(time.Hour)
		if _, err := w.s.RejectHandoff(ctx, w.handoffOf(t, rejected).ID, w.carlos, alinea.HandoffDecision{Reason: "no_budget"}); err != nil {
			t.Fatal(err)
		}

		list, err := w.s.DecidedHandoffs(ctx, w.carlos.ID, start, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ContactID != rejected || list[1].ContactID != accepted {
			t.Fatalf("carlos's decisions = %+v, want the rejection then the acceptance", list)
		}
		if len(list[1].Clocks) == 0 || list[1].Clocks[0].ElapsedBusinessSeconds == nil || *list[1].Clocks[0].ElapsedBusinessSeconds != 3600 {
			t.Errorf("the acceptance's clocks = %+v, want one stopped after a business hour", list[1].Clocks)
		}
		if list, err := w.s.DecidedHandoffs(ctx, w.emily.ID, start, 10); err != nil || len(list) != 0 {
			t.Errorf("emily's decisions = %d (%v), want none", len(list), err)
		}
		if list, err := w.s.DecidedHandoffs(ctx, 0, w.clock.Now().Add(-30*time.Minute), 10); err != nil || len(list) != 1 || list[0].ContactID != rejected {
			t.Errorf("everyone's decisions of the last half hour = %+v (%v), want the rejection", list, err)
		}

		origins, err := w.s.ContactOrigins(ctx, []int64{accepted, open})
		if err != nil {
			t.Fatal(err)
		}
		if origins[accepted].Country != "ES" || origins[open].Country != "GB" || len(origins) != 2 {
			t.Errorf("origins = %+v", origins)
		}
		if none, err := w.s.ContactOrigins(ctx, nil); err != nil || len(none) != 0 {
			t.Errorf("origins of nobody = %v (%v)", none, err)
		}

		cal, err := w.s.BusinessCalendar(ctx)
		if err != nil || cal == nil {
			t.Fatalf("business calendar = %v (%v)", cal, err)
		}
		deadline := w.handoffOf(t, open).Clocks[0].Deadline
		left, err := w.s.BusinessTimeLeft(ctx, deadline)
		if err != nil {
			t.Fatal(err)
		}
		if got := cal.Between(w.clock.Now(), deadline); got != left || left != 6*time.Hour {
			t.Errorf("the calendar says %s left, BusinessTimeLeft %s; want 6h", got, left)
		}
	})
}
