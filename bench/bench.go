// Package bench measures Alinea's throughput end to end — events through
// /v1/batch over real HTTP, contacts through the CSV importer — beside the
// raw SQLite insert rate of the same rows measured in the same run, which is
// the ceiling on this machine. `alinea bench` prints the figures.
package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// Spawn, when set, makes the command that runs the server in a child
	// process; the command must run ServeChild on dsn. Nil runs the
	// server in this process.
	Spawn func(dsn string) *exec.Cmd
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
		// Message ids are random version-4 UUIDs, as Segment's libraries
		// send them (analytics-go, analytics.js): in an index they land
		// anywhere, unlike sequential ids (docs/BENCHMARKS.md).
		id := fmt.Sprintf("%08x-%04x-4%03x-%x%03x-%012x", rng.Uint32(), rng.IntN(1<<16), rng.IntN(1<<12), 8+rng.IntN(4), rng.IntN(1<<12), rng.Uint64()&(1<<48-1))
		e := batchEvent{MessageID: id, Timestamp: ts, Context: ctx}
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
//
// The load generator costs as little as a separate one would: the requests
// (headers and JSON bodies, distinct message ids) are encoded before the
// clock starts, each of the connections is opened beforehand and kept
// alive, and a request is one write of its bytes and one read of the
// response, without allocating. With opt.Spawn the server runs in a child
// process, so the server's CPU time is measured apart from the client's;
// in-process only the whole process's CPU time is known.
func Ingest(ctx context.Context, opt IngestOptions) (IngestResult, error) {
	opt.defaults()
	dsn := opt.DSN
	if dsn == "" {
		dsn = filepath.Join(opt.Dir, "bench-ingest.db")
	}
	events := Events(opt.Events, opt.Users, opt.Seed)
	bodies := make([][]byte, 0, len(events)/opt.PerRequest+1)
	for i := 0; i < len(events); i += opt.PerRequest {
		b, err := json.Marshal(map[string]any{"batch": events[i:min(i+opt.PerRequest, len(events))], "sentAt": time.Now().Format(time.RFC3339Nano)})
		if err != nil {
			return IngestResult{}, err
		}
		bodies = append(bodies, b)
	}
	n := len(events)
	events = nil // only the encoded requests are kept during the run
	srv, err := startServer(ctx, dsn, opt.Spawn)
	if err != nil {
		return IngestResult{}, err
	}
	defer srv.close()
	reqs := make([][]byte, len(bodies))
	auth := base64.StdEncoding.EncodeToString([]byte(srv.key + ":"))
	for i, b := range bodies {
		head := fmt.Sprintf("POST /v1/batch HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
			srv.addr, auth, len(b))
		reqs[i] = append([]byte(head), b...)
		bodies[i] = nil
	}
	conns := make([]*clientConn, opt.Connections)
	for i := range conns {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			return IngestResult{}, fmt.Errorf("connect to the server: %w", err)
		}
		defer c.Close()
		conns[i] = &clientConn{c: c, r: bufio.NewReaderSize(c, 4096)}
	}
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	self0, server0 := processCPU(), srv.cpu()
	began := time.Now()
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(reqs) {
					return
				}
				if err := c.post(reqs[i]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(began)
	self, server := processCPU()-self0, srv.cpu()-server0
	if firstErr != nil {
		return IngestResult{}, firstErr
	}
	res := IngestResult{Result: Result{Items: n, Duration: took}}
	res.WriterEvents, res.WriterCPU, res.WriterBusy = srv.writerStats()
	if srv.cmd != nil {
		res.Name = fmt.Sprintf("ingest /v1/batch (%s, %d/req, %d conns)", srv.backend, opt.PerRequest, opt.Connections)
		res.ServerCPU, res.ClientCPU = server, self
	} else {
		res.Name = fmt.Sprintf("ingest /v1/batch (%s, %d/req, %d conns, in-process)", srv.backend, opt.PerRequest, opt.Connections)
		res.ServerCPU = self // client included: it runs in the same process
		res.InProcess = true
	}
	return res, nil
}

// IngestResult is the ingestion figure with the CPU time it took.
type IngestResult struct {
	Result
	// ServerCPU is the server process's CPU time (user and system) while
	// the load ran, ClientCPU the load generator's. InProcess says that
	// they were one process: ServerCPU then includes the client.
	ServerCPU, ClientCPU time.Duration
	InProcess            bool
	// WriterCPU is the CPU time of SQLite's single ingestion writer over
	// WriterEvents events (zero on PostgreSQL): the time per event that
	// bounds SQLite ingestion whatever the other cores do.
	WriterCPU    time.Duration
	WriterEvents int64
	// WriterBusy is how long the writer was busy with its groups (on a
	// core or waiting for one, or for the disk): beside Duration, it
	// tells whether the writer was the bottleneck or waited for work.
	WriterBusy time.Duration
}

// CPUPerEvent is the server's CPU time per event in microseconds.
func (r IngestResult) CPUPerEvent() float64 {
	return float64(r.ServerCPU.Microseconds()) / float64(max(r.Items, 1))
}

// WriterCPUPerEvent is the SQLite writer's CPU time per event in
// microseconds (0 when not measured).
func (r IngestResult) WriterCPUPerEvent() float64 {
	if r.WriterEvents == 0 {
		return 0
	}
	return float64(r.WriterCPU.Microseconds()) / float64(r.WriterEvents)
}

func (r IngestResult) String() string {
	var out string
	if r.InProcess {
		out = fmt.Sprintf("%s\n%-44s %10.1f µs/event (client and server)", r.Result, "CPU time of the process", r.CPUPerEvent())
	} else {
		out = fmt.Sprintf("%s\n%-44s %10.1f µs/event (client: %.1f µs/event)", r.Result, "CPU time of the server process", r.CPUPerEvent(),
			float64(r.ClientCPU.Microseconds())/float64(max(r.Items, 1)))
	}
	if w := r.WriterCPUPerEvent(); w > 0 {
		out += fmt.Sprintf("\n%-44s %10.1f µs/event (ceiling %.0f events/s), busy %.0f%% of the run", "  of which SQLite's single writer thread", w, 1e6/w,
			100*r.WriterBusy.Seconds()/r.Duration.Seconds())
	}
	return out
}

// clientConn is one kept-alive connection of the load generator.
type clientConn struct {
	c net.Conn
	r *bufio.Reader
}

// post sends one pre-encoded request and reads its response; anything but
// a 200 is an error with the response's body.
func (c *clientConn) post(req []byte) error {
	if _, err := c.c.Write(req); err != nil {
		return fmt.Errorf("POST /v1/batch: %w", err)
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("POST /v1/batch: read the response: %w", err)
	}
	ok := bytes.HasPrefix(status, []byte("HTTP/1.1 200 "))
	if !ok {
		status = bytes.Clone(status)
	}
	length := -1
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("POST /v1/batch: read the response: %w", err)
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		if bytes.EqualFold(name, []byte("Content-Length")) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(value))); err != nil {
				return fmt.Errorf("POST /v1/batch: bad Content-Length %q", value)
			}
		}
	}
	if length < 0 {
		return fmt.Errorf("POST /v1/batch: %s: response without Content-Length", bytes.TrimSpace(status))
	}
	if ok {
		_, err = c.r.Discard(length)
		return err
	}
	msg := make([]byte, length)
	_, _ = io.ReadFull(c.r, msg)
	return fmt.Errorf("POST /v1/batch: %s: %s", bytes.TrimSpace(status), bytes.TrimSpace(msg))
}

// benchServer is the server under load, in this process or a child.
type benchServer struct {
	addr, key, backend string
	cmd                *exec.Cmd
	stdin              io.Closer
	stdout             *bufio.Reader
	stop               func()
	st                 *store.Store // in-process only
}

// startServer starts the server on dsn: in this process, or in the child
// process spawn makes (which must run ServeChild).
func startServer(ctx context.Context, dsn string, spawn func(dsn string) *exec.Cmd) (*benchServer, error) {
	if spawn == nil {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			return nil, err
		}
		_, key, err := st.CreateWriteKey(ctx, "bench")
		if err != nil {
			st.Close()
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			st.Close()
			return nil, err
		}
		srvCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = server.New(server.Config{Store: st}).ListenAndServe(srvCtx, ln)
		}()
		return &benchServer{addr: ln.Addr().String(), key: key, backend: string(st.Backend()), st: st,
			stop: func() { cancel(); <-done; st.Close() }}, nil
	}
	cmd := spawn(dsn)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the server process: %w", err)
	}
	srv := &benchServer{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout)}
	line, err := srv.stdout.ReadString('\n')
	fields := strings.Fields(line)
	if err != nil || len(fields) != 3 {
		srv.close()
		return nil, fmt.Errorf("the server process did not say where it listens (%q): %v", line, err)
	}
	srv.addr, srv.key, srv.backend = fields[0], fields[1], fields[2]
	return srv, nil
}

// cpu is the child server process's CPU time so far (zero in-process).
func (s *benchServer) cpu() time.Duration {
	if s.cmd == nil {
		return 0
	}
	d, _ := childCPU(s.cmd.Process.Pid)
	return d
}

// writerStats stops a child server (which then reports them) and returns
// the SQLite writer's events and CPU time.
func (s *benchServer) writerStats() (events int64, cpu, busy time.Duration) {
	if s.cmd == nil {
		return s.st.IngestWriterStats()
	}
	s.stdin.Close() // the child stops when its stdin closes
	line, _ := s.stdout.ReadString('\n')
	if _, err := fmt.Sscanf(line, "writer %d %d %d", &events, &cpu, &busy); err != nil {
		return 0, 0, 0
	}
	return events, cpu, busy
}

func (s *benchServer) close() {
	if s.cmd == nil {
		s.stop()
		return
	}
	s.stdin.Close() // the child stops when its stdin closes
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// ServeChild is the server side of Ingest's child process: it opens the
// store at dsn, creates a write key, serves ingestion on a loopback port,
// writes "address key backend" as one line to out and serves until in is
// closed (or ctx ends); it then writes "writer <events> <CPU ns> <busy
// ns>", the SQLite writer's figures.
func ServeChild(ctx context.Context, dsn string, in io.Reader, out io.Writer) error {
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	_, key, err := st.CreateWriteKey(ctx, "bench")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, in)
		cancel()
	}()
	if _, err := fmt.Fprintf(out, "%s %s %s\n", ln.Addr(), key, st.Backend()); err != nil {
		return err
	}
	if err := server.New(server.Config{Store: st}).ListenAndServe(ctx, ln); err != nil {
		return err
	}
	events, cpu, busy := st.IngestWriterStats()
	_, err = fmt.Fprintf(out, "writer %d %d %d\n", events, cpu.Nanoseconds(), busy.Nanoseconds())
	return err
}

// processCPU is this process's CPU time (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// childCPU reads a process's CPU time (user and system) from
// /proc/<pid>/stat, in clock ticks of 1/100 s (USER_HZ on Linux).
func childCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command name (in parentheses, which may hold
	// spaces): state is the 3rd field of the line, utime the 14th.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// RawEventInsert is the ceiling for ingestion: the same events written to a
// bare SQLite events table by one connection with multi-row inserts, the
// same pragmas (WAL, synchronous=FULL) and the same rows per transaction as
// the group commit sees, but no parsing, contact resolution, duplicate check
// or index. (Alinea's events table has no unique index on the message id
// either: its duplicate check is kept apart, store/ingest_dedup.go.)
func RawEventInsert(ctx context.Context, dir string, n, users int, seed uint64, perTx int) (Result, error) {
	events := Events(n, users, seed)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "bench-raw-events.db")+"?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, type TEXT, name TEXT,
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
