// Package storetest opens fresh, real databases for tests: a new SQLite file
// per test, and a new schema on the PostgreSQL server named by
// ALINEA_TEST_POSTGRES (started by scripts/test.sh).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/alinea-crm/alinea/store"
)

// Backends lists the backends a test should run on. PostgreSQL is included
// when ALINEA_TEST_POSTGRES is set; when ALINEA_TEST_REQUIRE_POSTGRES=1 (as in
// CI) its absence fails the test instead of narrowing the run.
func Backends(t testing.TB) []store.Backend {
	t.Helper()
	if os.Getenv("ALINEA_TEST_POSTGRES") != "" {
		return []store.Backend{store.SQLite, store.Postgres}
	}
	if os.Getenv("ALINEA_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatal("ALINEA_TEST_REQUIRE_POSTGRES=1 but ALINEA_TEST_POSTGRES is not set")
	}
	return []store.Backend{store.SQLite}
}

// DSN returns a connection string for a fresh, empty database of backend b
// that is removed when the test ends.
func DSN(t testing.TB, b store.Backend) string {
	t.Helper()
	if b == store.SQLite {
		return filepath.Join(t.TempDir(), "alinea.db")
	}
	base := os.Getenv("ALINEA_TEST_POSTGRES")
	if base == "" {
		t.Fatal("ALINEA_TEST_POSTGRES is not set")
	}
	buf := make([]byte, 6)
	_, _ = rand.Read(buf)
	schema := "t_" + hex.EncodeToString(buf)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("postgres at ALINEA_TEST_POSTGRES is not usable: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse ALINEA_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store on a fresh database, closed at test end.
func Open(t testing.TB, b store.Backend, opt store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), DSN(t, b), opt)
	if err != nil {
		t.Fatalf("open %s store: %v", b, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Each runs fn as a subtest on every backend.
func Each(t *testing.T, fn func(t *testing.T, b store.Backend)) {
	for _, b := range Backends(t) {
		t.Run(string(b), func(t *testing.T) { fn(t, b) })
	}
}
