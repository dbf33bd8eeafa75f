package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// BenchmarkLiveEvaluation measures one event's path from Ingest to updated
// scores and stage with the seed-003 agreement active (target: p99 < 5 ms):
// a single-event batch for a contact with history, durably committed.
//
//	go test -run '^$' -bench LiveEvaluation -benchtime 5000x ./store/
func BenchmarkLiveEvaluation(b *testing.B) {
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(b.TempDir(), "live.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	activeExample(b, s)
	const contacts = 2000
	events := []string{"Page", "Webinar Registered", "Webinar Attended", "Pricing Page Viewed", "Email Clicked", "Price List Downloaded"}
	start := time.Now().AddDate(0, -2, 0)
	var msgs []alinea.Message
	for i := range contacts {
		u := fmt.Sprintf("c%d", i)
		msgs = append(msgs, identify(u, u+"@empresa.es", start))
		for j := range 20 {
			msgs = append(msgs, track(u, events[(i+j)%len(events)], start.Add(time.Duration(j)*time.Hour), j))
		}
		if len(msgs) >= 5000 {
			if _, err := s.Ingest(ctx, 0, msgs); err != nil {
				b.Fatal(err)
			}
			msgs = msgs[:0]
		}
	}
	if _, err := s.Ingest(ctx, 0, msgs); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		u := fmt.Sprintf("c%d", rng.IntN(contacts))
		m := track(u, events[rng.IntN(len(events))], time.Now(), 1000+i)
		t0 := time.Now()
		if _, err := s.Ingest(ctx, 0, []alinea.Message{m}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
