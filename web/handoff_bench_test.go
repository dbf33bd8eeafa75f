package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// benchHandoffs is how many of the demo's leads become MQLs and are routed
// before the handoff pages are measured: about a month of the agreement's
// 20 MQLs a month, ten times over.
const benchHandoffs = 200

// BenchmarkHandoffPages measures the server time of the inbox and the SLA
// report on the demo's data (5,000 contacts, 100,000 events by default)
// with the example agreement active and 200 leads handed to sales, a third
// of them accepted and a third sent back. ALINEA_BENCH_DEMO_DB points at a
// file made by `alinea demo` to use instead of building one (it is copied,
// not changed):
//
//	go test -run '^$' -bench HandoffPages -benchtime 100x ./web/
func BenchmarkHandoffPages(b *testing.B) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(24 * time.Hour).Add(10 * time.Hour)
	path := benchDemoDB(b, now)
	clock := &demo.Clock{}
	clock.Set(now)
	st, err := store.Open(ctx, path, store.Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := &app{t: b, store: st, clock: clock}
	users, err := st.Users(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range users {
		a.users = append(a.users, demo.Credential{Email: u.Email, Name: u.Name, Role: u.Role})
	}
	activateAgreement(b, a, now.Format("2006")+"-Q1")
	handOffDemoLeads(b, st, clock)
	srv := server.New(server.Config{Store: st, Now: clock.Now})

	for _, page := range []struct{ name, email, path string }{
		{"inbox_rep", "carlos.ruiz@vertice.example", "/inbox"},
		{"inbox_manager", "ana.morales@vertice.example", "/inbox"},
		{"sla_report_month", "marta.gomez@vertice.example", "/reports/sla"},
		{"sla_report_quarter", "marta.gomez@vertice.example", fmt.Sprintf("/reports/sla?period=%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)},
	} {
		u, err := st.UserByEmail(ctx, page.email)
		if err != nil {
			b.Fatal(err)
		}
		_, token, err := st.CreateSession(ctx, u.ID, clock.Now().Add(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.AddCookie(&http.Cookie{Name: "alinea_session", Value: token})
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", page.path, w.Code)
				}
			}
		})
	}
}

// handOffDemoLeads moves demo leads to mql as marketing would, routes them
// and has each owner accept a third and send a third back, an hour apart.
func handOffDemoLeads(tb testing.TB, st *store.Store, clock *demo.Clock) {
	tb.Helper()
	ctx := context.Background()
	marketing, err := st.UserByEmail(ctx, "marta.gomez@vertice.example")
	if err != nil {
		tb.Fatal(err)
	}
	actor := alinea.Actor{Type: alinea.ActorUser, UserID: marketing.ID, Role: alinea.RoleMarketing}
	leads, _, err := st.Contacts(ctx, alinea.ContactFilter{Stage: alinea.StageLead, Limit: benchHandoffs})
	if err != nil {
		tb.Fatal(err)
	}
	if len(leads) < benchHandoffs {
		tb.Fatalf("the demo has %d leads, want %d", len(leads), benchHandoffs)
	}
	for _, c := range leads {
		if _, err := st.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageMQL, Actor: actor}); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := st.SweepHandoffs(ctx); err != nil {
		tb.Fatal(err)
	}
	clock.Set(clock.Now().Add(time.Hour))
	open, _, err := st.Handoffs(ctx, alinea.HandoffFilter{Status: alinea.HandoffOpen, Limit: benchHandoffs})
	if err != nil {
		tb.Fatal(err)
	}
	reasons := []string{"no_budget", "bad_fit", "not_ready", "no_response"}
	for i, h := range open {
		if h.OwnerID == 0 {
			continue
		}
		owner, err := st.User(ctx, h.OwnerID)
		if err != nil {
			tb.Fatal(err)
		}
		switch i % 3 {
		case 0:
			_, err = st.AcceptHandoff(ctx, h.ID, owner)
		case 1:
			_, err = st.RejectHandoff(ctx, h.ID, owner, alinea.HandoffDecision{Reason: reasons[i%len(reasons)], Comment: "benchmark"})
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}
