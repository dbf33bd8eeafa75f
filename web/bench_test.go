package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// benchDemoDB returns a demo database for a benchmark to open: a copy of
// the file ALINEA_BENCH_DEMO_DB names (the original is not changed), or one
// built with data up to now, which takes a while.
func benchDemoDB(b *testing.B, now time.Time) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "demo.db")
	if src := os.Getenv("ALINEA_BENCH_DEMO_DB"); src != "" {
		raw, err := os.ReadFile(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, raw, 0o600); err != nil {
			b.Fatal(err)
		}
		return path
	}
	if _, err := demo.Build(context.Background(), path, demo.Config{Seed: 1, Contacts: demo.DefaultContacts, Events: demo.DefaultEvents, Now: now}); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkPages measures the server time of each page on the demo's data
// (5,000 contacts, 100,000 events by default), from the request to the last
// byte written, without the network. Point ALINEA_BENCH_DEMO_DB at a file
// made by `alinea demo` to use it (it is copied, not changed); otherwise the
// benchmark builds one first, which takes a while:
//
//	go test -run '^$' -bench Pages -benchtime 200x ./web/
func BenchmarkPages(b *testing.B) {
	ctx := context.Background()
	anchor := time.Now().UTC().Truncate(24 * time.Hour)
	path := benchDemoDB(b, anchor)
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Store: st})

	manager, err := st.UserByEmail(ctx, "ana.morales@vertice.example")
	if err != nil {
		b.Fatal(err)
	}
	_, token, err := st.CreateSession(ctx, manager.ID, time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	busiest, err := busiestContact(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	owner := manager.ID
	for _, page := range []struct{ name, path string }{
		{"signin", "/signin"},
		{"home", "/"},
		{"contacts", "/contacts"},
		{"contacts_older", "/contacts?before=2500"},
		{"contacts_stage", "/contacts?stage=sql"},
		{"contacts_mode", "/contacts?mode=buy"},
		{"contacts_owner", fmt.Sprintf("/contacts?owner=%d", owner)},
		{"contacts_search", "/contacts?q=garc"},
		{"contact", contactPath(busiest)},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.Header.Set("Accept-Language", "es")
				if page.name != "signin" {
					req.AddCookie(&http.Cookie{Name: "alinea_session", Value: token})
				}
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", page.path, w.Code)
				}
			}
		})
	}
}

// busiestContact is a contact with a long timeline: a customer.
func busiestContact(ctx context.Context, st *store.Store) (int64, error) {
	cs, _, err := st.Contacts(ctx, alinea.ContactFilter{Stage: alinea.StageCustomer, Limit: 1})
	if err != nil || len(cs) == 0 {
		return 0, fmt.Errorf("no customer in the demo: %v", err)
	}
	return cs[0].ID, nil
}
