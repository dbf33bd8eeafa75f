package calendar

import (
	"strings"
	"testing"
	"time"
)

func madrid(t *testing.T) *Calendar {
	t.Helper()
	c, errs := New(Spec{
		TimeZone:    "Europe/Madrid",
		WorkingDays: []string{"mon", "tue", "wed", "thu", "fri"},
		Hours:       []string{"15:00-18:00", "09:00-14:00"}, // out of order on purpose
		Holidays:    []string{"2027-01-06"},
	})
	if errs != nil {
		t.Fatal(errs)
	}
	return c
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAdd(t *testing.T) {
	c := madrid(t)
	// 2027-01-04 is a Monday; 2027-01-06 (Wednesday) is a holiday.
	tests := []struct {
		name  string
		start string
		hours float64
		want  string
	}{
		{"within the morning", "2027-01-04 10:00", 2, "2027-01-04 12:00"},
		{"skips the lunch break", "2027-01-04 13:00", 2, "2027-01-04 16:00"},
		{"before opening starts at opening", "2027-01-04 07:30", 1, "2027-01-04 10:00"},
		{"during lunch starts after lunch", "2027-01-04 14:30", 1, "2027-01-04 16:00"},
		{"spills to the next day", "2027-01-04 17:00", 8, "2027-01-05 17:00"},
		{"exactly at closing", "2027-01-04 17:00", 1, "2027-01-04 18:00"},
		{"skips a holiday", "2027-01-05 17:00", 2, "2027-01-07 10:00"},
		{"friday evening is due monday", "2027-01-08 17:30", 8, "2027-01-11 17:30"},
		{"saturday counts from monday opening", "2027-01-09 11:00", 0.5, "2027-01-11 09:30"},
		{"zero at a closed time is the next opening", "2027-01-09 11:00", 0, "2027-01-11 09:00"},
		{"a full week", "2027-01-11 09:00", 40, "2027-01-15 18:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.Add(at(t, tt.start), time.Duration(tt.hours*float64(time.Hour)))
			if want := at(t, tt.want); !got.Equal(want) {
				t.Errorf("Add(%s, %vh) = %s, want %s", tt.start, tt.hours, got.In(c.Location()).Format("Mon 2006-01-02 15:04"), tt.want)
			}
		})
	}
}

func TestBetweenIsTheInverseOfAdd(t *testing.T) {
	c := madrid(t)
	tests := []struct {
		from, to string
		want     float64 // hours
	}{
		{"2027-01-04 10:00", "2027-01-04 12:00", 2},
		{"2027-01-04 13:00", "2027-01-04 16:00", 2},
		{"2027-01-08 17:30", "2027-01-11 16:30", 7},
		{"2027-01-05 17:00", "2027-01-07 10:00", 2},
		{"2027-01-09 08:00", "2027-01-10 20:00", 0},
		{"2027-01-04 12:00", "2027-01-04 10:00", 0},
		{"2027-01-11 00:00", "2027-01-18 00:00", 40},
	}
	for _, tt := range tests {
		got := c.Between(at(t, tt.from), at(t, tt.to))
		if want := time.Duration(tt.want * float64(time.Hour)); got != want {
			t.Errorf("Between(%s, %s) = %v, want %v", tt.from, tt.to, got, want)
		}
	}
	// Round trip from many starting points, including closed times.
	start := at(t, "2027-01-01 00:00")
	for i := range 200 {
		s := start.Add(time.Duration(i) * 97 * time.Minute)
		d := time.Duration(i%30) * 37 * time.Minute
		end := c.Add(s, d)
		if got := c.Between(s, end); got != d {
			t.Fatalf("Between(s, Add(s, %v)) = %v from %s", d, got, s)
		}
	}
}

func TestDaylightSavingChange(t *testing.T) {
	// Madrid moves to summer time on 2027-03-28 at 02:00; a 24h calendar
	// counts the real elapsed time, so that Sunday has 23 hours.
	c, errs := New(Spec{TimeZone: "Europe/Madrid", WorkingDays: []string{"sun"}, Hours: []string{"00:00-24:00"}})
	if errs != nil {
		t.Fatal(errs)
	}
	got := c.Between(at(t, "2027-03-28 00:00"), at(t, "2027-03-29 00:00"))
	if got != 23*time.Hour {
		t.Errorf("the day of the change has %v of business time, want 23h", got)
	}
}

func TestInvalidSpecsNameTheField(t *testing.T) {
	tests := []struct {
		spec  Spec
		field string
		says  string
	}{
		{Spec{TimeZone: "Mars/Olympus", WorkingDays: []string{"mon"}, Hours: []string{"09:00-17:00"}}, "time_zone", "unknown time zone"},
		{Spec{TimeZone: "UTC", WorkingDays: []string{"mon", "funday"}, Hours: []string{"09:00-17:00"}}, "working_days[1]", "funday"},
		{Spec{TimeZone: "UTC", WorkingDays: []string{"mon"}, Hours: []string{"17:00-09:00"}}, "hours[0]", "end after it starts"},
		{Spec{TimeZone: "UTC", WorkingDays: []string{"mon"}, Hours: []string{"9-17"}}, "hours[0]", "09:00-18:00"},
		{Spec{TimeZone: "UTC", WorkingDays: []string{"mon"}, Hours: []string{"09:00-13:00", "12:00-17:00"}}, "hours", "overlap"},
		{Spec{TimeZone: "UTC", WorkingDays: []string{"mon"}, Hours: []string{"09:00-17:00"}, Holidays: []string{"6 Jan"}}, "holidays[0]", "YYYY-MM-DD"},
		{Spec{TimeZone: "UTC", Hours: []string{"09:00-17:00"}}, "working_days", "at least one day"},
	}
	for _, tt := range tests {
		_, errs := New(tt.spec)
		found := false
		for _, e := range errs {
			if e.Field == tt.field && strings.Contains(e.Message, tt.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("New(%+v) = %v, want an error on %s saying %q", tt.spec, errs, tt.field, tt.says)
		}
	}
}

func TestAHolidayOnlyCalendarStops(t *testing.T) {
	// Every working day a holiday for the search window: Add gives up
	// instead of looping, returning a time far in the future.
	c, errs := New(Spec{TimeZone: "UTC", WorkingDays: []string{"mon"}, Hours: []string{"09:00-10:00"}})
	if errs != nil {
		t.Fatal(errs)
	}
	start := time.Date(2027, 1, 4, 9, 0, 0, 0, time.UTC)
	got := c.Add(start, 10000*time.Hour) // ~190 years of Mondays
	if got.Sub(start) < 9*365*24*time.Hour {
		t.Errorf("Add beyond the search window returned %s", got)
	}
}

func BenchmarkAdd8BusinessHours(b *testing.B) {
	c, _ := New(Spec{TimeZone: "Europe/Madrid", WorkingDays: []string{"mon", "tue", "wed", "thu", "fri"}, Hours: []string{"09:00-14:00", "15:00-18:00"}})
	start := time.Date(2027, 1, 8, 16, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.Add(start, 8*time.Hour)
	}
}
