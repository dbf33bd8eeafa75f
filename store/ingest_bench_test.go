package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// BenchmarkIngestStore drives Store.Ingest directly — no HTTP, no JSON —
// from 16 goroutines with 100 calls a batch, the load of the /v1/batch
// benchmark in package server, and reports events/s and the process's CPU
// time per event, which a busy machine disturbs less than the rate:
//
//	go test -run '^$' -bench IngestStore -benchtime 2000x ./store/
//
// PostgreSQL is measured too when ALINEA_TEST_POSTGRES is set. The
// "agreement" runs have an agreement active, so every batch also
// evaluates the contacts it touched.
func BenchmarkIngestStore(b *testing.B) {
	backends := []store.Backend{store.SQLite}
	if os.Getenv("ALINEA_TEST_POSTGRES") != "" {
		backends = append(backends, store.Postgres)
	}
	for _, backend := range backends {
		b.Run(string(backend), func(b *testing.B) { benchIngestStore(b, backend, false) })
		b.Run(string(backend)+"-agreement", func(b *testing.B) { benchIngestStore(b, backend, true) })
	}
}

const (
	benchPerBatch    = 100
	benchWorkers     = 16
	benchKnownPeople = 5000
)

func benchIngestStore(b *testing.B, backend store.Backend, withAgreement bool) {
	ctx := context.Background()
	s := storetest.Open(b, backend, store.Options{})
	seed := make([]alinea.Message, 0, benchKnownPeople)
	now := time.Now()
	for u := range benchKnownPeople {
		seed = append(seed, alinea.Message{Type: "identify", MessageID: fmt.Sprintf("seed-%d", u), UserID: fmt.Sprintf("user-%d", u),
			Traits: json.RawMessage(fmt.Sprintf(`{"email":"user%d@empresa%d.es","firstName":"Lucía"}`, u, u%300)), ReceivedAt: now})
	}
	for i := 0; i < len(seed); i += 1000 {
		if _, err := s.Ingest(ctx, 0, seed[i:min(i+1000, len(seed))]); err != nil {
			b.Fatal(err)
		}
	}
	if withAgreement {
		activeExample(b, s)
	}
	batches := benchBatches(b.N, now)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for range benchWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(batches) || failed.Load() != nil {
					return
				}
				if _, err := s.Ingest(ctx, 0, batches[i]); err != nil {
					failed.Store(&err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	events := float64(len(batches) * benchPerBatch)
	b.ReportMetric(events/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/events, "cpu-µs/event")
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBatches builds n batches of the mix the server benchmark sends:
// mostly track and page calls of known people, some anonymous page views,
// and new people identifying themselves after browsing anonymously.
func benchBatches(n int, now time.Time) [][]alinea.Message {
	rng := rand.New(rand.NewPCG(uint64(n), 7))
	events := []string{"Webinar Registered", "Ebook Downloaded", "Pricing Viewed", "Trial Started", "Email Clicked", "Demo Requested"}
	ctx := json.RawMessage(`{"campaign":{"medium":"cpc","name":"primavera-3","source":"google","term":"crm b2b"},"ip":"203.0.113.7",` +
		`"library":{"name":"analytics-go","version":"3.1.0"},"page":{"path":"/precios","title":"Precios","url":"https://www.example.es/precios?utm_source=google"},` +
		`"userAgent":"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"}`)
	trackProps := json.RawMessage(`{"currency":"EUR","duration_minutes":42,"plan":"pro","seats":12,"source_page":"/recursos/webinars",` +
		`"speaker":"Laura Gómez","value":129.5,"webinar":"Cómo alinear marketing y ventas en 2026"}`)
	pageProps := json.RawMessage(`{"path":"/blog/alinear-marketing-y-ventas","referrer":"https://www.linkedin.com/","title":"Cómo alinear marketing y ventas"}`)
	utm := alinea.UTM{Source: "google", Medium: "cpc", Campaign: "primavera-3", Term: "crm b2b"}
	out := make([][]alinea.Message, n)
	newPerson := 0
	for r := range n {
		batch := make([]alinea.Message, benchPerBatch)
		for i := range batch {
			// Random ids, as Segment's libraries send (UUIDs): sequential
			// ones would land together in any index of them.
			m := alinea.Message{MessageID: fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()), Context: ctx, UTM: utm,
				Timestamp: now.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond), ReceivedAt: now}
			anon := fmt.Sprintf("anon-%d", r)
			switch p := rng.IntN(100); {
			case p < 5:
				newPerson++
				m.Type, m.UserID, m.AnonymousID = "identify", fmt.Sprintf("new-%d", newPerson), anon
				m.Traits = json.RawMessage(fmt.Sprintf(`{"email":"nuevo%d@cliente.es","firstName":"Marta","lastName":"Ruiz","title":"CMO","plan":"trial"}`, newPerson))
			case p < 15:
				m.Type, m.AnonymousID, m.Event, m.Properties = "page", anon, "Precios", pageProps
			case p < 35:
				m.Type, m.UserID, m.Event, m.Properties = "page", fmt.Sprintf("user-%d", rng.IntN(benchKnownPeople)), "Blog", pageProps
			default:
				m.Type, m.UserID, m.Event, m.Properties = "track", fmt.Sprintf("user-%d", rng.IntN(benchKnownPeople)), events[rng.IntN(len(events))], trackProps
			}
			batch[i] = m
		}
		out[r] = batch
	}
	return out
}
