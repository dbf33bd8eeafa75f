package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
)

// TestBrowserInbox signs a sales rep in, watches a lead's SLA countdown
// tick, accepts one lead with one click and sends another back with a
// reason, in a real Chromium; it keeps screenshots of the inbox and the SLA
// report in both languages.
func TestBrowserInbox(t *testing.T) {
	w := newHandoffWorld(t)
	fresh, other, late := w.handoffOf(t, w.fresh), w.handoffOf(t, w.other), w.handoffOf(t, w.late)
	var carlos string
	for _, u := range w.a.users {
		if u.Email == w.carlos.Email {
			carlos = u.Password
		}
	}
	ctx := newBrowser(t, "es-ES,es")
	card := func(id int64) string { return fmt.Sprintf("#lead-%d", id) }

	run(t, ctx, "sign in",
		chromedp.Navigate(w.a.url+"/signin?next=%2Finbox"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), w.carlos.Email),
		chromedp.SendKeys(chromedp.ID("password"), carlos),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		chromedp.WaitVisible(chromedp.CSS(card(fresh.ID))))
	if got := textOf(t, ctx, "h1"); got != "Bandeja de leads" {
		t.Errorf("inbox heading %q", got)
	}
	if got := textOf(t, ctx, card(fresh.ID)+" .countdown-text"); got != "8 h hábiles" {
		t.Errorf("Lucía's countdown reads %q, want 8 h hábiles", got)
	}
	if got := textOf(t, ctx, card(late.ID)+" .countdown-text"); !strings.HasPrefix(got, "vencido hace 1 h") {
		t.Errorf("the late lead's countdown reads %q", got)
	}
	overdue := get(t, ctx, "late card marked", chromedp.Evaluate[bool](fmt.Sprintf(
		`document.querySelector(%q).classList.contains("is-overdue") && !document.querySelector(%q).hidden`, card(late.ID), card(late.ID)+" .overdue-badge")))
	if !overdue {
		t.Error("the late lead is not marked overdue")
	}
	// The office is open (Tuesday noon in Madrid): the countdown ticks.
	run(t, ctx, "countdown ticks", waitFor(fmt.Sprintf(`Number(document.querySelector(%q).dataset.live) < 28799`, card(fresh.ID)+" [data-countdown]")))
	shot(t, ctx, "inbox-es")

	// One click accepts.
	run(t, ctx, "accept",
		chromedp.Click(chromedp.CSS(card(fresh.ID)+" .accept-form button")),
		waitFor(loaded(fmt.Sprintf("h=%d", fresh.ID))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := textOf(t, ctx, ".notice"); got != "Has aceptado a Lucía Pérez: ahora es SAL." {
		t.Errorf("accept notice %q", got)
	}
	if stage := w.stageOf(t, w.fresh); stage != alinea.StageSAL {
		t.Errorf("accepted contact in %s, want sal", stage)
	}

	// Rejecting asks for a reason from the agreement.
	run(t, ctx, "reject with a reason",
		chromedp.Click(chromedp.CSS(card(other.ID)+" details.reject summary")),
		chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("reason-%d", other.ID))),
		chromedp.SetValue(chromedp.ID(fmt.Sprintf("reason-%d", other.ID)), "not_ready"),
		chromedp.SendKeys(chromedp.ID(fmt.Sprintf("comment-%d", other.ID)), "Quieren hablar en otoño"),
		chromedp.Click(chromedp.CSS(card(other.ID)+" .reject-form button[type=submit]")),
		waitFor(loaded(fmt.Sprintf("h=%d", other.ID))),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if got := textOf(t, ctx, ".notice"); got != "Has devuelto a Jorge Martín a marketing (Aún no está listo para comprar)." {
		t.Errorf("reject notice %q", got)
	}
	if h := w.handoffOf(t, w.other); h.Status != alinea.HandoffRejected || h.ReasonCode != "not_ready" || h.Comment != "Quieren hablar en otoño" {
		t.Errorf("rejected handoff: %s %q %q", h.Status, h.ReasonCode, h.Comment)
	}
	if got := textOf(t, ctx, "#inbox-decided tbody"); !strings.Contains(got, "Jorge Martín") || !strings.Contains(got, "Lucía Pérez") {
		t.Errorf("recently decided: %q", got)
	}

	run(t, ctx, "report in Spanish",
		chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/reports/sla"]`)),
		chromedp.WaitVisible(chromedp.ID("terms-chart")))
	if got := textOf(t, ctx, "h1"); got != "Cumplimiento de los SLA" {
		t.Errorf("report heading %q", got)
	}
	shot(t, ctx, "sla-report-es")

	run(t, ctx, "switch to English",
		chromedp.Click(chromedp.CSS(`.topbar form.langswitch button[value="en"]`)),
		waitFor(`document.documentElement.lang === "en" && document.readyState === "complete"`),
		chromedp.WaitVisible(chromedp.ID("terms-chart")))
	if got := textOf(t, ctx, "h1"); got != "SLA compliance" {
		t.Errorf("report heading in English %q", got)
	}
	shot(t, ctx, "sla-report-en")

	run(t, ctx, "inbox in English",
		chromedp.Navigate(w.a.url+"/inbox"),
		chromedp.WaitVisible(chromedp.CSS(card(late.ID))))
	if got := textOf(t, ctx, card(late.ID)+" .countdown-text"); !strings.HasPrefix(got, "overdue by 1 h") {
		t.Errorf("the late lead's countdown in English reads %q", got)
	}
	shot(t, ctx, "inbox-en")

	// At a phone's width nothing is wider than the screen.
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ name, path, ready string }{
		{"inbox-en-phone", "/inbox", card(late.ID)},
		{"sla-report-en-phone", "/reports/sla", "#terms-chart-compact"},
	} {
		run(t, ctx, "open "+p.path, chromedp.Navigate(w.a.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		overflow := get(t, ctx, "measure "+p.path, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if overflow > 0 {
			t.Errorf("%s is %dpx wider than a 390px screen", p.path, overflow)
		}
		shot(t, ctx, p.name)
	}
}
