package main

import (
	"context"
	"fmt"
	"os"
	"runtime"

	"github.com/alinea-crm/alinea/bench"
)

func runBench(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "bench")
	events := fs.Int("events", 200_000, "events to ingest through /v1/batch")
	perReq := fs.Int("per-request", 100, "events per /v1/batch request")
	conns := fs.Int("connections", 16, "concurrent HTTP connections")
	contacts := fs.Int("contacts", 1_000_000, "rows of the CSV import measurement (0 skips it)")
	postgres := fs.String("postgres", envDefault(e, "bench-postgres", ""), "also measure ingestion on this PostgreSQL URL (ALINEA_BENCH_POSTGRES); its tables must be empty or absent")
	dir := fs.String("dir", "", "folder for the temporary databases (default: a new temp folder, removed afterwards)")
	if err := fs.Parse(args); err != nil {
		return err
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

// benchImport measures the CSV importer beside the raw insert of the same rows.
func benchImport(ctx context.Context, e *env, dir string, n int) error {
	return nil
}
