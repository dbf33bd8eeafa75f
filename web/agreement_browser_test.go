package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/demo"
)

// TestBrowserAgreementSignedByTwoTeams has a marketing lead and a sales
// lead each sign a proposed version in a real Chromium, the sales lead
// activate it, and checks the agreement page shows it active with both
// signatures. It keeps screenshots of the agreement and of a draft with a
// problem, in Spanish and English.
func TestBrowserAgreementSignedByTwoTeams(t *testing.T) {
	a := newAgreementApp(t)
	activateAgreement(t, a, "2026-Q1")
	v := a.proposeAgreement(moreFitForSpain)
	ctx := newBrowser(t, "es-ES,es")
	mkt, sales := a.user(alinea.RoleMarketing), a.user(alinea.RoleSales)

	signIn := func(u demo.Credential) {
		t.Helper()
		run(t, ctx, "sign in as "+u.Email,
			chromedp.Navigate(a.url+"/signin"),
			chromedp.WaitVisible(chromedp.ID("email")),
			chromedp.SendKeys(chromedp.ID("email"), u.Email),
			chromedp.SendKeys(chromedp.ID("password"), u.Password),
			chromedp.Click(chromedp.CSS("button[type=submit].primary")),
			chromedp.WaitVisible(chromedp.CSS("nav.mainnav")))
	}
	signOut := func() {
		t.Helper()
		run(t, ctx, "sign out", chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.ID("email")))
	}
	sign := func(team string) {
		t.Helper()
		run(t, ctx, "open the agreement",
			chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/agreement"]`)),
			chromedp.WaitVisible(chromedp.CSS(".ag-pending a")))
		run(t, ctx, "review the proposed version",
			chromedp.Click(chromedp.CSS(".ag-pending a")),
			chromedp.WaitVisible(chromedp.CSS("button.ag-sign")))
		if got := textOf(t, ctx, "button.ag-sign"); got != "Firmar por "+team {
			t.Errorf("sign button %q, want %q", got, "Firmar por "+team)
		}
		run(t, ctx, "sign for "+team,
			chromedp.Click(chromedp.CSS("button.ag-sign")),
			waitFor(loaded("signed=1")))
		if got := textOf(t, ctx, ".notice"); got != "Firma registrada." {
			t.Errorf("notice after signing for %s: %q", team, got)
		}
	}

	signIn(mkt)
	sign("Marketing")
	// Marketing cannot activate alone: the button is not offered yet.
	if n := get(t, ctx, "count activate buttons", chromedp.Evaluate[int](`document.querySelectorAll("button.ag-activate").length`)); n != 0 {
		t.Errorf("activate offered with one signature")
	}
	signOut()

	signIn(sales)
	sign("Ventas")
	run(t, ctx, "activate",
		chromedp.Click(chromedp.CSS("button.ag-activate")),
		waitFor(loaded("activated=")),
		chromedp.WaitVisible(chromedp.CSS(".ag-summary")))
	summary := textOf(t, ctx, ".ag-summary")
	for _, want := range []string{fmt.Sprintf("Versión %d", v.ID), "Vigente", a.agreementSigner(alinea.RoleMarketing).Name, a.agreementSigner(alinea.RoleSales).Name} {
		if !strings.Contains(summary, want) {
			t.Errorf("the active agreement's summary lacks %q: %s", want, summary)
		}
	}
	if got := a.activeAgreement(); got.ID != v.ID || len(got.Signatures) != 2 {
		t.Errorf("stored: active %d with %d signatures, want %d with 2", got.ID, len(got.Signatures), v.ID)
	}
	shot(t, ctx, "agreement-es")

	// A draft from the active version, with a rule that does not compile:
	// the problem shows next to the editor, the text stays.
	run(t, ctx, "new draft",
		chromedp.Click(chromedp.CSS(`.page-head form[action="/agreement/drafts"] button`)),
		waitFor(loaded("created=1")),
		chromedp.WaitVisible(chromedp.ID("source")))
	draftURL, _, _ := strings.Cut(get(t, ctx, "location", chromedp.Location()), "?")
	src := get(t, ctx, "read the draft", chromedp.Value(chromedp.ID("source")))
	broken := strings.Replace(src, `when: 'account.employees >= 50 && account.employees <= 1000'`, `when: 'account.employees >= 50 && <= 1000'`, 1)
	if broken == src {
		t.Fatal("the example's company_size rule changed; update the test")
	}
	run(t, ctx, "validate a broken rule",
		chromedp.SetValue(chromedp.ID("source"), broken),
		chromedp.Click(chromedp.CSS(`button[formaction$="/validate"]`)),
		chromedp.WaitVisible(chromedp.CSS(".ag-problem-list")))
	if got := textOf(t, ctx, ".ag-problem-list"); !strings.Contains(got, "scoring.fit[2].when") || !strings.Contains(got, "Línea ") {
		t.Errorf("problem list %q", got)
	}
	if kept := get(t, ctx, "text kept", chromedp.Value(chromedp.ID("source"))); kept != broken {
		t.Errorf("the editor lost the typed text after validating")
	}
	// The location link selects the place in the editor.
	run(t, ctx, "go to the problem", chromedp.Click(chromedp.CSS("a.ag-goto")))
	selected := get(t, ctx, "selection", chromedp.Evaluate[string](`(function(s){return s.value.substring(s.selectionStart, s.selectionEnd)})(document.getElementById("source"))`))
	if !strings.HasPrefix(selected, "<= 1000") {
		t.Errorf("the problem link selected %q, want the text from the error on", selected)
	}
	shot(t, ctx, "agreement-draft-es")

	// The same pages in English.
	run(t, ctx, "switch to English",
		chromedp.Click(chromedp.CSS(`.topbar form.langswitch button[value="en"]`)),
		waitFor(`document.documentElement.lang === "en" && document.readyState === "complete"`))
	run(t, ctx, "draft in English", chromedp.Navigate(draftURL), chromedp.WaitVisible(chromedp.ID("source")))
	run(t, ctx, "validate in English",
		chromedp.SetValue(chromedp.ID("source"), broken),
		chromedp.Click(chromedp.CSS(`button[formaction$="/validate"]`)),
		chromedp.WaitVisible(chromedp.CSS(".ag-problem-list")))
	if got := textOf(t, ctx, ".ag-problems h3"); !strings.EqualFold(got, "1 problem keeps it from being proposed") {
		t.Errorf("problems heading in English: %q", got)
	}
	shot(t, ctx, "agreement-draft-en")
	run(t, ctx, "agreement in English", chromedp.Navigate(a.url+"/agreement"), chromedp.WaitVisible(chromedp.CSS(".ag-summary")))
	if got := textOf(t, ctx, "h1"); got != "Revenue agreement" {
		t.Errorf("agreement heading in English: %q", got)
	}
	shot(t, ctx, "agreement-en")

	// At a phone's width nothing is wider than the screen: wide tables
	// scroll inside their cards.
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	for _, p := range []struct{ name, path string }{
		{"agreement-en-phone", "/agreement"},
		{"agreement-version-en-phone", versionPath(v.ID) + "?backtest=1"},
	} {
		run(t, ctx, "open "+p.path, chromedp.Navigate(a.url+p.path), chromedp.WaitVisible(chromedp.ID("goals")))
		overflow := get(t, ctx, "measure "+p.path, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if overflow > 0 {
			t.Errorf("%s is %dpx wider than a 390px screen", p.path, overflow)
		}
		shot(t, ctx, p.name)
	}

	if st, _ := a.store.Agreement(context.Background(), v.ID); st.Status != agreement.StatusActive {
		t.Errorf("version %d is %s after the browser session", v.ID, st.Status)
	}
}
