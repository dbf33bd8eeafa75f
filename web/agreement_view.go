package web

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// docView is an agreement document as both teams read it: every part in
// the reader's language, rules in words with their expressions beside.
type docView struct {
	Name        string
	Description string
	Currency    string
	Goals       []goalLine
	Assumptions []factRow
	Definitions []definitionRow
	Fit         []fitRow
	Engagement  []engagementRow
	FitGrades   []gradeBand
	EngGrades   []gradeBand
	Reasons     []reasonRow
	SLAs        []slaRow
	Playbooks   []playbookRow
	doc         agreement.Document
}

type goalLine struct {
	Period  string
	Label   string
	Revenue string
	Plan    *planView
	period  agreement.Period
	revenue float64
}

// planView is a goal's reverse funnel: what it takes, per month, with the
// rates it rests on and, under the active agreement, the pace so far.
type planView struct {
	Steps    []planStep
	Rates    []factRow
	Measured bool
	Elapsed  string
}

type planStep struct {
	Label     string
	Needed    string
	PerMonth  string
	Actual    string
	Pace      string
	PaceClass string
}

type factRow struct {
	Label, Value, Note string
}

type definitionRow struct {
	Key         string
	Name        string
	Description string
	When        string
	Readable    *exprView
	Scores      []string
}

type fitRow struct {
	Name     string
	When     string
	Readable exprView
	Points   string
	Negative bool
}

type engagementRow struct {
	Name   string
	Event  string
	Points string
	Cap    string
	Decay  string
}

type gradeBand struct {
	Grade string
	Range string
}

type reasonRow struct {
	Code, Label, Other string
}

type slaRow struct {
	Name string
	Team string
	Text string
}

type playbookRow struct {
	Name    string
	When    string
	Actions []string
}

func newDocView(l *locale, d agreement.Document) docView {
	v := docView{Name: d.Name, Description: strings.TrimSpace(d.Description), Currency: d.Currency, doc: d}
	for _, g := range d.Goals {
		line := goalLine{Period: g.Period, Label: goalPeriodLabel(l, g.Period), Revenue: l.MoneyMajor(g.Revenue, d.Currency), revenue: g.Revenue}
		line.period, _ = agreement.ParsePeriod(g.Period)
		v.Goals = append(v.Goals, line)
	}
	a := d.Assumptions
	v.Assumptions = []factRow{
		{Label: l.T("agreement.assume_deal_size"), Value: l.MoneyMajor(a.AverageDealSize, d.Currency)},
		{Label: l.T("agreement.assume_lead_to_mql"), Value: l.Percent(a.LeadToMQL)},
		{Label: l.T("agreement.assume_mql_to_sql"), Value: l.Percent(a.MQLToSQL)},
		{Label: l.T("agreement.assume_sql_to_won"), Value: l.Percent(a.SQLToWon)},
	}
	for i, def := range []agreement.Definition{d.Definitions.Lead, d.Definitions.MQL, d.Definitions.SQL} {
		key := agreement.DefinitionNames[i]
		row := definitionRow{Key: key, Name: definitionName(l, key), Description: strings.TrimSpace(def.Description), When: strings.TrimSpace(def.When)}
		if row.When != "" {
			ev := readableExpr(l, row.When)
			row.Readable = &ev
		}
		if def.MinFit > 0 {
			row.Scores = append(row.Scores, l.T("agreement.min_fit", def.MinFit))
		}
		if def.MinEngagement > 0 {
			row.Scores = append(row.Scores, l.T("agreement.min_engagement", def.MinEngagement))
		}
		v.Definitions = append(v.Definitions, row)
	}
	for _, r := range d.Scoring.Fit {
		v.Fit = append(v.Fit, fitRow{Name: r.Name, When: r.When, Readable: readableExpr(l, r.When), Points: signed(l, float64(r.Points)), Negative: r.Points < 0})
	}
	for _, r := range d.Scoring.Engagement {
		row := engagementRow{Name: r.Name, Event: r.Event, Points: signed(l, r.Points), Cap: l.T("agreement.no_cap"), Decay: l.T("agreement.no_decay")}
		if r.Cap > 0 {
			row.Cap = l.Decimal(r.Cap, 1)
		}
		if r.HalfLifeDays > 0 {
			row.Decay = l.T("agreement.half_life", l.Decimal(r.HalfLifeDays, 1))
		}
		v.Engagement = append(v.Engagement, row)
	}
	v.FitGrades = gradeBands(l, d.Grades.Fit, []string{"A", "B", "C", "D"})
	v.EngGrades = gradeBands(l, d.Grades.Engagement, []string{"1", "2", "3", "4"})
	for _, r := range d.RejectionReasons {
		row := reasonRow{Code: r.Code, Label: r.LabelES, Other: r.LabelEN}
		if l.Code == "en" {
			row.Label, row.Other = r.LabelEN, r.LabelES
		}
		if row.Label == "" {
			row.Label, row.Other = row.Other, ""
		}
		v.Reasons = append(v.Reasons, row)
	}
	for _, s := range d.SLAs {
		v.SLAs = append(v.SLAs, slaRow{Name: s.Name, Team: teamName(l, s.Team), Text: slaText(l, s)})
	}
	for _, p := range d.Playbooks {
		row := playbookRow{Name: p.Name, When: triggerText(l, p)}
		for _, a := range p.Actions {
			row.Actions = append(row.Actions, actionText(l, a))
		}
		v.Playbooks = append(v.Playbooks, row)
	}
	return v
}

// addAssumedPlans gives a version that is not active the reverse funnel of
// its current and future goals from its own assumptions, since measured
// rates only apply to the active agreement's definitions.
func (v *docView) addAssumedPlans(l *locale, now time.Time) {
	a := v.doc.Assumptions
	rates := agreement.Rates{
		LeadToMQL:       agreement.Rate{Value: a.LeadToMQL, Source: "assumed"},
		MQLToSQL:        agreement.Rate{Value: a.MQLToSQL, Source: "assumed"},
		SQLToWon:        agreement.Rate{Value: a.SQLToWon, Source: "assumed"},
		AverageDealSize: agreement.Rate{Value: a.AverageDealSize, Source: "assumed"},
	}
	planned := 0
	for i := range v.Goals {
		g := &v.Goals[i]
		if planned == maxGoalPlans || g.period.Months == 0 || !g.period.To.After(now) {
			continue
		}
		plan := agreement.ReverseFunnel(g.period, v.Currency, g.revenue, rates, agreement.Counts{}, g.period.From)
		g.Plan = newPlanView(l, plan, false)
		planned++
	}
}

func newPlanView(l *locale, p agreement.Plan, withPace bool) *planView {
	pv := &planView{Measured: withPace}
	count := func(f float64) string { return l.Int(int64(math.Round(f))) }
	step := func(label string, needed, perMonth, actual float64, pace string) planStep {
		s := planStep{Label: label, Needed: count(needed), PerMonth: l.Decimal(perMonth, 1)}
		if perMonth >= 10 {
			s.PerMonth = count(perMonth) // a tenth of a lead a month is noise
		}
		if withPace && p.Elapsed > 0 {
			s.Actual = count(actual)
			s.Pace, s.PaceClass = goalPaceText(l, p.Pace[pace])
		}
		return s
	}
	pv.Steps = []planStep{
		step(l.T("agreement.plan_leads"), p.Needed.Leads, p.PerMonth.Leads, float64(p.Actual.Leads), "leads"),
		step(l.T("agreement.plan_mqls"), p.Needed.MQLs, p.PerMonth.MQLs, float64(p.Actual.MQLs), "mqls"),
		step(l.T("agreement.plan_sqls"), p.Needed.SQLs, p.PerMonth.SQLs, float64(p.Actual.SQLs), "sqls"),
		step(l.T("agreement.plan_deals"), p.Needed.Deals, p.PerMonth.Deals, float64(p.Actual.Deals), "deals"),
	}
	rate := func(label string, r agreement.Rate, value string) factRow {
		note := l.T("agreement.rate_assumed")
		if r.Source == "measured" {
			note = l.T("agreement.rate_measured", r.Sample)
		}
		return factRow{Label: label, Value: value, Note: note}
	}
	pv.Rates = []factRow{
		rate(l.T("agreement.assume_lead_to_mql"), p.Rates.LeadToMQL, l.Percent(p.Rates.LeadToMQL.Value)),
		rate(l.T("agreement.assume_mql_to_sql"), p.Rates.MQLToSQL, l.Percent(p.Rates.MQLToSQL.Value)),
		rate(l.T("agreement.assume_sql_to_won"), p.Rates.SQLToWon, l.Percent(p.Rates.SQLToWon.Value)),
		rate(l.T("agreement.assume_deal_size"), p.Rates.AverageDealSize, l.MoneyMajor(p.Rates.AverageDealSize.Value, p.Currency)),
	}
	if withPace && p.Elapsed > 0 {
		pv.Elapsed = l.T("agreement.plan_elapsed", l.Percent(p.Elapsed))
	}
	return pv
}

func goalPaceText(l *locale, pace float64) (string, string) {
	switch {
	case pace >= 1:
		return l.T("goal.on_track"), "good"
	case pace >= 0.8:
		return l.T("goal.slightly_behind"), "warn"
	}
	return l.T("goal.behind"), "bad"
}

// goalPeriodLabel names a goal period: 2027, T1 2027 / Q1 2027, ene 2027.
func goalPeriodLabel(l *locale, period string) string {
	p, err := agreement.ParsePeriod(period)
	if err != nil {
		return period
	}
	switch p.Months {
	case 3:
		return l.Quarter(p.From)
	case 1:
		return agreementMonth(l, p.From)
	}
	return period
}

func agreementMonth(l *locale, t time.Time) string {
	return l.months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

func definitionName(l *locale, key string) string {
	switch key {
	case "lead":
		return l.T("definition.lead")
	case "mql":
		return l.T("definition.mql")
	case "sql":
		return l.T("definition.sql")
	}
	return key
}

// gradeBands turns the lower bounds (highest first) into ranges per grade.
func gradeBands(l *locale, bounds []int, grades []string) []gradeBand {
	if len(bounds) != 3 {
		return nil
	}
	out := []gradeBand{{Grade: grades[0], Range: l.T("agreement.grade_from", bounds[0])}}
	for i := 1; i < 3; i++ {
		out = append(out, gradeBand{Grade: grades[i], Range: l.T("agreement.grade_between", bounds[i], bounds[i-1]-1)})
	}
	return append(out, gradeBand{Grade: grades[3], Range: l.T("agreement.grade_below", bounds[2])})
}

func slaText(l *locale, s agreement.SLA) string {
	switch s.Kind {
	case "accept_within":
		return l.T("agreement.sla_accept_within", l.Decimal(s.BusinessHours, 1))
	case "first_touch_within":
		return l.T("agreement.sla_first_touch_within", l.Decimal(s.BusinessHours, 1))
	case "touches_within":
		return l.T("agreement.sla_touches_within", s.Count, s.Days)
	case "deliver_mqls":
		if s.Period == "quarter" {
			return l.T("agreement.sla_deliver_mqls_quarter", s.Count)
		}
		return l.T("agreement.sla_deliver_mqls_month", s.Count)
	case "convert_sqls":
		return l.T("agreement.sla_convert_sqls", s.Count, s.Of)
	}
	return s.Kind
}

func triggerText(l *locale, p agreement.Playbook) string {
	stage := func() string {
		if p.Stage == "" {
			return "—"
		}
		return stageName(l, alinea.Stage(p.Stage))
	}
	switch p.Trigger {
	case "stage_entered":
		return l.T("agreement.trigger_stage_entered", stage())
	case "stage_left":
		return l.T("agreement.trigger_stage_left", stage())
	case "score_crossed":
		return l.T("agreement.trigger_score_crossed")
	case "event":
		return l.T("agreement.trigger_event")
	case "sla_breached":
		return l.T("agreement.trigger_sla_breached")
	}
	return p.Trigger
}

func actionText(l *locale, a agreement.Action) string {
	var s string
	switch a.Type {
	case "stop_promotional_email":
		s = l.T("agreement.action_stop_promotional_email")
	case "add_to_list":
		s = l.T("agreement.action_add_to_list")
	case "remove_from_list":
		s = l.T("agreement.action_remove_from_list")
	case "enroll_in_sequence":
		s = l.T("agreement.action_enroll_in_sequence")
	case "exit_sequence":
		s = l.T("agreement.action_exit_sequence")
	case "assign_owner":
		s = l.T("agreement.action_assign_owner")
	case "create_task":
		s = l.T("agreement.action_create_task")
	case "notify":
		s = l.T("agreement.action_notify")
	case "call_webhook":
		s = l.T("agreement.action_call_webhook")
	case "set_property":
		s = l.T("agreement.action_set_property")
	default:
		s = a.Type
	}
	if a.Value != "" {
		s += ": " + a.Value
	}
	return s
}

// problemView is one problem of a document, placed in the text: the
// section in the reader's language, the path, the line and column in the
// source and the message as the agreement package wrote it (English).
type problemView struct {
	Section string
	Path    string
	Where   string
	Line    int
	Column  int
	Message string
}

// yamlErrorLine finds the line a YAML parser error names ("line 3: ...").
var yamlErrorLine = regexp.MustCompile(`\bline (\d+):`)

// problemViews lists the problems an agreement error holds, each placed in
// src; nil when err holds none.
func problemViews(l *locale, src []byte, err error) []problemView {
	var ps *agreement.Problems
	if !errors.As(err, &ps) {
		return nil
	}
	var root yaml.Node
	if yaml.Unmarshal(src, &root) != nil {
		root = yaml.Node{}
	}
	out := make([]problemView, 0, len(ps.List))
	for _, p := range ps.List {
		pv := problemView{Path: p.Path, Message: p.Message, Section: agreementSection(l, p.Path)}
		pv.Line, pv.Column = agreement.SourcePosition(&root, p)
		if pv.Line == 0 {
			if m := yamlErrorLine.FindStringSubmatch(p.Message); m != nil {
				pv.Line, _ = strconv.Atoi(m[1])
			}
		}
		switch {
		case pv.Line > 0 && pv.Column > 0:
			pv.Where = l.T("agreement.problem_line_column", pv.Line, pv.Column)
		case pv.Line > 0:
			pv.Where = l.T("agreement.problem_line", pv.Line)
		}
		out = append(out, pv)
	}
	return out
}

// pathSegment is one step of a document path: a field and, for list
// items, the key in brackets (an index, or a name for diff paths).
type pathSegment struct {
	Field, Key string
}

func agreementPathSegments(path string) []pathSegment {
	var out []pathSegment
	for _, part := range strings.Split(path, ".") {
		field, rest, _ := strings.Cut(part, "[")
		seg := pathSegment{Field: field}
		if rest != "" {
			seg.Key = strings.TrimSuffix(rest, "]")
		}
		out = append(out, seg)
	}
	return out
}

// agreementSection names the part of the document a path is in.
func agreementSection(l *locale, path string) string {
	segs := agreementPathSegments(path)
	if path == "" || len(segs) == 0 {
		return l.T("agreement.section_document")
	}
	switch segs[0].Field {
	case "goals":
		return l.T("agreement.section_goals")
	case "assumptions":
		return l.T("agreement.section_assumptions")
	case "definitions":
		return l.T("agreement.section_definitions")
	case "scoring":
		if len(segs) > 1 && segs[1].Field == "engagement" {
			return l.T("agreement.section_engagement")
		}
		return l.T("agreement.section_fit")
	case "grades":
		return l.T("agreement.section_grades")
	case "rejection_reasons":
		return l.T("agreement.section_reasons")
	case "slas":
		return l.T("agreement.section_slas")
	case "playbooks":
		return l.T("agreement.section_playbooks")
	}
	return l.T("agreement.section_general")
}

// changeRow is one line of the table of changes between two versions.
type changeRow struct {
	Section string
	Item    string
	Field   string
	Path    string
	Kind    string // added, removed, changed
	From    valueView
	To      valueView
}

type valueView struct {
	Text string
	Code bool
	None bool
}

func changeRows(l *locale, changes []agreement.Change) []changeRow {
	out := make([]changeRow, 0, len(changes))
	for _, c := range changes {
		row := changeRow{Path: c.Path, Section: agreementSection(l, c.Path), Kind: "changed"}
		row.Item, row.Field = itemAndField(l, c.Path)
		code := strings.HasSuffix(c.Path, ".when")
		row.From, row.To = changeValue(l, c.From, code), changeValue(l, c.To, code)
		switch {
		case c.From == nil:
			row.Kind = "added"
		case c.To == nil:
			row.Kind = "removed"
		}
		out = append(out, row)
	}
	return out
}

// itemAndField says which item of a section a path names (a rule, a goal,
// a reason...) and which of its fields, in the reader's language.
func itemAndField(l *locale, path string) (item, field string) {
	segs := agreementPathSegments(path)
	if len(segs) == 0 {
		return "", path
	}
	last := segs[len(segs)-1]
	switch segs[0].Field {
	case "definitions":
		if len(segs) >= 3 {
			return definitionName(l, segs[1].Field), agreementFieldName(l, last.Field)
		}
	case "grades":
		if len(segs) == 2 {
			i, _ := strconv.Atoi(last.Key)
			axis, grades := l.T("agreement.axis_fit"), []string{"A", "B", "C"}
			if last.Field == "engagement" {
				axis, grades = l.T("agreement.axis_engagement"), []string{"1", "2", "3"}
			}
			if i >= 0 && i < len(grades) {
				return axis, l.T("agreement.grade_bound", grades[i])
			}
			return axis, last.Key
		}
	case "goals":
		if len(segs) >= 2 || segs[0].Key != "" {
			return goalPeriodLabel(l, segs[0].Key), agreementFieldName(l, last.Field)
		}
	case "scoring":
		if len(segs) >= 3 {
			return segs[1].Key, agreementFieldName(l, last.Field)
		}
	case "assumptions":
		return "", agreementFieldName(l, last.Field)
	case "rejection_reasons", "slas", "playbooks":
		if len(segs) >= 2 {
			f := agreementFieldName(l, last.Field)
			if len(segs) == 3 && segs[1].Field == "actions" {
				n, err := strconv.Atoi(segs[1].Key)
				if err == nil {
					f = l.T("agreement.field_action_n", n+1, f)
				}
			}
			return segs[0].Key, f
		}
	}
	return "", agreementFieldName(l, last.Field)
}

func agreementFieldName(l *locale, f string) string {
	switch f {
	case "name":
		return l.T("agreement.field_name")
	case "description":
		return l.T("agreement.field_description")
	case "currency":
		return l.T("agreement.field_currency")
	case "when":
		return l.T("agreement.field_when")
	case "min_fit":
		return l.T("agreement.field_min_fit")
	case "min_engagement":
		return l.T("agreement.field_min_engagement")
	case "points":
		return l.T("agreement.field_points")
	case "event":
		return l.T("agreement.field_event")
	case "cap":
		return l.T("agreement.field_cap")
	case "half_life_days":
		return l.T("agreement.field_half_life")
	case "period":
		return l.T("agreement.field_period")
	case "revenue":
		return l.T("agreement.field_revenue")
	case "average_deal_size":
		return l.T("agreement.assume_deal_size")
	case "lead_to_mql":
		return l.T("agreement.assume_lead_to_mql")
	case "mql_to_sql":
		return l.T("agreement.assume_mql_to_sql")
	case "sql_to_won":
		return l.T("agreement.assume_sql_to_won")
	case "code":
		return l.T("agreement.field_code")
	case "label_es":
		return l.T("agreement.field_label_es")
	case "label_en":
		return l.T("agreement.field_label_en")
	case "kind":
		return l.T("agreement.field_kind")
	case "team":
		return l.T("agreement.field_team")
	case "business_hours":
		return l.T("agreement.field_business_hours")
	case "count":
		return l.T("agreement.field_count")
	case "of":
		return l.T("agreement.field_of")
	case "days":
		return l.T("agreement.field_days")
	case "trigger":
		return l.T("agreement.field_trigger")
	case "stage":
		return l.T("agreement.field_stage")
	case "type":
		return l.T("agreement.field_type")
	case "value":
		return l.T("agreement.field_value")
	}
	return f
}

func changeValue(l *locale, v any, code bool) valueView {
	switch x := v.(type) {
	case nil:
		return valueView{None: true, Text: "—"}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return valueView{Text: l.Int(int64(x))}
		}
		return valueView{Text: l.Decimal(x, 4)}
	case bool:
		if x {
			return valueView{Text: l.T("common.yes")}
		}
		return valueView{Text: l.T("common.no")}
	case string:
		return valueView{Text: x, Code: code}
	}
	return valueView{Text: fmt.Sprint(v)}
}

// backtestView is a backtest's form and, once run, its results: the months
// side by side for each version, and how well each picked future wins.
type backtestView struct {
	From, To string
	Error    string
	Ran      bool
	Currency string
	Labels   []string
	Rows     []backtestRow
	Totals   []backtestCells
	Quality  []qualityRow
	Chart    *backtestChart
	Won      string
}

type backtestRow struct {
	Month string
	Cells []backtestCells
}

type backtestCells struct {
	Leads, MQLs, SQLs, MQLsWon, SQLsWon, Revenue string
}

// qualityRow is one measure of how well definitions predicted wins, one
// value per version.
type qualityRow struct {
	Label  string
	Help   string
	Values []string
}

func (bt *backtestView) fill(l *locale, reports []agreement.Report, currency string) {
	bt.Ran, bt.Currency = true, currency
	if len(reports) == 0 {
		return
	}
	for _, r := range reports {
		bt.Labels = append(bt.Labels, r.Label)
		bt.Totals = append(bt.Totals, backtestCells{Leads: l.Int(int64(r.Leads)), MQLs: l.Int(int64(r.MQLs)), SQLs: l.Int(int64(r.SQLs))})
	}
	for i, m := range reports[0].Months {
		t, _ := time.Parse("2006-01", m.Month)
		row := backtestRow{Month: agreementMonth(l, t)}
		for _, r := range reports {
			c := r.Months[i]
			row.Cells = append(row.Cells, backtestCells{Leads: l.Int(int64(c.Leads)), MQLs: l.Int(int64(c.MQLs)), SQLs: l.Int(int64(c.SQLs)),
				MQLsWon: l.Int(int64(c.MQLsWon)), SQLsWon: l.Int(int64(c.SQLsWon)), Revenue: l.Money(c.WonRevenue, currency)})
		}
		bt.Rows = append(bt.Rows, row)
	}
	quality := func(label, help string, f func(agreement.Report) float64) qualityRow {
		q := qualityRow{Label: label, Help: help}
		for _, r := range reports {
			q.Values = append(q.Values, l.Percent(f(r)))
		}
		return q
	}
	bt.Quality = []qualityRow{
		quality(l.T("agreement.bt_mql_precision"), l.T("agreement.bt_mql_precision_help"), func(r agreement.Report) float64 { return r.MQLPrecision }),
		quality(l.T("agreement.bt_mql_recall"), l.T("agreement.bt_mql_recall_help"), func(r agreement.Report) float64 { return r.MQLRecall }),
		quality(l.T("agreement.bt_sql_precision"), l.T("agreement.bt_sql_precision_help"), func(r agreement.Report) float64 { return r.SQLPrecision }),
		quality(l.T("agreement.bt_sql_recall"), l.T("agreement.bt_sql_recall_help"), func(r agreement.Report) float64 { return r.SQLRecall }),
	}
	bt.Won = l.T("agreement.bt_won", reports[0].WonContacts, l.Money(reports[0].WonRevenue, currency))
	bt.Chart = newBacktestChart(l, reports)
}

// backtestChart draws the MQLs each version would have produced per month
// as paired bars (server-rendered SVG; the table holds the same numbers).
type backtestChart struct {
	Width, Height float64
	Bars          []chartBar
	Labels        []chartLabel
	Legend        []chartLabel
	Max           string
	Base          float64
}

type chartBar struct {
	X, Y, W, H float64
	Series     int
	Title      string
}

type chartLabel struct {
	X, Y   float64
	Text   string
	Series int
}

func newBacktestChart(l *locale, reports []agreement.Report) *backtestChart {
	const width, height, top, bottom, left = 720.0, 200.0, 24.0, 28.0, 8.0
	months := len(reports[0].Months)
	if months == 0 {
		return nil
	}
	c := &backtestChart{Width: width, Height: height, Base: height - bottom}
	most := 1
	for _, r := range reports {
		for _, m := range r.Months {
			most = max(most, m.MQLs)
		}
	}
	c.Max = l.Int(int64(most))
	slot := (width - 2*left) / float64(months)
	barW := math.Min(22, (slot-8)/float64(len(reports)))
	for i := range months {
		x0 := left + float64(i)*slot + (slot-barW*float64(len(reports)))/2
		for s, r := range reports {
			m := r.Months[i]
			h := (height - top - bottom) * float64(m.MQLs) / float64(most)
			c.Bars = append(c.Bars, chartBar{X: chartRound(x0 + float64(s)*barW), Y: chartRound(c.Base - h), W: chartRound(barW - 2), H: chartRound(h), Series: s,
				Title: fmt.Sprintf("%s · %s: %s", r.Label, reports[0].Months[i].Month, l.Int(int64(m.MQLs)))})
		}
		t, _ := time.Parse("2006-01", reports[0].Months[i].Month)
		c.Labels = append(c.Labels, chartLabel{X: chartRound(left + float64(i)*slot + slot/2), Y: height - 8, Text: l.months[t.Month()-1]})
	}
	for s, r := range reports {
		c.Legend = append(c.Legend, chartLabel{Text: r.Label, Series: s})
	}
	return c
}

func chartRound(v float64) float64 { return math.Round(v*10) / 10 }
