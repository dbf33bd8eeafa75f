package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/alinea-crm/alinea/bench"
	"github.com/alinea-crm/alinea/store"
)

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench")
	events := fs.Int("events", 200_000, "events to ingest through /v1/batch")
	perReq := fs.Int("per-request", 100, "events per /v1/batch request")
	conns := fs.Int("connections", 16, "concurrent HTTP connections")
	contacts := fs.Int("contacts", 1_000_000, "rows of the CSV import measurement (0 skips it)")
	postgres := fs.String("postgres", envDefault(e, "bench-postgres", ""), "also measure ingestion on this PostgreSQL URL (ALINEA_BENCH_POSTGRES); its tables must be empty or absent")
	inProcess := fs.Bool("in-process", false, "run the ingestion server in the bench process instead of a child process (its CPU time then includes the load generator's)")
	serveChild := fs.String("serve-child", "", "internal: run the ingestion benchmark's server process on this database")
	dir := fs.String("dir", "", "folder for the temporary databases (default: a new temp folder, removed afterwards)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serveChild != "" {
		tuneRuntime(!store.IsPostgresURL(*serveChild)) // measured as `alinea serve` runs
		return bench.ServeChild(ctx, *serveChild, e.stdin, e.stdout)
	}
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "alinea-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		work = d
	}
	fmt.Fprintf(e.stdout, "alinea bench: %s, GOMAXPROCS=%d, %s/%s\n\n", version, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	opt := bench.IngestOptions{Dir: work, Events: *events, PerRequest: *perReq, Connections: *conns, Seed: 1}
	if !*inProcess {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("find this program to run the server process: %w", err)
		}
		// The server runs as a child process so that its CPU time is
		// measured apart from the load generator's.
		opt.Spawn = func(dsn string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, self, "bench", "--serve-child", dsn)
			cmd.Stderr = e.stderr
			return cmd
		}
	}
	ingest, err := bench.Ingest(ctx, opt)
	if err != nil {
		return fmt.Errorf("ingestion: %w", err)
	}
	raw, err := bench.RawEventInsert(ctx, work, *events, 20_000, 1, 1000)
	if err != nil {
		return fmt.Errorf("raw insert: %w", err)
	}
	fmt.Fprintln(e.stdout, ingest)
	fmt.Fprintln(e.stdout, raw)
	fmt.Fprintf(e.stdout, "%-44s %10.0f%%\n\n", "ingestion as a share of the raw insert rate", 100*ingest.PerSecond()/raw.PerSecond())
	if *postgres != "" {
		opt.DSN = *postgres
		opt.Seed = 2
		pg, err := bench.Ingest(ctx, opt)
		if err != nil {
			return fmt.Errorf("postgres ingestion: %w", err)
		}
		fmt.Fprintln(e.stdout, pg)
		fmt.Fprintln(e.stdout)
	}
	if *contacts > 0 {
		if err := benchImport(ctx, e, work, *contacts); err != nil {
			return err
		}
	}
	return nil
}

// benchImport measures the CSV importer beside the raw insert of the same
// rows, and the peak memory of the whole process.
func benchImport(ctx context.Context, e *env, dir string, n int) error {
	path, err := bench.WriteSampleCSV(dir, n)
	if err != nil {
		return fmt.Errorf("write sample CSV: %w", err)
	}
	imp, err := bench.Import(ctx, dir, path, n)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	raw, err := bench.RawContactInsert(ctx, dir, n)
	if err != nil {
		return fmt.Errorf("raw insert: %w", err)
	}
	fmt.Fprintln(e.stdout, imp)
	fmt.Fprintln(e.stdout, raw)
	fmt.Fprintf(e.stdout, "%-44s %10.0f%%\n", "import as a share of the raw insert rate", 100*imp.PerSecond()/raw.PerSecond())
	if rss, ok := peakRSS(); ok {
		fmt.Fprintf(e.stdout, "%-44s %10.0f MB (whole bench process)\n", "peak resident memory", float64(rss)/(1<<20))
	}
	return nil
}

// peakRSS reads the process's high-water resident set size (Linux).
func peakRSS() (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err == nil
		}
	}
	return 0, false
}
