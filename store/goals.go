package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// GoalPlan computes the reverse funnel of a period under the active
// agreement: its revenue goal, the rates measured over the twelve months
// before the period (or the agreement's assumptions where history is thin),
// what the goal needs per month, and the pace so far.
func (s *Store) GoalPlan(ctx context.Context, period string) (agreement.Plan, error) {
	p, err := agreement.ParsePeriod(period)
	if err != nil {
		return agreement.Plan{}, &alinea.Error{Code: alinea.EINVALID, Message: "invalid period", Fields: map[string]string{"period": err.Error()}}
	}
	v, err := s.ActiveAgreement(ctx)
	if err != nil {
		return agreement.Plan{}, err
	}
	goal, ok := v.Document.GoalFor(p)
	if !ok {
		return agreement.Plan{}, alinea.Errorf(alinea.ENOTFOUND, "the active agreement (version %d) sets no revenue goal covering %s", v.ID, period)
	}
	measuredTo := p.From
	if now := s.now(); now.Before(measuredTo) {
		measuredTo = now
	}
	hist, err := s.funnelCounts(ctx, measuredTo.AddDate(-1, 0, 0), measuredTo, v.Document.Currency)
	if err != nil {
		return agreement.Plan{}, err
	}
	a := v.Document.Assumptions
	ratio := func(x, y int) float64 {
		if y == 0 {
			return 0
		}
		return min(1, float64(x)/float64(y))
	}
	avgDeal := 0.0
	if hist.Deals > 0 {
		avgDeal = hist.Revenue / float64(hist.Deals)
	}
	rates := agreement.Rates{
		LeadToMQL:       agreement.PickRate(ratio(hist.MQLs, hist.Leads), hist.Leads, a.LeadToMQL),
		MQLToSQL:        agreement.PickRate(ratio(hist.SQLs, hist.MQLs), hist.MQLs, a.MQLToSQL),
		SQLToWon:        agreement.PickRate(ratio(hist.Deals, hist.SQLs), hist.SQLs, a.SQLToWon),
		AverageDealSize: agreement.PickRate(avgDeal, hist.Deals, a.AverageDealSize),
	}
	now := s.now()
	actualTo := p.To
	if now.Before(actualTo) {
		actualTo = now
	}
	actual := agreement.Counts{}
	if actualTo.After(p.From) {
		if actual, err = s.funnelCounts(ctx, p.From, actualTo, v.Document.Currency); err != nil {
			return agreement.Plan{}, err
		}
	}
	return agreement.ReverseFunnel(p, v.Document.Currency, goal, rates, actual, now), nil
}

// funnelCounts counts, in [from, to), the contacts that reached lead, MQL
// and SQL (or any later stage: skipping forward counts), and the deals won
// in the given currency with their revenue (in major units).
func (s *Store) funnelCounts(ctx context.Context, from, to time.Time, currency string) (agreement.Counts, error) {
	var c agreement.Counts
	reached := func(stage alinea.Stage) (int, error) {
		var later []string
		var args []any
		for _, st := range alinea.FunnelStages[stage.Rank():] {
			later = append(later, "?")
			args = append(args, st)
		}
		args = append(args, ms(from), ms(to))
		var n int
		err := s.rdb.QueryRowContext(ctx, s.q(`SELECT count(DISTINCT contact_id) FROM stage_transitions WHERE to_stage IN (`+strings.Join(later, ",")+`)
			AND at >= ? AND at < ?`), args...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("funnel counts: %w", err)
		}
		return n, nil
	}
	var err error
	if c.Leads, err = reached(alinea.StageLead); err != nil {
		return c, err
	}
	if c.MQLs, err = reached(alinea.StageMQL); err != nil {
		return c, err
	}
	if c.SQLs, err = reached(alinea.StageSQL); err != nil {
		return c, err
	}
	var revenue int64
	// Only deals in the agreement's currency count: there are no exchange
	// rates yet, and adding pesos to euros would be wrong.
	if err := s.rdb.QueryRowContext(ctx, s.q(`SELECT count(*), COALESCE(sum(amount), 0) FROM deals WHERE status = 'won' AND closed_at >= ? AND closed_at < ? AND currency = ?`),
		ms(from), ms(to), currency).Scan(&c.Deals, &revenue); err != nil {
		return c, fmt.Errorf("funnel counts: %w", err)
	}
	c.Revenue = float64(revenue) / 100
	return c, nil
}
