package server_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// ingestEnv is a real server on a fresh database with one write key.
type ingestEnv struct {
	t   *testing.T
	st  *store.Store
	url string
	key string
}

func newIngestEnv(t *testing.T, b store.Backend, cfg server.Config) *ingestEnv {
	t.Helper()
	st := storetest.Open(t, b, store.Options{})
	_, key, err := st.CreateWriteKey(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	srv := httptest.NewServer(server.New(cfg))
	t.Cleanup(srv.Close)
	return &ingestEnv{t: t, st: st, url: srv.URL, key: key}
}

// ingestResponse is what an ingestion endpoint answered.
type ingestResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r ingestResponse) errorFields() map[string]string {
	var e struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &e)
	return e.Error.Fields
}

type ingestOption func(*http.Request)

func withoutAuth(r *http.Request) { r.Header.Del("Authorization") }

func withHeader(k, v string) ingestOption { return func(r *http.Request) { r.Header.Set(k, v) } }

// post sends body to path with the env's write key as basic auth, unless an
// option says otherwise.
func (e *ingestEnv) post(path string, body []byte, opts ...ingestOption) ingestResponse {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(e.key, "")
	for _, o := range opts {
		o(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return ingestResponse{status: res.StatusCode, header: res.Header, body: b}
}

// mustPost posts and fails the test unless the answer is Segment's 200.
func (e *ingestEnv) mustPost(path, body string, opts ...ingestOption) {
	e.t.Helper()
	res := e.post(path, []byte(body), opts...)
	if res.status != http.StatusOK || strings.TrimSpace(string(res.body)) != `{"success":true}` {
		e.t.Fatalf("POST %s: %d %s", path, res.status, res.body)
	}
}

func (e *ingestEnv) events(f alinea.EventFilter) []alinea.Event {
	e.t.Helper()
	f.Limit = 1000
	evs, _, err := e.st.Events(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func (e *ingestEnv) event(messageID string) alinea.Event {
	e.t.Helper()
	for _, ev := range e.events(alinea.EventFilter{}) {
		if ev.MessageID == messageID {
			return ev
		}
	}
	e.t.Fatalf("no event with messageId %q", messageID)
	return alinea.Event{}
}

func (e *ingestEnv) contactByUserID(userID string) alinea.Contact {
	e.t.Helper()
	cs, _, err := e.st.Contacts(context.Background(), alinea.ContactFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cs {
		if c.ExternalID == userID {
			return c
		}
	}
	e.t.Fatalf("no contact with user id %q", userID)
	return alinea.Contact{}
}

func (e *ingestEnv) contactByEmail(email string) alinea.Contact {
	e.t.Helper()
	cs, _, err := e.st.Contacts(context.Background(), alinea.ContactFilter{Email: email})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(cs) != 1 {
		e.t.Fatalf("%d contacts with email %q", len(cs), email)
	}
	return cs[0]
}

func (e *ingestEnv) activity(contactID int64) map[string]int64 {
	e.t.Helper()
	acts, err := e.st.Activity(context.Background(), contactID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int64{}
	for _, a := range acts {
		out[a.EventType] = a.Count
	}
	return out
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestIngestEndpoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		inBody := func(s string) string { return strings.Replace(s, "{", fmt.Sprintf(`{"writeKey":%q,`, env.key), 1) }
		textPlain := []ingestOption{withoutAuth, withHeader("Content-Type", "text/plain")}
		tests := []struct {
			path string
			body string
			opts []ingestOption
			// want maps the messageIds that must be stored to "type/name".
			want map[string]string
		}{
			{"/v1/identify", `{"messageId":"e1","userId":"u1","traits":{"email":"ana@acme.es"}}`, nil, map[string]string{"e1": "identify/"}},
			{"/v1/track", `{"messageId":"e2","userId":"u1","event":"Signed Up"}`, nil, map[string]string{"e2": "track/Signed Up"}},
			{"/v1/page", `{"messageId":"e3","anonymousId":"a1","name":"Pricing"}`, nil, map[string]string{"e3": "page/Pricing"}},
			{"/v1/screen", `{"messageId":"e4","userId":"u1","name":"Home"}`, nil, map[string]string{"e4": "screen/Home"}},
			{"/v1/group", `{"messageId":"e5","userId":"u1","groupId":"g1","traits":{"name":"Acme"}}`, nil, map[string]string{"e5": "group/"}},
			{"/v1/alias", `{"messageId":"e6","userId":"u1","previousId":"a1"}`, nil, map[string]string{"e6": "alias/"}},
			{"/v1/batch", `{"batch":[{"type":"track","messageId":"e7","userId":"u1","event":"A"},{"type":"page","messageId":"e8","userId":"u1"}]}`, nil,
				map[string]string{"e7": "track/A", "e8": "page/"}},
			{"/v1/import", `{"batch":[{"type":"track","messageId":"e9","userId":"u1","event":"Old","timestamp":"2020-01-01T00:00:00Z"}]}`, nil,
				map[string]string{"e9": "track/Old"}},
			// analytics.js: text/plain, no Authorization, writeKey in the body.
			{"/v1/i", inBody(`{"type":"identify","messageId":"s1","anonymousId":"a2","traits":{"plan":"pro"}}`), textPlain, map[string]string{"s1": "identify/"}},
			{"/v1/t", inBody(`{"type":"track","messageId":"s2","anonymousId":"a2","event":"Clicked"}`), textPlain, map[string]string{"s2": "track/Clicked"}},
			{"/v1/p", inBody(`{"type":"page","messageId":"s3","anonymousId":"a2","name":"Docs"}`), textPlain, map[string]string{"s3": "page/Docs"}},
			{"/v1/s", inBody(`{"type":"screen","messageId":"s4","anonymousId":"a2","name":"Cart"}`), textPlain, map[string]string{"s4": "screen/Cart"}},
			{"/v1/g", inBody(`{"type":"group","messageId":"s5","anonymousId":"a2","groupId":"g2"}`), textPlain, map[string]string{"s5": "group/"}},
			{"/v1/a", inBody(`{"type":"alias","messageId":"s6","userId":"u2","previousId":"a2"}`), textPlain, map[string]string{"s6": "alias/"}},
			{"/v1/b", inBody(`{"batch":[{"type":"page","messageId":"s7","anonymousId":"a3"}],"sentAt":"2025-01-01T00:00:00.000Z"}`), textPlain, map[string]string{"s7": "page/"}},
		}
		for _, tt := range tests {
			env.mustPost(tt.path, tt.body, tt.opts...)
			for id, want := range tt.want {
				ev := env.event(id)
				if got := ev.Type + "/" + ev.Name; got != want {
					t.Errorf("%s: event %s stored as %q, want %q", tt.path, id, got, want)
				}
			}
		}
		// Calls whose body has no writeKey and that have no Authorization
		// header are refused, on the short paths as everywhere.
		res := env.post("/v1/t", []byte(`{"type":"track","anonymousId":"a","event":"x"}`), textPlain...)
		if res.status != http.StatusUnauthorized {
			t.Errorf("no write key at all: %d %s", res.status, res.body)
		}
	})
}

func TestIngestGzipBody(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		body := gzipped(t, `{"batch":[{"type":"track","messageId":"gz1","userId":"u1","event":"Compressed"}]}`)
		res := env.post("/v1/batch", body, withHeader("Content-Encoding", "gzip"))
		if res.status != http.StatusOK {
			t.Fatalf("gzip batch: %d %s", res.status, res.body)
		}
		if ev := env.event("gz1"); ev.Name != "Compressed" {
			t.Fatalf("event %+v", ev)
		}

		// A small gzip body that inflates past the batch limit is refused
		// without being inflated in full.
		bomb := gzipped(t, `{"batch":[{"type":"track","userId":"u","event":"x","properties":{"p":"`+strings.Repeat("a", 600<<10)+`"}}]}`)
		if len(bomb) > 10<<10 {
			t.Fatalf("test bomb is %d bytes; it should be small", len(bomb))
		}
		res = env.post("/v1/batch", bomb, withHeader("Content-Encoding", "gzip"))
		if res.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("gzip bomb: %d %s", res.status, res.body)
		}
		res = env.post("/v1/batch", []byte("not gzip"), withHeader("Content-Encoding", "gzip"))
		if res.status != http.StatusBadRequest {
			t.Fatalf("corrupt gzip: %d %s", res.status, res.body)
		}
		res = env.post("/v1/batch", []byte(`{"batch":[]}`), withHeader("Content-Encoding", "br"))
		if res.status != http.StatusBadRequest || res.errorFields()["Content-Encoding"] == "" {
			t.Fatalf("unsupported encoding: %d %s", res.status, res.body)
		}
	})
}

func TestIngestIdentifyCreatesAndUpdatesContacts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		env := newIngestEnv(t, b, server.Config{})

		// A bad trait (the phone) is dropped, not fatal; a null one means nothing.
		env.mustPost("/v1/identify", `{"userId":"u1","traits":{"email":"Ana@Acme.es","firstName":"Ana","plan":"trial","phone":"call me","legacy":null}}`)
		c := env.contactByUserID("u1")
		var created map[string]any
		_ = json.Unmarshal(c.Properties, &created)
		if _, hasLegacy := created["legacy"]; c.Email != "ana@acme.es" || c.FirstName != "Ana" || c.Phone != "" || created["plan"] != "trial" || hasLegacy {
			t.Fatalf("identify created %+v (properties %s)", c, c.Properties)
		}
		env.mustPost("/v1/identify", `{"userId":"u1","traits":{"lastName":"García","title":"CMO","plan":"pro"}}`)
		c2 := env.contactByUserID("u1")
		var props map[string]any
		_ = json.Unmarshal(c2.Properties, &props)
		if c2.ID != c.ID || c2.FirstName != "Ana" || c2.LastName != "García" || c2.JobTitle != "CMO" || props["plan"] != "pro" {
			t.Fatalf("second identify: %+v props %v", c2, props)
		}

		// A contact that already exists by email gets the user id instead of
		// a twin.
		luis, err := env.st.CreateContact(ctx, alinea.ContactFields{Email: ptrTo("luis@acme.es")}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		env.mustPost("/v1/identify", `{"userId":"u2","traits":{"email":"LUIS@acme.es"}}`)
		if got := env.contactByUserID("u2"); got.ID != luis.ID {
			t.Fatalf("identify by email made contact %d, want the existing %d", got.ID, luis.ID)
		}

		// Without a user id, the email trait finds or makes the contact.
		env.mustPost("/v1/identify", `{"anonymousId":"anon-7","traits":{"email":"marta@beta.es"}}`)
		marta := env.contactByEmail("marta@beta.es")
		env.mustPost("/v1/page", `{"anonymousId":"anon-7","messageId":"p-marta"}`)
		if ev := env.event("p-marta"); ev.ContactID != marta.ID {
			t.Fatalf("page after identify-by-email has contact %d, want %d", ev.ContactID, marta.ID)
		}
	})
}

func ptrTo[T any](v T) *T { return &v }

func TestIngestMergesAnonymousHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		for i := range 3 {
			env.mustPost("/v1/page", fmt.Sprintf(`{"messageId":"anon-page-%d","anonymousId":"cookie-1","name":"Pricing"}`, i))
		}
		env.mustPost("/v1/track", `{"messageId":"anon-track","anonymousId":"cookie-1","event":"Demo Requested"}`)
		if ev := env.event("anon-page-0"); ev.ContactID != 0 {
			t.Fatalf("anonymous page already has contact %d", ev.ContactID)
		}
		env.mustPost("/v1/identify", `{"userId":"u9","anonymousId":"cookie-1","traits":{"email":"eva@gamma.es"}}`)
		c := env.contactByUserID("u9")
		for _, id := range []string{"anon-page-0", "anon-page-1", "anon-page-2", "anon-track"} {
			if ev := env.event(id); ev.ContactID != c.ID {
				t.Errorf("event %s has contact %d after identify, want %d", id, ev.ContactID, c.ID)
			}
		}
		act := env.activity(c.ID)
		if act["page"] != 3 || act["Demo Requested"] != 1 || act["identify"] != 1 {
			t.Fatalf("activity %v, want 3 pages, 1 Demo Requested, 1 identify", act)
		}
		// Later anonymous calls from the same cookie belong to the contact.
		env.mustPost("/v1/page", `{"messageId":"anon-page-late","anonymousId":"cookie-1"}`)
		if ev := env.event("anon-page-late"); ev.ContactID != c.ID {
			t.Errorf("later page has contact %d, want %d", ev.ContactID, c.ID)
		}
		if got := env.activity(c.ID)["page"]; got != 4 {
			t.Errorf("page count %d, want 4", got)
		}
	})
}

func TestIngestTrackCreatesContact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		env.mustPost("/v1/track", `{"messageId":"t1","userId":"new-user","event":"Trial Started","properties":{"plan":"pro"}}`)
		c := env.contactByUserID("new-user")
		ev := env.event("t1")
		if ev.ContactID != c.ID || ev.UserID != "new-user" || !strings.Contains(string(ev.Properties), `"plan"`) {
			t.Fatalf("event %+v for contact %d", ev, c.ID)
		}
		if got := env.activity(c.ID)["Trial Started"]; got != 1 {
			t.Fatalf("activity count %d", got)
		}
	})
}

func TestIngestGroupLinksAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		env := newIngestEnv(t, b, server.Config{})
		env.mustPost("/v1/group", `{"userId":"u1","groupId":"acct-1","traits":{"name":"Acme Iberia","domain":"acme.es","industry":"Software","employees":120}}`)
		env.mustPost("/v1/group", `{"userId":"u2","groupId":"acct-1"}`)
		c1, c2 := env.contactByUserID("u1"), env.contactByUserID("u2")
		if c1.AccountID == 0 || c1.AccountID != c2.AccountID {
			t.Fatalf("accounts %d and %d, want one shared account", c1.AccountID, c2.AccountID)
		}
		a, err := env.st.Account(ctx, c1.AccountID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Name != "Acme Iberia" || a.ExternalID != "acct-1" || a.Domain != "acme.es" || a.Employees != 120 {
			t.Fatalf("account %+v", a)
		}
	})
}

func TestIngestAliasLinksIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		env.mustPost("/v1/page", `{"messageId":"before","anonymousId":"old-device"}`)
		env.mustPost("/v1/alias", `{"messageId":"al","userId":"u5","previousId":"old-device"}`)
		c := env.contactByUserID("u5")
		env.mustPost("/v1/page", `{"messageId":"after","anonymousId":"old-device"}`)
		for _, id := range []string{"before", "al", "after"} {
			if ev := env.event(id); ev.ContactID != c.ID {
				t.Errorf("event %s has contact %d, want %d", id, ev.ContactID, c.ID)
			}
		}
	})
}

func TestIngestDuplicateMessageIDCountedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		batch := `{"batch":[
			{"type":"track","messageId":"dup-1","userId":"u1","event":"Webinar Attended"},
			{"type":"track","messageId":"dup-2","userId":"u1","event":"Webinar Attended"}
		]}`
		env.mustPost("/v1/batch", batch)
		env.mustPost("/v1/batch", batch)
		env.mustPost("/v1/track", `{"messageId":"dup-1","userId":"u1","event":"Webinar Attended"}`)
		if n := len(env.events(alinea.EventFilter{Name: "Webinar Attended"})); n != 2 {
			t.Fatalf("%d rows, want 2", n)
		}
		if got := env.activity(env.contactByUserID("u1").ID)["Webinar Attended"]; got != 2 {
			t.Fatalf("activity counts %d, want 2", got)
		}
	})
}

func TestIngestWriteKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		call := []byte(`{"userId":"u1","event":"x"}`)
		tests := []struct {
			name string
			body []byte
			opts []ingestOption
			want int
		}{
			{"unknown key as basic auth", call, []ingestOption{func(r *http.Request) { r.SetBasicAuth("wk_nope", "") }}, http.StatusUnauthorized},
			{"unknown key in body", []byte(`{"writeKey":"wk_nope","userId":"u1","event":"x"}`), []ingestOption{withoutAuth}, http.StatusUnauthorized},
			{"no key", call, []ingestOption{withoutAuth}, http.StatusUnauthorized},
			{"key as basic-auth password", call, []ingestOption{func(r *http.Request) { r.SetBasicAuth("", env.key) }}, http.StatusOK},
			{"basic auth wins over body", []byte(`{"writeKey":"wk_nope","userId":"u1","event":"x"}`), nil, http.StatusOK},
		}
		for _, tt := range tests {
			res := env.post("/v1/track", tt.body, tt.opts...)
			if res.status != tt.want {
				t.Errorf("%s: %d %s, want %d", tt.name, res.status, res.body, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(string(res.body), `"unauthorized"`) {
				t.Errorf("%s: body %s", tt.name, res.body)
			}
		}
		if n := len(env.events(alinea.EventFilter{})); n != 2 {
			t.Fatalf("%d events stored, want the 2 authorised ones", n)
		}
	})
}

func TestIngestValidationErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		bigProps := `{"blob":"` + strings.Repeat("x", 40<<10) + `"}`
		tests := []struct {
			name   string
			path   string
			body   string
			status int
			field  string // named in error.fields
			detail string // fragment of that field's problem
		}{
			{"no ids", "/v1/track", `{"event":"x"}`, 400, "userId", "anonymousId"},
			{"no ids on page", "/v1/page", `{"name":"Home"}`, 400, "userId", "anonymousId"},
			{"track without event", "/v1/track", `{"userId":"u1"}`, 400, "event", "required"},
			{"group without groupId", "/v1/group", `{"userId":"u1"}`, 400, "groupId", "required"},
			{"alias without previousId", "/v1/alias", `{"userId":"u1"}`, 400, "previousId", "required"},
			{"malformed JSON", "/v1/track", `{"userId":"u1","event":`, 400, "", ""},
			{"malformed batch", "/v1/batch", `{"batch":[{]}`, 400, "", ""},
			{"not an object", "/v1/identify", `"hello"`, 400, "body", "object"},
			{"40 KB call", "/v1/track", `{"userId":"u1","event":"x","properties":` + bigProps + `}`, 413, "", ""},
			{"40 KB call in a batch", "/v1/batch", `{"batch":[{"type":"track","messageId":"huge","userId":"u1","event":"x","properties":` + bigProps + `}]}`,
				400, "batch[0]", `messageId "huge"`},
			{"600 KB batch", "/v1/batch", `{"batch":[` + strings.Repeat(`{"type":"track","userId":"u1","event":"`+strings.Repeat("y", 1000)+`"},`, 600) + `{}]}`, 413, "", ""},
			{"unknown type in batch", "/v1/batch", `{"batch":[{"type":"order","userId":"u1"}]}`, 400, "batch[0].type", "order"},
		}
		for _, tt := range tests {
			res := env.post(tt.path, []byte(tt.body))
			if res.status != tt.status {
				t.Errorf("%s: status %d %s, want %d", tt.name, res.status, res.body, tt.status)
				continue
			}
			if tt.field != "" && !strings.Contains(res.errorFields()[tt.field], tt.detail) {
				t.Errorf("%s: fields %v, want %s to mention %q", tt.name, res.errorFields(), tt.field, tt.detail)
			}
		}
		if n := len(env.events(alinea.EventFilter{})); n != 0 {
			t.Fatalf("%d events stored from invalid calls", n)
		}

		// In a batch, the valid calls are stored and the invalid ones named.
		res := env.post("/v1/batch", []byte(`{"batch":[
			{"type":"track","messageId":"ok-1","userId":"u1","event":"Good"},
			{"type":"track","messageId":"bad-1","userId":"u1"},
			{"type":"page","messageId":"bad-2"},
			{"type":"page","messageId":"ok-2","anonymousId":"a1"}
		]}`))
		fields := res.errorFields()
		if res.status != 400 || fields["batch[1].event"] == "" || !strings.Contains(fields["batch[2].userId"], "anonymousId") || len(fields) != 2 {
			t.Fatalf("mixed batch: %d %s", res.status, res.body)
		}
		if !strings.Contains(string(res.body), "2 of 4") {
			t.Errorf("message does not say how much was stored: %s", res.body)
		}
		var ids []string
		for _, ev := range env.events(alinea.EventFilter{}) {
			ids = append(ids, ev.MessageID)
		}
		if strings.Join(ids, ",") != "ok-2,ok-1" {
			t.Fatalf("stored %v, want the two valid calls", ids)
		}
	})
}

func TestIngestCORS(t *testing.T) {
	env := newIngestEnv(t, store.SQLite, server.Config{})
	for _, path := range []string{"/v1/t", "/v1/batch", "/v1/identify"} {
		req, _ := http.NewRequest(http.MethodOptions, env.url+path, nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode/100 != 2 || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "authorization") {
			t.Errorf("preflight %s: %d %v", path, res.StatusCode, res.Header)
		}
	}
	ok := env.post("/v1/track", []byte(`{"userId":"u","event":"x"}`))
	bad := env.post("/v1/track", []byte(`{"userId":"u"}`))
	for _, res := range []ingestResponse{ok, bad} {
		if res.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("response %d lacks CORS header", res.status)
		}
	}
}

func TestIngestTimes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		now := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
		env := newIngestEnv(t, b, server.Config{Now: func() time.Time { return now }})
		// The client's clock is two hours slow: it stamped the call 5 s
		// before sending it.
		env.mustPost("/v1/batch", `{"sentAt":"2025-06-01T08:00:05.000Z","batch":[
			{"type":"track","messageId":"skewed","userId":"u","event":"x","timestamp":"2025-06-01T08:00:00.000Z"},
			{"type":"track","messageId":"untimed","userId":"u","event":"y"}
		]}`)
		ev := env.event("skewed")
		if want := now.Add(-5 * time.Second); !ev.OccurredAt.Equal(want) || !ev.ReceivedAt.Equal(now) {
			t.Errorf("skewed: occurred %v received %v, want %v and %v", ev.OccurredAt, ev.ReceivedAt, want, now)
		}
		if ev := env.event("untimed"); !ev.OccurredAt.Equal(now) {
			t.Errorf("untimed: occurred %v, want the receive time %v", ev.OccurredAt, now)
		}
		// /v1/import without sentAt keeps historical timestamps as given.
		env.mustPost("/v1/import", `{"batch":[{"type":"page","messageId":"old","userId":"u","timestamp":"2019-05-04T03:02:01Z"}]}`)
		if ev := env.event("old"); !ev.OccurredAt.Equal(time.Date(2019, 5, 4, 3, 2, 1, 0, time.UTC)) {
			t.Errorf("import: occurred %v", ev.OccurredAt)
		}
	})
}

func TestIngestConflictingIdentities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		// A second user id claiming an address another user already has
		// gets its own contact; the address stays with the first.
		env.mustPost("/v1/identify", `{"userId":"u1","traits":{"email":"shared@acme.es"}}`)
		env.mustPost("/v1/identify", `{"userId":"u2","traits":{"email":"shared@acme.es","firstName":"Otra"}}`)
		u1, u2 := env.contactByUserID("u1"), env.contactByUserID("u2")
		if u1.ID == u2.ID || u1.Email != "shared@acme.es" || u2.Email != "" || u2.FirstName != "Otra" {
			t.Fatalf("u1 %+v, u2 %+v", u1, u2)
		}
		// Likewise a second group id with a domain another account holds.
		env.mustPost("/v1/group", `{"userId":"u1","groupId":"g1","traits":{"name":"Acme","domain":"acme.es"}}`)
		env.mustPost("/v1/group", `{"userId":"u2","groupId":"g2","traits":{"name":"Acme Labs","domain":"acme.es"}}`)
		u1, u2 = env.contactByUserID("u1"), env.contactByUserID("u2")
		if u1.AccountID == 0 || u2.AccountID == 0 || u1.AccountID == u2.AccountID {
			t.Fatalf("accounts %d and %d, want two", u1.AccountID, u2.AccountID)
		}
	})
}

// TestIngestConcurrentBatches sends overlapping batches at once, each
// naming the same new users in a different order, as parallel client
// flushes do. Every request must succeed and each user must get one contact.
func TestIngestConcurrentBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		env := newIngestEnv(t, b, server.Config{})
		const workers, users = 8, 20
		var wg sync.WaitGroup
		errs := make(chan string, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var items []string
				for i := range users {
					u := (i*7 + w*3) % users // a different order per worker
					items = append(items,
						fmt.Sprintf(`{"type":"identify","messageId":"id-%d-%d","userId":"cu-%d","anonymousId":"ca-%d","traits":{"email":"cu%d@par.es"}}`, w, i, u, u, u),
						fmt.Sprintf(`{"type":"group","messageId":"gr-%d-%d","userId":"cu-%d","groupId":"cg-%d","traits":{"domain":"cg%d.es"}}`, w, i, u, u%5, u%5),
						fmt.Sprintf(`{"type":"track","messageId":"tr-%d-%d","userId":"cu-%d","event":"Seen"}`, w, i, u))
				}
				res := env.post("/v1/batch", []byte(`{"batch":[`+strings.Join(items, ",")+`]}`))
				if res.status != http.StatusOK {
					errs <- fmt.Sprintf("worker %d: %d %s", w, res.status, res.body)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		cs, _, err := env.st.Contacts(context.Background(), alinea.ContactFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != users {
			t.Fatalf("%d contacts, want %d", len(cs), users)
		}
		c := env.contactByUserID("cu-3")
		if got := env.activity(c.ID)["Seen"]; got != workers {
			t.Fatalf("cu-3 seen %d times, want %d", got, workers)
		}
	})
}
