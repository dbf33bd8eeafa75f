package store

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/alinea-crm/alinea"
	"github.com/alinea-crm/alinea/agreement"
)

// SLAReport is the handoff's scorecard for a period (DESIGN.md section 4):
// compliance per rep and term, the time-to-accept and time-to-first-touch
// distributions in business hours, why sales sent leads back (by reason,
// source and campaign: marketing's feedback loop), marketing's delivered
// MQLs against its commitment and sales' conversion against theirs.
type SLAReport struct {
	Period           agreement.Period `json:"period"`
	Terms            []TermStats      `json:"terms"`
	Reps             []RepCompliance  `json:"reps"`
	TimeToAccept     Distribution     `json:"time_to_accept"`
	TimeToFirstTouch Distribution     `json:"time_to_first_touch"`
	Rejections       RejectionReport  `json:"rejections"`
	Marketing        MQLDelivery      `json:"marketing"`
	Conversion       SQLConversion    `json:"conversion"`
}

// TermStats counts one SLA term's clocks started in the period.
type TermStats struct {
	Term     string `json:"term"`
	Kind     string `json:"kind"`
	Total    int    `json:"total"`
	Met      int    `json:"met"`
	Breached int    `json:"breached"`
	Running  int    `json:"running"`
	// Compliance is met / (met + breached), or -1 with nothing decided.
	Compliance float64 `json:"compliance"`
}

// RepCompliance is one rep's handoffs and clocks in the period.
type RepCompliance struct {
	UserID     int64       `json:"user_id"`
	Name       string      `json:"name"`
	Handoffs   int         `json:"handoffs"`
	Accepted   int         `json:"accepted"`
	Rejected   int         `json:"rejected"`
	Open       int         `json:"open"`
	Terms      []TermStats `json:"terms"`
	Compliance float64     `json:"compliance"`
}

// Distribution summarises durations in business hours.
type Distribution struct {
	N       int      `json:"n"`
	Median  float64  `json:"median_hours"`
	P90     float64  `json:"p90_hours"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket counts durations up to UpToHours (the last bucket has no bound,
// UpToHours -1).
type Bucket struct {
	UpToHours float64 `json:"up_to_hours"`
	Count     int     `json:"count"`
}

// distributionBounds are the buckets' upper bounds in business hours.
var distributionBounds = []float64{1, 2, 4, 8, 16, 24, 48}

// RejectionReport groups the period's rejections.
type RejectionReport struct {
	Total      int          `json:"total"`
	ByReason   []GroupCount `json:"by_reason"`
	BySource   []GroupCount `json:"by_source"`
	ByCampaign []GroupCount `json:"by_campaign"`
}

// GroupCount is a count of rejections for a group and reason.
type GroupCount struct {
	Group  string `json:"group,omitempty"`
	Reason string `json:"reason"`
	Count  int    `json:"count"`
}

// MQLDelivery is marketing's commitment (deliver_mqls) against what it
// delivered: contacts that entered mql in the period.
type MQLDelivery struct {
	Delivered int `json:"delivered"`
	// Committed is 0 when the agreement has no deliver_mqls term.
	Committed int  `json:"committed"`
	Met       bool `json:"met"`
}

// SQLConversion is sales' commitment (convert_sqls, "5 of 20") against the
// period's SQLs and how many of them are customers so far.
type SQLConversion struct {
	SQLs      int     `json:"sqls"`
	Won       int     `json:"won"`
	Rate      float64 `json:"rate"`
	Committed float64 `json:"committed_rate"`
	Count     int     `json:"count,omitempty"`
	Of        int     `json:"of,omitempty"`
}

// SLAReport builds the report for a period ("2027", "2027-Q1", "2027-01").
func (s *Store) SLAReport(ctx context.Context, period string) (SLAReport, error) {
	p, err := agreement.ParsePeriod(period)
	if err != nil {
		return SLAReport{}, alinea.FieldErrors{"period": err.Error()}.Err("invalid report period")
	}
	r := SLAReport{Period: p}
	from, to := ms(p.From), ms(p.To)
	live, err := s.liveAgreementFor(ctx, s.rdb)
	if err != nil {
		return r, err
	}

	// Clocks per rep and term.
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT COALESCE(k.owner_id, 0), COALESCE(u.name, ''), k.term, k.kind, k.status, k.elapsed_ms
		FROM sla_clocks k LEFT JOIN users u ON u.id = k.owner_id WHERE k.started_at >= ? AND k.started_at < ? ORDER BY k.id`), from, to)
	if err != nil {
		return r, fmt.Errorf("SLA report clocks: %w", err)
	}
	team := map[string]*TermStats{}
	var termOrder []string
	reps := map[int64]*RepCompliance{}
	repTerms := map[int64]map[string]*TermStats{}
	var accept, touch []float64
	for rows.Next() {
		var owner int64
		var name, term, kind, status string
		var elapsed *int64
		if err := rows.Scan(&owner, &name, &term, &kind, &status, &elapsed); err != nil {
			rows.Close()
			return r, fmt.Errorf("SLA report clocks: %w", err)
		}
		if team[term] == nil {
			team[term] = &TermStats{Term: term, Kind: kind}
			termOrder = append(termOrder, term)
		}
		count(team[term], status)
		if owner != 0 {
			if reps[owner] == nil {
				reps[owner] = &RepCompliance{UserID: owner, Name: name}
				repTerms[owner] = map[string]*TermStats{}
			}
			if repTerms[owner][term] == nil {
				repTerms[owner][term] = &TermStats{Term: term, Kind: kind}
			}
			count(repTerms[owner][term], status)
		}
		if elapsed != nil {
			hours := float64(*elapsed) / float64(time.Hour/time.Millisecond)
			switch kind {
			case "accept_within":
				accept = append(accept, hours)
			case "first_touch_within":
				touch = append(touch, hours)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("SLA report clocks: %w", err)
	}
	for _, t := range termOrder {
		r.Terms = append(r.Terms, finish(*team[t]))
	}
	r.TimeToAccept, r.TimeToFirstTouch = distribution(accept), distribution(touch)

	// Handoffs per rep.
	rows, err = s.rdb.QueryContext(ctx, s.q(`SELECT a.owner_id, COALESCE(u.name, ''), a.status, COUNT(*) FROM assignments a JOIN users u ON u.id = a.owner_id
		WHERE a.assigned_at >= ? AND a.assigned_at < ? GROUP BY a.owner_id, u.name, a.status`), from, to)
	if err != nil {
		return r, fmt.Errorf("SLA report handoffs: %w", err)
	}
	for rows.Next() {
		var owner int64
		var name, status string
		var n int
		if err := rows.Scan(&owner, &name, &status, &n); err != nil {
			rows.Close()
			return r, fmt.Errorf("SLA report handoffs: %w", err)
		}
		if reps[owner] == nil {
			reps[owner] = &RepCompliance{UserID: owner, Name: name}
		}
		rc := reps[owner]
		rc.Handoffs += n
		switch status {
		case "accepted":
			rc.Accepted += n
		case "rejected":
			rc.Rejected += n
		case "open":
			rc.Open += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("SLA report handoffs: %w", err)
	}
	for id, rc := range reps {
		var met, breached int
		for _, t := range termOrder {
			if ts := repTerms[id][t]; ts != nil {
				f := finish(*ts)
				rc.Terms = append(rc.Terms, f)
				met += f.Met
				breached += f.Breached
			}
		}
		rc.Compliance = ratio(met, met+breached)
		if rc.Terms == nil {
			rc.Terms = []TermStats{}
		}
		r.Reps = append(r.Reps, *rc)
	}
	slices.SortFunc(r.Reps, func(a, b RepCompliance) int {
		if a.Name != b.Name {
			if a.Name < b.Name {
				return -1
			}
			return 1
		}
		return int(a.UserID - b.UserID)
	})

	if r.Rejections, err = s.rejectionReport(ctx, from, to); err != nil {
		return r, err
	}

	// Marketing's delivery and sales' conversion.
	if err := s.rdb.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT contact_id) FROM stage_transitions WHERE to_stage = 'mql' AND at >= ? AND at < ?`), from, to).Scan(&r.Marketing.Delivered); err != nil {
		return r, fmt.Errorf("SLA report MQLs: %w", err)
	}
	if err := s.rdb.QueryRowContext(ctx, s.q(`SELECT COUNT(DISTINCT t.contact_id),
		COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM stage_transitions w WHERE w.contact_id = t.contact_id AND w.to_stage = 'customer' AND w.at >= t.at) THEN t.contact_id END)
		FROM stage_transitions t WHERE t.to_stage = 'sql' AND t.at >= ? AND t.at < ?`), from, to).Scan(&r.Conversion.SQLs, &r.Conversion.Won); err != nil {
		return r, fmt.Errorf("SLA report SQLs: %w", err)
	}
	r.Conversion.Rate = ratio(r.Conversion.Won, r.Conversion.SQLs)
	if live != nil {
		for _, t := range live.compiled.Doc.SLAs {
			switch t.Kind {
			case "deliver_mqls":
				per := 1
				if t.Period == "quarter" {
					per = 3
				}
				r.Marketing.Committed = int(math.Round(float64(t.Count) * float64(p.Months) / float64(per)))
			case "convert_sqls":
				r.Conversion.Count, r.Conversion.Of = t.Count, t.Of
				r.Conversion.Committed = float64(t.Count) / float64(t.Of)
			}
		}
	}
	r.Marketing.Met = r.Marketing.Committed > 0 && r.Marketing.Delivered >= r.Marketing.Committed
	if r.Terms == nil {
		r.Terms = []TermStats{}
	}
	if r.Reps == nil {
		r.Reps = []RepCompliance{}
	}
	return r, nil
}

func count(t *TermStats, status string) {
	t.Total++
	switch status {
	case "met":
		t.Met++
	case "breached":
		t.Breached++
	case "running":
		t.Running++
	}
}

func finish(t TermStats) TermStats {
	t.Compliance = ratio(t.Met, t.Met+t.Breached)
	return t
}

// ratio is a/b, or -1 when b is 0 (nothing to measure yet).
func ratio(a, b int) float64 {
	if b == 0 {
		return -1
	}
	return float64(a) / float64(b)
}

func distribution(hours []float64) Distribution {
	d := Distribution{N: len(hours), Buckets: make([]Bucket, len(distributionBounds)+1)}
	for i, b := range distributionBounds {
		d.Buckets[i].UpToHours = b
	}
	d.Buckets[len(distributionBounds)].UpToHours = -1
	if len(hours) == 0 {
		return d
	}
	slices.Sort(hours)
	d.Median = percentile(hours, 0.5)
	d.P90 = percentile(hours, 0.9)
	for _, h := range hours {
		i, _ := slices.BinarySearch(distributionBounds, h)
		d.Buckets[i].Count++
	}
	return d
}

// percentile of sorted values by the nearest-rank method.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[max(rank, 0)]
}

func (s *Store) rejectionReport(ctx context.Context, from, to int64) (RejectionReport, error) {
	var rep RejectionReport
	// The campaign is the contact's first-touch campaign: the earliest
	// event that carried a utm_campaign.
	rows, err := s.rdb.QueryContext(ctx, s.q(`SELECT a.reason_code, c.source,
		COALESCE((SELECT e.utm_campaign FROM events e WHERE `+s.eventBuckets("e.")+`e.contact_id = a.contact_id AND e.utm_campaign <> '' ORDER BY e.occurred_at LIMIT 1), '')
		FROM assignments a JOIN contacts c ON c.id = a.contact_id WHERE a.status = 'rejected' AND a.decided_at >= ? AND a.decided_at < ?`), from, to)
	if err != nil {
		return rep, fmt.Errorf("rejection report: %w", err)
	}
	defer rows.Close()
	byReason, bySource, byCampaign := map[string]int{}, map[[2]string]int{}, map[[2]string]int{}
	for rows.Next() {
		var reason, source, campaign string
		if err := rows.Scan(&reason, &source, &campaign); err != nil {
			return rep, fmt.Errorf("rejection report: %w", err)
		}
		rep.Total++
		byReason[reason]++
		bySource[[2]string{source, reason}]++
		byCampaign[[2]string{campaign, reason}]++
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("rejection report: %w", err)
	}
	for reason, n := range byReason {
		rep.ByReason = append(rep.ByReason, GroupCount{Reason: reason, Count: n})
	}
	for k, n := range bySource {
		rep.BySource = append(rep.BySource, GroupCount{Group: k[0], Reason: k[1], Count: n})
	}
	for k, n := range byCampaign {
		rep.ByCampaign = append(rep.ByCampaign, GroupCount{Group: k[0], Reason: k[1], Count: n})
	}
	for _, l := range [][]GroupCount{rep.ByReason, rep.BySource, rep.ByCampaign} {
		slices.SortFunc(l, func(a, b GroupCount) int {
			if a.Count != b.Count {
				return b.Count - a.Count
			}
			if a.Group != b.Group {
				if a.Group < b.Group {
					return -1
				}
				return 1
			}
			if a.Reason < b.Reason {
				return -1
			}
			if a.Reason > b.Reason {
				return 1
			}
			return 0
		})
	}
	if rep.ByReason == nil {
		rep.ByReason, rep.BySource, rep.ByCampaign = []GroupCount{}, []GroupCount{}, []GroupCount{}
	}
	return rep, nil
}
