package agreement

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// Period is a goal period: a month, a quarter or a year, in UTC.
type Period struct {
	Name     string    `json:"name"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Months   int       `json:"months"`
	Contains []string  `json:"-"`
}

// ParsePeriod reads "2027", "2027-Q1" or "2027-01".
func ParsePeriod(p string) (Period, error) {
	if !periodPattern.MatchString(p) {
		return Period{}, fmt.Errorf("period %q: use a year (2027), a quarter (2027-Q1) or a month (2027-01)", p)
	}
	year, _ := strconv.Atoi(p[:4])
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	months := 12
	switch {
	case len(p) == 7 && p[5] == 'Q':
		q := int(p[6] - '0')
		from = from.AddDate(0, 3*(q-1), 0)
		months = 3
	case len(p) == 7:
		m, _ := strconv.Atoi(p[5:])
		from = from.AddDate(0, m-1, 0)
		months = 1
	}
	return Period{Name: p, From: from, To: from.AddDate(0, months, 0), Months: months}, nil
}

// GoalFor returns the revenue goal of a period: the goal written for it,
// else the sum of goals written for its parts (months or quarters of a
// year), else its share of a goal written for an enclosing period.
func (d Document) GoalFor(p Period) (float64, bool) {
	goals := map[string]float64{}
	for _, g := range d.Goals {
		goals[g.Period] = g.Revenue
	}
	if v, ok := goals[p.Name]; ok {
		return v, true
	}
	var sum float64
	found := false
	for m := p.From; m.Before(p.To); m = m.AddDate(0, 1, 0) {
		if v, ok := goals[m.Format("2006-01")]; ok {
			sum, found = sum+v, true
		} else if m.Month()%3 == 1 {
			if v, ok := goals[fmt.Sprintf("%d-Q%d", m.Year(), (int(m.Month())-1)/3+1)]; ok && !m.AddDate(0, 3, 0).After(p.To) {
				sum, found = sum+v, true
				m = m.AddDate(0, 2, 0)
			}
		}
	}
	if found {
		return sum, true
	}
	for _, enclosing := range []string{fmt.Sprintf("%d-Q%d", p.From.Year(), (int(p.From.Month())-1)/3+1), strconv.Itoa(p.From.Year())} {
		if v, ok := goals[enclosing]; ok && enclosing != p.Name {
			ep, _ := ParsePeriod(enclosing)
			if ep.Months > p.Months {
				return v * float64(p.Months) / float64(ep.Months), true
			}
		}
	}
	return 0, false
}

// Rates are the funnel's conversion rates and average deal size, each
// measured from history when there is enough of it, else assumed.
type Rates struct {
	LeadToMQL       Rate `json:"lead_to_mql"`
	MQLToSQL        Rate `json:"mql_to_sql"`
	SQLToWon        Rate `json:"sql_to_won"`
	AverageDealSize Rate `json:"average_deal_size"`
}

// Rate is one rate and where it comes from.
type Rate struct {
	Value  float64 `json:"value"`
	Source string  `json:"source"` // measured or assumed
	Sample int     `json:"sample"`
}

// MinSample is how many observations a measured rate needs to be trusted
// over the agreement's assumption.
const MinSample = 20

// PickRate prefers a measurement with enough observations.
func PickRate(measured float64, sample int, assumed float64) Rate {
	if sample >= MinSample && measured > 0 {
		return Rate{Value: measured, Source: "measured", Sample: sample}
	}
	return Rate{Value: assumed, Source: "assumed", Sample: sample}
}

// Counts are funnel counts over a span of time.
type Counts struct {
	Leads   int     `json:"leads"`
	MQLs    int     `json:"mqls"`
	SQLs    int     `json:"sqls"`
	Deals   int     `json:"deals"`
	Revenue float64 `json:"revenue"`
}

// Needed is what the goal requires, in the period and per month.
type Needed struct {
	Deals float64 `json:"deals"`
	SQLs  float64 `json:"sqls"`
	MQLs  float64 `json:"mqls"`
	Leads float64 `json:"leads"`
}

// Plan is the reverse funnel of a period with the pace so far.
type Plan struct {
	Period   Period             `json:"period"`
	Currency string             `json:"currency"`
	Revenue  float64            `json:"revenue_goal"`
	Rates    Rates              `json:"rates"`
	Needed   Needed             `json:"needed"`
	PerMonth Needed             `json:"needed_per_month"`
	Actual   Counts             `json:"actual"`
	Elapsed  float64            `json:"elapsed"`
	Pace     map[string]float64 `json:"pace"`
}

// ReverseFunnel turns a revenue goal into the deals, SQLs, MQLs and leads
// it takes, and compares what happened so far with what should have by now
// (pace 1.0 = on track).
func ReverseFunnel(p Period, currency string, revenue float64, r Rates, actual Counts, now time.Time) Plan {
	plan := Plan{Period: p, Currency: currency, Revenue: revenue, Rates: r, Actual: actual, Pace: map[string]float64{}}
	div := func(a, b float64) float64 {
		if b <= 0 {
			return 0
		}
		return a / b
	}
	plan.Needed.Deals = math.Ceil(div(revenue, r.AverageDealSize.Value))
	plan.Needed.SQLs = math.Ceil(div(plan.Needed.Deals, r.SQLToWon.Value))
	plan.Needed.MQLs = math.Ceil(div(plan.Needed.SQLs, r.MQLToSQL.Value))
	plan.Needed.Leads = math.Ceil(div(plan.Needed.MQLs, r.LeadToMQL.Value))
	m := float64(p.Months)
	plan.PerMonth = Needed{Deals: round1(plan.Needed.Deals / m), SQLs: round1(plan.Needed.SQLs / m), MQLs: round1(plan.Needed.MQLs / m), Leads: round1(plan.Needed.Leads / m)}
	switch {
	case !now.After(p.From):
		plan.Elapsed = 0
	case !now.Before(p.To):
		plan.Elapsed = 1
	default:
		plan.Elapsed = now.Sub(p.From).Seconds() / p.To.Sub(p.From).Seconds()
	}
	if plan.Elapsed > 0 {
		pace := func(actual, needed float64) float64 { return round2(div(actual, needed*plan.Elapsed)) }
		plan.Pace["revenue"] = pace(actual.Revenue, revenue)
		plan.Pace["deals"] = pace(float64(actual.Deals), plan.Needed.Deals)
		plan.Pace["sqls"] = pace(float64(actual.SQLs), plan.Needed.SQLs)
		plan.Pace["mqls"] = pace(float64(actual.MQLs), plan.Needed.MQLs)
		plan.Pace["leads"] = pace(float64(actual.Leads), plan.Needed.Leads)
	}
	plan.Elapsed = round2(plan.Elapsed)
	return plan
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
func round2(v float64) float64 { return math.Round(v*100) / 100 }
