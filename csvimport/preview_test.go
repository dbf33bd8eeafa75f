package csvimport_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alinea-crm/alinea/csvimport"
)

func TestReadPreview(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		targets []string
		rows    int
		problem string // part of Preview.Problem; "" for none
		err     error
	}{
		{name: "spanish headers, semicolons, BOM", file: "\xEF\xBB\xBFCorreo electrónico;Nombre;Fecha de alta\nana@x.es;Ana;2026-01-02\n\nluis@x.es;Luis;\nbea@x.es;Bea;\n",
			targets: []string{"email", "first_name", "property:fecha_de_alta"}, rows: 2},
		{name: "no email column still maps the rest", file: "E-post,Empresa\nana@x.es,Acme\n",
			targets: []string{"property:e_post", "property:company"}, rows: 1, problem: "no column maps to email"},
		{name: "two columns for one field", file: "email,correo\na@x.es,b@x.es\n",
			targets: []string{"email", "email"}, rows: 1, problem: "both map to email"},
		{name: "an unreadable row ends the preview", file: "email,nombre\na@x.es,\"Ana\nb@x.es,Luis\n",
			targets: []string{"email", "first_name"}, rows: 0},
		{name: "empty", file: "", err: csvimport.ErrEmptyFile},
		{name: "latin-1 header", file: "email;pa\xeds\na@x.es;ES\n", err: csvimport.ErrNotUTF8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := csvimport.ReadPreview(strings.NewReader(tt.file), 2)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var targets []string
			for _, c := range p.Columns {
				targets = append(targets, c.Target)
			}
			if strings.Join(targets, " ") != strings.Join(tt.targets, " ") {
				t.Errorf("targets %v, want %v", targets, tt.targets)
			}
			if len(p.Rows) != tt.rows {
				t.Errorf("%d rows %q, want %d", len(p.Rows), p.Rows, tt.rows)
			}
			switch {
			case tt.problem == "" && p.Problem != nil:
				t.Errorf("problem %v, want none", p.Problem)
			case tt.problem != "" && (p.Problem == nil || !strings.Contains(p.Problem.Error(), tt.problem)):
				t.Errorf("problem %v, want %q", p.Problem, tt.problem)
			}
		})
	}
	p, _ := csvimport.ReadPreview(strings.NewReader("a;b\n1;2\n"), 5)
	if p.Delimiter != ';' || p.Rows[0][1] != "2" {
		t.Errorf("delimiter %q rows %q", p.Delimiter, p.Rows)
	}
}
