package bench

import (
	"bufio"
	"context"
	"database/sql"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestInProcess runs the ingestion load against an in-process server
// and checks that every event reached the database through the writer.
func TestIngestInProcess(t *testing.T) {
	dir := t.TempDir()
	res, err := Ingest(context.Background(), IngestOptions{Dir: dir, Events: 1000, PerRequest: 100, Connections: 4, Users: 50, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if res.Items != 1000 || !res.InProcess || res.WriterEvents != 1000 {
		t.Fatalf("result %+v, want 1000 events in process, 1000 through the writer", res)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "bench-ingest.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1000 {
		t.Fatalf("%d events stored, want 1000", n)
	}
}

// TestClientConnReadsResponses: the load generator's connection reads
// successive responses on one kept-alive connection and reports a failure
// with its status and body.
func TestClientConnReadsResponses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Basic a2V5Og==" {
			http.Error(w, `{"error":{"code":"EUNAUTHORIZED"}}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"success":true}`))
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := &clientConn{c: c, r: bufio.NewReader(c)}
	req := func(auth string) []byte {
		return []byte("POST /v1/batch HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Basic " + auth + "\r\nContent-Length: 2\r\n\r\n{}")
	}
	for range 3 {
		if err := conn.post(req("a2V5Og==")); err != nil {
			t.Fatal(err)
		}
	}
	err = conn.post(req("bm9wZTo="))
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "EUNAUTHORIZED") {
		t.Fatalf("error %v, want the 401 with its body", err)
	}
}
