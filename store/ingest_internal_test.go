package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestStatementSizes: the sizes add up and come from a small set.
func TestStatementSizes(t *testing.T) {
	seen := map[int]bool{}
	for n := range 1000 {
		sum := 0
		for _, size := range statementSizes(n, 128) {
			if size > 128 || size&(size-1) != 0 {
				t.Fatalf("statementSizes(%d) has size %d", n, size)
			}
			seen[size] = true
			sum += size
		}
		if sum != n {
			t.Fatalf("statementSizes(%d) adds up to %d", n, sum)
		}
	}
	if len(seen) != 8 {
		t.Fatalf("%d distinct sizes, want 8", len(seen))
	}
}

// TestIngestLeavesWriterSyncing: ingestion commits with synchronous=NORMAL
// and syncs the WAL itself; the write connection must be back at FULL for
// every other write, and what was ingested must be there when the store
// is opened again.
func TestIngestLeavesWriterSyncing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sync.db")
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []alinea.Message{{Type: "track", MessageID: "t1", UserID: "u1", Event: "Seen", ReceivedAt: time.Now()}}
	if _, err := s.Ingest(ctx, 0, msgs); err != nil {
		t.Fatal(err)
	}
	if s.ingest.wal == nil {
		t.Fatal("the writer did not open the WAL: commits synced themselves")
	}
	var level int
	if err := s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != 2 {
		t.Fatalf("write connection left at synchronous=%d, want 2 (FULL)", level)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, _, err := s.Events(ctx, alinea.EventFilter{Limit: 10})
	if err != nil || len(evs) != 1 || evs[0].MessageID != "t1" {
		t.Fatalf("after reopening: %v, %v", evs, err)
	}
}

// TestSQLiteConnectionsMapTheFile: both pools' connections read the file
// through memory mapping (sqliteMmapSize), not a cap lowered at build time.
func TestSQLiteConnectionsMapTheFile(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "mmap.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for name, db := range map[string]*sql.DB{"write": s.db, "read": s.rdb} {
		var size int64
		if err := db.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&size); err != nil {
			t.Fatal(err)
		}
		if size != sqliteMmapSize {
			t.Fatalf("%s connection maps %d bytes, want %d", name, size, sqliteMmapSize)
		}
	}
}
