package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/store"
)

// WriteSampleCSV writes the import benchmark's file of n new contacts.
func WriteSampleCSV(dir string, n int) (string, error) {
	path := filepath.Join(dir, fmt.Sprintf("contacts-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := csvimport.WriteSample(f, n); err != nil {
		f.Close()
		return "", err
	}
	return path, f.Close()
}

// Import measures `alinea import contacts` on a fresh SQLite database:
// parsing, mapping, validation and upsert by email.
func Import(ctx context.Context, dir, csvPath string, n int) (Result, error) {
	st, err := store.Open(ctx, filepath.Join(dir, "bench-import.db"), store.Options{})
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	in, err := os.Open(csvPath)
	if err != nil {
		return Result{}, err
	}
	defer in.Close()
	began := time.Now()
	im, err := csvimport.New(in, csvimport.Options{})
	if err != nil {
		return Result{}, err
	}
	sum, err := im.Run(ctx, st)
	if err != nil {
		return Result{}, err
	}
	took := time.Since(began)
	if sum.Created != n || sum.Errors != 0 {
		return Result{}, fmt.Errorf("import created %d of %d rows with %d errors", sum.Created, n, sum.Errors)
	}
	return Result{Name: "CSV import, new contacts (SQLite)", Items: n, Duration: took}, nil
}

// RawContactInsert is the ceiling for the import: the same rows and
// columns written to the same (migrated) contacts table by plain multi-row
// INSERTs, 500 rows a statement and 5,000 a transaction like the importer,
// with the same durability, and no parsing, validation or upsert.
func RawContactInsert(ctx context.Context, dir string, n int) (Result, error) {
	path := filepath.Join(dir, "bench-raw-contacts.db")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		return Result{}, err
	}
	st.Close()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_foreign_keys=on&_synchronous=FULL&_cache_size=-65536&_stmt_cache_size=128&_txlock=immediate")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	const cols, perStmt = 13, 500
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	stmtSQL := func(rows int) string {
		return `INSERT INTO contacts (email, first_name, last_name, phone, job_title, country, source, stage, consent, properties,
			stage_changed_at, created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
	}
	var row []string
	args := make([]any, 0, perStmt*cols)
	began := time.Now()
	for start := 0; start < n; start += csvimport.DefaultBatchSize {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return Result{}, err
		}
		now := time.Now().UnixMilli()
		end := min(start+csvimport.DefaultBatchSize, n)
		for s := start; s < end; s += perStmt {
			e := min(s+perStmt, end)
			args = args[:0]
			for i := s; i < e; i++ {
				row = csvimport.SampleRow(i, row)
				args = append(args, row[0], row[1], row[2], row[3], row[4], row[6], row[7], row[8], row[9],
					`{"company":"`+row[5]+`"}`, now, now, now)
			}
			// Through Query, as the store does: the driver binds a query's
			// arguments in one cgo call.
			rows, err := tx.QueryContext(ctx, stmtSQL(e-s), args...)
			if err == nil {
				err = rows.Close()
			}
			if err != nil {
				tx.Rollback()
				return Result{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return Result{}, err
		}
	}
	return Result{Name: "raw SQLite insert, same contact rows", Items: n, Duration: time.Since(began)}, nil
}
