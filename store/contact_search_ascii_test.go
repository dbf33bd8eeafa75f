package store_test

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestContactSearchVectorSkipsTranslateForASCII compares PostgreSQL's
// contact_search_vector (migration 00022: ASCII fields skip translate)
// with the function of 00015 it replaced, on names and emails in and out
// of ASCII: the stored vectors must not change.
func TestContactSearchVectorSkipsTranslateForASCII(t *testing.T) {
	ctx := context.Background()
	s := postgresOnly(t)
	db, _ := s.Handles()
	src, err := os.ReadFile("migrations/postgres/00015_contact_search.sql")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(src), "CREATE FUNCTION contact_search_vector")
	end := strings.Index(string(src[start:]), "$$;") + 3
	if start < 0 || end < 3 {
		t.Fatal("00015 no longer defines contact_search_vector as expected")
	}
	old := strings.Replace(string(src[start:start+end]), "contact_search_vector", "contact_search_vector_00015", 1)
	if _, err := db.ExecContext(ctx, old); err != nil {
		t.Fatal(err)
	}
	inputs := [][3]*string{}
	str := func(v string) *string { return &v }
	for _, name := range []string{"", "Ana", "ANA MARÍA", "José", "garcía-lópez", "O'Brien", "Łukasz", "Ærøskøbing", "İstanbul", "Straße", "Nguyễn", "李雷", "a.b_c"} {
		inputs = append(inputs, [3]*string{str(name), str("Fernández"), str(strings.ToLower(name) + "@acme.es")})
		inputs = append(inputs, [3]*string{str("Lucía"), str(name), str("LUCIA." + name + "@Empresa.COM")})
	}
	inputs = append(inputs, [3]*string{nil, nil, nil}, [3]*string{str("Ana"), nil, str("ana@acme.es")})
	for _, in := range inputs {
		var same bool
		var got string
		err := db.QueryRowContext(ctx, `SELECT contact_search_vector($1, $2, $3) = contact_search_vector_00015($1, $2, $3)
			OR (contact_search_vector($1, $2, $3) IS NULL AND contact_search_vector_00015($1, $2, $3) IS NULL),
			COALESCE(contact_search_vector($1, $2, $3)::text, 'NULL')`, in[0], in[1], in[2]).Scan(&same, &got)
		if err != nil {
			t.Fatal(err)
		}
		if !same {
			t.Errorf("contact_search_vector(%v, %v, %v) = %s, not as in 00015", deref(in[0]), deref(in[1]), deref(in[2]), got)
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "NULL"
	}
	return *p
}
