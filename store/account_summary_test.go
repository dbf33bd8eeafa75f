package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func TestAccountFiltersAndSummaries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		carlos := newUser(t, s, "carlos@example.com", alinea.RoleSales)
		emily := newUser(t, s, "emily@example.com", alinea.RoleSales)
		type acc struct {
			name, industry, country string
			owner                   int64
		}
		var ids []int64
		for _, a := range []acc{
			{"Acme Ibérica", "software", "ES", carlos.ID},
			{"Bravo Retail", "retail", "ES", carlos.ID},
			{"Cóndor Software", "software", "MX", emily.ID},
			{"Delta Foods", "food", "US", emily.ID},
			{"Echo Labs", "software", "es", 0},
			{"Nameless", "", "", 0},
		} {
			f := alinea.AccountFields{Name: ptr(a.name), Industry: ptr(a.industry), Country: ptr(a.country)}
			if a.owner != 0 {
				f.OwnerID = ptr(a.owner)
			}
			created, err := s.CreateAccount(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, created.ID)
		}
		names := func(f alinea.AccountFilter) []string {
			t.Helper()
			as, _, err := s.Accounts(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, a := range as {
				out = append(out, a.Name)
			}
			return out
		}
		for _, tc := range []struct {
			name string
			f    alinea.AccountFilter
			want []string
		}{
			{"industry", alinea.AccountFilter{Industry: "software"}, []string{"Acme Ibérica", "Cóndor Software", "Echo Labs"}},
			{"country, any case", alinea.AccountFilter{Country: "es"}, []string{"Acme Ibérica", "Bravo Retail", "Echo Labs"}},
			{"owner", alinea.AccountFilter{OwnerID: emily.ID}, []string{"Cóndor Software", "Delta Foods"}},
			{"industry and country", alinea.AccountFilter{Industry: "software", Country: "ES"}, []string{"Acme Ibérica", "Echo Labs"}},
			{"search and owner", alinea.AccountFilter{Search: "LABS", OwnerID: carlos.ID}, nil},
			{"newest first", alinea.AccountFilter{Before: math.MaxInt64, Industry: "software"}, []string{"Echo Labs", "Cóndor Software", "Acme Ibérica"}},
			{"before a cursor", alinea.AccountFilter{Before: ids[2]}, []string{"Bravo Retail", "Acme Ibérica"}},
		} {
			if got := names(tc.f); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
			}
		}
		page, next, err := s.Accounts(ctx, alinea.AccountFilter{Before: math.MaxInt64, Limit: 4})
		if err != nil || len(page) != 4 || next != ids[2] {
			t.Fatalf("first page downwards: %d accounts, cursor %d (want %d) %v", len(page), next, ids[2], err)
		}

		facets, err := s.AccountFacets(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(facets.Industries, []string{"food", "retail", "software"}) || !slices.Equal(facets.Countries, []string{"ES", "MX", "US"}) {
			t.Errorf("facets %+v", facets)
		}

		// Contacts and deals of the first two accounts.
		acme, bravo := ids[0], ids[1]
		for i, stage := range []alinea.Stage{alinea.StageMQL, alinea.StageMQL, alinea.StageSQL, alinea.StageCustomer} {
			_, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr(fmt.Sprintf("p%d@acme.es", i)), AccountID: ptr(acme), Stage: ptr(stage)}, alinea.Actor{Type: alinea.ActorAPI})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("x@bravo.es"), AccountID: ptr(bravo)}, alinea.Actor{Type: alinea.ActorAPI}); err != nil {
			t.Fatal(err)
		}
		stages, err := s.PipelineStages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		stageOf := map[string]int64{}
		for _, st := range stages {
			stageOf[st.Name] = st.ID
		}
		actor := alinea.Actor{Type: alinea.ActorUser, UserID: carlos.ID, Role: alinea.RoleSales}
		deal := func(account int64, amount int64, currency, stage string) {
			t.Helper()
			d, err := s.CreateDeal(ctx, alinea.DealFields{Name: ptr("deal"), AccountID: ptr(account), Amount: ptr(amount), Currency: ptr(currency)}, actor)
			if err != nil {
				t.Fatal(err)
			}
			if stage != "" {
				if _, err := s.MoveDeal(ctx, d.ID, alinea.DealMove{StageID: stageOf[stage], Reason: "price", Actor: actor}); err != nil {
					t.Fatal(err)
				}
			}
		}
		deal(acme, 1_000_000, "EUR", "")
		deal(acme, 250_000, "EUR", "")
		deal(acme, 900_000, "USD", "")
		deal(acme, 5_000_000, "EUR", "won")
		deal(acme, 700_000, "EUR", "lost")
		deal(bravo, 300_000, "EUR", "won")

		totals, err := s.AccountTotals(ctx, []int64{acme, bravo, ids[3], 0, acme})
		if err != nil {
			t.Fatal(err)
		}
		wantOpen := []store.Amount{{Currency: "EUR", Minor: 1_250_000}, {Currency: "USD", Minor: 900_000}}
		if got := totals[acme]; got.Contacts != 4 || !slices.Equal(got.Open, wantOpen) {
			t.Errorf("acme totals %+v, want 4 contacts and %v open", got, wantOpen)
		}
		if got := totals[bravo]; got.Contacts != 1 || len(got.Open) != 0 {
			t.Errorf("bravo totals %+v: won deals are not open pipeline", got)
		}
		if _, ok := totals[ids[3]]; ok {
			t.Errorf("an account without contacts or deals has totals %+v", totals[ids[3]])
		}

		sum, err := s.AccountSummary(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Contacts != 4 || sum.Stages[alinea.StageMQL] != 2 || sum.Stages[alinea.StageSQL] != 1 || sum.Stages[alinea.StageCustomer] != 1 {
			t.Errorf("acme stages %+v", sum)
		}
		if sum.OpenDeals != 3 || !slices.Equal(sum.Open, wantOpen) || sum.WonDeals != 1 || !slices.Equal(sum.Won, []store.Amount{{Currency: "EUR", Minor: 5_000_000}}) ||
			sum.LostDeals != 1 || sum.Lost[0].Minor != 700_000 {
			t.Errorf("acme deals %+v", sum)
		}
		if _, err := s.AccountSummary(ctx, 9999); alinea.ErrorCode(err) != alinea.ENOTFOUND {
			t.Errorf("unknown account: got %v", err)
		}
	})
}

// BenchmarkAccountsPage measures what one page of the accounts list reads
// at 100,000 accounts (300,000 contacts, 30,000 deals) on SQLite: the page
// under each filter, its totals and the filters' choices.
//
//	go test -run '^$' -bench AccountsPage ./store/
func BenchmarkAccountsPage(b *testing.B) {
	ctx := context.Background()
	s := storetest.Open(b, store.SQLite, store.Options{BulkLoad: true})
	db, _ := s.Handles()
	owner := newUserB(b, s)
	const accounts = 100_000
	industries := []string{"software", "retail", "manufacturing", "logistics", "healthcare", "education", "finance", "hospitality", "food", "construction"}
	countries := []string{"ES", "MX", "AR", "CO", "CL", "PE", "US", "GB"}
	bulk(b, db, func(tx *sql.Tx) {
		for i := 1; i <= accounts; i++ {
			var ownerID any
			if i%5 == 0 {
				ownerID = owner
			}
			mustExec(b, tx, `INSERT INTO accounts (id, name, domain, industry, employees, country, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0)`,
				i, fmt.Sprintf("Company %d Group", i), fmt.Sprintf("company%d.example", i), industries[i%len(industries)], i%5000, countries[i%len(countries)], ownerID)
		}
		for i := 1; i <= 3*accounts; i++ {
			mustExec(b, tx, `INSERT INTO contacts (id, email, account_id, stage, stage_changed_at, created_at, updated_at) VALUES (?, ?, ?, 'mql', 0, 0, 0)`,
				i, fmt.Sprintf("p%d@example.com", i), 1+i%accounts)
		}
		for i := 1; i <= accounts*3/10; i++ {
			mustExec(b, tx, `INSERT INTO deals (id, name, account_id, stage_id, status, amount, created_at, updated_at) VALUES (?, 'deal', ?, 1, 'open', ?, 0, 0)`,
				i, 1+(i*7)%accounts, 100_000+i)
		}
	})
	for _, tc := range []struct {
		name string
		f    alinea.AccountFilter
	}{
		{"newest", alinea.AccountFilter{}},
		{"older", alinea.AccountFilter{Before: accounts / 2}},
		{"industry", alinea.AccountFilter{Industry: "finance"}},
		{"country", alinea.AccountFilter{Country: "CL"}},
		{"owner", alinea.AccountFilter{OwnerID: owner}},
		{"search", alinea.AccountFilter{Search: "company 4"}},
		{"search_rare", alinea.AccountFilter{Search: "99999 group"}},
		{"domain", alinea.AccountFilter{Domain: "company777.example"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.f
			if f.Before == 0 {
				f.Before = math.MaxInt64
			}
			f.Limit = 50
			for b.Loop() {
				page, _, err := s.Accounts(ctx, f)
				if err != nil {
					b.Fatal(err)
				}
				ids := make([]int64, len(page))
				for i, a := range page {
					ids[i] = a.ID
				}
				if _, err := s.AccountTotals(ctx, ids); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("facets", func(b *testing.B) {
		for b.Loop() {
			f, err := s.AccountFacets(ctx)
			if err != nil || len(f.Industries) != len(industries) {
				b.Fatalf("%+v %v", f, err)
			}
		}
	})
	b.Run("summary", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.AccountSummary(ctx, 4242); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func newUserB(b *testing.B, s *store.Store) int64 {
	u, err := s.CreateUser(context.Background(), alinea.NewUser{Email: "owner@example.com", Name: "Owner", Role: alinea.RoleSales, Password: testPassword})
	if err != nil {
		b.Fatal(err)
	}
	return u.ID
}

func bulk(b *testing.B, db *sql.DB, fill func(tx *sql.Tx)) {
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	fill(tx)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func mustExec(b *testing.B, tx *sql.Tx, q string, args ...any) {
	if _, err := tx.Exec(q, args...); err != nil {
		b.Fatal(err)
	}
}
