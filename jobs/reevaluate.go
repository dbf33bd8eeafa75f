package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
)

// ReevaluateArgs asks for every contact to be re-evaluated under a newly
// activated agreement version.
type ReevaluateArgs struct {
	AgreementID int64 `json:"agreement_id"`
}

// Kind names the job in River's tables.
func (ReevaluateArgs) Kind() string { return "agreement_reevaluation" }

// InsertOpts makes the job unique per version: activating twice does not
// run two passes.
func (ReevaluateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 25}
}

// ReevaluateWorker works through contacts in chunks. Each chunk commits its
// own progress, so a stopped or failed job resumes where it left off, and
// events ingested meanwhile are neither lost nor counted twice (see
// store.ReevaluateChunk).
type ReevaluateWorker struct {
	river.WorkerDefaults[ReevaluateArgs]
	Store *store.Store
	Log   *slog.Logger
	// Chunk is how many contacts one transaction handles.
	Chunk int
}

// Work runs the re-evaluation to the end or until the job is stopped.
func (w *ReevaluateWorker) Work(ctx context.Context, job *river.Job[ReevaluateArgs]) error {
	chunk := w.Chunk
	if chunk <= 0 {
		chunk = 500
	}
	// A stopped job returns an error; River retries it and it resumes from
	// the stored point.
	if err := w.Store.ReevaluateAll(ctx, job.Args.AgreementID, chunk); err != nil {
		return fmt.Errorf("re-evaluate contacts for agreement %d: %w", job.Args.AgreementID, err)
	}
	if w.Log != nil {
		w.Log.Info("re-evaluation finished", "agreement", job.Args.AgreementID)
	}
	return nil
}

// Activate makes a signed version the active one and enqueues the
// re-evaluation of every contact under it.
func Activate(ctx context.Context, st *store.Store, q *Queue, id, userID int64) (agreement.Version, error) {
	v, err := st.ActivateAgreement(ctx, id, userID)
	if err != nil {
		return v, err
	}
	if err := st.QueueReevaluation(ctx, id); err != nil {
		return v, err
	}
	if _, err := q.Insert(ctx, ReevaluateArgs{AgreementID: id}, nil); err != nil {
		return v, err
	}
	return v, nil
}
