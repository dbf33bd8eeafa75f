package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/demo"
	"github.com/alinea-crm/alinea/store"
)

const examplePath = "../../agreement/agreement-example.yaml"

func exampleYAML(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeEdited writes the example with old replaced by new (which must occur
// once) and returns the file's path.
func writeEdited(t *testing.T, dir, name string, edits ...string) string {
	t.Helper()
	doc := exampleYAML(t)
	for i := 0; i+1 < len(edits); i += 2 {
		if n := bytes.Count(doc, []byte(edits[i])); n != 1 {
			t.Fatalf("%q occurs %d times in the example, want once", edits[i], n)
		}
		doc = bytes.Replace(doc, []byte(edits[i]), []byte(edits[i+1]), 1)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// positionOf returns the 1-based line and column of the first occurrence
// of s in a file.
func positionOf(t *testing.T, path, s string) (int, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(s))
	if i < 0 {
		t.Fatalf("%q not in %s", s, path)
	}
	return bytes.Count(b[:i], []byte("\n")) + 1, i - bytes.LastIndexByte(b[:i], '\n')
}

func TestAgreementValidate(t *testing.T) {
	dir := t.TempDir()
	broken := writeEdited(t, dir, "broken.yaml",
		`did("Webinar Registered") && did("Webinar Attended", within("30d"))`, `did("Webinar Registered") && nope("x")`,
		"fit: [75, 50, 25]", "fit: [75, 80, 25]")
	exprLine, exprCol := positionOf(t, broken, `nope("x")`)
	gradeLine, _ := positionOf(t, broken, "fit: [75, 80, 25]")
	malformed := filepath.Join(dir, "malformed.yaml")
	if err := os.WriteFile(malformed, []byte("name: x\n  bad: indent\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(dir, "typo.json")
	if err := os.WriteFile(typo, []byte(`{"name": "x", "nmae": "y"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		file  string
		valid bool
		want  []string
	}{
		{"the example", examplePath, true, []string{"valid\n"}},
		{"a bad expression and a bad grade band", broken, false, []string{
			"2 problem(s)",
			fmt.Sprintf("%s:%d:%d: definitions.mql.when: unknown name nope (line 1, column 30)", broken, exprLine, exprCol),
			fmt.Sprintf("%s:%d:13: grades.fit[1]: must be lower than the bound before it (75)", broken, gradeLine),
		}},
		{"malformed YAML", malformed, false, []string{"malformed YAML: line 2"}},
		{"an unknown JSON field", typo, false, []string{`unknown field "nmae"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, err := cli(t, "agreement", "validate", tc.file)
			if tc.valid != (err == nil) {
				t.Fatalf("err = %v, want valid=%v\n%s", err, tc.valid, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, stdout)
				}
			}
			if !tc.valid && strings.Contains(stdout, "valid\n") {
				t.Errorf("an invalid document printed valid:\n%s", stdout)
			}
		})
	}
	if _, _, err := cli(t, "agreement", "validate", filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("a missing file: %v", err)
	}
}

// TestAgreementProposeSignActivate runs the two-team sign-off from the
// command line on a SQLite file with a contact who already qualifies.
func TestAgreementProposeSignActivate(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "alinea.db")
	for _, u := range [][2]string{{"marta@alinea.test", "marketing"}, {"sergio@alinea.test", "sales"}, {"gema@alinea.test", "manager"}} {
		if _, _, err := cli(t, "user", "add", "--db", db, "--email", u[0], "--name", u[0], "--role", u[1], "--password", "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	email, user := "lucia@logistica.es", "u-lucia"
	lucia, err := st.CreateContact(ctx, alinea.ContactFields{Email: &email, ExternalID: &user}, alinea.Actor{Type: alinea.ActorAPI})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	var msgs []alinea.Message
	for i, ev := range []string{"Webinar Registered", "Webinar Attended"} {
		at := now.Add(time.Duration(i-3) * 24 * time.Hour)
		msgs = append(msgs, alinea.Message{Type: "track", MessageID: ev, UserID: user, Event: ev, Timestamp: at, ReceivedAt: at})
	}
	if _, err := st.Ingest(ctx, 0, msgs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	agree := func(args ...string) (string, string, error) {
		return cli(t, append(append([]string{"agreement"}, args...), "--db", db, "--log-level", "warn")...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, errOut, err := agree(args...)
		if err != nil {
			t.Fatalf("agreement %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out, errOut)
		}
		return out
	}
	refused := func(want string, args ...string) {
		t.Helper()
		if _, _, err := agree(args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("agreement %v: err %v, want it to say %q", args, err, want)
		}
	}

	out := must("propose", examplePath, "--user", "marta@alinea.test")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if lines[len(lines)-1] != "1" || !strings.Contains(out, "proposed version 1") {
		t.Fatalf("propose printed:\n%s", out)
	}
	broken := writeEdited(t, dir, "broken.yaml", "min_fit: 30", "min_fit: 300")
	refused("definitions.sql.min_fit: is a score between 0 and 100", "propose", broken, "--user", "marta@alinea.test")
	refused("--user EMAIL is required", "sign", "1")
	refused("role manager cannot sign", "sign", "1", "--user", "gema@alinea.test")
	if out := must("sign", "1", "--user", "marta@alinea.test"); !strings.Contains(out, "signed version 1 for marketing") || !strings.Contains(out, "waiting for a sales lead") {
		t.Fatalf("marketing signed:\n%s", out)
	}
	refused("marketing has already signed version 1", "sign", "1", "--user", "marta@alinea.test")
	refused("not signed by sales", "activate", "1", "--user", "marta@alinea.test")
	if out := must("sign", "1", "--user", "sergio@alinea.test"); !strings.Contains(out, "both teams have signed") {
		t.Fatalf("sales signed:\n%s", out)
	}
	out, errOut, err := agree("activate", "1", "--user", "sergio@alinea.test")
	if err != nil || !strings.Contains(out, "version 1 ") || !strings.Contains(out, "re-evaluated 1 contacts") || !strings.Contains(out, "1 moved forward") ||
		!strings.Contains(errOut, "re-evaluation: 1 of 1 contacts (100%), 1 transitions") {
		t.Fatalf("activate: %v\nstdout:\n%s\nstderr:\n%s", err, out, errOut)
	}
	if out := must("list"); !regexp.MustCompile(`(?m)^1\s+active\s`).MatchString(out) || strings.Count(out, "\n") != 2 {
		t.Fatalf("list (the broken file must not have been stored):\n%s", out)
	}
	if out := must("show", "active"); !regexp.MustCompile(`(?m)^status\s+active$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^signed by sales\s+sergio@alinea.test \(user 2\)`).MatchString(out) {
		t.Fatalf("show active:\n%s", out)
	}

	// A second version: diff against the first, backtest beside it, then
	// activate without waiting (a server's workers would re-evaluate).
	second := writeEdited(t, dir, "second.yaml", "min_fit: 30", "min_fit: 40")
	if out := must("diff", "1", second); out != "definitions.sql.min_fit: 30 -> 40\n" {
		t.Fatalf("diff 1 second.yaml:\n%s", out)
	}
	if out := must("diff", examplePath, examplePath); out != "no differences\n" {
		t.Fatalf("diff of a file with itself:\n%s", out)
	}
	if out := must("backtest", second); !strings.Contains(out, "second.yaml: leads") || !strings.Contains(out, "v1 (active): leads") {
		t.Fatalf("backtest beside the active version:\n%s", out)
	}
	if out := must("propose", second, "--user", "marta@alinea.test", "--based-on", "1"); !strings.HasSuffix(out, "\n2\n") {
		t.Fatalf("second propose:\n%s", out)
	}
	must("sign", "2", "--user", "marta@alinea.test")
	must("sign", "2", "--user", "sergio@alinea.test")
	if out := must("activate", "2", "--user", "gema@alinea.test", "--no-wait"); !strings.Contains(out, "version 1 is superseded") || !strings.Contains(out, "queued") {
		t.Fatalf("activate --no-wait:\n%s", out)
	}
	if out, want := must("show", "2", "--yaml"), readFile(t, second); out != want {
		t.Fatalf("show 2 --yaml printed:\n%s\nwant the file as proposed:\n%s", out, want)
	}

	st, err = store.Open(ctx, db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hist, err := st.Transitions(ctx, lucia.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.To != alinea.StageMQL || last.AgreementVersion != 1 || last.Actor.Type != alinea.ActorRule {
		t.Fatalf("Lucía's last transition %+v", last)
	}
	if r, err := st.ReevaluationStatus(ctx, 2); err != nil || r.Status != "queued" {
		t.Fatalf("re-evaluation of version 2: %+v %v", r, err)
	}
	if v, _ := st.Agreement(ctx, 1); v.Status != agreement.StatusSuperseded {
		t.Fatalf("version 1 is %s", v.Status)
	}
}

// TestAgreementBacktestOnDemoData backtests the example over a small demo
// data set and checks the table against the JSON output.
func TestAgreementBacktestOnDemoData(t *testing.T) {
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "demo.db")
	if _, err := demo.Build(ctx, db, demo.Config{Seed: 3, Contacts: 200, Events: 4000, Now: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	args := []string{"agreement", "backtest", examplePath, "--db", db, "--from", "2024-06", "--to", "2025-05", "--log-level", "warn"}
	out, _, err := cli(t, append(args, "--json")...)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Reports []agreement.Report `json:"reports"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output: %v\n%s", err, out)
	}
	if len(res.Reports) != 1 || len(res.Reports[0].Months) != 12 || res.Reports[0].Label != "agreement-example.yaml" {
		t.Fatalf("reports %+v", res.Reports)
	}
	rep := res.Reports[0]
	if rep.Months[0].Month != "2024-06" || rep.Months[11].Month != "2025-05" || rep.MQLs == 0 || rep.SQLs == 0 || rep.Leads < rep.MQLs {
		t.Fatalf("report: %d leads, %d MQLs, %d SQLs from %s to %s", rep.Leads, rep.MQLs, rep.SQLs, rep.Months[0].Month, rep.Months[11].Month)
	}

	table, _, err := cli(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	for _, m := range rep.Months {
		if got, want := strings.Join(rows[m.Month][1:4], " "), fmt.Sprintf("%d %d %d", m.Leads, m.MQLs, m.SQLs); got != want {
			t.Errorf("table row %s: leads MQLs SQLs %q, want %q", m.Month, got, want)
		}
	}
	if got, want := strings.Join(rows["total"][1:], " "), fmt.Sprintf("%d %d %d", rep.Leads, rep.MQLs, rep.SQLs); got != want {
		t.Errorf("total row %q, want %q\n%s", got, want, table)
	}
	if !strings.Contains(table, "Backtest from 2024-06 to 2025-05") || !strings.Contains(table, "agreement-example.yaml: MQL precision") {
		t.Errorf("table:\n%s", table)
	}
}
