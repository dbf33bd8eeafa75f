package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
	"github.com/alinea-crm/alinea/store"
)

// The SLA report (DESIGN.md section 4): how well each team kept the
// agreement's commitments in a month or quarter. The Go code lays the
// charts out; templates/sla_report.html only draws them, as the home page
// does with its funnel.

// reportStore is what the SLA report reads.
type reportStore interface {
	SLAReport(ctx context.Context, period string) (store.SLAReport, error)
	ActiveAgreement(ctx context.Context) (agreement.Version, error)
}

type slaReportPage struct {
	store reportStore
	views *views
	now   func() time.Time
}

type slaReportData struct {
	Period      string
	PeriodLabel string
	Months      []option
	Quarters    []option
	Error       string
	// Empty is set when the period has no handoff or SLA clock at all.
	Empty      bool
	Terms      []termRow
	TermChart  hbarCharts
	TermNames  []string
	Reps       []repRow
	Accept     distView
	Touch      distView
	Rejections rejectionsView
	Marketing  deliveryView
	Conversion conversionView
}

type termRow struct {
	Label, Name                   string
	Total, Met, Breached, Running string
	Compliance                    string
	Known                         bool
}

type repRow struct {
	Name                         string
	Handoffs, Accepted, Rejected string
	Open, Compliance             string
	Terms                        []string
	// Class colours the compliance as the term chart does.
	Class string
}

type distView struct {
	ID, Title string
	Empty     string
	N         int
	Summary   string
	Target    string
	Chart     histChart
	Compact   histChart
}

type rejectionsView struct {
	Total      int
	ByReason   hbarCharts
	BySource   groupTable
	ByCampaign groupTable
}

// groupTable counts rejections per source or campaign and reason.
type groupTable struct {
	ID, Title, Head string
	Rows            []groupRow
}

type groupRow struct {
	Group, Reason, Count string
	Unnamed              bool
}

type deliveryView struct {
	Delivered, Committed string
	// Elapsed explains the marker while the period runs.
	Elapsed         string
	HasCommitment   bool
	RatioPct        float64
	ExpectedPct     float64
	Pace, PaceClass string
}

type conversionView struct {
	SQLs, Won     string
	Rate          string
	HasRate       bool
	RatePct       float64
	Committed     string
	HasCommitment bool
	CommittedPct  float64
	Pace          string
	PaceClass     string
}

// The charts come in two layouts, as the home page's funnel does: wide
// for the page and compact for phones, each drawn near its own size so
// that its text stays readable.

// hbarChart is a list of labelled horizontal bars, label above each bar
// and the value after it, so long labels never crowd the bars.
type hbarChart struct {
	ID, Title     string
	Width, Height int
	BarH          int
	Compact       bool
	Rows          []hbar
	maxW          int
}

// hbarCharts are one chart in both layouts.
type hbarCharts struct {
	Wide, Compact hbarChart
}

type hbar struct {
	Label, Value chartText
	X, Y, W      int
	TrackW       int
	Class        string
}

const (
	hbarRow = 48
	hbarBar = 14
)

func newHBarCharts(id, title string) hbarCharts {
	return hbarCharts{
		Wide:    hbarChart{ID: id, Title: title, Width: 520, maxW: 400, BarH: hbarBar},
		Compact: hbarChart{ID: id + "-compact", Title: title, Width: 340, maxW: 230, BarH: hbarBar, Compact: true},
	}
}

func (c *hbarCharts) add(label, value string, share float64, class string) {
	c.Wide.add(label, value, share, class)
	c.Compact.add(label, value, share, class)
}

// add appends a bar of share (0-1; negative draws none) of the track.
func (c *hbarChart) add(label, value string, share float64, class string) {
	top := len(c.Rows) * hbarRow
	b := hbar{X: 0, Y: top + 22, TrackW: c.maxW, Class: class}
	if share > 0 {
		b.W = max(3, int(math.Round(min(share, 1)*float64(c.maxW))))
	}
	b.Label = chartText{X: 0, Y: top + 14, Anchor: "start", Text: label}
	b.Value = chartText{X: b.X + max(b.W, 0) + 8, Y: b.Y + hbarBar/2, Anchor: "start", Text: value}
	c.Rows = append(c.Rows, b)
	c.Height = len(c.Rows)*hbarRow + 4
}

// histChart is a histogram of business hours in the report's buckets,
// with the SLA's target marked where it falls.
type histChart struct {
	ID, Title     string
	Compact       bool
	Width, Height int
	BaseY         int
	Bars          []histBar
	Axis          chartText
	Target        *targetMark
}

type histBar struct {
	X, Y, W, H   int
	Count, Label chartText
	SlotX, SlotW int
	Zero         bool
}

type targetMark struct {
	X, Top int
	Label  chartText
}

const (
	histTop  = 34
	histBase = 200
)

// histLayout sizes a histogram: its width, margin and bar width.
type histLayout struct {
	width, left, bar int
	compact          bool
}

var (
	wideHist    = histLayout{width: 600, left: 8, bar: 48}
	compactHist = histLayout{width: 340, left: 2, bar: 26, compact: true}
)

func newHistChart(l *locale, id, title string, lay histLayout, d store.Distribution, targetHours float64) histChart {
	c := histChart{ID: id, Title: title, Compact: lay.compact, Width: lay.width, Height: histBase + 48, BaseY: histBase}
	n := len(d.Buckets)
	if n == 0 {
		return c
	}
	slot := (lay.width - 2*lay.left) / n
	most := 0
	for _, b := range d.Buckets {
		most = max(most, b.Count)
	}
	lo := 0.0
	for i, b := range d.Buckets {
		x := lay.left + i*slot
		bar := histBar{SlotX: x, SlotW: slot, W: lay.bar, X: x + (slot-lay.bar)/2}
		if most > 0 && b.Count > 0 {
			bar.H = max(2, int(math.Round(float64(b.Count)/float64(most)*float64(histBase-histTop))))
		}
		bar.Zero = b.Count == 0
		bar.Y = histBase - bar.H
		bar.Count = chartText{X: x + slot/2, Y: bar.Y - 6, Anchor: "middle", Text: l.Int(int64(b.Count))}
		var label string
		switch {
		case b.UpToHours < 0:
			label = "> " + l.Decimal(lo, 0)
		case i == 0:
			label = "≤ " + l.Decimal(b.UpToHours, 1)
		default:
			label = l.Decimal(lo, 1) + "–" + l.Decimal(b.UpToHours, 1)
		}
		bar.Label = chartText{X: x + slot/2, Y: histBase + 18, Anchor: "middle", Text: label}
		// The target falls in the bucket (lo, up]: placed proportionally.
		if targetHours > 0 && b.UpToHours > 0 && targetHours > lo && targetHours <= b.UpToHours {
			tx := x + int(math.Round((targetHours-lo)/(b.UpToHours-lo)*float64(slot)))
			anchor := "middle"
			if tx > lay.width-80 {
				anchor = "end"
			} else if tx < 60 {
				anchor = "start"
			}
			c.Target = &targetMark{X: tx, Top: histTop - 14, Label: chartText{X: tx, Y: histTop - 20, Anchor: anchor, Text: l.T("report.target_mark", l.Decimal(targetHours, 1))}}
		}
		if b.UpToHours > 0 {
			lo = b.UpToHours
		}
		c.Bars = append(c.Bars, bar)
	}
	c.Axis = chartText{X: lay.width / 2, Y: histBase + 42, Anchor: "middle", Text: l.T("report.axis_hours")}
	return c
}

// reportMonths and reportQuarters are how far back the period selector
// offers; any other period can be asked for in the URL.
const (
	reportMonths   = 12
	reportQuarters = 5
)

func (h *slaReportPage) show(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	l := v.Lang
	now := h.now().UTC()
	period := strings.TrimSpace(r.URL.Query().Get("period"))
	if period == "" {
		period = now.Format("2006-01")
	}
	data := &slaReportData{Period: period, PeriodLabel: goalPeriodLabel(l, period)}
	status := http.StatusOK
	rep, err := h.store.SLAReport(ctx, period)
	switch {
	case err == nil:
		var doc *agreement.Document
		if a, err := h.store.ActiveAgreement(ctx); err == nil {
			doc = &a.Document
		} else if alinea.ErrorCode(err) != alinea.ENOTFOUND {
			return err
		}
		h.build(l, data, rep, doc, now)
	case alinea.ErrorCode(err) == alinea.EINVALID:
		status = http.StatusUnprocessableEntity
		data.Error = l.T("report.error_period", period)
		data.Period = now.Format("2006-01")
	default:
		return err
	}
	data.Months, data.Quarters = periodOptions(l, now, data.Period)
	return h.views.render(w, r, v, status, "sla_report", l.T("report.title", data.PeriodLabel), data)
}

// periodOptions are the months and quarters the selector offers, newest
// first; a period from the URL that is not among them is added.
func periodOptions(l *locale, now time.Time, selected string) (months, quarters []option) {
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	found := false
	for i := range reportMonths {
		p := first.AddDate(0, -i, 0).Format("2006-01")
		months = append(months, option{Value: p, Label: goalPeriodLabel(l, p), Selected: p == selected})
		found = found || p == selected
	}
	q := (int(now.Month())-1)/3 + 1
	year := now.Year()
	for range reportQuarters {
		p := fmt.Sprintf("%d-Q%d", year, q)
		quarters = append(quarters, option{Value: p, Label: goalPeriodLabel(l, p), Selected: p == selected})
		found = found || p == selected
		if q--; q == 0 {
			q, year = 4, year-1
		}
	}
	if !found {
		o := option{Value: selected, Label: goalPeriodLabel(l, selected), Selected: true}
		if len(selected) == 7 && selected[5] == 'Q' {
			quarters = append([]option{o}, quarters...)
		} else {
			months = append([]option{o}, months...)
		}
	}
	return months, quarters
}

func (h *slaReportPage) build(l *locale, data *slaReportData, rep store.SLAReport, doc *agreement.Document, now time.Time) {
	terms := map[string]agreement.SLA{}
	var reasons []agreement.RejectionReason
	if doc != nil {
		for _, t := range doc.SLAs {
			terms[t.Name] = t
		}
		reasons = doc.RejectionReasons
	}
	pct := func(ratio float64) string {
		if ratio < 0 {
			return "—"
		}
		return l.Percent(ratio)
	}
	data.Empty = len(rep.Terms) == 0 && len(rep.Reps) == 0

	// Compliance per term.
	data.TermChart = newHBarCharts("terms-chart", l.T("report.terms_chart"))
	for _, ts := range rep.Terms {
		label := termLabel(l, ts, terms)
		row := termRow{Label: label, Name: ts.Term, Total: l.Int(int64(ts.Total)), Met: l.Int(int64(ts.Met)), Breached: l.Int(int64(ts.Breached)),
			Running: l.Int(int64(ts.Running)), Compliance: pct(ts.Compliance), Known: ts.Compliance >= 0}
		data.Terms = append(data.Terms, row)
		data.TermNames = append(data.TermNames, label)
		value := l.T("report.no_decided")
		if row.Known {
			value = l.T("report.compliance_value", l.Percent(ts.Compliance), ts.Met, ts.Met+ts.Breached)
		}
		data.TermChart.add(label, value, ts.Compliance, complianceClass(ts.Compliance))
	}

	// Per rep, with each term's compliance in the team's term order.
	for _, rc := range rep.Reps {
		row := repRow{Name: rc.Name, Handoffs: l.Int(int64(rc.Handoffs)), Accepted: l.Int(int64(rc.Accepted)), Rejected: l.Int(int64(rc.Rejected)),
			Open: l.Int(int64(rc.Open)), Compliance: pct(rc.Compliance), Class: complianceClass(rc.Compliance)}
		for _, team := range rep.Terms {
			cell := "—"
			for _, ts := range rc.Terms {
				if ts.Term == team.Term {
					cell = pct(ts.Compliance)
				}
			}
			row.Terms = append(row.Terms, cell)
		}
		data.Reps = append(data.Reps, row)
	}

	// Distributions, with the agreement's target marked.
	target := func(kind string) float64 {
		for _, t := range terms {
			if t.Kind == kind {
				return t.BusinessHours
			}
		}
		return 0
	}
	dist := func(id, title, empty string, d store.Distribution, kind string) distView {
		dv := distView{ID: id, Title: title, Empty: empty, N: d.N}
		t := target(kind)
		if d.N > 0 {
			dv.Summary = l.T("report.dist_summary", d.N, hoursText(l, d.Median), hoursText(l, d.P90))
			dv.Chart = newHistChart(l, id, title, wideHist, d, t)
			dv.Compact = newHistChart(l, id+"-compact", title, compactHist, d, t)
		}
		if t > 0 {
			dv.Target = l.T("report.dist_target", l.Decimal(t, 1))
		}
		return dv
	}
	data.Accept = dist("accept-hist", l.T("report.time_to_accept"), l.T("report.dist_empty_accept"), rep.TimeToAccept, "accept_within")
	data.Touch = dist("touch-hist", l.T("report.time_to_touch"), l.T("report.dist_empty_touch"), rep.TimeToFirstTouch, "first_touch_within")

	// Rejections: marketing's feedback loop.
	rj := &data.Rejections
	rj.Total = rep.Rejections.Total
	rj.ByReason = newHBarCharts("reasons-chart", l.T("report.by_reason"))
	most := 0
	for _, g := range rep.Rejections.ByReason {
		most = max(most, g.Count)
	}
	for _, g := range rep.Rejections.ByReason {
		share := float64(g.Count) / float64(max(most, 1))
		value := l.T("report.reason_value", g.Count, l.Percent(float64(g.Count)/float64(max(rj.Total, 1))))
		rj.ByReason.add(reasonLabel(l, reasons, g.Reason), value, share, "reason")
	}
	group := func(id, title, head, unnamed string, list []store.GroupCount) groupTable {
		out := groupTable{ID: id, Title: title, Head: head}
		for _, g := range list {
			row := groupRow{Group: g.Group, Reason: reasonLabel(l, reasons, g.Reason), Count: l.Int(int64(g.Count))}
			if g.Group == "" {
				row.Group, row.Unnamed = unnamed, true
			}
			out.Rows = append(out.Rows, row)
		}
		return out
	}
	rj.BySource = group("by-source", l.T("report.by_source"), l.T("report.col_source"), l.T("report.no_source"), rep.Rejections.BySource)
	rj.ByCampaign = group("by-campaign", l.T("report.by_campaign"), l.T("report.col_campaign"), l.T("report.no_campaign"), rep.Rejections.ByCampaign)

	// Marketing's delivery against its commitment, paced like the home
	// page's goal: the marker is where the period's elapsed share puts it.
	m := &data.Marketing
	m.Delivered, m.Committed = l.Int(int64(rep.Marketing.Delivered)), l.Int(int64(rep.Marketing.Committed))
	m.HasCommitment = rep.Marketing.Committed > 0
	elapsed := periodElapsed(rep.Period, now)
	m.ExpectedPct = math.Round(elapsed * 100)
	if elapsed > 0 && elapsed < 1 {
		m.Elapsed = l.T("goal.elapsed", l.Percent(elapsed))
	}
	if m.HasCommitment {
		ratio := float64(rep.Marketing.Delivered) / float64(rep.Marketing.Committed)
		m.RatioPct = math.Round(min(1, ratio) * 100)
		switch {
		case rep.Marketing.Met:
			m.Pace, m.PaceClass = l.T("report.met"), "good"
		case elapsed == 0:
			m.PaceClass = "none"
		case ratio >= elapsed:
			m.Pace, m.PaceClass = l.T("goal.on_track"), "good"
		case ratio >= 0.8*elapsed:
			m.Pace, m.PaceClass = l.T("goal.slightly_behind"), "warn"
		default:
			m.Pace, m.PaceClass = l.T("goal.behind"), "bad"
		}
	}

	// Sales' conversion against "K of every M".
	cv := &data.Conversion
	c := rep.Conversion
	cv.SQLs, cv.Won = l.Int(int64(c.SQLs)), l.Int(int64(c.Won))
	cv.HasRate = c.Rate >= 0 && c.SQLs > 0
	if cv.HasRate {
		cv.Rate, cv.RatePct = l.Percent(c.Rate), math.Round(min(1, c.Rate)*100)
	}
	cv.HasCommitment = c.Of > 0
	if cv.HasCommitment {
		cv.Committed = l.T("report.conversion_committed", c.Count, c.Of, l.Percent(c.Committed))
		cv.CommittedPct = math.Round(c.Committed * 100)
		cv.PaceClass = "none"
		if cv.HasRate {
			if c.Rate >= c.Committed {
				cv.Pace, cv.PaceClass = l.T("report.conversion_ok"), "good"
			} else {
				cv.Pace, cv.PaceClass = l.T("report.conversion_below"), "bad"
			}
		}
	}
}

// hoursText writes business hours as a duration (45 min, 9 h 30 min):
// easier to read than fractions of an hour.
func hoursText(l *locale, hours float64) string {
	return durationText(l, time.Duration(math.Round(hours*60))*time.Minute)
}

// termLabel names an SLA term by what it asks, from the active agreement
// (a term it no longer has keeps its name).
func termLabel(l *locale, ts store.TermStats, terms map[string]agreement.SLA) string {
	t, ok := terms[ts.Term]
	if !ok {
		return ts.Term
	}
	switch t.Kind {
	case "accept_within":
		return l.T("report.term_accept", l.Decimal(t.BusinessHours, 1))
	case "first_touch_within":
		return l.T("report.term_first_touch", l.Decimal(t.BusinessHours, 1))
	case "touches_within":
		return l.T("report.term_touches", t.Count, t.Days)
	}
	return ts.Term
}

func complianceClass(ratio float64) string {
	switch {
	case ratio < 0:
		return "none"
	case ratio >= 0.9:
		return "good"
	case ratio >= 0.7:
		return "warn"
	}
	return "bad"
}

// periodElapsed is the share of a period that has passed (0 before it,
// 1 after it).
func periodElapsed(p agreement.Period, now time.Time) float64 {
	switch {
	case !now.After(p.From):
		return 0
	case !now.Before(p.To):
		return 1
	}
	return float64(now.Sub(p.From)) / float64(p.To.Sub(p.From))
}
