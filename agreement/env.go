package agreement

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

// env is what an expression sees. Field tags are the names used in rules;
// functions are closures over the contact being evaluated.
type env struct {
	Contact    ContactFacts `expr:"contact"`
	Account    AccountFacts `expr:"account"`
	Fit        int          `expr:"fit"`
	Engagement int          `expr:"engagement"`
	Now        time.Time    `expr:"now"`

	Did       func(event string, window ...Window) bool `expr:"did"`
	Count     func(event string, window ...Window) int  `expr:"count"`
	Last      func(event string) time.Time              `expr:"last"`
	DaysSince func(event string) float64                `expr:"days_since"`
	Within    func(span any) Window                     `expr:"within"`
}

// neverDays is what days_since returns for an event that never happened:
// larger than any real age, so "days_since(x) > 30" holds.
const neverDays = 1e6

func newEnv(c ContactFacts, a AccountFacts, s *Summary, now time.Time) *env {
	e := &env{Contact: c, Account: a, Now: now}
	stats := func(event string) *TypeStats {
		if s == nil {
			return nil
		}
		return s.Types[event]
	}
	count := func(event string, w []Window) int64 {
		st := stats(event)
		if st == nil {
			return 0
		}
		if len(w) == 0 {
			return st.Count
		}
		return st.countSince(now.Add(-w[0].Span))
	}
	e.Did = func(event string, w ...Window) bool { return count(event, w) > 0 }
	e.Count = func(event string, w ...Window) int { return int(count(event, w)) }
	e.Last = func(event string) time.Time {
		if st := stats(event); st != nil {
			return st.Last
		}
		return time.Time{}
	}
	e.DaysSince = func(event string) float64 {
		if st := stats(event); st != nil {
			return now.Sub(st.Last).Hours() / 24
		}
		return neverDays
	}
	e.Within = func(span any) Window {
		w, err := parseWindow(span)
		if err != nil {
			panic(err) // expr turns a panic in a function into a run-time error
		}
		return w
	}
	return e
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
