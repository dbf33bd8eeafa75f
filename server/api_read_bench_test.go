package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// BenchmarkContactReads measures the contact API's latency under a steady
// load (DESIGN.md section 10: p99 < 10 ms at 2,000 requests/s): b.N
// requests sent at a fixed rate through a real HTTP server with an API
// key, whatever the answers' pace (an open loop, so a slow answer cannot
// hold the next requests back and hide its cost), 4 in 5 reading one
// contact by id and 1 in 5 a filtered page of 50. Latency counts from when
// a request was due, not from when it was sent. Run it with
//
//	go test -run '^$' -bench ContactReads -benchtime 20000x ./server/
//
// (10 s at 2,000 requests/s; ALINEA_BENCH_READ_RATE and
// ALINEA_BENCH_READ_CONTACTS change the rate and the 100,000 contacts).
// PostgreSQL is measured too when ALINEA_TEST_POSTGRES is set.
func BenchmarkContactReads(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchContactReads(b, store.SQLite) })
	if os.Getenv("ALINEA_TEST_POSTGRES") != "" {
		b.Run("postgres", func(b *testing.B) { benchContactReads(b, store.Postgres) })
	}
}

func benchContactReads(b *testing.B, backend store.Backend) {
	ctx := context.Background()
	rate := envInt(b, "ALINEA_BENCH_READ_RATE", 2000)
	contacts := envInt(b, "ALINEA_BENCH_READ_CONTACTS", 100_000)
	st, err := store.Open(ctx, storetest.DSN(b, backend), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	stages := []string{"subscriber", "lead", "mql", "sql"}
	batch := make([]alinea.Message, 0, 1000)
	now := time.Now()
	for u := range contacts {
		traits := fmt.Sprintf(`{"email":"persona%d@empresa%d.es","firstName":"Lucía","lastName":"García","title":"CMO"}`, u, u%2000)
		batch = append(batch, alinea.Message{Type: "identify", MessageID: "seed-" + strconv.Itoa(u), UserID: "user-" + strconv.Itoa(u),
			Traits: json.RawMessage(traits), ReceivedAt: now})
		if len(batch) == cap(batch) || u == contacts-1 {
			if _, err := st.Ingest(ctx, 0, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	u, err := st.CreateUser(ctx, alinea.NewUser{Email: "lectura@vertice.example", Name: "Lectura", Role: alinea.RoleSales, Password: "una clave larga"})
	if err != nil {
		b.Fatal(err)
	}
	_, key, err := st.CreateAPIKey(ctx, u.ID, "bench")
	if err != nil {
		b.Fatal(err)
	}
	cs, _, err := st.Contacts(ctx, alinea.ContactFilter{Limit: 1})
	if err != nil || len(cs) == 0 {
		b.Fatalf("no contacts: %v", err)
	}
	firstID := cs[0].ID
	srv := httptest.NewServer(server.New(server.Config{Store: st}))
	defer srv.Close()
	// At most 256 connections: beyond that requests wait for one (and the
	// wait counts in their latency) instead of running out of files.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	rng := rand.New(rand.NewPCG(uint64(b.N), 11))
	paths := make([]string, b.N)
	for i := range paths {
		if rng.IntN(5) == 0 {
			paths[i] = "/api/v1/contacts?limit=50&stage=" + stages[rng.IntN(len(stages))]
		} else {
			paths[i] = "/api/v1/contacts/" + strconv.FormatInt(firstID+int64(rng.IntN(contacts)), 10)
		}
	}
	latencies := make([]time.Duration, b.N)
	var failed sync.Once
	var failure string
	interval := time.Second / time.Duration(rate)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range paths {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, srv.URL+paths[i], nil)
			req.Header.Set("Authorization", "Bearer "+key)
			res, err := client.Do(req)
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					err = fmt.Errorf("GET %s: %s", paths[i], res.Status)
				}
			}
			latencies[i] = time.Since(due)
			if err != nil {
				failed.Do(func() { failure = err.Error() })
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != "" {
		b.Fatal(failure)
	}
	slices.Sort(latencies)
	at := func(q float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(at(1), "max-ms")
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s must be a positive number; got %q", name, v)
	}
	return n
}
