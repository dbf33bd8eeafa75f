package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/alinea-crm/alinea"
)

// routes is the UI's table of contents. Every POST is a form checked for
// its CSRF token by the gate; member pages send visitors to sign in.
func (ui *UI) routes(cfg Config, langs *locales, files *assets, views *views) {
	g := &gate{store: cfg.Store, langs: langs, views: views, log: cfg.Logger, secure: cfg.Secure}
	signIn := &signIn{store: cfg.Store, gate: g, views: views, limiter: newFailureLimiter(signInMaxFailures, signInWindow, cfg.Now), now: cfg.Now, log: cfg.Logger}
	language := &languageSwitch{store: cfg.Store, gate: g, langs: langs}
	home := &home{store: cfg.Store, views: views, now: cfg.Now}
	contacts := &contactList{store: cfg.Store, views: views}
	contact := &contactPage{store: cfg.Store, views: views, now: cfg.Now}

	ui.mux.Handle("GET /static/{file}", files)

	ui.mux.Handle("GET /signin", g.public(signIn.show))
	ui.mux.Handle("POST /signin", g.public(signIn.submit))
	ui.mux.Handle("POST /signout", g.member(signIn.signOut))
	ui.mux.Handle("POST /language", g.public(language.change))

	ui.mux.Handle("GET /{$}", g.member(home.show))
	ui.mux.Handle("GET /contacts", g.member(contacts.list))
	ui.mux.Handle("GET /contacts/{id}", g.member(contact.show))
	ui.mux.Handle("POST /contacts/{id}/notes", g.member(contact.addNote))
	ui.mux.Handle("POST /contacts/{id}/stage", g.member(contact.changeStage))

	ui.mux.Handle("/", g.public(notFound))
}

func notFound(w http.ResponseWriter, r *http.Request, v *visit) error {
	return alinea.Errorf(alinea.ENOTFOUND, "no page %s", r.URL.Path)
}

// navItem is a page in the top navigation. Only pages that exist are
// listed; Roles limits who sees one (everyone when empty; admin always).
type navItem struct {
	Key   string
	Href  string
	Roles []alinea.Role
}

// navigation is the top bar, in order.
var navigation = []navItem{
	{Key: "nav.home", Href: "/"},
	{Key: "nav.contacts", Href: "/contacts"},
}

// navFor is the navigation a role sees, with the current page marked.
func navFor(l *locale, role alinea.Role, path string) []navLink {
	return navLinks(navigation, l, role, path)
}

func navLinks(items []navItem, l *locale, role alinea.Role, path string) []navLink {
	var out []navLink
	for _, it := range items {
		if len(it.Roles) > 0 && role != alinea.RoleAdmin && !slices.Contains(it.Roles, role) {
			continue
		}
		current := path == it.Href || (it.Href != "/" && strings.HasPrefix(path, it.Href+"/"))
		out = append(out, navLink{Label: l.T(it.Key), Href: it.Href, Current: current})
	}
	return out
}
