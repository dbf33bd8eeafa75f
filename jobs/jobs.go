// Package jobs runs Alinea's background work on River, a database-backed job
// queue, in the same database as the data: SQLite through River's SQLite
// driver (one writer connection, shared with the store) and PostgreSQL
// through pgx (leases with FOR UPDATE SKIP LOCKED, so several Alinea
// instances share the work and no job runs twice).
package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// Queue inserts jobs and, once started, works them.
type Queue struct {
	// River's client is generic over the driver's transaction type, which
	// differs per backend; these closures hide that from callers.
	insert func(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	get    func(ctx context.Context, id int64) (*rivertype.JobRow, error)
	start  func(ctx context.Context) error
	stop   func(ctx context.Context) error
}

// Config tunes the queue.
type Config struct {
	Logger *slog.Logger
	// Workers holds the job kinds this process works; nil or empty makes an
	// insert-only queue (e.g. for CLI commands).
	Workers *river.Workers
	// MaxWorkers bounds concurrent jobs in this process.
	MaxWorkers int
	// DeliveryWorkers bounds concurrent notification deliveries, which run
	// in their own queue (QueueDeliveries) beside MaxWorkers' jobs: they
	// mostly wait on mail servers and endpoints. Zero: MaxWorkers.
	DeliveryWorkers int
	// PollInterval is how often idle workers look for new jobs.
	PollInterval time.Duration
	// FetchCooldown is the least time between two fetches of jobs while
	// jobs keep coming (River's default, 100 ms, when zero).
	FetchCooldown time.Duration
	// Periodic jobs (SLA clock sweeps, delivery retries) are scheduled by
	// River's elected leader, so with several instances each runs once per
	// interval rather than once per instance.
	Periodic []*river.PeriodicJob
}

// QueueDeliveries is the queue of notification deliveries.
const QueueDeliveries = "deliveries"

// ServeConfig is the queue as `alinea serve` runs it, without its workers
// and periodic jobs (the caller adds them). River fetches at most a queue's
// free workers per fetch and waits FetchCooldown between fetches, so four
// workers at River's 100 ms sent ~40 notification emails a second; 32
// delivery workers fetched every 10 ms send hundreds (docs/BENCHMARKS.md).
func ServeConfig() Config {
	return Config{MaxWorkers: 4, DeliveryWorkers: 32, FetchCooldown: 10 * time.Millisecond}
}

// Migrate creates or updates River's tables.
func Migrate(ctx context.Context, st *store.Store) error {
	sqlDB, pool := st.Handles()
	var err error
	if st.Backend() == store.Postgres {
		var m *rivermigrate.Migrator[pgx.Tx]
		m, err = rivermigrate.New(riverpgxv5.New(pool), nil)
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	} else {
		m, merr := rivermigrate.New(riversqlite.New(sqlDB), nil)
		err = merr
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
	}
	if err != nil {
		return fmt.Errorf("job queue migrations: %w", err)
	}
	return nil
}

// New builds a queue on the store's database; call Migrate first.
func New(st *store.Store, cfg Config) (*Queue, error) {
	rc := &river.Config{Logger: cfg.Logger, FetchPollInterval: cfg.PollInterval}
	if rc.Logger == nil {
		rc.Logger = slog.New(slog.DiscardHandler)
	}
	if rc.FetchPollInterval == 0 {
		rc.FetchPollInterval = time.Second
	}
	rc.FetchCooldown = cfg.FetchCooldown
	if rc.FetchCooldown == 0 {
		rc.FetchCooldown = river.FetchCooldownDefault
	}
	rc.FetchCooldown = min(rc.FetchCooldown, rc.FetchPollInterval)
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: max(1, cfg.MaxWorkers)},
			QueueDeliveries:    {MaxWorkers: max(1, cmp.Or(cfg.DeliveryWorkers, cfg.MaxWorkers))},
		}
		rc.PeriodicJobs = cfg.Periodic
	}
	sqlDB, pool := st.Handles()
	if st.Backend() == store.Postgres {
		c, err := river.NewClient(riverpgxv5.New(pool), rc)
		if err != nil {
			return nil, fmt.Errorf("job queue: %w", err)
		}
		return wrap(c, cfg.Workers != nil), nil
	}
	c, err := river.NewClient(riversqlite.New(sqlDB), rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	return wrap(c, cfg.Workers != nil), nil
}

func wrap[TTx any](c *river.Client[TTx], working bool) *Queue {
	q := &Queue{insert: c.Insert, get: c.JobGet}
	if working {
		q.start, q.stop = c.Start, c.Stop
	}
	return q
}

// Start begins working jobs until ctx ends or Stop is called.
func (q *Queue) Start(ctx context.Context) error {
	if q.start == nil {
		return errors.New("job queue has no workers")
	}
	return q.start(ctx)
}

// Stop waits for running jobs to finish (or ctx to end) and stops.
func (q *Queue) Stop(ctx context.Context) error {
	if q.stop == nil {
		return nil
	}
	return q.stop(ctx)
}

// Insert enqueues a job and returns its id.
func (q *Queue) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (int64, error) {
	res, err := q.insert(ctx, args, opts)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	return res.Job.ID, nil
}

// Job returns a job's current row.
func (q *Queue) Job(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	row, err := q.get(ctx, id)
	if errors.Is(err, rivertype.ErrNotFound) {
		return nil, alinea.Errorf(alinea.ENOTFOUND, "job %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("job %d: %w", id, err)
	}
	return row, nil
}
