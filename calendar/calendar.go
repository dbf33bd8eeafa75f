// Package calendar measures time in business hours: the working days,
// opening hours, holidays and time zone an SLA clock runs in (DESIGN.md
// section 4). A lead that becomes MQL on Friday evening is due on Monday,
// not on Saturday morning.
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Spec is a calendar as people write it in the agreement.
type Spec struct {
	// TimeZone is an IANA name such as Europe/Madrid.
	TimeZone string `json:"time_zone" yaml:"time_zone"`
	// WorkingDays are three-letter English day names: mon, tue, ...
	WorkingDays []string `json:"working_days" yaml:"working_days"`
	// Hours are the opening hours of a working day, "09:00-14:00"; several
	// spans allow a lunch break. "00:00-24:00" is the whole day.
	Hours []string `json:"hours" yaml:"hours"`
	// Holidays are dates (YYYY-MM-DD) that are not worked.
	Holidays []string `json:"holidays,omitempty" yaml:"holidays,omitempty"`
}

// Default is the calendar used when an agreement has none: Monday to
// Friday, 9:00 to 18:00 UTC.
var Default = Spec{TimeZone: "UTC", WorkingDays: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: []string{"09:00-18:00"}}

// Calendar answers business-time questions. It is immutable and safe for
// concurrent use.
type Calendar struct {
	loc      *time.Location
	days     [7]bool // by time.Weekday
	spans    []span  // minutes since midnight, sorted, not overlapping
	holidays map[civilDate]bool
}

type span struct{ from, to int }

type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

var dayNames = map[string]time.Weekday{"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday}

// FieldError is a problem with one field of a Spec.
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Message }

// New validates a spec. Its errors are FieldErrors naming the field
// (time_zone, working_days[1], hours[0], holidays[2]).
func New(s Spec) (*Calendar, []FieldError) {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	c := &Calendar{holidays: map[civilDate]bool{}}
	if strings.TrimSpace(s.TimeZone) == "" {
		bad("time_zone", "is required (an IANA name such as Europe/Madrid)")
	} else if loc, err := time.LoadLocation(s.TimeZone); err != nil {
		bad("time_zone", "unknown time zone %q (use an IANA name such as Europe/Madrid)", s.TimeZone)
	} else {
		c.loc = loc
	}
	if len(s.WorkingDays) == 0 {
		bad("working_days", "needs at least one day (mon, tue, wed, thu, fri, sat, sun)")
	}
	for i, d := range s.WorkingDays {
		wd, ok := dayNames[strings.ToLower(strings.TrimSpace(d))]
		if !ok {
			bad(fmt.Sprintf("working_days[%d]", i), "must be one of mon, tue, wed, thu, fri, sat, sun; got %q", d)
			continue
		}
		c.days[wd] = true
	}
	if len(s.Hours) == 0 {
		bad("hours", `needs at least one span such as "09:00-18:00"`)
	}
	for i, h := range s.Hours {
		sp, err := parseSpan(h)
		if err != nil {
			bad(fmt.Sprintf("hours[%d]", i), "%v", err)
			continue
		}
		c.spans = append(c.spans, sp)
	}
	slices.SortFunc(c.spans, func(a, b span) int { return a.from - b.from })
	for i := 1; i < len(c.spans); i++ {
		if c.spans[i].from < c.spans[i-1].to {
			bad("hours", "spans overlap (%s and %s)", c.spans[i-1], c.spans[i])
			break
		}
	}
	for i, h := range s.Holidays {
		t, err := time.Parse(time.DateOnly, strings.TrimSpace(h))
		if err != nil {
			bad(fmt.Sprintf("holidays[%d]", i), "must be a date YYYY-MM-DD; got %q", h)
			continue
		}
		c.holidays[dateOf(t)] = true
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

func (s span) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", s.from/60, s.from%60, s.to/60, s.to%60)
}

func parseSpan(h string) (span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(h), "-")
	if !ok {
		return span{}, fmt.Errorf(`must look like "09:00-18:00"; got %q`, h)
	}
	f, err1 := parseClock(from)
	t, err2 := parseClock(to)
	if err1 != nil || err2 != nil {
		return span{}, fmt.Errorf(`must look like "09:00-18:00" (hours 00-24, minutes 00-59); got %q`, h)
	}
	if t <= f {
		return span{}, fmt.Errorf("must end after it starts; got %q", h)
	}
	return span{f, t}, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad time %q", s)
	}
	h, m := atoi2(s[:2]), atoi2(s[3:])
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return h*60 + m, nil
}

func atoi2(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// Working reports whether a date (in the calendar's zone) is worked.
func (c *Calendar) Working(t time.Time) bool {
	t = t.In(c.loc)
	return c.days[t.Weekday()] && !c.holidays[dateOf(t)]
}

// maxDays bounds the search for working time, so a calendar whose every
// day is a holiday cannot loop for ever: ten years.
const maxDays = 3660

// Add returns the moment d of business time after start. A start outside
// business hours begins counting at the next opening.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	t := start.In(c.loc)
	remaining := d
	for range maxDays {
		if c.Working(t) {
			for _, sp := range c.spans {
				from, to := c.at(t, sp.from), c.at(t, sp.to)
				if !t.Before(to) {
					continue
				}
				s := t
				if s.Before(from) {
					s = from
				}
				avail := to.Sub(s)
				if remaining <= avail {
					return s.Add(remaining)
				}
				remaining -= avail
			}
		}
		t = c.nextMidnight(t)
	}
	return t
}

// Between returns the business time from a to b (0 when b is not after a).
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	t := a.In(c.loc)
	for range maxDays + 1 {
		if !t.Before(b) {
			break
		}
		if c.Working(t) {
			for _, sp := range c.spans {
				from, to := c.at(t, sp.from), c.at(t, sp.to)
				if from.Before(t) {
					from = t
				}
				if to.After(b) {
					to = b
				}
				if to.After(from) {
					total += to.Sub(from)
				}
			}
		}
		t = c.nextMidnight(t)
	}
	return total
}

// at is the moment minute-of-day m on t's date. 24:00 is the next
// midnight; times that do not exist on a daylight-saving change are
// normalised by time.Date.
func (c *Calendar) at(t time.Time, m int) time.Time {
	y, mo, d := t.Date()
	return time.Date(y, mo, d, m/60, m%60, 0, 0, c.loc)
}

func (c *Calendar) nextMidnight(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, c.loc)
}
