package agreement

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// ContactFacts are the contact properties rules can read.
type ContactFacts struct {
	Email      string         `expr:"email"`
	FirstName  string         `expr:"first_name"`
	LastName   string         `expr:"last_name"`
	JobTitle   string         `expr:"job_title"`
	Phone      string         `expr:"phone"`
	Country    string         `expr:"country"`
	Source     string         `expr:"source"`
	Stage      string         `expr:"stage"`
	Consent    string         `expr:"consent"`
	Properties map[string]any `expr:"properties"`
}

// AccountFacts are the account properties rules can read.
type AccountFacts struct {
	Name       string         `expr:"name"`
	Domain     string         `expr:"domain"`
	Industry   string         `expr:"industry"`
	Employees  int            `expr:"employees"`
	Country    string         `expr:"country"`
	Properties map[string]any `expr:"properties"`
}

// Window limits a history function to recent events.
type Window struct {
	Span time.Duration
}

// env is what an expression sees. Field tags are the names used in rules.
// The history functions (did, count, last, days_since) are registered with
// expr.Function, which calls them without reflection; a patch adds the
// hidden stateArg argument so they can reach the contact's summary.
type env struct {
	Contact    ContactFacts `expr:"contact"`
	Account    AccountFacts `expr:"account"`
	Fit        int          `expr:"fit"`
	Engagement int          `expr:"engagement"`
	Now        time.Time    `expr:"now"`
	State      *evalState   `expr:"__alinea"`
}

// stateArg is the name of the hidden first argument of history functions.
const stateArg = "__alinea"

// evalState is what history functions read.
type evalState struct {
	summary *Summary
	now     time.Time
}

// neverDays is what days_since returns for an event that never happened:
// larger than any real age, so "days_since(x) > 30" holds.
const neverDays = 1e6

func newEnv(c ContactFacts, a AccountFacts, s *Summary, now time.Time) *env {
	return &env{Contact: c, Account: a, Now: now, State: &evalState{summary: s, now: now}}
}

func (st *evalState) stats(event string) *TypeStats {
	if st == nil || st.summary == nil {
		return nil
	}
	return st.summary.Types[event]
}

func (st *evalState) count(event string, w []any) int64 {
	ts := st.stats(event)
	if ts == nil {
		return 0
	}
	if len(w) == 0 {
		return ts.Count
	}
	return ts.countSince(st.now.Add(-w[0].(Window).Span))
}

// historyFunctions are the rule language's functions over a contact's
// activity, with their signatures for the type checker.
func historyFunctions() []expr.Option {
	state := func(p []any) *evalState { s, _ := p[0].(*evalState); return s }
	return []expr.Option{
		expr.Function("did", func(p ...any) (any, error) {
			return state(p).count(p[1].(string), p[2:]) > 0, nil
		}, new(func(*evalState, string) bool), new(func(*evalState, string, Window) bool)),
		expr.Function("count", func(p ...any) (any, error) {
			return int(state(p).count(p[1].(string), p[2:])), nil
		}, new(func(*evalState, string) int), new(func(*evalState, string, Window) int)),
		expr.Function("last", func(p ...any) (any, error) {
			if ts := state(p).stats(p[1].(string)); ts != nil {
				return ts.Last, nil
			}
			return time.Time{}, nil
		}, new(func(*evalState, string) time.Time)),
		expr.Function("days_since", func(p ...any) (any, error) {
			st := state(p)
			if ts := st.stats(p[1].(string)); ts != nil {
				return st.now.Sub(ts.Last).Hours() / 24, nil
			}
			return float64(neverDays), nil
		}, new(func(*evalState, string) float64)),
		expr.Function("within", func(p ...any) (any, error) {
			return parseWindow(p[0])
		}, new(func(string) Window), new(func(int) Window), new(func(float64) Window)),
	}
}

// historyFunctionNames are the functions that get the hidden state argument.
var historyFunctionNames = map[string]bool{"did": true, "count": true, "last": true, "days_since": true}

// stateInjector adds the hidden state argument to history function calls.
type stateInjector struct{}

func (stateInjector) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || !historyFunctionNames[id.Value] {
		return
	}
	if len(call.Arguments) > 0 {
		if first, ok := call.Arguments[0].(*ast.IdentifierNode); ok && first.Value == stateArg {
			return
		}
	}
	call.Arguments = append([]ast.Node{&ast.IdentifierNode{Value: stateArg}}, call.Arguments...)
}

// parseWindow reads "30d", "12h", "2w" or a number of days.
func parseWindow(span any) (Window, error) {
	var d time.Duration
	switch v := span.(type) {
	case int:
		d = time.Duration(v) * 24 * time.Hour
	case float64:
		d = time.Duration(v * 24 * float64(time.Hour))
	case string:
		s := strings.TrimSpace(v)
		if len(s) < 2 {
			return Window{}, fmt.Errorf("within(%q): use a number of days or a span such as \"30d\", \"12h\" or \"2w\"", v)
		}
		n, err := strconv.ParseFloat(s[:len(s)-1], 64)
		if err != nil {
			return Window{}, fmt.Errorf("within(%q): use a number of days or a span such as \"30d\", \"12h\" or \"2w\"", v)
		}
		switch s[len(s)-1] {
		case 'h':
			d = time.Duration(n * float64(time.Hour))
		case 'd':
			d = time.Duration(n * 24 * float64(time.Hour))
		case 'w':
			d = time.Duration(n * 7 * 24 * float64(time.Hour))
		default:
			return Window{}, fmt.Errorf("within(%q): the unit must be h, d or w", v)
		}
	default:
		return Window{}, fmt.Errorf("within(%v): use a number of days or a span such as \"30d\"", span)
	}
	if d <= 0 || d > WindowDays*24*time.Hour {
		return Window{}, fmt.Errorf("within(%v): the window must be more than 0 and at most %d days", span, WindowDays)
	}
	return Window{Span: d}, nil
}
