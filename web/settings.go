package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alinea-crm/alinea"
)

// maxKeyName bounds the name of an API or write key, so lists stay readable.
const maxKeyName = 100

// settingsStore is what the settings pages read and change.
type settingsStore interface {
	Users(ctx context.Context) ([]alinea.User, error)
	CreateUser(ctx context.Context, in alinea.NewUser) (alinea.User, error)
	SetUserRole(ctx context.Context, id int64, role alinea.Role) (alinea.User, error)
	DeactivateUser(ctx context.Context, id, by int64) (alinea.User, error)
	ReactivateUser(ctx context.Context, id int64) (alinea.User, error)
	APIKeys(ctx context.Context) ([]alinea.APIKey, error)
	CreateAPIKey(ctx context.Context, userID int64, name string) (alinea.APIKey, string, error)
	RevokeAPIKey(ctx context.Context, id int64) (alinea.APIKey, error)
	WriteKeys(ctx context.Context) ([]alinea.WriteKey, error)
	CreateWriteKey(ctx context.Context, name string) (alinea.WriteKey, string, error)
	RevokeWriteKey(ctx context.Context, id int64) (alinea.WriteKey, error)
}

// settings are the administrators' pages: users, API keys and write keys.
type settingsPages struct {
	store settingsStore
	views *views
}

// admin lets only administrators through; anyone else gets a page saying
// so in their language. (The gate's own role check would say it too, but
// only in general terms.)
func (h *settingsPages) admin(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request, v *visit) error {
		if v.User.Role != alinea.RoleAdmin {
			page := errorPage{Message: v.Lang.T("settings.forbidden", roleName(v.Lang, v.User.Role)), Status: http.StatusForbidden}
			return h.views.render(w, r, v, http.StatusForbidden, "error", v.Lang.T("error.title"), page)
		}
		return next(w, r, v)
	}
}

// index opens an administrator's settings on the users and a manager's on
// the delivery log, the one settings page managers may see.
func (h *settingsPages) index(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.User.Role == alinea.RoleManager {
		http.Redirect(w, r, "/settings/deliveries", http.StatusSeeOther)
		return nil
	}
	return h.admin(func(w http.ResponseWriter, r *http.Request, v *visit) error {
		http.Redirect(w, r, "/settings/users", http.StatusSeeOther)
		return nil
	})(w, r, v)
}

// settingsTabs are the settings pages' own navigation.
func settingsTabs(l *locale, path string) []navLink {
	tab := func(label, href string) navLink { return navLink{Label: label, Href: href, Current: path == href} }
	return []navLink{
		tab(l.T("settings.tab_users"), "/settings/users"),
		tab(l.T("settings.tab_apikeys"), "/settings/apikeys"),
		tab(l.T("settings.tab_writekeys"), "/settings/writekeys"),
		tab(l.T("notifications.tab_webhooks"), "/settings/webhooks"),
		{Label: l.T("notifications.tab_deliveries"), Href: "/settings/deliveries", Current: strings.HasPrefix(path, "/settings/deliveries")},
	}
}

// Users

type usersData struct {
	Tabs   []navLink
	Rows   []userRow
	Form   userForm
	Notice string
	// Error is an action on a row that was refused.
	Error string
}

type userRow struct {
	ID          int64
	Name        string
	Email       string
	Role        alinea.Role
	Roles       []option
	Language    string
	CreatedAt   time.Time
	Active      bool
	Deactivated *time.Time
	Self        bool
}

// userForm is the add-user form; it keeps what was typed except the
// password. Errors are per field.
type userForm struct {
	Name, Email, Role, Locale string
	Roles                     []option
	Languages                 []option
	Errors                    map[string]string
}

var allRoles = []alinea.Role{alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager, alinea.RoleAdmin}

func roleOptions(l *locale, selected string, blank bool) []option {
	var out []option
	if blank {
		out = append(out, option{Value: "", Label: l.T("settings.choose_role")})
	}
	for _, r := range allRoles {
		out = append(out, option{Value: string(r), Label: roleName(l, r), Selected: selected == string(r)})
	}
	return out
}

func (h *settingsPages) users(w http.ResponseWriter, r *http.Request, v *visit) error {
	data := usersData{Form: userForm{Locale: v.Lang.Code}}
	if err := h.notice(r, v, &data.Notice); err != nil {
		return err
	}
	return h.renderUsers(w, r, v, http.StatusOK, data)
}

// notice reads what the last change was from the URL it redirected to.
func (h *settingsPages) notice(r *http.Request, v *visit, out *string) error {
	q := r.URL.Query()
	done := q.Get("done")
	if done == "" {
		return nil
	}
	id := cursorParam(q.Get("user"))
	users, err := h.store.Users(r.Context())
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ID != id {
			continue
		}
		switch done {
		case "created":
			*out = v.Lang.T("settings.user_created", u.Name)
		case "role":
			*out = v.Lang.T("settings.role_changed", u.Name, roleName(v.Lang, u.Role))
		case "deactivated":
			*out = v.Lang.T("settings.user_deactivated", u.Name)
		case "reactivated":
			*out = v.Lang.T("settings.user_reactivated", u.Name)
		}
	}
	return nil
}

func (h *settingsPages) renderUsers(w http.ResponseWriter, r *http.Request, v *visit, status int, data usersData) error {
	l := v.Lang
	users, err := h.store.Users(r.Context())
	if err != nil {
		return err
	}
	data.Tabs = settingsTabs(l, "/settings/users")
	for _, u := range users {
		data.Rows = append(data.Rows, userRow{ID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, Roles: roleOptions(l, string(u.Role), false),
			Language: l.T("language." + u.Locale), CreatedAt: u.CreatedAt, Active: u.Active(), Deactivated: u.DeactivatedAt, Self: u.ID == v.User.ID})
	}
	data.Form.Roles = roleOptions(l, data.Form.Role, true)
	for _, code := range languageCodes {
		data.Form.Languages = append(data.Form.Languages, option{Value: code, Label: l.T("language." + code), Selected: data.Form.Locale == code})
	}
	return h.views.render(w, r, v, status, "settings_users", l.T("settings.users_title"), data)
}

func (h *settingsPages) createUser(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	f := r.PostForm
	form := userForm{Name: f.Get("name"), Email: f.Get("email"), Role: f.Get("role"), Locale: f.Get("locale"), Errors: map[string]string{}}
	password := f.Get("password")
	if utf8.RuneCountInString(form.Name) > 200 {
		form.Errors["name"] = l.T("settings.error_name_long", 200)
	}
	if len(form.Errors) == 0 {
		u, err := h.store.CreateUser(r.Context(), alinea.NewUser{Name: form.Name, Email: form.Email, Role: alinea.Role(form.Role), Password: password, Locale: form.Locale})
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/settings/users?done=created&user=%d", u.ID), http.StatusSeeOther)
			return nil
		}
		switch alinea.ErrorCode(err) {
		case alinea.EINVALID:
			for field := range alinea.ErrorFields(err) {
				form.Errors[field] = userFieldError(l, field, form)
			}
		case alinea.ECONFLICT:
			form.Errors["email"] = l.T("settings.error_email_taken", strings.ToLower(strings.TrimSpace(form.Email)))
		default:
			return err
		}
	}
	return h.renderUsers(w, r, v, http.StatusUnprocessableEntity, usersData{Form: form})
}

// userFieldError says in the reader's language what is wrong with a field
// of the add-user form; the rules themselves are alinea.NewUser's.
func userFieldError(l *locale, field string, form userForm) string {
	switch field {
	case "name":
		return l.T("settings.error_name_required")
	case "email":
		if strings.TrimSpace(form.Email) == "" {
			return l.T("settings.error_email_required")
		}
		return l.T("settings.error_email_invalid")
	case "role":
		return l.T("settings.error_role")
	case "password":
		return l.T("settings.error_password", 10)
	case "locale":
		return l.T("settings.error_locale")
	}
	return l.T("error.invalid")
}

func (h *settingsPages) changeRole(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	role := alinea.Role(r.PostForm.Get("role"))
	if !role.Valid() {
		return h.renderUsers(w, r, v, http.StatusUnprocessableEntity, usersData{Error: v.Lang.T("settings.error_role")})
	}
	u, err := h.store.SetUserRole(r.Context(), id, role)
	if alinea.ErrorCode(err) == alinea.ECONFLICT {
		return h.renderUsers(w, r, v, http.StatusConflict, usersData{Error: v.Lang.T("settings.error_last_admin_role")})
	}
	if err != nil {
		return err
	}
	if u.ID == v.User.ID && u.Role != alinea.RoleAdmin {
		// Their own settings are no longer theirs to see.
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, fmt.Sprintf("/settings/users?done=role&user=%d", u.ID), http.StatusSeeOther)
	return nil
}

func (h *settingsPages) deactivate(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if id == v.User.ID {
		return h.renderUsers(w, r, v, http.StatusConflict, usersData{Error: v.Lang.T("settings.error_self_deactivate")})
	}
	u, err := h.store.DeactivateUser(r.Context(), id, v.User.ID)
	if alinea.ErrorCode(err) == alinea.ECONFLICT {
		return h.renderUsers(w, r, v, http.StatusConflict, usersData{Error: v.Lang.T("settings.error_last_admin_deactivate")})
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/settings/users?done=deactivated&user=%d", u.ID), http.StatusSeeOther)
	return nil
}

func (h *settingsPages) reactivate(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := h.store.ReactivateUser(r.Context(), id)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/settings/users?done=reactivated&user=%d", u.ID), http.StatusSeeOther)
	return nil
}

// API keys

type apiKeysData struct {
	Tabs    []navLink
	Rows    []apiKeyRow
	Form    apiKeyForm
	Created *newSecret
	Notice  string
}

type apiKeyRow struct {
	ID        int64
	Name      string
	Prefix    string
	Owner     string
	CreatedAt time.Time
	LastUsed  *time.Time
	Revoked   *time.Time
}

type apiKeyForm struct {
	UserID string
	Name   string
	Users  []option
	Errors map[string]string
}

// newSecret is a key just created: the only time its secret is shown.
type newSecret struct {
	Name   string
	Owner  string
	Secret string
}

func (h *settingsPages) apiKeys(w http.ResponseWriter, r *http.Request, v *visit) error {
	data := apiKeysData{}
	if r.URL.Query().Get("done") == "revoked" {
		id := cursorParam(r.URL.Query().Get("key"))
		keys, err := h.store.APIKeys(r.Context())
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID == id {
				data.Notice = v.Lang.T("settings.apikey_revoked", k.Name)
			}
		}
	}
	return h.renderAPIKeys(w, r, v, http.StatusOK, data)
}

func (h *settingsPages) renderAPIKeys(w http.ResponseWriter, r *http.Request, v *visit, status int, data apiKeysData) error {
	l := v.Lang
	ctx := r.Context()
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	keys, err := h.store.APIKeys(ctx)
	if err != nil {
		return err
	}
	names := userNames(users)
	data.Tabs = settingsTabs(l, "/settings/apikeys")
	for _, k := range keys {
		data.Rows = append(data.Rows, apiKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Owner: names[k.UserID], CreatedAt: k.CreatedAt, LastUsed: k.LastUsedAt, Revoked: k.RevokedAt})
	}
	data.Form.Users = []option{{Value: "", Label: l.T("settings.choose_user")}}
	for _, u := range users {
		if !u.Active() {
			continue
		}
		id := strconv.FormatInt(u.ID, 10)
		data.Form.Users = append(data.Form.Users, option{Value: id, Label: u.Name + " · " + roleName(l, u.Role), Selected: data.Form.UserID == id})
	}
	return h.views.render(w, r, v, status, "settings_apikeys", l.T("settings.apikeys_title"), data)
}

func (h *settingsPages) createAPIKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	form := apiKeyForm{UserID: r.PostForm.Get("user"), Name: r.PostForm.Get("name"), Errors: map[string]string{}}
	name := strings.TrimSpace(form.Name)
	userID, perr := strconv.ParseInt(form.UserID, 10, 64)
	switch {
	case form.UserID == "":
		form.Errors["user"] = l.T("settings.error_user_required")
	case perr != nil || userID <= 0:
		form.Errors["user"] = l.T("settings.error_user_unknown")
	}
	if msg := keyNameError(l, name); msg != "" {
		form.Errors["name"] = msg
	}
	if len(form.Errors) == 0 {
		k, secret, err := h.store.CreateAPIKey(r.Context(), userID, name)
		if err == nil {
			owner := ""
			if u, err := h.userName(r.Context(), k.UserID); err == nil {
				owner = u
			}
			// Shown now and never again: the page is the answer to the
			// form, not a redirect, so the secret is in no URL or log.
			return h.renderAPIKeys(w, r, v, http.StatusCreated, apiKeysData{Created: &newSecret{Name: k.Name, Owner: owner, Secret: secret},
				Notice: l.T("settings.apikey_created", k.Name, owner)})
		}
		if alinea.ErrorCode(err) != alinea.EINVALID {
			return err
		}
		fields := alinea.ErrorFields(err)
		if fields["user_id"] != "" {
			form.Errors["user"] = l.T("settings.error_user_inactive")
		}
		if fields["name"] != "" {
			form.Errors["name"] = l.T("settings.error_key_name_required")
		}
	}
	return h.renderAPIKeys(w, r, v, http.StatusUnprocessableEntity, apiKeysData{Form: form})
}

func keyNameError(l *locale, name string) string {
	switch {
	case name == "":
		return l.T("settings.error_key_name_required")
	case utf8.RuneCountInString(name) > maxKeyName:
		return l.T("settings.error_key_name_long", maxKeyName)
	}
	return ""
}

func (h *settingsPages) userName(ctx context.Context, id int64) (string, error) {
	users, err := h.store.Users(ctx)
	if err != nil {
		return "", err
	}
	return userNames(users)[id], nil
}

func (h *settingsPages) revokeAPIKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := h.store.RevokeAPIKey(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/apikeys?"+url.Values{"done": {"revoked"}, "key": {strconv.FormatInt(id, 10)}}.Encode(), http.StatusSeeOther)
	return nil
}

// Write keys

type writeKeysData struct {
	Tabs    []navLink
	Rows    []writeKeyRow
	Form    writeKeyForm
	Created *newSecret
	Notice  string
}

type writeKeyRow struct {
	ID        int64
	Name      string
	Prefix    string
	CreatedAt time.Time
	Revoked   *time.Time
}

type writeKeyForm struct {
	Name   string
	Errors map[string]string
}

func (h *settingsPages) writeKeys(w http.ResponseWriter, r *http.Request, v *visit) error {
	data := writeKeysData{}
	if r.URL.Query().Get("done") == "revoked" {
		id := cursorParam(r.URL.Query().Get("key"))
		keys, err := h.store.WriteKeys(r.Context())
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.ID == id {
				data.Notice = v.Lang.T("settings.writekey_revoked", k.Name)
			}
		}
	}
	return h.renderWriteKeys(w, r, v, http.StatusOK, data)
}

func (h *settingsPages) renderWriteKeys(w http.ResponseWriter, r *http.Request, v *visit, status int, data writeKeysData) error {
	keys, err := h.store.WriteKeys(r.Context())
	if err != nil {
		return err
	}
	data.Tabs = settingsTabs(v.Lang, "/settings/writekeys")
	for _, k := range keys {
		data.Rows = append(data.Rows, writeKeyRow{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, Revoked: k.RevokedAt})
	}
	return h.views.render(w, r, v, status, "settings_writekeys", v.Lang.T("settings.writekeys_title"), data)
}

func (h *settingsPages) createWriteKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	l := v.Lang
	form := writeKeyForm{Name: r.PostForm.Get("name"), Errors: map[string]string{}}
	name := strings.TrimSpace(form.Name)
	if msg := keyNameError(l, name); msg != "" {
		form.Errors["name"] = msg
		return h.renderWriteKeys(w, r, v, http.StatusUnprocessableEntity, writeKeysData{Form: form})
	}
	k, secret, err := h.store.CreateWriteKey(r.Context(), name)
	if err != nil {
		return err
	}
	return h.renderWriteKeys(w, r, v, http.StatusCreated, writeKeysData{Created: &newSecret{Name: k.Name, Secret: secret},
		Notice: l.T("settings.writekey_created", k.Name)})
}

func (h *settingsPages) revokeWriteKey(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := h.store.RevokeWriteKey(r.Context(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/settings/writekeys?"+url.Values{"done": {"revoked"}, "key": {strconv.FormatInt(id, 10)}}.Encode(), http.StatusSeeOther)
	return nil
}
