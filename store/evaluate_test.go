package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// activeExample creates, signs and activates the seed-003 example.
func activeExample(t testing.TB, s *store.Store) agreement.Version {
	t.Helper()
	ctx := context.Background()
	mkt := mustUser(t, s, "lead.marketing@example.com", alinea.RoleMarketing)
	sales := mustUser(t, s, "lead.sales@example.com", alinea.RoleSales)
	v, err := s.CreateAgreement(ctx, exampleAgreement(t), 0, mkt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ProposeAgreement(ctx, v.ID, mkt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignAgreement(ctx, v.ID, mkt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SignAgreement(ctx, v.ID, sales); err != nil {
		t.Fatal(err)
	}
	v, err = s.ActivateAgreement(ctx, v.ID, mkt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func track(user, event string, at time.Time, n int) alinea.Message {
	return alinea.Message{Type: "track", MessageID: fmt.Sprintf("%s-%s-%d", user, event, n), UserID: user, Event: event, Timestamp: at, ReceivedAt: at}
}

func identify(user, email string, at time.Time) alinea.Message {
	traits, _ := json.Marshal(map[string]any{"email": email, "title": "Directora de Marketing", "country": "ES"})
	return alinea.Message{Type: "identify", MessageID: "id-" + user, UserID: user, Traits: traits, Timestamp: at, ReceivedAt: at}
}

func stagesOf(t *testing.T, s *store.Store, id int64) []alinea.Transition {
	t.Helper()
	hist, err := s.Transitions(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

func TestLiveEvaluationMovesContactsWithWhy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		v := activeExample(t, s)
		day := func(d int) time.Time { return now.AddDate(0, 0, -d) }

		if _, err := s.Ingest(ctx, 0, []alinea.Message{identify("u1", "lucia@logistica.es", day(10)), track("u1", "Webinar Registered", day(9), 1)}); err != nil {
			t.Fatal(err)
		}
		c, _, err := s.Contacts(ctx, alinea.ContactFilter{Email: "lucia@logistica.es"})
		if err != nil || len(c) != 1 {
			t.Fatalf("contact: %v %v", c, err)
		}
		id := c[0].ID
		if got, _ := s.Contact(ctx, id); got.Stage != alinea.StageLead {
			t.Fatalf("after identify + registration the contact is %s, want lead", got.Stage)
		}
		if _, err := s.Ingest(ctx, 0, []alinea.Message{track("u1", "Webinar Attended", day(2), 1)}); err != nil {
			t.Fatal(err)
		}
		hist := stagesOf(t, s, id)
		last := hist[len(hist)-1]
		if last.To != alinea.StageMQL || last.Actor.Type != alinea.ActorRule || last.AgreementVersion != v.ID {
			t.Fatalf("last transition %+v", last)
		}
		var why map[string]any
		if err := json.Unmarshal(last.Why, &why); err != nil {
			t.Fatal(err)
		}
		if why["definition"] != "mql" || why["when"] == "" || len(why["rules"].([]any)) == 0 {
			t.Fatalf("why %s", last.Why)
		}
		// Duplicate delivery of the same events must not count twice.
		before, err := s.ContactScore(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest(ctx, 0, []alinea.Message{track("u1", "Webinar Attended", day(2), 1)}); err != nil {
			t.Fatal(err)
		}
		after, _ := s.ContactScore(ctx, id)
		if after.Result.Engagement != before.Result.Engagement || before.Result.Engagement == 0 {
			t.Fatalf("engagement %d then %d after a duplicate", before.Result.Engagement, after.Result.Engagement)
		}
		if _, err := s.Ingest(ctx, 0, []alinea.Message{track("u1", "Price List Downloaded", day(1), 1), track("u1", "Trial Started", day(0), 1)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Contact(ctx, id); got.Stage != alinea.StageSQL {
			t.Fatalf("after price list + trial: %s, want sql", got.Stage)
		}
		score, err := s.ContactScore(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !score.Result.Met("sql") || score.AgreementVersion != v.ID || len(score.Result.Engaged) != 6 {
			t.Fatalf("score %+v", score)
		}
		// Sales rejects: recycled. Old activity must not re-qualify the
		// contact; new activity may.
		if _, err := s.Transition(ctx, id, alinea.TransitionRequest{To: alinea.StageRecycled, Reason: "not_ready", Actor: alinea.Actor{Type: alinea.ActorAPI}}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if _, err := s.Ingest(ctx, 0, []alinea.Message{{Type: "page", MessageID: "late-old", UserID: "u1", Event: "Precios", Timestamp: day(30), ReceivedAt: now}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Contact(ctx, id); got.Stage != alinea.StageRecycled {
			t.Fatalf("an old event re-qualified the contact: %s", got.Stage)
		}
		if _, err := s.Ingest(ctx, 0, []alinea.Message{track("u1", "Webinar Attended", now, 2)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Contact(ctx, id); got.Stage != alinea.StageSQL {
			t.Fatalf("new activity after recycling: %s, want sql again", got.Stage)
		}
	})
}

func TestReevaluationOnActivation(t *testing.T) {
	for _, all := range []bool{false, true} {
		t.Run(map[bool]string{false: "chunk by chunk", true: "all with read-ahead"}[all], func(t *testing.T) {
			testReevaluation(t, all)
		})
	}
}

func testReevaluation(t *testing.T, all bool) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		// History from before any agreement: three qualified contacts, two not.
		var msgs []alinea.Message
		for i := range 5 {
			u := fmt.Sprintf("p%d", i)
			msgs = append(msgs, identify(u, u+"@empresa.es", now.AddDate(0, 0, -20)))
			msgs = append(msgs, track(u, "Webinar Registered", now.AddDate(0, 0, -15), 1))
			if i < 3 {
				msgs = append(msgs, track(u, "Webinar Attended", now.AddDate(0, 0, -10), 1))
			}
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
		v := activeExample(t, s)
		if err := s.QueueReevaluation(ctx, v.ID); err != nil {
			t.Fatal(err)
		}
		// An event arriving before the job reaches its contact.
		if _, err := s.Ingest(ctx, 0, []alinea.Message{track("p4", "Webinar Attended", now.AddDate(0, 0, -1), 1)}); err != nil {
			t.Fatal(err)
		}
		if all {
			if err := s.ReevaluateAll(ctx, v.ID, 2); err != nil {
				t.Fatal(err)
			}
		}
		for !all {
			more, err := s.ReevaluateChunk(ctx, v.ID, 2)
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
		}
		st, err := s.ReevaluationStatus(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status != "done" || st.Done != 5 || st.Total != 5 {
			t.Fatalf("status %+v", st)
		}
		mqls, _, err := s.Contacts(ctx, alinea.ContactFilter{Stage: alinea.StageMQL})
		if err != nil {
			t.Fatal(err)
		}
		if len(mqls) != 4 {
			t.Fatalf("%d MQLs after re-evaluation, want 4 (3 from history + 1 live)", len(mqls))
		}
		// The live-evaluated contact's registration is counted once.
		p4, _, _ := s.Contacts(ctx, alinea.ContactFilter{Email: "p4@empresa.es"})
		score, err := s.ContactScore(ctx, p4[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range score.Result.Engaged {
			if r.Event == "Webinar Registered" && r.Events != 1 {
				t.Fatalf("registrations counted %d times", r.Events)
			}
		}
		// Running the finished job again changes nothing.
		if more, err := s.ReevaluateChunk(ctx, v.ID, 2); err != nil || more {
			t.Fatalf("re-running a finished job: more=%v err=%v", more, err)
		}
	})
}

func TestBacktestAndGoalsOverStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2027, 2, 15, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		var msgs []alinea.Message
		for i := range 4 {
			u := fmt.Sprintf("b%d", i)
			at := time.Date(2027, time.Month(1+i%2), 5, 10, 0, 0, 0, time.UTC)
			msgs = append(msgs, identify(u, u+"@empresa.es", at), track(u, "Webinar Registered", at.Add(time.Hour), 1), track(u, "Webinar Attended", at.Add(2*time.Hour), 1))
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
		v := activeExample(t, s)
		c, err := agreement.Compile(v.Document)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		bt := agreement.NewBacktest(from, from.AddDate(0, 2, 0), []string{"v"}, []*agreement.Compiled{c})
		reps, err := s.Backtest(ctx, bt)
		if err != nil {
			t.Fatal(err)
		}
		if reps[0].MQLs != 4 || reps[0].Months[0].MQLs != 2 || reps[0].Months[1].MQLs != 2 {
			t.Fatalf("backtest %+v", reps[0])
		}
		plan, err := s.GoalPlan(ctx, "2027-Q1")
		if err != nil {
			t.Fatal(err)
		}
		if plan.Revenue != 150000 || plan.Needed.MQLs != 60 || plan.Rates.MQLToSQL.Source != "assumed" || plan.Elapsed <= 0 {
			t.Fatalf("plan %+v", plan)
		}
		if _, err := s.GoalPlan(ctx, "2030-01"); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Fatalf("period without goal: %v", err)
		}
		if _, err := s.GoalPlan(ctx, "2027-Q5"); alinea.ErrorFields(err)["period"] == "" {
			t.Fatalf("bad period: %v", err)
		}
	})
}

func TestPropertyChangeReevaluates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		activeExample(t, s)
		// Qualified activity but no known fit yet: SQL needs min_fit 30.
		msgs := []alinea.Message{
			{Type: "identify", MessageID: "i", UserID: "u", Traits: json.RawMessage(`{"email":"pedro@empresa.es"}`), Timestamp: now.AddDate(0, 0, -5)},
			track("u", "Webinar Registered", now.AddDate(0, 0, -4), 1), track("u", "Webinar Attended", now.AddDate(0, 0, -3), 1),
			track("u", "Price List Downloaded", now.AddDate(0, 0, -2), 1), track("u", "Trial Started", now.AddDate(0, 0, -1), 1),
		}
		if _, err := s.Ingest(ctx, 0, msgs); err != nil {
			t.Fatal(err)
		}
		c, _, _ := s.Contacts(ctx, alinea.ContactFilter{Email: "pedro@empresa.es"})
		if c[0].Stage != alinea.StageMQL {
			t.Fatalf("poor fit: %s, want mql (not sql)", c[0].Stage)
		}
		// Sales learns he is the CEO of a Spanish company: fit rises, SQL holds.
		title, country := "CEO", "ES"
		if _, err := s.UpdateContact(ctx, c[0].ID, alinea.ContactFields{JobTitle: &title, Country: &country}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Contact(ctx, c[0].ID)
		if got.Stage != alinea.StageSQL {
			t.Fatalf("after the property change: %s, want sql", got.Stage)
		}
	})
}

// TestConcurrentIngestWithAgreement sends overlapping batches at once with
// an agreement active: every batch must commit (no deadlock), and every
// contact's summary must count every event once.
func TestConcurrentIngestWithAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		activeExample(t, s)
		now := time.Now()
		var seed []alinea.Message
		for u := range 6 {
			seed = append(seed, identify(fmt.Sprintf("cc%d", u), fmt.Sprintf("cc%d@empresa.es", u), now.Add(-time.Hour)))
		}
		if _, err := s.Ingest(ctx, 0, seed); err != nil {
			t.Fatal(err)
		}
		const workers, batches = 6, 5
		errs := make(chan error, workers*batches)
		for w := range workers {
			go func() {
				for i := range batches {
					var msgs []alinea.Message
					for u := range 6 {
						// Each worker touches the contacts in a different order.
						user := fmt.Sprintf("cc%d", (u+w)%6)
						msgs = append(msgs, track(user, "Email Clicked", now, w*1000+i*10+u))
					}
					_, err := s.Ingest(ctx, 0, msgs)
					errs <- err
				}
			}()
		}
		for range workers * batches {
			if err := <-errs; err != nil {
				t.Fatalf("concurrent batch: %v", err)
			}
		}
		for u := range 6 {
			c, _, _ := s.Contacts(ctx, alinea.ContactFilter{Email: fmt.Sprintf("cc%d@empresa.es", u)})
			score, err := s.ContactScore(ctx, c[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range score.Result.Engaged {
				if r.Event == "Email Clicked" && r.Events != workers*batches {
					t.Fatalf("contact %d: %d clicks counted, want %d", u, r.Events, workers*batches)
				}
			}
		}
	})
}

func TestImportEvaluatesUnderTheActiveAgreement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		v := activeExample(t, s)
		email, title := "nuevo@empresa.es", "CEO"
		if _, err := s.UpsertContacts(ctx, []alinea.ContactFields{{Email: &email, JobTitle: &title}}, alinea.Actor{Type: alinea.ActorImport}); err != nil {
			t.Fatal(err)
		}
		c, _, _ := s.Contacts(ctx, alinea.ContactFilter{Email: email})
		// The example's lead definition is "has an email".
		if len(c) != 1 || c[0].Stage != alinea.StageLead {
			t.Fatalf("imported contact: %+v", c)
		}
		hist := stagesOf(t, s, c[0].ID)
		if last := hist[len(hist)-1]; last.AgreementVersion != v.ID || last.Actor.Type != alinea.ActorRule {
			t.Fatalf("lead transition %+v", last)
		}
		score, err := s.ContactScore(ctx, c[0].ID)
		if err != nil || score.Result.Fit != 30 {
			t.Fatalf("fit of an imported CEO: %+v %v", score.Result.Fit, err)
		}
	})
}

func TestGoalRevenueCountsOnlyTheAgreementCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		now := time.Date(2027, 2, 15, 12, 0, 0, 0, time.UTC)
		s := storetest.Open(t, b, store.Options{Now: func() time.Time { return now }})
		activeExample(t, s) // EUR
		stages, err := s.PipelineStages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var won int64
		for _, st := range stages {
			if st.Kind == alinea.DealWon {
				won = st.ID
			}
		}
		for _, d := range []struct {
			cur    string
			amount int64
		}{{"EUR", 1200000}, {"MXN", 90000000}} {
			name, cur, amount := "Trato "+d.cur, d.cur, d.amount
			if _, err := s.CreateDeal(ctx, alinea.DealFields{Name: &name, Currency: &cur, Amount: &amount, StageID: &won}, alinea.Actor{Type: alinea.ActorAPI}); err != nil {
				t.Fatal(err)
			}
		}
		now = now.Add(time.Hour)
		plan, err := s.GoalPlan(ctx, "2027-Q1")
		if err != nil {
			t.Fatal(err)
		}
		if plan.Actual.Deals != 1 || plan.Actual.Revenue != 12000 {
			t.Fatalf("actual %+v: want the EUR deal only (12,000)", plan.Actual)
		}
	})
}
