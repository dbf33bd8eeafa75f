package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/alinea-crm/alinea/store"
)

// HandoffSweepArgs asks for one pass of the handoff worker: route waiting
// MQLs, record touches, breach and escalate SLA clocks.
type HandoffSweepArgs struct{}

// Kind names the job in River's tables.
func (HandoffSweepArgs) Kind() string { return "handoff_sweep" }

// InsertOpts keeps at most one sweep waiting or running: a slow sweep is
// not followed by a pile of them.
func (HandoffSweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled,
	}}}
}

// HandoffSweepWorker runs store.SweepHandoffs. Its rows are claimed with
// SKIP LOCKED and every breach is keyed, so even two sweeps at once (two
// instances, a retry) notify each breach once.
type HandoffSweepWorker struct {
	river.WorkerDefaults[HandoffSweepArgs]
	Store *store.Store
	Log   *slog.Logger
}

// Work sweeps once.
func (w *HandoffSweepWorker) Work(ctx context.Context, job *river.Job[HandoffSweepArgs]) error {
	r, err := w.Store.SweepHandoffs(ctx)
	if err != nil {
		return fmt.Errorf("handoff sweep: %w", err)
	}
	if r != (store.SweepResult{}) && w.Log != nil {
		w.Log.Info("handoff sweep", "routed", r.Routed, "touched", r.Touched, "closed", r.Closed, "breached", r.Breached, "escalated", r.Escalated)
	}
	return nil
}

// Timeout bounds one sweep; the next interval tries again.
func (w *HandoffSweepWorker) Timeout(*river.Job[HandoffSweepArgs]) time.Duration {
	return 5 * time.Minute
}

// DefaultSweepInterval keeps breaches notified well within a minute of
// their deadline.
const DefaultSweepInterval = 15 * time.Second

// HandoffSweepPeriodic schedules the sweep every interval. River's elected
// leader inserts periodic jobs, so several instances still sweep once per
// interval, not once each.
func HandoffSweepPeriodic(interval time.Duration) *river.PeriodicJob {
	if interval <= 0 {
		interval = DefaultSweepInterval
	}
	return river.NewPeriodicJob(river.PeriodicInterval(interval), func() (river.JobArgs, *river.InsertOpts) {
		return HandoffSweepArgs{}, nil
	}, &river.PeriodicJobOpts{RunOnStart: true})
}
