package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/alinea-crm/alinea"
)

// TestBrowserImport uploads a CSV file in Chromium, changes a column's
// mapping, dry-runs it, imports it and watches the progress page (polled
// by its script) reach the summary, in Spanish and in English, keeping
// screenshots of each step.
func TestBrowserImport(t *testing.T) {
	a := newIdleImportApp(t)
	for _, tc := range []struct {
		lang      string
		role      alinea.Role
		file      string
		badRow    string
		done      string
		startLate bool
	}{
		{lang: "es", role: alinea.RoleMarketing, startLate: true,
			file: "Correo electrónico;Nombre;Apellidos;Empresa;País;Plan\n" +
				"lucia.vidal@navegador-import.es;Lucía;Vidal;Acme Iberia;España;pro\n" +
				"correo-roto;Pablo;Ruiz;Acme Iberia;ES;básico\n" +
				"marta.sanz@navegador-import.es;Marta;Sanz;Sol y Mar;ES;pro\n",
			badRow: "«correo-roto» no es una dirección de correo válida.",
			done:   "Importación terminada: 2 contactos creados y 0 actualizados."},
		{lang: "en", role: alinea.RoleManager,
			file: "Email,First Name,Last Name,Company,Country,Plan\n" +
				"oliver.hart@browser-import.co.uk,Oliver,Hart,Northwind,United Kingdom,pro\n" +
				"broken-address,Emma,Stone,Northwind,GB,basic\n" +
				"james.cole@browser-import.com,James,Cole,TechNova,US,pro\n",
			badRow: "“broken-address” is not a valid email address.",
			done:   "Import finished: 2 contacts created and 0 updated."},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			ctx := newBrowser(t, tc.lang)
			u := a.user(tc.role)
			stored, err := a.store.UserByEmail(context.Background(), u.Email)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.store.SetUserLocale(context.Background(), stored.ID, tc.lang); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "leads-"+tc.lang+".csv")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}

			run(t, ctx, "sign in",
				chromedp.Navigate(a.url+"/signin"),
				chromedp.WaitVisible(chromedp.ID("email")),
				chromedp.SendKeys(chromedp.ID("email"), u.Email),
				chromedp.SendKeys(chromedp.ID("password"), u.Password),
				chromedp.Click(chromedp.CSS("button[type=submit].primary")),
				waitFor(`document.querySelector("nav.mainnav") !== null`))
			run(t, ctx, "open import from the navigation",
				chromedp.Click(chromedp.CSS(`nav.mainnav a[href="/import"]`)),
				chromedp.WaitVisible(chromedp.ID("import-file")))
			shot(t, ctx, "import-"+tc.lang)

			run(t, ctx, "upload",
				chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}),
				chromedp.Click(chromedp.CSS(`form[data-import-upload] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS("table.import-columns")))
			if got := get(t, ctx, "email column", chromedp.Value(chromedp.ID("col-0"))); got != "email" {
				t.Errorf("the first column is mapped to %q, want email", got)
			}
			if hidden := get(t, ctx, "property field of a field column", chromedp.Evaluate[bool](`document.getElementById("prop-0").hidden`)); !hidden {
				t.Error("the property name field shows for a column mapped to a contact field")
			}

			// Plan is left out: the property name field goes away with it.
			run(t, ctx, "leave Plan out",
				chromedp.SetValue(chromedp.ID("col-5"), "ignore"),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("col-5").dispatchEvent(new Event("change"))`))
			if hidden := get(t, ctx, "property field of an ignored column", chromedp.Evaluate[bool](`document.getElementById("prop-5").hidden`)); !hidden {
				t.Error("the property name field still shows for an ignored column")
			}
			run(t, ctx, "dry run",
				chromedp.Click(chromedp.CSS(`form.import-map button[type=submit]:not([formaction])`)),
				chromedp.WaitVisible(chromedp.ID("report")))
			if got := textOf(t, ctx, "#report"); !strings.Contains(got, tc.badRow) {
				t.Errorf("dry run report %q lacks %q", got, tc.badRow)
			}
			if got := get(t, ctx, "Plan kept out", chromedp.Value(chromedp.ID("col-5"))); got != "ignore" {
				t.Errorf("after the dry run Plan is mapped to %q, want ignore", got)
			}
			run(t, ctx, "back to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
			shot(t, ctx, "import-mapping-"+tc.lang)

			run(t, ctx, "import",
				chromedp.Click(chromedp.CSS(`form.import-map button[formaction$="/run"]`)),
				chromedp.WaitVisible(chromedp.CSS("[data-import-job]")))
			if tc.startLate {
				// The page waits with the import queued, then follows it
				// by polling once the queue works.
				if got := textOf(t, ctx, "[data-import-label]"); got != "En cola" {
					t.Errorf("status before the queue works: %q", got)
				}
				a.startQueue()
			}
			run(t, ctx, "wait for the summary", waitFor(`document.getElementById("import-done") !== null`))
			if got := textOf(t, ctx, "#import-done"); got != tc.done {
				t.Errorf("summary %q, want %q", got, tc.done)
			}
			if got := textOf(t, ctx, ".import-problems"); !strings.Contains(got, tc.badRow) {
				t.Errorf("rows not imported %q lack %q", got, tc.badRow)
			}
			shot(t, ctx, "import-progress-"+tc.lang)

			for _, line := range strings.Split(strings.TrimSpace(tc.file), "\n")[1:] {
				email := strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' })[0]
				c, found := a.contactByEmail(email)
				if strings.Contains(email, "@") != found {
					t.Errorf("%s imported: %v", email, found)
				}
				if found && strings.Contains(string(c.Properties), "plan") {
					t.Errorf("%s has the Plan column that was left out: %s", email, c.Properties)
				}
			}
		})
	}
}

// TestBrowserImportPhoneWidth walks through an import at a phone's width
// and checks that no step is wider than the screen.
func TestBrowserImportPhoneWidth(t *testing.T) {
	a := newImportApp(t)
	ctx := newBrowser(t, "es-ES,es")
	u := a.user(alinea.RoleSales)
	path := filepath.Join(t.TempDir(), "contactos-con-un-nombre-de-archivo-bastante-largo.csv")
	file := "Correo electrónico;Nombre;Apellidos;Empresa;País;Origen del lead;Notas internas del equipo comercial\n" +
		"irene.prieto@telefono-import.es;Irene;Prieto;Cordillera Labs;Chile;feria;llamar después del verano para renovar\n" +
		"sin-arroba;Raúl;León;Pampa Software;AR;webinar;\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	run(t, ctx, "sign in",
		chromedp.Navigate(a.url+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), u.Email),
		chromedp.SendKeys(chromedp.ID("password"), u.Password),
		chromedp.Click(chromedp.CSS("button[type=submit].primary")),
		waitFor(`document.querySelector("nav.mainnav") !== null`))
	fits := func(name string) {
		t.Helper()
		overflow := get(t, ctx, "measure "+name, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
		if overflow > 0 {
			t.Errorf("%s is %dpx wider than a 390px screen", name, overflow)
		}
	}
	run(t, ctx, "open import", chromedp.Navigate(a.url+"/import"), chromedp.WaitVisible(chromedp.ID("import-file")))
	fits("the upload form")
	run(t, ctx, "upload",
		chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{path}),
		chromedp.Click(chromedp.CSS(`form[data-import-upload] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("table.import-columns")))
	run(t, ctx, "dry run",
		chromedp.Click(chromedp.CSS(`form.import-map button[type=submit]:not([formaction])`)),
		chromedp.WaitVisible(chromedp.ID("report")),
		chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	fits("the mapping page")
	shot(t, ctx, "import-mapping-es-phone")
	run(t, ctx, "import",
		chromedp.Click(chromedp.CSS(`form.import-map button[formaction$="/run"]`)),
		waitFor(`document.getElementById("import-done") !== null`))
	fits("the progress page")
	shot(t, ctx, "import-progress-es-phone")
}
