package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/alinea-crm/alinea"
)

const importJobColumns = `id, user_id, filename, status, dry_run, mapping, bytes, rows_done, created, updated, failed, row_errors, error, created_at, started_at, finished_at`

func scanImportJob(row interface{ Scan(...any) error }) (alinea.ImportJob, error) {
	var j alinea.ImportJob
	var user, started, finished sql.NullInt64
	var dry int64
	var mapping, rowErrors string
	var created int64
	err := row.Scan(&j.ID, &user, &j.Filename, &j.Status, &dry, &mapping, &j.Bytes, &j.Rows, &j.Created, &j.Updated, &j.Failed,
		&rowErrors, &j.Error, &created, &started, &finished)
	if err != nil {
		return j, err
	}
	j.UserID, j.DryRun = user.Int64, dry == 1
	j.CreatedAt, j.StartedAt, j.FinishedAt = fromMS(created), nullMS(started), nullMS(finished)
	_ = json.Unmarshal([]byte(mapping), &j.Mapping)
	if err := json.Unmarshal([]byte(rowErrors), &j.RowErrors); err != nil || j.RowErrors == nil {
		j.RowErrors = []alinea.RowError{}
	}
	return j, nil
}

// CreateImportJob stores an uploaded CSV file and its options; enqueue the
// job that runs it in the same breath (see jobs).
func (s *Store) CreateImportJob(ctx context.Context, userID int64, filename string, dryRun bool, mapping map[string]string, content []byte) (alinea.ImportJob, error) {
	dry := 0
	if dryRun {
		dry = 1
	}
	row := s.db.QueryRowContext(ctx, s.q(`INSERT INTO import_jobs (user_id, filename, dry_run, mapping, bytes, content, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+importJobColumns),
		nullID(userID), filename, dry, alinea.MarshalMapping(mapping), len(content), content, ms(s.now()))
	j, err := scanImportJob(row)
	if err != nil {
		return j, fmt.Errorf("create import job: %w", mapErr(err))
	}
	return j, nil
}

// ImportJob returns an import job's status.
func (s *Store) ImportJob(ctx context.Context, id int64) (alinea.ImportJob, error) {
	j, err := scanImportJob(s.rdb.QueryRowContext(ctx, s.q(`SELECT `+importJobColumns+` FROM import_jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return j, notFound("import", id)
	}
	if err != nil {
		return j, fmt.Errorf("get import job %d: %w", id, err)
	}
	return j, nil
}

// StartImportJob marks a job running, resets its counters (a retried job
// starts over: the upsert by email makes that safe) and returns its file.
func (s *Store) StartImportJob(ctx context.Context, id int64) (alinea.ImportJob, []byte, error) {
	var content []byte
	var j alinea.ImportJob
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, s.q(`SELECT content FROM import_jobs WHERE id = ?`), id).Scan(&content)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("import", id)
		}
		if err != nil {
			return fmt.Errorf("start import job %d: %w", id, err)
		}
		if content == nil {
			return alinea.Errorf(alinea.ECONFLICT, "import %d has already finished", id)
		}
		if _, err := tx.ExecContext(ctx, s.q(`UPDATE import_jobs SET status = ?, started_at = ?, rows_done = 0, created = 0, updated = 0, failed = 0, row_errors = '[]', error = '' WHERE id = ?`),
			alinea.ImportRunning, ms(s.now()), id); err != nil {
			return fmt.Errorf("start import job %d: %w", id, err)
		}
		j, err = scanImportJob(tx.QueryRowContext(ctx, s.q(`SELECT `+importJobColumns+` FROM import_jobs WHERE id = ?`), id))
		return err
	})
	return j, content, err
}

// UpdateImportProgress records a running import's counters.
func (s *Store) UpdateImportProgress(ctx context.Context, id int64, p alinea.ImportProgress) error {
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE import_jobs SET rows_done = ?, created = ?, updated = ?, failed = ?, row_errors = ? WHERE id = ?`),
		p.Rows, p.Created, p.Updated, p.Failed, rowErrorsJSON(p.Errors), id)
	if err != nil {
		return fmt.Errorf("update import job %d: %w", id, err)
	}
	return nil
}

// FinishImportJob records the outcome and drops the stored file.
func (s *Store) FinishImportJob(ctx context.Context, id int64, p alinea.ImportProgress, failure error) error {
	status, msg := alinea.ImportDone, ""
	if failure != nil {
		status, msg = alinea.ImportFailed, alinea.ErrorMessage(failure)
	}
	_, err := s.db.ExecContext(ctx, s.q(`UPDATE import_jobs SET status = ?, error = ?, rows_done = ?, created = ?, updated = ?, failed = ?, row_errors = ?,
		finished_at = ?, content = NULL WHERE id = ?`), status, msg, p.Rows, p.Created, p.Updated, p.Failed, rowErrorsJSON(p.Errors), ms(s.now()), id)
	if err != nil {
		return fmt.Errorf("finish import job %d: %w", id, err)
	}
	return nil
}

func rowErrorsJSON(errs []alinea.RowError) string {
	if len(errs) > alinea.MaxStoredRowErrors {
		errs = errs[:alinea.MaxStoredRowErrors]
	}
	if len(errs) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(errs)
	return string(b)
}
