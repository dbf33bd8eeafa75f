package agreement

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/alinea-crm/alinea"
)

// A summary is stored with every contact's score and rewritten on every
// evaluation, so it has a compact form written by hand (times as Unix
// milliseconds, day buckets as flat pairs):
//
//	{"types":{"Webinar Attended":{"c":2,"f":ms,"l":ms,"d":[day,n,...],"x":{"30":[value,ms]}}}}

type typeStatsWire struct {
	C int64                 `json:"c"`
	F int64                 `json:"f"`
	L int64                 `json:"l"`
	D []int32               `json:"d"`
	X map[string][2]float64 `json:"x"`
}

// MarshalJSON writes the compact form, event types in sorted order so the
// same summary always encodes the same way.
func (s Summary) MarshalJSON() ([]byte, error) {
	keys := make([]string, 0, len(s.Types))
	for k := range s.Types {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := make([]byte, 0, 64+len(keys)*96)
	b = append(b, `{"types":{`...)
	for i, k := range keys {
		st := s.Types[k]
		if i > 0 {
			b = append(b, ',')
		}
		b = alinea.AppendJSONString(b, k)
		b = append(b, `:{"c":`...)
		b = strconv.AppendInt(b, st.Count, 10)
		b = append(b, `,"f":`...)
		b = strconv.AppendInt(b, st.First.UnixMilli(), 10)
		b = append(b, `,"l":`...)
		b = strconv.AppendInt(b, st.Last.UnixMilli(), 10)
		if len(st.Days) > 0 {
			b = append(b, `,"d":[`...)
			for j, d := range st.Days {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendInt(b, int64(d.Day), 10)
				b = append(b, ',')
				b = strconv.AppendInt(b, int64(d.N), 10)
			}
			b = append(b, ']')
		}
		if len(st.Decayed) > 0 {
			b = append(b, `,"x":{`...)
			hl := make([]string, 0, len(st.Decayed))
			for h := range st.Decayed {
				hl = append(hl, h)
			}
			sort.Strings(hl)
			for j, h := range hl {
				if j > 0 {
					b = append(b, ',')
				}
				d := st.Decayed[h]
				b = alinea.AppendJSONString(b, h)
				b = append(b, ":["...)
				b = strconv.AppendFloat(b, d.Value, 'g', -1, 64)
				b = append(b, ',')
				b = strconv.AppendInt(b, d.AsOf.UnixMilli(), 10)
				b = append(b, ']')
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, "}}"...), nil
}

// UnmarshalJSON reads the compact form.
func (s *Summary) UnmarshalJSON(data []byte) error {
	var w struct {
		Types map[string]typeStatsWire `json:"types"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	s.Types = make(map[string]*TypeStats, len(w.Types))
	for k, t := range w.Types {
		st := &TypeStats{Count: t.C, First: time.UnixMilli(t.F).UTC(), Last: time.UnixMilli(t.L).UTC()}
		for i := 0; i+1 < len(t.D); i += 2 {
			st.Days = append(st.Days, DayCount{Day: t.D[i], N: t.D[i+1]})
		}
		if len(t.X) > 0 {
			st.Decayed = make(map[string]Decay, len(t.X))
			for h, v := range t.X {
				st.Decayed[h] = Decay{Value: v[0], AsOf: time.UnixMilli(int64(v[1])).UTC()}
			}
		}
		s.Types[k] = st
	}
	return nil
}
