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
	accounts := &accountList{store: cfg.Store, views: views}
	account := &accountPage{store: cfg.Store, views: views}
	settings := &settingsPages{store: cfg.Store, views: views}
	pipeline := &pipelinePage{store: cfg.Store, views: views, now: cfg.Now}
	agreements := newAgreementPages(cfg, views)
	imports := &importPages{store: cfg.Store, jobs: cfg.Jobs, views: views, now: cfg.Now, log: cfg.Logger}
	inbox := &inboxPage{store: cfg.Store, views: views, now: cfg.Now}
	slaReport := &slaReportPage{store: cfg.Store, views: views, now: cfg.Now}
	team := &teamPage{store: cfg.Store, views: views, now: cfg.Now}

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
	ui.mux.Handle("GET /accounts", g.member(accounts.list))
	ui.mux.Handle("GET /accounts/{id}", g.member(account.show))
	ui.mux.Handle("GET /pipeline", g.member(pipeline.show))
	ui.mux.Handle("POST /pipeline/deals/{id}/stage", g.member(pipeline.move))

	// The handoff: sales' MQL inbox (inbox.sellers tells anyone else why
	// not, in their language) and the SLA report.
	ui.mux.Handle("GET /inbox", g.member(inbox.sellers(inbox.show)))
	ui.mux.Handle("POST /inbox/{id}/accept", g.member(inbox.sellers(inbox.accept)))
	ui.mux.Handle("POST /inbox/{id}/reject", g.member(inbox.sellers(inbox.reject)))
	ui.mux.Handle("GET /reports/sla", g.member(slaReport.show))
	// The sales team: capacity, manager and absences (team.go; linked from
	// the inbox, not the crowded navigation).
	ui.mux.Handle("GET /team", g.member(team.members(team.show)))
	ui.mux.Handle("POST /team/{id}", g.member(team.members(team.settings)))
	ui.mux.Handle("POST /team/{id}/absences", g.member(team.members(team.addAbsence)))
	ui.mux.Handle("POST /team/absences/{id}/delete", g.member(team.members(team.deleteAbsence)))

	ui.mux.Handle("GET /agreement", g.member(agreements.overview))
	ui.mux.Handle("POST /agreement/drafts", g.member(agreements.newDraft, agreementEditors...))
	ui.mux.Handle("GET /agreement/versions/{id}", g.member(agreements.version))
	ui.mux.Handle("POST /agreement/versions/{id}", g.member(agreements.save, agreementEditors...))
	ui.mux.Handle("POST /agreement/versions/{id}/validate", g.member(agreements.validate, agreementEditors...))
	ui.mux.Handle("POST /agreement/versions/{id}/propose", g.member(agreements.propose, agreementEditors...))
	ui.mux.Handle("POST /agreement/versions/{id}/sign", g.member(agreements.sign))
	ui.mux.Handle("POST /agreement/versions/{id}/activate", g.member(agreements.activateVersion, agreementEditors...))

	// CSV imports: upload (a multipart form, read by the handler), map the
	// columns and dry-run, then run as a background job and watch it.
	ui.mux.Handle("GET /import", g.member(imports.show, importers...))
	ui.mux.Handle("POST /import", g.multipart(imports.uploadFile, importers...))
	ui.mux.Handle("GET /import/uploads/{id}", g.member(imports.mapping, importers...))
	ui.mux.Handle("POST /import/uploads/{id}/dry-run", g.member(imports.dryRun, importers...))
	ui.mux.Handle("POST /import/uploads/{id}/run", g.member(imports.run, importers...))
	ui.mux.Handle("POST /import/uploads/{id}/discard", g.member(imports.discard, importers...))
	ui.mux.Handle("GET /import/jobs/{id}", g.member(imports.job))
	ui.mux.Handle("GET /import/jobs/{id}/status", g.member(imports.status))

	// Settings are for administrators; settings.admin tells anyone else so
	// in their language.
	ui.mux.Handle("GET /settings", g.member(settings.index))
	ui.mux.Handle("GET /settings/users", g.member(settings.admin(settings.users)))
	ui.mux.Handle("POST /settings/users", g.member(settings.admin(settings.createUser)))
	ui.mux.Handle("POST /settings/users/{id}/role", g.member(settings.admin(settings.changeRole)))
	ui.mux.Handle("POST /settings/users/{id}/deactivate", g.member(settings.admin(settings.deactivate)))
	ui.mux.Handle("POST /settings/users/{id}/reactivate", g.member(settings.admin(settings.reactivate)))
	ui.mux.Handle("GET /settings/apikeys", g.member(settings.admin(settings.apiKeys)))
	ui.mux.Handle("POST /settings/apikeys", g.member(settings.admin(settings.createAPIKey)))
	ui.mux.Handle("POST /settings/apikeys/{id}/revoke", g.member(settings.admin(settings.revokeAPIKey)))
	ui.mux.Handle("GET /settings/writekeys", g.member(settings.admin(settings.writeKeys)))
	ui.mux.Handle("POST /settings/writekeys", g.member(settings.admin(settings.createWriteKey)))
	ui.mux.Handle("POST /settings/writekeys/{id}/revoke", g.member(settings.admin(settings.revokeWriteKey)))

	// Notification webhooks (admins) and the delivery log (admins and
	// managers): settings_webhooks.go.
	notifications := &notificationPages{store: cfg.Store, jobs: cfg.Jobs, views: views}
	ui.mux.Handle("GET /settings/webhooks", g.member(settings.admin(notifications.webhooks)))
	ui.mux.Handle("POST /settings/webhooks", g.member(settings.admin(notifications.createWebhook)))
	ui.mux.Handle("POST /settings/webhooks/{id}/active", g.member(settings.admin(notifications.setWebhookActive)))
	ui.mux.Handle("POST /settings/webhooks/{id}/delete", g.member(settings.admin(notifications.deleteWebhook)))
	ui.mux.Handle("GET /settings/deliveries", g.member(notifications.deliveries, alinea.RoleManager))
	ui.mux.Handle("GET /settings/deliveries/{id}", g.member(notifications.delivery, alinea.RoleManager))
	ui.mux.Handle("POST /settings/deliveries/{id}/retry", g.member(notifications.retry, alinea.RoleManager))

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
	{Key: "nav.accounts", Href: "/accounts"},
	{Key: "nav.pipeline", Href: "/pipeline"},
	{Key: "nav.inbox", Href: "/inbox", Roles: inboxRoles},
	{Key: "nav.reports", Href: "/reports/sla"},
	{Key: "nav.agreement", Href: "/agreement"},
	{Key: "nav.import", Href: "/import", Roles: importers},
}

// settingsLink is the way to the settings, beside the user's name rather
// than in the main navigation: administrators (users, keys, webhooks) and
// managers (the delivery log) see it.
func settingsLink(l *locale, role alinea.Role, path string) *navLink {
	if role != alinea.RoleAdmin && role != alinea.RoleManager {
		return nil
	}
	return &navLink{Label: l.T("nav.settings"), Href: "/settings", Current: path == "/settings" || strings.HasPrefix(path, "/settings/")}
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
