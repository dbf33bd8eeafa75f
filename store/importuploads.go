package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
)

// The web UI imports in steps: the file is uploaded, its columns mapped,
// tried in a dry run, then run. Between steps the file waits in import_jobs
// as a pending import, where any Alinea instance can read it and where the
// import job that finally runs it reads it too.

// CreateImportUpload stores an uploaded CSV file as a pending import of a
// user. Nothing runs it until QueueImportUpload.
func (s *Store) CreateImportUpload(ctx context.Context, userID int64, filename string, content []byte) (alinea.ImportJob, error) {
	row := s.db.QueryRowContext(ctx, s.q(`INSERT INTO import_jobs (user_id, filename, status, dry_run, mapping, bytes, content, created_at)
		VALUES (?, ?, ?, 0, '{}', ?, ?, ?) RETURNING `+importJobColumns),
		nullID(userID), filename, alinea.ImportPending, len(content), content, ms(s.now()))
	j, err := scanImportJob(row)
	if err != nil {
		return j, fmt.Errorf("create import upload: %w", mapErr(err))
	}
	return j, nil
}

// ImportUpload returns a pending import and its file. An import that has
// been queued since is ECONFLICT: its file belongs to the job now.
func (s *Store) ImportUpload(ctx context.Context, id int64) (alinea.ImportJob, []byte, error) {
	var content []byte
	row := s.rdb.QueryRowContext(ctx, s.q(`SELECT `+importJobColumns+`, content FROM import_jobs WHERE id = ?`), id)
	j, err := scanImportJob(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &content)...) }))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return j, nil, notFound("import", id)
	case err != nil:
		return j, nil, fmt.Errorf("get import upload %d: %w", id, err)
	case j.Status != alinea.ImportPending:
		return j, nil, alinea.Errorf(alinea.ECONFLICT, "import %d is %s, no longer waiting for its mapping", id, j.Status)
	}
	return j, content, nil
}

// scanFunc lets a row scanner take extra columns after the usual ones.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// QueueImportUpload gives a pending import its mapping and mode and marks
// it queued, as created now (the import is submitted now); enqueue the job
// that runs it next (see jobs). A second call, as from a form sent twice,
// is ECONFLICT.
func (s *Store) QueueImportUpload(ctx context.Context, id int64, dryRun bool, mapping map[string]string) (alinea.ImportJob, error) {
	dry := 0
	if dryRun {
		dry = 1
	}
	var j alinea.ImportJob
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE import_jobs SET status = ?, dry_run = ?, mapping = ?, created_at = ? WHERE id = ? AND status = ?`),
			alinea.ImportQueued, dry, alinea.MarshalMapping(mapping), ms(s.now()), id, alinea.ImportPending)
		if err != nil {
			return fmt.Errorf("queue import %d: %w", id, err)
		}
		j, err = scanImportJob(tx.QueryRowContext(ctx, s.q(`SELECT `+importJobColumns+` FROM import_jobs WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("import", id)
		}
		if err != nil {
			return fmt.Errorf("queue import %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return alinea.Errorf(alinea.ECONFLICT, "import %d is already %s", id, j.Status)
		}
		return nil
	})
	return j, err
}

// DeleteImportUpload drops a pending import (the user gave up on it).
func (s *Store) DeleteImportUpload(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM import_jobs WHERE id = ? AND status = ?`), id, alinea.ImportPending)
	if err != nil {
		return fmt.Errorf("delete import upload %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("pending import", id)
	}
	return nil
}

// DeleteStaleImportUploads drops pending imports uploaded before t: files
// left behind by people who never mapped them.
func (s *Store) DeleteStaleImportUploads(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM import_jobs WHERE status = ? AND created_at < ?`), alinea.ImportPending, ms(before))
	if err != nil {
		return 0, fmt.Errorf("delete stale import uploads: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// importListColumns leave out the row errors, up to a thousand per import,
// which a list does not show.
var importListColumns = strings.Replace(importJobColumns, "row_errors", "'[]' AS row_errors", 1)

// ImportJobs lists the latest imports, newest first, without their row
// errors; pending uploads are left out.
func (s *Store) ImportJobs(ctx context.Context, limit int) ([]alinea.ImportJob, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT `+importListColumns+` FROM import_jobs WHERE status <> ? ORDER BY id DESC LIMIT ?`),
		alinea.ImportPending, limit)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	var out []alinea.ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list imports: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	return out, nil
}
