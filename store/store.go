// Package store keeps Alinea's data in SQLite (the embedded default) or
// PostgreSQL. SQL is written once with ? placeholders and rebound for
// PostgreSQL; what differs between the backends stays behind the dialect seam
// in this package.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"

	"github.com/alinea-crm/alinea"
)

//go:embed migrations
var migrations embed.FS

// Backend names a storage backend.
type Backend string

const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Store is the database behind Alinea.
type Store struct {
	backend Backend
	// db takes writes. On SQLite it holds one connection: SQLite has one
	// writer at a time and queuing in Go is cheaper than busy-waiting.
	db *sql.DB
	// rdb serves reads; on PostgreSQL it is the same pool as db.
	rdb *sql.DB
	// pool is the native PostgreSQL pool behind db (nil on SQLite).
	pool *pgxpool.Pool
	log  *slog.Logger
	now  func() time.Time

	ingest *ingester
	// search adds new contacts to the search index (contact_search.go).
	search *searchIndexer
	// fold moves activity deltas into the summaries (PostgreSQL,
	// activity_fold.go).
	fold *activityFolder
	// live caches the active agreement, compiled, for live evaluation.
	live atomic.Pointer[liveAgreement]
	// writeKeyRevocations counts write keys revoked through this Store, so
	// that caches of write keys (ingestion's) can drop what they hold.
	writeKeyRevocations atomic.Int64
}

// Options tunes Open.
type Options struct {
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
	// SkipMigrate leaves the schema alone (alinea migrate applies it).
	SkipMigrate bool
	// BulkLoad turns off fsync on SQLite (synchronous=OFF). Only for building
	// a new database from scratch, e.g. the demo: a crash during the load may
	// corrupt the file, which is then simply built again.
	BulkLoad bool

	// moveIDsIdle and activityRun replace moveMessageIDsIdle and
	// activityFlushEvents in tests.
	moveIDsIdle time.Duration
	activityRun int
}

// IsPostgresURL reports whether dsn selects the PostgreSQL backend.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn (a SQLite file path or a postgres:// URL) and applies
// pending migrations.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	s := &Store{log: opt.Logger, now: opt.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if IsPostgresURL(dsn) {
		s.backend = Postgres
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres URL: %w", err)
		}
		if cfg.MaxConns < 32 && !strings.Contains(dsn, "pool_max_conns") {
			cfg.MaxConns = 32
		}
		// One pgx pool serves both database/sql (the store) and native pgx
		// (the job queue), so they share connection limits.
		s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		s.db = stdlib.OpenDBFromPool(s.pool)
		s.rdb = s.db
	} else {
		s.backend = SQLite
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" {
			return nil, alinea.Errorf(alinea.EINVALID, "database path is empty")
		}
		s.db = sql.OpenDB(newSQLiteConnector(sqliteDSN(path, true, opt.BulkLoad)))
		s.db.SetMaxOpenConns(1)
		s.db.SetConnMaxIdleTime(0)
		s.rdb = sql.OpenDB(newSQLiteConnector(sqliteDSN(path, false, false)))
		n := max(4, runtime.GOMAXPROCS(0)*2)
		s.rdb.SetMaxOpenConns(n)
		s.rdb.SetMaxIdleConns(n)
	}
	if err := s.db.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s database: %w", s.backend, err)
	}
	if !opt.SkipMigrate {
		if _, err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.ingest = newIngester(s, cmp.Or(opt.moveIDsIdle, moveMessageIDsIdle), cmp.Or(opt.activityRun, activityFlushEvents))
	s.search = newSearchIndexer(s)
	s.fold = newActivityFolder(s)
	return s, nil
}

// sqliteDSN sets the pragmas every connection needs: WAL so readers never
// block the writer, foreign keys, a busy timeout, and synchronous=FULL so an
// acknowledged write survives even a power cut (group commit in the ingester
// pays for the fsync once per many requests). Write connections start
// transactions with BEGIN IMMEDIATE to take the write lock up front.
// sqliteMmapSize is how much of a SQLite database file connections read
// through memory mapping. Without it a reader whose snapshot is older than
// the last commit (every look-up during ingestion) drops its whole page
// cache and reads each page again with a system call and a copy; mapped,
// it finds unchanged pages in the kernel's page cache directly:
// +10-15% ingestion at 1,000,000 events (docs/BENCHMARKS.md).
const sqliteMmapSize = 1 << 30

// sqliteConnector opens SQLite connections with the settings the DSN
// cannot carry.
type sqliteConnector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func newSQLiteConnector(dsn string) sqliteConnector {
	return sqliteConnector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		if _, err := c.Exec(`PRAGMA mmap_size = `+strconv.Itoa(sqliteMmapSize), nil); err != nil {
			return fmt.Errorf("set mmap_size: %w", err)
		}
		return nil
	}}}
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c sqliteConnector) Driver() driver.Driver                        { return c.driver }

func sqliteDSN(path string, write, bulkLoad bool) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_foreign_keys", "on")
	v.Set("_busy_timeout", "10000")
	v.Set("_synchronous", "FULL")
	if bulkLoad {
		v.Set("_synchronous", "OFF")
	}
	v.Set("_cache_size", "-65536")
	// database/sql hands a connection to one goroutine at a time, so
	// SQLite's own per-connection mutexes (taken on every call) only cost:
	// 3.5% of an import's CPU, +2.5-3% rows/s without them.
	v.Set("_mutex", "no")
	// Reuse prepared statements per connection: preparing took a sixth of
	// the ingestion writer's time.
	v.Set("_stmt_cache_size", "128")
	if write {
		v.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + v.Encode()
}

// Backend says which database this store runs on.
func (s *Store) Backend() Backend { return s.backend }

// Close stops background work and closes the connections.
func (s *Store) Close() error {
	if s.search != nil {
		s.search.close()
	}
	if s.ingest != nil {
		s.ingest.close()
	}
	if s.fold != nil {
		s.fold.close()
	}
	var err error
	if s.rdb != nil && s.rdb != s.db {
		err = s.rdb.Close()
	}
	if s.db != nil {
		err = errors.Join(err, s.db.Close())
	}
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Handles exposes the connection pools to the job queue, which runs its own
// tables and queries in the same database: SQL is the write pool (one
// connection on SQLite) and Pgx the native pool on PostgreSQL.
func (s *Store) Handles() (sqlDB *sql.DB, pgx *pgxpool.Pool) {
	return s.db, s.pool
}

// Migrate applies pending migrations and returns the versions applied.
func (s *Store) Migrate(ctx context.Context) ([]int64, error) {
	dir, dialect := "migrations/sqlite", goose.DialectSQLite3
	if s.backend == Postgres {
		dir, dialect = "migrations/postgres", goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, s.db, sub)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	applied := make([]int64, 0, len(res))
	for _, r := range res {
		applied = append(applied, r.Source.Version)
		s.log.Info("migration applied", "version", r.Source.Version, "duration", r.Duration)
	}
	return applied, nil
}

// q rebinds a query written with ? placeholders for the current backend.
func (s *Store) q(query string) string {
	if s.backend != Postgres {
		return query
	}
	return rebind(query)
}

func rebind(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// inTx runs fn in a write transaction, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}

// mapErr turns constraint violations into domain errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.ExtendedCode {
		case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
			return &alinea.Error{Code: alinea.ECONFLICT, Message: "already exists", Fields: uniqueField(se.Error())}
		case sqlite3.ErrConstraintForeignKey:
			return &alinea.Error{Code: alinea.EINVALID, Message: "refers to a record that does not exist"}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return &alinea.Error{Code: alinea.ECONFLICT, Message: "already exists", Fields: uniqueField(pe.ConstraintName + " " + pe.Detail)}
		case "23503":
			return &alinea.Error{Code: alinea.EINVALID, Message: "refers to a record that does not exist"}
		}
	}
	return err
}

// uniqueField guesses the field from a unique-violation message.
func uniqueField(msg string) map[string]string {
	for _, f := range []string{"email", "external_id", "domain", "name", "message_id"} {
		if strings.Contains(msg, f) {
			return map[string]string{f: "is already taken"}
		}
	}
	return nil
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func nullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func notFound(what string, id int64) error {
	return alinea.Errorf(alinea.ENOTFOUND, "%s %d not found", what, id)
}

func limit(n, def, maxN int) int {
	if n <= 0 {
		return def
	}
	return min(n, maxN)
}
