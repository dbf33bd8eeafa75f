package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
)

// repOnPage is the HTML of one rep's card on the team page.
func repOnPage(t testing.TB, page string, userID int64) string {
	t.Helper()
	at := strings.Index(page, `id="rep-`+strconv.FormatInt(userID, 10)+`"`)
	if at < 0 {
		t.Fatalf("no card for user %d in:\n%s", userID, clip(text(page)))
	}
	rest := page[strings.LastIndex(page[:at], "<li "):]
	if end := strings.Index(rest[1:], `<li class="card rep`); end >= 0 {
		return rest[:end+1]
	}
	return rest
}

func teamPath(id int64, tail string) string { return "/team/" + strconv.FormatInt(id, 10) + tail }

func (a *app) repSettings(t testing.TB, userID int64) alinea.Rep {
	t.Helper()
	reps, err := a.store.Reps(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reps {
		if r.UserID == userID {
			return r
		}
	}
	t.Fatalf("user %d is not listed as a rep", userID)
	return alinea.Rep{}
}

func TestTeamManagerSetsCapacityAndManager(t *testing.T) {
	a := newApp(t)
	carlos, ana := a.handoffUser("carlos.ruiz@vertice.example"), a.handoffUser("ana.morales@vertice.example")
	for _, tc := range []struct {
		lang, capacity, shown, saved, noLimit string
	}{
		{"es", "5", "5", "Guardados la capacidad y el responsable de Carlos Ruiz.", "sin límite"},
		{"en", "12", "12", "Saved capacity and manager of Carlos Ruiz.", "no limit"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			m := a.signedIn(alinea.RoleManager, tc.lang)
			page := m.get("/team")
			if page.status != http.StatusOK {
				t.Fatalf("GET /team: %d\n%s", page.status, text(page.body))
			}
			// Nobody has a capacity in the demo yet, or it was just reset.
			mustContain(t, "capacity before", text(repOnPage(t, page.body, carlos.ID)), tc.noLimit)
			mustContain(t, "the team", text(page.body), "Carlos Ruiz", "Emily Clarke", "Ana Morales")
			mustNotContain(t, "the team", text(page.body), "Marta Gómez")

			res := m.postForm("/team", teamPath(carlos.ID, ""), url.Values{"capacity": {tc.capacity}, "manager": {strconv.FormatInt(ana.ID, 10)}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("POST settings: %d\n%s", res.status, text(res.body))
			}
			if got := a.repSettings(t, carlos.ID); strconv.Itoa(got.Capacity) != tc.capacity || got.ManagerID != ana.ID {
				t.Errorf("stored settings = capacity %d manager %d, want %s and %d", got.Capacity, got.ManagerID, tc.capacity, ana.ID)
			}
			page = m.get(res.location)
			mustContain(t, "saved", text(page.body), tc.saved)
			card := repOnPage(t, page.body, carlos.ID)
			mustContain(t, "capacity shown", card, `id="capacity-`+strconv.FormatInt(carlos.ID, 10)+`">`+tc.shown+`<`,
				`id="manager-`+strconv.FormatInt(carlos.ID, 10)+`">Ana Morales<`)

			// Back to no limit.
			res = m.postForm("/team", teamPath(carlos.ID, ""), url.Values{"capacity": {""}, "manager": {"0"}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("POST settings back: %d\n%s", res.status, text(res.body))
			}
			if got := a.repSettings(t, carlos.ID); got.Capacity != 0 || got.ManagerID != 0 {
				t.Errorf("stored settings = %+v, want no limit and no manager", got)
			}
		})
	}
}

func TestTeamInvalidSettingsKeepWhatWasTyped(t *testing.T) {
	a := newApp(t)
	carlos, ana := a.handoffUser("carlos.ruiz@vertice.example"), a.handoffUser("ana.morales@vertice.example")
	for _, tc := range []struct {
		lang, who          string
		id                 int64
		capacity, manager  string
		field, msg, echoed string
	}{
		{"es", "negative", carlos.ID, "-3", "0", "capacity", "La capacidad no puede ser negativa; usa 0 para sin límite.", `value="-3"`},
		{"en", "not a number", carlos.ID, "five", "0", "capacity", "Enter a whole number (0 means no limit).", `value="five"`},
		{"en", "too many", carlos.ID, "10001", "0", "capacity", "Capacity can be at most 10,000.", `value="10001"`},
		{"es", "own manager", ana.ID, "4", strconv.FormatInt(ana.ID, 10), "manager", "Ana Morales no puede ser su propio responsable.", `value="4"`},
		{"en", "unknown manager", carlos.ID, "4", "999999", "manager", "Choose a manager from the list.", `value="4"`},
	} {
		t.Run(tc.lang+" "+tc.who, func(t *testing.T) {
			m := a.signedIn(alinea.RoleManager, tc.lang)
			res := m.postForm("/team", teamPath(tc.id, ""), url.Values{"capacity": {tc.capacity}, "manager": {tc.manager}})
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("POST: %d, want 422\n%s", res.status, text(res.body))
			}
			card := repOnPage(t, res.body, tc.id)
			mustContain(t, "the form", card, tc.echoed, `id="`+tc.field+`-error-`+strconv.FormatInt(tc.id, 10)+`">`)
			mustContain(t, "the message", text(card), tc.msg)
			if tc.who == "own manager" {
				mustContain(t, "the manager typed", card, `value="`+tc.manager+`" selected`)
			}
			if got := a.repSettings(t, tc.id); got.Capacity != 0 || got.ManagerID != 0 {
				t.Errorf("invalid settings changed the rep: %+v", got)
			}
		})
	}
}

func TestTeamRepRecordsTheirOwnAbsence(t *testing.T) {
	a := newApp(t)
	carlos, emily := a.handoffUser("carlos.ruiz@vertice.example"), a.handoffUser("emily.clarke@vertice.example")
	for _, tc := range []struct {
		lang, in, away, saved, removed string
	}{
		{"es", "Disponible", "Fuera hasta el 20 mar 2026", "Ausencia registrada para Carlos Ruiz.", "Ausencia de Carlos Ruiz quitada."},
		{"en", "Available", "Away until Mar 20, 2026", "Absence recorded for Carlos Ruiz.", "Removed an absence of Carlos Ruiz."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := a.signedIn(alinea.RoleSales, tc.lang)
			page := c.get("/team")
			if page.status != http.StatusOK {
				t.Fatalf("GET /team: %d\n%s", page.status, text(page.body))
			}
			own := repOnPage(t, page.body, carlos.ID)
			mustContain(t, "before", text(own), tc.in)
			mustContain(t, "own card", own, `action="/team/`+strconv.FormatInt(carlos.ID, 10)+`/absences"`)
			// Read-only elsewhere: no settings forms, no absence form for Emily.
			mustNotContain(t, "a rep's page", page.body, `name="capacity"`, `action="/team/`+strconv.FormatInt(emily.ID, 10)+`/absences"`)

			// 16 March (today) to 20 March.
			res := c.postForm("/team", teamPath(carlos.ID, "/absences"), url.Values{"starts_on": {"2026-03-16"}, "ends_on": {"2026-03-20"}, "note": {"Feria"}})
			if res.status != http.StatusSeeOther {
				t.Fatalf("POST absence: %d\n%s", res.status, text(res.body))
			}
			page = c.get(res.location)
			mustContain(t, "saved", text(page.body), tc.saved)
			own = repOnPage(t, page.body, carlos.ID)
			mustContain(t, "away", text(own), tc.away, "Feria")
			mustContain(t, "away", own, `class="card rep is-away"`)
			mustContain(t, "away count", page.body, `id="away-count">1<`)

			rep := a.repSettings(t, carlos.ID)
			if len(rep.Absences) != 1 || rep.Absences[0].StartsOn != "2026-03-16" || rep.Absences[0].EndsOn != "2026-03-20" || rep.Absences[0].Note != "Feria" {
				t.Fatalf("stored absences = %+v", rep.Absences)
			}
			// A rep removes their own.
			res = c.postForm("/team", "/team/absences/"+strconv.FormatInt(rep.Absences[0].ID, 10)+"/delete", url.Values{})
			if res.status != http.StatusSeeOther {
				t.Fatalf("delete own absence: %d\n%s", res.status, text(res.body))
			}
			mustContain(t, "removed", text(c.get(res.location).body), tc.removed)
			if rep := a.repSettings(t, carlos.ID); len(rep.Absences) != 0 {
				t.Errorf("absences after removing = %+v", rep.Absences)
			}
		})
	}
}

func TestTeamRepCannotChangeOthers(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	carlos, emily := a.handoffUser("carlos.ruiz@vertice.example"), a.handoffUser("emily.clarke@vertice.example")
	emilys, err := a.store.AddAbsence(ctx, alinea.Absence{UserID: emily.ID, StartsOn: "2026-03-18", EndsOn: "2026-03-19"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lang, capacity, absence, del string
	}{
		{"es", "Tu rol (Ventas) no puede cambiar capacidades ni responsables; eso lo hace dirección. No se ha cambiado nada.",
			"Solo puedes registrar tus propias ausencias; las de otras personas las registra dirección.",
			"Solo puedes quitar tus propias ausencias. No se ha cambiado nada."},
		{"en", "Your role (Sales) cannot change capacities or managers; managers do that. Nothing was changed.",
			"You can only record your own absences; managers record other people's.",
			"You can only remove your own absences. Nothing was changed."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c := a.signedIn(alinea.RoleSales, tc.lang)
			page := c.get("/team")
			mustNotContain(t, "Emily's card for Carlos", repOnPage(t, page.body, emily.ID), "/delete")

			for _, id := range []int64{carlos.ID, emily.ID} {
				res := c.postForm("/team", teamPath(id, ""), url.Values{"capacity": {"3"}, "manager": {"0"}})
				if res.status != http.StatusForbidden {
					t.Errorf("a rep setting capacity of %d: %d, want 403", id, res.status)
				}
				mustContain(t, "capacity refused", text(res.body), tc.capacity)
			}
			res := c.postForm("/team", teamPath(emily.ID, "/absences"), url.Values{"starts_on": {"2026-03-23"}, "ends_on": {"2026-03-24"}})
			if res.status != http.StatusForbidden {
				t.Errorf("a rep recording another's absence: %d, want 403", res.status)
			}
			mustContain(t, "absence refused", text(res.body), tc.absence)
			res = c.postForm("/team", "/team/absences/"+strconv.FormatInt(emilys.ID, 10)+"/delete", url.Values{})
			if res.status != http.StatusForbidden {
				t.Errorf("a rep deleting another's absence: %d, want 403", res.status)
			}
			mustContain(t, "delete refused", text(res.body), tc.del)
		})
	}
	if got := a.repSettings(t, carlos.ID); got.Capacity != 0 {
		t.Errorf("refused settings changed Carlos: %+v", got)
	}
	if got := a.repSettings(t, emily.ID); got.Capacity != 0 || len(got.Absences) != 1 || got.Absences[0].ID != emilys.ID {
		t.Errorf("refused changes touched Emily: %+v", got)
	}
	// A manager may remove it.
	m := a.signedIn(alinea.RoleManager, "en")
	if res := m.postForm("/team", "/team/absences/"+strconv.FormatInt(emilys.ID, 10)+"/delete", url.Values{}); res.status != http.StatusSeeOther {
		t.Errorf("a manager deleting Emily's absence: %d\n%s", res.status, text(res.body))
	}
	if res := m.postForm("/team", "/team/absences/"+strconv.FormatInt(emilys.ID, 10)+"/delete", url.Values{}); res.status != http.StatusNotFound {
		t.Errorf("deleting it twice: %d, want 404", res.status)
	} else {
		mustContain(t, "gone", text(res.body), "That absence no longer exists")
	}
}

func TestTeamInvalidAbsenceKeepsWhatWasTyped(t *testing.T) {
	a := newApp(t)
	carlos := a.handoffUser("carlos.ruiz@vertice.example")
	for _, tc := range []struct {
		lang, who, starts, ends, field, msg string
	}{
		{"es", "not a date", "mañana", "2026-03-20", "starts", "Escribe una fecha con el formato AAAA-MM-DD."},
		{"en", "day/month", "2026-03-18", "20/03/2026", "ends", "Enter a date as YYYY-MM-DD."},
		{"en", "no such day", "2026-02-30", "2026-03-02", "starts", "Enter a date as YYYY-MM-DD."},
		{"es", "end before start", "2026-03-20", "2026-03-18", "ends", "El último día no puede ser anterior al primero."},
		{"en", "already over", "2026-03-02", "2026-03-06", "ends", "That absence is already over: its last day is before today."},
	} {
		t.Run(tc.lang+" "+tc.who, func(t *testing.T) {
			// The manager for some, the rep themself for others: same rules.
			c := a.signedIn(alinea.RoleManager, tc.lang)
			if tc.lang == "en" {
				c = a.signedIn(alinea.RoleSales, tc.lang)
			}
			res := c.postForm("/team", teamPath(carlos.ID, "/absences"), url.Values{"starts_on": {tc.starts}, "ends_on": {tc.ends}, "note": {"Congreso"}})
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("POST: %d, want 422\n%s", res.status, text(res.body))
			}
			card := repOnPage(t, res.body, carlos.ID)
			mustContain(t, "typed", card, `value="`+tc.starts+`"`, `value="`+tc.ends+`"`, `value="Congreso"`, "<details class=\"add-absence\" open>",
				`id="`+tc.field+`-error-`+strconv.FormatInt(carlos.ID, 10)+`">`)
			mustContain(t, "message", text(card), tc.msg)
			if got := a.repSettings(t, carlos.ID); len(got.Absences) != 0 {
				t.Errorf("an invalid absence was stored: %+v", got.Absences)
			}
		})
	}
}

// TestTeamAwayTodayInTheAgreementsZone: just after midnight in Madrid it is
// still the day before in UTC; an absence starting "today" counts in
// Madrid's calendar, the agreement's.
func TestTeamAwayTodayInTheAgreementsZone(t *testing.T) {
	a := newApp(t)
	activateAgreement(t, a, "2026-Q1")
	emily := a.handoffUser("emily.clarke@vertice.example")
	if _, err := a.store.AddAbsence(context.Background(), alinea.Absence{UserID: emily.ID, StartsOn: "2026-03-17", EndsOn: "2026-03-17"}); err != nil {
		t.Fatal(err)
	}
	a.clock.Set(time.Date(2026, 3, 16, 22, 30, 0, 0, time.UTC)) // 23:30 in Madrid
	m := a.signedIn(alinea.RoleManager, "en")
	page := m.get("/team")
	mustContain(t, "the evening before", text(repOnPage(t, page.body, emily.ID)), "Available", "Mar 17, 2026")
	mustContain(t, "zone", text(page.body), "Europe/Madrid")

	a.clock.Set(time.Date(2026, 3, 16, 23, 30, 0, 0, time.UTC)) // 00:30 on the 17th in Madrid
	page = m.get("/team")
	mustContain(t, "just after midnight", text(repOnPage(t, page.body, emily.ID)), "Away until Mar 17, 2026")

	a.clock.Set(time.Date(2026, 3, 17, 23, 30, 0, 0, time.UTC)) // the 18th in Madrid: over and gone
	page = a.signedIn(alinea.RoleManager, "en").get("/team")
	mustNotContain(t, "the day after", text(repOnPage(t, page.body, emily.ID)), "Away until", "Mar 17, 2026")
}

func TestTeamIsNotForMarketing(t *testing.T) {
	a := newApp(t)
	carlos := a.handoffUser("carlos.ruiz@vertice.example")
	for _, tc := range []struct{ lang, msg string }{
		{"es", "El equipo comercial es de ventas y dirección: tu rol (Marketing) no recibe leads."},
		{"en", "The sales team page is for sales and managers: your role (Marketing) does not receive leads."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			m := a.signedIn(alinea.RoleMarketing, tc.lang)
			res := m.get("/team")
			if res.status != http.StatusForbidden {
				t.Errorf("marketing opening /team: %d, want 403", res.status)
			}
			mustContain(t, "refused", text(res.body), tc.msg)
			res = m.postForm("/", teamPath(carlos.ID, "/absences"), url.Values{"starts_on": {"2026-03-20"}, "ends_on": {"2026-03-20"}})
			if res.status != http.StatusForbidden {
				t.Errorf("marketing recording an absence: %d, want 403", res.status)
			}
			mustContain(t, "refused", text(res.body), tc.msg)
			mustNotContain(t, "marketing's report", m.get("/reports/sla").body, `href="/team"`)
		})
	}
	if got := a.repSettings(t, carlos.ID); len(got.Absences) != 0 {
		t.Errorf("marketing's absence was stored: %+v", got.Absences)
	}
}

func TestTeamLinkedFromTheManagersInbox(t *testing.T) {
	a := newApp(t)
	mustContain(t, "manager's inbox", a.signedIn(alinea.RoleManager, "es").get("/inbox").body, `href="/team"`, "Equipo y ausencias")
	mustContain(t, "admin's inbox", a.signedIn(alinea.RoleAdmin, "en").get("/inbox").body, `href="/team"`, "Team and absences")
	rep := a.signedIn(alinea.RoleSales, "en")
	mustNotContain(t, "a rep's inbox", rep.get("/inbox").body, `href="/team"`)
	mustContain(t, "a rep's report", rep.get("/reports/sla").body, `href="/team"`)
	mustNotContain(t, "the navigation", rep.get("/").body, `href="/team"`)
}
