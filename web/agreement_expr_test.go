package web

import (
	"strings"
	"testing"
)

// flat writes an exprView on one line: all[...] / any[...] / text / `code`.
func flat(v exprView) string {
	switch v.Kind {
	case "all", "any":
		parts := make([]string, len(v.Parts))
		for i, p := range v.Parts {
			parts[i] = flat(p)
		}
		return v.Kind + "[" + strings.Join(parts, "; ") + "]"
	case "code":
		return "`" + v.Text + "`"
	}
	return v.Text
}

func TestReadableExpressions(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	es, en := ls.get("es"), ls.get("en")
	for _, c := range []struct{ src, es, en string }{
		{`did("Webinar Registered") && did("Webinar Attended", within("30d"))`,
			`all[ha hecho «Webinar Registered»; ha hecho «Webinar Attended» en los últimos 30 días]`,
			`all[did “Webinar Registered”; did “Webinar Attended” in the last 30 days]`},
		{`did("A") and (did("B") || !did("C", within("1w")))`,
			`all[ha hecho «A»; any[ha hecho «B»; no ha hecho «C» en la última semana]]`,
			`all[did “A”; any[did “B”; did not do “C” in the last week]]`},
		{`contact.email != ""`, `el correo del contacto no está vacío`, `the contact's email is not empty`},
		{`contact.country in ["ES", "MX"]`, `el país del contacto es uno de: España, México`, `the contact's country is one of: Spain, Mexico`},
		{`account.employees >= 50 && account.employees <= 1000`,
			`all[el número de empleados de la empresa es al menos 50; el número de empleados de la empresa es como mucho 1.000]`,
			`all[the company's number of employees is at least 50; the company's number of employees is at most 1,000]`},
		{`count("Email Clicked", within(7)) > 2`, `el número de veces que ha hecho «Email Clicked» en los últimos 7 días es más de 2`,
			`the number of times they did “Email Clicked” in the last 7 days is more than 2`},
		{`contact.properties["plan"] == "pro"`, `la propiedad «plan» del contacto es «pro»`, `the contact's “plan” property is “pro”`},
		{`contact.stage == "mql"`, `la etapa del contacto es MQL`, `the contact's stage is MQL`},
		{`fit >= 30 && days_since("Trial Started") < 14`,
			`all[el encaje es al menos 30; el número de días desde su último «Trial Started» es menos de 14]`,
			`all[the fit score is at least 30; the number of days since their last “Trial Started” is less than 14]`},
		// What has no words stays code, and so does what does not parse.
		{`len(contact.first_name) > 3 || did("X")`, "any[`len(contact.first_name) > 3`; ha hecho «X»]", "any[`len(contact.first_name) > 3`; did “X”]"},
		{`did("X") && &&`, "`did(\"X\") && &&`", "`did(\"X\") && &&`"},
	} {
		if got := flat(readableExpr(es, c.src)); got != c.es {
			t.Errorf("es %s:\n got %s\nwant %s", c.src, got, c.es)
		}
		if got := flat(readableExpr(en, c.src)); got != c.en {
			t.Errorf("en %s:\n got %s\nwant %s", c.src, got, c.en)
		}
	}
}
