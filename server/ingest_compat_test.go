package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	analytics "gopkg.in/segmentio/analytics-go.v3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// These tests drive Alinea with Segment's own client libraries, unchanged,
// and read the result back through the REST API.

// segmentCallbacks records what analytics-go reports for each message.
type segmentCallbacks struct {
	mu       sync.Mutex
	ok       int
	failures []string
}

func (c *segmentCallbacks) Success(analytics.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok++
}

func (c *segmentCallbacks) Failure(m analytics.Message, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failures = append(c.failures, fmt.Sprintf("%T: %v", m, err))
}

type testLogger struct{ t *testing.T }

func (l testLogger) Logf(format string, args ...any) { l.t.Logf("analytics-go: "+format, args...) }
func (l testLogger) Errorf(format string, args ...any) {
	l.t.Logf("analytics-go error: "+format, args...)
}

func TestSegmentGoClient(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		cb := &segmentCallbacks{}
		client, err := analytics.NewWithConfig(env.key, analytics.Config{
			Endpoint:   env.url,
			BatchSize:  2, // the three calls go out in two requests
			Interval:   time.Hour,
			Callback:   cb,
			Logger:     testLogger{t},
			RetryAfter: func(int) time.Duration { return 10 * time.Millisecond },
			DefaultContext: &analytics.Context{
				Library: analytics.LibraryInfo{Name: "analytics-go", Version: "3.1.0"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		calls := []analytics.Message{
			analytics.Identify{UserId: "go-user-1", AnonymousId: "go-anon-1",
				Traits: analytics.NewTraits().SetEmail("gopher@go.example").SetFirstName("Gema").SetLastName("Gil").Set("plan", "trial")},
			analytics.Track{UserId: "go-user-1", Event: "Trial Started",
				Properties: analytics.NewProperties().Set("plan", "pro").Set("seats", 5),
				Context:    &analytics.Context{Campaign: analytics.CampaignInfo{Source: "newsletter", Medium: "email", Name: "spring"}}},
			analytics.Page{UserId: "go-user-1", Name: "Pricing",
				Properties: analytics.NewProperties().SetURL("https://alinea.example/precios")},
		}
		for _, m := range calls {
			if err := client.Enqueue(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := client.Close(); err != nil { // flushes
			t.Fatal(err)
		}
		if cb.ok != 3 || len(cb.failures) > 0 {
			t.Fatalf("analytics-go: %d delivered, failures %v", cb.ok, cb.failures)
		}
		checkSegmentClientData(t, env, "gopher@go.example", "go-user-1", "Gema")
	})
}

func TestSegmentNodeClient(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("testdata", "segment-node"))
	if err != nil {
		t.Fatal(err)
	}
	node := requireTool(t, "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node")); err != nil {
		npm := requireTool(t, "npm")
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	}
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, node, "send.js")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "ALINEA_URL="+env.url, "ALINEA_WRITE_KEY="+env.key)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node send.js: %v\n%s", err, out)
		}
		checkSegmentClientData(t, env, "nora@node.example", "node-user-1", "Nora")
	})
}

// requireTool finds a program on PATH. Where the whole suite must run (CI),
// a missing tool fails the test; elsewhere it skips it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") == "true" || os.Getenv("ALINEA_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("%s is required to test Segment's Node client but was not found on PATH: %v", name, err)
	}
	t.Skipf("%s not found on PATH; skipping", name)
	return ""
}

// checkSegmentClientData asserts, through /api/v1, that a client's identify,
// track and page calls made one contact with its traits and three events.
func checkSegmentClientData(t *testing.T, env *ingestEnv, email, userID, firstName string) {
	t.Helper()
	ctx := context.Background()
	admin, err := env.st.CreateUser(ctx, alinea.NewUser{Email: "admin@alinea.example", Name: "Admin", Role: alinea.RoleAdmin, Password: "correct horse battery staple"})
	if err != nil {
		t.Fatal(err)
	}
	_, apiKey, err := env.st.CreateAPIKey(ctx, admin.ID, "compat test")
	if err != nil {
		t.Fatal(err)
	}

	var contacts struct {
		Data []alinea.Contact `json:"data"`
	}
	apiGet(t, env.url+"/api/v1/contacts?email="+url.QueryEscape(email), apiKey, &contacts)
	if len(contacts.Data) != 1 {
		t.Fatalf("GET /api/v1/contacts?email=%s: %d contacts", email, len(contacts.Data))
	}
	c := contacts.Data[0]
	if c.ExternalID != userID || c.FirstName != firstName {
		t.Fatalf("contact %+v, want user id %s and first name %s", c, userID, firstName)
	}

	var events struct {
		Data []alinea.Event `json:"data"`
	}
	apiGet(t, fmt.Sprintf("%s/api/v1/events?contact=%d", env.url, c.ID), apiKey, &events)
	got := map[string]alinea.Event{}
	for _, e := range events.Data {
		got[e.Type] = e
	}
	if len(events.Data) != 3 || got["identify"].Type == "" || got["track"].Name != "Trial Started" || got["page"].Name != "Pricing" {
		t.Fatalf("events of contact %d: %+v", c.ID, events.Data)
	}
	track := got["track"]
	if track.UTM.Source != "newsletter" || track.UTM.Campaign != "spring" || !strings.Contains(string(track.Properties), `"seats":5`) {
		t.Errorf("track event %+v", track)
	}
	for _, e := range events.Data {
		if e.MessageID == "" || e.OccurredAt.IsZero() || time.Since(e.OccurredAt).Abs() > time.Hour {
			t.Errorf("event %s: message id %q, occurred %v", e.Type, e.MessageID, e.OccurredAt)
		}
	}
}

func apiGet(t *testing.T, u, apiKey string, out any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		var body json.RawMessage
		_ = json.NewDecoder(res.Body).Decode(&body)
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, body)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}
