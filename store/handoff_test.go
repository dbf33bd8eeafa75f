package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

// handoffWorld is a store with the example agreement active (Madrid
// business hours, the demo's territories) and its people.
type handoffWorld struct {
	s                   *store.Store
	clock               *clock
	carlos, emily, ana  alinea.User // sales (Spain), sales (English-speaking), manager
	marketing           alinea.User
	accountSmall, large int64
}

// monday10 is Monday 2027-01-11 10:00 in Madrid.
var monday10 = time.Date(2027, 1, 11, 9, 0, 0, 0, time.UTC)

func newHandoffWorld(t *testing.T, b store.Backend) *handoffWorld {
	t.Helper()
	ctx := context.Background()
	w := &handoffWorld{clock: &clock{t: monday10}}
	w.s = storetest.Open(t, b, store.Options{Now: w.clock.Now})
	w.carlos = mustUser(t, w.s, "carlos.ruiz@vertice.example", alinea.RoleSales)
	w.emily = mustUser(t, w.s, "emily.clarke@vertice.example", alinea.RoleSales)
	w.ana = mustUser(t, w.s, "ana.morales@vertice.example", alinea.RoleManager)
	activeExample(t, w.s)
	mkts, err := w.s.UserByEmail(ctx, "lead.marketing@example.com")
	if err != nil {
		t.Fatal(err)
	}
	w.marketing = mkts
	// Routed leads need something to show; the agreement's own sales
	// signer takes part in the catch-all rule, so give them no capacity
	// games: only the named reps matter below.
	return w
}

// mql creates a contact in a country and moves it to mql as marketing
// would, returning its id.
func (w *handoffWorld) mql(t *testing.T, email, country string) int64 {
	t.Helper()
	ctx := context.Background()
	first, last := "Lucía", "Pérez"
	c, err := w.s.CreateContact(ctx, alinea.ContactFields{Email: &email, FirstName: &first, LastName: &last, Country: &country},
		alinea.Actor{Type: alinea.ActorUser, UserID: w.marketing.ID, Role: alinea.RoleMarketing})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageMQL, Actor: alinea.Actor{Type: alinea.ActorUser, UserID: w.marketing.ID, Role: alinea.RoleMarketing}}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (w *handoffWorld) sweep(t *testing.T) store.SweepResult {
	t.Helper()
	r, err := w.s.SweepHandoffs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *handoffWorld) handoffOf(t *testing.T, contactID int64) alinea.Handoff {
	t.Helper()
	list, _, err := w.s.Handoffs(context.Background(), alinea.HandoffFilter{ContactID: contactID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("contact %d has %d handoffs, want 1", contactID, len(list))
	}
	return list[0]
}

func (w *handoffWorld) deliveries(t *testing.T, typ string) []store.Delivery {
	t.Helper()
	list, _, err := w.s.Deliveries(context.Background(), store.DeliveryFilter{Type: typ, Channel: "email", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func clockOf(t *testing.T, h alinea.Handoff, kind string) alinea.SLAClock {
	t.Helper()
	for _, c := range h.Clocks {
		if c.Kind == kind {
			return c
		}
	}
	t.Fatalf("handoff %d has no %s clock: %+v", h.ID, kind, h.Clocks)
	return alinea.SLAClock{}
}

func TestMQLIsRoutedByTerritoryAndAcceptedInBusinessHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		id := w.mql(t, "lucia@cliente.es", "ES")

		r := w.sweep(t)
		if r.Routed != 1 {
			t.Fatalf("sweep routed %d, want 1", r.Routed)
		}
		h := w.handoffOf(t, id)
		if h.OwnerID != w.carlos.ID || h.Rule != "spain" || h.Status != alinea.HandoffOpen {
			t.Fatalf("handoff = owner %d rule %q status %s, want carlos by rule spain, open", h.OwnerID, h.Rule, h.Status)
		}
		var why struct {
			Rule       string `json:"rule"`
			Considered []struct {
				Email    string `json:"email"`
				Eligible bool   `json:"eligible"`
			} `json:"considered"`
		}
		if err := json.Unmarshal(h.Why, &why); err != nil || why.Rule != "spain" || len(why.Considered) != 1 || why.Considered[0].Email != w.carlos.Email {
			t.Errorf("why = %s (%v)", h.Why, err)
		}
		c, err := w.s.Contact(ctx, id)
		if err != nil || c.OwnerID != w.carlos.ID {
			t.Errorf("contact owner = %v (%v), want carlos", c.OwnerID, err)
		}
		// 8 business hours from Monday 10:00: 9-14 and 15-18 in Madrid, so
		// due Monday 10:00 + 4h (to 14:00) + 3h (to 18:00) + 1h Tuesday = 10:00.
		accept := clockOf(t, h, "accept_within")
		if want := time.Date(2027, 1, 12, 9, 0, 0, 0, time.UTC); !accept.Deadline.Equal(want) {
			t.Errorf("accept deadline %s, want %s", accept.Deadline, want)
		}
		if got := w.deliveries(t, alinea.NotifyLeadAssigned); len(got) != 1 || got[0].UserID != w.carlos.ID {
			t.Errorf("lead.assigned emails = %+v, want one to carlos", got)
		}
		// A second sweep routes nothing again.
		if r := w.sweep(t); r.Routed != 0 {
			t.Errorf("second sweep routed %d", r.Routed)
		}

		// Another rep cannot accept it; the owner can.
		if _, err := w.s.AcceptHandoff(ctx, h.ID, w.emily); alinea.ErrorCode(err) != alinea.EFORBIDDEN {
			t.Errorf("emily accepting carlos's lead: %v, want forbidden", err)
		}
		w.clock.Add(2 * time.Hour)
		h, err = w.s.AcceptHandoff(ctx, h.ID, w.carlos)
		if err != nil {
			t.Fatal(err)
		}
		if h.Status != alinea.HandoffAccepted || h.Stage != alinea.StageSAL {
			t.Errorf("after accept: status %s stage %s", h.Status, h.Stage)
		}
		accept = clockOf(t, h, "accept_within")
		if accept.Status != alinea.ClockMet || accept.ElapsedBusinessSeconds == nil || *accept.ElapsedBusinessSeconds != 7200 {
			t.Errorf("accept clock = %+v, want met after 2 business hours", accept)
		}
		if _, err := w.s.AcceptHandoff(ctx, h.ID, w.carlos); alinea.ErrorCode(err) != alinea.ECONFLICT {
			t.Errorf("accepting twice: %v, want conflict", err)
		}

		// First touch: a logged call an hour later meets it.
		first := clockOf(t, h, "first_touch_within")
		if first.Status != alinea.ClockRunning {
			t.Fatalf("first touch clock = %+v", first)
		}
		w.clock.Add(time.Hour)
		call := alinea.Message{Type: "track", MessageID: "call-1", UserID: "lucia", Event: "Call Logged", Timestamp: w.clock.Now(), ReceivedAt: w.clock.Now()}
		ident := alinea.Message{Type: "identify", MessageID: "ident-1", UserID: "lucia", Traits: json.RawMessage(`{"email":"lucia@cliente.es"}`), Timestamp: w.clock.Now(), ReceivedAt: w.clock.Now()}
		if _, err := w.s.Ingest(ctx, 0, []alinea.Message{ident, call}); err != nil {
			t.Fatal(err)
		}
		if r := w.sweep(t); r.Touched == 0 {
			t.Errorf("sweep recorded no touch: %+v", r)
		}
		h = w.handoffOf(t, id)
		first = clockOf(t, h, "first_touch_within")
		if first.Status != alinea.ClockMet || first.ElapsedBusinessSeconds == nil || *first.ElapsedBusinessSeconds != 3600 {
			t.Errorf("first touch clock = %+v, want met after 1 business hour", first)
		}
		touches := clockOf(t, h, "touches_within")
		if touches.Status != alinea.ClockRunning || touches.Done != 1 || touches.Target != 3 {
			t.Errorf("touches clock = %+v, want running with 1 of 3", touches)
		}
	})
}

func TestLateAcceptanceBreachesOnceAndEscalates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		id := w.mql(t, "late@cliente.es", "ES")
		w.sweep(t)
		h := w.handoffOf(t, id)

		// Tuesday 09:59 Madrid: one minute before the deadline.
		w.clock.Set(time.Date(2027, 1, 12, 8, 59, 0, 0, time.UTC))
		if r := w.sweep(t); r.Breached != 0 {
			t.Fatalf("breached before the deadline: %+v", r)
		}
		w.clock.Set(time.Date(2027, 1, 12, 9, 0, 30, 0, time.UTC))
		if r := w.sweep(t); r.Breached != 1 {
			t.Fatalf("sweep after the deadline breached %d, want 1", r.Breached)
		}
		if r := w.sweep(t); r.Breached != 0 {
			t.Errorf("a second sweep breached %d again", r.Breached)
		}
		breaches := w.deliveries(t, alinea.NotifySLABreached)
		if len(breaches) != 1 || breaches[0].UserID != w.carlos.ID {
			t.Fatalf("breach emails = %+v, want one to carlos", breaches)
		}
		var data struct {
			Contact struct{ Email string } `json:"contact"`
			SLA     struct{ Name string }  `json:"sla"`
		}
		if err := json.Unmarshal(breaches[0].Data, &data); err != nil || data.Contact.Email != "late@cliente.es" || data.SLA.Name != "accept_mql" {
			t.Errorf("breach data = %s", breaches[0].Data)
		}

		// Escalation 4 business hours after the deadline (Tuesday 14:00
		// Madrid) to the manager — carlos has none set, so every manager.
		w.clock.Set(time.Date(2027, 1, 12, 12, 59, 0, 0, time.UTC))
		if r := w.sweep(t); r.Escalated != 0 {
			t.Fatalf("escalated early: %+v", r)
		}
		w.clock.Set(time.Date(2027, 1, 12, 13, 0, 0, 0, time.UTC))
		if r := w.sweep(t); r.Escalated != 1 {
			t.Fatalf("escalated %d, want 1", r.Escalated)
		}
		esc := w.deliveries(t, alinea.NotifySLAEscalated)
		if len(esc) != 1 || esc[0].UserID != w.ana.ID {
			t.Errorf("escalation emails = %+v, want one to ana", esc)
		}

		// Accepting late keeps the breach and records the real time.
		h, err := w.s.AcceptHandoff(ctx, h.ID, w.carlos)
		if err != nil {
			t.Fatal(err)
		}
		accept := clockOf(t, h, "accept_within")
		if accept.Status != alinea.ClockBreached || accept.StoppedAt == nil || accept.BreachedAt == nil || accept.EscalatedAt == nil {
			t.Errorf("late accept clock = %+v", accept)
		}
	})
}

func TestRejectionSendsTheLeadBackWithAValidReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		id := w.mql(t, "nobudget@cliente.es", "ES")
		w.sweep(t)
		h := w.handoffOf(t, id)

		for _, reason := range []string{"", "too_expensive"} {
			_, err := w.s.RejectHandoff(ctx, h.ID, w.carlos, alinea.HandoffDecision{Reason: reason})
			var de *alinea.Error
			if !errors.As(err, &de) || de.Code != alinea.EINVALID || de.Fields["reason"] == "" {
				t.Errorf("reject with reason %q: %v, want an invalid reason field", reason, err)
			}
		}
		if got := w.handoffOf(t, id); got.Status != alinea.HandoffOpen {
			t.Fatalf("a refused rejection changed the handoff to %s", got.Status)
		}
		h, err := w.s.RejectHandoff(ctx, h.ID, w.carlos, alinea.HandoffDecision{Reason: "no_budget", Comment: "Vuelven en septiembre"})
		if err != nil {
			t.Fatal(err)
		}
		if h.Status != alinea.HandoffRejected || h.Stage != alinea.StageRecycled || h.ReasonCode != "no_budget" || h.Comment != "Vuelven en septiembre" {
			t.Errorf("rejected handoff = %+v", h)
		}
		c, _ := w.s.Contact(ctx, id)
		if c.OwnerID != 0 {
			t.Errorf("a rejected lead keeps owner %d; it goes back to marketing", c.OwnerID)
		}
		hist := stagesOf(t, w.s, id)
		if last := hist[len(hist)-1]; last.To != alinea.StageRecycled || last.Reason != "rejected by sales: no_budget" {
			t.Errorf("last transition = %+v", last)
		}
		if accept := clockOf(t, h, "accept_within"); accept.Status != alinea.ClockMet {
			t.Errorf("a timely rejection meets the accept clock; got %s", accept.Status)
		}
		// Marketing's role cannot decide handoffs.
		id2 := w.mql(t, "other@cliente.es", "ES")
		w.sweep(t)
		if _, err := w.s.AcceptHandoff(ctx, w.handoffOf(t, id2).ID, w.marketing); alinea.ErrorCode(err) != alinea.EFORBIDDEN {
			t.Errorf("marketing accepting: %v, want forbidden", err)
		}
	})
}

func TestFallbackQueueWhenNoRuleMatchesOrRepsAreFull(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		fr := w.mql(t, "jean@client.fr", "FR")
		w.sweep(t)
		h := w.handoffOf(t, fr)
		if h.OwnerID != 0 || h.Queue != "unassigned" {
			t.Fatalf("unmatched lead: owner %d queue %q, want the fallback queue", h.OwnerID, h.Queue)
		}
		var why struct{ Fallback string }
		if err := json.Unmarshal(h.Why, &why); err != nil || why.Fallback != "no_rule_matched" {
			t.Errorf("why = %s", h.Why)
		}
		if got := w.deliveries(t, alinea.NotifyLeadAssigned); len(got) != 1 || got[0].UserID != w.ana.ID {
			t.Errorf("queue notification = %+v, want one to the manager", got)
		}

		// Carlos can hold one open lead; his second Spanish lead waits.
		if err := w.s.SetRepSettings(ctx, w.carlos.ID, store.RepSettings{Capacity: 1, ManagerID: w.ana.ID}); err != nil {
			t.Fatal(err)
		}
		w.mql(t, "uno@cliente.es", "ES")
		dos := w.mql(t, "dos@cliente.es", "ES")
		w.sweep(t)
		h2 := w.handoffOf(t, dos)
		if err := json.Unmarshal(h2.Why, &why); err != nil || h2.OwnerID != 0 || why.Fallback != "no_rep_available" {
			t.Errorf("second lead over capacity: owner %d why %s", h2.OwnerID, h2.Why)
		}
		// Anyone in sales may take a queued lead; it becomes theirs.
		taken, err := w.s.AcceptHandoff(ctx, h2.ID, w.emily)
		if err != nil || taken.OwnerID != w.emily.ID {
			t.Errorf("emily taking a queued lead: owner %d, %v", taken.OwnerID, err)
		}

		// Away today: carlos is skipped and the next lead queues too.
		if err := w.s.SetRepSettings(ctx, w.carlos.ID, store.RepSettings{Capacity: 0}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.AddAbsence(ctx, alinea.Absence{UserID: w.carlos.ID, StartsOn: "2027-01-10", EndsOn: "2027-01-15"}); err != nil {
			t.Fatal(err)
		}
		away := w.mql(t, "tres@cliente.es", "ES")
		w.sweep(t)
		h3 := w.handoffOf(t, away)
		var skipped struct {
			Considered []struct{ Skipped string } `json:"considered"`
		}
		if err := json.Unmarshal(h3.Why, &skipped); err != nil || h3.OwnerID != 0 || len(skipped.Considered) != 1 || skipped.Considered[0].Skipped != "away" {
			t.Errorf("lead while carlos is away: owner %d why %s", h3.OwnerID, h3.Why)
		}
		if _, err := w.s.AddAbsence(ctx, alinea.Absence{UserID: w.carlos.ID, StartsOn: "2027-01-15", EndsOn: "2027-01-10"}); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Errorf("absence ending before it starts: %v", err)
		}
	})
}

func TestContactMovedOnByHandSettlesItsHandoff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		id := w.mql(t, "quick@cliente.es", "ES")
		w.sweep(t)
		if _, err := w.s.Transition(ctx, id, alinea.TransitionRequest{To: alinea.StageDisqualified, Reason: "competitor", Actor: alinea.Actor{Type: alinea.ActorUser, UserID: w.ana.ID, Role: alinea.RoleManager}}); err != nil {
			t.Fatal(err)
		}
		if r := w.sweep(t); r.Closed != 1 {
			t.Errorf("sweep closed %d, want 1", r.Closed)
		}
		h := w.handoffOf(t, id)
		if h.Status != alinea.HandoffClosed || clockOf(t, h, "accept_within").Status != alinea.ClockCancelled {
			t.Errorf("handoff %s clock %s, want closed and cancelled", h.Status, clockOf(t, h, "accept_within").Status)
		}
		// Nothing breaches later for it.
		w.clock.Add(72 * time.Hour)
		if r := w.sweep(t); r.Breached != 0 {
			t.Errorf("a closed handoff breached: %+v", r)
		}
	})
}

func TestConcurrentSweepsBreachOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		w := newHandoffWorld(t, b)
		for _, e := range []string{"a@cliente.es", "b@cliente.es", "c@cliente.es", "d@cliente.es"} {
			w.mql(t, e, "ES")
		}
		w.sweep(t)
		w.clock.Add(7 * 24 * time.Hour)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := w.s.SweepHandoffs(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += r.Breached
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total != 4 {
			t.Errorf("four concurrent sweeps breached %d clocks, want exactly 4", total)
		}
		if got := w.deliveries(t, alinea.NotifySLABreached); len(got) != 4 {
			t.Errorf("%d breach emails, want 4", len(got))
		}
	})
}

func TestSLAReportCountsComplianceDistributionsAndRejections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		w := newHandoffWorld(t, b)
		onTime := w.mql(t, "ontime@cliente.es", "ES")
		late := w.mql(t, "late@cliente.es", "ES")
		rejected := w.mql(t, "rejected@cliente.es", "ES")
		w.sweep(t)
		w.clock.Add(time.Hour)
		if _, err := w.s.AcceptHandoff(ctx, w.handoffOf(t, onTime).ID, w.carlos); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.RejectHandoff(ctx, w.handoffOf(t, rejected).ID, w.carlos, alinea.HandoffDecision{Reason: "bad_fit"}); err != nil {
			t.Fatal(err)
		}
		// Accepted 9 business hours in: one past the deadline.
		w.clock.Set(time.Date(2027, 1, 12, 10, 0, 0, 0, time.UTC))
		w.sweep(t)
		if _, err := w.s.AcceptHandoff(ctx, w.handoffOf(t, late).ID, w.carlos); err != nil {
			t.Fatal(err)
		}

		r, err := w.s.SLAReport(ctx, "2027-01")
		if err != nil {
			t.Fatal(err)
		}
		var accept store.TermStats
		for _, ts := range r.Terms {
			if ts.Term == "accept_mql" {
				accept = ts
			}
		}
		if accept.Total != 3 || accept.Met != 2 || accept.Breached != 1 || accept.Compliance < 0.66 || accept.Compliance > 0.67 {
			t.Errorf("accept_mql = %+v, want 3 clocks, 2 met, 1 breached", accept)
		}
		if len(r.Reps) != 1 || r.Reps[0].UserID != w.carlos.ID || r.Reps[0].Handoffs != 3 || r.Reps[0].Accepted != 2 || r.Reps[0].Rejected != 1 {
			t.Errorf("reps = %+v", r.Reps)
		}
		d := r.TimeToAccept
		if d.N != 3 || d.Median != 1 || d.P90 != 9 {
			t.Errorf("time to accept = %+v, want 3 values, median 1h, p90 9h", d)
		}
		if d.Buckets[0].Count != 2 || d.Buckets[4].Count != 1 { // <=1h twice, 8-16h once
			t.Errorf("buckets = %+v", d.Buckets)
		}
		if r.Rejections.Total != 1 || len(r.Rejections.ByReason) != 1 || r.Rejections.ByReason[0].Reason != "bad_fit" {
			t.Errorf("rejections = %+v", r.Rejections)
		}
		if r.Marketing.Delivered != 3 || r.Marketing.Committed != 20 || r.Marketing.Met {
			t.Errorf("marketing = %+v, want 3 delivered of 20 committed", r.Marketing)
		}
		if r.Conversion.Count != 5 || r.Conversion.Of != 20 || r.Conversion.Committed != 0.25 {
			t.Errorf("conversion = %+v", r.Conversion)
		}
		if _, err := w.s.SLAReport(ctx, "January"); alinea.ErrorCode(err) != alinea.EINVALID {
			t.Errorf("bad period: %v", err)
		}
	})
}
