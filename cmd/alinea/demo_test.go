package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// lockedBuffer is a bytes.Buffer a running command writes to while the
// test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func demoEnv(vars map[string]string) (*env, *lockedBuffer, *lockedBuffer) {
	out, errOut := &lockedBuffer{}, &lockedBuffer{}
	return &env{stdout: out, stderr: errOut, stdin: strings.NewReader(""), getenv: func(k string) string { return vars[k] }}, out, errOut
}

// lineValue returns what follows prefix on the first line starting with it.
func lineValue(text, prefix string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			return strings.TrimSpace(strings.TrimPrefix(line, prefix))
		}
	}
	return ""
}

// TestDemoBuildsServesAndPrintsCredentials runs `alinea demo --force` over
// an existing file, waits until it serves, and checks that the printed URL,
// users, passwords and keys work.
func TestDemoBuildsServesAndPrintsCredentials(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.db")
	if err := os.WriteFile(path, []byte("an old demo"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, out, errOut := demoEnv(nil)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, e, []string{"demo", "--db", path, "--addr", "127.0.0.1:0", "--contacts", "100", "--events", "2000",
			"--now", "2025-06-01", "--seed", "3", "--log-level", "warn", "--force"})
	}()
	deadline := time.After(90 * time.Second)
	for !strings.Contains(out.String(), "Write key") {
		select {
		case err := <-done:
			t.Fatalf("demo returned before serving: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
		case <-deadline:
			t.Fatalf("demo did not serve in time\nstdout:\n%s\nstderr:\n%s", out, errOut)
		case <-time.After(50 * time.Millisecond):
		}
	}
	// The credentials are printed just before serving starts.
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("demo stopped right after printing its credentials: %v\nstderr:\n%s", err, errOut)
	default:
	}
	text := out.String()
	url := lineValue(text, "URL: ")
	apiKey := lineValue(text, "API key (admin, admin@vertice.example): ")
	writeKey := lineValue(text, "Write key (website): ")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || !strings.HasPrefix(apiKey, "aln_key_") || !strings.HasPrefix(writeKey, "aln_wk_") {
		t.Fatalf("URL %q, API key %q, write key %q in:\n%s", url, apiKey, writeKey, text)
	}
	if !strings.Contains(text, "100 contacts, 2000 events") {
		t.Errorf("summary does not give the counts:\n%s", text)
	}
	type login struct{ email, password string }
	var logins []login
	for _, line := range strings.Split(text, "\n") {
		if f := strings.Fields(line); strings.HasPrefix(line, "  ") && len(f) >= 4 && strings.Contains(f[0], "@") {
			logins = append(logins, login{f[0], f[1]})
		}
	}
	if len(logins) != 8 {
		t.Fatalf("%d users printed, want 8:\n%s", len(logins), text)
	}

	req, _ := http.NewRequest("GET", url+"/api/v1/contacts?limit=5", nil)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/v1/contacts with the printed API key: %s", resp.Status)
	}
	// The demo opens with the seed-003 agreement active and a goal for the
	// current quarter, so the home page and contact pages have scores.
	now := time.Now().UTC()
	quarter := fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	for _, path := range []string{"/api/v1/agreements/active", "/api/v1/goals/" + quarter} {
		req, _ := http.NewRequest("GET", url+path, nil)
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s on the demo: %s", path, resp.Status)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop after its context ended")
	}

	if _, err := os.Stat(path + ".building"); !os.IsNotExist(err) {
		t.Errorf("the build file is left behind: %v", err)
	}
	st, err := store.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	bg := context.Background()
	for _, l := range logins {
		if _, err := st.Authenticate(bg, l.email, l.password); err != nil {
			t.Errorf("sign in as %s with the printed password: %v", l.email, err)
		}
	}
	if u, err := st.UserByAPIKey(bg, apiKey); err != nil || u.Role != alinea.RoleAdmin {
		t.Errorf("printed API key: %+v, %v", u, err)
	}
	if _, err := st.WriteKeyBySecret(bg, writeKey); err != nil {
		t.Errorf("printed write key: %v", err)
	}
	contacts, _, err := st.Contacts(bg, alinea.ContactFilter{Limit: 1000})
	if err != nil || len(contacts) != 100 {
		t.Errorf("%d contacts in the demo database, want 100 (%v)", len(contacts), err)
	}
}

// TestDemoRefusals covers what alinea demo refuses, and that a refused or
// failed run leaves existing files alone.
func TestDemoRefusals(t *testing.T) {
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing.db")
	realDB := filepath.Join(dir, "real.db")
	for _, p := range []string{existing, realDB} {
		if err := os.WriteFile(p, []byte("keep me"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fresh := filepath.Join(dir, "fresh.db")
	for _, c := range []struct {
		name string
		args []string
		vars map[string]string
		want []string
	}{
		{"existing file without --force", []string{"--db", existing}, nil, []string{existing + " already exists", "--force", "alinea serve --db " + existing}},
		{"PostgreSQL URL", []string{"--db", "postgres://u@localhost/alinea"}, nil, []string{"not a PostgreSQL URL"}},
		{"bad --now", []string{"--db", fresh, "--now", "yesterday"}, nil, []string{"--now", `"yesterday"`}},
		{"bad --seed", []string{"--db", fresh, "--seed", "one"}, nil, []string{"--seed"}},
		{"too few contacts", []string{"--db", fresh, "--contacts", "5"}, nil, []string{"contacts must be at least 20"}},
		{"too few events, forced over an existing file", []string{"--db", existing, "--force", "--contacts", "300", "--events", "50", "--now", "2025-06-01"}, nil, []string{"too few"}},
		{"extra argument", []string{"--db", fresh, "now"}, nil, []string{`unexpected argument "now"`}},
		// ALINEA_DB may name a real database: the demo reads ALINEA_DEMO_DB.
		{"ALINEA_DB is not the demo's", []string{"--force"}, map[string]string{"ALINEA_DB": realDB, "ALINEA_DEMO_DB": fresh, "ALINEA_DEMO_CONTACTS": "7"}, []string{"contacts must be at least 20"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, _, _ := demoEnv(c.vars)
			err := run(context.Background(), e, append([]string{"demo", "--addr", "127.0.0.1:0"}, c.args...))
			if err == nil {
				t.Fatal("demo succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, p := range []string{existing, realDB} {
				if b, _ := os.ReadFile(p); string(b) != "keep me" {
					t.Errorf("%s was changed: %q", p, b)
				}
			}
			for _, p := range []string{fresh, existing + ".building", fresh + ".building"} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s exists after a failed run", p)
				}
			}
		})
	}
}

func TestParseDemoNow(t *testing.T) {
	east := time.FixedZone("UTC+5", 5*3600)
	for _, c := range []struct {
		in   string
		wall time.Time
		want time.Time
	}{
		{"", time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)},
		// Today is today in UTC: 01:00 at UTC+5 is still the 3rd in UTC.
		{"", time.Date(2025, 3, 4, 1, 0, 0, 0, east), time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)},
		{"2024-12-31", time.Time{}, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"2024-12-31T10:00:00+01:00", time.Time{}, time.Date(2024, 12, 31, 9, 0, 0, 0, time.UTC)},
	} {
		got, err := parseDemoNow(c.in, c.wall)
		if err != nil || !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("parseDemoNow(%q, %s) = %s, %v; want %s", c.in, c.wall, got, err, c.want)
		}
	}
}
