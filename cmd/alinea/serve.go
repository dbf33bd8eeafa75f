package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea/jobs"

	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

func runServe(ctx context.Context, e *env, args []string) error {
	var c config
	fs := newFlags(e, "serve")
	commonFlags(e, fs, &c)
	workerFlags(e, fs, &c)
	notifyFlags(e, fs, &c)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkWorkerFlags(&c); err != nil {
		return err
	}
	if err := checkNotifyFlags(&c); err != nil {
		return err
	}
	st, log, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer st.Close()
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.Addr, err)
	}
	log.Info("alinea serving", "url", "http://"+ln.Addr().String(), "config", c.String())
	return serve(ctx, st, ln, c, e)
}

// serve runs the HTTP server and the background workers until ctx ends.
func serve(ctx context.Context, st *store.Store, ln net.Listener, c config, e *env) error {
	tuneRuntime(st.Backend() == store.SQLite)
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		return err
	}
	workers := river.NewWorkers()
	registerWorkers(workers, st, log)
	if err := registerDeliveryWorkers(workers, st, c, log); err != nil {
		return err
	}
	periodic := append(periodicJobs(c), jobs.DeliverySweep(jobs.DeliverySweepInterval))
	qc := jobs.ServeConfig()
	qc.Logger, qc.Workers, qc.Periodic = log, workers, periodic
	queue, err := jobs.New(st, qc)
	if err != nil {
		return err
	}
	if err := queue.Start(ctx); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	defer func() {
		// Let running jobs finish; River releases what does not finish in time.
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := queue.Stop(stopCtx); err != nil {
			log.Warn("job queue stopped with error", "err", err)
		}
	}()
	srv := server.New(server.Config{Store: st, Logger: log, Jobs: queue, SecureCookies: c.SecureCookies})
	return srv.ListenAndServe(ctx, ln)
}

// registerWorkers adds every background job kind this binary works.
func registerWorkers(w *river.Workers, st *store.Store, log *slog.Logger) {
	river.AddWorker(w, &jobs.ReevaluateWorker{Store: st, Log: log})
	river.AddWorker(w, &jobs.HandoffSweepWorker{Store: st, Log: log})
	river.AddWorker(w, &jobs.ImportWorker{Store: st, Log: log})
}
