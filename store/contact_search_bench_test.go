package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// dropSearchIndex removes what migration 00015 added, leaving the store as
// it was before it: the "without" side of the cost comparisons below.
func dropSearchIndex(tb testing.TB, s *store.Store) {
	tb.Helper()
	db, _ := s.Handles()
	stmts := []string{`DROP TRIGGER contacts_search_insert`, `DROP TRIGGER contacts_search_update_old`,
		`DROP TRIGGER contacts_search_update_new`, `DROP TRIGGER contacts_search_delete`, `DROP TABLE contacts_search`}
	if s.Backend() == store.Postgres {
		stmts = []string{`DROP INDEX contacts_search`, `ALTER TABLE contacts DROP COLUMN search`}
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// BenchmarkImportSearchIndex measures what keeping the search index costs
// the CSV import: the same generated file (ALINEA_BENCH_ROWS rows, default
// 100,000) imported into fresh SQLite stores with and without the index,
// alternately, in the same run:
//
//	ALINEA_BENCH_ROWS=1000000 go test -run '^$' -bench ImportSearchIndex -benchtime 3x -timeout 30m ./store/
func BenchmarkImportSearchIndex(b *testing.B) {
	n := 100_000
	if v := os.Getenv("ALINEA_BENCH_ROWS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n <= 0 {
			b.Fatalf("ALINEA_BENCH_ROWS=%q: want a positive number", v)
		}
	}
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "contacts.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	if err := csvimport.WriteSample(f, n); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var with, without time.Duration
	for i := range b.N {
		for _, indexed := range []bool{i%2 == 0, i%2 != 0} {
			s, err := store.Open(ctx, filepath.Join(dir, fmt.Sprintf("import-%d-%t.db", i, indexed)), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			if !indexed {
				dropSearchIndex(b, s)
			}
			in, err := os.Open(csvPath)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			im, err := csvimport.New(in, csvimport.Options{})
			if err != nil {
				b.Fatal(err)
			}
			sum, err := im.Run(ctx, s)
			took := time.Since(start)
			in.Close()
			s.Close()
			if err != nil {
				b.Fatal(err)
			}
			if sum.Created != n {
				b.Fatalf("summary %+v, want %d created", sum, n)
			}
			if indexed {
				with += took
			} else {
				without += took
			}
		}
	}
	rows := float64(n * b.N)
	b.ReportMetric(rows/with.Seconds(), "rows/s-indexed")
	b.ReportMetric(rows/without.Seconds(), "rows/s-unindexed")
	b.ReportMetric(without.Seconds()/with.Seconds(), "ratio")
}

// BenchmarkIngestSearchIndex measures what keeping the search index costs
// ingestion: the load of BenchmarkIngestStore (16 goroutines, 100 calls a
// batch, 5% of them identify calls of new people with names and emails)
// into stores with and without the index, alternately, in the same run:
//
//	go test -run '^$' -bench IngestSearchIndex -benchtime 3x ./store/
//
// Each iteration ingests ALINEA_BENCH_BATCHES batches (default 1,000) on
// each side. PostgreSQL is measured too when ALINEA_TEST_POSTGRES is set.
func BenchmarkIngestSearchIndex(b *testing.B) {
	batchesPerRun := 1000
	if v := os.Getenv("ALINEA_BENCH_BATCHES"); v != "" {
		if _, err := fmt.Sscan(v, &batchesPerRun); err != nil || batchesPerRun <= 0 {
			b.Fatalf("ALINEA_BENCH_BATCHES=%q: want a positive number", v)
		}
	}
	for _, backend := range storetest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			var with, without time.Duration
			for i := range b.N {
				for _, indexed := range []bool{i%2 == 0, i%2 != 0} {
					took := ingestOnce(b, backend, indexed, batchesPerRun)
					if indexed {
						with += took
					} else {
						without += took
					}
				}
			}
			events := float64(batchesPerRun * benchPerBatch * b.N)
			b.ReportMetric(events/with.Seconds(), "events/s-indexed")
			b.ReportMetric(events/without.Seconds(), "events/s-unindexed")
			b.ReportMetric(without.Seconds()/with.Seconds(), "ratio")
		})
	}
}

// ingestOnce seeds a fresh store as benchIngestStore does and times the
// ingestion of n batches from 16 goroutines.
func ingestOnce(b *testing.B, backend store.Backend, indexed bool, n int) time.Duration {
	ctx := context.Background()
	s := storetest.Open(b, backend, store.Options{})
	defer s.Close()
	if !indexed {
		dropSearchIndex(b, s)
	}
	now := time.Now()
	seed := make([]alinea.Message, 0, benchKnownPeople)
	for u := range benchKnownPeople {
		seed = append(seed, alinea.Message{Type: "identify", MessageID: fmt.Sprintf("seed-%d", u), UserID: fmt.Sprintf("user-%d", u),
			Traits: json.RawMessage(fmt.Sprintf(`{"email":"user%d@empresa%d.es","firstName":"Lucía"}`, u, u%300)), ReceivedAt: now})
	}
	for i := 0; i < len(seed); i += 1000 {
		if _, err := s.Ingest(ctx, 0, seed[i:min(i+1000, len(seed))]); err != nil {
			b.Fatal(err)
		}
	}
	batches := benchBatches(n, now)
	work := make(chan []alinea.Message)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	start := time.Now()
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for batch := range work {
				if _, err := s.Ingest(ctx, 0, batch); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
				}
			}
		}()
	}
	for _, batch := range batches {
		work <- batch
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	if failed != nil {
		b.Fatal(failed)
	}
	return took
}

// BenchmarkContactSearch measures one page of the contacts list (50 rows,
// newest first, as the web UI asks for it) for searches of every kind on
// ALINEA_BENCH_LIST_CONTACTS contacts (default 100,000), the data of
// BenchmarkContactList: 12 first names × 12 last names, emails
// name.surnameN@empresaM.es. SQLite, and PostgreSQL when
// ALINEA_TEST_POSTGRES is set:
//
//	ALINEA_BENCH_LIST_CONTACTS=1000000 go test -run '^$' -bench ContactSearch -timeout 60m ./store/
//
// The index is brought up to date (IndexContactSearch) before measuring;
// "index_catch_up" reports how fast that went on SQLite.
func BenchmarkContactSearch(b *testing.B) {
	n := listScale(b)
	ctx := context.Background()
	for _, backend := range storetest.Backends(b) {
		b.Run(string(backend), func(b *testing.B) {
			var s *store.Store
			if backend == store.SQLite {
				s = loadListData(b, n)
				start := time.Now()
				indexed, err := s.IndexContactSearch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("indexed %d contacts in %v (%.0f contacts/s)", indexed, time.Since(start), float64(indexed)/time.Since(start).Seconds())
			} else {
				s = loadListDataPostgres(b, n)
			}
			owner, err := s.UserByEmail(ctx, "rep3@example.com")
			if err != nil {
				b.Fatal(err)
			}
			// A contact near the middle, to look up by a word only it has.
			mid := n / 2
			unique := fmt.Sprintf("%s%d", []string{"garcia", "rodriguez", "lopez", "martinez", "smith", "johnson", "fernandez", "gomez", "diaz", "perez", "brown", "torres"}[(mid/12)%12], mid)
			for _, tc := range []struct {
				name string
				f    alinea.ContactFilter
				want int // -1: any
			}{
				{"common_word", alinea.ContactFilter{Search: "garcía"}, 50},
				{"common_prefix_2", alinea.ContactFilter{Search: "ma"}, 50},
				{"common_prefix_4", alinea.ContactFilter{Search: "garc"}, 50},
				{"two_words_together", alinea.ContactFilter{Search: "lucia perez"}, 50},
				{"two_common_words_never_together", alinea.ContactFilter{Search: "garcía smith"}, 0},
				{"no_match", alinea.ContactFilter{Search: "nadiesellamaasí"}, 0},
				{"rare_prefix", alinea.ContactFilter{Search: "zq"}, 0},
				{"one_contact_by_word", alinea.ContactFilter{Search: unique}, 1},
				{"email_domain", alinea.ContactFilter{Search: fmt.Sprintf("@empresa%d.es", 4321%5000)}, -1},
				{"phrase_in_email", alinea.ContactFilter{Search: "ana.garcia1"}, -1},
				{"common_word_and_stage", alinea.ContactFilter{Search: "garcía", Stage: alinea.StageSQL}, -1},
				{"common_word_and_owner", alinea.ContactFilter{Search: "smith", OwnerID: owner.ID}, 50},
				{"rare_word_and_stage", alinea.ContactFilter{Search: unique, Stage: alinea.StageLead}, -1},
				{"common_word_deep_page", alinea.ContactFilter{Search: "garcía", Before: int64(n / 2)}, 50},
				{"rare_word_deep_page", alinea.ContactFilter{Search: "lucia perez", Before: int64(n / 2)}, 50},
				{"common_word_oldest_first", alinea.ContactFilter{Search: "garcía", After: 1}, 50},
				{"no_match_oldest_first", alinea.ContactFilter{Search: "nadiesellamaasí", After: 1}, 0},
			} {
				b.Run(tc.name, func(b *testing.B) {
					f := tc.f
					f.Limit = 50
					if f.After == 0 && f.Before == 0 {
						f.Before = 1 << 62
					}
					for b.Loop() {
						got, _, err := s.Contacts(ctx, f)
						if err != nil {
							b.Fatal(err)
						}
						if tc.want >= 0 && len(got) != tc.want {
							b.Fatalf("%d contacts, want %d", len(got), tc.want)
						}
					}
				})
			}
			// The search before migration 00015, a LIKE scan, on the same
			// data for comparison.
			db, _ := s.Handles()
			like := `SELECT id FROM contacts WHERE (email LIKE $1 OR lower(first_name || ' ' || last_name) LIKE $1) AND id < $2 ORDER BY id DESC LIMIT 51`
			if backend == store.SQLite {
				like = strings.ReplaceAll(like, "$", "?")
			}
			for _, word := range []string{"garcía", "nadiesellamaasí"} {
				b.Run("like_scan_before_00015/"+word, func(b *testing.B) {
					for b.Loop() {
						rows, err := db.QueryContext(ctx, like, "%"+word+"%", int64(1)<<62)
						if err != nil {
							b.Fatal(err)
						}
						for rows.Next() {
						}
						rows.Close()
					}
				})
			}
		})
	}
}

// loadListDataPostgres fills a fresh PostgreSQL store with the contacts of
// loadListData (names, emails, stages and owners; no transitions or scores),
// generated by the server.
func loadListDataPostgres(b *testing.B, n int) *store.Store {
	b.Helper()
	ctx := context.Background()
	s := storetest.Open(b, store.Postgres, store.Options{})
	var owners []int64
	for i := range 8 {
		u, err := s.CreateUser(ctx, alinea.NewUser{Email: fmt.Sprintf("rep%d@example.com", i), Name: fmt.Sprintf("Rep %d", i), Role: alinea.RoleSales, Password: "a long enough password"})
		if err != nil {
			b.Fatal(err)
		}
		owners = append(owners, u.ID)
	}
	var stages []string
	for _, st := range listStages {
		for range st.weight {
			stages = append(stages, string(st.stage))
		}
	}
	db, _ := s.Handles()
	_, err := db.ExecContext(ctx, `INSERT INTO contacts (id, email, first_name, last_name, owner_id, stage, stage_changed_at, properties, created_at, updated_at)
		SELECT i, lower(f) || '.' || lower(l) || i || '@empresa' || (i % 5000) || '.es', f, l, ($3::bigint[])[i % 8 + 1],
			($4::text[])[(i * 37) % 100 + 1], 0, '{}', i, i
		FROM (SELECT i, ($1::text[])[i % 12 + 1] AS f, ($2::text[])[(i / 12) % 12 + 1] AS l FROM generate_series(1, $5::bigint) AS i) AS g`,
		[]string{"Ana", "Luis", "María", "Carlos", "Lucía", "Javier", "Emily", "James", "Sofía", "Diego", "Valentina", "Martín"},
		[]string{"García", "Rodríguez", "López", "Martínez", "Smith", "Johnson", "Fernández", "Gómez", "Díaz", "Pérez", "Brown", "Torres"},
		owners, stages, n)
	if err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{`SELECT setval(pg_get_serial_sequence('contacts', 'id'), (SELECT max(id) FROM contacts))`, `VACUUM ANALYZE contacts`} {
		if _, err := db.ExecContext(ctx, q); err != nil && err != sql.ErrNoRows {
			b.Fatal(err)
		}
	}
	return s
}
