package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// BenchmarkAgreementPages measures the server time of the agreement pages
// on the demo's data with the example agreement active and a proposed
// version waiting, the backtest (12 months, two versions) included. Like
// BenchmarkPages, ALINEA_BENCH_DEMO_DB names a demo database to copy:
//
//	go test -run '^$' -bench AgreementPages -benchtime 50x ./web/
func BenchmarkAgreementPages(b *testing.B) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(24 * time.Hour)
	path := benchDemoDB(b, now)
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	srv := server.New(server.Config{Store: st})

	user := func(role alinea.Role) alinea.User {
		us, err := st.Users(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for _, u := range us {
			if u.Role == role {
				return u
			}
		}
		b.Fatalf("no %s user", role)
		return alinea.User{}
	}
	mkt, sales, manager := user(alinea.RoleMarketing), user(alinea.RoleSales), user(alinea.RoleManager)
	quarter := fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	src := strings.Replace(string(agreement.Example), "period: 2027-Q1", "period: "+quarter, 1)
	step := func(v agreement.Version, err error) agreement.Version {
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	active := step(st.CreateAgreement(ctx, []byte(src), 0, mkt.ID))
	step(st.ProposeAgreement(ctx, active.ID, mkt.ID))
	step(st.SignAgreement(ctx, active.ID, mkt))
	step(st.SignAgreement(ctx, active.ID, sales))
	step(st.ActivateAgreement(ctx, active.ID, mkt.ID))
	proposed := step(st.CreateAgreement(ctx, []byte(moreFitForSpain(src)), active.ID, mkt.ID))
	step(st.ProposeAgreement(ctx, proposed.ID, mkt.ID))
	draft := step(st.CreateAgreement(ctx, []byte(src), active.ID, mkt.ID))

	_, token, err := st.CreateSession(ctx, manager.ID, time.Now().Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for _, page := range []struct{ name, path string }{
		{"overview", "/agreement"},
		{"proposed", versionPath(proposed.ID)},
		{"draft", versionPath(draft.ID)},
		{"backtest", versionPath(proposed.ID) + "?backtest=1"},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, page.path, nil)
				req.Header.Set("Accept-Language", "es")
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
