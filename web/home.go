package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
)

// conversionWindow is how far back the funnel's conversion rates look.
const conversionWindow = 90 * 24 * time.Hour

// recentDeals is how many wins and how many losses the home page lists.
const recentDeals = 5

// The stage flows read every transition of the window: about 0.4 s at a
// million contacts on SQLite. When computing them took longer than
// flowsSlow, the result is reused for flowsReuse; small databases always get
// fresh numbers.
const (
	flowsSlow  = 50 * time.Millisecond
	flowsReuse = 5 * time.Minute
)

// flowCache holds the last slow stage flows until they are due again.
type flowCache struct {
	mu    sync.Mutex
	flows []store.StageFlow
	until time.Time
}

// homeStore is what the home page reads.
type homeStore interface {
	StageCounts(ctx context.Context) (map[alinea.Stage]int64, error)
	StageFlows(ctx context.Context, from, to time.Time) ([]store.StageFlow, error)
	GoalPlan(ctx context.Context, period string) (agreement.Plan, error)
	RecentlyClosedDeals(ctx context.Context, status alinea.DealStatus, n int) ([]alinea.Deal, error)
	Users(ctx context.Context) ([]alinea.User, error)
}

// home is the shared dashboard: the funnel both teams work, progress
// towards the agreed goal and the latest wins and losses.
type home struct {
	store homeStore
	views *views
	now   func() time.Time
	flows flowCache
}

type homeData struct {
	Funnel        funnelChart
	FunnelCompact funnelChart
	Modes         []modeShare
	Recycled      int64
	Disqualified  int64
	Quarter       string
	Goal          *goalView
	Won           []dealRow
	Lost          []dealRow
}

// modeShare is one mode's part of all contacts: who works them (DESIGN.md
// section 2) and where its segment of the stacked bar lies (0-100).
type modeShare struct {
	Mode  alinea.Mode
	Label string
	Team  string
	Count string
	Share string
	X, W  float64
}

// modeShares splits the contacts by mode; recycled contacts are back in
// marketing's information mode.
func modeShares(l *locale, counts map[alinea.Stage]int64) []modeShare {
	byMode := map[alinea.Mode]int64{}
	var total int64
	for s, n := range counts {
		byMode[s.Mode()] += n
		total += n
	}
	teams := map[alinea.Mode]string{
		alinea.ModeInformation: l.T("home.team_marketing"),
		alinea.ModeBuy:         l.T("home.team_sales"),
		alinea.ModeCustomer:    l.T("home.team_both"),
		alinea.ModeClosed:      l.T("home.team_none"),
	}
	var out []modeShare
	x := 0.0
	for _, m := range []alinea.Mode{alinea.ModeInformation, alinea.ModeBuy, alinea.ModeCustomer, alinea.ModeClosed} {
		ms := modeShare{Mode: m, Label: modeName(l, m), Team: teams[m], Count: l.Int(byMode[m]), X: x}
		if total > 0 {
			share := float64(byMode[m]) / float64(total)
			ms.Share, ms.W = l.Percent(share), share*100
		}
		x += ms.W
		out = append(out, ms)
	}
	return out
}

// goalView compares the quarter so far with what the agreement's goal needs.
type goalView struct {
	Currency string
	Elapsed  float64
	Rows     []goalRow
}

// goalRow is one measure against the goal: done so far, needed in the whole
// period, and where the pace says it should be by now.
type goalRow struct {
	Label  string
	Done   string
	Needed string
	// RatioPct is done / needed and ExpectedPct the elapsed share of the
	// period, both 0-100: the bar and its "where we should be" marker.
	RatioPct    float64
	ExpectedPct float64
	Pace        string
	PaceClass   string
}

type dealRow struct {
	Name     string
	Amount   string
	Owner    string
	Reason   string
	ClosedAt time.Time
}

func (h *home) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	now := h.now()
	counts, err := h.store.StageCounts(ctx)
	if err != nil {
		return err
	}
	flows, err := h.stageFlows(ctx, now)
	if err != nil {
		return err
	}
	users, err := h.store.Users(ctx)
	if err != nil {
		return err
	}
	names := userNames(users)
	data := homeData{
		Funnel:        newFunnelChart(v.Lang, "funnel-wide", wideFunnel, counts, flows),
		FunnelCompact: newFunnelChart(v.Lang, "funnel-compact", compactFunnel, counts, flows),
		Modes:         modeShares(v.Lang, counts),
		Recycled:      counts[alinea.StageRecycled],
		Disqualified:  counts[alinea.StageDisqualified],
		Quarter:       v.Lang.Quarter(now),
	}
	if data.Goal, err = h.goal(ctx, v.Lang, now); err != nil {
		return err
	}
	for _, status := range []alinea.DealStatus{alinea.DealWon, alinea.DealLost} {
		deals, err := h.store.RecentlyClosedDeals(ctx, status, recentDeals)
		if err != nil {
			return err
		}
		for _, d := range deals {
			row := dealRow{Name: d.Name, Amount: v.Lang.Money(d.Amount, d.Currency), Owner: names[d.OwnerID], Reason: reasonLabel(v.Lang, nil, d.CloseReason)}
			if d.ClosedAt != nil {
				row.ClosedAt = *d.ClosedAt
			}
			if status == alinea.DealWon {
				data.Won = append(data.Won, row)
			} else {
				data.Lost = append(data.Lost, row)
			}
		}
	}
	return h.views.render(w, r, v, http.StatusOK, "home", v.Lang.T("home.title"), data)
}

// stageFlows returns the conversion window's flows, reused while fresh.
func (h *home) stageFlows(ctx context.Context, now time.Time) ([]store.StageFlow, error) {
	h.flows.mu.Lock()
	if now.Before(h.flows.until) {
		flows := h.flows.flows
		h.flows.mu.Unlock()
		return flows, nil
	}
	h.flows.mu.Unlock()
	began := time.Now() // the wall clock: this measures the query
	flows, err := h.store.StageFlows(ctx, now.Add(-conversionWindow), now)
	if err != nil {
		return nil, err
	}
	if time.Since(began) > flowsSlow {
		h.flows.mu.Lock()
		h.flows.flows, h.flows.until = flows, now.Add(flowsReuse)
		h.flows.mu.Unlock()
	}
	return flows, nil
}

// goal reads the reverse funnel of the current quarter; nil when no active
// agreement sets a goal for it.
func (h *home) goal(ctx context.Context, l *locale, now time.Time) (*goalView, error) {
	period := fmt.Sprintf("%d-Q%d", now.Year(), (int(now.Month())-1)/3+1)
	plan, err := h.store.GoalPlan(ctx, period)
	if alinea.ErrorCode(err) == alinea.ENOTFOUND {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	g := &goalView{Currency: plan.Currency, Elapsed: plan.Elapsed}
	row := func(label string, done, needed float64, pace float64, format func(float64) string) goalRow {
		r := goalRow{Label: label, Done: format(done), Needed: format(needed), ExpectedPct: math.Round(plan.Elapsed * 100)}
		if needed > 0 {
			r.RatioPct = math.Round(min(1, done/needed) * 100)
		}
		r.PaceClass = "none"
		switch {
		case plan.Elapsed == 0:
		case pace >= 1:
			r.Pace, r.PaceClass = l.T("goal.on_track"), "good"
		case pace >= 0.8:
			r.Pace, r.PaceClass = l.T("goal.slightly_behind"), "warn"
		default:
			r.Pace, r.PaceClass = l.T("goal.behind"), "bad"
		}
		return r
	}
	count := func(v float64) string { return l.Int(int64(v)) }
	money := func(v float64) string { return l.MoneyMajor(v, plan.Currency) }
	g.Rows = []goalRow{
		row(l.T("goal.mqls"), float64(plan.Actual.MQLs), plan.Needed.MQLs, plan.Pace["mqls"], count),
		row(l.T("goal.sqls"), float64(plan.Actual.SQLs), plan.Needed.SQLs, plan.Pace["sqls"], count),
		row(l.T("goal.revenue"), plan.Actual.Revenue, plan.Revenue, plan.Pace["revenue"], money),
	}
	return g, nil
}

// userNames maps user ids to names for showing owners and authors.
func userNames(users []alinea.User) map[int64]string {
	out := make(map[int64]string, len(users))
	for _, u := range users {
		out[u.ID] = u.Name
	}
	return out
}
