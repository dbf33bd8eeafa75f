package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
)

// screenshotDir is where the browser tests leave full-page screenshots of
// the main pages (git-ignored).
const screenshotDir = "../test-artifacts/screenshots"

// chromium finds the browser: ALINEA_TEST_CHROMIUM (set by scripts/test.sh)
// or chromium on the PATH. In CI a missing browser fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("ALINEA_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("ALINEA_TEST_REQUIRE_POSTGRES") == "1" {
		t.Fatal("Chromium is required in CI: install Debian's chromium or set ALINEA_TEST_CHROMIUM (scripts/test.sh does both)")
	}
	t.Skip("Chromium not found; set ALINEA_TEST_CHROMIUM or install chromium to run the browser tests")
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile. The flags keep
// it from reaching the network on its own (updates, sync, QUIC probes):
// without them it stalls on machines without internet.
func newBrowser(t *testing.T, lang string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("accept-lang", lang),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// The first call starts the browser, bound to ctx: no timeout on it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	tctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	return tctx
}

// shot saves a full-page PNG of the current page.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a step's actions and names the step and the page on failure.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		url, _ := chromedp.Run(ctx, chromedp.Location())
		t.Fatalf("%s (at %s): %v", step, url, err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, step string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", step, err)
	}
	return v
}

func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.Join(strings.Fields(get(t, ctx, "read "+sel, chromedp.Text(chromedp.CSS(sel)))), " ")
}

// waitFor waits until a JavaScript expression is true on the page. It
// polls by hand: while a form's answer loads, the page being evaluated goes
// away, and that is no reason to stop waiting.
func waitFor(expr string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expr)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("waited 20s for %s (last error: %v)", expr, err)
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// loaded is true once the page at a URL containing part has loaded.
func loaded(part string) string {
	return fmt.Sprintf(`location.href.includes(%q) && document.readyState === "complete"`, part)
}

// TestBrowserWorkflow signs in, finds a contact, writes a note, moves the
// contact, switches to English and signs out, in a real Chromium, and
// keeps screenshots of each main page in both languages.
func TestBrowserWorkflow(t *testing.T) {
	a := newApp(t)
	ctx := newBrowser(t, "es-ES,es")
	u := a.user(alinea.RoleSales)
	contact := a.contactWith(alinea.StageSQL)
	path := contactPath(contact.ID)

	// Sign in: a wrong password first.
	run(t, ctx, "open sign-in", chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.ID("email")))
	shot(t, ctx, "signin-es")
	run(t, ctx, "wrong password",
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), "no es la contraseña"),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		chromedp.WaitVisible(chromedp.CSS(".form-error")))
	if got := textOf(t, ctx, ".form-error"); got != "El correo o la contraseña no son correctos." {
		t.Errorf("wrong password message %q", got)
	}
	typed := get(t, ctx, "email kept", chromedp.Value(chromedp.ID("email")))
	if typed != u.Email {
		t.Errorf("the email field holds %q after a failed sign-in, want %q", typed, u.Email)
	}
	run(t, ctx, "right password",
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		chromedp.WaitVisible(chromedp.CSS("svg.funnel-wide")))
	if got := textOf(t, ctx, "h1"); got != "El embudo compartido" {
		t.Errorf("home heading %q", got)
	}
	shot(t, ctx, "home-es")

	// Find the contact by name from the contacts list.
	run(t, ctx, "open contacts",
		chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/contacts"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.list")))
	shot(t, ctx, "contacts-es")
	run(t, ctx, "search",
		chromedp.SendKeys(chromedp.ID("q"), contact.FirstName+" "+contact.LastName+"\n"),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`td.cell-name a[href="%s"]`, path))))
	rows := get(t, ctx, "count results", chromedp.Evaluate[int](`document.querySelectorAll("td.cell-name").length`))
	if rows < 1 || rows > 5 {
		t.Errorf("searching for %s %s lists %d contacts", contact.FirstName, contact.LastName, rows)
	}
	run(t, ctx, "open contact",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`td.cell-name a[href="%s"]`, path))),
		chromedp.WaitVisible(chromedp.ID("timeline")))
	if got := textOf(t, ctx, "h1"); got != strings.TrimSpace(contact.FirstName+" "+contact.LastName) {
		t.Errorf("contact heading %q", got)
	}
	shot(t, ctx, "contact-es")

	// A note appears at the top of the timeline.
	note := "Hablado con compras: quieren la propuesta antes del viernes."
	run(t, ctx, "add note",
		chromedp.SendKeys(chromedp.ID("note-body"), note),
		chromedp.Click(chromedp.CSS(`form.note-form button[type=submit]`)),
		waitFor(loaded("saved=note")))
	if got := textOf(t, ctx, ".timeline li:first-child"); !strings.Contains(got, note) {
		t.Errorf("first timeline entry %q lacks the note", got)
	}

	// A backwards move is refused next to the form, keeping the reason.
	run(t, ctx, "backwards move",
		chromedp.SetValue(chromedp.ID("stage-to"), "mql"),
		chromedp.SendKeys(chromedp.ID("stage-reason"), "volvemos a nutrirlo"),
		chromedp.Click(chromedp.CSS(`#stage button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("stage-error")))
	if got := textOf(t, ctx, "#stage-error"); !strings.HasPrefix(got, "Un contacto no puede volver de SQL a MQL.") {
		t.Errorf("backwards move message %q", got)
	}
	reason := get(t, ctx, "reason kept", chromedp.Value(chromedp.ID("stage-reason")))
	if reason != "volvemos a nutrirlo" {
		t.Errorf("reason field holds %q after the error", reason)
	}

	// A forward move with a reason.
	run(t, ctx, "move to opportunity",
		chromedp.SetValue(chromedp.ID("stage-to"), "opportunity"),
		chromedp.Clear(chromedp.ID("stage-reason")),
		chromedp.SendKeys(chromedp.ID("stage-reason"), "Propuesta enviada"),
		chromedp.Click(chromedp.CSS(`#stage button[type=submit]`)),
		waitFor(loaded("saved=stage")))
	if got := textOf(t, ctx, ".notice"); got != "Etapa cambiada a Oportunidad." {
		t.Errorf("stage notice %q", got)
	}
	if got := textOf(t, ctx, "#why"); !strings.Contains(got, "Pasó de SQL a Oportunidad.") || !strings.Contains(got, "Propuesta enviada") {
		t.Errorf("why this stage after the move: %q", got)
	}
	moved, err := a.store.Contact(context.Background(), contact.ID)
	if err != nil || moved.Stage != alinea.StageOpportunity {
		t.Errorf("stored stage %s (%v), want opportunity", moved.Stage, err)
	}

	// Switch to English: the same page, in English.
	run(t, ctx, "switch to English",
		chromedp.Click(chromedp.CSS(`.topbar form.langswitch button[value="en"]`)),
		waitFor(`document.documentElement.lang === "en" && document.readyState === "complete"`),
		chromedp.WaitVisible(chromedp.ID("timeline")))
	if got := textOf(t, ctx, "#timeline h2"); got != "Timeline" {
		t.Errorf("timeline heading in English: %q", got)
	}
	here := get(t, ctx, "location", chromedp.Location())
	if !strings.Contains(here, path) {
		t.Errorf("the language switch went to %s, want back to %s", here, path)
	}
	shot(t, ctx, "contact-en")
	run(t, ctx, "contacts in English", chromedp.Navigate(a.url+"/contacts"), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if got := textOf(t, ctx, "h1"); got != "Contacts" {
		t.Errorf("contacts heading in English: %q", got)
	}
	shot(t, ctx, "contacts-en")
	run(t, ctx, "home in English", chromedp.Navigate(a.url+"/"), chromedp.WaitVisible(chromedp.CSS("svg.funnel-wide")))
	if got := textOf(t, ctx, "h1"); got != "The shared funnel" {
		t.Errorf("home heading in English: %q", got)
	}
	shot(t, ctx, "home-en")

	// Sign out: back to the sign-in page, still in English.
	run(t, ctx, "sign out",
		chromedp.Click(chromedp.CSS(`form.signout button`)),
		chromedp.WaitVisible(chromedp.ID("email")))
	if got := textOf(t, ctx, ".notice"); got != "You have signed out." {
		t.Errorf("sign-out notice %q", got)
	}
	shot(t, ctx, "signin-en")
	run(t, ctx, "signed out for real", chromedp.Navigate(a.url+path), chromedp.WaitVisible(chromedp.ID("email")))
}

// TestBrowserPhoneWidth renders the main pages at a phone's width and
// checks that nothing is wider than the screen.
func TestBrowserPhoneWidth(t *testing.T) {
	a := newApp(t)
	ctx := newBrowser(t, "es-ES,es")
	u := a.user(alinea.RoleManager)
	contact := a.contactWith(alinea.StageCustomer)
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	run(t, ctx, "sign in",
		chromedp.Navigate(a.url+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		chromedp.WaitVisible(chromedp.CSS("svg.funnel-compact")))
	for _, p := range []struct{ name, path, ready string }{
		{"home-es-phone", "/", "svg.funnel-compact"},
		{"contacts-es-phone", "/contacts", "table.list"},
		{"contact-es-phone", contactPath(contact.ID), "#timeline"},
	} {
		run(t, ctx, "open "+p.path, chromedp.Navigate(a.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		overflow := get(t, ctx, "measure "+p.path, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if overflow > 0 {
			t.Errorf("%s is %dpx wider than a 390px screen", p.path, overflow)
		}
		shot(t, ctx, p.name)
	}
}
