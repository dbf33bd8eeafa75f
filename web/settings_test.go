package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/demo"
)

func TestSettingsAreForAdminsOnly(t *testing.T) {
	a := newApp(t)
	before, err := a.store.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		role       alinea.Role
		lang, want string
	}{
		{alinea.RoleMarketing, "es", "Solo las personas con rol Administración pueden abrir la configuración. Tu rol es Marketing."},
		{alinea.RoleSales, "en", "Only people with the Admin role can open the settings. Your role is Sales."},
		{alinea.RoleManager, "es", "Tu rol es Dirección."},
	} {
		c := a.signedIn(tc.role, tc.lang)
		home := c.get("/")
		paths := []string{"/settings/users", "/settings/apikeys", "/settings/writekeys", "/settings/webhooks"}
		if tc.role == alinea.RoleManager {
			// Managers reach the delivery log through the settings link.
			mustContain(t, "manager's settings link", home.body, `<a class="settings-link" href="/settings">`)
			if res := c.get("/settings"); res.status != http.StatusSeeOther || res.location != "/settings/deliveries" {
				t.Errorf("manager /settings: %d to %q, want the delivery log", res.status, res.location)
			}
		} else {
			if strings.Contains(home.body, `href="/settings"`) {
				t.Errorf("%s sees the settings link", tc.role)
			}
			paths = append(paths, "/settings")
		}
		for _, path := range paths {
			res := c.get(path)
			if res.status != http.StatusForbidden {
				t.Errorf("%s GET %s: status %d, want 403", tc.role, path, res.status)
			}
			mustContain(t, string(tc.role)+" "+path, text(res.body), tc.want)
		}
		res := c.postForm("/", "/settings/users", url.Values{"name": {"Intrusa"}, "email": {"intrusa@example.com"}, "role": {"admin"}, "password": {"una contraseña larga"}})
		if res.status != http.StatusForbidden {
			t.Errorf("%s adding a user: status %d, want 403", tc.role, res.status)
		}
		res = c.postForm("/", "/settings/writekeys", url.Values{"name": {"intrusa"}})
		if res.status != http.StatusForbidden {
			t.Errorf("%s adding a write key: status %d, want 403", tc.role, res.status)
		}
	}
	after, _ := a.store.Users(context.Background())
	keys, _ := a.store.WriteKeys(context.Background())
	if len(after) != len(before) {
		t.Errorf("users went from %d to %d after refused forms", len(before), len(after))
	}
	for _, k := range keys {
		if k.Name == "intrusa" {
			t.Error("a sales user created a write key")
		}
	}

	admin := a.signedIn(alinea.RoleAdmin, "es")
	home := admin.get("/")
	mustContain(t, "admin navigation", home.body, `<a class="settings-link" href="/settings">Configuración</a>`)
	res := admin.get("/settings")
	if res.status != http.StatusSeeOther || res.location != "/settings/users" {
		t.Errorf("/settings: %d to %q, want the users page", res.status, res.location)
	}
	// A form without its token changes nothing, as everywhere.
	if res := admin.post("/settings/writekeys", url.Values{"name": {"sin token"}}); res.status != http.StatusForbidden {
		t.Errorf("write key without CSRF token: status %d", res.status)
	}
}

func TestSettingsUsersListAndAdd(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleAdmin, "es")
	list := c.get("/settings/users")
	if list.status != http.StatusOK {
		t.Fatalf("GET /settings/users: %d\n%s", list.status, clip(text(list.body)))
	}
	page := text(list.body)
	mustContain(t, "users list", page, "Configuración", "Usuarios", "Claves de API", "Claves de escritura", "Nombre", "Rol", "Idioma", "Creado", "Estado",
		"Lucía Fernández tú", "marta.gomez@vertice.example", "James Walker", "English", "Español", "Activo", "Añadir un usuario")

	// Everything wrong at once: each field says what, the typed values
	// stay, the password does not come back.
	for _, tc := range []struct {
		lang string
		want []string
	}{
		{"es", []string{"Revisa los campos marcados: no se ha guardado nada.", "Escribe el nombre.", "Esto no parece un correo electrónico.",
			"Elige uno de los roles de la lista.", "La contraseña necesita al menos 10 caracteres."}},
		{"en", []string{"Check the marked fields: nothing was saved.", "Enter the name.", "This does not look like an email address.",
			"Choose one of the roles in the list.", "The password needs at least 10 characters."}},
	} {
		c := a.signedIn(alinea.RoleAdmin, tc.lang)
		res := c.postForm("/settings/users", "/settings/users", url.Values{"name": {"  "}, "email": {"sofia@@example"}, "role": {""}, "locale": {"en"}, "password": {"corta"}})
		if res.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s invalid user: status %d, want 422", tc.lang, res.status)
		}
		mustContain(t, tc.lang+" invalid user", text(res.body), tc.want...)
		mustContain(t, tc.lang+" typed email kept", res.body, `value="sofia@@example"`, `<option value="en" selected>`)
		mustNotContain(t, tc.lang+" password", res.body, `value="corta"`)
		mustContain(t, tc.lang+" field marked", res.body, `id="user-email" name="email" type="email" value="sofia@@example" autocomplete="off" required aria-invalid="true"`)
	}

	// An email already in use (back in Spanish: the loop left the admin's
	// language at English).
	c = a.signedIn(alinea.RoleAdmin, "es")
	res := c.postForm("/settings/users", "/settings/users", url.Values{"name": {"Otra Marta"}, "email": {"MARTA.GOMEZ@vertice.example"}, "role": {"sales"}, "locale": {"es"}, "password": {"una contraseña larga"}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("duplicate email: status %d", res.status)
	}
	mustContain(t, "duplicate email", text(res.body), "Ya hay un usuario con el correo marta.gomez@vertice.example.")
	mustContain(t, "name kept", res.body, `value="Otra Marta"`, `<option value="sales" selected>`)

	// A good one: the new user can sign in, in their language.
	res = c.postForm("/settings/users", "/settings/users", url.Values{"name": {"Sofía Herrera"}, "email": {"Sofia.Herrera@vertice.example"}, "role": {"marketing"}, "locale": {"en"}, "password": {"sofia-tiene-clave"}})
	if res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/settings/users?done=created") {
		t.Fatalf("add user: %d to %q\n%s", res.status, res.location, clip(text(res.body)))
	}
	mustContain(t, "created notice", text(c.get(res.location).body), "Sofía Herrera ya puede iniciar sesión.", "sofia.herrera@vertice.example")
	sofia := a.client("es")
	sofia.signIn(demo.Credential{Email: "sofia.herrera@vertice.example", Password: "sofia-tiene-clave"})
	mustContain(t, "new user's home", text(sofia.get("/").body), "Sofía Herrera", "Marketing", "Sign out")
}

func TestSettingsRolesAndDeactivation(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	admin := a.signedIn(alinea.RoleAdmin, "es")
	adminUser, _ := a.store.UserByEmail(ctx, a.user(alinea.RoleAdmin).Email)
	marta, _ := a.store.UserByEmail(ctx, a.user(alinea.RoleMarketing).Email)
	_, martaKey, err := a.store.CreateAPIKey(ctx, marta.ID, "informes")
	if err != nil {
		t.Fatal(err)
	}
	martaBrowser := a.signedIn(alinea.RoleMarketing, "es")

	// Role change.
	res := admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/role", marta.ID), url.Values{"role": {"manager"}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("change role: %d\n%s", res.status, clip(text(res.body)))
	}
	mustContain(t, "role notice", text(admin.get(res.location).body), "Ahora Marta Gómez tiene el rol Dirección.")
	if u, _ := a.store.User(ctx, marta.ID); u.Role != alinea.RoleManager {
		t.Errorf("stored role %s, want manager", u.Role)
	}
	if res := admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/role", marta.ID), url.Values{"role": {"jefa"}}); res.status != http.StatusUnprocessableEntity {
		t.Errorf("unknown role: status %d, want 422", res.status)
	}

	// The only admin can neither step down nor deactivate themselves.
	res = admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/role", adminUser.ID), url.Values{"role": {"sales"}})
	if res.status != http.StatusConflict {
		t.Errorf("demoting the last admin: status %d, want 409", res.status)
	}
	mustContain(t, "last admin", text(res.body), "No se ha cambiado el rol: es la última persona activa con rol Administración.")
	res = admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/deactivate", adminUser.ID), url.Values{})
	if res.status != http.StatusConflict {
		t.Errorf("deactivating oneself: status %d, want 409", res.status)
	}
	mustContain(t, "self deactivation", text(res.body), "No puedes desactivarte a ti mismo.")
	if u, _ := a.store.User(ctx, adminUser.ID); u.Role != alinea.RoleAdmin || !u.Active() {
		t.Fatalf("the admin changed: %+v", u)
	}

	// Deactivation ends the sessions, sign-in and API keys.
	api := func(secret string) int {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := api(martaKey); got != http.StatusOK {
		t.Fatalf("API key before deactivation: %d", got)
	}
	res = admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/deactivate", marta.ID), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d\n%s", res.status, clip(text(res.body)))
	}
	page := text(admin.get(res.location).body)
	mustContain(t, "deactivated", page, "Marta Gómez está desactivado: ya no puede iniciar sesión ni usar sus claves de API.", "Desactivado el 16 mar 2026", "Reactivar")
	if res := martaBrowser.get("/contacts"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
		t.Errorf("the deactivated user's open session answered %d to %q, want a redirect to sign in", res.status, res.location)
	}
	login := a.client("es").postForm("/signin", "/signin", url.Values{"email": {marta.Email}, "password": {a.user(alinea.RoleMarketing).Password}})
	if login.status != http.StatusUnauthorized {
		t.Errorf("sign-in of a deactivated user: status %d, want 401", login.status)
	}
	if got := api(martaKey); got != http.StatusUnauthorized {
		t.Errorf("API key of a deactivated user: %d, want 401", got)
	}

	res = admin.postForm("/settings/users", fmt.Sprintf("/settings/users/%d/reactivate", marta.ID), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", res.status)
	}
	mustContain(t, "reactivated", text(admin.get(res.location).body), "Marta Gómez vuelve a estar activo.")
	if got := api(martaKey); got != http.StatusOK {
		t.Errorf("API key after reactivation: %d", got)
	}
	a.client("es").signIn(a.user(alinea.RoleMarketing))

	if res := admin.postForm("/settings/users", "/settings/users/999999/deactivate", url.Values{}); res.status != http.StatusNotFound {
		t.Errorf("deactivating an unknown user: %d, want 404", res.status)
	}
}

var secretField = regexp.MustCompile(`id="secret-value" class="secret-value" type="text" readonly value="([^"]+)"`)

func TestSettingsAPIKeys(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	c := a.signedIn(alinea.RoleAdmin, "en")
	ana, _ := a.store.UserByEmail(ctx, a.user(alinea.RoleManager).Email)

	list := text(c.get("/settings/apikeys").body)
	mustContain(t, "API keys", list, "API keys", "Key", "User", "Created", "Last used", "Status", "demo", "Lucía Fernández", "Never", "Active", "Create an API key")

	// Invalid: no user, no name; the choices stay.
	res := c.postForm("/settings/apikeys", "/settings/apikeys", url.Values{"user": {""}, "name": {"   "}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid key: %d", res.status)
	}
	mustContain(t, "invalid key", text(res.body), "Choose the user the key belongs to.", "Give the key a name to recognise it later.")
	res = c.postForm("/settings/apikeys", "/settings/apikeys", url.Values{"user": {fmt.Sprint(ana.ID)}, "name": {strings.Repeat("x", 101)}})
	mustContain(t, "long name", text(res.body), "The name cannot be longer than 100 characters.")
	mustContain(t, "user kept", res.body, fmt.Sprintf(`<option value="%d" selected>`, ana.ID))

	// Created: the secret is on this page only.
	res = c.postForm("/settings/apikeys", "/settings/apikeys", url.Values{"user": {fmt.Sprint(ana.ID)}, "name": {"Weekly reports"}})
	if res.status != http.StatusCreated {
		t.Fatalf("create key: %d\n%s", res.status, clip(text(res.body)))
	}
	mustContain(t, "created", text(res.body), "Key “Weekly reports” created for Ana Morales.", "Copy it now: for your security it will not be shown again.", "Select it and copy it")
	m := secretField.FindStringSubmatch(res.body)
	if m == nil || !strings.HasPrefix(m[1], "aln_key_") {
		t.Fatalf("no secret on the page:\n%s", clip(res.body))
	}
	secret := m[1]
	if again := c.get("/settings/apikeys"); strings.Contains(again.body, secret) {
		t.Error("the secret is shown again after the page is reloaded")
	}
	u, err := a.store.UserByAPIKey(ctx, secret)
	if err != nil || u.ID != ana.ID {
		t.Fatalf("the new key does not authenticate Ana: %+v %v", u, err)
	}
	mustContain(t, "last used", text(c.get("/settings/apikeys").body), "Weekly reports", "Ana Morales", "just now")

	// Revoked: the API refuses it.
	keys, _ := a.store.APIKeys(ctx)
	res = c.postForm("/settings/apikeys", fmt.Sprintf("/settings/apikeys/%d/revoke", keys[0].ID), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	mustContain(t, "revoked", text(c.get(res.location).body), "The key “Weekly reports” is revoked.", "Revoked on Mar 16, 2026")
	req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked API key: %d, want 401", resp.StatusCode)
	}
}

func TestSettingsWriteKeysRevokedKeyIsRefusedByIngestion(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleAdmin, "es")
	mustContain(t, "write keys", text(c.get("/settings/writekeys").body), "Claves de escritura", "website", "backend", "Activa", "Crear una clave de escritura")

	res := c.postForm("/settings/writekeys", "/settings/writekeys", url.Values{"name": {""}})
	if res.status != http.StatusUnprocessableEntity {
		t.Fatalf("nameless key: %d", res.status)
	}
	mustContain(t, "nameless key", text(res.body), "Ponle un nombre a la clave para reconocerla después.")

	res = c.postForm("/settings/writekeys", "/settings/writekeys", url.Values{"name": {"Tienda online"}})
	if res.status != http.StatusCreated {
		t.Fatalf("create write key: %d", res.status)
	}
	mustContain(t, "created", text(res.body), "Clave de escritura «Tienda online» creada.", "Cópiala ahora: por seguridad no se volverá a mostrar.")
	m := secretField.FindStringSubmatch(res.body)
	if m == nil || !strings.HasPrefix(m[1], "aln_wk_") {
		t.Fatalf("no secret on the page")
	}
	secret := m[1]
	track := func(n int) int {
		body := fmt.Sprintf(`{"userId":"tienda-%d","event":"Order Completed","messageId":"tienda-msg-%d"}`, n, n)
		req, _ := http.NewRequest(http.MethodPost, a.url+"/v1/track", bytes.NewReader([]byte(body)))
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(secret, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// Used once, so ingestion holds the key in its cache...
	if got := track(1); got != http.StatusOK {
		t.Fatalf("ingestion with the new key: %d", got)
	}
	keys, _ := a.store.WriteKeys(context.Background())
	res = c.postForm("/settings/writekeys", fmt.Sprintf("/settings/writekeys/%d/revoke", keys[0].ID), url.Values{})
	if res.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.status)
	}
	mustContain(t, "revoked", text(c.get(res.location).body), "La clave de escritura «Tienda online» está revocada", "Revocada el 16 mar 2026")
	// ...and still refuses it at once after the revocation.
	if got := track(2); got != http.StatusUnauthorized {
		t.Errorf("ingestion with a revoked key: %d, want 401", got)
	}
}
