package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
)

// browserSignIn signs a demo user in through the sign-in form.
func browserSignIn(t *testing.T, ctx context.Context, a *app, role alinea.Role) {
	t.Helper()
	u := a.user(role)
	run(t, ctx, "sign in as "+string(role),
		chromedp.Navigate(a.url+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		waitFor(`location.pathname === "/" && document.readyState === "complete"`))
}

// TestBrowserAccountsAndSettings walks the accounts list to an account and
// on to one of its contacts, then, as the admin, adds a user with a mistake,
// creates a write key whose secret is shown once, and revokes it; with
// screenshots of each page in Spanish and English.
func TestBrowserAccountsAndSettings(t *testing.T) {
	a := newApp(t)
	ctx := newBrowser(t, "es-ES,es")
	acc := a.dealAccount()
	if err := a.store.SetUserLocale(context.Background(), mustUserID(t, a, alinea.RoleAdmin), "es"); err != nil {
		t.Fatal(err)
	}
	browserSignIn(t, ctx, a, alinea.RoleAdmin)

	// Accounts: from the navigation, search, open the account.
	run(t, ctx, "open accounts",
		chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/accounts"]`)),
		chromedp.WaitVisible(chromedp.CSS("table.accounts-list")))
	if got := textOf(t, ctx, "h1"); got != "Cuentas" {
		t.Errorf("accounts heading %q", got)
	}
	shot(t, ctx, "accounts-es")
	accountPath := fmt.Sprintf("/accounts/%d", acc.ID)
	run(t, ctx, "search an account",
		chromedp.SendKeys(chromedp.ID("q"), acc.Name+"\n"),
		waitFor(loaded("q=")),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`td.cell-name a[href="%s"]`, accountPath))))
	rows := get(t, ctx, "count results", chromedp.Evaluate[int](`document.querySelectorAll("td.cell-name").length`))
	if rows != 1 {
		t.Errorf("searching for %q lists %d accounts", acc.Name, rows)
	}
	run(t, ctx, "open the account",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`td.cell-name a[href="%s"]`, accountPath))),
		chromedp.WaitVisible(chromedp.ID("summary")))
	if got := textOf(t, ctx, "h1"); got != acc.Name {
		t.Errorf("account heading %q, want %q", got, acc.Name)
	}
	shot(t, ctx, "account-es")
	contactHref := get(t, ctx, "first contact", chromedp.AttributeValue(chromedp.CSS(`#contacts td.cell-name a`), "href")).Value
	run(t, ctx, "open one of its contacts",
		chromedp.Click(chromedp.CSS(`#contacts td.cell-name a`)),
		chromedp.WaitVisible(chromedp.ID("timeline")))
	if here := get(t, ctx, "location", chromedp.Location()); !strings.HasSuffix(here, contactHref) {
		t.Errorf("the contact link went to %s, want %s", here, contactHref)
	}
	run(t, ctx, "back to the account from the contact's company",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`.props a[href="%s"]`, accountPath))),
		chromedp.WaitVisible(chromedp.ID("summary")))

	// Settings: a user form with mistakes keeps what was typed.
	run(t, ctx, "open settings",
		chromedp.Click(chromedp.CSS(`a.settings-link[href="/settings"]`)),
		chromedp.WaitVisible(chromedp.ID("add-user")))
	shot(t, ctx, "settings-users-es")
	run(t, ctx, "add a user with a short password",
		chromedp.SendKeys(chromedp.ID("user-name"), "Sofía Herrera"),
		chromedp.SendKeys(chromedp.ID("user-email"), "sofia.herrera@vertice.example"),
		chromedp.SetValue(chromedp.ID("user-role"), "sales"),
		chromedp.SendKeys(chromedp.ID("user-password"), "corta"),
		chromedp.Click(chromedp.CSS(`#add-user button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("user-password-error")))
	if got := textOf(t, ctx, "#user-password-error"); got != "La contraseña necesita al menos 10 caracteres." {
		t.Errorf("password error %q", got)
	}
	kept := get(t, ctx, "typed name", chromedp.Value(chromedp.ID("user-name")))
	role := get(t, ctx, "chosen role", chromedp.Value(chromedp.ID("user-role")))
	password := get(t, ctx, "password", chromedp.Value(chromedp.ID("user-password")))
	if kept != "Sofía Herrera" || role != "sales" || password != "" {
		t.Errorf("after the error the form holds name %q, role %q, password %q; want the name and role kept and the password empty", kept, role, password)
	}
	run(t, ctx, "fix the password",
		chromedp.SendKeys(chromedp.ID("user-password"), "una-clave-larga"),
		chromedp.Click(chromedp.CSS(`#add-user button[type=submit]`)),
		waitFor(loaded("done=created")))
	if got := textOf(t, ctx, ".notice"); got != "Sofía Herrera ya puede iniciar sesión." {
		t.Errorf("created notice %q", got)
	}

	// A write key: the secret is shown once, with a copy button.
	run(t, ctx, "open write keys",
		chromedp.Click(chromedp.CSS(`.settings-tabs a[href="/settings/writekeys"]`)),
		chromedp.WaitVisible(chromedp.ID("add-key")),
		chromedp.SendKeys(chromedp.ID("key-name"), "Tienda online"),
		chromedp.Click(chromedp.CSS(`#add-key button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-secret")))
	secret := get(t, ctx, "secret", chromedp.Value(chromedp.ID("secret-value")))
	if !strings.HasPrefix(secret, "aln_wk_") {
		t.Fatalf("the page shows %q as the new secret", secret)
	}
	copyVisible := get(t, ctx, "copy button", chromedp.Evaluate[bool](`!document.querySelector("button[data-copy]").hidden`))
	if !copyVisible {
		t.Error("the copy button stays hidden on a secure page")
	}
	if k, err := a.store.WriteKeyBySecret(context.Background(), secret); err != nil || k.Name != "Tienda online" {
		t.Errorf("the shown secret is not the stored key: %+v %v", k, err)
	}
	run(t, ctx, "reload write keys",
		chromedp.Navigate(a.url+"/settings/writekeys"),
		chromedp.WaitVisible(chromedp.ID("add-key")))
	html := get(t, ctx, "page source", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if strings.Contains(html, secret) {
		t.Error("the secret is shown again after reloading")
	}
	// Revoke it, accepting the confirmation.
	keys, _ := a.store.WriteKeys(context.Background())
	run(t, ctx, "revoke the key",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#writekey-%d button[type=submit]`, keys[0].ID))),
		waitFor(loaded("done=revoked")))
	if got := textOf(t, ctx, ".notice"); !strings.HasPrefix(got, "La clave de escritura «Tienda online» está revocada") {
		t.Errorf("revoked notice %q", got)
	}
	if _, err := a.store.WriteKeyBySecret(context.Background(), secret); alinea.ErrorCode(err) != alinea.EUNAUTHORIZED {
		t.Errorf("the revoked key still works: %v", err)
	}

	run(t, ctx, "open API keys",
		chromedp.Click(chromedp.CSS(`.settings-tabs a[href="/settings/apikeys"]`)),
		chromedp.WaitVisible(chromedp.ID("add-key")))
	shot(t, ctx, "settings-apikeys-es")

	// The same pages in English.
	run(t, ctx, "switch to English",
		chromedp.Click(chromedp.CSS(`.topbar form.langswitch button[value="en"]`)),
		waitFor(`document.documentElement.lang === "en" && document.readyState === "complete"`),
		chromedp.WaitVisible(chromedp.ID("add-key")))
	run(t, ctx, "create an API key",
		chromedp.SetValue(chromedp.ID("key-user"), fmt.Sprint(mustUserID(t, a, alinea.RoleManager))),
		chromedp.SendKeys(chromedp.ID("key-name"), "Weekly reports"),
		chromedp.Click(chromedp.CSS(`#add-key button[type=submit]`)),
		chromedp.WaitVisible(chromedp.ID("new-secret")))
	if got := textOf(t, ctx, "#new-secret .secret-warning"); got != "Copy it now: for your security it will not be shown again." {
		t.Errorf("secret warning in English %q", got)
	}
	shot(t, ctx, "settings-apikeys-en")
	for _, p := range []struct{ name, path, ready, heading string }{
		{"settings-users-en", "/settings/users", "#add-user", "Settings"},
		{"accounts-en", "/accounts", "table.accounts-list", "Accounts"},
		{"account-en", accountPath, "#summary", acc.Name},
	} {
		run(t, ctx, "open "+p.path, chromedp.Navigate(a.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		if got := textOf(t, ctx, "h1"); got != p.heading {
			t.Errorf("%s heading %q, want %q", p.path, got, p.heading)
		}
		shot(t, ctx, p.name)
	}
}

// TestBrowserAccountsPhoneWidth checks that the accounts and settings pages
// fit a phone's screen.
func TestBrowserAccountsPhoneWidth(t *testing.T) {
	a := newApp(t)
	ctx := newBrowser(t, "es-ES,es")
	acc := a.dealAccount()
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	browserSignIn(t, ctx, a, alinea.RoleAdmin)
	for _, p := range []struct{ name, path, ready string }{
		{"accounts-es-phone", "/accounts", "table.accounts-list"},
		{"account-es-phone", fmt.Sprintf("/accounts/%d", acc.ID), "#summary"},
		{"settings-users-es-phone", "/settings/users", "#add-user"},
	} {
		run(t, ctx, "open "+p.path, chromedp.Navigate(a.url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready)))
		overflow := get(t, ctx, "measure "+p.path, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if overflow > 0 {
			t.Errorf("%s is %dpx wider than a 390px screen", p.path, overflow)
		}
		shot(t, ctx, p.name)
	}
}

func mustUserID(t *testing.T, a *app, role alinea.Role) int64 {
	t.Helper()
	u, err := a.store.UserByEmail(context.Background(), a.user(role).Email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
