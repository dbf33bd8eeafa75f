package jobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/store"
)

// ImportArgs runs one CSV import submitted through the API.
type ImportArgs struct {
	ImportID int64 `json:"import_id"`
}

// Kind names the job in River's tables.
func (ImportArgs) Kind() string { return "contact_import" }

// InsertOpts: one job per import.
func (ImportArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true}, MaxAttempts: 5}
}

// ImportWorker reads an uploaded CSV file from the database and imports it
// with the same importer, mapping and validation as `alinea import`. A
// retried job starts the file over: the upsert by email makes that safe.
type ImportWorker struct {
	river.WorkerDefaults[ImportArgs]
	Store *store.Store
	Log   *slog.Logger
}

// Work runs the import and records its outcome on the import job.
func (w *ImportWorker) Work(ctx context.Context, job *river.Job[ImportArgs]) error {
	id := job.Args.ImportID
	imp, content, err := w.Store.StartImportJob(ctx, id)
	if alinea.ErrorCode(err) == alinea.ECONFLICT {
		return nil // finished by an earlier attempt
	}
	if err != nil {
		return err
	}
	var prog alinea.ImportProgress
	opt := csvimport.Options{
		Map:    imp.Mapping,
		DryRun: imp.DryRun,
		Actor:  alinea.Actor{Type: alinea.ActorImport, UserID: imp.UserID},
		OnProblem: func(p csvimport.Problem) {
			if p.Warning {
				return
			}
			prog.Failed++
			if len(prog.Errors) < alinea.MaxStoredRowErrors {
				prog.Errors = append(prog.Errors, alinea.RowError{Row: p.Row, Column: p.Column, Problem: p.Message})
			}
		},
		OnProgress: func(p csvimport.Progress) {
			prog.Rows, prog.Created, prog.Updated = int(p.Rows), int(p.Created), int(p.Updated)
			if err := w.Store.UpdateImportProgress(ctx, id, prog); err != nil && w.Log != nil {
				w.Log.Warn("import progress not recorded", "import", id, "err", err)
			}
		},
	}
	im, err := csvimport.New(bytes.NewReader(content), opt)
	if err != nil {
		// A bad header is the file's fault: record it and do not retry.
		return w.Store.FinishImportJob(ctx, id, prog, alinea.Errorf(alinea.EINVALID, "%v", err))
	}
	sum, err := im.Run(ctx, w.Store)
	if err != nil {
		if ctx.Err() != nil {
			return err // stopped: River runs the job again
		}
		return w.Store.FinishImportJob(ctx, id, prog, fmt.Errorf("import %d: %w", id, err))
	}
	prog.Rows, prog.Created, prog.Updated = sum.Rows, sum.Created, sum.Updated
	return w.Store.FinishImportJob(ctx, id, prog, nil)
}
