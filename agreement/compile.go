package agreement

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/alinea-crm/alinea/calendar"
)

// Compiled is a validated agreement whose expressions are compiled once and
// evaluated many times.
type Compiled struct {
	Doc        Document
	defs       [3]*compiledDef // lead, mql, sql
	fit        []compiledFit
	engagement []EngagementRule
	// halfLifeKeys[i] is the Decayed key of engagement rule i.
	halfLifeKeys []string
	halfLives    map[string][]float64
	reasons      map[string]bool
	routes       []compiledRoute
	calendar     *calendar.Calendar
}

type compiledRoute struct {
	rule RouteRule
	prog *vm.Program
}

type compiledDef struct {
	name string
	def  Definition
	prog *vm.Program
	// checks are the did(...) calls inside the expression, compiled alone,
	// to say what is still missing.
	checks []check
}

type check struct {
	src  string
	prog *vm.Program
}

type compiledFit struct {
	rule FitRule
	prog *vm.Program
	// static rules read only contact and account properties, so during a
	// replay their result is the same at every event.
	static bool
}

// DefinitionNames lists the definitions in funnel order.
var DefinitionNames = [3]string{"lead", "mql", "sql"}

var (
	codePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	periodPattern = regexp.MustCompile(`^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$`)
)

// Compile validates every part of a document and compiles its expressions.
// It reports all problems at once, each with its path and, for expressions,
// the line and column.
func Compile(d Document) (*Compiled, error) {
	p := &Problems{}
	c := &Compiled{Doc: d, halfLives: map[string][]float64{}, reasons: map[string]bool{}}
	if strings.TrimSpace(d.Name) == "" {
		p.add("name", "is required")
	}
	if len(d.Currency) != 3 || strings.ToUpper(d.Currency) != d.Currency {
		p.add("currency", "must be an ISO 4217 code such as EUR or USD; got %q", d.Currency)
	}
	seenPeriods := map[string]bool{}
	for i, g := range d.Goals {
		path := fmt.Sprintf("goals[%d]", i)
		if !periodPattern.MatchString(g.Period) {
			p.add(path+".period", "must be a year (2027), a quarter (2027-Q1) or a month (2027-01); got %q", g.Period)
		} else if seenPeriods[g.Period] {
			p.add(path+".period", "%s has two goals", g.Period)
		}
		seenPeriods[g.Period] = true
		if g.Revenue <= 0 {
			p.add(path+".revenue", "must be more than 0")
		}
	}
	a := d.Assumptions
	if a.AverageDealSize < 0 {
		p.add("assumptions.average_deal_size", "must not be negative")
	}
	for name, r := range map[string]float64{"lead_to_mql": a.LeadToMQL, "mql_to_sql": a.MQLToSQL, "sql_to_won": a.SQLToWon} {
		if r < 0 || r > 1 {
			p.add("assumptions."+name, "is a rate between 0 and 1; got %v", r)
		}
	}
	for i, def := range []Definition{d.Definitions.Lead, d.Definitions.MQL, d.Definitions.SQL} {
		name := DefinitionNames[i]
		path := "definitions." + name
		cd := &compiledDef{name: name, def: def}
		if strings.TrimSpace(def.When) == "" && def.MinFit == 0 && def.MinEngagement == 0 {
			if name != "lead" {
				p.add(path, "needs a 'when' expression or a minimum score")
			}
		}
		checkScore(p, path+".min_fit", def.MinFit)
		checkScore(p, path+".min_engagement", def.MinEngagement)
		if strings.TrimSpace(def.When) != "" {
			cd.prog = compileBool(p, path+".when", def.When)
			if cd.prog != nil {
				cd.checks = didChecks(cd.prog.Node())
			}
		}
		c.defs[i] = cd
	}
	seenRules := map[string]string{}
	ruleName := func(path, name string) {
		if !codePattern.MatchString(name) {
			p.add(path+".name", "must be lower_snake_case (a-z, 0-9, _), starting with a letter; got %q", name)
		} else if other, ok := seenRules[name]; ok {
			p.add(path+".name", "%q is also the name of %s", name, other)
		}
		seenRules[name] = path
	}
	for i, r := range d.Scoring.Fit {
		path := fmt.Sprintf("scoring.fit[%d]", i)
		ruleName(path, r.Name)
		if r.Points < -100 || r.Points > 100 || r.Points == 0 {
			p.add(path+".points", "must be between -100 and 100 and not 0; got %d", r.Points)
		}
		if strings.TrimSpace(r.When) == "" {
			p.add(path+".when", "is required")
			continue
		}
		if prog := compileBool(p, path+".when", r.When); prog != nil {
			c.fit = append(c.fit, compiledFit{rule: r, prog: prog, static: propertiesOnly(prog.Node())})
		}
	}
	for i, r := range d.Scoring.Engagement {
		path := fmt.Sprintf("scoring.engagement[%d]", i)
		ruleName(path, r.Name)
		if strings.TrimSpace(r.Event) == "" {
			p.add(path+".event", "is required: the event type whose occurrences earn points")
		}
		if r.Points <= 0 || r.Points > 100 {
			p.add(path+".points", "must be more than 0 and at most 100; got %v", r.Points)
		}
		if r.Cap < 0 || r.Cap > 100 {
			p.add(path+".cap", "must be between 0 (no cap) and 100; got %v", r.Cap)
		}
		if r.HalfLifeDays < 0 || r.HalfLifeDays > 3650 {
			p.add(path+".half_life_days", "must be between 0 (no decay) and 3650; got %v", r.HalfLifeDays)
		}
		c.engagement = append(c.engagement, r)
		c.halfLifeKeys = append(c.halfLifeKeys, halfLifeKey(halfLife(r)))
		// Without decay the points come from the count; no state to keep.
		if h := halfLife(r); !math.IsInf(h, 1) && !containsFloat(c.halfLives[r.Event], h) {
			c.halfLives[r.Event] = append(c.halfLives[r.Event], h)
		}
	}
	checkBands(p, "grades.fit", d.Grades.Fit)
	checkBands(p, "grades.engagement", d.Grades.Engagement)
	for i, r := range d.RejectionReasons {
		path := fmt.Sprintf("rejection_reasons[%d]", i)
		if !codePattern.MatchString(r.Code) {
			p.add(path+".code", "must be lower_snake_case; got %q", r.Code)
		} else if c.reasons[r.Code] {
			p.add(path+".code", "%q appears twice", r.Code)
		}
		c.reasons[r.Code] = true
		if strings.TrimSpace(r.LabelES) == "" {
			p.add(path+".label_es", "is required (the Spanish label sales will see)")
		}
		if strings.TrimSpace(r.LabelEN) == "" {
			p.add(path+".label_en", "is required (the English label sales will see)")
		}
	}
	c.compileCalendar(p, d.Calendar)
	c.compileRouting(p, d.Routing)
	for i, s := range d.SLAs {
		path := fmt.Sprintf("slas[%d]", i)
		if s.EscalateAfterHours < 0 || s.EscalateAfterHours > 24*30 {
			p.add(path+".escalate_after_hours", "must be between 0 (never) and 720")
		}
		for j, ev := range s.TouchEvents {
			if strings.TrimSpace(ev) == "" {
				p.add(fmt.Sprintf("%s.touch_events[%d]", path, j), "is empty")
			}
		}
	}
	if len(d.RejectionReasons) == 0 {
		p.add("rejection_reasons", "list at least one reason sales may give when sending a lead back")
	}
	checkSLAs(p, d.SLAs)
	checkPlaybooks(p, d.Playbooks)
	if err := p.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func halfLife(r EngagementRule) float64 {
	if r.HalfLifeDays == 0 {
		return math.Inf(1)
	}
	return r.HalfLifeDays
}

func containsFloat(xs []float64, x float64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func checkScore(p *Problems, path string, v int) {
	if v < 0 || v > 100 {
		p.add(path, "is a score between 0 and 100; got %d", v)
	}
}

func checkBands(p *Problems, path string, bands []int) {
	if len(bands) != 3 {
		p.add(path, "needs three lower bounds, highest first (for A/B/C or 1/2/3); got %d", len(bands))
		return
	}
	for i, b := range bands {
		if b < 0 || b > 100 {
			p.add(fmt.Sprintf("%s[%d]", path, i), "is a score between 0 and 100; got %d", b)
		}
		if i > 0 && b >= bands[i-1] {
			p.add(fmt.Sprintf("%s[%d]", path, i), "must be lower than the bound before it (%d)", bands[i-1])
		}
	}
}

func checkSLAs(p *Problems, slas []SLA) {
	seen := map[string]bool{}
	for i, s := range slas {
		path := fmt.Sprintf("slas[%d]", i)
		if !codePattern.MatchString(s.Name) {
			p.add(path+".name", "must be lower_snake_case; got %q", s.Name)
		} else if seen[s.Name] {
			p.add(path+".name", "%q appears twice", s.Name)
		}
		seen[s.Name] = true
		team, ok := slaKinds[s.Kind]
		if !ok {
			p.add(path+".kind", "must be one of accept_within, first_touch_within, touches_within, deliver_mqls, convert_sqls; got %q", s.Kind)
			continue
		}
		if s.Team != team {
			p.add(path+".team", "%s is a %s commitment; got %q", s.Kind, team, s.Team)
		}
		switch s.Kind {
		case "accept_within", "first_touch_within":
			if s.BusinessHours <= 0 || s.BusinessHours > 24*30 {
				p.add(path+".business_hours", "must be more than 0 and at most 720")
			}
		case "touches_within":
			if s.Count <= 0 {
				p.add(path+".count", "must be at least 1 touch")
			}
			if s.Days <= 0 {
				p.add(path+".days", "must be at least 1 day")
			}
		case "deliver_mqls":
			if s.Count <= 0 {
				p.add(path+".count", "must be at least 1 MQL")
			}
			if s.Period != "month" && s.Period != "quarter" {
				p.add(path+".period", "must be month or quarter")
			}
		case "convert_sqls":
			if s.Count <= 0 || s.Of <= 0 || s.Count > s.Of {
				p.add(path, "count and of must be positive with count <= of (e.g. 5 of 20)")
			}
		}
	}
}

func (c *Compiled) compileCalendar(p *Problems, spec *calendar.Spec) {
	if spec == nil {
		cal, _ := calendar.New(calendar.Default)
		c.calendar = cal
		return
	}
	cal, errs := calendar.New(*spec)
	for _, e := range errs {
		p.add("calendar."+e.Field, "%s", e.Message)
	}
	c.calendar = cal
}

func (c *Compiled) compileRouting(p *Problems, r Routing) {
	if r.FallbackQueue != "" && !codePattern.MatchString(r.FallbackQueue) {
		p.add("routing.fallback_queue", "must be lower_snake_case; got %q", r.FallbackQueue)
	}
	seen := map[string]bool{}
	for i, rule := range r.Rules {
		path := fmt.Sprintf("routing.rules[%d]", i)
		if !codePattern.MatchString(rule.Name) {
			p.add(path+".name", "must be lower_snake_case; got %q", rule.Name)
		} else if seen[rule.Name] {
			p.add(path+".name", "%q appears twice", rule.Name)
		}
		seen[rule.Name] = true
		emails := map[string]bool{}
		for j, rep := range rule.Reps {
			rp := fmt.Sprintf("%s.reps[%d]", path, j)
			email := strings.ToLower(strings.TrimSpace(rep.Email))
			if !strings.Contains(email, "@") {
				p.add(rp+".email", "must be a user's email; got %q", rep.Email)
			} else if emails[email] {
				p.add(rp+".email", "%s appears twice in this rule", email)
			}
			emails[email] = true
			if rep.Weight < 0 || rep.Weight > 100 {
				p.add(rp+".weight", "must be between 1 and 100 (1 when left out); got %d", rep.Weight)
			}
		}
		if strings.TrimSpace(rule.When) == "" {
			p.add(path+".when", `is required (use "true" for a rule that takes every lead)`)
			continue
		}
		prog := compileBool(p, path+".when", rule.When)
		if prog == nil {
			continue
		}
		if usesHistory(prog.Node()) {
			p.add(path+".when", "routing rules read contact and account properties and the scores (fit, engagement), not the event history")
			continue
		}
		c.routes = append(c.routes, compiledRoute{rule: rule, prog: prog})
	}
}

// usesHistory reports whether an expression calls a history function.
func usesHistory(root ast.Node) bool {
	found := false
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value == stateArg {
			found = true
		}
	}))
	return found
}

// Calendar is the business-hours calendar SLA clocks run in.
func (c *Compiled) Calendar() *calendar.Calendar { return c.calendar }

// Route returns the first routing rule that holds for the contact, or
// false when none does. A rule that fails at run time (say, comparing a
// missing property) is skipped and reported in errs.
func (c *Compiled) Route(contact ContactFacts, account AccountFacts, fit, engagement int) (rule RouteRule, ok bool, errs []RuleError) {
	e := newEnv(contact, account, nil, time.Time{})
	e.Fit, e.Engagement = fit, engagement
	for _, r := range c.routes {
		match, err := runBool(r.prog, e)
		if err != nil {
			errs = append(errs, RuleError{Rule: r.rule.Name, Message: err.Error()})
			continue
		}
		if match {
			return r.rule, true, errs
		}
	}
	return RouteRule{}, false, errs
}

func checkPlaybooks(p *Problems, pbs []Playbook) {
	for i, pb := range pbs {
		path := fmt.Sprintf("playbooks[%d]", i)
		if !codePattern.MatchString(pb.Name) {
			p.add(path+".name", "must be lower_snake_case; got %q", pb.Name)
		}
		if !playbookTriggers[pb.Trigger] {
			p.add(path+".trigger", "must be one of stage_entered, stage_left, score_crossed, event, sla_breached; got %q", pb.Trigger)
		}
		if (pb.Trigger == "stage_entered" || pb.Trigger == "stage_left") && !validStage(pb.Stage) {
			p.add(path+".stage", "must be a lifecycle stage; got %q", pb.Stage)
		}
		if len(pb.Actions) == 0 {
			p.add(path+".actions", "needs at least one action")
		}
		for j, a := range pb.Actions {
			if !actionTypes[a.Type] {
				p.add(fmt.Sprintf("%s.actions[%d].type", path, j), "unknown action %q", a.Type)
			}
		}
	}
}

func validStage(s string) bool {
	switch s {
	case "subscriber", "lead", "mql", "sal", "sql", "opportunity", "customer", "evangelist", "recycled", "disqualified":
		return true
	}
	return false
}

// compileBool compiles a rule expression that must yield true or false.
func compileBool(p *Problems, path, src string) *vm.Program {
	wv := &windowValidator{}
	prog, err := expr.Compile(src, compileOptions(expr.Patch(wv))...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			p.List = append(p.List, Problem{Path: path, Message: fmt.Sprintf("%s (line %d, column %d)", fe.Message, fe.Line, fe.Column+1), Line: fe.Line, Column: fe.Column + 1})
		} else {
			p.add(path, "%v", err)
		}
		return nil
	}
	if wv.err != nil {
		p.add(path, "%v", wv.err)
		return nil
	}
	return prog
}

// compileOptions are the options every rule is compiled with.
func compileOptions(extra ...expr.Option) []expr.Option {
	opts := []expr.Option{expr.Env(env{}), expr.AsBool(), expr.Patch(stateInjector{})}
	opts = append(opts, historyFunctions()...)
	return append(opts, extra...)
}

// windowValidator checks constant within(...) arguments at compile time so
// that a bad window is refused with the agreement, not at run time.
type windowValidator struct{ err error }

func (v *windowValidator) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok || v.err != nil {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != "within" || len(call.Arguments) != 1 {
		return
	}
	var arg any
	switch a := call.Arguments[0].(type) {
	case *ast.StringNode:
		arg = a.Value
	case *ast.IntegerNode:
		arg = a.Value
	case *ast.FloatNode:
		arg = a.Value
	default:
		return
	}
	if _, err := parseWindow(arg); err != nil {
		v.err = err
	}
}

// didChecks finds the did(...) calls of an expression and compiles each
// alone, so an explanation can list the ones that are not yet true.
func didChecks(root ast.Node) []check {
	var found []string
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		call, ok := (*n).(*ast.CallNode)
		if !ok {
			return
		}
		if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == "did" {
			found = append(found, call.String())
		}
	}))
	var out []check
	for _, src := range found {
		if prog, err := expr.Compile(src, compileOptions()...); err == nil {
			// Show the call as the author wrote it, without the hidden argument.
			out = append(out, check{src: strings.Replace(src, stateArg+", ", "", 1), prog: prog})
		}
	}
	return out
}

// propertiesOnly reports whether an expression reads nothing but contact
// and account properties (no history, scores or clock). Any other
// identifier — a function, fit, engagement, now, a variable — counts as
// dynamic, which is the safe side.
func propertiesOnly(root ast.Node) bool {
	only := true
	ast.Walk(&root, visitorFunc(func(n *ast.Node) {
		if id, ok := (*n).(*ast.IdentifierNode); ok && id.Value != "contact" && id.Value != "account" {
			only = false
		}
	}))
	return only
}

type visitorFunc func(*ast.Node)

func (f visitorFunc) Visit(n *ast.Node) { f(n) }

// ValidReason reports whether code is one of the agreement's rejection reasons.
func (c *Compiled) ValidReason(code string) bool { return c.reasons[code] }
