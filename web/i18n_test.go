package web

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"
	"time"

	"github.com/alinea-crm/alinea"
)

// TestCatalogsAreComplete fails when a message the UI uses is missing from
// either language, when the languages' key sets differ, or when a message
// takes different arguments in each language.
func TestCatalogsAreComplete(t *testing.T) {
	catalogs := map[string]map[string]json.RawMessage{}
	for _, code := range languageCodes {
		msgs, err := readCatalog(code)
		if err != nil {
			t.Fatal(err)
		}
		catalogs[code] = msgs
	}

	used := map[string][]string{} // key -> where
	use := func(key, where string) { used[key] = append(used[key], where) }
	for key, where := range templateKeys(t) {
		for _, w := range where {
			use(key, w)
		}
	}
	for key, where := range goKeys(t) {
		for _, w := range where {
			use(key, w)
		}
	}
	// Keys built at run time from the domain's vocabulary.
	for _, s := range alinea.AllStages {
		use("stage."+string(s), "stageName")
	}
	for _, s := range alinea.AllStages {
		use("mode."+string(s.Mode()), "modeName")
	}
	for _, r := range []alinea.Role{alinea.RoleAdmin, alinea.RoleMarketing, alinea.RoleSales, alinea.RoleManager} {
		use("role."+string(r), "roleName")
	}
	for _, c := range []alinea.Consent{alinea.ConsentUnknown, alinea.ConsentGranted, alinea.ConsentDenied} {
		use("consent."+string(c), "contactDetails")
	}
	for _, d := range []string{"lead", "mql", "sql"} {
		use("definition."+d, "explainScore")
	}
	for _, r := range knownReasons {
		use("reason."+r, "reasonLabel")
	}
	for _, p := range knownPipelineStages {
		use("pipeline."+p, "pipelineStageName")
	}
	for _, code := range languageCodes {
		use("language."+code, "views.render")
	}
	for m := 1; m <= 12; m++ {
		use("month."+strconv.Itoa(m), "loadLocales")
	}
	for _, it := range navigation {
		use(it.Key, "navigation")
	}
	if len(used) < 100 {
		t.Fatalf("found only %d message keys in use; the scan is broken", len(used))
	}

	for key, where := range used {
		for _, code := range languageCodes {
			if _, ok := catalogs[code][key]; !ok {
				t.Errorf("locales/%s.json lacks %q (used in %s)", code, key, strings.Join(slices.Compact(slices.Sorted(slices.Values(where))), ", "))
			}
		}
	}
	first := languageCodes[0]
	for _, code := range languageCodes[1:] {
		for key := range catalogs[first] {
			if _, ok := catalogs[code][key]; !ok {
				t.Errorf("%q is in locales/%s.json but not in locales/%s.json", key, first, code)
			}
		}
		for key := range catalogs[code] {
			if _, ok := catalogs[first][key]; !ok {
				t.Errorf("%q is in locales/%s.json but not in locales/%s.json", key, code, first)
			}
		}
	}
	for key := range catalogs[first] {
		if _, ok := used[key]; !ok {
			t.Errorf("%q is in the catalogs but nothing uses it", key)
		}
		want := arity(t, first, key, catalogs[first][key])
		for _, code := range languageCodes[1:] {
			if raw, ok := catalogs[code][key]; ok {
				if got := arity(t, code, key, raw); got != want {
					t.Errorf("%q takes %d arguments in %s but %d in %s", key, want, first, got, code)
				}
			}
		}
	}
}

// templateKeys finds every {{t "key" ...}} in the templates.
func templateKeys(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil || len(files) == 0 {
		t.Fatalf("templates: %v", err)
	}
	funcs := template.FuncMap{}
	for name := range templateFuncs(&locale{}, &assets{}, time.Now) {
		funcs[name] = func(...any) string { return "" }
	}
	for _, f := range files {
		src, err := templateFiles.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		trees, err := parse.Parse(f, string(src), "{{", "}}", funcs, builtins)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, tree := range trees {
			walk(tree.Root, func(cmd *parse.CommandNode) {
				if len(cmd.Args) < 2 {
					return
				}
				if id, ok := cmd.Args[0].(*parse.IdentifierNode); ok && id.Ident == "t" {
					if s, ok := cmd.Args[1].(*parse.StringNode); ok {
						out[s.Text] = append(out[s.Text], f)
					} else {
						t.Errorf("%s: t takes a literal key so that this test can check it; got %s", f, cmd.Args[1])
					}
				}
			})
		}
	}
	return out
}

// builtins are text/template's own functions, for parsing.
var builtins = func() map[string]any {
	out := map[string]any{}
	for _, name := range []string{"and", "or", "not", "len", "index", "print", "printf", "println", "eq", "ne", "lt", "le", "gt", "ge", "html", "js", "urlquery", "call", "slice"} {
		out[name] = fmt.Sprint
	}
	return out
}()

func walk(n parse.Node, fn func(*parse.CommandNode)) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		fn(n)
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *parse.IfNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.RangeNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.WithNode:
		walk(n.Pipe, fn)
		walk(n.List, fn)
		walk(n.ElseList, fn)
	case *parse.TemplateNode:
		walk(n.Pipe, fn)
	}
}

// goKeys finds every call X.T("key", ...) in the package's Go files.
func goKeys(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "T" {
				return true
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				key, _ := strconv.Unquote(lit.Value)
				out[key] = append(out[key], fset.Position(lit.Pos()).String())
			}
			return true
		})
	}
	return out
}

var verb = regexp.MustCompile(`%(\[(\d+)\])?[-+# 0]*[0-9.]*[a-zA-Z%]`)

// arity counts the arguments a message consumes: the highest explicit
// index, or the number of verbs. Plural forms must agree among themselves.
func arity(t *testing.T, code, key string, raw json.RawMessage) int {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return formatArity(s)
	}
	var forms map[string]string
	if err := json.Unmarshal(raw, &forms); err != nil {
		t.Errorf("locales/%s.json: %q is neither a string nor plural forms", code, key)
		return -1
	}
	n := -1
	for form, msg := range forms {
		a := formatArity(msg)
		if form == "=0" || form == "one" {
			// "once", "ninguna vez": a form may leave out the count.
			if n < 0 {
				continue
			}
			a = max(a, n)
		}
		if n >= 0 && a != n {
			t.Errorf("locales/%s.json: %q forms take different arguments", code, key)
		}
		n = max(n, a)
	}
	return n
}

func formatArity(s string) int {
	count, highest := 0, 0
	for _, m := range verb.FindAllStringSubmatch(s, -1) {
		if strings.HasSuffix(m[0], "%") {
			continue
		}
		count++
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			highest = max(highest, i)
		}
	}
	return max(count, highest)
}

func TestLocaleFormats(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	es, en := ls.get("es"), ls.get("en")
	at := time.Date(2026, 3, 2, 14, 5, 0, 0, time.UTC)
	for _, tc := range []struct{ got, want string }{
		{es.Money(123450, "EUR"), "1.234,50\u00a0€"},
		{en.Money(123450, "EUR"), "€1,234.50"},
		{es.Money(1250000, "EUR"), "12.500\u00a0€"},
		{en.Money(1250000, "USD"), "$12,500"},
		{en.Money(99900, "MXN"), "MXN\u00a0999"},
		{es.Int(1234567), "1.234.567"},
		{en.Int(1234567), "1,234,567"},
		{es.Percent(0.256), "26\u00a0%"},
		{en.Percent(0.256), "26%"},
		{es.Date(at), "2 mar 2026"},
		{en.Date(at), "Mar 2, 2026"},
		{es.DateTime(at), "2 mar 2026, 14:05"},
		{en.DateTime(at), "Mar 2, 2026, 2:05 PM"},
		{es.Quarter(at), "T1 2026"},
		{en.Quarter(at), "Q1 2026"},
		{es.Country("ES"), "España"},
		{en.Country("MX"), "Mexico"},
		{es.Ago(at.Add(-3*24*time.Hour), at), "hace 3 días"},
		{en.Ago(at.Add(-time.Hour), at), "1 hour ago"},
		{es.T("score.events", 0, "Trial Started"), "«Trial Started»: ninguna vez"},
		{en.T("score.events", 3, "Trial Started"), "“Trial Started”: 3 times"},
		{es.T("signin.rate_limited", 1), "Demasiados intentos fallidos. Vuelve a intentarlo dentro de 1 minuto."},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if got := ls.negotiate("de-DE, en;q=0.5").Code; got != "en" {
		t.Errorf("de then en: %s", got)
	}
	if got := ls.negotiate("pt-BR").Code; got != "es" {
		t.Errorf("an unsupported language falls back to Spanish; got %s", got)
	}
}

func TestNavigationFollowsRoles(t *testing.T) {
	ls, err := loadLocales()
	if err != nil {
		t.Fatal(err)
	}
	items := []navItem{{Key: "nav.home", Href: "/"}, {Key: "nav.contacts", Href: "/contacts", Roles: []alinea.Role{alinea.RoleSales}}}
	for _, tc := range []struct {
		role alinea.Role
		want []string
	}{
		{alinea.RoleSales, []string{"Inicio", "Contactos"}},
		{alinea.RoleMarketing, []string{"Inicio"}},
		{alinea.RoleAdmin, []string{"Inicio", "Contactos"}},
	} {
		var got []string
		for _, l := range navLinks(items, ls.get("es"), tc.role, "/contacts/3") {
			got = append(got, l.Label)
			if l.Current != (l.Href == "/contacts") {
				t.Errorf("%s: %s marked current=%v on /contacts/3", tc.role, l.Href, l.Current)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s sees %v, want %v", tc.role, got, tc.want)
		}
	}
}

func TestLocalPathRefusesOtherSites(t *testing.T) {
	for in, want := range map[string]string{
		"/contacts/3?x=1#top":            "/contacts/3?x=1",
		"http://127.0.0.1:8080/contacts": "/contacts",
		"https://evil.example":           "",
		"//evil.example/a":               "",
		`/\evil.example`:                 "",
		"javascript:alert(1)":            "",
		"":                               "",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFailureLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newFailureLimiter(3, 10*time.Minute, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if _, blocked := l.blocked("k"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		l.fail("k")
		now = now.Add(time.Minute)
	}
	wait, blocked := l.blocked("k")
	if !blocked || wait != 7*time.Minute {
		t.Fatalf("after 3 failures: blocked=%v wait=%v, want 7m", blocked, wait)
	}
	if _, blocked := l.blocked("other"); blocked {
		t.Error("another key is blocked")
	}
	now = now.Add(7 * time.Minute)
	if _, blocked := l.blocked("k"); blocked {
		t.Error("still blocked once the oldest failure left the window")
	}
	l.fail("k")
	l.reset("k")
	if _, blocked := l.blocked("k"); blocked {
		t.Error("blocked after reset")
	}
}
