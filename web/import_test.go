package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/jobs"
	"github.com/alinea-crm/alinea/server"
	"github.com/alinea-crm/alinea/store"
)

// importApp is newApp with a job queue that works imports through River's
// ImportWorker, as `alinea serve` has.
type importApp struct {
	*app
	queue *jobs.Queue
}

// newImportApp starts the app and its queue.
func newImportApp(t testing.TB) *importApp {
	t.Helper()
	a := newIdleImportApp(t)
	a.startQueue()
	return a
}

// newIdleImportApp starts the app with a queue that takes jobs but works
// none until startQueue, so that a test sees an import waiting.
func newIdleImportApp(t testing.TB) *importApp {
	t.Helper()
	ctx := context.Background()
	path, res := demoDatabase(t)
	clock := &demo.Clock{}
	clock.Set(anchor)
	st, err := store.Open(ctx, path, store.Options{Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(ctx, st); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &jobs.ImportWorker{Store: st})
	q, err := jobs.New(st, jobs.Config{Workers: workers, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(server.Config{Store: st, Now: clock.Now, Jobs: q}))
	t.Cleanup(func() {
		ts.Close()
		stop, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_ = q.Stop(stop)
		st.Close()
	})
	return &importApp{app: &app{t: t, url: ts.URL, store: st, clock: clock, users: res.Users}, queue: q}
}

func (a *importApp) startQueue() {
	a.t.Helper()
	if err := a.queue.Start(context.Background()); err != nil {
		a.t.Fatal(err)
	}
}

// upload sends the upload form of /import with a file, as a browser does.
func (c *client) upload(filename string, content io.Reader) response {
	c.t.Helper()
	return c.uploadWith(c.csrf("/import"), filename, content)
}

func (c *client) uploadWith(token, filename string, content io.Reader) response {
	c.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := mw.WriteField("csrf_token", token)
		if err == nil && filename != "" {
			var part io.Writer
			if part, err = mw.CreateFormFile("file", filename); err == nil {
				_, err = io.Copy(part, content)
			}
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, err := http.NewRequest(http.MethodPost, c.base+"/import", pr)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", c.lang)
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(b), location: res.Header.Get("Location"), header: res.Header}
}

var (
	selectedTarget = regexp.MustCompile(`(?s)<select id="col-(\d+)" name="col-\d+"[^>]*>.*?<option value="([a-z_]+)" selected>`)
	propertyValue  = regexp.MustCompile(`<input type="text" id="prop-(\d+)" name="prop-\d+" value="([^"]*)"`)
)

// mappingForm reads the mapping form of a page as it would be sent.
func mappingForm(t testing.TB, page string) url.Values {
	t.Helper()
	form := url.Values{}
	for _, m := range selectedTarget.FindAllStringSubmatch(page, -1) {
		form.Set("col-"+m[1], m[2])
	}
	for _, m := range propertyValue.FindAllStringSubmatch(page, -1) {
		form.Set("prop-"+m[1], m[2])
	}
	if len(form) == 0 {
		t.Fatalf("no mapping form in:\n%s", clip(page))
	}
	return form
}

// waitForImport waits for the import's background job to finish.
func waitForImport(t testing.TB, a *importApp, id int64) alinea.ImportJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := a.store.ImportJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == alinea.ImportDone || j.Status == alinea.ImportFailed {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("import %d still %s after 30s", id, j.Status)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (a *app) contactByEmail(email string) (alinea.Contact, bool) {
	a.t.Helper()
	cs, _, err := a.store.Contacts(context.Background(), alinea.ContactFilter{Email: email, Limit: 1})
	if err != nil {
		a.t.Fatal(err)
	}
	if len(cs) == 0 {
		return alinea.Contact{}, false
	}
	return cs[0], true
}

func uploadID(t testing.TB, res response) int64 {
	t.Helper()
	var id int64
	if res.status != http.StatusSeeOther {
		t.Fatalf("upload: status %d, want 303\n%s", res.status, clip(text(res.body)))
	}
	if _, err := fmt.Sscanf(res.location, "/import/uploads/%d", &id); err != nil {
		t.Fatalf("upload went to %q", res.location)
	}
	return id
}

// TestImportSpanishFile uploads a file with Spanish headers, sees them
// mapped, dry-runs it (a bad email listed, nothing written) and imports it
// through the job queue.
func TestImportSpanishFile(t *testing.T) {
	a := newIdleImportApp(t)
	c := a.signedIn(alinea.RoleMarketing, "es")

	home := c.get("/import")
	if home.status != http.StatusOK {
		t.Fatalf("GET /import: %d", home.status)
	}
	mustContain(t, "import page", text(home.body), "Importar contactos", "Archivo CSV", "Hasta 64 MB", "Todavía no se ha importado ningún archivo.")
	mustContain(t, "import page", home.body, `enctype="multipart/form-data"`, `<label for="import-file">`, `href="/import" aria-current="page"`)

	file := "Correo electrónico;Nombre;Apellidos;Empresa;País;Teléfono;Plan\n" +
		"ana.rios@ejemplo-import.es;Ana;Ríos;Acme Iberia;España;+34 600 111 222;pro\n" +
		"no-es-un-correo;Luis;Gómez;Acme Iberia;ES;;básico\n" +
		"bea.mora@ejemplo-import.mx;Bea;Mora;Sol y Mar;México;;pro\n"
	id := uploadID(t, c.upload("leads-feria.csv", strings.NewReader(file)))
	mapPath := fmt.Sprintf("/import/uploads/%d", id)

	page := c.get(mapPath)
	if page.status != http.StatusOK {
		t.Fatalf("mapping page: %d\n%s", page.status, clip(text(page.body)))
	}
	form := mappingForm(t, page.body)
	want := url.Values{"col-0": {"email"}, "col-1": {"first_name"}, "col-2": {"last_name"}, "col-3": {"property"}, "prop-3": {"company"},
		"col-4": {"country"}, "col-5": {"phone"}, "col-6": {"property"}, "prop-6": {"plan"}}
	for k, v := range want {
		if form.Get(k) != v[0] {
			t.Errorf("mapping %s = %q, want %q", k, form.Get(k), v[0])
		}
	}
	mustContain(t, "mapping page", text(page.body), "Asigna las columnas", "leads-feria.csv · unas 3 filas",
		"Reconocida: Correo electrónico", "Sin equivalente: propiedad personalizada", "ana.rios@ejemplo-import.es", "Primeras filas del archivo", "básico")

	// The dry run lists the bad row by number and column and writes nothing.
	form.Set("csrf_token", c.csrf(mapPath))
	dry := c.post(mapPath+"/dry-run", form)
	if dry.status != http.StatusOK {
		t.Fatalf("dry run: %d\n%s", dry.status, clip(text(dry.body)))
	}
	report := text(dry.body)
	mustContain(t, "dry run report", report, "Resultado de la prueba", "Filas leídas 3", "Filas correctas 2", "Filas con errores 1",
		"3 Correo electrónico «no-es-un-correo» no es una dirección de correo válida.", "no se ha guardado nada")
	mustContain(t, "dry run keeps the mapping", dry.body, `<option value="email" selected>`)
	for _, email := range []string{"ana.rios@ejemplo-import.es", "bea.mora@ejemplo-import.mx"} {
		if _, found := a.contactByEmail(email); found {
			t.Errorf("the dry run created %s", email)
		}
	}

	// The import runs as a River job; its page shows the outcome.
	form.Set("csrf_token", c.csrf(mapPath))
	run := c.post(mapPath+"/run", form)
	if run.status != http.StatusSeeOther || !strings.HasPrefix(run.location, fmt.Sprintf("/import/jobs/%d?", id)) {
		t.Fatalf("run: status %d to %q\n%s", run.status, run.location, clip(text(run.body)))
	}
	waiting := c.get(run.location)
	mustContain(t, "queued import", text(waiting.body), "En cola", "Esta página se actualiza sola.")
	// Without JavaScript the page refreshes itself until the end.
	mustContain(t, "queued import", waiting.body, `<noscript><meta http-equiv="refresh" content="2"></noscript>`, `<progress id="import-bar" class="import-bar" max="3" value="0"`)
	a.startQueue()
	j := waitForImport(t, a, id)
	if j.Status != alinea.ImportDone || j.Created != 2 || j.Failed != 1 || j.Mapping["Plan"] != "property:plan" {
		t.Fatalf("import %+v", j)
	}
	done := c.get(run.location)
	mustContain(t, "finished import", text(done.body), "leads-feria.csv", "Terminada", "Importación terminada: 2 contactos creados y 0 actualizados.",
		"Filas no importadas", "«no-es-un-correo» no es una dirección de correo válida.", "Ver los contactos")
	mustNotContain(t, "finished import", done.body, `http-equiv="refresh"`)
	ana, found := a.contactByEmail("ana.rios@ejemplo-import.es")
	if !found {
		t.Fatal("ana.rios was not imported")
	}
	bea, _ := a.contactByEmail("bea.mora@ejemplo-import.mx")
	// "Ver los contactos" lists what the import created or updated.
	seeContacts := regexpFind(`<a class="btn primary" href="([^"]+)">Ver los contactos`, done.body)
	if !strings.HasPrefix(seeContacts, "/contacts?updated_since=") {
		t.Fatalf("the finished import links to %q, want the contacts updated since it began", seeContacts)
	}
	imported := c.get(html.UnescapeString(seeContacts))
	if imported.status != http.StatusOK {
		t.Fatalf("GET %s: %d", seeContacts, imported.status)
	}
	mustContain(t, "contacts since the import", imported.body, contactPath(ana.ID)+`"`, contactPath(bea.ID)+`"`, `name="updated_since"`)
	mustContain(t, "contacts since the import", text(imported.body), "Creados o actualizados desde el", "Quitar filtros")
	if n := len(contactLink.FindAllString(imported.body, -1)); n != 2 {
		t.Errorf("the contacts since the import list %d contacts, want the 2 it created", n)
	}
	if res := c.get("/contacts?updated_since=ayer"); res.status != http.StatusBadRequest || !strings.Contains(res.body, "updated_since") {
		t.Errorf("updated_since=ayer: %d, want 400 naming the filter", res.status)
	}
	var props map[string]string
	_ = json.Unmarshal(ana.Properties, &props)
	if ana.FirstName != "Ana" || ana.LastName != "Ríos" || ana.Country != "ES" || props["company"] != "Acme Iberia" || props["plan"] != "pro" {
		t.Errorf("imported contact %+v props %v", ana, props)
	}

	var st struct {
		Status   string            `json:"status"`
		Finished bool              `json:"finished"`
		Created  int               `json:"created"`
		Shown    map[string]string `json:"shown"`
	}
	status := c.get(fmt.Sprintf("/import/jobs/%d/status", id))
	if err := json.Unmarshal([]byte(status.body), &st); err != nil || !st.Finished || st.Status != "done" || st.Created != 2 || st.Shown["created"] != "2" {
		t.Errorf("status endpoint: %+v (%v) %s", st, err, status.body)
	}

	// Sent again, the form changes nothing: the file now belongs to the job.
	form.Set("csrf_token", c.csrf("/import"))
	again := c.post(mapPath+"/run", form)
	if again.status != http.StatusSeeOther || !strings.HasPrefix(again.location, fmt.Sprintf("/import/jobs/%d", id)) {
		t.Errorf("second run: %d to %q", again.status, again.location)
	}
	list := c.get("/import")
	mustContain(t, "recent imports", text(list.body), "Importaciones recientes", "leads-feria.csv", "Terminada")
}

// TestImportMappingInEnglish checks the mapping's own errors, a dry run's
// localized problems and a change of mapping, in English.
func TestImportMappingInEnglish(t *testing.T) {
	a := newImportApp(t)
	c := a.signedIn(alinea.RoleManager, "en")
	file := "Email,First Name,Country,Work email,Notes\n" +
		"tom.hale@example-import.co.uk,Tom,United Kingdom,tom@work.example,met at the fair\n" +
		"jo.park@example-import.com,Jo,Narnia,,\n"
	id := uploadID(t, c.upload("contacts.csv", strings.NewReader(file)))
	mapPath := fmt.Sprintf("/import/uploads/%d", id)
	page := c.get(mapPath)
	mustContain(t, "english mapping page", text(page.body), "Map the columns", "contacts.csv · about 2 rows", "Recognised: Email", "No match: custom property")
	form := mappingForm(t, page.body)

	for _, tc := range []struct {
		name    string
		change  url.Values
		want    string
		invalid bool // a column is marked
	}{
		{"two columns to one field", url.Values{"col-3": {"email"}}, "Columns Email and Work email both go to Email.", true},
		{"no email column", url.Values{"col-0": {"ignore"}}, "No column goes to “Email”.", false},
		{"property without a name", url.Values{"prop-4": {" "}}, "Give the property of column Notes a name.", true},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		for k, v := range tc.change {
			f[k] = v
		}
		f.Set("csrf_token", c.csrf(mapPath))
		res := c.post(mapPath+"/dry-run", f)
		if res.status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", tc.name, res.status)
		}
		mustContain(t, tc.name, text(res.body), tc.want)
		kept := mappingForm(t, res.body)
		for k := range tc.change {
			if strings.HasPrefix(k, "col-") && kept.Get(k) != f.Get(k) {
				t.Errorf("%s: the form shows %s = %q, want what was chosen, %q", tc.name, k, kept.Get(k), f.Get(k))
			}
		}
		if tc.invalid {
			mustContain(t, tc.name+" marks the column", res.body, `aria-invalid="true"`)
		}
	}

	// Notes left out, the work email kept as a property of another name.
	form.Set("col-4", "ignore")
	form.Set("prop-3", "work_email")
	form.Set("csrf_token", c.csrf(mapPath))
	dry := c.post(mapPath+"/dry-run", form)
	mustContain(t, "english dry run", text(dry.body), "Dry run result", "Rows read 2", "Rows OK 1", "3 Country “Narnia” is not a known country.")

	form.Set("csrf_token", c.csrf(mapPath))
	run := c.post(mapPath+"/run", form)
	if run.status != http.StatusSeeOther {
		t.Fatalf("run: %d\n%s", run.status, clip(text(run.body)))
	}
	waitForImport(t, a, id)
	done := text(c.get(run.location).body)
	mustContain(t, "english summary", done, "Finished", "Import finished: 1 contacts created and 0 updated.", "See the contacts")
	tom, found := a.contactByEmail("tom.hale@example-import.co.uk")
	if !found {
		t.Fatal("tom.hale was not imported")
	}
	if tom.Country != "GB" || !strings.Contains(string(tom.Properties), `"work_email":"tom@work.example"`) || strings.Contains(string(tom.Properties), "fair") {
		t.Errorf("imported contact %+v", tom)
	}
}

// repeat is an endless reader of one line, to send large files without
// holding them.
type repeat struct{ line []byte }

func (r repeat) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], r.line)
	}
	return n, nil
}

func TestImportUploadProblems(t *testing.T) {
	a := newImportApp(t)
	es := a.signedIn(alinea.RoleMarketing, "es")
	en := a.signedIn(alinea.RoleSales, "en")
	tooBig := io.MultiReader(strings.NewReader("email\n"), io.LimitReader(repeat{[]byte("someone@example.com\n")}, alinea.MaxImportUpload))
	for _, tc := range []struct {
		name     string
		c        *client
		filename string
		content  io.Reader
		status   int
		want     string
	}{
		{"too large", es, "grande.csv", tooBig, http.StatusRequestEntityTooLarge, "El archivo supera el límite de 64 MB."},
		{"a spreadsheet", es, "leads.xlsx", strings.NewReader("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00binary"), http.StatusUnsupportedMediaType,
			"«leads.xlsx» no es un archivo CSV. Si es una hoja de cálculo, ábrela y guárdala como «CSV UTF-8»."},
		{"empty", es, "vacio.csv", strings.NewReader(""), http.StatusUnprocessableEntity, "«vacio.csv» está vacío"},
		{"latin-1", en, "latin1.csv", strings.NewReader("email;pa\xeds\na@b.es;ES\n"), http.StatusUnprocessableEntity, "“latin1.csv” is not UTF-8"},
		{"no file", en, "", nil, http.StatusUnprocessableEntity, "Choose a CSV file to upload."},
	} {
		res := tc.c.upload(tc.filename, tc.content)
		if res.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, res.status, tc.status)
		}
		mustContain(t, tc.name, text(res.body), tc.want)
		mustContain(t, tc.name, res.body, `aria-invalid="true"`)
	}
	if list, err := a.store.ImportJobs(context.Background(), 10); err != nil || len(list) != 0 {
		t.Errorf("refused files left imports: %+v %v", list, err)
	}

	// Without this session's token nothing is stored.
	res := es.uploadWith("forged", "leads.csv", strings.NewReader("email\na@b.es\n"))
	if res.status != http.StatusForbidden {
		t.Errorf("upload without the CSRF token: status %d, want 403", res.status)
	}
	if _, err := a.store.ImportJob(context.Background(), 1); alinea.ErrorCode(err) != alinea.ENOTFOUND {
		t.Errorf("an upload without the token was stored: %v", err)
	}
}

// TestImportUploadBelongsToItsUploader: another user (here of a role that
// may import too: the API lets every role import) cannot see, run or
// discard someone's uploaded file; visitors are sent to sign in.
func TestImportUploadBelongsToItsUploader(t *testing.T) {
	a := newImportApp(t)
	owner := a.signedIn(alinea.RoleMarketing, "es")
	other := a.signedIn(alinea.RoleSales, "en")
	id := uploadID(t, owner.upload("privado.csv", strings.NewReader("email,nombre\nana@ejemplo.es,Ana\n")))
	mapPath := fmt.Sprintf("/import/uploads/%d", id)

	if res := other.get(mapPath); res.status != http.StatusNotFound {
		t.Errorf("another user opened the upload: %d", res.status)
	}
	for _, step := range []string{"/dry-run", "/run", "/discard"} {
		res := other.postForm("/import", mapPath+step, url.Values{"col-0": {"email"}, "col-1": {"first_name"}})
		if res.status != http.StatusNotFound {
			t.Errorf("another user's POST %s: %d", step, res.status)
		}
	}
	if res := other.get(fmt.Sprintf("/import/jobs/%d", id)); res.status != http.StatusNotFound {
		t.Errorf("another user opened the pending import's page: %d", res.status)
	}
	if j, err := a.store.ImportJob(context.Background(), id); err != nil || j.Status != alinea.ImportPending {
		t.Errorf("the upload changed: %+v %v", j, err)
	}
	visitor := a.client("es")
	if res := visitor.get("/import"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
		t.Errorf("a visitor on /import: %d to %q", res.status, res.location)
	}
	if res := visitor.uploadWith(visitor.csrf("/signin"), "x.csv", strings.NewReader("email\na@b.es\n")); res.status != http.StatusSeeOther || !strings.HasPrefix(res.location, "/signin") {
		t.Errorf("a visitor's upload: %d to %q", res.status, res.location)
	}

	// The owner discards it: gone.
	res := owner.postForm(mapPath, mapPath+"/discard", url.Values{})
	if res.status != http.StatusSeeOther || res.location != "/import?discarded=1" {
		t.Fatalf("discard: %d to %q", res.status, res.location)
	}
	mustContain(t, "after discarding", text(owner.get(res.location).body), "Archivo descartado. No se ha importado nada.")
	if _, err := a.store.ImportJob(context.Background(), id); alinea.ErrorCode(err) != alinea.ENOTFOUND {
		t.Errorf("the discarded upload is still stored: %v", err)
	}
}

// TestImportWithoutJobQueue: a server without a job queue checks files but
// says it cannot import, and leaves the file waiting.
func TestImportWithoutJobQueue(t *testing.T) {
	a := newApp(t)
	c := a.signedIn(alinea.RoleAdmin, "en")
	id := uploadID(t, c.upload("later.csv", bytes.NewReader([]byte("email\nlater@example.com\n"))))
	mapPath := fmt.Sprintf("/import/uploads/%d", id)
	form := mappingForm(t, c.get(mapPath).body)
	form.Set("csrf_token", c.csrf(mapPath))
	res := c.post(mapPath+"/run", form)
	if res.status != http.StatusUnprocessableEntity {
		t.Errorf("run without a queue: %d", res.status)
	}
	mustContain(t, "no queue", text(res.body), "This server has no job queue, so it cannot import now.")
	if j, _ := a.store.ImportJob(context.Background(), id); j.Status != alinea.ImportPending {
		t.Errorf("import is %s, want still pending", j.Status)
	}
}
