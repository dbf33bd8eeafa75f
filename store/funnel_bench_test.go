package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// listScale is the number of contacts for the web UI's list and funnel
// benchmarks: ALINEA_BENCH_LIST_CONTACTS, default 100,000. The contacts list
// must stay fast at 1,000,000:
//
//	ALINEA_BENCH_LIST_CONTACTS=1000000 go test -run '^$' -bench 'ContactList|Funnel' -timeout 30m ./store/
func listScale(b *testing.B) int {
	if v := os.Getenv("ALINEA_BENCH_LIST_CONTACTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("ALINEA_BENCH_LIST_CONTACTS=%q: want a positive number", v)
		}
		return n
	}
	return 100_000
}

// listStages spreads contacts over the funnel roughly as the demo does,
// most of them leads: stage -> weight in a hundred.
var listStages = []struct {
	stage  alinea.Stage
	weight int
}{
	{alinea.StageSubscriber, 12}, {alinea.StageLead, 58}, {alinea.StageMQL, 5}, {alinea.StageSAL, 3}, {alinea.StageSQL, 2},
	{alinea.StageOpportunity, 2}, {alinea.StageCustomer, 4}, {alinea.StageEvangelist, 1}, {alinea.StageRecycled, 9}, {alinea.StageDisqualified, 4},
}

// loadListData fills a fresh SQLite store with n contacts, each with a
// stage, an owner, a grade and two or three transitions over the last
// year, written directly (the load is not what is measured).
func loadListData(b *testing.B, n int) *store.Store {
	b.Helper()
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "list.db")
	s, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var owners []int64
	for i := range 8 {
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: fmt.Sprintf("rep%d@example.com", i), Name: fmt.Sprintf("Rep %d", i), Role: alinea.RoleSales, Password: "a long enough password"})
		if err != nil {
			b.Fatal(err)
		}
		owners = append(owners, u.ID)
	}
	s.Close()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=OFF&_foreign_keys=off&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var stageOf []alinea.Stage
	for _, s := range listStages {
		for range s.weight {
			stageOf = append(stageOf, s.stage)
		}
	}
	first := []string{"Ana", "Luis", "María", "Carlos", "Lucía", "Javier", "Emily", "James", "Sofía", "Diego", "Valentina", "Martín"}
	last := []string{"García", "Rodríguez", "López", "Martínez", "Smith", "Johnson", "Fernández", "Gómez", "Díaz", "Pérez", "Brown", "Torres"}
	grades := []string{"A1", "A2", "B1", "B2", "B3", "C2", "C3", "C4", "D3", "D4"}
	now := time.Now()
	from := now.AddDate(-1, 0, 0).UnixMilli()
	span := now.UnixMilli() - from

	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	const perStmt = 200
	type batch struct {
		q    string
		cols int
		args []any
	}
	contacts := &batch{q: `INSERT INTO contacts (id, email, first_name, last_name, owner_id, stage, stage_changed_at, properties, created_at, updated_at) VALUES `, cols: 10}
	moves := &batch{q: `INSERT INTO stage_transitions (contact_id, from_stage, to_stage, at, actor_type, why) VALUES `, cols: 6}
	scores := &batch{q: `INSERT INTO contact_scores (contact_id, agreement_id, summary, fit, engagement, grade, result, evaluated_at) VALUES `, cols: 8}
	flush := func(bt *batch) {
		if len(bt.args) == 0 {
			return
		}
		one := "(" + strings.TrimSuffix(strings.Repeat("?,", bt.cols), ",") + ")"
		if _, err := tx.Exec(bt.q+strings.TrimSuffix(strings.Repeat(one+",", len(bt.args)/bt.cols), ","), bt.args...); err != nil {
			b.Fatal(err)
		}
		bt.args = bt.args[:0]
	}
	add := func(bt *batch, row ...any) {
		bt.args = append(bt.args, row...)
		if len(bt.args) >= perStmt*bt.cols {
			flush(bt)
		}
	}
	for i := 1; i <= n; i++ {
		stage := stageOf[(i*37)%len(stageOf)]
		created := from + span*int64(i)/int64(n+1)
		changed := created + (now.UnixMilli()-created)*int64((i*31)%100)/100
		fn, ln := first[i%len(first)], last[(i/len(first))%len(last)]
		email := fmt.Sprintf("%s.%s%d@empresa%d.es", strings.ToLower(fn), strings.ToLower(ln), i, i%5000)
		add(contacts, i, email, fn, ln, owners[i%len(owners)], stage, changed, "{}", created, changed)
		add(moves, i, "", alinea.StageSubscriber, created, "api", "{}")
		if stage != alinea.StageSubscriber {
			add(moves, i, alinea.StageSubscriber, alinea.StageLead, created+1000, "rule", "{}")
		}
		if stage != alinea.StageSubscriber && stage != alinea.StageLead {
			add(moves, i, alinea.StageLead, stage, changed, "user", "{}")
		}
		add(scores, i, 1, "{}", 50, 40, grades[i%len(grades)], "{}", changed)
		if i%50_000 == 0 {
			flush(contacts)
			flush(moves)
			flush(scores)
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			if tx, err = db.Begin(); err != nil {
				b.Fatal(err)
			}
		}
	}
	flush(contacts)
	flush(moves)
	flush(scores)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	s, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkContactList measures one page of the contacts list (50 rows,
// newest first, as the web UI asks for it) under each filter.
func BenchmarkContactList(b *testing.B) {
	n := listScale(b)
	s := loadListData(b, n)
	ctx := context.Background()
	owner, err := s.UserByEmail(ctx, "rep3@example.com")
	if err != nil {
		b.Fatal(err)
	}
	newest := int64(1) << 62
	for _, tc := range []struct {
		name string
		f    alinea.ContactFilter
	}{
		{"first_page", alinea.ContactFilter{}},
		{"deep_page", alinea.ContactFilter{Before: int64(n / 2)}},
		{"stage_sql", alinea.ContactFilter{Stage: alinea.StageSQL}},
		{"mode_buy", alinea.ContactFilter{Mode: alinea.ModeBuy}},
		{"mode_information", alinea.ContactFilter{Mode: alinea.ModeInformation}},
		{"owner", alinea.ContactFilter{OwnerID: owner.ID}},
		{"grade_A1", alinea.ContactFilter{Grade: "A1"}},
		{"owner_and_stage", alinea.ContactFilter{OwnerID: owner.ID, Stage: alinea.StageMQL}},
		{"search_common", alinea.ContactFilter{Search: "garcía"}},
		{"search_rare", alinea.ContactFilter{Search: "nadiesellamaasí"}},
		{"email_exact", alinea.ContactFilter{Email: fmt.Sprintf("ana.garcía%d@empresa%d.es", n-11, (n-11)%5000)}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			f := tc.f
			f.Limit = 50
			if f.Before == 0 {
				f.Before = newest
			}
			for b.Loop() {
				if _, _, err := s.Contacts(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFunnel measures the home page's funnel queries: contacts per
// stage now and the 90-day stage flows.
func BenchmarkFunnel(b *testing.B) {
	s := loadListData(b, listScale(b))
	ctx := context.Background()
	b.Run("stage_counts", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.StageCounts(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("stage_flows_90d", func(b *testing.B) {
		now := time.Now()
		for b.Loop() {
			if _, err := s.StageFlows(ctx, now.AddDate(0, 0, -90), now); err != nil {
				b.Fatal(err)
			}
		}
	})
}
