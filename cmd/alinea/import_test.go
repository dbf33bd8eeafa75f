package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cli runs alinea in-process with the given arguments and captured streams.
func cli(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader(""), getenv: func(string) string { return "" }}
	err = run(context.Background(), e, args)
	return out.String(), errOut.String(), err
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// column returns the value of the named column of rec under header.
func column(t *testing.T, header, rec []string, name string) string {
	t.Helper()
	for i, h := range header {
		if h == name {
			return rec[i]
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return ""
}

func TestImportAndExportContacts(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "alinea.db")
	if _, _, err := cli(t, "user", "add", "--db", db, "--email", "ventas@alinea.test", "--name", "Ventas", "--role", "sales", "--password", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "contactos.csv")
	text := "\uFEFFCorreo electrónico;Nombre;Apellidos;País;Etapa;Consentimiento;Propietario;Empresa\r\n" +
		"ana@acme.es;Ana;García;España;lead;sí;ventas@alinea.test;Acme S.L.\r\n" +
		"no-es-un-email;Mal;;MX;;;;\r\n" +
		"Luis@Andes.cl;Luis;Rojas;Chile;mql;no;;Andes\r\n"
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}

	// A dry run reports the bad row and writes nothing.
	stdout, _, err := cli(t, "import", "contacts", file, "--db", db, "--dry-run")
	if err == nil || !strings.Contains(err.Error(), "1 of 3 rows failed") {
		t.Fatalf("dry run: err %v", err)
	}
	if !strings.Contains(stdout, `row 3, column "Correo electrónico": error: is not a valid email address: "no-es-un-email"`) || !strings.Contains(stdout, "nothing was written") {
		t.Fatalf("dry run output:\n%s", stdout)
	}
	out := filepath.Join(dir, "export.csv")
	if _, _, err := cli(t, "export", "contacts", "--db", db, "-o", out); err != nil {
		t.Fatal(err)
	}
	if recs := readCSV(t, out); len(recs) != 1 {
		t.Fatalf("dry run wrote %d contacts", len(recs)-1)
	}

	// The real import stores the good rows around the bad one and fails.
	errPath := filepath.Join(dir, "errores.csv")
	stdout, _, err = cli(t, "import", "contacts", "--db", db, file, "--errors", errPath)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 rows failed") {
		t.Fatalf("import: err %v\n%s", err, stdout)
	}
	if !regexp.MustCompile(`created\s+2\b`).MatchString(stdout) || !regexp.MustCompile(`skipped\s+1\b`).MatchString(stdout) {
		t.Fatalf("import summary:\n%s", stdout)
	}
	errs := readCSV(t, errPath)
	if len(errs) != 2 || strings.Join(errs[0], ",") != "row,column,problem" || errs[1][0] != "3" || errs[1][1] != "Correo electrónico" {
		t.Fatalf("errors file %v", errs)
	}

	if _, stderr, err := cli(t, "export", "contacts", "--db", db, "-o", out); err != nil || !strings.Contains(stderr, "exported 2 contacts") {
		t.Fatalf("export: %v %s", err, stderr)
	}
	recs := readCSV(t, out)
	if len(recs) != 3 {
		t.Fatalf("export has %d rows, want a header and 2 contacts: %v", len(recs), recs)
	}
	header, ana, luis := recs[0], recs[1], recs[2]
	for _, c := range []struct {
		rec        []string
		name, want string
	}{
		{ana, "email", "ana@acme.es"}, {ana, "last_name", "García"}, {ana, "country", "ES"}, {ana, "stage", "lead"},
		{ana, "consent", "granted"}, {ana, "owner", "ventas@alinea.test"}, {ana, "properties", `{"company":"Acme S.L."}`},
		{luis, "email", "luis@andes.cl"}, {luis, "country", "CL"}, {luis, "consent", "denied"}, {luis, "owner", ""}, {luis, "mode", "information"},
	} {
		if got := column(t, header, c.rec, c.name); got != c.want {
			t.Errorf("exported %s = %q, want %q", c.name, got, c.want)
		}
	}

	// Filters are the API's.
	for _, f := range []struct {
		args []string
		want int
	}{
		{[]string{"--stage", "mql"}, 1},
		{[]string{"--owner", "ventas@alinea.test"}, 1},
		{[]string{"--email", "LUIS@andes.cl"}, 1},
		{[]string{"--updated-since", "2999-01-01"}, 0},
		{[]string{"--updated-since", "2000-01-01T00:00:00Z", "--stage", "lead"}, 1},
	} {
		stdout, _, err := cli(t, append([]string{"export", "contacts", "--db", db}, f.args...)...)
		if err != nil {
			t.Fatalf("export %v: %v", f.args, err)
		}
		recs, err := csv.NewReader(strings.NewReader(stdout)).ReadAll()
		if err != nil || len(recs)-1 != f.want {
			t.Errorf("export %v: %d contacts (%v), want %d", f.args, len(recs)-1, err, f.want)
		}
	}

	// An export imports back unchanged: every row matches an existing contact.
	stdout, _, err = cli(t, "import", "contacts", out, "--db", db)
	if err != nil {
		t.Fatalf("re-import of the export: %v\n%s", err, stdout)
	}
	if !regexp.MustCompile(`created\s+0\b`).MatchString(stdout) || !regexp.MustCompile(`updated\s+2\b`).MatchString(stdout) ||
		!regexp.MustCompile(`errors\s+0\b`).MatchString(stdout) {
		t.Fatalf("re-import summary:\n%s", stdout)
	}
	if _, _, err := cli(t, "export", "contacts", "--db", db, "-o", out); err != nil {
		t.Fatal(err)
	}
	again := readCSV(t, out)
	for _, name := range []string{"email", "first_name", "country", "owner", "consent", "stage", "properties", "created_at"} {
		for i := 1; i < 3; i++ {
			if column(t, header, recs[i], name) != column(t, again[0], again[i], name) {
				t.Errorf("round trip changed %s: %q → %q", name, column(t, header, recs[i], name), column(t, again[0], again[i], name))
			}
		}
	}
}

func TestImportFlags(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "alinea.db")
	file := filepath.Join(dir, "c.csv")
	if err := os.WriteFile(file, []byte("Work Email,Notes,Tier\nw@corp.co,call,gold\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, err := cli(t, "import", "contacts", "-h")
	if !errors.Is(err, flag.ErrHelp) || !strings.Contains(stderr, "Exit status") || !strings.Contains(stderr, "-dry-run") {
		t.Fatalf("help: %v\n%s", err, stderr)
	}
	if _, _, err := cli(t, "import", "contacts", file, "--db", db); err == nil || !strings.Contains(err.Error(), "no column maps to email") {
		t.Fatalf("without --map: %v", err)
	}
	stdout, _, err := cli(t, "import", "contacts", file, "--db", db, "--map", "Work Email=email", "--map", "Tier=property:plan", "--ignore-unmapped")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "Work Email → email (--map)") || !strings.Contains(stdout, "Notes → ignored") || !strings.Contains(stdout, "Tier → property plan") {
		t.Fatalf("mapping not shown:\n%s", stdout)
	}
	stdout, _, err = cli(t, "export", "contacts", "--db", db, "--delimiter", ";")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, `;"{""plan"":""gold""}";`) {
		t.Fatalf("export:\n%s", stdout)
	}
	if _, _, err := cli(t, "export", "contacts", "--db", filepath.Join(dir, "missing.db")); err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("export of a missing database: %v", err)
	}
}
