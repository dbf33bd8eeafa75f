package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
)

// handoffWorld is the demo app with the example agreement active (Madrid
// business hours, leads routed by country) and leads handed to sales:
//
//   - late: Spanish, routed to Carlos on Monday 16 March 2026 at 11:00 in
//     Madrid and never decided, 1 business hour overdue by now;
//   - fresh, other: Spanish, routed to Carlos now (Tuesday 12:00 in Madrid),
//     8 business hours left;
//   - british: to Emily or Carlos by the english_speaking rule;
//   - french: no rule matches, so it waits in the fallback queue.
type handoffWorld struct {
	a                          *app
	carlos, emily, ana, marta  alinea.User
	late, fresh, other, french int64
	british                    int64
}

// tuesday is "now" in the handoff tests: 17 March 2026, 12:00 in Madrid.
var tuesday = anchor.Add(25 * time.Hour)

func newHandoffWorld(t testing.TB) *handoffWorld {
	t.Helper()
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	w := &handoffWorld{a: a}
	w.carlos, w.emily = a.handoffUser("carlos.ruiz@vertice.example"), a.handoffUser("emily.clarke@vertice.example")
	w.ana, w.marta = a.handoffUser("ana.morales@vertice.example"), a.handoffUser("marta.gomez@vertice.example")

	w.late = w.mql(t, "Tomás", "Vidal", "tomas.vidal@cliente.es", "ES", "webinar")
	w.sweep(t)
	a.clock.Set(tuesday)
	w.fresh = w.mql(t, "Lucía", "Pérez", "lucia.perez@cliente.es", "ES", "webinar")
	w.other = w.mql(t, "Jorge", "Martín", "jorge.martin@cliente.es", "ES", "paid_search")
	w.british = w.mql(t, "Oliver", "Hughes", "oliver.hughes@client.co.uk", "GB", "webinar")
	w.french = w.mql(t, "Jean", "Dupont", "jean.dupont@client.fr", "FR", "referral")
	w.sweep(t)
	return w
}

func (a *app) handoffUser(email string) alinea.User {
	a.t.Helper()
	u, err := a.store.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// signedInAs signs a demo user in, in a language made their own.
func (a *app) signedInAs(email, lang string) *client {
	a.t.Helper()
	for _, u := range a.users {
		if u.Email != email {
			continue
		}
		stored := a.handoffUser(email)
		if err := a.store.SetUserLocale(context.Background(), stored.ID, lang); err != nil {
			a.t.Fatal(err)
		}
		c := a.client(lang)
		c.signIn(u)
		return c
	}
	a.t.Fatalf("the demo has no user %s", email)
	return nil
}

// mql creates a contact and moves it to mql as marketing does.
func (w *handoffWorld) mql(t testing.TB, first, last, email, country, source string) int64 {
	t.Helper()
	ctx := context.Background()
	actor := alinea.Actor{Type: alinea.ActorUser, UserID: w.marta.ID, Role: alinea.RoleMarketing}
	c, err := w.a.store.CreateContact(ctx, alinea.ContactFields{FirstName: &first, LastName: &last, Email: &email, Country: &country, Source: &source}, actor)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.store.Transition(ctx, c.ID, alinea.TransitionRequest{To: alinea.StageMQL, Actor: actor}); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (w *handoffWorld) sweep(t testing.TB) {
	t.Helper()
	if _, err := w.a.store.SweepHandoffs(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// handoffOf is a contact's latest handoff.
func (w *handoffWorld) handoffOf(t testing.TB, contactID int64) alinea.Handoff {
	t.Helper()
	list, _, err := w.a.store.Handoffs(context.Background(), alinea.HandoffFilter{ContactID: contactID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 {
		t.Fatalf("contact %d was never handed off", contactID)
	}
	return list[0]
}

func (w *handoffWorld) stageOf(t testing.TB, contactID int64) alinea.Stage {
	t.Helper()
	c, err := w.a.store.Contact(context.Background(), contactID)
	if err != nil {
		t.Fatal(err)
	}
	return c.Stage
}

func inboxPath(id int64, action string) string {
	return "/inbox/" + strconv.FormatInt(id, 10) + "/" + action
}

// leadCard is the HTML of one lead's card in the inbox.
func leadCard(page string, handoffID int64) string {
	m := regexp.MustCompile(`(?s)<li class="lead[^"]*" id="lead-` + strconv.FormatInt(handoffID, 10) + `".*?</li>`).FindString(page)
	return m
}

func TestHandoffWorldRoutesAsTheAgreementSays(t *testing.T) {
	w := newHandoffWorld(t)
	for _, c := range []struct {
		contact int64
		owner   int64
		status  alinea.HandoffStatus
	}{
		{w.late, w.carlos.ID, alinea.HandoffOpen},
		{w.fresh, w.carlos.ID, alinea.HandoffOpen},
		{w.other, w.carlos.ID, alinea.HandoffOpen},
		{w.french, 0, alinea.HandoffOpen},
	} {
		h := w.handoffOf(t, c.contact)
		if h.OwnerID != c.owner || h.Status != c.status {
			t.Errorf("contact %d: owner %d status %s, want owner %d %s", c.contact, h.OwnerID, h.Status, c.owner, c.status)
		}
	}
	if h := w.handoffOf(t, w.late); h.Clocks[0].Status != alinea.ClockBreached {
		t.Errorf("the late lead's clock is %s, want breached", h.Clocks[0].Status)
	}
}

func TestInboxShowsTheRepsLeadsWithTheirCountdown(t *testing.T) {
	w := newHandoffWorld(t)
	late, fresh, british, french := w.handoffOf(t, w.late), w.handoffOf(t, w.fresh), w.handoffOf(t, w.british), w.handoffOf(t, w.french)
	for _, tc := range []struct {
		lang                                       string
		left, overdue, rule, badge, title, country string
	}{
		{"es", "8 h hábiles", "vencido hace 1 h", "Te llega por la regla «spain».", "Vencido", "Tus leads pendientes", "España"},
		{"en", "8 h business time", "overdue by 1 h", "Routed to you by rule “spain”.", "Overdue", "Your open leads", "Spain"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := w.a.signedInAs(w.carlos.Email, tc.lang)
			res := c.get("/inbox")
			if res.status != http.StatusOK {
				t.Fatalf("GET /inbox: %d\n%s", res.status, text(res.body))
			}
			mustContain(t, "inbox", text(res.body), tc.title)
			card := leadCard(res.body, fresh.ID)
			if card == "" {
				t.Fatalf("no card for Lucía's lead in:\n%s", clip(text(res.body)))
			}
			mustContain(t, "fresh lead", text(card), "Lucía Pérez", tc.country, "webinar", tc.left, tc.rule, `contact.country == "ES"`)
			mustContain(t, "fresh lead", card, contactPath(w.fresh), `data-left="28800"`, `data-total="28800"`)
			mustNotContain(t, "fresh lead", card, "is-overdue")

			card = leadCard(res.body, late.ID)
			mustContain(t, "late lead", card, `class="lead is-overdue"`, `data-left="-3600"`)
			mustContain(t, "late lead", text(card), "Tomás Vidal", tc.overdue, tc.badge)

			// Carlos's leads and the fallback queue (any rep may take a
			// queued lead), not Emily's.
			if leadCard(res.body, french.ID) == "" {
				t.Error("a sales rep does not see the fallback queue's lead")
			}
			if british.OwnerID != w.carlos.ID && leadCard(res.body, british.ID) != "" {
				t.Error("Carlos sees Emily's lead")
			}
			// The agreement's reasons, in the reader's language.
			reason := map[string]string{"es": "Sin presupuesto", "en": "No budget"}[tc.lang]
			mustContain(t, "reject form", card, `<option value="no_budget">`+reason+`</option>`)
		})
	}
}

func TestInboxShowsManagersTheTeamAndTheQueue(t *testing.T) {
	w := newHandoffWorld(t)
	c := w.a.signedInAs(w.ana.Email, "es")
	res := c.get("/inbox")
	if res.status != http.StatusOK {
		t.Fatalf("GET /inbox: %d", res.status)
	}
	page := text(res.body)
	mustContain(t, "manager inbox", page, "Cola sin asignar «unassigned»", "Resto del equipo")
	queue := leadCard(res.body, w.handoffOf(t, w.french).ID)
	mustContain(t, "queued lead", text(queue), "Jean Dupont", "Francia", "Ninguna regla de reparto encaja: espera en la cola «unassigned».")
	team := leadCard(res.body, w.handoffOf(t, w.fresh).ID)
	mustContain(t, "team lead", text(team), "Lucía Pérez", "Carlos Ruiz")
	// Newest first: the French lead came after Lucía's.
	if strings.Index(res.body, `id="lead-`+strconv.FormatInt(w.handoffOf(t, w.other).ID, 10)+`"`) > strings.Index(res.body, `id="lead-`+strconv.FormatInt(w.handoffOf(t, w.fresh).ID, 10)+`"`) {
		t.Error("the team's leads are not newest first")
	}
}

func TestInboxAcceptMovesTheContactToSAL(t *testing.T) {
	w := newHandoffWorld(t)
	h := w.handoffOf(t, w.fresh)
	c := w.a.signedInAs(w.carlos.Email, "es")
	res := c.postForm("/inbox", inboxPath(h.ID, "accept"), url.Values{})
	if res.status != http.StatusSeeOther || res.location != "/inbox?h="+strconv.FormatInt(h.ID, 10) {
		t.Fatalf("accept: %d to %q\n%s", res.status, res.location, text(res.body))
	}
	if got := w.stageOf(t, w.fresh); got != alinea.StageSAL {
		t.Errorf("accepted contact is in %s, want sal", got)
	}
	if got := w.handoffOf(t, w.fresh); got.Status != alinea.HandoffAccepted || got.DecidedBy != w.carlos.ID {
		t.Errorf("handoff after accept: %s by %d", got.Status, got.DecidedBy)
	}
	page := c.get(res.location)
	mustContain(t, "after accept", text(page.body), "Has aceptado a Lucía Pérez: ahora es SAL.", "Decididos en los últimos 7 días")
	if leadCard(page.body, h.ID) != "" {
		t.Error("an accepted lead is still listed as open")
	}
	decided := regexp.MustCompile(`(?s)<tr class="decided-accepted">.*?</tr>`).FindString(page.body)
	mustContain(t, "decided row", text(decided), "Lucía Pérez", "Aceptado", "menos de 1 min")

	// Accepting again is refused, and says why.
	again := c.postForm("/inbox", inboxPath(h.ID, "accept"), url.Values{})
	if again.status != http.StatusConflict {
		t.Errorf("accepting twice: %d, want 409", again.status)
	}
	mustContain(t, "accepting twice", text(again.body), "Alguien ya decidió sobre Lucía Pérez (Aceptado). No se ha cambiado nada.")
}

func TestInboxRejectNeedsAReasonAndRecycles(t *testing.T) {
	w := newHandoffWorld(t)
	h := w.handoffOf(t, w.other)
	for _, tc := range []struct {
		lang, missing, unknown string
	}{
		{"es", "Elige un motivo para devolver a Jorge Martín a marketing", "Ese motivo no está en el acuerdo activo"},
		{"en", "Choose a reason to send Jorge Martín back to marketing", "That reason is not in the active agreement"},
	} {
		c := w.a.signedInAs(w.carlos.Email, tc.lang)
		res := c.postForm("/inbox", inboxPath(h.ID, "reject"), url.Values{"reason": {""}, "comment": {"Llamé dos veces"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: reject without a reason: %d", tc.lang, res.status)
		}
		card := leadCard(res.body, h.ID)
		mustContain(t, tc.lang+" reject without reason", text(card), tc.missing)
		mustContain(t, tc.lang+" reject without reason", card, "<details class=\"reject\" open>", ">Llamé dos veces</textarea>", `aria-invalid="true"`)
		res = c.postForm("/inbox", inboxPath(h.ID, "reject"), url.Values{"reason": {"too_expensive"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: reject with an unknown reason: %d", tc.lang, res.status)
		}
		mustContain(t, tc.lang+" unknown reason", text(leadCard(res.body, h.ID)), tc.unknown)
	}
	if got := w.handoffOf(t, w.other); got.Status != alinea.HandoffOpen {
		t.Fatalf("a refused rejection changed the handoff to %s", got.Status)
	}
	if got := w.stageOf(t, w.other); got != alinea.StageMQL {
		t.Fatalf("a refused rejection moved the contact to %s", got)
	}

	c := w.a.signedInAs(w.carlos.Email, "es")
	res := c.postForm("/inbox", inboxPath(h.ID, "reject"), url.Values{"reason": {"no_budget"}, "comment": {"Vuelven en septiembre"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("reject with a reason: %d\n%s", res.status, text(res.body))
	}
	got := w.handoffOf(t, w.other)
	if got.Status != alinea.HandoffRejected || got.ReasonCode != "no_budget" || got.Comment != "Vuelven en septiembre" {
		t.Errorf("rejected handoff: %s %q %q", got.Status, got.ReasonCode, got.Comment)
	}
	if stage := w.stageOf(t, w.other); stage != alinea.StageRecycled {
		t.Errorf("rejected contact is in %s, want recycled", stage)
	}
	page := c.get(res.location)
	mustContain(t, "after reject", text(page.body), "Has devuelto a Jorge Martín a marketing (Sin presupuesto).")
	decided := regexp.MustCompile(`(?s)<tr class="decided-rejected">.*?</tr>`).FindString(page.body)
	mustContain(t, "decided row", text(decided), "Jorge Martín", "Rechazado", "Sin presupuesto", "«Vuelven en septiembre»")
}

func TestInboxRefusesOtherRepsAndMarketing(t *testing.T) {
	w := newHandoffWorld(t)
	h := w.handoffOf(t, w.fresh)

	// Another rep: refused, named, nothing changes.
	emily := w.a.signedInAs(w.emily.Email, "en")
	res := emily.postForm("/inbox", inboxPath(h.ID, "accept"), url.Values{})
	if res.status != http.StatusForbidden {
		t.Errorf("Emily accepting Carlos's lead: %d, want 403", res.status)
	}
	mustContain(t, "other rep", text(res.body), "Lucía Pérez is assigned to Carlos Ruiz: only they or a manager can accept or reject it. Nothing was changed.")

	// Marketing: no inbox in the navigation, and a clear no.
	for _, tc := range []struct{ lang, msg, nav string }{
		{"es", "La bandeja de leads es de ventas: tu rol (Marketing) no acepta ni rechaza leads.", ">Bandeja<"},
		{"en", "The lead inbox belongs to sales: your role (Marketing) does not accept or reject leads.", ">Inbox<"},
	} {
		m := w.a.signedInAs(w.marta.Email, tc.lang)
		home := m.get("/")
		mustNotContain(t, "marketing's navigation", home.body, `href="/inbox"`)
		mustContain(t, "marketing's navigation", home.body, `href="/reports/sla"`)
		res := m.get("/inbox")
		if res.status != http.StatusForbidden {
			t.Errorf("%s: marketing opening the inbox: %d, want 403", tc.lang, res.status)
		}
		mustContain(t, "marketing inbox", text(res.body), tc.msg)
		res = m.postForm("/", inboxPath(h.ID, "accept"), url.Values{})
		if res.status != http.StatusForbidden {
			t.Errorf("%s: marketing accepting: %d, want 403", tc.lang, res.status)
		}
		mustContain(t, "marketing accepting", text(res.body), tc.msg)
		res = m.postForm("/", inboxPath(h.ID, "reject"), url.Values{"reason": {"bad_fit"}})
		if res.status != http.StatusForbidden {
			t.Errorf("%s: marketing rejecting: %d, want 403", tc.lang, res.status)
		}
	}
	if got := w.handoffOf(t, w.fresh); got.Status != alinea.HandoffOpen || w.stageOf(t, w.fresh) != alinea.StageMQL {
		t.Errorf("refused decisions changed the lead: %s, %s", got.Status, w.stageOf(t, w.fresh))
	}
	sales := w.a.signedInAs(w.carlos.Email, "es")
	mustContain(t, "sales navigation", sales.get("/").body, `href="/inbox"`)
}

// TestSLAReportMatchesTheStore decides some leads and checks that the
// report page shows the store's numbers, formatted for each language.
func TestSLAReportMatchesTheStore(t *testing.T) {
	w := newHandoffWorld(t)
	ctx := context.Background()
	carlos := w.carlos
	if _, err := w.a.store.AcceptHandoff(ctx, w.handoffOf(t, w.fresh).ID, carlos); err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.store.AcceptHandoff(ctx, w.handoffOf(t, w.late).ID, carlos); err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.store.RejectHandoff(ctx, w.handoffOf(t, w.other).ID, carlos, alinea.HandoffDecision{Reason: "bad_fit"}); err != nil {
		t.Fatal(err)
	}
	rep, err := w.a.store.SLAReport(ctx, "2026-03")
	if err != nil {
		t.Fatal(err)
	}
	var accept store.TermStats
	for _, ts := range rep.Terms {
		if ts.Term == "accept_mql" {
			accept = ts
		}
	}
	// Two decided on time (fresh, other), one late; the queued and British
	// leads still run.
	if accept.Met != 2 || accept.Breached != 1 {
		t.Fatalf("store: accept_mql = %+v", accept)
	}
	var carlosRow store.RepCompliance
	for _, r := range rep.Reps {
		if r.UserID == carlos.ID {
			carlosRow = r
		}
	}

	for _, tc := range []struct {
		lang, tag, term, reason, mqls, heading string
	}{
		{"es", "es", "Aceptar o rechazar en 8 h hábiles", "No encaja con nuestro cliente ideal", "de 20 MQL comprometidos", "Cumplimiento de los SLA"},
		{"en", "en", "Accept or reject within 8 business hours", "Not our ideal customer", "of 20 committed MQLs", "SLA compliance"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			p := message.NewPrinter(language.MustParse(tc.tag))
			// As text() reads them: a no-break space is a space.
			pct := func(r float64) string {
				return strings.Join(strings.Fields(p.Sprint(number.Percent(r, number.MaxFractionDigits(0)))), " ")
			}
			n := func(v int) string { return p.Sprint(number.Decimal(v)) }
			c := w.a.signedInAs(w.marta.Email, tc.lang)
			res := c.get("/reports/sla")
			if res.status != http.StatusOK {
				t.Fatalf("GET /reports/sla: %d\n%s", res.status, text(res.body))
			}
			page := text(res.body)
			mustContain(t, "report", page, tc.heading)
			// The default period is the current month.
			mustContain(t, "period", res.body, `<option value="2026-03" selected>`)

			row := regexp.MustCompile(`(?s)<tr data-term="accept_mql">.*?</tr>`).FindString(res.body)
			want := strings.Join([]string{tc.term, "accept_mql", n(accept.Total), n(accept.Met), n(accept.Breached), n(accept.Running), pct(accept.Compliance)}, " ")
			if got := text(row); got != want {
				t.Errorf("accept_mql row = %q, want %q", got, want)
			}
			mustContain(t, "term chart", res.body, `id="terms-chart"`)

			repRow := regexp.MustCompile(`(?s)<tr>\s*<th scope="row" data-label="[^"]*">Carlos Ruiz</th>.*?</tr>`).FindString(res.body)
			cells := strings.Fields(text(repRow))
			wantCells := []string{"Carlos", "Ruiz", n(carlosRow.Handoffs), n(carlosRow.Accepted), n(carlosRow.Rejected), n(carlosRow.Open)}
			if len(cells) < len(wantCells) || strings.Join(cells[:len(wantCells)], " ") != strings.Join(wantCells, " ") {
				t.Errorf("Carlos's row = %q, want it to start with %q", text(repRow), strings.Join(wantCells, " "))
			}
			if !strings.HasSuffix(text(repRow), pct(carlosRow.Compliance)) {
				t.Errorf("Carlos's row %q does not end with his compliance %s", text(repRow), pct(carlosRow.Compliance))
			}

			mustContain(t, "time to accept", res.body, `id="accept-hist"`)
			mustContain(t, "rejections", page, tc.reason)
			mustContain(t, "marketing delivery", page, n(rep.Marketing.Delivered)+" "+tc.mqls)
		})
	}

	c := w.a.signedInAs(w.marta.Email, "es")
	empty := c.get("/reports/sla?period=2025-01")
	mustContain(t, "empty period", text(empty.body), "No hubo traspasos a ventas ni relojes de SLA en ene 2025.", "Ventas no ha devuelto ningún lead a marketing en este periodo.")
	bad := c.get("/reports/sla?period=enero")
	if bad.status != http.StatusUnprocessableEntity {
		t.Errorf("a bad period: %d, want 422", bad.status)
	}
	mustContain(t, "bad period", text(bad.body), "«enero» no es un periodo válido")
	quarter := c.get("/reports/sla?period=2026-Q1")
	mustContain(t, "quarter", quarter.body, `<option value="2026-Q1" selected>`)
	mustContain(t, "quarter", text(quarter.body), "T1 2026", "de 60 MQL comprometidos")
}
