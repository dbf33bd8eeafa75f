package web

import (
	"context"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
)

// noUsers is an import destination without users, for dry runs.
type noUsers struct{}

func (noUsers) UpsertCheckedContacts(context.Context, []alinea.ContactFields, alinea.Actor) (alinea.UpsertResult, error) {
	return alinea.UpsertResult{}, nil
}

func (noUsers) UserByEmail(_ context.Context, email string) (alinea.User, error) {
	return alinea.User{}, alinea.Errorf(alinea.ENOTFOUND, "no user %s", email)
}

// TestImportProblemsAreLocalized runs the importer over a file with one of
// each kind of bad row and checks that every problem it reports is told in
// the catalog's words: a change to csvimport's messages fails here rather
// than showing English on a Spanish page.
func TestImportProblemsAreLocalized(t *testing.T) {
	langs, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	es := langs.get("es")
	rows := []struct {
		row, want string
	}{
		{"no-es-un-correo;Ana;;;;;;;;", "«no-es-un-correo» no es una dirección de correo válida."},
		{";Ana;;;;;;;;", "Falta el correo electrónico"},
		{"a2@x.es;" + strings.Repeat("n", 201) + ";;;;;;;;", "como mucho 200 caracteres"},
		{"a3@x.es;Ana;abc;;;;;;;", "«abc» no es un teléfono"},
		{"a4@x.es;Ana;;Narnia;;;;;;", "«Narnia» no es un país conocido."},
		{"a5@x.es;Ana;;;etapa rara;;;;;", "«etapa rara» no es una etapa del embudo."},
		{"a6@x.es;Ana;;;reciclado;;;;;", "Un contacto nuevo no puede empezar como Reciclado."},
		{"a7@x.es;Ana;;;;quizás;;;;", "«quizás» no es una respuesta de consentimiento"},
		{"a8@x.es;Ana;;;;;doce;;;", "«doce» no es un identificador de cuenta"},
		{"a9@x.es;Ana;;;;;;no es correo;;", "«no es correo» no es una dirección de correo: el propietario"},
		{"a10@x.es;Ana;;;;;;nadie@x.es;;", "nadie@x.es no es un usuario de Alinea."},
		{"a11@x.es;Ana;;;;;;;[1,2];", "Las propiedades deben ser un objeto JSON"},
		{"a12@x.es;Ana;;;;;;;;\xff", "no están en UTF-8"},
		{"a13@x.es;Ana", "Tiene 2 campos y el encabezado 10."},
		{"a14@x.es;Ana;;;;;;;;", ""},
		{"a14@x.es;Ana;;;;;;;;", "a14@x.es también está en la fila 16; se aplica esta fila, la posterior."},
		{"a15@x.es;\"Ana;;;;;;;;", "No se puede leer como CSV (línea 18)."},
	}
	var file strings.Builder
	file.WriteString("email;nombre;teléfono;país;etapa;consentimiento;account id;propietario;propiedades;notas\n")
	for _, r := range rows {
		file.WriteString(r.row + "\n")
	}
	var got []importProblem
	im, err := csvimport.New(strings.NewReader(file.String()), csvimport.Options{DryRun: true, OnProblem: func(p csvimport.Problem) {
		got = append(got, newImportProblem(es, p.Row, p.Column, p.Message))
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := im.Run(context.Background(), noUsers{}); err != nil {
		t.Fatal(err)
	}
	byRow := map[int]importProblem{}
	for _, p := range got {
		if p.Raw {
			t.Errorf("row %d, column %q: shown in English: %s", p.Row, p.Column, p.Text)
		}
		byRow[p.Row] = p
	}
	for i, r := range rows {
		p, ok := byRow[i+2]
		switch {
		case r.want == "" && ok:
			t.Errorf("row %d: unexpected problem %q", i+2, p.Text)
		case r.want != "" && !strings.Contains(p.Text, r.want):
			t.Errorf("row %d: %q, want %q", i+2, p.Text, r.want)
		}
	}

	// A problem the catalog does not know is shown as written, marked.
	if p := newImportProblem(es, 4, "", "database is on fire"); !p.Raw || p.Text != "database is on fire" {
		t.Errorf("unknown problem %+v", p)
	}
	// Without a column, the field the message starts with names it.
	if p := newImportProblem(es, 4, "", "email is required: imports match contacts by email"); p.Raw || p.Column != "Correo electrónico" {
		t.Errorf("store's problem %+v", p)
	}
}
