package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// newAgreementAPITest is newAPITest with a working job queue, which
// activation (re-evaluation) and asynchronous imports need.
func newAgreementAPITest(t *testing.T, b store.Backend) *apiTest {
	t.Helper()
	ctx := context.Background()
	st := storetest.Open(t, b, store.Options{})
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	// A small chunk makes the re-evaluation take several resumable steps.
	river.AddWorker(workers, &jobs.ReevaluateWorker{Store: st, Chunk: 2})
	river.AddWorker(workers, &jobs.ImportWorker{Store: st})
	q, err := jobs.New(st, jobs.Config{Workers: workers, MaxWorkers: 2, PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
	})
	srv := httptest.NewServer(New(Config{Store: st, Jobs: q}))
	t.Cleanup(srv.Close)
	a := &apiTest{t: t, st: st, url: srv.URL, keys: map[alinea.Role]string{}, users: map[alinea.Role]alinea.User{}}
	for _, role := range []alinea.Role{alinea.RoleAdmin, alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager} {
		u, err := st.CreateUser(ctx, alinea.NewUser{Email: string(role) + "@alinea.test", Name: string(role), Role: role, Password: "correct horse battery"})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := st.CreateAPIKey(ctx, u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		a.keys[role], a.users[role] = secret, u
	}
	return a
}

// send posts a body with the given Content-Type (none when empty).
func (a *apiTest) send(role alinea.Role, method, path, contentType string, body []byte) (int, http.Header, []byte) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, bytes.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.keys[role])
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, out
}

// sendJSON is send for a request that must answer want, decoded into out.
func (a *apiTest) sendJSON(role alinea.Role, method, path, contentType string, body []byte, want int, out any) {
	a.t.Helper()
	status, _, resp := a.send(role, method, path, contentType, body)
	if status != want {
		a.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, role, status, want, resp)
	}
	if err := json.Unmarshal(resp, out); err != nil {
		a.t.Fatalf("%s %s: decode %s: %v", method, path, resp, err)
	}
}

// sendFail is send for a request that must fail with status want.
func (a *apiTest) sendFail(role alinea.Role, method, path, contentType string, body []byte, want int) apiError {
	a.t.Helper()
	status, _, resp := a.send(role, method, path, contentType, body)
	var e apiError
	if err := json.Unmarshal(resp, &e); err != nil || e.Error.Code == "" || status != want {
		a.t.Fatalf("%s %s as %s: status %d, want %d with an API error: %s", method, path, role, status, want, resp)
	}
	e.status = status
	return e
}

func exampleDocument(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../agreement/agreement-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit replaces old with new in a document, failing when old is not there
// exactly once so that a change to the example cannot silently void a test.
func edit(t *testing.T, doc []byte, old, new string) []byte {
	t.Helper()
	if n := bytes.Count(doc, []byte(old)); n != 1 {
		t.Fatalf("%q occurs %d times in the document, want once", old, n)
	}
	return bytes.Replace(doc, []byte(old), []byte(new), 1)
}

func trackAt(user, event string, at time.Time) alinea.Message {
	return alinea.Message{Type: "track", MessageID: user + "/" + event + "/" + at.Format(time.RFC3339Nano), UserID: user, Event: event, Timestamp: at, ReceivedAt: at}
}

func (a *apiTest) contact(email, userID string) int64 {
	a.t.Helper()
	var c alinea.Contact
	a.must(alinea.RoleMarketing, "POST", "/api/v1/contacts",
		fmt.Sprintf(`{"email":%q,"external_id":%q,"job_title":"Directora de Marketing","country":"ES"}`, email, userID), 201, &c)
	return c.ID
}

func (a *apiTest) ingest(msgs ...alinea.Message) {
	a.t.Helper()
	if _, err := a.st.Ingest(context.Background(), 0, msgs); err != nil {
		a.t.Fatal(err)
	}
}

// firedRule is one rule in a rule-driven transition's why.
type firedRule struct {
	Rule   string  `json:"rule"`
	Points float64 `json:"points"`
}

// lastTransitionIsMQL checks that the agreement's rules made a contact an
// MQL under the given version, with a why naming the definition and the
// rules that gave points.
func (a *apiTest) lastTransitionIsMQL(contact, version int64) {
	a.t.Helper()
	var hist page[alinea.Transition]
	a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/contacts/%d/transitions", contact), "", 200, &hist)
	if len(hist.Data) == 0 {
		a.t.Fatalf("contact %d has no transitions", contact)
	}
	last := hist.Data[len(hist.Data)-1]
	if last.To != alinea.StageMQL || last.Actor.Type != alinea.ActorRule || last.AgreementVersion != version {
		a.t.Fatalf("contact %d: last transition %+v, want to mql by rule under version %d", contact, last, version)
	}
	var why struct {
		Version    int64  `json:"agreement_version"`
		Definition string `json:"definition"`
		When       string `json:"when"`
		Rules      []firedRule
	}
	if err := json.Unmarshal(last.Why, &why); err != nil {
		a.t.Fatal(err)
	}
	attended := slices.ContainsFunc(why.Rules, func(r firedRule) bool { return r.Rule == "webinar_attended" && r.Points > 0 })
	if why.Version != version || why.Definition != "mql" || !strings.Contains(why.When, "Webinar Attended") || !attended {
		a.t.Fatalf("contact %d: why %s", contact, last.Why)
	}
}

// TestAPIAgreementFlow takes the seed-003 agreement through the API from a
// YAML upload to an active version that scores and moves contacts, then
// diffs, backtests and plans against it.
func TestAPIAgreementFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAgreementAPITest(t, b)
		const yamlType = "application/yaml"
		example := exampleDocument(t)
		now := time.Now().UTC()

		// Contacts with history before any agreement: Lucía registered for
		// and watched a webinar last week; Olga did the same months ago.
		lucia := a.contact("lucia@logistica.es", "u-lucia")
		a.ingest(trackAt("u-lucia", "Webinar Registered", now.Add(-5*24*time.Hour)), trackAt("u-lucia", "Webinar Attended", now.Add(-3*24*time.Hour)))
		thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		olgaMonth := thisMonth.AddDate(0, -3, 0)
		a.contact("olga@andes.cl", "u-olga")
		a.ingest(trackAt("u-olga", "Webinar Registered", olgaMonth.AddDate(0, 0, 14)), trackAt("u-olga", "Webinar Attended", olgaMonth.AddDate(0, 0, 15)))

		var check validationResponse
		a.sendJSON(alinea.RoleMarketing, "POST", "/api/v1/agreements/validate", yamlType, example, 200, &check)
		if !check.Valid || check.Problems == nil || len(check.Problems) != 0 {
			t.Fatalf("validate the example: %+v", check)
		}
		if vs, err := a.st.Agreements(context.Background()); err != nil || len(vs) != 0 {
			t.Fatalf("validate stored something: %d versions, %v", len(vs), err)
		}

		var draft draftResponse
		status, header, body := a.send(alinea.RoleMarketing, "POST", "/api/v1/agreements", yamlType, example)
		if status != 201 {
			t.Fatalf("create: %d %s", status, body)
		}
		if err := json.Unmarshal(body, &draft); err != nil {
			t.Fatal(err)
		}
		v1 := draft.ID
		if draft.Status != agreement.StatusDraft || draft.Problems == nil || len(draft.Problems) != 0 || draft.Source != string(example) ||
			draft.CreatedBy != a.users[alinea.RoleMarketing].ID || header.Get("Location") != fmt.Sprintf("/api/v1/agreements/%d", v1) {
			t.Fatalf("created draft %+v (Location %q)", draft.Version, header.Get("Location"))
		}
		base := fmt.Sprintf("/api/v1/agreements/%d", v1)
		status, header, body = a.send(alinea.RoleSales, "GET", base+"?format=yaml", "", nil)
		if status != 200 || !strings.HasPrefix(header.Get("Content-Type"), "application/yaml") || !bytes.Equal(body, example) {
			t.Fatalf("GET ?format=yaml: %d %s, body equals the upload: %v", status, header.Get("Content-Type"), bytes.Equal(body, example))
		}

		var v agreement.Version
		a.must(alinea.RoleMarketing, "POST", base+"/propose", "", 200, &v)
		if v.Status != agreement.StatusProposed || v.ProposedAt == nil {
			t.Fatalf("proposed: %+v", v)
		}
		if e := a.sendFail(alinea.RoleMarketing, "PUT", base, yamlType, example, 409); e.Error.Code != alinea.ECONFLICT {
			t.Fatalf("editing a proposed version: %+v", e)
		}
		if e := a.fail(alinea.RoleMarketing, "POST", base+"/activate", ""); e.status != 409 || !strings.Contains(e.Error.Message, "not signed by marketing") {
			t.Fatalf("activating unsigned: %d %+v", e.status, e.Error)
		}
		if e := a.fail(alinea.RoleManager, "POST", base+"/sign", ""); e.status != 403 || e.Error.Code != alinea.EFORBIDDEN {
			t.Fatalf("a manager signing: %d %+v", e.status, e.Error)
		}
		a.must(alinea.RoleMarketing, "POST", base+"/sign", "", 200, &v)
		if len(v.Signatures) != 1 || v.Signatures[0].Team != "marketing" || v.Signatures[0].UserID != a.users[alinea.RoleMarketing].ID {
			t.Fatalf("after marketing signed: %+v", v.Signatures)
		}
		if e := a.fail(alinea.RoleMarketing, "POST", base+"/sign", ""); e.status != 409 || e.Error.Code != alinea.ECONFLICT {
			t.Fatalf("the same person signing twice: %d %+v", e.status, e.Error)
		}
		if e := a.fail(alinea.RoleMarketing, "POST", base+"/activate", ""); e.status != 409 || !strings.Contains(e.Error.Message, "not signed by sales") {
			t.Fatalf("activating with one signature: %d %+v", e.status, e.Error)
		}
		a.must(alinea.RoleSales, "POST", base+"/sign", "", 200, &v)
		if !v.SignedBy("marketing") || !v.SignedBy("sales") {
			t.Fatalf("after both signed: %+v", v.Signatures)
		}
		a.must(alinea.RoleSales, "POST", base+"/activate", "", 200, &v)
		if v.Status != agreement.StatusActive || v.ActivatedAt == nil {
			t.Fatalf("activated: %+v", v)
		}
		var active agreement.Version
		a.must(alinea.RoleManager, "GET", "/api/v1/agreements/active", "", 200, &active)
		if active.ID != v1 || len(active.Signatures) != 2 {
			t.Fatalf("active: %+v", active)
		}

		// The re-evaluation runs in the background; poll it as a client would.
		var re store.Reevaluation
		deadline := time.Now().Add(60 * time.Second)
		for {
			a.must(alinea.RoleSales, "GET", base+"/reevaluation", "", 200, &re)
			if re.Status == "done" || re.Status == "failed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("re-evaluation still %s: %+v", re.Status, re)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if re.Status != "done" || re.Error != "" || re.Total != 2 || re.Done != 2 || re.Transitions < 1 || re.FinishedAt == nil {
			t.Fatalf("re-evaluation %+v", re)
		}
		// Lucía watched the webinar within 30 days: the activation made her
		// an MQL, saying which version and why.
		a.lastTransitionIsMQL(lucia, v1)

		// Events that arrive after activation are scored under it.
		marcos := a.contact("marcos@retail.mx", "u-marcos")
		a.ingest(trackAt("u-marcos", "Webinar Registered", now.Add(-2*time.Hour)), trackAt("u-marcos", "Webinar Attended", now.Add(-time.Hour)))
		var score store.Score
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/contacts/%d/score", marcos), "", 200, &score)
		res := score.Result
		if score.ContactID != marcos || score.AgreementVersion != v1 || !res.Met("lead") || !res.Met("mql") || res.Met("sql") {
			t.Fatalf("score %+v", score)
		}
		points := map[string]float64{}
		for _, e := range res.Engaged {
			points[e.Rule] = e.Points
		}
		if points["webinar_registered"] <= 9 || points["webinar_attended"] <= 19 || points["trial"] != 0 || len(res.Engaged) != 6 {
			t.Fatalf("engagement rules %+v", res.Engaged)
		}
		matched := map[string]bool{}
		for _, f := range res.FitRules {
			matched[f.Rule] = f.Matched
		}
		if !matched["decision_maker"] || !matched["target_country"] || matched["personal_email"] || res.Fit != 50 {
			t.Fatalf("fit %d from %+v", res.Fit, res.FitRules)
		}
		for _, d := range res.Definitions {
			if d.Name == "sql" && !slices.Contains(d.Missing, `did("Price List Downloaded")`) {
				t.Fatalf("sql misses %v, want the price list named", d.Missing)
			}
		}
		// ...and move the contact as they arrive.
		a.lastTransitionIsMQL(marcos, v1)

		// The same through the Segment-compatible HTTP API, as a website
		// would send it: Inés becomes an MQL, then an SQL.
		_, writeKey, err := a.st.CreateWriteKey(context.Background(), "website")
		if err != nil {
			t.Fatal(err)
		}
		post := func(path, body string) {
			t.Helper()
			req, _ := http.NewRequest("POST", a.url+path, strings.NewReader(body))
			req.SetBasicAuth(writeKey, "")
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("POST %s: %d", path, resp.StatusCode)
			}
		}
		post("/v1/identify", `{"userId":"u-ines","traits":{"email":"ines@logistica.es","title":"Directora Comercial","country":"ES"}}`)
		for _, ev := range []string{"Webinar Registered", "Webinar Attended", "Price List Downloaded", "Trial Started"} {
			post("/v1/track", `{"userId":"u-ines","event":"`+ev+`"}`)
		}
		var found struct{ Data []alinea.Contact }
		a.must(alinea.RoleSales, "GET", "/api/v1/contacts?email=ines@logistica.es", "", 200, &found)
		if len(found.Data) != 1 || found.Data[0].Stage != alinea.StageSQL {
			t.Fatalf("Inés after /v1/track: %+v", found.Data)
		}
		var moves struct{ Data []alinea.Transition }
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/contacts/%d/transitions", found.Data[0].ID), "", 200, &moves)
		var path []alinea.Stage
		for _, m := range moves.Data {
			path = append(path, m.To)
			if m.To == alinea.StageSQL && (m.AgreementVersion != v1 || !strings.Contains(string(m.Why), `"definition":"sql"`)) {
				t.Fatalf("sql transition %+v why %s", m, m.Why)
			}
		}
		if !slices.Equal(path, []alinea.Stage{alinea.StageSubscriber, alinea.StageLead, alinea.StageMQL, alinea.StageSQL}) {
			t.Fatalf("Inés went %v", path)
		}

		var audit page[agreement.AuditEntry]
		a.must(alinea.RoleManager, "GET", base+"/audit", "", 200, &audit)
		var actions []string
		for _, e := range audit.Data {
			actions = append(actions, e.Action+":"+e.Detail)
		}
		if want := []string{"created:", "proposed:", "signed:marketing", "signed:sales", "activated:"}; !slices.Equal(actions, want) {
			t.Fatalf("audit %v, want %v", actions, want)
		}

		// A second version based on the first: diff and backtest side by side.
		changed := edit(t, edit(t, example, "count: 20\n    period: month", "count: 25\n    period: month"), "min_fit: 30", "min_fit: 40")
		a.sendJSON(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/agreements?based_on=%d", v1), "text/yaml; charset=utf-8", changed, 201, &draft)
		v2 := draft.ID
		if draft.BasedOn != v1 || len(draft.Problems) != 0 {
			t.Fatalf("second draft %+v", draft)
		}
		var diff diffResponse
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/agreements/%d/diff", v2), "", 200, &diff)
		if diff.From != v1 || diff.To != v2 || len(diff.Changes) != 2 ||
			diff.Changes[0] != (agreement.Change{Path: "definitions.sql.min_fit", From: 30.0, To: 40.0}) ||
			diff.Changes[1] != (agreement.Change{Path: "slas[mql_delivery].count", From: 20.0, To: 25.0}) {
			t.Fatalf("diff %+v", diff)
		}
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("%s/diff?with=%d", base, v2), "", 200, &diff)
		if diff.From != v2 || diff.To != v1 || len(diff.Changes) != 2 || diff.Changes[0].From != 40.0 || diff.Changes[0].To != 30.0 {
			t.Fatalf("reverse diff %+v", diff)
		}

		var bt backtestResponse
		a.must(alinea.RoleMarketing, "POST", fmt.Sprintf("/api/v1/agreements/%d/backtest", v2), "", 200, &bt)
		if len(bt.Reports) != 2 || bt.Reports[0].Label != fmt.Sprintf("v%d", v2) || bt.Reports[1].Label != fmt.Sprintf("v%d (active)", v1) {
			t.Fatalf("backtest reports %+v", bt.Reports)
		}
		for _, r := range bt.Reports {
			if len(r.Months) != 12 || r.Months[0].Month != thisMonth.AddDate(-1, 0, 0).Format("2006-01") || r.Months[11].Month != thisMonth.AddDate(0, -1, 0).Format("2006-01") {
				t.Fatalf("%s: %d months from %s", r.Label, len(r.Months), r.Months[0].Month)
			}
		}
		// Only Olga acted in the two months before hers and hers.
		from, to := olgaMonth.AddDate(0, -1, 0).Format("2006-01"), olgaMonth.Format("2006-01")
		a.must(alinea.RoleMarketing, "POST", fmt.Sprintf("/api/v1/agreements/%d/backtest?from=%s&to=%s", v1, from, to), "", 200, &bt)
		if len(bt.Reports) != 1 || bt.Reports[0].Label != fmt.Sprintf("v%d (active)", v1) || len(bt.Reports[0].Months) != 2 {
			t.Fatalf("backtest of the active version %+v", bt.Reports)
		}
		if m := bt.Reports[0].Months; m[0].Month != from || m[0].Leads+m[0].MQLs+m[0].SQLs != 0 || m[1].Month != to || m[1].Leads != 1 || m[1].MQLs != 1 || m[1].SQLs != 0 {
			t.Fatalf("months %+v", m)
		}

		// Shared goals: the example's Q1 goal with its assumptions (no
		// measured history yet) is the article's 20 MQLs a month.
		var plan agreement.Plan
		a.must(alinea.RoleSales, "GET", "/api/v1/goals/2027-Q1", "", 200, &plan)
		if plan.Revenue != 150000 || plan.Currency != "EUR" || plan.Needed != (agreement.Needed{Deals: 15, SQLs: 30, MQLs: 60, Leads: 600}) ||
			plan.PerMonth.MQLs != 20 || plan.Rates.SQLToWon.Source != "assumed" {
			t.Fatalf("plan %+v", plan)
		}
		if e := a.fail(alinea.RoleSales, "GET", "/api/v1/goals/2031-Q3", ""); e.status != 404 {
			t.Fatalf("a period without a goal: %d %+v", e.status, e.Error)
		}
		if e := a.fail(alinea.RoleSales, "GET", "/api/v1/goals/2027-Q5", ""); e.status != 400 || e.Error.Fields["period"] == "" {
			t.Fatalf("a bad period: %d %+v", e.status, e.Error)
		}

		var all page[agreement.Version]
		a.must(alinea.RoleSales, "GET", "/api/v1/agreements", "", 200, &all)
		if len(all.Data) != 2 || all.Data[0].ID != v2 || all.Data[1].ID != v1 || all.Data[1].Status != agreement.StatusActive {
			t.Fatalf("list %+v", all.Data)
		}
	})
}

// TestAPIAgreementErrors covers each way a request about the agreement
// can be wrong, on a server without a job queue.
func TestAPIAgreementErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		example := exampleDocument(t)
		mkt := alinea.RoleMarketing

		// Malformed YAML: refused, with the line.
		e := a.sendFail(mkt, "POST", "/api/v1/agreements", "application/yaml", []byte("name: [unclosed\ncurrency: EUR\n"), 400)
		if !strings.Contains(e.Error.Fields["document"], "line 1") {
			t.Fatalf("malformed YAML: %+v", e.Error)
		}
		var check validationResponse
		a.sendJSON(mkt, "POST", "/api/v1/agreements/validate", "application/x-yaml", []byte("name: x\n\tbad: tab\n"), 200, &check)
		if check.Valid || len(check.Problems) != 1 || check.Problems[0].Line != 2 {
			t.Fatalf("validate malformed YAML: %+v", check)
		}
		// Unknown fields are named, in YAML and in JSON.
		e = a.sendFail(mkt, "POST", "/api/v1/agreements", "application/yaml", edit(t, example, "currency: EUR", "currency: EUR\nnmae: typo"), 400)
		if !strings.Contains(e.Error.Fields["document"], "nmae") {
			t.Fatalf("unknown YAML field: %+v", e.Error)
		}
		e = a.sendFail(mkt, "POST", "/api/v1/agreements", "application/json", []byte(`{"name":"x","nmae":"typo"}`), 400)
		if !strings.Contains(e.Error.Fields["document"], `"nmae"`) {
			t.Fatalf("unknown JSON field: %+v", e.Error)
		}
		e = a.sendFail(mkt, "POST", "/api/v1/agreements", "application/json", example, 400)
		if !strings.Contains(e.Error.Fields["document"], "not a JSON object") {
			t.Fatalf("YAML sent as JSON: %+v", e.Error)
		}
		e = a.sendFail(mkt, "POST", "/api/v1/agreements", "text/plain", example, 400)
		if !strings.Contains(e.Error.Fields["Content-Type"], "application/yaml") {
			t.Fatalf("text/plain: %+v", e.Error)
		}
		huge := append(bytes.Clone(example), bytes.Repeat([]byte("# padding\n"), 30000)...)
		e = a.sendFail(mkt, "POST", "/api/v1/agreements/validate", "application/yaml", huge, 413)
		if e.Error.Code != alinea.ETOOLARGE || !strings.Contains(e.Error.Fields["document"], "256 KB") {
			t.Fatalf("oversized document: %+v", e.Error)
		}

		// Compile problems: listed with path and position, stored as a draft
		// that cannot be proposed or backtested.
		broken := edit(t, example, `did("Webinar Registered") && did("Webinar Attended", within("30d"))`, `did("Webinar Registered") && nope("x")`)
		broken = edit(t, broken, "fit: [75, 50, 25]", "fit: [75, 80, 25]")
		a.sendJSON(mkt, "POST", "/api/v1/agreements/validate", "application/yaml", broken, 200, &check)
		paths := map[string]agreement.Problem{}
		for _, p := range check.Problems {
			paths[p.Path] = p
		}
		if when := paths["definitions.mql.when"]; check.Valid || len(check.Problems) != 2 || when.Line != 1 || when.Column != 30 || paths["grades.fit[1]"].Message == "" {
			t.Fatalf("compile problems %+v", check)
		}
		// And where they are in the document sent.
		wantLine := 1 + bytes.Count(broken[:bytes.Index(broken, []byte(`nope("x")`))], []byte("\n"))
		if when := paths["definitions.mql.when"]; when.SourceLine != wantLine || when.SourceColumn == 0 {
			t.Errorf("mql.when placed at %d:%d in the document, want line %d", when.SourceLine, when.SourceColumn, wantLine)
		}
		var draft draftResponse
		a.sendJSON(mkt, "POST", "/api/v1/agreements", "application/yaml", broken, 201, &draft)
		if draft.Status != agreement.StatusDraft || len(draft.Problems) != 2 {
			t.Fatalf("a draft with problems is stored with them: %+v", draft)
		}
		base := fmt.Sprintf("/api/v1/agreements/%d", draft.ID)
		for _, path := range []string{base + "/propose", base + "/backtest"} {
			if e := a.fail(mkt, "POST", path, ""); e.status != 400 || e.Error.Fields["definitions.mql.when"] == "" || e.Error.Fields["grades.fit[1]"] == "" {
				t.Fatalf("POST %s: %d %+v", path, e.status, e.Error)
			}
		}
		// The draft is fixed in place, as JSON this time.
		doc, err := agreement.Parse(example)
		if err != nil {
			t.Fatal(err)
		}
		asJSON, _ := json.Marshal(doc)
		a.sendJSON(alinea.RoleSales, "PUT", base, "application/json", asJSON, 200, &draft)
		if len(draft.Problems) != 0 || draft.Source != string(asJSON) {
			t.Fatalf("fixed draft %+v", draft)
		}
		// ?format=yaml renders a JSON source as YAML.
		status, _, body := a.send(mkt, "GET", base+"?format=yaml", "", nil)
		if back, err := agreement.Parse(body); status != 200 || err != nil || bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) || len(agreement.Diff(doc, back)) != 0 {
			t.Fatalf("YAML of a JSON draft: %d %v\n%s", status, err, body)
		}
		if e := a.fail(mkt, "GET", base+"?format=xml", ""); e.status != 400 || e.Error.Fields["format"] == "" {
			t.Fatalf("?format=xml: %d %+v", e.status, e.Error)
		}

		// Activation needs a job queue; this server has none, so nothing changes.
		a.must(mkt, "POST", base+"/propose", "", 200, &draft.Version)
		a.must(mkt, "POST", base+"/sign", "", 200, &draft.Version)
		a.must(alinea.RoleSales, "POST", base+"/sign", "", 200, &draft.Version)
		if e := a.fail(mkt, "POST", base+"/activate", ""); e.status != 500 || !strings.Contains(e.Error.Message, "no job queue configured") {
			t.Fatalf("activate without a job queue: %d %+v", e.status, e.Error)
		}
		var v agreement.Version
		a.must(mkt, "GET", base, "", 200, &v)
		if v.Status != agreement.StatusProposed {
			t.Fatalf("after a refused activation the version is %s", v.Status)
		}

		for _, tc := range []struct {
			method, path string
			status       int
			field        string
		}{
			{"GET", "/api/v1/agreements/999", 404, ""},
			{"GET", "/api/v1/agreements/abc", 400, "id"},
			{"GET", "/api/v1/agreements/active", 404, ""},
			{"GET", base + "/reevaluation", 404, ""},
			{"GET", "/api/v1/agreements/999/audit", 404, ""},
			{"GET", base + "/diff", 404, ""},
			{"GET", base + "/diff?with=999", 404, ""},
			{"GET", base + "/diff?with=x", 400, "with"},
			{"POST", base + "/backtest?from=2026-13", 400, "from"},
			{"POST", base + "/backtest?from=2026-05&to=2026-04", 400, "from"},
			{"POST", base + "/backtest?since=2026-01", 400, "since"},
			{"GET", "/api/v1/contacts/1/score", 404, ""},
			{"GET", "/api/v1/goals/2027-Q1", 404, ""},
		} {
			e := a.fail(alinea.RoleSales, tc.method, tc.path, "")
			if e.status != tc.status || (tc.field != "" && e.Error.Fields[tc.field] == "") {
				t.Errorf("%s %s: %d %+v, want %d naming %q", tc.method, tc.path, e.status, e.Error, tc.status, tc.field)
			}
		}
		e = a.sendFail(mkt, "POST", "/api/v1/agreements?based_on=999", "application/yaml", example, 400)
		if !strings.Contains(e.Error.Fields["based_on"], "999") {
			t.Fatalf("based_on an unknown version: %+v", e.Error)
		}
	})
}
