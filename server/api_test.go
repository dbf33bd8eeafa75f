package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

// apiTest is a server on a fresh store with one user and API key per role.
type apiTest struct {
	t     *testing.T
	st    *store.Store
	url   string
	keys  map[alinea.Role]string
	users map[alinea.Role]alinea.User
}

// noKey and badKey stand for requests without and with an unknown API key.
const (
	noKey  alinea.Role = "none"
	badKey alinea.Role = "bogus"
)

func newAPITest(t *testing.T, b store.Backend) *apiTest {
	t.Helper()
	st := storetest.Open(t, b, store.Options{})
	srv := httptest.NewServer(New(Config{Store: st}))
	t.Cleanup(srv.Close)
	a := &apiTest{t: t, st: st, url: srv.URL, keys: map[alinea.Role]string{}, users: map[alinea.Role]alinea.User{}}
	ctx := context.Background()
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

// call sends a request as a role and returns the status and body.
func (a *apiTest) call(role alinea.Role, method, path, body string) (int, []byte) {
	a.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, a.url+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	switch role {
	case noKey:
	case badKey:
		req.Header.Set("Authorization", "Bearer key_not_a_real_secret")
	default:
		req.Header.Set("Authorization", "Bearer "+a.keys[role])
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
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
	return resp.StatusCode, out
}

// must sends a request that has to succeed with status want and decodes the
// response into out (when not nil).
func (a *apiTest) must(role alinea.Role, method, path, body string, want int, out any) {
	a.t.Helper()
	status, resp := a.call(role, method, path, body)
	if status != want {
		a.t.Fatalf("%s %s as %s: status %d, want %d: %s", method, path, role, status, want, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			a.t.Fatalf("%s %s: decode %s: %v", method, path, resp, err)
		}
	}
}

type apiError struct {
	status int
	Error  struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
	} `json:"error"`
}

// fail sends a request that has to fail and returns the decoded error.
func (a *apiTest) fail(role alinea.Role, method, path, body string) apiError {
	a.t.Helper()
	status, resp := a.call(role, method, path, body)
	var e apiError
	if err := json.Unmarshal(resp, &e); err != nil || e.Error.Code == "" {
		a.t.Fatalf("%s %s: status %d, body is not an API error: %s", method, path, status, resp)
	}
	e.status = status
	return e
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func TestAPIAuthentication(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		for _, tc := range []struct {
			role alinea.Role
			path string
		}{{noKey, "/api/v1/contacts"}, {badKey, "/api/v1/contacts"}, {noKey, "/api/v1/me"}, {badKey, "/api/v1/deals/1"}} {
			e := a.fail(tc.role, "GET", tc.path, "")
			if e.status != http.StatusUnauthorized || e.Error.Code != alinea.EUNAUTHORIZED {
				t.Errorf("GET %s as %s: %d %s, want 401 unauthorized", tc.path, tc.role, e.status, e.Error.Code)
			}
		}
		req, _ := http.NewRequest("GET", a.url+"/api/v1/contacts", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("401 without WWW-Authenticate: Bearer (got %q)", resp.Header.Get("WWW-Authenticate"))
		}

		var me alinea.User
		a.must(alinea.RoleSales, "GET", "/api/v1/me", "", 200, &me)
		if me.ID != a.users[alinea.RoleSales].ID || me.Role != alinea.RoleSales {
			t.Fatalf("me = %+v, want the sales user", me)
		}
		// The OpenAPI document is public.
		var doc map[string]any
		a.must(noKey, "GET", "/api/v1/openapi.json", "", 200, &doc)
		if doc["openapi"] == nil || doc["paths"] == nil {
			t.Fatalf("openapi.json lacks openapi/paths: %v", doc)
		}
	})
}

func TestAPIContactFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		status, body := a.call(alinea.RoleMarketing, "POST", "/api/v1/contacts",
			`{"email":" Lucia@Ejemplo.ES ","first_name":"Lucía","country":"es","properties":{"plan":"pro"}}`)
		if status != http.StatusCreated {
			t.Fatalf("create: %d %s", status, body)
		}
		var c alinea.Contact
		if err := json.Unmarshal(body, &c); err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.Email != "lucia@ejemplo.es" || c.Country != "ES" || c.Stage != alinea.StageSubscriber || c.Mode != alinea.ModeInformation {
			t.Fatalf("created contact %+v", c)
		}
		base := fmt.Sprintf("/api/v1/contacts/%d", c.ID)

		var got, patched alinea.Contact
		a.must(alinea.RoleSales, "GET", base, "", 200, &got)
		if got.ID != c.ID || got.FirstName != "Lucía" {
			t.Fatalf("get: %+v", got)
		}
		a.must(alinea.RoleSales, "PATCH", base, `{"job_title":"CTO","properties":{"plan":null,"seats":5}}`, 200, &patched)
		got = patched
		if got.JobTitle != "CTO" || got.FirstName != "Lucía" || strings.Contains(string(got.Properties), "plan") {
			t.Fatalf("patch: %+v %s", got, got.Properties)
		}

		// Marketing qualifies the lead; sales takes it from there and later
		// sends it back to nurturing with a reason.
		var tr alinea.Transition
		a.must(alinea.RoleMarketing, "POST", base+"/transitions", `{"to":"mql","why":{"rule":"score>=50"}}`, 201, &tr)
		if tr.ID == 0 || tr.From != alinea.StageSubscriber || tr.To != alinea.StageMQL || tr.Actor.UserID != a.users[alinea.RoleMarketing].ID || tr.Actor.Type != alinea.ActorUser {
			t.Fatalf("transition %+v", tr)
		}
		a.must(alinea.RoleSales, "POST", base+"/transitions", `{"to":"sql"}`, 201, nil)
		var recycled alinea.Transition
		a.must(alinea.RoleSales, "POST", base+"/transitions", `{"to":"recycled","reason":"no budget this year","why":{"reason_code":"no_budget"}}`, 201, &recycled)
		if recycled.ID <= tr.ID || recycled.From != alinea.StageSQL || recycled.Reason != "no budget this year" || !strings.Contains(string(recycled.Why), "no_budget") {
			t.Fatalf("recycle transition %+v", recycled)
		}
		var trs page[alinea.Transition]
		a.must(alinea.RoleMarketing, "GET", base+"/transitions", "", 200, &trs)
		var path []string
		for _, x := range trs.Data {
			path = append(path, string(x.To))
		}
		if strings.Join(path, ",") != "subscriber,mql,sql,recycled" {
			t.Fatalf("transitions %v", path)
		}

		var note alinea.Note
		a.must(alinea.RoleSales, "POST", base+"/notes", `{"body":"Llamar en enero"}`, 201, &note)
		if note.ID == 0 || note.AuthorID != a.users[alinea.RoleSales].ID || note.ContactID != c.ID {
			t.Fatalf("note %+v", note)
		}

		var tl struct {
			Data       []alinea.TimelineItem `json:"data"`
			NextBefore *string               `json:"next_before"`
		}
		a.must(alinea.RoleMarketing, "GET", base+"/timeline", "", 200, &tl)
		kinds := map[string]int{}
		for _, it := range tl.Data {
			kinds[it.Kind]++
		}
		if len(tl.Data) != 5 || kinds["transition"] != 4 || kinds["note"] != 1 || tl.Data[0].Kind != "note" || tl.NextBefore != nil {
			t.Fatalf("timeline: %d items %v, first %+v, next %v", len(tl.Data), kinds, tl.Data[0], tl.NextBefore)
		}
		// Paging the timeline: two items, then the rest strictly older.
		a.must(alinea.RoleMarketing, "GET", base+"/timeline?limit=2", "", 200, &tl)
		if len(tl.Data) != 2 || tl.NextBefore == nil {
			t.Fatalf("timeline page 1: %d items, next %v", len(tl.Data), tl.NextBefore)
		}
		last := tl.Data[1].At
		a.must(alinea.RoleMarketing, "GET", base+"/timeline?limit=50&before="+*tl.NextBefore, "", 200, &tl)
		for _, it := range tl.Data {
			if !it.At.Before(last) {
				t.Fatalf("timeline page 2 has %s at %v, not before %v", it.Kind, it.At, last)
			}
		}

		var act page[alinea.Activity]
		a.must(alinea.RoleSales, "GET", base+"/activity", "", 200, &act)
		if act.Data == nil {
			t.Fatalf("activity data is null, want []")
		}

		a.must(alinea.RoleManager, "DELETE", base, "", 204, nil)
		if e := a.fail(alinea.RoleSales, "GET", base, ""); e.status != 404 || e.Error.Code != alinea.ENOTFOUND {
			t.Fatalf("get deleted: %+v", e)
		}
		if e := a.fail(alinea.RoleSales, "GET", base+"/timeline", ""); e.status != 404 {
			t.Fatalf("timeline of deleted: %+v", e)
		}
	})
}

// TestAPIErrors drives every class of bad request and checks the status,
// the code and the field the error names.
func TestAPIErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		var c alinea.Contact
		a.must(alinea.RoleSales, "POST", "/api/v1/contacts", `{"email":"ana@acme.es","stage":"sql"}`, 201, &c)
		var acc alinea.Account
		a.must(alinea.RoleSales, "POST", "/api/v1/accounts", `{"name":"Acme","domain":"acme.es"}`, 201, &acc)
		var stages page[alinea.PipelineStage]
		a.must(alinea.RoleSales, "GET", "/api/v1/pipeline/stages", "", 200, &stages)
		stage := map[string]int64{}
		for _, p := range stages.Data {
			stage[p.Name] = p.ID
		}
		var d alinea.Deal
		a.must(alinea.RoleSales, "POST", "/api/v1/deals", fmt.Sprintf(`{"name":"Acme","contacts":[{"contact_id":%d}]}`, c.ID), 201, &d)
		cp := fmt.Sprintf("/api/v1/contacts/%d", c.ID)
		dp := fmt.Sprintf("/api/v1/deals/%d", d.ID)
		huge := `{"email":"big@acme.es","first_name":"` + strings.Repeat("x", 2<<20) + `"}`

		cases := []struct {
			name         string
			role         alinea.Role
			method, path string
			body         string
			status       int
			field        string
		}{
			{"path id not a number", alinea.RoleSales, "GET", "/api/v1/contacts/abc", "", 400, "id"},
			{"path id zero", alinea.RoleSales, "GET", "/api/v1/accounts/0", "", 400, "id"},
			{"path id on deal stage", alinea.RoleSales, "POST", "/api/v1/deals/x1/stage", `{"stage_id":1}`, 400, "id"},
			{"limit zero", alinea.RoleSales, "GET", "/api/v1/contacts?limit=0", "", 400, "limit"},
			{"limit too big", alinea.RoleSales, "GET", "/api/v1/deals?limit=5000", "", 400, "limit"},
			{"limit not a number", alinea.RoleSales, "GET", "/api/v1/accounts?limit=ten", "", 400, "limit"},
			{"unknown stage filter", alinea.RoleSales, "GET", "/api/v1/contacts?stage=hot", "", 400, "stage"},
			{"bad updated_since", alinea.RoleSales, "GET", "/api/v1/contacts?updated_since=yesterday", "", 400, "updated_since"},
			{"bad owner filter", alinea.RoleSales, "GET", "/api/v1/contacts?owner=me", "", 400, "owner"},
			{"forged cursor", alinea.RoleSales, "GET", "/api/v1/contacts?cursor=12", "", 400, "cursor"},
			{"misspelt filter", alinea.RoleSales, "GET", "/api/v1/contacts?stagee=mql", "", 400, "stagee"},
			{"repeated filter", alinea.RoleSales, "GET", "/api/v1/contacts?stage=mql&stage=sql", "", 400, "stage"},
			{"bad deal status", alinea.RoleSales, "GET", "/api/v1/deals?status=maybe", "", 400, "status"},
			{"bad event type", alinea.RoleSales, "GET", "/api/v1/events?type=click", "", 400, "type"},
			{"bad event since", alinea.RoleSales, "GET", "/api/v1/events?since=2025-13-01", "", 400, "since"},
			{"bad timeline before", alinea.RoleSales, "GET", cp + "/timeline?before=now", "", 400, "before"},
			{"unknown body field", alinea.RoleSales, "POST", "/api/v1/contacts", `{"email":"x@acme.es","favourite_color":"red"}`, 400, "favourite_color"},
			{"wrong body type", alinea.RoleSales, "POST", "/api/v1/deals", `{"name":"x","amount":"lots"}`, 400, "amount"},
			{"malformed JSON", alinea.RoleSales, "POST", "/api/v1/accounts", `{"name":`, 400, ""},
			{"empty body", alinea.RoleSales, "POST", "/api/v1/accounts", ``, 400, ""},
			{"oversized body", alinea.RoleSales, "POST", "/api/v1/contacts", huge, 413, ""},
			{"invalid email", alinea.RoleSales, "POST", "/api/v1/contacts", `{"email":"not-an-email"}`, 400, "email"},
			{"duplicate email", alinea.RoleSales, "POST", "/api/v1/contacts", `{"email":"ANA@acme.es"}`, 409, "email"},
			{"duplicate domain", alinea.RoleSales, "POST", "/api/v1/accounts", `{"name":"Acme 2","domain":"www.acme.es"}`, 409, "domain"},
			{"unknown contact account", alinea.RoleSales, "POST", "/api/v1/contacts", `{"email":"new@acme.es","account_id":999999}`, 400, "account_id"},
			{"unknown contact owner", alinea.RoleSales, "PATCH", cp, `{"owner_id":999999}`, 400, "owner_id"},
			{"stage in contact patch", alinea.RoleSales, "PATCH", cp, `{"stage":"customer"}`, 400, "stage"},
			{"missing contact", alinea.RoleSales, "GET", "/api/v1/contacts/999999", "", 404, ""},
			{"missing account", alinea.RoleSales, "PATCH", "/api/v1/accounts/999999", `{"industry":"x"}`, 404, ""},
			{"missing deal history", alinea.RoleSales, "GET", "/api/v1/deals/999999/history", "", 404, ""},
			{"note on missing contact", alinea.RoleSales, "POST", "/api/v1/contacts/999999/notes", `{"body":"hi"}`, 404, ""},
			{"empty note", alinea.RoleSales, "POST", cp + "/notes", `{"body":"  "}`, 400, "body"},
			{"unknown target stage", alinea.RoleSales, "POST", cp + "/transitions", `{"to":"hot"}`, 400, "to"},
			{"missing target stage", alinea.RoleSales, "POST", cp + "/transitions", `{"reason":"x"}`, 400, "to"},
			{"why not an object", alinea.RoleSales, "POST", cp + "/transitions", `{"to":"opportunity","why":[1]}`, 400, "why"},
			{"same stage", alinea.RoleSales, "POST", cp + "/transitions", `{"to":"sql"}`, 409, "to"},
			{"backwards", alinea.RoleSales, "POST", cp + "/transitions", `{"to":"mql"}`, 400, "to"},
			{"recycle without reason", alinea.RoleSales, "POST", cp + "/transitions", `{"to":"recycled"}`, 400, "reason"},
			{"marketing into buy mode", alinea.RoleMarketing, "POST", cp + "/transitions", `{"to":"opportunity"}`, 403, ""},
			{"marketing creates an sql", alinea.RoleMarketing, "POST", "/api/v1/contacts", `{"email":"new@acme.es","stage":"sql"}`, 403, ""},
			{"sales deletes a contact", alinea.RoleSales, "DELETE", cp, "", 403, ""},
			{"marketing deletes an account", alinea.RoleMarketing, "DELETE", fmt.Sprintf("/api/v1/accounts/%d", acc.ID), "", 403, ""},
			{"marketing creates a deal", alinea.RoleMarketing, "POST", "/api/v1/deals", `{"name":"x"}`, 403, ""},
			{"marketing moves a deal", alinea.RoleMarketing, "POST", dp + "/stage", fmt.Sprintf(`{"stage_id":%d}`, stage["proposal"]), 403, ""},
			{"sales deletes a deal", alinea.RoleSales, "DELETE", dp, "", 403, ""},
			{"stage in deal patch", alinea.RoleSales, "PATCH", dp, fmt.Sprintf(`{"stage_id":%d}`, stage["won"]), 400, "stage_id"},
			{"unknown deal contact", alinea.RoleSales, "POST", "/api/v1/deals", `{"name":"x","contacts":[{"contact_id":999999}]}`, 400, "contacts[0].contact_id"},
			{"unknown deal account", alinea.RoleSales, "POST", "/api/v1/deals", `{"name":"x","account_id":999999}`, 400, "account_id"},
			{"unknown deal stage on create", alinea.RoleSales, "POST", "/api/v1/deals", `{"name":"x","stage_id":999999}`, 400, "stage_id"},
			{"unknown stage move", alinea.RoleSales, "POST", dp + "/stage", `{"stage_id":999999}`, 400, "stage_id"},
			{"lost without reason", alinea.RoleSales, "POST", dp + "/stage", fmt.Sprintf(`{"stage_id":%d}`, stage["lost"]), 400, "reason"},
			{"move to current stage", alinea.RoleSales, "POST", dp + "/stage", fmt.Sprintf(`{"stage_id":%d}`, d.StageID), 409, "stage_id"},
			{"deal without name", alinea.RoleSales, "POST", "/api/v1/deals", `{"amount":5}`, 400, "name"},
			{"bad currency", alinea.RoleSales, "PATCH", dp, `{"currency":"euros"}`, 400, "currency"},
			{"account without name", alinea.RoleSales, "POST", "/api/v1/accounts", `{"domain":"x.com"}`, 400, "name"},
		}
		wantCode := map[int]string{400: alinea.EINVALID, 403: alinea.EFORBIDDEN, 404: alinea.ENOTFOUND, 409: alinea.ECONFLICT, 413: alinea.ETOOLARGE}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sub := *a
				sub.t = t
				e := sub.fail(tc.role, tc.method, tc.path, tc.body)
				if e.status != tc.status || e.Error.Code != wantCode[tc.status] {
					t.Fatalf("%s %s: %d %s (%s), want %d %s", tc.method, tc.path, e.status, e.Error.Code, e.Error.Message, tc.status, wantCode[tc.status])
				}
				if tc.field != "" && e.Error.Fields[tc.field] == "" {
					t.Fatalf("%s %s: error %q does not name %q: %v", tc.method, tc.path, e.Error.Message, tc.field, e.Error.Fields)
				}
			})
		}
		// Nothing valid around the failures was lost or changed.
		var after alinea.Contact
		a.must(alinea.RoleSales, "GET", cp, "", 200, &after)
		if after.Stage != alinea.StageSQL {
			t.Fatalf("contact stage changed by failed requests: %s", after.Stage)
		}
		var deals page[alinea.Deal]
		a.must(alinea.RoleSales, "GET", "/api/v1/deals", "", 200, &deals)
		if len(deals.Data) != 1 || deals.Data[0].StageID != d.StageID {
			t.Fatalf("deals after failed requests: %+v", deals.Data)
		}
	})
}

// collect follows next_cursor from path to the end and returns every item and
// the number of pages.
func collect[T any](a *apiTest, path string) ([]T, int) {
	a.t.Helper()
	var all []T
	pages := 0
	next := path
	for {
		var p page[T]
		a.must(alinea.RoleSales, "GET", next, "", 200, &p)
		pages++
		if p.Data == nil {
			a.t.Fatalf("GET %s: data is null, want an array", next)
		}
		all = append(all, p.Data...)
		if p.NextCursor == nil {
			return all, pages
		}
		if _, err := strconv.ParseInt(*p.NextCursor, 10, 64); err == nil {
			a.t.Fatalf("cursor %q is a bare id; it should be opaque", *p.NextCursor)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		next = path + sep + "cursor=" + *p.NextCursor
		if pages > 100 {
			a.t.Fatalf("pagination of %s does not end", path)
		}
	}
}

func TestAPIPaginationAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		var acc alinea.Account
		a.must(alinea.RoleSales, "POST", "/api/v1/accounts", `{"name":"Acme Foods","domain":"acme.es"}`, 201, &acc)
		sales := a.users[alinea.RoleSales].ID
		var ids []int64
		for i := range 11 {
			body := fmt.Sprintf(`{"email":"p%02d@acme.es","first_name":"Persona %d"`, i, i)
			if i%2 == 0 {
				body += `,"stage":"mql"`
			}
			if i%3 == 0 {
				body += fmt.Sprintf(`,"owner_id":%d,"account_id":%d`, sales, acc.ID)
			}
			var c alinea.Contact
			a.must(alinea.RoleManager, "POST", "/api/v1/contacts", body+"}", 201, &c)
			ids = append(ids, c.ID)
		}

		all, pages := collect[alinea.Contact](a, "/api/v1/contacts?limit=4")
		if len(all) != 11 || pages != 3 {
			t.Fatalf("contacts: %d over %d pages, want 11 over 3", len(all), pages)
		}
		for i, c := range all {
			if c.ID != ids[i] {
				t.Fatalf("contact %d has id %d, want %d (id order, no gaps or repeats)", i, c.ID, ids[i])
			}
		}
		filters := []struct {
			query string
			want  func(i int) bool
		}{
			{"stage=mql", func(i int) bool { return i%2 == 0 }},
			{fmt.Sprintf("owner=%d", sales), func(i int) bool { return i%3 == 0 }},
			{fmt.Sprintf("account=%d&stage=mql", acc.ID), func(i int) bool { return i%6 == 0 }},
			{"email=P07@ACME.ES", func(i int) bool { return i == 7 }},
			{"q=persona%201", func(i int) bool { return i == 1 || i == 10 }},
			{"updated_since=2000-01-01T00:00:00Z", func(i int) bool { return true }},
			{"updated_since=" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), func(i int) bool { return false }},
		}
		for _, f := range filters {
			got, _ := collect[alinea.Contact](a, "/api/v1/contacts?limit=2&"+f.query)
			var want []int64
			for i, id := range ids {
				if f.want(i) {
					want = append(want, id)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("filter %s: %d contacts, want %d", f.query, len(got), len(want))
			}
			for i := range want {
				if got[i].ID != want[i] {
					t.Fatalf("filter %s: got id %d at %d, want %d", f.query, got[i].ID, i, want[i])
				}
			}
		}

		for i := range 5 {
			a.must(alinea.RoleSales, "POST", "/api/v1/accounts", fmt.Sprintf(`{"name":"Cliente %d","domain":"cliente%d.mx"}`, i, i), 201, nil)
		}
		accs, pages := collect[alinea.Account](a, "/api/v1/accounts?limit=2")
		if len(accs) != 6 || pages != 3 {
			t.Fatalf("accounts: %d over %d pages", len(accs), pages)
		}
		accs, _ = collect[alinea.Account](a, "/api/v1/accounts?q=cliente")
		if len(accs) != 5 {
			t.Fatalf("accounts q=cliente: %d", len(accs))
		}
		accs, _ = collect[alinea.Account](a, "/api/v1/accounts?domain=https://www.Cliente3.mx/")
		if len(accs) != 1 || accs[0].Name != "Cliente 3" {
			t.Fatalf("accounts by domain: %+v", accs)
		}

		var stages page[alinea.PipelineStage]
		a.must(alinea.RoleSales, "GET", "/api/v1/pipeline/stages", "", 200, &stages)
		lost := stages.Data[len(stages.Data)-1]
		for i := range 5 {
			var d alinea.Deal
			a.must(alinea.RoleSales, "POST", "/api/v1/deals", fmt.Sprintf(`{"name":"Deal %d","contacts":[{"contact_id":%d,"role":"champion"}]}`, i, ids[i%2]), 201, &d)
			if i < 2 {
				a.must(alinea.RoleSales, "POST", fmt.Sprintf("/api/v1/deals/%d/stage", d.ID), fmt.Sprintf(`{"stage_id":%d,"reason":"price"}`, lost.ID), 200, nil)
			}
		}
		deals, pages := collect[alinea.Deal](a, "/api/v1/deals?limit=2")
		if len(deals) != 5 || pages != 3 {
			t.Fatalf("deals: %d over %d pages", len(deals), pages)
		}
		deals, _ = collect[alinea.Deal](a, "/api/v1/deals?status=lost")
		if len(deals) != 2 || deals[0].CloseReason != "price" {
			t.Fatalf("lost deals: %+v", deals)
		}
		deals, _ = collect[alinea.Deal](a, fmt.Sprintf("/api/v1/deals?contact=%d&limit=1", ids[1]))
		if len(deals) != 2 || deals[0].Contacts[0].ContactID != ids[1] {
			t.Fatalf("deals of contact: %+v", deals)
		}
		deals, _ = collect[alinea.Deal](a, fmt.Sprintf("/api/v1/deals?stage_id=%d&status=open", stages.Data[0].ID))
		if len(deals) != 3 {
			t.Fatalf("open deals in first stage: %d", len(deals))
		}

		// Events arrive through ingestion; the API lists them newest first.
		wk, _, err := a.st.CreateWriteKey(context.Background(), "site")
		if err != nil {
			t.Fatal(err)
		}
		base := time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC)
		var msgs []alinea.Message
		for i := range 7 {
			typ, name := "track", "Signed Up"
			if i%2 == 1 {
				typ, name = "page", "Pricing"
			}
			msgs = append(msgs, alinea.Message{Type: typ, MessageID: fmt.Sprintf("m-%d", i), UserID: "user-1", Event: name,
				Timestamp: base.Add(time.Duration(i) * time.Hour), ReceivedAt: base.Add(time.Duration(i) * time.Hour)})
		}
		if _, err := a.st.Ingest(context.Background(), wk.ID, msgs); err != nil {
			t.Fatal(err)
		}
		events, pages := collect[alinea.Event](a, "/api/v1/events?limit=3")
		if len(events) != 7 || pages != 3 {
			t.Fatalf("events: %d over %d pages", len(events), pages)
		}
		for i := 1; i < len(events); i++ {
			if events[i].ID >= events[i-1].ID {
				t.Fatalf("events not newest first: %d after %d", events[i].ID, events[i-1].ID)
			}
		}
		contact := events[0].ContactID
		events, _ = collect[alinea.Event](a, fmt.Sprintf("/api/v1/events?type=page&contact=%d", contact))
		if len(events) != 3 {
			t.Fatalf("page events of contact %d: %d, want 3", contact, len(events))
		}
		events, _ = collect[alinea.Event](a, "/api/v1/events?name=Signed%20Up&since="+base.Add(2*time.Hour).Format(time.RFC3339))
		if len(events) != 3 {
			t.Fatalf("Signed Up since +2h: %d, want 3 (at +2h, +4h, +6h)", len(events))
		}
		var act page[alinea.Activity]
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/contacts/%d/activity", contact), "", 200, &act)
		counts := map[string]int64{}
		for _, x := range act.Data {
			counts[x.EventType] = x.Count
		}
		if counts["Signed Up"] != 4 || counts["page"] != 3 {
			t.Fatalf("activity %v", counts)
		}
	})
}

func TestAPIDealFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAPITest(t, b)
		var acc alinea.Account
		a.must(alinea.RoleSales, "POST", "/api/v1/accounts", `{"name":"Acme","domain":"acme.es","employees":40}`, 201, &acc)
		var c alinea.Contact
		a.must(alinea.RoleSales, "POST", "/api/v1/contacts", fmt.Sprintf(`{"email":"eva@acme.es","account_id":%d}`, acc.ID), 201, &c)
		var stages page[alinea.PipelineStage]
		a.must(alinea.RoleMarketing, "GET", "/api/v1/pipeline/stages", "", 200, &stages)
		if len(stages.Data) != 6 || stages.Data[0].Name != "discovery" || stages.Data[4].Kind != alinea.DealWon {
			t.Fatalf("stages %+v", stages.Data)
		}
		stage := map[string]int64{}
		for _, p := range stages.Data {
			stage[p.Name] = p.ID
		}

		var d alinea.Deal
		a.must(alinea.RoleSales, "POST", "/api/v1/deals", fmt.Sprintf(`{"name":"Acme 2025","account_id":%d,"amount":480000,"expected_close":"2025-09-30","contacts":[{"contact_id":%d,"role":"champion"}]}`, acc.ID, c.ID), 201, &d)
		if d.StageID != stage["discovery"] || d.Currency != "EUR" || d.Status != alinea.DealOpen || len(d.Contacts) != 1 || d.Contacts[0].Role != "champion" {
			t.Fatalf("new deal %+v", d)
		}
		dp := fmt.Sprintf("/api/v1/deals/%d", d.ID)
		d = alinea.Deal{}
		a.must(alinea.RoleManager, "PATCH", dp, `{"amount":500000,"currency":"usd"}`, 200, &d)
		if d.Amount != 500000 || d.Currency != "USD" || len(d.Contacts) != 1 {
			t.Fatalf("patched deal %+v", d)
		}
		d = alinea.Deal{}
		a.must(alinea.RoleSales, "POST", dp+"/stage", fmt.Sprintf(`{"stage_id":%d,"reason":"competitor was cheaper"}`, stage["lost"]), 200, &d)
		if d.Status != alinea.DealLost || d.ClosedAt == nil || d.CloseReason != "competitor was cheaper" {
			t.Fatalf("lost deal %+v", d)
		}
		// Decode each response into a fresh value: omitted fields must be absent.
		var reopened, won alinea.Deal
		a.must(alinea.RoleSales, "POST", dp+"/stage", fmt.Sprintf(`{"stage_id":%d}`, stage["negotiation"]), 200, &reopened)
		if reopened.Status != alinea.DealOpen || reopened.ClosedAt != nil || reopened.CloseReason != "" {
			t.Fatalf("reopened deal %+v", reopened)
		}
		a.must(alinea.RoleSales, "POST", dp+"/stage", fmt.Sprintf(`{"stage_id":%d}`, stage["won"]), 200, &won)
		if won.Status != alinea.DealWon || won.ClosedAt == nil || won.CloseReason != "" {
			t.Fatalf("won deal %+v", won)
		}
		var hist page[alinea.DealStageChange]
		a.must(alinea.RoleMarketing, "GET", dp+"/history", "", 200, &hist)
		if len(hist.Data) != 4 || hist.Data[1].Reason != "competitor was cheaper" || hist.Data[3].ToStageID != stage["won"] || hist.Data[3].ActorUserID != a.users[alinea.RoleSales].ID {
			t.Fatalf("history %+v", hist.Data)
		}
		var tl page[alinea.TimelineItem]
		a.must(alinea.RoleMarketing, "GET", fmt.Sprintf("/api/v1/contacts/%d/timeline", c.ID), "", 200, &tl)
		if len(tl.Data) == 0 || tl.Data[0].Kind != "deal" {
			t.Fatalf("contact timeline does not start with the deal: %+v", tl.Data)
		}

		var got alinea.Account
		a.must(alinea.RoleMarketing, "PATCH", fmt.Sprintf("/api/v1/accounts/%d", acc.ID), `{"industry":"retail","properties":{"tier":"gold"}}`, 200, &got)
		if got.Industry != "retail" || got.Employees != 40 || !strings.Contains(string(got.Properties), "gold") {
			t.Fatalf("patched account %+v", got)
		}
		a.must(alinea.RoleManager, "DELETE", dp, "", 204, nil)
		if e := a.fail(alinea.RoleSales, "GET", dp, ""); e.status != 404 {
			t.Fatalf("deleted deal: %+v", e)
		}
		a.must(alinea.RoleAdmin, "DELETE", fmt.Sprintf("/api/v1/accounts/%d", acc.ID), "", 204, nil)
		var unlinked alinea.Contact
		a.must(alinea.RoleSales, "GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), "", 200, &unlinked)
		if unlinked.AccountID != 0 {
			t.Fatalf("contact still linked to deleted account: %+v", unlinked)
		}
	})
}
