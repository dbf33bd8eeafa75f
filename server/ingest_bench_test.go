package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

const (
	benchEventsPerRequest = 100
	benchConnections      = 16
	benchKnownUsers       = 5000
)

// BenchmarkIngestBatch drives POST /v1/batch through a real HTTP server with
// 16 concurrent connections and 100 events a request, each request durably
// committed before its 200, and reports events/s. Run it with
//
//	go test -run '^$' -bench IngestBatch -benchtime 200x ./server/
//
// PostgreSQL is measured too when ALINEA_TEST_POSTGRES is set.
func BenchmarkIngestBatch(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchIngest(b, store.SQLite) })
	if os.Getenv("ALINEA_TEST_POSTGRES") != "" {
		b.Run("postgres", func(b *testing.B) { benchIngest(b, store.Postgres) })
	}
}

func benchIngest(b *testing.B, backend store.Backend) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.DSN(b, backend), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	wk, key, err := st.CreateWriteKey(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	// The known users exist before the clock starts, as on a live system.
	seed := make([]alinea.Message, 0, benchKnownUsers)
	for u := range benchKnownUsers {
		seed = append(seed, alinea.Message{Type: "identify", MessageID: fmt.Sprintf("seed-%d", u), UserID: fmt.Sprintf("user-%d", u),
			Traits: json.RawMessage(fmt.Sprintf(`{"email":"user%d@empresa%d.es","firstName":"Lucía"}`, u, u%300)), ReceivedAt: time.Now()})
	}
	for i := 0; i < len(seed); i += 1000 {
		if _, err := st.Ingest(ctx, wk.ID, seed[i:min(i+1000, len(seed))]); err != nil {
			b.Fatal(err)
		}
	}
	bodies := benchBodies(b.N, uint64(b.N))
	srv := httptest.NewServer(server.New(server.Config{Store: st}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchConnections, MaxConnsPerHost: benchConnections}}
	defer client.CloseIdleConnections()

	var next atomic.Int64
	var failed atomic.Pointer[string]
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range benchConnections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) || failed.Load() != nil {
					return
				}
				if msg := benchPost(client, srv.URL+"/v1/batch", key, bodies[i]); msg != "" {
					failed.Store(&msg)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	b.ReportMetric(float64(len(bodies)*benchEventsPerRequest)/elapsed.Seconds(), "events/s")
}

func benchPost(c *http.Client, url, key string, body []byte) string {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Sprintf("POST /v1/batch: %d %s", res.StatusCode, out)
	}
	return ""
}

// benchBodies builds n batch bodies as a server-side library would send
// them: mostly track and page calls of known users, some anonymous page
// views, and new users identifying themselves after browsing anonymously.
func benchBodies(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	events := []string{"Webinar Registered", "Ebook Downloaded", "Pricing Viewed", "Trial Started", "Email Clicked", "Demo Requested"}
	sentAt := time.Now().UTC()
	bodies := make([][]byte, n)
	newUser := 0
	for r := range n {
		batch := make([]map[string]any, 0, benchEventsPerRequest)
		for range benchEventsPerRequest {
			// Random, as Segment's libraries send them (UUIDs).
			id := fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
			ts := sentAt.Add(-time.Duration(rng.IntN(5000)) * time.Millisecond).Format(time.RFC3339Nano)
			campaign := map[string]any{"source": "google", "medium": "cpc", "name": fmt.Sprintf("primavera-%d", rng.IntN(12)), "term": "crm b2b"}
			ctx := map[string]any{
				"campaign":  campaign,
				"page":      map[string]any{"url": "https://www.example.es/precios?utm_source=google&utm_medium=cpc", "path": "/precios", "title": "Precios"},
				"ip":        "203.0.113.7",
				"library":   map[string]any{"name": "analytics-go", "version": "3.1.0"},
				"userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
			}
			e := map[string]any{"messageId": id, "timestamp": ts, "context": ctx}
			switch p := rng.IntN(100); {
			case p < 5: // a new user who browsed anonymously identifies
				newUser++
				e["type"], e["userId"], e["anonymousId"] = "identify", fmt.Sprintf("new-%d-%d", seed, newUser), fmt.Sprintf("anon-%d-%d", seed, r)
				e["traits"] = map[string]any{"email": fmt.Sprintf("nuevo%d.%d@cliente.es", seed, newUser), "firstName": "Marta", "lastName": "Ruiz", "title": "CMO", "plan": "trial"}
			case p < 15:
				e["type"], e["anonymousId"], e["name"] = "page", fmt.Sprintf("anon-%d-%d", seed, r), "Precios"
				e["properties"] = map[string]any{"path": "/precios", "referrer": "https://www.google.com/", "title": "Precios | Example", "search": "?utm_source=google"}
			case p < 35:
				e["type"], e["userId"], e["name"] = "page", fmt.Sprintf("user-%d", rng.IntN(benchKnownUsers)), "Blog"
				e["properties"] = map[string]any{"path": "/blog/alinear-marketing-y-ventas", "referrer": "https://www.linkedin.com/", "title": "Cómo alinear marketing y ventas"}
			default:
				e["type"], e["userId"], e["event"] = "track", fmt.Sprintf("user-%d", rng.IntN(benchKnownUsers)), events[rng.IntN(len(events))]
				e["properties"] = map[string]any{"webinar": "Cómo alinear marketing y ventas en 2026", "duration_minutes": 42, "plan": "pro",
					"value": 129.5, "currency": "EUR", "seats": 12, "source_page": "/recursos/webinars", "speaker": "Laura Gómez"}
			}
			batch = append(batch, e)
		}
		body, err := json.Marshal(map[string]any{"batch": batch, "sentAt": sentAt.Format(time.RFC3339Nano)})
		if err != nil {
			panic(err)
		}
		bodies[r] = body
	}
	return bodies
}
