// Package bench measures Alinea's throughput end to end — events through
// /v1/batch over real HTTP, contacts through the CSV importer — beside the
// raw SQLite insert rate of the same rows measured in the same run, which is
// the ceiling on this machine. `alinea bench` prints the figures.
package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// Result is one measured figure.
type Result struct {
	Name     string
	Items    int
	Duration time.Duration
}

// PerSecond is the throughput.
func (r Result) PerSecond() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Items) / r.Duration.Seconds()
}

func (r Result) String() string {
	return fmt.Sprintf("%-44s %10d items in %8.2fs = %10.0f /s", r.Name, r.Items, r.Duration.Seconds(), r.PerSecond())
}

// IngestOptions shapes the ingestion load.
type IngestOptions struct {
	// DSN is the database to ingest into; empty means a fresh SQLite file in Dir.
	DSN         string
	Dir         string
	Events      int
	PerRequest  int
	Connections int
	// Users is how many distinct known user ids the events come from.
	Users int
	Seed  uint64
}

func (o *IngestOptions) defaults() {
	if o.Events <= 0 {
		o.Events = 200_000
	}
	if o.PerRequest <= 0 {
		o.PerRequest = 100
	}
	if o.Connections <= 0 {
		o.Connections = 16
	}
	if o.Users <= 0 {
		o.Users = 20_000
	}
}

// batchEvent is one Segment call as a client library sends it.
type batchEvent struct {
	Type        string         `json:"type"`
	MessageID   string         `json:"messageId"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Event       string         `json:"event,omitempty"`
	Name        string         `json:"name,omitempty"`
	Timestamp   string         `json:"timestamp"`
	Properties  map[string]any `json:"properties,omitempty"`
	Traits      map[string]any `json:"traits,omitempty"`
	Context     map[string]any `json:"context"`
}

var eventNames = []string{"Webinar Registered", "Webinar Attended", "Ebook Downloaded", "Pricing Page Viewed", "Price List Downloaded", "Trial Started", "Email Opened", "Email Clicked"}

// Events builds n realistic events: mostly track and page calls from known
// users, some anonymous page views, and an identify for each new user.
func Events(n, users int, seed uint64) []batchEvent {
	rng := rand.New(rand.NewPCG(seed, 42))
	out := make([]batchEvent, 0, n)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seen := make(map[int]bool, users)
	for i := 0; len(out) < n; i++ {
		u := rng.IntN(users)
		ts := start.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)
		ctx := map[string]any{
			"campaign": map[string]any{"source": "google", "medium": "cpc", "name": fmt.Sprintf("spring-%d", u%12)},
			"page":     map[string]any{"url": "https://www.example.es/precios?utm_source=google", "path": "/precios", "title": "Precios"},
			"ip":       "203.0.113.7",
			"library":  map[string]any{"name": "analytics-go", "version": "3.1.0"},
		}
		e := batchEvent{MessageID: fmt.Sprintf("bench-%d-%d", seed, i), Timestamp: ts, Context: ctx}
		switch {
		case !seen[u]:
			seen[u] = true
			e.Type, e.UserID = "identify", fmt.Sprintf("user-%d", u)
			e.Traits = map[string]any{"email": fmt.Sprintf("user%d@empresa%d.es", u, u%500), "firstName": "Lucía", "lastName": "Fernández", "title": "Directora de Marketing", "plan": "trial"}
		case rng.IntN(10) == 0:
			e.Type, e.AnonymousID, e.Name = "page", fmt.Sprintf("anon-%d", rng.IntN(users*4)), "Precios"
			e.Properties = map[string]any{"path": "/precios", "referrer": "https://www.google.com/", "title": "Precios | Example"}
		case rng.IntN(3) == 0:
			e.Type, e.UserID, e.Name = "page", fmt.Sprintf("user-%d", u), "Blog"
			e.Properties = map[string]any{"path": "/blog/alineacion-marketing-ventas", "referrer": "https://www.linkedin.com/", "title": "Alinear marketing y ventas"}
		default:
			e.Type, e.UserID, e.Event = "track", fmt.Sprintf("user-%d", u), eventNames[rng.IntN(len(eventNames))]
			e.Properties = map[string]any{"webinar": "Cómo alinear marketing y ventas", "duration_minutes": 42, "plan": "pro", "value": 129.5, "currency": "EUR"}
		}
		out = append(out, e)
	}
	return out
}

// Ingest measures events/s through POST /v1/batch on a real HTTP server,
// each request durably committed before its 200.
func Ingest(ctx context.Context, opt IngestOptions) (Result, error) {
	opt.defaults()
	dsn := opt.DSN
	if dsn == "" {
		dsn = filepath.Join(opt.Dir, "bench-ingest.db")
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	_, key, err := st.CreateWriteKey(ctx, "bench")
	if err != nil {
		return Result{}, err
	}
	events := Events(opt.Events, opt.Users, opt.Seed)
	bodies := make([][]byte, 0, len(events)/opt.PerRequest+1)
	for i := 0; i < len(events); i += opt.PerRequest {
		b, err := json.Marshal(map[string]any{"batch": events[i:min(i+opt.PerRequest, len(events))], "sentAt": time.Now().Format(time.RFC3339Nano)})
		if err != nil {
			return Result{}, err
		}
		bodies = append(bodies, b)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return Result{}, err
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	srv := server.New(server.Config{Store: st})
	go srv.ListenAndServe(srvCtx, ln)
	url := "http://" + ln.Addr().String() + "/v1/batch"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: opt.Connections, MaxConnsPerHost: opt.Connections}}
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	began := time.Now()
	for range opt.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				if err := post(ctx, client, url, key, bodies[i]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	if firstErr != nil {
		return Result{}, firstErr
	}
	name := fmt.Sprintf("ingest /v1/batch (%s, %d/req, %d conns)", st.Backend(), opt.PerRequest, opt.Connections)
	return Result{Name: name, Items: len(events), Duration: took}, nil
}

func post(ctx context.Context, c *http.Client, url, key string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(key, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /v1/batch: %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// RawEventInsert is the ceiling for ingestion: the same events written to a
// bare SQLite events table by one connection with multi-row inserts, the
// same pragmas (WAL, synchronous=FULL) and the same rows per transaction as
// the group commit sees, but no parsing, contact resolution or indexes
// beyond the message id.
func RawEventInsert(ctx context.Context, dir string, n, users int, seed uint64, perTx int) (Result, error) {
	events := Events(n, users, seed)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "bench-raw-events.db")+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE events (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, type TEXT, name TEXT,
		user_id TEXT, anonymous_id TEXT, properties TEXT, context TEXT, occurred_at INTEGER, received_at INTEGER)`); err != nil {
		return Result{}, err
	}
	type row struct {
		id, typ, name, user, anon, props, ctx string
		at                                    int64
	}
	rows := make([]row, len(events))
	for i, e := range events {
		p, _ := json.Marshal(e.Properties)
		c, _ := json.Marshal(e.Context)
		ts, _ := time.Parse(time.RFC3339Nano, e.Timestamp)
		rows[i] = row{e.MessageID, e.Type, e.Event + e.Name, e.UserID, e.AnonymousID, string(p), string(c), ts.UnixMilli()}
	}
	const perStmt = 100
	began := time.Now()
	for start := 0; start < len(rows); start += perTx {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return Result{}, err
		}
		part := rows[start:min(start+perTx, len(rows))]
		for s := 0; s < len(part); s += perStmt {
			chunk := part[s:min(s+perStmt, len(part))]
			q := "INSERT INTO events (message_id, type, name, user_id, anonymous_id, properties, context, occurred_at, received_at) VALUES " +
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?,?,?),", len(chunk)), ",")
			args := make([]any, 0, len(chunk)*9)
			now := time.Now().UnixMilli()
			for _, r := range chunk {
				args = append(args, r.id, r.typ, r.name, r.user, r.anon, r.props, r.ctx, r.at, now)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				tx.Rollback()
				return Result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return Result{}, err
		}
	}
	return Result{Name: fmt.Sprintf("raw SQLite insert, same events (%d/tx)", perTx), Items: len(rows), Duration: time.Since(began)}, nil
}
