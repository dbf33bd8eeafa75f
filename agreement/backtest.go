package agreement

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expr-lang/expr/ast"
)

// HistoryEvent is one past event of a contact, for replay.
type HistoryEvent struct {
	Type string
	At   time.Time
}

// WonDeal is a won deal a contact took part in.
type WonDeal struct {
	DealID   int64
	ClosedAt time.Time
	Amount   int64 // minor units
}

// ContactHistory is everything a backtest needs about one contact: its
// current properties (property history is not kept, so today's values are
// used throughout), its events oldest first, and the won deals it was in.
type ContactHistory struct {
	ContactID int64
	Contact   ContactFacts
	Account   AccountFacts
	Events    []HistoryEvent
	Won       []WonDeal
}

// Backtest replays history under one or more agreement versions at once
// and counts, month by month, the leads, MQLs and SQLs each would have
// produced and how many of those later won.
type Backtest struct {
	From, To time.Time
	// Currency is the first version's currency; won deals in other
	// currencies are left out of revenue (there are no exchange rates).
	Currency string
	runs     []*run
	wonSeen  map[int64]bool
	wonTotal wonTally
}

type run struct {
	label    string
	c        *Compiled
	relevant map[string]bool // event types that can change a result; nil = all
	months   map[string]*MonthRow
	// qualifiedWon counts contacts in won deals who were MQL / SQL before
	// the win (recall's numerator).
	mqlBeforeWin, sqlBeforeWin int
}

type wonTally struct {
	contacts int
	deals    map[int64]int64
}

// MonthRow is one month of a backtest for one version.
type MonthRow struct {
	Month      string `json:"month"`
	Leads      int    `json:"leads"`
	MQLs       int    `json:"mqls"`
	SQLs       int    `json:"sqls"`
	MQLsWon    int    `json:"mqls_won"`
	SQLsWon    int    `json:"sqls_won"`
	WonRevenue int64  `json:"won_revenue"`
	wonDeals   map[int64]bool
}

// Report is a finished backtest for one version.
type Report struct {
	Label        string     `json:"label"`
	Months       []MonthRow `json:"months"`
	Leads        int        `json:"leads"`
	MQLs         int        `json:"mqls"`
	SQLs         int        `json:"sqls"`
	MQLPrecision float64    `json:"mql_precision"`
	MQLRecall    float64    `json:"mql_recall"`
	SQLPrecision float64    `json:"sql_precision"`
	SQLRecall    float64    `json:"sql_recall"`
	WonContacts  int        `json:"won_contacts"`
	WonRevenue   int64      `json:"won_revenue"`
}

// NewBacktest prepares a replay of [from, to) for the given versions,
// labelled for the report (e.g. "v7 (proposed)", "v5 (active)").
func NewBacktest(from, to time.Time, labels []string, versions []*Compiled) *Backtest {
	b := &Backtest{From: from, To: to, wonSeen: map[int64]bool{}, wonTotal: wonTally{deals: map[int64]int64{}}}
	if len(versions) > 0 {
		b.Currency = versions[0].Doc.Currency
	}
	for i, c := range versions {
		b.runs = append(b.runs, &run{label: labels[i], c: c, relevant: c.referencedEvents(), months: map[string]*MonthRow{}})
	}
	return b
}

// referencedEvents lists the event types an agreement's results depend on;
// evaluating only after those events gives the same answers, because other
// events cannot make a definition true. nil means "every event" (an
// expression names events in a way that cannot be read statically).
func (c *Compiled) referencedEvents() map[string]bool {
	out := map[string]bool{}
	for _, r := range c.engagement {
		out[r.Event] = true
	}
	dynamic := false
	visit := func(n ast.Node) {
		ast.Walk(&n, visitorFunc(func(node *ast.Node) {
			call, ok := (*node).(*ast.CallNode)
			if !ok {
				return
			}
			id, ok := call.Callee.(*ast.IdentifierNode)
			if !ok {
				return
			}
			switch id.Value {
			case "did", "count", "last", "days_since":
				args := call.Arguments
				if len(args) > 0 {
					if id, ok := args[0].(*ast.IdentifierNode); ok && id.Value == stateArg {
						args = args[1:]
					}
				}
				if len(args) > 0 {
					if s, ok := args[0].(*ast.StringNode); ok {
						out[s.Value] = true
						return
					}
				}
				dynamic = true
			}
		}))
	}
	for _, d := range c.defs {
		if d.prog != nil {
			visit(d.prog.Node())
		}
	}
	for _, f := range c.fit {
		visit(f.prog.Node())
	}
	if dynamic {
		return nil
	}
	return out
}

func monthOf(t time.Time) string { return t.UTC().Format("2006-01") }

// Add replays one contact.
func (b *Backtest) Add(h ContactHistory) {
	for _, w := range h.Won {
		if w.ClosedAt.Before(b.From) || !w.ClosedAt.Before(b.To) {
			continue
		}
		if !b.wonSeen[h.ContactID] {
			b.wonSeen[h.ContactID] = true
			b.wonTotal.contacts++
		}
		b.wonTotal.deals[w.DealID] = w.Amount
	}
	for _, r := range b.runs {
		r.replay(b, h)
	}
}

func (r *run) replay(b *Backtest, h ContactHistory) {
	var sum Summary
	var fit staticFit
	var reached [3]time.Time // first time lead, mql, sql held
	for i, e := range h.Events {
		sum.Add(e.Type, e.At, r.c.HalfLives(e.Type))
		// Only events the agreement names can make a definition true; the
		// first event is evaluated too, for definitions that name none.
		if i > 0 && r.relevant != nil && !r.relevant[e.Type] {
			continue
		}
		res := r.c.evaluate(h.Contact, h.Account, &sum, e.At, false, &fit)
		for j, name := range DefinitionNames {
			if reached[j].IsZero() && res.Met(name) {
				reached[j] = e.At
			}
		}
		if !reached[2].IsZero() {
			break // nothing further can change for this contact
		}
	}
	firstWin := time.Time{}
	for _, w := range h.Won {
		if firstWin.IsZero() || w.ClosedAt.Before(firstWin) {
			firstWin = w.ClosedAt
		}
	}
	for j, at := range reached {
		if at.IsZero() || at.Before(b.From) || !at.Before(b.To) {
			continue
		}
		row := r.month(monthOf(at))
		won := false
		for _, w := range h.Won {
			if w.ClosedAt.After(at) {
				won = true
				if j == 2 && !row.wonDeals[w.DealID] {
					row.wonDeals[w.DealID] = true
					row.WonRevenue += w.Amount
				}
			}
		}
		switch j {
		case 0:
			row.Leads++
		case 1:
			row.MQLs++
			if won {
				row.MQLsWon++
			}
		case 2:
			row.SQLs++
			if won {
				row.SQLsWon++
			}
		}
	}
	if !firstWin.IsZero() && !firstWin.Before(b.From) && firstWin.Before(b.To) {
		if !reached[1].IsZero() && reached[1].Before(firstWin) {
			r.mqlBeforeWin++
		}
		if !reached[2].IsZero() && reached[2].Before(firstWin) {
			r.sqlBeforeWin++
		}
	}
}

func (r *run) month(m string) *MonthRow {
	row := r.months[m]
	if row == nil {
		row = &MonthRow{Month: m, wonDeals: map[int64]bool{}}
		r.months[m] = row
	}
	return row
}

// Reports returns one report per version, months in order (empty months
// included so versions line up).
func (b *Backtest) Reports() []Report {
	var months []string
	for m := time.Date(b.From.Year(), b.From.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(b.To); m = m.AddDate(0, 1, 0) {
		months = append(months, monthOf(m))
	}
	var revenue int64
	for _, a := range b.wonTotal.deals {
		revenue += a
	}
	var out []Report
	for _, r := range b.runs {
		rep := Report{Label: r.label, WonContacts: b.wonTotal.contacts, WonRevenue: revenue}
		var mqlWon, sqlWon int
		for _, m := range months {
			row := r.month(m)
			rep.Months = append(rep.Months, *row)
			rep.Leads += row.Leads
			rep.MQLs += row.MQLs
			rep.SQLs += row.SQLs
			mqlWon += row.MQLsWon
			sqlWon += row.SQLsWon
		}
		rep.MQLPrecision = ratio(mqlWon, rep.MQLs)
		rep.SQLPrecision = ratio(sqlWon, rep.SQLs)
		rep.MQLRecall = ratio(r.mqlBeforeWin, b.wonTotal.contacts)
		rep.SQLRecall = ratio(r.sqlBeforeWin, b.wonTotal.contacts)
		out = append(out, rep)
	}
	return out
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// WriteTable prints reports side by side as a readable table.
func WriteTable(w io.Writer, reports []Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var head strings.Builder
	head.WriteString("month\t")
	for _, r := range reports {
		fmt.Fprintf(&head, "%s: leads\tMQLs\tSQLs\tMQLs won\tSQLs won\trevenue\t", r.Label)
	}
	fmt.Fprintln(tw, head.String())
	if len(reports) == 0 {
		return tw.Flush()
	}
	for i := range reports[0].Months {
		fmt.Fprintf(tw, "%s\t", reports[0].Months[i].Month)
		for _, r := range reports {
			m := r.Months[i]
			fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%s\t", m.Leads, m.MQLs, m.SQLs, m.MQLsWon, m.SQLsWon, money(m.WonRevenue))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "total\t")
	for _, r := range reports {
		fmt.Fprintf(tw, "%d\t%d\t%d\t\t\t\t", r.Leads, r.MQLs, r.SQLs)
	}
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, r := range reports {
		fmt.Fprintf(w, "%s: MQL precision %.0f%%, recall %.0f%%; SQL precision %.0f%%, recall %.0f%% (against %d contacts in won deals)\n",
			r.Label, 100*r.MQLPrecision, 100*r.MQLRecall, 100*r.SQLPrecision, 100*r.SQLRecall, r.WonContacts)
	}
	return nil
}

func money(minor int64) string {
	return fmt.Sprintf("%d", minor/100)
}
