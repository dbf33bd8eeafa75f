package agreement

import (
	"fmt"
	"math"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// Result is a contact's evaluation under one agreement version, with the
// explanation of every number.
type Result struct {
	Fit         int               `json:"fit"`
	Engagement  int               `json:"engagement"`
	Grade       string            `json:"grade"`
	FitRules    []FitScore        `json:"fit_rules"`
	Engaged     []EngagementScore `json:"engagement_rules"`
	Definitions []DefinitionCheck `json:"definitions"`
	Errors      []RuleError       `json:"errors,omitempty"`
}

// FitScore says whether a fit rule matched and what it gave.
type FitScore struct {
	Rule    string `json:"rule"`
	Matched bool   `json:"matched"`
	Points  int    `json:"points"`
}

// EngagementScore is what one engagement rule gave after decay and cap.
type EngagementScore struct {
	Rule   string  `json:"rule"`
	Event  string  `json:"event"`
	Events int64   `json:"events"`
	Points float64 `json:"points"`
	Capped bool    `json:"capped,omitempty"`
}

// DefinitionCheck says whether a definition holds and, if not, what is
// missing.
type DefinitionCheck struct {
	Name    string   `json:"name"`
	Met     bool     `json:"met"`
	Missing []string `json:"missing,omitempty"`
}

// RuleError is a run-time failure of one rule for one contact; evaluation
// carries on without that rule.
type RuleError struct {
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Met reports whether the named definition holds.
func (r Result) Met(name string) bool {
	for _, d := range r.Definitions {
		if d.Name == name {
			return d.Met
		}
	}
	return false
}

// Evaluate scores a contact and checks the definitions at time now.
func (c *Compiled) Evaluate(contact ContactFacts, account AccountFacts, s *Summary, now time.Time) Result {
	return c.evaluate(contact, account, s, now, true, nil)
}

// Score is Evaluate without saying what is missing for the definitions
// that do not hold: what bulk work (re-evaluation, backtests) needs, at a
// fraction of the cost.
func (c *Compiled) Score(contact ContactFacts, account AccountFacts, s *Summary, now time.Time) Result {
	return c.evaluate(contact, account, s, now, false, nil)
}

// staticFit remembers the results of properties-only fit rules for one
// contact across the evaluations of a replay.
type staticFit struct {
	known   bool
	matched []bool
	errs    []error
}

func (c *Compiled) evaluate(contact ContactFacts, account AccountFacts, s *Summary, now time.Time, explain bool, cache *staticFit) Result {
	// A replay (cache set) only needs the scores and the definitions met.
	perRule := cache == nil
	r := Result{Definitions: make([]DefinitionCheck, 0, len(c.defs))}
	if perRule {
		r.Engaged = make([]EngagementScore, 0, len(c.engagement))
		r.FitRules = make([]FitScore, 0, len(c.fit))
	}
	e := newEnv(contact, account, s, now)

	var engagement float64
	for i, rule := range c.engagement {
		sc := EngagementScore{Rule: rule.Name, Event: rule.Event}
		if s != nil {
			if st := s.Types[rule.Event]; st != nil {
				sc.Events = st.Count
				h := halfLife(rule)
				decayed := float64(st.Count)
				if !math.IsInf(h, 1) {
					decayed = st.Decayed[c.halfLifeKeys[i]].At(now, h)
				}
				sc.Points = rule.Points * decayed
			}
		}
		if rule.Cap > 0 && sc.Points > rule.Cap {
			sc.Points, sc.Capped = rule.Cap, true
		}
		sc.Points = math.Round(sc.Points*10) / 10
		engagement += sc.Points
		if perRule {
			r.Engaged = append(r.Engaged, sc)
		}
	}
	r.Engagement = clampScore(int(math.Round(engagement)))
	e.Engagement = r.Engagement

	fit := 0
	if cache != nil && !cache.known {
		cache.matched, cache.errs = make([]bool, len(c.fit)), make([]error, len(c.fit))
	}
	for i, f := range c.fit {
		var matched bool
		var err error
		if cache != nil && cache.known && f.static {
			matched, err = cache.matched[i], cache.errs[i]
		} else {
			matched, err = runBool(f.prog, e)
			if cache != nil {
				cache.matched[i], cache.errs[i] = matched, err
			}
		}
		if err != nil {
			r.Errors = append(r.Errors, RuleError{Rule: f.rule.Name, Message: err.Error()})
		}
		sc := FitScore{Rule: f.rule.Name, Matched: matched}
		if matched {
			sc.Points = f.rule.Points
			fit += f.rule.Points
		}
		if perRule {
			r.FitRules = append(r.FitRules, sc)
		}
	}
	if cache != nil {
		cache.known = true
	}
	r.Fit = clampScore(fit)
	e.Fit = r.Fit
	r.Grade = grade(c.Doc.Grades.Fit, "ABCD", r.Fit) + grade(c.Doc.Grades.Engagement, "1234", r.Engagement)

	for _, d := range c.defs {
		r.Definitions = append(r.Definitions, c.check(d, e, &r, explain))
	}
	return r
}

func (c *Compiled) check(d *compiledDef, e *env, r *Result, explain bool) DefinitionCheck {
	dc := DefinitionCheck{Name: d.name, Met: true}
	if d.prog == nil && d.def.MinFit == 0 && d.def.MinEngagement == 0 {
		// An empty lead definition: any known contact with an email is a lead.
		dc.Met = e.Contact.Email != ""
		if !dc.Met && explain {
			dc.Missing = append(dc.Missing, "an email address")
		}
		return dc
	}
	if d.prog != nil {
		ok, err := runBool(d.prog, e)
		if err != nil {
			r.Errors = append(r.Errors, RuleError{Rule: "definitions." + d.name, Message: err.Error()})
		}
		if !ok {
			dc.Met = false
			for _, ch := range d.checks {
				if !explain {
					break
				}
				if done, _ := runBool(ch.prog, e); !done {
					dc.Missing = append(dc.Missing, ch.src)
				}
			}
			if explain && len(dc.Missing) == 0 {
				dc.Missing = append(dc.Missing, d.def.When)
			}
		}
	}
	if e.Fit < d.def.MinFit {
		dc.Met = false
	}
	if e.Fit < d.def.MinFit && explain {
		dc.Missing = append(dc.Missing, fmt.Sprintf("%d more points of fit (has %d, needs %d)", d.def.MinFit-e.Fit, e.Fit, d.def.MinFit))
	}
	if e.Engagement < d.def.MinEngagement {
		dc.Met = false
	}
	if e.Engagement < d.def.MinEngagement && explain {
		dc.Missing = append(dc.Missing, fmt.Sprintf("%d more points of engagement (has %d, needs %d)", d.def.MinEngagement-e.Engagement, e.Engagement, d.def.MinEngagement))
	}
	return dc
}

func runBool(prog *vm.Program, e *env) (ok bool, err error) {
	out, err := expr.Run(prog, e)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

func grade(bounds []int, labels string, score int) string {
	for i, b := range bounds {
		if score >= b {
			return labels[i : i+1]
		}
	}
	return labels[len(labels)-1:]
}

func clampScore(v int) int {
	return max(0, min(100, v))
}
