package agreement

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func exampleDoc(t *testing.T) Document {
	t.Helper()
	data, err := os.ReadFile("../agreement/agreement-example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestExampleCompiles(t *testing.T) {
	d := exampleDoc(t)
	c, err := Compile(d)
	if err != nil {
		t.Fatalf("the documented example must compile: %v", err)
	}
	if len(c.fit) != 5 || len(c.engagement) != 6 || !c.ValidReason("no_budget") || c.ValidReason("because") {
		t.Fatalf("compiled: %d fit, %d engagement rules", len(c.fit), len(c.engagement))
	}
	// JSON is accepted as well as YAML.
	if _, err := Parse([]byte(`{"name":"x","currency":"EUR"}`)); err != nil {
		t.Fatal(err)
	}
}

func TestSeed003Definitions(t *testing.T) {
	c, err := Compile(exampleDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 15, 12, 0, 0, 0, time.UTC)
	contact := ContactFacts{Email: "lucia@logistica.es", Country: "ES", JobTitle: "Directora de Marketing"}
	account := AccountFacts{Industry: "logistics", Employees: 200}
	s := &Summary{}
	add := func(event string, daysAgo float64) {
		c := c
		s.Add(event, now.Add(-time.Duration(daysAgo*24*float64(time.Hour))), c.HalfLives(event))
	}

	r := c.Evaluate(contact, account, s, now)
	if !r.Met("lead") || r.Met("mql") || r.Met("sql") {
		t.Fatalf("fresh contact: %+v", r.Definitions)
	}
	if r.Fit != 100 || r.Grade[0] != 'A' {
		t.Errorf("fit %d grade %s, want 100 and A (country 20 + industry 25 + size 25 + title 30)", r.Fit, r.Grade)
	}
	mql := r.Definitions[1]
	if len(mql.Missing) != 2 || !strings.Contains(mql.Missing[0], "Webinar Registered") {
		t.Errorf("mql missing: %v", mql.Missing)
	}

	add("Webinar Registered", 40)
	add("Webinar Attended", 35) // outside the 30-day window
	if r := c.Evaluate(contact, account, s, now); r.Met("mql") {
		t.Fatal("attended 35 days ago must not satisfy within(\"30d\")")
	}
	add("Webinar Attended", 3)
	r = c.Evaluate(contact, account, s, now)
	if !r.Met("mql") || r.Met("sql") {
		t.Fatalf("after attending: %+v", r.Definitions)
	}
	add("Price List Downloaded", 2)
	add("Trial Started", 1)
	r = c.Evaluate(contact, account, s, now)
	if !r.Met("sql") {
		t.Fatalf("after price list and trial: %+v", r.Definitions)
	}
	// A poor fit blocks the SQL through min_fit, and says so.
	poor := c.Evaluate(ContactFacts{Email: "x@gmail.com", Country: "US"}, AccountFacts{}, s, now)
	if poor.Met("sql") || poor.Fit != 0 {
		t.Fatalf("poor fit: fit %d, %+v", poor.Fit, poor.Definitions)
	}
	if m := poor.Definitions[2].Missing; len(m) != 1 || !strings.Contains(m[0], "30 more points of fit") {
		t.Errorf("poor fit missing: %v", m)
	}
}

func TestEngagementDecayAndCap(t *testing.T) {
	d := exampleDoc(t)
	c, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 15, 0, 0, 0, 0, time.UTC)
	s := &Summary{}
	// One attendance exactly one half-life (30 days) ago is worth 10 of 20 points.
	s.Add("Webinar Attended", now.AddDate(0, 0, -30), c.HalfLives("Webinar Attended"))
	r := c.Evaluate(ContactFacts{}, AccountFacts{}, s, now)
	if got := r.Engaged[1].Points; got != 10 {
		t.Fatalf("decayed points = %v, want 10", got)
	}
	// Many recent attendances are capped at 40.
	for range 5 {
		s.Add("Webinar Attended", now.Add(-time.Hour), c.HalfLives("Webinar Attended"))
	}
	r = c.Evaluate(ContactFacts{}, AccountFacts{}, s, now)
	if got := r.Engaged[1]; got.Points != 40 || !got.Capped {
		t.Fatalf("capped rule = %+v, want 40 capped", got)
	}
	// Out-of-order events decay from their own time: adding the old event
	// last gives the same value as adding it first.
	a, b := &Summary{}, &Summary{}
	h := []float64{30}
	t1, t2 := now.AddDate(0, 0, -20), now.AddDate(0, 0, -2)
	a.Add("x", t1, h)
	a.Add("x", t2, h)
	b.Add("x", t2, h)
	b.Add("x", t1, h)
	va, vb := a.Types["x"].DecayedAt(now, 30), b.Types["x"].DecayedAt(now, 30)
	if diff := va - vb; diff > 1e-9 || diff < -1e-9 {
		t.Fatalf("order changed the decayed value: %v vs %v", va, vb)
	}
}

func TestWindowedCount(t *testing.T) {
	now := time.Date(2027, 3, 15, 9, 0, 0, 0, time.UTC)
	s := &Summary{}
	for _, d := range []int{0, 1, 6, 8, 30, 200} {
		s.Add("Email Opened", now.AddDate(0, 0, -d), nil)
	}
	doc := exampleDoc(t)
	doc.Definitions.MQL.When = `count("Email Opened", within("7d")) == 3 && count("Email Opened") == 6 && days_since("Email Opened") < 1 && days_since("Never") > 1000`
	c, err := Compile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Evaluate(ContactFacts{Email: "a@b.es"}, AccountFacts{}, s, now); !r.Met("mql") {
		t.Fatalf("windowed counts: %+v %+v", r.Definitions, r.Errors)
	}
	if got := len(s.Types["Email Opened"].Days); got != 5 {
		t.Errorf("day buckets kept = %d, want 5 (the 200-day-old one falls out of the window)", got)
	}
}

func TestCompileRefusesBadDocuments(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(d *Document)
		path   string
		substr string
	}{
		{"syntax error", func(d *Document) { d.Definitions.MQL.When = `did("Webinar Registered") &&` }, "definitions.mql.when", "line 1"},
		{"unknown property", func(d *Document) { d.Scoring.Fit[0].When = `contact.favourite_colour == "red"` }, "scoring.fit[0].when", "favourite_colour"},
		{"unknown function", func(d *Document) { d.Definitions.SQL.When = `visited("pricing")` }, "definitions.sql.when", "visited"},
		{"type error", func(d *Document) { d.Scoring.Fit[1].When = `account.employees == "many"` }, "scoring.fit[1].when", "mismatched types"},
		{"not a boolean", func(d *Document) { d.Scoring.Fit[2].When = `account.employees + 1` }, "scoring.fit[2].when", "bool"},
		{"threshold out of range", func(d *Document) { d.Definitions.MQL.MinEngagement = 140 }, "definitions.mql.min_engagement", "between 0 and 100"},
		{"bad window", func(d *Document) { d.Definitions.MQL.When = `did("Webinar Attended", within("400d"))` }, "definitions.mql.when", "at most 90 days"},
		{"grades not descending", func(d *Document) { d.Grades.Fit = []int{50, 60, 10} }, "grades.fit[1]", "lower than"},
		{"duplicate rule name", func(d *Document) { d.Scoring.Engagement[1].Name = "webinar_registered" }, "scoring.engagement[1].name", "also the name"},
		{"reason without label", func(d *Document) { d.RejectionReasons[0].LabelES = "" }, "rejection_reasons[0].label_es", "Spanish"},
		{"sla team", func(d *Document) { d.SLAs[3].Team = "sales" }, "slas[3].team", "marketing commitment"},
		{"goal period", func(d *Document) { d.Goals[0].Period = "Q1 2027" }, "goals[0].period", "quarter"},
		{"missing mql", func(d *Document) { d.Definitions.MQL = Definition{} }, "definitions.mql", "needs a 'when'"},
		{"time zone", func(d *Document) { d.Calendar.TimeZone = "Europe/Atlantis" }, "calendar.time_zone", "unknown time zone"},
		{"opening hours", func(d *Document) { d.Calendar.Hours[1] = "15:00-13:00" }, "calendar.hours[1]", "end after it starts"},
		{"routing history", func(d *Document) { d.Routing.Rules[0].When = `did("Trial Started")` }, "routing.rules[0].when", "not the event history"},
		{"routing syntax", func(d *Document) { d.Routing.Rules[1].When = `contact.country in [` }, "routing.rules[1].when", "line 1"},
		{"routing rep", func(d *Document) { d.Routing.Rules[3].Reps[1].Email = "carlos" }, "routing.rules[3].reps[1].email", "user's email"},
		{"routing weight", func(d *Document) { d.Routing.Rules[3].Reps[0].Weight = 500 }, "routing.rules[3].reps[0].weight", "between 1 and 100"},
		{"routing queue", func(d *Document) { d.Routing.FallbackQueue = "Sales Inbox" }, "routing.fallback_queue", "lower_snake_case"},
		{"escalation", func(d *Document) { d.SLAs[0].EscalateAfterHours = -1 }, "slas[0].escalate_after_hours", "between 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := exampleDoc(t)
			tc.edit(&d)
			_, err := Compile(d)
			var p *Problems
			if !errors.As(err, &p) {
				t.Fatalf("want *Problems, got %v", err)
			}
			for _, x := range p.List {
				if x.Path == tc.path && strings.Contains(x.Message, tc.substr) {
					return
				}
			}
			t.Fatalf("no problem at %s containing %q; got %v", tc.path, tc.substr, err)
		})
	}
}

func TestParseRejectsUnknownFields(t *testing.T) {
	_, err := Parse([]byte("name: x\ncurrency: EUR\ndefinitons:\n  mql: {}\n"))
	if err == nil || !strings.Contains(err.Error(), "definitons") {
		t.Fatalf("typo in a field name: got %v", err)
	}
}

func TestRunTimeErrorIsRecordedNotFatal(t *testing.T) {
	d := exampleDoc(t)
	d.Scoring.Fit = append(d.Scoring.Fit, FitRule{Name: "plan", When: `contact.properties["seats"] > 10`, Points: 10})
	c, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	// "seats" holds a string for this contact: the comparison fails at run time.
	r := c.Evaluate(ContactFacts{Email: "a@b.es", Country: "ES", Properties: map[string]any{"seats": "many"}}, AccountFacts{}, &Summary{}, time.Now())
	if len(r.Errors) != 1 || r.Errors[0].Rule != "plan" {
		t.Fatalf("errors: %+v", r.Errors)
	}
	if r.Fit != 20 {
		t.Errorf("the other rules still count: fit %d, want 20", r.Fit)
	}
}

func TestDiffMatchesNamedItems(t *testing.T) {
	a := exampleDoc(t)
	b := exampleDoc(t)
	b.Scoring.Fit[0], b.Scoring.Fit[1] = b.Scoring.Fit[1], b.Scoring.Fit[0] // reordering is not a change
	b.Scoring.Fit[0].Points = 30                                            // target_industry 25 -> 30
	b.Definitions.MQL.MinEngagement = 20
	b.RejectionReasons = b.RejectionReasons[:4] // "duplicate" removed
	changes := Diff(a, b)
	want := map[string]bool{
		"scoring.fit[target_industry].points":   true,
		"definitions.mql.min_engagement":        true,
		"rejection_reasons[duplicate].code":     true,
		"rejection_reasons[duplicate].label_es": true,
		"rejection_reasons[duplicate].label_en": true,
	}
	if len(changes) != len(want) {
		t.Fatalf("changes: %+v", changes)
	}
	for _, c := range changes {
		if !want[c.Path] {
			t.Errorf("unexpected change %+v", c)
		}
	}
	if len(Diff(a, a)) != 0 {
		t.Error("a document differs from itself")
	}
}

func TestBacktestCountsCohortsAndOutcomes(t *testing.T) {
	c, err := Compile(exampleDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	strict := exampleDoc(t)
	strict.Definitions.MQL.MinEngagement = 90 // far harder to reach
	cs, err := Compile(strict)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 3, 0)
	day := func(m time.Month, d int) time.Time { return time.Date(2027, m, d, 10, 0, 0, 0, time.UTC) }
	fit := ContactFacts{Email: "a@empresa.es", Country: "ES", JobTitle: "Director"}
	acc := AccountFacts{Industry: "software", Employees: 100}
	b := NewBacktest(from, to, []string{"example", "strict"}, []*Compiled{c, cs})
	// 1: MQL in January, SQL in February, won in March.
	b.Add(ContactHistory{ContactID: 1, Contact: fit, Account: acc, Events: []HistoryEvent{
		{"Page", day(1, 2)}, {"Webinar Registered", day(1, 5)}, {"Webinar Attended", day(1, 12)},
		{"Price List Downloaded", day(2, 3)}, {"Trial Started", day(2, 4)},
	}, Won: []WonDeal{{DealID: 10, ClosedAt: day(3, 20), Amount: 600000}}})
	// 2: MQL in February, never won.
	b.Add(ContactHistory{ContactID: 2, Contact: fit, Account: acc, Events: []HistoryEvent{
		{"Webinar Registered", day(2, 1)}, {"Webinar Attended", day(2, 2)},
	}})
	// 3: won in March without ever qualifying (hurts recall).
	b.Add(ContactHistory{ContactID: 3, Contact: fit, Account: acc, Events: []HistoryEvent{{"Page", day(1, 7)}},
		Won: []WonDeal{{DealID: 11, ClosedAt: day(3, 1), Amount: 100000}}})
	// 4: qualified before the window: not counted in it.
	b.Add(ContactHistory{ContactID: 4, Contact: fit, Account: acc, Events: []HistoryEvent{
		{"Webinar Registered", day(1, 1).AddDate(-1, 0, 0)}, {"Webinar Attended", day(1, 2).AddDate(-1, 0, 0)},
	}})
	reps := b.Reports()
	if len(reps) != 2 || len(reps[0].Months) != 3 {
		t.Fatalf("reports: %+v", reps)
	}
	r := reps[0]
	if r.Months[0].MQLs != 1 || r.Months[1].MQLs != 1 || r.Months[1].SQLs != 1 || r.MQLs != 2 || r.SQLs != 1 {
		t.Fatalf("monthly counts: %+v", r.Months)
	}
	if r.Leads != 3 {
		t.Errorf("leads in window = %d, want 3 (contact 4 became a lead a year earlier)", r.Leads)
	}
	if r.Months[0].MQLsWon != 1 || r.Months[1].SQLsWon != 1 || r.Months[1].WonRevenue != 600000 {
		t.Errorf("won outcomes: %+v", r.Months)
	}
	if r.MQLPrecision != 0.5 || r.SQLPrecision != 1 || r.MQLRecall != 0.5 || r.WonContacts != 2 || r.WonRevenue != 700000 {
		t.Errorf("precision/recall: %+v", r)
	}
	if reps[1].MQLs >= r.MQLs {
		t.Errorf("the strict version should produce fewer MQLs: %d vs %d", reps[1].MQLs, r.MQLs)
	}
	var out strings.Builder
	if err := WriteTable(&out, reps); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2027-02") || !strings.Contains(out.String(), "strict: MQL precision") {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestReverseFunnelSeed003(t *testing.T) {
	d := exampleDoc(t)
	q1, err := ParsePeriod("2027-Q1")
	if err != nil {
		t.Fatal(err)
	}
	goal, ok := d.GoalFor(q1)
	if !ok || goal != 150000 {
		t.Fatalf("Q1 goal %v %v", goal, ok)
	}
	jan, _ := ParsePeriod("2027-01")
	if g, ok := d.GoalFor(jan); !ok || g != 50000 {
		t.Errorf("January's share of Q1: %v", g)
	}
	h1, _ := ParsePeriod("2027")
	if g, ok := d.GoalFor(h1); !ok || g != 330000 {
		t.Errorf("the year sums its quarters: %v", g)
	}
	if _, err := ParsePeriod("2027-13"); err == nil {
		t.Error("month 13 accepted")
	}
	a := d.Assumptions
	rates := Rates{LeadToMQL: PickRate(0.5, 3, a.LeadToMQL), MQLToSQL: PickRate(0.5, 40, a.MQLToSQL), SQLToWon: PickRate(0, 0, a.SQLToWon), AverageDealSize: PickRate(0, 0, a.AverageDealSize)}
	if rates.LeadToMQL.Source != "assumed" || rates.MQLToSQL.Source != "measured" {
		t.Fatalf("rate sources: %+v", rates)
	}
	// Halfway through the quarter with 6 SQLs of the 30 needed: pace 0.4.
	now := q1.From.Add(q1.To.Sub(q1.From) / 2)
	p := ReverseFunnel(q1, "EUR", goal, rates, Counts{SQLs: 6}, now)
	// 150,000 / 10,000 = 15 deals; / 0.5 = 30 SQLs; / 0.5 (measured) = 60 MQLs; / 0.1 = 600 leads.
	if p.Needed != (Needed{Deals: 15, SQLs: 30, MQLs: 60, Leads: 600}) {
		t.Fatalf("needed %+v", p.Needed)
	}
	// Seed 003: marketing delivers 20 MQLs a month.
	if p.PerMonth.MQLs != 20 || p.Elapsed != 0.5 || p.Pace["sqls"] != 0.4 {
		t.Fatalf("per month %+v elapsed %v pace %v", p.PerMonth, p.Elapsed, p.Pace)
	}
}

func TestStaticFitRulesAreCachedOnlyWhenPropertiesOnly(t *testing.T) {
	d := exampleDoc(t)
	d.Scoring.Fit = append(d.Scoring.Fit, FitRule{Name: "active_trial", When: `did("Trial Started")`, Points: 10})
	c, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.fit {
		if want := f.rule.Name != "active_trial"; f.static != want {
			t.Errorf("%s: static = %v, want %v", f.rule.Name, f.static, want)
		}
	}
	// With the cache, a history-based fit rule still follows the history.
	var cache staticFit
	s := &Summary{}
	now := time.Now()
	contact := ContactFacts{Email: "a@b.es", Country: "ES"}
	if r := c.evaluate(contact, AccountFacts{}, s, now, false, &cache); r.Fit != 20 {
		t.Fatalf("fit %d, want 20", r.Fit)
	}
	s.Add("Trial Started", now, c.HalfLives("Trial Started"))
	if r := c.evaluate(contact, AccountFacts{}, s, now, false, &cache); r.Fit != 30 {
		t.Fatalf("fit after the trial %d, want 30", r.Fit)
	}
}

func TestSummaryRoundTrip(t *testing.T) {
	now := time.Date(2027, 3, 15, 9, 30, 0, 0, time.UTC)
	s := &Summary{}
	for i, ev := range []string{"Webinar Attended", "Página \"vista\"", "Webinar Attended", "Trial Started"} {
		s.Add(ev, now.AddDate(0, 0, -i*3), []float64{30, 7})
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	again, _ := json.Marshal(&back)
	if string(again) != string(b) {
		t.Fatalf("round trip changed the summary:\n%s\n%s", b, again)
	}
	wa := back.Types["Webinar Attended"]
	if wa.Count != 2 || !wa.Last.Equal(now) || len(wa.Days) != 2 || wa.DecayedAt(now, 30) != s.Types["Webinar Attended"].DecayedAt(now, 30) {
		t.Fatalf("decoded %+v", wa)
	}
	if back.Types[`Página "vista"`] == nil {
		t.Fatal("an event name with quotes and accents was lost")
	}
}

func TestRouteTakesTheFirstMatchingRule(t *testing.T) {
	c, err := Compile(exampleDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		country   string
		employees int
		want      string // "" = no rule
	}{
		{"ES", 10, "spain"},
		{"ES", 5000, "spain"}, // the first match wins
		{"PE", 10, "latam_north"},
		{"GB", 10, "english_speaking"},
		{"FR", 2000, "large_accounts_anywhere"},
		{"FR", 20, ""},
	}
	for _, tt := range tests {
		rule, ok, errs := c.Route(ContactFacts{Country: tt.country}, AccountFacts{Employees: tt.employees}, 50, 50)
		if len(errs) > 0 {
			t.Errorf("%s/%d: rule errors %v", tt.country, tt.employees, errs)
		}
		if ok != (tt.want != "") || rule.Name != tt.want {
			t.Errorf("%s with %d employees routed by %q (matched %v), want %q", tt.country, tt.employees, rule.Name, ok, tt.want)
		}
	}
}

func TestExampleCalendarIsBusinessHoursInMadrid(t *testing.T) {
	c, err := Compile(exampleDoc(t))
	if err != nil {
		t.Fatal(err)
	}
	cal := c.Calendar()
	// Friday 2027-01-08 17:00 Madrid (16:00 UTC) plus the accept_mql term's
	// 8 business hours: 1 on Friday, 7 on Monday (9-14, 15-17).
	got := cal.Add(time.Date(2027, 1, 8, 16, 0, 0, 0, time.UTC), 8*time.Hour)
	if want := time.Date(2027, 1, 11, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("deadline %s, want %s", got, want)
	}
	if cal.Working(time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC)) {
		t.Error("Epiphany (2027-01-06) is a holiday in the example")
	}
}

func TestNoCalendarMeansWeekdayOfficeHoursUTC(t *testing.T) {
	d := exampleDoc(t)
	d.Calendar = nil
	c, err := Compile(d)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Calendar().Add(time.Date(2027, 1, 9, 12, 0, 0, 0, time.UTC), time.Hour) // a Saturday
	if want := time.Date(2027, 1, 11, 10, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("deadline %s, want %s", got, want)
	}
}

func TestLocatePlacesProblemsInTheDocument(t *testing.T) {
	src := []byte("name: x\ncurrency: EUR\ndefinitions:\n  mql:\n    when: 'did(\"A\") &&'\n")
	doc, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(doc)
	var ps *Problems
	if !errors.As(err, &ps) {
		t.Fatalf("want problems, got %v", err)
	}
	located := Locate(src, ps.List)
	for _, p := range located {
		if p.Path == "definitions.mql.when" {
			if p.SourceLine != 5 || p.SourceColumn < 11 {
				t.Errorf("mql.when placed at %d:%d, want line 5 after the quote", p.SourceLine, p.SourceColumn)
			}
			return
		}
	}
	t.Fatalf("no problem at definitions.mql.when in %+v", located)
}
