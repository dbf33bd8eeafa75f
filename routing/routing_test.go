package routing

import (
	"testing"
	"time"
)

// simulate routes n leads through Pick, updating each winner's counters as
// the store does, and returns how many each rep received.
func simulate(t *testing.T, cands []Candidate, n int) map[int64]int {
	t.Helper()
	got := map[int64]int{}
	now := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	for i := range n {
		d := Pick(cands)
		if d.UserID == 0 {
			t.Fatalf("lead %d: nobody eligible: %+v", i, d.Considered)
		}
		got[d.UserID]++
		for j := range cands {
			if cands[j].UserID == d.UserID {
				cands[j].Assigned++
				cands[j].LastAssigned = now.Add(time.Duration(i) * time.Minute)
			}
		}
	}
	return got
}

func TestWeightedRoundRobinSharesLeadsByWeight(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		leads   int
		want    []int
	}{
		{"equal weights alternate", []int{1, 1, 1}, 9, []int{3, 3, 3}},
		{"two to one", []int{2, 1}, 300, []int{200, 100}},
		{"three reps 3:2:1", []int{3, 2, 1}, 60, []int{30, 20, 10}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cands []Candidate
			for i, w := range tt.weights {
				cands = append(cands, Candidate{UserID: int64(i + 1), Weight: w})
			}
			got := simulate(t, cands, tt.leads)
			for i, w := range tt.want {
				if got[int64(i+1)] != w {
					t.Errorf("rep %d got %d leads, want %d (all: %v)", i+1, got[int64(i+1)], w, got)
				}
			}
		})
	}
}

func TestRoundRobinNeverGivesTwoInARowWithEqualWeights(t *testing.T) {
	cands := []Candidate{{UserID: 1, Weight: 1}, {UserID: 2, Weight: 1}}
	prev := int64(0)
	for i := range 10 {
		d := Pick(cands)
		if d.UserID == prev {
			t.Fatalf("lead %d went to rep %d twice in a row", i, prev)
		}
		prev = d.UserID
		for j := range cands {
			if cands[j].UserID == d.UserID {
				cands[j].Assigned++
				cands[j].LastAssigned = time.Unix(int64(i), 0)
			}
		}
	}
}

func TestCapacityAndAbsenceAreRespected(t *testing.T) {
	tests := []struct {
		name        string
		cands       []Candidate
		want        int64
		wantSkipped map[int64]string
	}{
		{"the one behind on share wins", []Candidate{{UserID: 1, Weight: 1, Assigned: 5}, {UserID: 2, Weight: 1, Assigned: 2}}, 2, nil},
		{"away is skipped", []Candidate{{UserID: 1, Weight: 1, Assigned: 5}, {UserID: 2, Weight: 1, Away: true}}, 1, map[int64]string{2: SkipAway}},
		{"full is skipped", []Candidate{{UserID: 1, Weight: 1, Assigned: 5}, {UserID: 2, Weight: 1, Capacity: 3, Open: 3}}, 1, map[int64]string{2: SkipAtCapacity}},
		{"below capacity is eligible", []Candidate{{UserID: 1, Weight: 1, Assigned: 5}, {UserID: 2, Weight: 1, Capacity: 3, Open: 2}}, 2, nil},
		{"weight zero never receives", []Candidate{{UserID: 1, Weight: 0}, {UserID: 2, Weight: 1, Assigned: 9}}, 2, map[int64]string{1: SkipNoWeight}},
		{"nobody eligible", []Candidate{{UserID: 1, Weight: 1, Away: true}, {UserID: 2, Weight: 1, Capacity: 1, Open: 1}}, 0, map[int64]string{1: SkipAway, 2: SkipAtCapacity}},
		{"no candidates", nil, 0, nil},
		{"tie goes to who waited longest", []Candidate{{UserID: 1, Weight: 1, Assigned: 1, LastAssigned: time.Unix(200, 0)}, {UserID: 2, Weight: 1, Assigned: 1, LastAssigned: time.Unix(100, 0)}}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Pick(tt.cands)
			if d.UserID != tt.want {
				t.Errorf("picked %d, want %d: %+v", d.UserID, tt.want, d.Considered)
			}
			if len(d.Considered) != len(tt.cands) {
				t.Errorf("considered %d of %d candidates", len(d.Considered), len(tt.cands))
			}
			for _, c := range d.Considered {
				if want := tt.wantSkipped[c.UserID]; c.Skipped != want || c.Eligible != (want == "") {
					t.Errorf("rep %d: skipped=%q eligible=%v, want skipped=%q", c.UserID, c.Skipped, c.Eligible, want)
				}
			}
		})
	}
}
