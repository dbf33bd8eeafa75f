package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

func TestSignInErrorsAreLocalizedAndKeepTheEmail(t *testing.T) {
	a := newApp(t)
	u := a.user(alinea.RoleSales)
	for _, tc := range []struct {
		lang, invalid, heading string
	}{
		{"es-ES,es;q=0.9", "El correo o la contraseña no son correctos.", "Inicia sesión en Alinea"},
		{"en-GB,en;q=0.8", "The email or password is not correct.", "Sign in to Alinea"},
		{"fr-FR", "El correo o la contraseña no son correctos.", "Inicia sesión en Alinea"}, // Spanish is the default
	} {
		c := a.client(tc.lang)
		page := c.get("/signin")
		mustContain(t, tc.lang+" sign-in page", text(page.body), tc.heading)
		res := c.postForm("/signin", "/signin", url.Values{"email": {u.Email}, "password": {"not the password"}})
		if res.status != http.StatusUnauthorized {
			t.Fatalf("%s: wrong password: status %d, want 401", tc.lang, res.status)
		}
		mustContain(t, tc.lang+" wrong password", text(res.body), tc.invalid)
		mustContain(t, tc.lang+" typed email kept", res.body, `value="`+u.Email+`"`)
		if strings.Contains(res.header.Get("Set-Cookie"), "alinea_session") {
			t.Errorf("%s: a failed sign-in set a session cookie", tc.lang)
		}
	}

	c := a.client("es")
	c.signIn(u)
	home := c.get("/")
	if home.status != http.StatusOK {
		t.Fatalf("home after sign-in: %d", home.status)
	}
	mustContain(t, "home", text(home.body), "El embudo compartido", u.Name, "Ventas", "Contactos", "Cerrar sesión")
}

func TestSessionCookieIsHttpOnlyAndLax(t *testing.T) {
	a := newApp(t)
	c := a.client("es")
	u := a.user(alinea.RoleManager)
	res := c.postForm("/signin", "/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
	cookie := ""
	for _, v := range res.header.Values("Set-Cookie") {
		if strings.HasPrefix(v, "alinea_session=") {
			cookie = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("plain HTTP without Config.Secure got a Secure cookie: %q", cookie)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleMarketing, "en")
	res := c.postForm("/", "/signout", url.Values{})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
		t.Fatalf("sign out: %d to %q", res.status, res.location)
	}
	if res := c.get("/contacts"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
		t.Fatalf("after sign-out /contacts answered %d to %q, want a redirect to sign in", res.status, res.location)
	}
	mustContain(t, "signed-out notice", text(c.get("/signin?signed_out=1").body), "You have signed out.")
}

func TestFormsWithoutTheCSRFTokenChangeNothing(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleManager, "es")
	contact := a.contactWith(alinea.StageMQL)
	path := contactPath(contact.ID)
	notesBefore := len(a.notesOf(contact.ID))

	for _, tc := range []struct {
		name  string
		token string
	}{{"missing", ""}, {"wrong", strings.Repeat("0", 64)}} {
		form := url.Values{"body": {"nota falsificada"}}
		if tc.token != "" {
			form.Set("csrf_token", tc.token)
		}
		res := c.post(path+"/notes", form)
		if res.status != http.StatusForbidden {
			t.Errorf("%s token on a note: status %d, want 403", tc.name, res.status)
		}
		mustContain(t, tc.name+" token message", text(res.body), "Este formulario ha caducado o no se envió desde Alinea, así que no se ha cambiado nada.")

		form = url.Values{"to": {"sal"}, "reason": {""}}
		if tc.token != "" {
			form.Set("csrf_token", tc.token)
		}
		if res := c.post(path+"/stage", form); res.status != http.StatusForbidden {
			t.Errorf("%s token on a stage change: status %d, want 403", tc.name, res.status)
		}
	}
	if got := len(a.notesOf(contact.ID)); got != notesBefore {
		t.Errorf("notes went from %d to %d after forged forms", notesBefore, got)
	}
	after, err := a.store.Contact(context.Background(), contact.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Stage != alinea.StageMQL {
		t.Errorf("stage changed to %s by a forged form", after.Stage)
	}

	// A session's token is not a visitor's: a form from another browser
	// is refused too.
	other := a.client("en")
	stolen := other.csrf("/signin")
	res := c.post(path+"/notes", url.Values{"body": {"x"}, "csrf_token": {stolen}})
	if res.status != http.StatusForbidden {
		t.Errorf("another browser's token: status %d, want 403", res.status)
	}

	// Signing in needs the token too.
	visitor := a.client("en")
	u := a.user(alinea.RoleSales)
	res = visitor.post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
	if res.status != http.StatusForbidden {
		t.Fatalf("sign-in without token: status %d, want 403", res.status)
	}
	mustContain(t, "sign-in without token", text(res.body), "This form has expired or was not sent from Alinea, so nothing was changed.")
}

func TestWrongRoleCannotMoveAContact(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleMarketing, "es")
	contact := a.contactWith(alinea.StageMQL)
	path := contactPath(contact.ID)

	page := c.get(path)
	// Marketing owns information mode: buy-mode stages are not offered.
	mustNotContain(t, "marketing's stage options", page.body, `<option value="sal"`, `<option value="opportunity"`)
	mustContain(t, "marketing's stage options", page.body, `<option value="recycled"`)

	res := c.postForm(path, path+"/stage", url.Values{"to": {"sql"}, "reason": {"me lo pidió ventas"}})
	if res.status != http.StatusForbidden {
		t.Fatalf("marketing moving to SQL: status %d, want 403", res.status)
	}
	mustContain(t, "forbidden move", text(res.body), "El rol Marketing no puede mover contactos a SQL.", "me lo pidió ventas")
	after, _ := a.store.Contact(context.Background(), contact.ID)
	if after.Stage != alinea.StageMQL {
		t.Errorf("stage changed to %s by a role that may not", after.Stage)
	}
}

func TestExpiredSessionReturnsToThePageAfterSignIn(t *testing.T) {
	a := newApp(t)
	c := a.client("en")
	u := a.user(alinea.RoleSales)
	c.signIn(u)
	contact := a.contactWith(alinea.StageSQL)
	path := contactPath(contact.ID)
	if res := c.get(path); res.status != http.StatusOK {
		t.Fatalf("contact page: %d", res.status)
	}

	a.advance(12*time.Hour + time.Minute) // idle for longer than a session lives unused
	res := c.get(path)
	if res.status != http.StatusSeeOther {
		t.Fatalf("expired session: status %d, want a redirect", res.status)
	}
	target, err := url.Parse(res.location)
	if err != nil {
		t.Fatal(err)
	}
	if target.Path != "/signin" || target.Query().Get("next") != path || target.Query().Get("expired") != "1" {
		t.Fatalf("expired session redirects to %q, want /signin with next=%s and expired=1", res.location, path)
	}
	mustContain(t, "expired notice", text(c.get(res.location).body), "Your session has expired. Sign in again to pick up where you left off.")

	signIn := c.postForm(res.location, "/signin", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {path}})
	if signIn.status != http.StatusSeeOther || signIn.location != path {
		t.Fatalf("sign-in after expiry went to %q (%d), want back to %s", signIn.location, signIn.status, path)
	}
	if res := c.get(path); res.status != http.StatusOK {
		t.Fatalf("contact page after signing in again: %d", res.status)
	}

	// The return address only ever leads within Alinea.
	for _, next := range []string{"https://evil.example/", "//evil.example/x", `/\evil.example`} {
		res := c.postForm(path, "/signin", url.Values{"email": {u.Email}, "password": {u.Password}, "next": {next}})
		if res.location != "/" {
			t.Errorf("next=%q redirected to %q, want /", next, res.location)
		}
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	a := newApp(t)
	c := a.client("es")
	u := a.user(alinea.RoleSales)
	for i := 0; i < 5; i++ {
		res := c.postForm("/signin", "/signin", url.Values{"email": {u.Email}, "password": {"wrong"}})
		if res.status != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d", i+1, res.status)
		}
	}
	res := c.postForm("/signin", "/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("sixth try with the right password: status %d, want 429", res.status)
	}
	mustContain(t, "rate limit", text(res.body), "Demasiados intentos fallidos. Vuelve a intentarlo dentro de 10 minutos.")
	mustContain(t, "rate limit keeps the email", res.body, `value="`+u.Email+`"`)

	// Another account from the same address is not locked out.
	other := a.user(alinea.RoleManager)
	if res := c.postForm("/signin", "/signin", url.Values{"email": {other.Email}, "password": {other.Password}}); res.status != http.StatusSeeOther {
		t.Fatalf("another account: status %d", res.status)
	}

	a.advance(10*time.Minute + time.Second)
	fresh := a.client("es")
	fresh.signIn(u)
}

func TestLanguageFollowsUserThenCookieThenBrowser(t *testing.T) {
	a := newApp(t)
	visitor := a.client("en-US,en;q=0.9")
	mustContain(t, "browser language", text(visitor.get("/signin").body), "Sign in to Alinea")

	// The switch sets a cookie that beats the browser's language.
	res := visitor.postForm("/signin", "/language", url.Values{"lang": {"es"}, "next": {"/signin"}})
	if res.status != http.StatusSeeOther || res.location != "/signin" {
		t.Fatalf("language switch: %d to %q", res.status, res.location)
	}
	mustContain(t, "chosen language", text(visitor.get("/signin").body), "Inicia sesión en Alinea")

	// A signed-in user's setting beats both; switching changes it.
	var english alinea.User
	for _, u := range a.users {
		if u.Locale == "en" {
			c := a.client("es")
			c.signIn(u)
			mustContain(t, "user's language", text(c.get("/").body), "The shared funnel", "Contacts")
			res := c.postForm("/", "/language", url.Values{"lang": {"es"}, "next": {"/contacts"}})
			if res.location != "/contacts" {
				t.Fatalf("switch returned to %q", res.location)
			}
			mustContain(t, "switched language", text(c.get("/contacts").body), "Todos los contactos")
			var err error
			if english, err = a.store.UserByEmail(context.Background(), u.Email); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if english.Locale != "es" {
		t.Errorf("the user's locale is %q after switching to Spanish", english.Locale)
	}
	if res := visitor.postForm("/signin", "/language", url.Values{"lang": {"fr"}}); res.status != http.StatusBadRequest {
		t.Errorf("unknown language: status %d, want 400", res.status)
	}
}

func TestNoteAndStageChange(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleSales, "es")
	contact := a.contactWith(alinea.StageSQL)
	path := contactPath(contact.ID)

	res := c.postForm(path, path+"/notes", url.Values{"body": {"Llamada con compras: piden propuesta para abril."}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("add note: %d\n%s", res.status, text(res.body))
	}
	page := text(c.get(res.location).body)
	mustContain(t, "note in timeline", page, "Nota añadida.", "Llamada con compras: piden propuesta para abril.")

	res = c.postForm(path, path+"/notes", url.Values{"body": {"   "}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("empty note: %d", res.status)
	}
	mustContain(t, "empty note", text(res.body), "Escribe algo antes de guardar la nota.")

	// Backwards without going through recycled: refused next to the form,
	// with the reason typed kept.
	res = c.postForm(path, path+"/stage", url.Values{"to": {"mql"}, "reason": {"todavía no está listo"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("backwards move: %d", res.status)
	}
	mustContain(t, "backwards move", text(res.body), "Un contacto no puede volver de SQL a MQL.", "todavía no está listo")
	mustContain(t, "backwards move keeps the choice", res.body, `<option value="mql" selected>`)
	// Switching language on that answer goes back to the contact, not to
	// the form's POST-only address.
	mustContain(t, "language switch after a refused form", res.body, `name="next" value="`+path+`"`)

	res = c.postForm(path, path+"/stage", url.Values{"to": {"recycled"}})
	mustContain(t, "recycle without reason", text(res.body), "Para mover un contacto a Reciclado hace falta un motivo.")

	res = c.postForm(path, path+"/stage", url.Values{"to": {"opportunity"}, "reason": {"Propuesta enviada"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("move to opportunity: %d\n%s", res.status, text(res.body))
	}
	page = text(c.get(res.location).body)
	mustContain(t, "after the move", page, "Etapa cambiada a Oportunidad.", "Pasó de SQL a Oportunidad.", "Propuesta enviada")
	after, _ := a.store.Contact(context.Background(), contact.ID)
	if after.Stage != alinea.StageOpportunity {
		t.Errorf("stage is %s, want opportunity", after.Stage)
	}
}

func TestContactsSearchFiltersAndPages(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleManager, "en")

	first := c.get("/contacts")
	if first.status != http.StatusOK {
		t.Fatalf("contacts: %d", first.status)
	}
	if n := strings.Count(first.body, `<td class="cell-name">`); n != 50 {
		t.Errorf("first page has %d rows, want 50", n)
	}
	mustContain(t, "first page", first.body, `rel="next"`)
	mustNotContain(t, "first page", first.body, `rel="prev"`)
	// The company column links each contact's account.
	if !strings.Contains(first.body, `<a href="/accounts/`) {
		t.Error("no company in the first page links to its account")
	}
	if customer := a.contactWith(alinea.StageCustomer); customer.AccountID != 0 {
		found := c.get("/contacts?q=" + url.QueryEscape(customer.Email))
		mustContain(t, "company link", found.body, fmt.Sprintf(`<a href="/accounts/%d">`, customer.AccountID))
	}

	// Walk to the end and back: every contact appears once.
	seen := map[string]bool{}
	page := first
	for i := 0; ; i++ {
		for _, m := range contactLink.FindAllStringSubmatch(page.body, -1) {
			if seen[m[1]] {
				t.Fatalf("contact %s listed twice", m[1])
			}
			seen[m[1]] = true
		}
		next := pagerLink(page.body, "next")
		if next == "" {
			break
		}
		if i > 20 {
			t.Fatal("more pages than contacts")
		}
		page = c.get(next)
	}
	if len(seen) != 600 {
		t.Errorf("paged through %d contacts, want the demo's 600", len(seen))
	}
	back := c.get(pagerLink(page.body, "prev"))
	if back.status != http.StatusOK || !strings.Contains(back.body, `rel="next"`) {
		t.Errorf("paging back: %d", back.status)
	}

	// A stage filter lists only that stage and survives paging links.
	sql := c.get("/contacts?stage=sql")
	for _, m := range badge.FindAllStringSubmatch(sql.body, -1) {
		if m[1] != "SQL" {
			t.Errorf("stage=sql lists a contact in %q", m[1])
		}
	}
	mustContain(t, "stage filter", sql.body, `<option value="sql" selected>`, "Clear filters")

	// Search by part of a name, and by an exact email.
	contact := a.contactWith(alinea.StageCustomer)
	byName := c.get("/contacts?q=" + url.QueryEscape(strings.ToLower(contact.LastName)))
	mustContain(t, "search by name", byName.body, contactPath(contact.ID)+`"`)
	byEmail := c.get("/contacts?q=" + url.QueryEscape(strings.ToUpper(contact.Email)))
	if n := len(contactLink.FindAllString(byEmail.body, -1)); n != 1 {
		t.Errorf("search by email found %d contacts, want 1", n)
	}
	mustContain(t, "search by email", byEmail.body, contactPath(contact.ID)+`"`)

	if res := c.get("/contacts?stage=nonsense"); res.status != http.StatusBadRequest {
		t.Errorf("unknown stage: %d, want 400", res.status)
	}
	mustContain(t, "no matches", text(c.get("/contacts?q=zzzznobody").body), "No contacts match these filters.")
}

func TestHomeShowsFunnelAndClosedDeals(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleManager, "es")
	ctx := context.Background()
	home := c.get("/")
	if home.status != http.StatusOK {
		t.Fatalf("home: %d", home.status)
	}
	counts, err := a.store.StageCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The chart links each bar to the stage's contacts and shows its count.
	for _, s := range alinea.FunnelStages {
		mustContain(t, "funnel bar", home.body, `href="/contacts?stage=`+string(s)+`"`)
		if counts[s] > 0 {
			mustContain(t, "funnel count of "+string(s), home.body, `dominant-baseline="central">`+formatES(counts[s])+`</text>`)
		}
	}
	page := text(home.body)
	mustContain(t, "home", page, "Contactos por etapa del ciclo de vida", "Conversión (90 días)", "Últimas victorias", "Últimas pérdidas",
		"No hay un acuerdo de ingresos activo con objetivo para el T1 2026.")
	won, err := a.store.RecentlyClosedDeals(ctx, alinea.DealWon, 1)
	if err != nil || len(won) == 0 {
		t.Fatalf("the demo has no won deal: %v", err)
	}
	mustContain(t, "latest win", page, won[0].Name)
}

func TestHomeShowsGoalProgressUnderAnAgreement(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	c := a.signedIn(alinea.RoleManager, "en")
	page := text(c.get("/").body)
	mustContain(t, "goal", page, "Goal for Q1 2026", "MQLs", "SQLs", "Revenue won", "of the period has passed")
	mustNotContain(t, "goal", page, "There is no active revenue agreement")
}

func TestContactPageExplainsScoresAndStage(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleSales, "en")
	contact := a.contactWith(alinea.StageMQL)
	path := contactPath(contact.ID)

	page := text(c.get(path).body)
	mustContain(t, "without agreement", page, "Why this stage", "There is no active revenue agreement yet, so contacts have no score.", "Timeline")

	activateAgreement(t, a, "2026-Q1")
	page = text(c.get(path).body)
	mustContain(t, "scores", page, "Fit", "Engagement", "Agreement definitions", "Fit rules", "Engagement rules", "Under the revenue agreement, version")
	// The demo moved this contact to MQL on its webinar rules.
	mustContain(t, "why MQL", page, "Moved from", "to MQL.", "Rules that fired", "Webinar Attended")
}

func TestStaticFilesHaveHashedCachedURLs(t *testing.T) {
	a := newApp(t)
	c := a.client("es")
	page := c.get("/signin").body
	m := regexpFind(`href="(/static/app\.[0-9a-f]{10}\.css)"`, page)
	if m == "" {
		t.Fatalf("no hashed stylesheet URL in the sign-in page")
	}
	res := c.get(m)
	if res.status != http.StatusOK || !strings.Contains(res.header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(res.header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %q %q", res.status, res.header.Get("Cache-Control"), res.header.Get("Content-Type"))
	}
	if res := c.get("/static/app.0000000000.css"); res.status != http.StatusNotFound {
		t.Errorf("stale asset URL: %d, want 404", res.status)
	}
	if csp := res.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
}

func TestUnknownPagesAndAPIStayApart(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleManager, "en")
	res := c.get("/no/such/page")
	if res.status != http.StatusNotFound || !strings.Contains(text(res.body), "The page you are looking for does not exist") {
		t.Errorf("unknown page: %d", res.status)
	}
	if res := c.get("/contacts/999999"); res.status != http.StatusNotFound {
		t.Errorf("unknown contact: %d", res.status)
	}
	// The API and ingestion keep their JSON errors.
	for _, p := range []string{"/api/v1/nothing", "/v1/nothing"} {
		res := c.get(p)
		if res.status != http.StatusNotFound || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: %d %s", p, res.status, res.header.Get("Content-Type"))
		}
	}
	if res := c.get("/v1/track"); res.status != http.StatusMethodNotAllowed || res.header.Get("Allow") != "POST" {
		t.Errorf("GET /v1/track: %d Allow %q, want 405 Allow POST", res.status, res.header.Get("Allow"))
	}
	if res := c.get("/healthz"); res.status != http.StatusOK {
		t.Errorf("healthz: %d", res.status)
	}
}

func TestTimelinePagesWithoutGapsOrRepeats(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleMarketing, "en")
	ctx := context.Background()
	// The contact with the longest history among the customers.
	cs, _, err := a.store.Contacts(ctx, alinea.ContactFilter{Stage: alinea.StageCustomer, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var busiest alinea.Contact
	most := 0
	for _, ct := range cs {
		items, err := a.store.Timeline(ctx, alinea.TimelineQuery{ContactID: ct.ID, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(items) > most {
			busiest, most = ct, len(items)
		}
	}
	if most <= 30 {
		t.Fatalf("no customer has more than 30 timeline entries (most: %d)", most)
	}
	path := contactPath(busiest.ID)
	seen := 0
	for page, i := path, 0; page != ""; i++ {
		res := c.get(page)
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", page, res.status)
		}
		seen += strings.Count(res.body, `<li class="tl tl-`)
		page = html.UnescapeString(regexpFind(`<p class="more"><a class="btn" href="([^"]+)"`, res.body))
		if i > most {
			t.Fatal("the timeline does not end")
		}
	}
	if seen != most {
		t.Errorf("paged through %d timeline entries, want %d", seen, most)
	}
}
