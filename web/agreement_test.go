package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// newAgreementApp is newApp with a running job queue, as `alinea serve`
// has: activating an agreement queues the re-evaluation of every contact.
func newAgreementApp(t testing.TB) *app {
	t.Helper()
	ctx := context.Background()
	path, res := demoDatabase(t)
	clock := &demo.Clock{}
	clock.Set(anchor)
	st, err := store.Open(ctx, path, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.ReevaluateWorker{Store: st})
	q, err := jobs.New(st, jobs.Config{Workers: workers, MaxWorkers: 1, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{Store: st, Now: clock.Now, Jobs: q}))
	t.Cleanup(func() {
		ts.Close()
		stopCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = q.Stop(stopCtx)
		st.Close()
	})
	return &app{t: t, url: ts.URL, store: st, clock: clock, users: res.Users}
}

// agreementSigner is a demo user of a role as the store has it.
func (a *app) agreementSigner(role alinea.Role) alinea.User {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), a.user(role).Email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// activeAgreement returns the active agreement version.
func (a *app) activeAgreement() agreement.Version {
	a.t.Helper()
	v, err := a.store.ActiveAgreement(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return v
}

// proposeAgreement stores a version based on the active one with edit
// applied to its source, proposed by the marketing user.
func (a *app) proposeAgreement(edit func(string) string) agreement.Version {
	a.t.Helper()
	ctx := context.Background()
	active := a.activeAgreement()
	mkt := a.agreementSigner(alinea.RoleMarketing)
	v, err := a.store.CreateAgreement(ctx, []byte(edit(active.Source)), active.ID, mkt.ID)
	if err != nil {
		a.t.Fatal(err)
	}
	if v, err = a.store.ProposeAgreement(ctx, v.ID, mkt.ID); err != nil {
		a.t.Fatal(err)
	}
	return v
}

func versionPath(id int64) string { return fmt.Sprintf("/agreement/versions/%d", id) }

// moreFitForSpain gives the target_country rule 35 points instead of 20.
func moreFitForSpain(src string) string {
	return strings.Replace(src, "target_country\n      when: 'contact.country in [\"ES\", \"MX\", \"CO\", \"AR\", \"CL\", \"PE\"]'\n      points: 20",
		"target_country\n      when: 'contact.country in [\"ES\", \"MX\", \"CO\", \"AR\", \"CL\", \"PE\"]'\n      points: 35", 1)
}

func TestAgreementPageWithoutAnAgreement(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleMarketing, "es")
	page := c.get("/agreement")
	if page.status != http.StatusOK {
		t.Fatalf("GET /agreement: status %d", page.status)
	}
	mustContain(t, "no agreement", text(page.body), "Todavía no hay un acuerdo vigente", "Empezar con el ejemplo comentado")
	mustContain(t, "navigation", page.body, `<a href="/agreement" aria-current="page">Acuerdo</a>`)

	// Starting from the example makes a draft with the commented text.
	res := c.postForm("/agreement", "/agreement/drafts", url.Values{})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/agreement/versions/") {
		t.Fatalf("start a draft: status %d, location %q", res.status, res.location)
	}
	draft := text(c.get(res.location).body)
	mustContain(t, "draft from the example", draft, "Borrador", "Editar el borrador", "# Alinea revenue agreement", "El texto es válido")
}

func TestAgreementPageShowsTheActiveVersionInBothLanguages(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	active := a.activeAgreement()
	mkt, sales := a.agreementSigner(alinea.RoleMarketing), a.agreementSigner(alinea.RoleSales)

	es := text(a.signedIn(alinea.RoleSales, "es").get("/agreement").body)
	mustContain(t, "agreement in Spanish", es,
		"Acuerdo de ingresos", fmt.Sprintf("Versión %d", active.ID), "Vigente",
		mkt.Name, sales.Name,
		// Goals with the reverse funnel of the current quarter.
		"T1 2026", "150.000 €", "Lo que pide el objetivo (embudo inverso)", "al mes",
		// Definitions in words, with the expression beside.
		"Todo esto:", "ha hecho «Webinar Registered»", "ha hecho «Webinar Attended» en los últimos 30 días", "y un encaje de al menos 30",
		`did("Webinar Registered") && did("Webinar Attended", within("30d"))`,
		// Scoring, grades, reasons, SLAs, playbooks.
		"el país del contacto es uno de: España, México", "+20", "−30", "vale la mitad cada 30 días",
		"75 o más", "de 50 a 74", "menos de 25",
		"Sin presupuesto", "No encaja con nuestro cliente ideal", "No budget",
		"Acepta o rechaza cada MQL en 8 horas laborables como máximo.", "Entrega 20 MQL al mes.", "Cierra 5 de cada 20 SQL.",
		"Cuando un contacto entra en Oportunidad:", "Dejar de enviarle correos promocionales")
	mustNotContain(t, "agreement in Spanish", es, "Pendiente de firma")

	en := text(a.signedIn(alinea.RoleMarketing, "en").get("/agreement").body)
	mustContain(t, "agreement in English", en,
		"Revenue agreement", fmt.Sprintf("Version %d", active.ID), "Active", mkt.Name, sales.Name,
		"Q1 2026", "€150,000", "What the goal takes (reverse funnel)",
		"All of:", "did “Webinar Registered”", "did “Webinar Attended” in the last 30 days", "and a fit of at least 30",
		"the contact's country is one of: Spain, Mexico",
		"No budget", "Not our ideal customer",
		"Delivers 20 MQLs a month.", "When a contact enters Opportunity:")
	// The reader's language first: the Spanish label is the secondary one.
	if strings.Index(en, "No budget") > strings.Index(en, "Sin presupuesto") {
		t.Errorf("the English page lists the Spanish reason label first")
	}
}

func TestAgreementDraftEditorShowsProblemsAndKeepsTheText(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	active := a.activeAgreement()
	c := a.signedIn(alinea.RoleMarketing, "en")

	res := c.postForm("/agreement", "/agreement/drafts", url.Values{"based_on": {fmt.Sprint(active.ID)}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("new draft: status %d\n%s", res.status, clip(text(res.body)))
	}
	path := strings.TrimSuffix(strings.SplitN(res.location, "?", 2)[0], "#editor")
	page := c.get(res.location)
	mustContain(t, "new draft", text(page.body), "Draft created.", "Edit the draft", "based on version", "The text is valid: this draft can be proposed.")

	// An expression with a stray operator is saved as a draft, and the
	// page says where it breaks.
	good := `did("Webinar Registered") && did("Webinar Attended", within("30d"))`
	bad := `did("Webinar Registered") && && did("Webinar Attended", within("30d"))`
	broken := strings.Replace(active.Source, good, bad, 1)
	if broken == active.Source {
		t.Fatal("the example's MQL expression changed; update the test")
	}
	res = c.postForm(path, path, url.Values{"source": {strings.ReplaceAll(broken, "\n", "\r\n")}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("save: status %d\n%s", res.status, clip(text(res.body)))
	}
	page = c.get(res.location)
	line, col := lineColumnOf(broken, bad, strings.Index(bad, "&& &&")+3)
	got := text(page.body)
	mustContain(t, "problem", got, "Draft saved.", "1 problem keeps it from being proposed", "Definitions", "definitions.mql.when",
		fmt.Sprintf("Line %d, column %d", line, col), "unexpected token")
	mustContain(t, "text kept", got, bad)
	mustContain(t, "jump link", page.body, fmt.Sprintf(`data-line="%d" data-column="%d"`, line, col))
	id := versionIDOf(t, path)
	stored, err := a.store.Agreement(context.Background(), id)
	if err != nil || stored.Source != broken {
		t.Errorf("stored source differs from what was typed (CRLF should become LF): %v", err)
	}

	// Text that is not YAML is not stored; the page keeps it and says where.
	unreadable := "name: [never closed\ncurrency: EUR\n"
	res = c.postForm(path, path, url.Values{"source": {unreadable}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("save unreadable text: status %d, want 422", res.status)
	}
	got = text(res.body)
	mustContain(t, "unreadable", got, "Not saved: the text cannot be read.", "Line ", "This text is not saved yet.", "name: [never closed")
	if after, _ := a.store.Agreement(context.Background(), id); after.Source != broken {
		t.Errorf("unreadable text replaced the stored draft")
	}

	// Validate checks without saving.
	res = c.postForm(path, path+"/validate", url.Values{"source": {active.Source}})
	if res.status != http.StatusOK {
		t.Fatalf("validate: status %d", res.status)
	}
	mustContain(t, "validate", text(res.body), "The text is valid", "This text is not saved yet.")
	if after, _ := a.store.Agreement(context.Background(), id); after.Source != broken {
		t.Errorf("validate saved the text")
	}

	// A draft with problems cannot be proposed; the page says why.
	res = c.postForm(path, path+"/propose", url.Values{})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("propose a broken draft: status %d, want 422", res.status)
	}
	mustContain(t, "propose refused", text(res.body), "This version still has problems", "definitions.mql.when")
	if after, _ := a.store.Agreement(context.Background(), id); after.Status != agreement.StatusDraft {
		t.Errorf("a broken draft became %s", after.Status)
	}
}

// lineColumnOf returns the 1-based line and column of byte offset off inside
// the first occurrence of part in src.
func lineColumnOf(src, part string, off int) (int, int) {
	at := strings.Index(src, part) + off
	line := strings.Count(src[:at], "\n") + 1
	return line, at - strings.LastIndex(src[:at], "\n")
}

func versionIDOf(t *testing.T, path string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(path, "/agreement/versions/%d", &id); err != nil {
		t.Fatalf("no version id in %q", path)
	}
	return id
}

func TestAgreementProposeAndDiff(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	active := a.activeAgreement()
	c := a.signedIn(alinea.RoleSales, "es")
	res := c.postForm("/agreement", "/agreement/drafts", url.Values{"based_on": {fmt.Sprint(active.ID)}})
	path := strings.SplitN(res.location, "?", 2)[0]
	edited := moreFitForSpain(active.Source)
	if edited == active.Source {
		t.Fatal("the example's target_country rule changed; update the test")
	}
	if res = c.postForm(path, path, url.Values{"source": {edited}}); res.status != http.StatusSeeOther {
		t.Fatalf("save: status %d\n%s", res.status, clip(text(res.body)))
	}

	// The table of changes, against the active version.
	page := c.get(path)
	diff := pageSection(t, page.body, "changes")
	mustContain(t, "diff", diff, fmt.Sprintf("1 cambio de la versión %d a la %d.", active.ID, versionIDOf(t, path)),
		"Puntuación de encaje", "target_country", "puntos", "20", "35")

	res = c.postForm(path, path+"/propose", url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("propose: status %d\n%s", res.status, clip(text(res.body)))
	}
	page = c.get(res.location)
	got := text(page.body)
	mustContain(t, "proposed", got, "Versión propuesta.", "Propuesta", "Firmar por Ventas")
	mustNotContain(t, "proposed", page.body, `id="source"`)
	if v, _ := a.store.Agreement(context.Background(), versionIDOf(t, path)); v.Status != agreement.StatusProposed {
		t.Errorf("stored status %s, want proposed", v.Status)
	}

	// Proposed versions no longer change.
	res = c.postForm(path, path, url.Values{"source": {edited + "# una nota más\n"}})
	if res.status != http.StatusConflict {
		t.Fatalf("edit a proposed version: status %d, want 409", res.status)
	}
	mustContain(t, "frozen", text(res.body), "Esta versión ya no es un borrador y no puede cambiar.", "# una nota más")
	if v, _ := a.store.Agreement(context.Background(), versionIDOf(t, path)); v.Source != edited {
		t.Errorf("a proposed version's text changed")
	}
}

// pageSection returns the visible text of the element with an id.
func pageSection(t *testing.T, page, id string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<section[^>]*id="` + id + `".*?</section>`).FindString(page)
	if m == "" {
		t.Fatalf("no section #%s in the page", id)
	}
	return text(m)
}

func TestAgreementBacktestRenders(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	active := a.activeAgreement()
	v := a.proposeAgreement(moreFitForSpain)
	c := a.signedIn(alinea.RoleManager, "en")

	page := c.get(versionPath(v.ID))
	mustNotContain(t, "before running", pageSection(t, page.body, "backtest"), "MQL precision")

	page = c.get(versionPath(v.ID) + "?backtest=1&from=2025-04&to=2026-02")
	if page.status != http.StatusOK {
		t.Fatalf("backtest: status %d", page.status)
	}
	bt := pageSection(t, page.body, "backtest")
	mustContain(t, "backtest", bt, fmt.Sprintf("Version %d", v.ID), fmt.Sprintf("Active (version %d)", active.ID),
		"MQL precision", "MQL recall", "SQL precision", "SQL recall", "Apr 2025", "Feb 2026", "MQLs per month")
	mustNotContain(t, "backtest", bt, "Mar 2026", "Mar 2025")

	// The totals are the store's backtest of the same months.
	cv, _ := agreement.Compile(v.Document)
	ca, _ := agreement.Compile(active.Document)
	reports, err := a.store.Backtest(context.Background(), agreement.NewBacktest(time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		[]string{"a", "b"}, []*agreement.Compiled{cv, ca}))
	if err != nil {
		t.Fatal(err)
	}
	foot := text(regexp.MustCompile(`(?s)<tfoot>.*?</tfoot>`).FindString(page.body))
	want := fmt.Sprintf("Total %d %d %d %d %d %d", reports[0].Leads, reports[0].MQLs, reports[0].SQLs, reports[1].Leads, reports[1].MQLs, reports[1].SQLs)
	if foot != want {
		t.Errorf("backtest totals %q, want %q", foot, want)
	}
	if reports[0].MQLs == 0 {
		t.Errorf("the backtest found no MQLs in the demo: the check above proves little")
	}

	bad := c.get(versionPath(v.ID) + "?backtest=1&from=abril&to=2026-02")
	mustContain(t, "bad month", pageSection(t, bad.body, "backtest"), "Give the months as 2026-01.")
}

func TestAgreementWrongRoleCannotSign(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	v := a.proposeAgreement(moreFitForSpain)
	path := versionPath(v.ID)

	manager := a.signedIn(alinea.RoleManager, "es")
	page := manager.get(path)
	mustNotContain(t, "manager's page", page.body, `action="`+path+`/sign"`)
	mustContain(t, "manager's page", text(page.body), "el rol Dirección no firma")
	res := manager.postForm(path, path+"/sign", url.Values{})
	if res.status != http.StatusForbidden {
		t.Fatalf("manager signs: status %d, want 403", res.status)
	}
	mustContain(t, "manager refused", text(res.body), "El rol Dirección no puede firmar el acuerdo", "No se ha cambiado nada.")

	mkt := a.signedIn(alinea.RoleMarketing, "es")
	mustContain(t, "marketing's page", mkt.get(path).body, `action="`+path+`/sign"`, "Firmar por Marketing")
	if res := mkt.postForm(path, path+"/sign", url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("marketing signs: status %d\n%s", res.status, clip(text(res.body)))
	}
	// A second marketing signature is refused, naming who signed.
	res = mkt.postForm(path, path+"/sign", url.Values{})
	if res.status != http.StatusConflict {
		t.Fatalf("marketing signs again: status %d, want 409", res.status)
	}
	mustContain(t, "second signature", text(res.body), "Marketing ya firmó esta versión ("+a.agreementSigner(alinea.RoleMarketing).Name+")")

	// Activation waits for sales.
	res = mkt.postForm(path, path+"/activate", url.Values{})
	if res.status != http.StatusConflict && res.status != http.StatusServiceUnavailable {
		t.Fatalf("activate with one signature: status %d", res.status)
	}
	after, err := a.store.Agreement(context.Background(), v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Status != agreement.StatusProposed || len(after.Signatures) != 1 || after.Signatures[0].Team != "marketing" {
		t.Errorf("after the refused steps: status %s, signatures %+v", after.Status, after.Signatures)
	}
}

func TestAgreementSignedByBothTeamsIsActivated(t *testing.T) {
	a := newAgreementApp(t)
	activateAgreement(t, a, "2026-Q1")
	old := a.activeAgreement()
	v := a.proposeAgreement(moreFitForSpain)
	path := versionPath(v.ID)

	mkt := a.signedIn(alinea.RoleMarketing, "en")
	mustContain(t, "pending banner", text(mkt.get("/agreement").body), fmt.Sprintf("Version %d is proposed and waiting for signatures (signatures: 0 of 2).", v.ID))
	mkt.postForm(path, path+"/sign", url.Values{})
	// The second team still has to sign before anyone may activate.
	res := mkt.postForm(path, path+"/activate", url.Values{})
	if res.status != http.StatusConflict {
		t.Fatalf("activate before sales signs: status %d, want 409", res.status)
	}
	mustContain(t, "activate refused", text(res.body), "Still waiting for the signature of: Sales. Nothing was activated.")

	sales := a.signedIn(alinea.RoleSales, "en")
	if res := sales.postForm(path, path+"/sign", url.Values{}); res.status != http.StatusSeeOther {
		t.Fatalf("sales signs: status %d\n%s", res.status, clip(text(res.body)))
	}
	page := text(sales.get(path).body)
	mustContain(t, "signed by both", page, "Signed", "Activate this version")

	manager := a.signedIn(alinea.RoleManager, "en")
	res = manager.postForm(path, path+"/activate", url.Values{})
	if res.status != http.StatusSeeOther || res.location != fmt.Sprintf("/agreement?activated=%d", v.ID) {
		t.Fatalf("manager activates: status %d, location %q\n%s", res.status, res.location, clip(text(res.body)))
	}
	overview := text(manager.get(res.location).body)
	mustContain(t, "active", overview, fmt.Sprintf("Version %d is now the active agreement.", v.ID), fmt.Sprintf("Version %d", v.ID),
		a.agreementSigner(alinea.RoleMarketing).Name, a.agreementSigner(alinea.RoleSales).Name)
	if got := a.activeAgreement(); got.ID != v.ID {
		t.Errorf("active version %d, want %d", got.ID, v.ID)
	}
	if prev, _ := a.store.Agreement(context.Background(), old.ID); prev.Status != agreement.StatusSuperseded {
		t.Errorf("the previous version is %s, want superseded", prev.Status)
	}

	// Every step is in the history, with who took it.
	history := pageSection(t, manager.get(path).body, "history")
	for _, want := range []string{
		a.agreementSigner(alinea.RoleManager).Name + " activated it",
		a.agreementSigner(alinea.RoleSales).Name + " signed for Sales",
		a.agreementSigner(alinea.RoleMarketing).Name + " signed for Marketing",
		a.agreementSigner(alinea.RoleMarketing).Name + " proposed it for signature",
		a.agreementSigner(alinea.RoleMarketing).Name + " created the draft",
	} {
		mustContain(t, "history", history, want)
	}
}
