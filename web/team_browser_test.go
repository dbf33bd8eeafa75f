package web_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
)

// TestBrowserTeam has a manager find the team page from the inbox and
// record a week of vacation for a rep, in a real Chromium; it keeps
// screenshots of the page in both languages.
func TestBrowserTeam(t *testing.T) {
	a := newApp(t)
	carlos := a.handoffUser("carlos.ruiz@vertice.example")
	manager := a.user(alinea.RoleManager)
	card := fmt.Sprintf("#rep-%d", carlos.ID)
	ctx := newBrowser(t, "es-ES,es")

	run(t, ctx, "sign in",
		chromedp.Navigate(a.url+"/signin?next=%2Finbox"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), manager.Email),
		chromedp.SendKeys(chromedp.ID("password"), manager.Password),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		chromedp.WaitVisible(chromedp.ID("team-link")),
		chromedp.Click(chromedp.ID("team-link")),
		chromedp.WaitVisible(chromedp.CSS(card)))
	if got := textOf(t, ctx, "h1"); got != "Equipo comercial" {
		t.Errorf("team heading %q", got)
	}
	if got := textOf(t, ctx, card+" .presence"); got != "Disponible" {
		t.Errorf("Carlos before his vacation: %q", got)
	}

	run(t, ctx, "record a vacation",
		chromedp.Click(chromedp.CSS(card+" details.add-absence summary")),
		chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("starts-%d", carlos.ID))),
		chromedp.SetValue(chromedp.ID(fmt.Sprintf("starts-%d", carlos.ID)), "2026-03-16"),
		chromedp.SetValue(chromedp.ID(fmt.Sprintf("ends-%d", carlos.ID)), "2026-03-20"),
		chromedp.SendKeys(chromedp.ID(fmt.Sprintf("note-%d", carlos.ID)), "Vacaciones"),
		chromedp.Click(chromedp.CSS(card+" .absence-form button[type=submit]")),
		waitFor(loaded("saved=absence")),
		chromedp.WaitVisible(chromedp.ID("team-notice")))
	if got := textOf(t, ctx, "#team-notice"); got != "Ausencia registrada para Carlos Ruiz." {
		t.Errorf("notice %q", got)
	}
	if got := textOf(t, ctx, card+" .presence"); got != "Fuera hasta el 20 mar 2026" {
		t.Errorf("Carlos on vacation: %q", got)
	}
	if got := textOf(t, ctx, card+" .absence"); got != "16 mar 2026 – 20 mar 2026 5 días · Vacaciones Quitar Carlos Ruiz 16 mar 2026" {
		t.Errorf("Carlos's absences: %q", got)
	}
	if rep := a.repSettings(t, carlos.ID); len(rep.Absences) != 1 || rep.Absences[0].EndsOn != "2026-03-20" {
		t.Errorf("stored absences: %+v", rep.Absences)
	}
	get(t, ctx, "scroll to the top", chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`))
	shot(t, ctx, "team-es")

	run(t, ctx, "switch to English",
		chromedp.Click(chromedp.CSS(`.topbar form.langswitch button[value="en"]`)),
		waitFor(`document.documentElement.lang === "en" && document.readyState === "complete"`),
		chromedp.WaitVisible(chromedp.CSS(card)))
	if got := textOf(t, ctx, card+" .presence"); got != "Away until Mar 20, 2026" {
		t.Errorf("Carlos on vacation in English: %q", got)
	}
	get(t, ctx, "scroll to the top", chromedp.Evaluate[bool](`window.scrollTo(0, 0), true`))
	shot(t, ctx, "team-en")

	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(a.url+"/team"), chromedp.WaitVisible(chromedp.CSS(card)))
	if overflow := get(t, ctx, "measure /team", chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`)); overflow > 0 {
		t.Errorf("/team is %dpx wider than a 390px screen", overflow)
	}
}
