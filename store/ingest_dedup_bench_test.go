package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkMoveMessageIDs measures one move of the writer's message ids
// into event_message_ids when memory is full (maxRecentMessageIDs events
// with random UUIDs and realistic rows), onto a table already holding as
// many ids, and more at each round. It reports the time per id and the
// longest chunk: ingestion waits while a chunk is written.
//
//	go test -run '^$' -bench MoveMessageIDs -benchtime 3x ./store/
func BenchmarkMoveMessageIDs(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "move.db"), Options{moveIDsIdle: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	insert := func(n int) {
		const perStmt = 500
		props := `{"webinar":"Cómo alinear marketing y ventas","duration_minutes":42,"plan":"pro","value":129.5,"currency":"EUR"}`
		pageCtx := `{"campaign":{"medium":"cpc","name":"spring-3","source":"google"},"ip":"203.0.113.7","library":{"name":"analytics-go","version":"3.1.0"},"page":{"path":"/precios","title":"Precios","url":"https://www.example.es/precios?utm_source=google"}}`
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		q := `INSERT INTO events (message_id, type, name, contact_id, properties, context, occurred_at, received_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?, 'track', 'Seen', ?, ?, ?, 0, 0),", perStmt), ",")
		for done := 0; done < n; done += perStmt {
			args := make([]any, 0, 4*perStmt)
			for range perStmt {
				id := fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), 8+rng.IntN(4), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
				args = append(args, id, rng.IntN(20000)+1, props, pageCtx)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	var longest time.Duration
	moveAll := func(d *messageIDs) {
		d.startMove()
		for d.movingIDs() {
			began := time.Now()
			if err := d.moveChunk(ctx, s.db); err != nil {
				b.Fatal(err)
			}
			longest = max(longest, time.Since(began))
		}
	}
	load := func(d *messageIDs) {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer tx.Rollback()
		last, err := lastEventID(ctx, tx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.catchUp(ctx, tx, last); err != nil {
			b.Fatal(err)
		}
	}
	// The table already holds one move's worth of ids.
	insert(maxRecentMessageIDs)
	d := newMessageIDs()
	load(d)
	moveAll(d)
	longest = 0
	for b.Loop() {
		b.StopTimer()
		insert(maxRecentMessageIDs)
		d := newMessageIDs()
		load(d)
		b.StartTimer()
		moveAll(d)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*maxRecentMessageIDs), "ns/id")
	b.ReportMetric(float64(longest.Milliseconds()), "ms-longest-chunk")
}
