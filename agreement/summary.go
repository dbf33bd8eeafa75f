package agreement

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// WindowDays is how far back windowed functions (count within, did within)
// can look: summaries keep per-day counts for this many days.
const WindowDays = 90

// Summary is what Alinea keeps about one contact's activity, per event
// type, updated on every event: enough to evaluate any rule without reading
// the contact's history.
type Summary struct {
	Types map[string]*TypeStats `json:"types"`
}

// TypeStats summarises one event type for one contact.
type TypeStats struct {
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Days holds per-day counts for the last WindowDays days, oldest first.
	Days []DayCount `json:"days,omitempty"`
	// Decayed holds, per half-life in days, the sum over events of
	// 2^(-age/half-life) as of AsOf; engagement points are read from it.
	// Keys are the half-lives formatted by halfLifeKey.
	Decayed map[string]Decay `json:"decayed,omitempty"`
}

// DayCount is the number of events on one UTC day (days since 1970-01-01).
type DayCount struct {
	Day int32 `json:"d"`
	N   int32 `json:"n"`
}

// Decay is a decayed event count at a point in time.
type Decay struct {
	Value float64   `json:"v"`
	AsOf  time.Time `json:"at"`
}

// At returns the decayed value at t.
func (d Decay) At(t time.Time, halfLifeDays float64) float64 {
	if d.Value == 0 {
		return 0
	}
	age := t.Sub(d.AsOf).Hours() / 24
	if age <= 0 {
		return d.Value
	}
	return d.Value * math.Exp2(-age/halfLifeDays)
}

// DecayedAt returns the decayed count for a half-life at t.
func (st *TypeStats) DecayedAt(t time.Time, halfLifeDays float64) float64 {
	return st.Decayed[halfLifeKey(halfLifeDays)].At(t, halfLifeDays)
}

func halfLifeKey(h float64) string { return strconv.FormatFloat(h, 'g', -1, 64) }

func dayOf(t time.Time) int32 { return int32(t.Unix() / 86400) }

// Add records one event of type typ at t, keeping decayed counts for the
// given half-lives. Events may arrive out of order; a late event decays from
// its own time.
func (s *Summary) Add(typ string, t time.Time, halfLives []float64) {
	if s.Types == nil {
		s.Types = map[string]*TypeStats{}
	}
	st := s.Types[typ]
	if st == nil {
		st = &TypeStats{First: t, Last: t}
		s.Types[typ] = st
	}
	st.Count++
	if t.Before(st.First) {
		st.First = t
	}
	if t.After(st.Last) {
		st.Last = t
	}
	st.addDay(dayOf(t))
	for _, h := range halfLives {
		if st.Decayed == nil {
			st.Decayed = map[string]Decay{}
		}
		k := halfLifeKey(h)
		d := st.Decayed[k]
		if d.AsOf.IsZero() || !t.Before(d.AsOf) {
			d = Decay{Value: d.At(t, h) + 1, AsOf: t}
		} else {
			d.Value += math.Exp2(-d.AsOf.Sub(t).Hours() / 24 / h)
		}
		st.Decayed[k] = d
	}
}

func (st *TypeStats) addDay(day int32) {
	i := sort.Search(len(st.Days), func(i int) bool { return st.Days[i].Day >= day })
	if i < len(st.Days) && st.Days[i].Day == day {
		st.Days[i].N++
	} else {
		st.Days = append(st.Days, DayCount{})
		copy(st.Days[i+1:], st.Days[i:])
		st.Days[i] = DayCount{Day: day, N: 1}
	}
	// Keep only the window ending at the newest day seen.
	newest := st.Days[len(st.Days)-1].Day
	cut := 0
	for cut < len(st.Days) && st.Days[cut].Day <= newest-WindowDays {
		cut++
	}
	if cut > 0 {
		st.Days = append(st.Days[:0], st.Days[cut:]...)
	}
}

// countSince counts events of a type on days from t's day onwards.
func (st *TypeStats) countSince(t time.Time) int64 {
	from := dayOf(t)
	var n int64
	for i := len(st.Days) - 1; i >= 0 && st.Days[i].Day >= from; i-- {
		n += int64(st.Days[i].N)
	}
	return n
}

// HalfLives lists the distinct half-lives of a compiled agreement's
// engagement rules, per event type, for Summary.Add.
func (c *Compiled) HalfLives(typ string) []float64 {
	return c.halfLives[typ]
}
