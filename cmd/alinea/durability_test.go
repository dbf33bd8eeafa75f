package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// buildBinary compiles alinea once per test binary run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "alinea")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lastLine runs the binary and returns the last line of its stdout.
func lastLine(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		t.Fatalf("alinea %s: %v", strings.Join(args, " "), err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// TestKillNineLosesNoAcknowledgedEvent ingests batches into a real server
// process, kills it with SIGKILL mid-stream, and checks that every batch that
// got a 200 is in the database afterwards.
func TestKillNineLosesNoAcknowledgedEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	db := filepath.Join(t.TempDir(), "durable.db")
	key := lastLine(t, bin, "writekey", "create", "--db", db, "--name", "site")
	if !strings.HasPrefix(key, "aln_wk_") {
		t.Fatalf("write key on the last line: got %q", key)
	}
	addr := freeAddr(t)
	srv := exec.Command(bin, "serve", "--db", db, "--addr", addr, "--log-level", "warn")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Process.Kill(); _, _ = srv.Process.Wait() })
	url := "http://" + addr + "/v1/batch"
	waitReady(t, "http://"+addr+"/healthz")

	var mu sync.Mutex
	var acked []string
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ctx.Err() == nil; i++ {
				var batch []map[string]any
				var ids []string
				for j := range 50 {
					id := fmt.Sprintf("w%d-r%d-e%d", w, i, j)
					ids = append(ids, id)
					batch = append(batch, map[string]any{"type": "track", "event": "Trial Started", "userId": fmt.Sprintf("u%d", j), "messageId": id})
				}
				body, _ := json.Marshal(map[string]any{"batch": batch})
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
				req.SetBasicAuth(key, "")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked = append(acked, ids...)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	if err := srv.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_, _ = srv.Process.Wait()
	cancel()
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("no batch was acknowledged before the kill; the test proves nothing")
	}

	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	stored := map[string]bool{}
	perContact := map[int64]int64{}
	var before int64
	for {
		page, next, err := st.Events(context.Background(), alinea.EventFilter{Limit: 1000, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			stored[e.MessageID] = true
			perContact[e.ContactID]++
		}
		if next == 0 {
			break
		}
		before = next
	}
	var lost []string
	for _, id := range acked {
		if !stored[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged events lost after kill -9, e.g. %v", len(lost), len(acked), lost[:min(5, len(lost))])
	}
	t.Logf("%d acknowledged events, all present after kill -9 (%d stored in all)", len(acked), len(stored))

	// The writer's memory died with it: the message ids it had not moved to
	// their table and the activity it had not written yet. Every stored
	// event still counts once in its contact's activity, and sending the
	// acknowledged events again stores none of them.
	activityCounts := func(step string) {
		t.Helper()
		for contact, n := range perContact {
			acts, err := st.Activity(context.Background(), contact)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != 1 || acts[0].EventType != "Trial Started" || acts[0].Count != n {
				t.Fatalf("%s: contact %d has activity %+v, want %d Trial Started", step, contact, acts, n)
			}
		}
	}
	activityCounts("after kill -9")
	var again []alinea.Message
	for _, id := range acked {
		again = append(again, alinea.Message{Type: "track", Event: "Trial Started", UserID: "u0", MessageID: id, ReceivedAt: time.Now()})
	}
	for start := 0; start < len(again); start += 500 {
		res, err := st.Ingest(context.Background(), 0, again[start:min(start+500, len(again))])
		if err != nil {
			t.Fatal(err)
		}
		if res.Stored != 0 {
			t.Fatalf("%d acknowledged events stored a second time after kill -9", res.Stored)
		}
	}
	// Closing writes the activity run; the counts do not change.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = store.Open(context.Background(), db, store.Options{}); err != nil {
		t.Fatal(err)
	}
	activityCounts("after the activity run")
}

func waitReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server at %s did not become ready", url)
}
