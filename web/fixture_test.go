package web_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// anchor is "now" for the UI tests: the demo's year of data ends here.
var anchor = time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)

// fixture is one small demo database, built once per test binary and
// copied for each test so that tests change data independently.
var fixture struct {
	once sync.Once
	dir  string
	path string
	res  demo.Result
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fixture.dir != "" {
		os.RemoveAll(fixture.dir)
	}
	os.Exit(code)
}

func demoDatabase(t testing.TB) (string, demo.Result) {
	t.Helper()
	fixture.once.Do(func() {
		fixture.dir, fixture.err = os.MkdirTemp("", "alinea-web-test-")
		if fixture.err != nil {
			return
		}
		fixture.path = filepath.Join(fixture.dir, "demo.db")
		fixture.res, fixture.err = demo.Build(context.Background(), fixture.path, demo.Config{Seed: 1, Contacts: 600, Events: 8000, Now: anchor})
	})
	if fixture.err != nil {
		t.Fatalf("build the demo database: %v", fixture.err)
	}
	raw, err := os.ReadFile(fixture.path)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "alinea.db")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, fixture.res
}

// app is Alinea serving a copy of the demo database on a test HTTP server,
// with a clock the test moves.
type app struct {
	t     testing.TB
	url   string
	store *store.Store
	clock *demo.Clock
	users []demo.Credential
}

func newApp(t testing.TB) *app {
	t.Helper()
	path, res := demoDatabase(t)
	clock := &demo.Clock{}
	clock.Set(anchor)
	st, err := store.Open(context.Background(), path, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{Store: st, Now: clock.Now}))
	t.Cleanup(func() {
		ts.Close()
		st.Close()
	})
	return &app{t: t, url: ts.URL, store: st, clock: clock, users: res.Users}
}

// user returns the first demo user with a role.
func (a *app) user(role alinea.Role) demo.Credential {
	for _, u := range a.users {
		if u.Role == role {
			return u
		}
	}
	a.t.Fatalf("the demo has no %s user", role)
	return demo.Credential{}
}

// signedIn signs a user of a role in from a browser in a language, which
// is made the user's own so that pages come in it.
func (a *app) signedIn(role alinea.Role, lang string) *client {
	a.t.Helper()
	u := a.user(role)
	stored, err := a.store.UserByEmail(context.Background(), u.Email)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.store.SetUserLocale(context.Background(), stored.ID, lang); err != nil {
		a.t.Fatal(err)
	}
	c := a.client(lang)
	c.signIn(u)
	return c
}

func (a *app) advance(d time.Duration) { a.clock.Set(a.clock.Now().Add(d)) }

// client is a browser without a browser: a cookie jar, a language, and no
// automatic redirects so that tests see them.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	lang string
}

func (a *app) client(acceptLanguage string) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: a.t, base: a.url, lang: acceptLanguage, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (c *client) do(method, path string, form url.Values) response {
	c.t.Helper()
	return c.send(method, path, form, "")
}

// send is do with the Referer a browser sends for a form (empty for none).
func (c *client) send(method, path string, form url.Values, referer string) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	if referer != "" {
		req.Header.Set("Referer", referer)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do(http.MethodGet, path, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do(http.MethodPost, path, form)
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([0-9a-z_]+)"`)

// csrf reads the CSRF token from the forms of a page.
func (c *client) csrf(path string) string {
	c.t.Helper()
	res := c.get(path)
	m := csrfField.FindStringSubmatch(res.body)
	if m == nil {
		c.t.Fatalf("GET %s (%d) has no CSRF token", path, res.status)
	}
	return m[1]
}

// postForm sends a form the way the page at from does, with its token and
// the page as the Referer.
func (c *client) postForm(from, path string, form url.Values) response {
	c.t.Helper()
	form.Set("csrf_token", c.csrf(from))
	return c.send(http.MethodPost, path, form, c.base+from)
}

func (c *client) signIn(u demo.Credential) {
	c.t.Helper()
	res := c.postForm("/signin", "/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
	if res.status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %s: status %d\n%s", u.Email, res.status, text(res.body))
	}
}

// text is a page's visible text, roughly: tags removed, entities decoded,
// spaces collapsed. Assertions read what a person reads.
func text(page string) string {
	page = regexp.MustCompile(`(?s)<(script|style|title)[^>]*>.*?</(script|style|title)>`).ReplaceAllString(page, " ")
	page = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(page, " ")
	return strings.Join(strings.Fields(html.UnescapeString(page)), " ")
}

func mustContain(t testing.TB, what, page string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(page, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, clip(page))
		}
	}
}

func mustNotContain(t testing.TB, what, page string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(page, w) {
			t.Errorf("%s: unexpected %q in:\n%s", what, w, clip(page))
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "…"
	}
	return s
}

// contactWith returns a demo contact in a stage.
func (a *app) contactWith(stage alinea.Stage) alinea.Contact {
	a.t.Helper()
	cs, _, err := a.store.Contacts(context.Background(), alinea.ContactFilter{Stage: stage, Limit: 1})
	if err != nil {
		a.t.Fatal(err)
	}
	if len(cs) == 0 {
		a.t.Fatalf("the demo has no contact in stage %s", stage)
	}
	return cs[0]
}

func (a *app) notesOf(id int64) []string {
	a.t.Helper()
	items, err := a.store.Timeline(context.Background(), alinea.TimelineQuery{ContactID: id, Limit: 500})
	if err != nil {
		a.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Kind == "note" {
			out = append(out, string(it.Data))
		}
	}
	return out
}

func contactPath(id int64) string { return fmt.Sprintf("/contacts/%d", id) }

var (
	contactLink = regexp.MustCompile(`<td class="cell-name"><a href="/contacts/(\d+)">`)
	badge       = regexp.MustCompile(`<span class="badge mode-[a-z]+">([^<]+)</span>`)
)

// pagerLink returns the list's link with rel (next or prev), unescaped.
func pagerLink(page, rel string) string {
	m := regexp.MustCompile(`rel="` + rel + `" href="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// formatES writes a count as the Spanish pages do.
func formatES(n int64) string {
	return message.NewPrinter(language.Spanish).Sprint(number.Decimal(n))
}

// activateAgreement signs and activates the example agreement with its
// first goal moved to period, as a marketing and a sales lead of the demo.
func activateAgreement(t testing.TB, a *app, period string) {
	t.Helper()
	ctx := context.Background()
	src, err := os.ReadFile("../agreement/agreement-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.Replace(string(src), "period: 2027-Q1", "period: "+period, 1))
	lead := func(role alinea.Role) alinea.User {
		u, err := a.store.UserByEmail(ctx, a.user(role).Email)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	mkt, sales := lead(alinea.RoleMarketing), lead(alinea.RoleSales)
	v, err := a.store.CreateAgreement(ctx, src, 0, mkt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.ProposeAgreement(ctx, v.ID, mkt.ID); err != nil {
		t.Fatal(err)
	}
	for _, u := range []alinea.User{mkt, sales} {
		if _, err := a.store.SignAgreement(ctx, v.ID, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.store.ActivateAgreement(ctx, v.ID, mkt.ID); err != nil {
		t.Fatal(err)
	}
}
