// Package routing picks the sales rep who receives a new MQL (DESIGN.md
// section 4): among the reps a territory rule names, those who are in the
// office and below their capacity, weighted round-robin. Which rule applies
// is decided by the agreement's expressions; this package only chooses
// among its reps, and says why.
package routing

import "time"

// Candidate is a rep a rule may assign to, with what decides whether they
// can take one more lead now.
type Candidate struct {
	UserID int64
	Email  string
	// Weight is the rep's share of the rule's leads: a rep of weight 2
	// receives twice as many as one of weight 1.
	Weight int
	// Capacity is the most open (not yet accepted) MQLs the rep may hold;
	// 0 means no limit.
	Capacity int
	Open     int
	// Away is true on the rep's out-of-office days.
	Away bool
	// Assigned counts the leads this rule has given the rep so far, and
	// LastAssigned when it last did: the round-robin's memory.
	Assigned     int64
	LastAssigned time.Time
}

// Why a candidate was passed over.
const (
	SkipAway       = "away"
	SkipAtCapacity = "at_capacity"
	SkipNoWeight   = "no_weight"
)

// Considered is one candidate as the decision saw it.
type Considered struct {
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	Weight   int    `json:"weight"`
	Open     int    `json:"open"`
	Capacity int    `json:"capacity,omitempty"`
	Assigned int64  `json:"assigned"`
	Eligible bool   `json:"eligible"`
	Skipped  string `json:"skipped,omitempty"`
}

// Decision is the chosen rep (UserID 0 when nobody is eligible) and every
// candidate considered, for the assignment's explanation.
type Decision struct {
	UserID     int64        `json:"user_id,omitempty"`
	Considered []Considered `json:"considered"`
}

// Pick chooses among the candidates: skip the away, the full and those of
// weight 0; among the rest, the one furthest behind their weighted share
// (smallest (assigned+1)/weight), then the one who waited longest, then the
// lowest id, so the choice is deterministic.
func Pick(cands []Candidate) Decision {
	d := Decision{Considered: make([]Considered, 0, len(cands))}
	best := -1
	for i, c := range cands {
		cd := Considered{UserID: c.UserID, Email: c.Email, Weight: c.Weight, Open: c.Open, Capacity: c.Capacity, Assigned: c.Assigned}
		switch {
		case c.Weight <= 0:
			cd.Skipped = SkipNoWeight
		case c.Away:
			cd.Skipped = SkipAway
		case c.Capacity > 0 && c.Open >= c.Capacity:
			cd.Skipped = SkipAtCapacity
		default:
			cd.Eligible = true
			if best < 0 || ahead(cands[best], c) {
				best = i
			}
		}
		d.Considered = append(d.Considered, cd)
	}
	if best >= 0 {
		d.UserID = cands[best].UserID
	}
	return d
}

// ahead reports whether b should be served before a.
func ahead(a, b Candidate) bool {
	// Compare (b.Assigned+1)/b.Weight with (a.Assigned+1)/a.Weight without
	// division.
	lb, la := (b.Assigned+1)*int64(a.Weight), (a.Assigned+1)*int64(b.Weight)
	if lb != la {
		return lb < la
	}
	if !b.LastAssigned.Equal(a.LastAssigned) {
		return b.LastAssigned.Before(a.LastAssigned)
	}
	return b.UserID < a.UserID
}
