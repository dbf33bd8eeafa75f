package csvimport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/csvimport"
	"github.com/alinea-crm/alinea/store"
	"github.com/alinea-crm/alinea/store/storetest"
)

func ptr[T any](v T) *T { return &v }

// importCSV runs a whole import of text into s and collects the problems.
func importCSV(t *testing.T, s *store.Store, text string, opt csvimport.Options) (*csvimport.Importer, csvimport.Summary, []csvimport.Problem) {
	t.Helper()
	var problems []csvimport.Problem
	opt.OnProblem = func(p csvimport.Problem) { problems = append(problems, p) }
	im, err := csvimport.New(strings.NewReader(text), opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var dst csvimport.Destination
	if s != nil {
		dst = s
	}
	sum, err := im.Run(context.Background(), dst)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return im, sum, problems
}

func contact(t *testing.T, s *store.Store, email string) alinea.Contact {
	t.Helper()
	list, _, err := s.Contacts(context.Background(), alinea.ContactFilter{Email: email})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d contacts with email %s, want 1", len(list), email)
	}
	return list[0]
}

func props(t *testing.T, c alinea.Contact) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := json.Unmarshal(c.Properties, &m); err != nil {
		t.Fatalf("properties %s: %v", c.Properties, err)
	}
	return m
}

func TestColumnMapping(t *testing.T) {
	type want struct {
		email, first, last, phone, title, country, source string
		stage                                             alinea.Stage
		consent                                           alinea.Consent
		props                                             map[string]any
	}
	cases := []struct {
		name    string
		csv     string
		opt     csvimport.Options
		delim   rune
		targets []string
		want    want
	}{
		{
			name:    "english headers",
			csv:     "E-mail,First Name,Last Name,Phone,Job Title,Company,Country,Source,Stage,Consent,Favourite Colour\nAna@Example.com,Ana,Smith,+44 20 7946 0958,CMO,Acme,United Kingdom,webinar,MQL,yes,blue\n",
			delim:   ',',
			targets: []string{"email", "first_name", "last_name", "phone", "job_title", "property:company", "country", "source", "stage", "consent", "property:favourite_colour"},
			want: want{email: "ana@example.com", first: "Ana", last: "Smith", phone: "+44 20 7946 0958", title: "CMO", country: "GB", source: "webinar",
				stage: alinea.StageMQL, consent: alinea.ConsentGranted, props: map[string]any{"company": "Acme", "favourite_colour": "blue"}},
		},
		{
			name: "spanish excel export: BOM, semicolons, accents, CRLF",
			csv: "\xEF\xBB\xBFCorreo electrónico;Nombre;Apellidos;Teléfono;Cargo;Empresa;País;Fuente;Etapa;Consentimiento;Fecha de alta\r\n" +
				"luis@acme.es;Luis;García Pérez;+34 600 123 456;Director de Marketing;Acme, S.L.;España;feria;cliente;sí;2024-03-01\r\n",
			delim:   ';',
			targets: []string{"email", "first_name", "last_name", "phone", "job_title", "property:company", "country", "source", "stage", "consent", "property:fecha_de_alta"},
			want: want{email: "luis@acme.es", first: "Luis", last: "García Pérez", phone: "+34 600 123 456", title: "Director de Marketing", country: "ES",
				source: "feria", stage: alinea.StageCustomer, consent: alinea.ConsentGranted, props: map[string]any{"company": "Acme, S.L.", "fecha_de_alta": "2024-03-01"}},
		},
		{
			name:    "spanish alternatives",
			csv:     "Correo;Apellido;Móvil;Puesto;Compañía;Pais;Origen;Consentimiento\n\"sofia@andes.cl\";Rojas;+56 9 8765 4321;Gerente;\"Andes; Ltda\";Chile;linkedin;no\n",
			delim:   ';',
			targets: []string{"email", "last_name", "phone", "job_title", "property:company", "country", "source", "consent"},
			want: want{email: "sofia@andes.cl", last: "Rojas", phone: "+56 9 8765 4321", title: "Gerente", country: "CL", source: "linkedin",
				stage: alinea.StageSubscriber, consent: alinea.ConsentDenied, props: map[string]any{"company": "Andes; Ltda"}},
		},
		{
			name:    "tab separated, ISO codes, mail and telefono",
			csv:     "mail\tnombre\ttelefono\tpais\tfuente\n mx@empresa.mx \tJosé\t55 1234 5678\tmx\tgoogle_ads\n",
			delim:   '\t',
			targets: []string{"email", "first_name", "phone", "country", "source"},
			want: want{email: "mx@empresa.mx", first: "José", phone: "55 1234 5678", country: "MX", source: "google_ads",
				stage: alinea.StageSubscriber, consent: alinea.ConsentUnknown, props: map[string]any{}},
		},
		{
			name: "--map overrides, ignore and property keys",
			csv:  "Work Address,Name,Surname,Notes,Segment,Account\nw@corp.co,Camila,Díaz,call back,enterprise,Corp SAS\n",
			opt: csvimport.Options{Map: map[string]string{"work address": "email", "Name": "first_name", "Notes": "ignore",
				"Segment": "property:tier", "Account": "ignore"}},
			delim:   ',',
			targets: []string{"email", "first_name", "last_name", "ignore", "property:tier", "ignore"},
			want: want{email: "w@corp.co", first: "Camila", last: "Díaz", stage: alinea.StageSubscriber, consent: alinea.ConsentUnknown,
				props: map[string]any{"tier": "enterprise"}},
		},
		{
			name:    "--ignore-unmapped drops unknown columns, export columns are ignored",
			csv:     "id,email,first_name,stage_changed_at,Shoe Size,properties\n42,pe@lima.pe,Rosa,2024-01-01T00:00:00Z,38,\"{\"\"plan\"\":\"\"pro\"\"}\"\n",
			opt:     csvimport.Options{IgnoreUnmapped: true},
			delim:   ',',
			targets: []string{"ignore", "email", "first_name", "ignore", "ignore", "properties"},
			want: want{email: "pe@lima.pe", first: "Rosa", stage: alinea.StageSubscriber, consent: alinea.ConsentUnknown,
				props: map[string]any{"plan": "pro"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.Open(t, store.SQLite, store.Options{})
			im, sum, problems := importCSV(t, s, tc.csv, tc.opt)
			if im.Delimiter() != tc.delim {
				t.Errorf("delimiter %q, want %q", im.Delimiter(), tc.delim)
			}
			var targets []string
			for _, c := range im.Columns() {
				targets = append(targets, c.Target)
			}
			if fmt.Sprint(targets) != fmt.Sprint(tc.targets) {
				t.Errorf("targets\n got %v\nwant %v", targets, tc.targets)
			}
			if len(problems) != 0 || sum.Created != 1 || sum.Rows != 1 {
				t.Fatalf("summary %+v, problems %v", sum, problems)
			}
			c := contact(t, s, tc.want.email)
			got := want{email: c.Email, first: c.FirstName, last: c.LastName, phone: c.Phone, title: c.JobTitle, country: c.Country,
				source: c.Source, stage: c.Stage, consent: c.Consent, props: props(t, c)}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("contact\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestHeaderProblems(t *testing.T) {
	cases := []struct {
		name, csv string
		opt       csvimport.Options
		want      string
	}{
		{"empty file", "", csvimport.Options{}, "empty"},
		{"no email column", "Nombre;Apellidos\nAna;García\n", csvimport.Options{}, "no column maps to email"},
		{"two email columns", "Email,Correo\na@b.es,c@d.es\n", csvimport.Options{}, `"Email" and "Correo" both map to email`},
		{"map names a missing column", "Email\na@b.es\n", csvimport.Options{Map: map[string]string{"Mail": "email"}}, `no column "Mail"`},
		{"map to unknown field", "Email,Tier\na@b.es,1\n", csvimport.Options{Map: map[string]string{"Tier": "level"}}, `unknown field "level"`},
		{"map to empty property key", "Email,Tier\na@b.es,1\n", csvimport.Options{Map: map[string]string{"Tier": "property:"}}, "needs a key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := csvimport.New(strings.NewReader(tc.csv), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestBadRowsAreReportedGoodRowsStored(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		if _, err := s.CreateUser(ctx, alinea.NewUser{Email: "sales@alinea.test", Name: "Sales", Role: alinea.RoleSales, Password: "correct horse battery"}); err != nil {
			t.Fatal(err)
		}
		text := "Email;Nombre;País;Etapa;Consentimiento;Propietario;Teléfono\n" +
			"uno@acme.es;Uno;ES;lead;sí;sales@alinea.test;\n" + // row 2
			"no-es-un-email;Dos;ES;;;;\n" + // row 3
			"tres@acme.es;Tres;Narnia;;;;\n" + // row 4
			"cuatro@acme.es;Cuatro;;ganador;quizá;;\n" + // row 5
			"cinco@acme.es;Cinco;;;;nadie@alinea.test;\n" + // row 6
			"seis@acme.es;Seis;;;;;12\n" + // row 7
			";;;;;;\n" + // blank row, not counted
			"siete@acme.es;Siete\n" + // row 9
			"ocho@acme.es;Ocho;MX;;;;+52 55 1234 5678\n" // row 10
		_, sum, problems := importCSV(t, s, text, csvimport.Options{})
		var got []string
		for _, p := range problems {
			got = append(got, fmt.Sprintf("%d|%s|%t", p.Row, p.Column, p.Warning))
		}
		want := []string{"3|Email|false", "4|País|false", "5|Consentimiento|false", "5|Etapa|false", "6|Propietario|false", "7|Teléfono|false", "9||false"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("problems\n got %v\nwant %v\n%v", got, want, problems)
		}
		for _, p := range problems {
			t.Log(p)
		}
		if !strings.Contains(problems[0].Message, "no-es-un-email") || !strings.Contains(problems[4].Message, "nadie@alinea.test") {
			t.Errorf("messages do not name the bad values: %q, %q", problems[0].Message, problems[4].Message)
		}
		if sum.Rows != 8 || sum.Created != 2 || sum.Skipped != 6 || sum.Errors != 7 {
			t.Fatalf("summary %+v", sum)
		}
		uno := contact(t, s, "uno@acme.es")
		if uno.OwnerID == 0 || uno.Stage != alinea.StageLead || uno.Consent != alinea.ConsentGranted {
			t.Fatalf("row 2 stored as %+v", uno)
		}
		contact(t, s, "ocho@acme.es")
		list, _, _ := s.Contacts(ctx, alinea.ContactFilter{})
		if len(list) != 2 {
			t.Fatalf("%d contacts stored, want 2", len(list))
		}
	})
}

func TestRowNumbersAcrossBatchesAndUnreadableRows(t *testing.T) {
	s := storetest.Open(t, store.SQLite, store.Options{})
	var b strings.Builder
	b.WriteString("email,first_name\n")
	for i := range 12 {
		switch i {
		case 4:
			b.WriteString("bad-email,x\n") // row 6
		case 9:
			b.WriteString("a\"b@x.es,y\n") // row 11: bare quote
		default:
			fmt.Fprintf(&b, "c%d@x.es,\"multi\nline %d\"\n", i, i)
		}
	}
	var progress []csvimport.Progress
	opt := csvimport.Options{BatchSize: 5, OnProgress: func(p csvimport.Progress) { progress = append(progress, p) }}
	_, sum, problems := importCSV(t, s, b.String(), opt)
	if len(problems) != 2 || problems[0].Row != 6 || problems[0].Column != "email" || problems[1].Row != 11 || problems[1].Column != "" {
		t.Fatalf("problems %v", problems)
	}
	if sum.Rows != 12 || sum.Created != 10 || sum.Skipped != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if len(progress) != 3 || progress[2].Rows != 12 || progress[2].Bytes != int64(b.Len()) || progress[0].Rows != 5 {
		t.Fatalf("progress %+v", progress)
	}
	if c := contact(t, s, "c11@x.es"); c.FirstName != "multi\nline 11" {
		t.Fatalf("quoted multi-line value: %q", c.FirstName)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		text := "email,stage,owner\nok@acme.es,mql,\nbad@,lead,\nok2@acme.es,,nobody@alinea.test\nOK@acme.es,sql,\n"
		_, sum, problems := importCSV(t, s, text, csvimport.Options{DryRun: true})
		if !sum.DryRun || sum.Rows != 4 || sum.Valid != 2 || sum.Skipped != 2 || sum.Created != 0 || sum.Updated != 0 {
			t.Fatalf("summary %+v", sum)
		}
		var got []string
		for _, p := range problems {
			got = append(got, fmt.Sprintf("%d|%s|%t", p.Row, p.Column, p.Warning))
		}
		if want := "[3|email|false 4|owner|false 5|email|true]"; fmt.Sprint(got) != want {
			t.Fatalf("problems %v, want %s", problems, want)
		}
		list, _, err := s.Contacts(ctx, alinea.ContactFilter{})
		if err != nil || len(list) != 0 {
			t.Fatalf("dry run stored %d contacts (%v)", len(list), err)
		}

		// Without a database the owner can only be checked for syntax.
		_, sum, problems = importCSV(t, nil, text, csvimport.Options{DryRun: true})
		if !sum.OwnersUnchecked || sum.Valid != 3 || len(problems) != 2 {
			t.Fatalf("dry run without a database: %+v %v", sum, problems)
		}
	})
}

func TestImportUpdatesExistingByEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		ctx := context.Background()
		s := storetest.Open(t, b, store.Options{})
		orig, err := s.CreateContact(ctx, alinea.ContactFields{Email: ptr("marta@acme.es"), FirstName: ptr("Marta"), Phone: ptr("+34 91 000 0000"),
			Stage: ptr(alinea.StageSQL), Properties: json.RawMessage(`{"plan":"pro"}`)}, alinea.Actor{Type: alinea.ActorAPI})
		if err != nil {
			t.Fatal(err)
		}
		text := "Email,Last Name,Phone,Stage,Tier\nMARTA@Acme.ES,Ruiz,,lead,gold\n"
		_, sum, problems := importCSV(t, s, text, csvimport.Options{})
		if sum.Created != 0 || sum.Updated != 1 || sum.Skipped != 0 {
			t.Fatalf("summary %+v", sum)
		}
		if len(problems) != 1 || !problems[0].Warning || problems[0].Column != "Stage" || problems[0].Row != 2 {
			t.Fatalf("want one warning about the backwards stage, got %v", problems)
		}
		c := contact(t, s, "marta@acme.es")
		p := props(t, c)
		if c.ID != orig.ID || c.FirstName != "Marta" || c.LastName != "Ruiz" || c.Phone != "+34 91 000 0000" || c.Stage != alinea.StageSQL ||
			p["plan"] != "pro" || p["tier"] != "gold" {
			t.Fatalf("updated contact %+v %v", c, p)
		}
	})
}

func TestDuplicateEmailsLastOneWins(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b store.Backend) {
		s := storetest.Open(t, b, store.Options{})
		text := "email,first_name\na@x.es,First\nb@x.es,B\nc@x.es,C\nA@X.ES,Second\nd@x.es,D\na@x.es,Third\n"
		_, sum, problems := importCSV(t, s, text, csvimport.Options{BatchSize: 2})
		if len(problems) != 2 || problems[0].Row != 5 || !strings.Contains(problems[0].Message, "row 2") || !problems[0].Warning ||
			problems[1].Row != 7 || !strings.Contains(problems[1].Message, "row 2") {
			t.Fatalf("problems %v", problems)
		}
		if sum.Created != 4 || sum.Updated != 2 || sum.Warnings != 2 || sum.Errors != 0 {
			t.Fatalf("summary %+v", sum)
		}
		if c := contact(t, s, "a@x.es"); c.FirstName != "Third" {
			t.Fatalf("first name %q, want the last row's", c.FirstName)
		}
	})
}
