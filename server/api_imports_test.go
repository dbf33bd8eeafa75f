package server

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func (a *apiTest) waitImport(id int64) alinea.ImportJob {
	a.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var imp alinea.ImportJob
		a.sendJSON(alinea.RoleMarketing, "GET", "/api/v1/imports/"+strconv.FormatInt(id, 10), "", nil, http.StatusOK, &imp)
		if imp.Status == alinea.ImportDone || imp.Status == alinea.ImportFailed {
			return imp
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("import %d still %s", id, imp.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIImports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		a := newAgreementAPITest(t, b)
		csv := []byte("correo;nombre;país\nana@empresa.es;Ana;España\nno-es-correo;Luis;ES\nbea@empresa.mx;Bea;México\n")

		// As a text/csv body, with options in the query.
		var imp alinea.ImportJob
		a.sendJSON(alinea.RoleMarketing, "POST", "/api/v1/imports?filename=leads.csv", "text/csv", csv, http.StatusAccepted, &imp)
		if imp.Status != alinea.ImportQueued || imp.Filename != "leads.csv" {
			t.Fatalf("accepted %+v", imp)
		}
		done := a.waitImport(imp.ID)
		if done.Status != alinea.ImportDone || done.Created != 2 || done.Failed != 1 || len(done.RowErrors) != 1 || done.RowErrors[0].Row != 3 {
			t.Fatalf("done %+v", done)
		}
		var list struct{ Data []alinea.Contact }
		a.sendJSON(alinea.RoleSales, "GET", "/api/v1/contacts?email=bea@empresa.mx", "", nil, http.StatusOK, &list)
		if len(list.Data) != 1 || list.Data[0].Country != "MX" {
			t.Fatalf("imported contact: %+v", list.Data)
		}

		// As multipart, a dry run with an explicit mapping writes nothing.
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		fw, _ := mw.CreateFormFile("file", "otros.csv")
		fw.Write([]byte("mail,cargo\ncarla@empresa.co,Gerente\n"))
		mw.WriteField("dry_run", "true")
		mw.WriteField("map", "mail=email")
		mw.Close()
		a.sendJSON(alinea.RoleManager, "POST", "/api/v1/imports", mw.FormDataContentType(), body.Bytes(), http.StatusAccepted, &imp)
		if !imp.DryRun || imp.Mapping["mail"] != "email" {
			t.Fatalf("multipart %+v", imp)
		}
		if done := a.waitImport(imp.ID); done.Status != alinea.ImportDone || done.Created != 0 {
			t.Fatalf("dry run %+v", done)
		}
		a.sendJSON(alinea.RoleSales, "GET", "/api/v1/contacts?email=carla@empresa.co", "", nil, http.StatusOK, &list)
		if len(list.Data) != 0 {
			t.Fatal("a dry run wrote a contact")
		}

		// Refused at once, naming the problem.
		cases := []struct {
			name, ct, path string
			body           []byte
			role           alinea.Role
			status         int
			field          string
		}{
			{"no email column", "text/csv", "/api/v1/imports", []byte("nombre\nAna\n"), alinea.RoleMarketing, 400, "file"},
			{"empty file", "text/csv", "/api/v1/imports", nil, alinea.RoleMarketing, 400, "file"},
			{"bad dry_run", "text/csv", "/api/v1/imports?dry_run=maybe", csv, alinea.RoleMarketing, 400, "dry_run"},
			{"bad map", "text/csv", "/api/v1/imports?map=correo", csv, alinea.RoleMarketing, 400, "map"},
			{"unknown parameter", "text/csv", "/api/v1/imports?dryrun=true", csv, alinea.RoleMarketing, 400, "dryrun"},
			{"wrong content type", "application/json", "/api/v1/imports", []byte(`{}`), alinea.RoleMarketing, 400, "Content-Type"},
			{"unknown import", "", "/api/v1/imports/999", nil, alinea.RoleMarketing, 404, ""},
		}
		for _, tc := range cases {
			method := "POST"
			if tc.status == 404 {
				method = "GET"
			}
			e := a.sendFail(tc.role, method, tc.path, tc.ct, tc.body, tc.status)
			if tc.field != "" && e.Error.Fields[tc.field] == "" {
				t.Errorf("%s: no problem named %q: %+v", tc.name, tc.field, e.Error)
			}
		}
	})
}

func TestAPIUnknownRoutesAnswerJSON(t *testing.T) {
	a := newAPITest(t, store.SQLite)
	e := a.sendFail(alinea.RoleSales, "GET", "/api/v1/nothing-here", "", nil, http.StatusNotFound)
	if e.Error.Code != alinea.ENOTFOUND {
		t.Fatalf("unknown path: %+v", e)
	}
	status, hdr, body := a.send(alinea.RoleSales, "PUT", "/api/v1/contacts", "application/json", []byte(`{}`))
	if status != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, POST" || !bytes.Contains(body, []byte(`"method_not_allowed"`)) {
		t.Fatalf("wrong method: %d %q %s", status, hdr.Get("Allow"), body)
	}
}
