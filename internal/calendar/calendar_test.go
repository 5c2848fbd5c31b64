package calendar_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/calendar"
)

func load2026(t testing.TB) *calendar.Calendar {
	t.Helper()
	f, err := os.Open("testdata/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := calendar.Parse(f)
	if err != nil {
		t.Fatalf("Parse 2026.json: %v", err)
	}
	return c
}

func day(t testing.TB, s string) calendar.Day {
	t.Helper()
	d, err := calendar.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// at is a wall-clock time in Asia/Shanghai, "2026-02-14 17:31" with
// optional seconds.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	if len(s) == len("2006-01-02 15:04") {
		s += ":00"
	}
	v, err := time.ParseInLocation(time.DateTime, s, calendar.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAssetMatchesTestdata(t *testing.T) {
	a, err := os.ReadFile("testdata/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../assets/calendar/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("assets/calendar/2026.json and internal/calendar/testdata/2026.json differ")
	}
}

// The State Council's notice of 4 November 2025, day by day.
var holidays2026 = []struct {
	name     string
	from, to string
	days     int
}{
	{"元旦", "2026-01-01", "2026-01-03", 3},
	{"春节", "2026-02-15", "2026-02-23", 9},
	{"清明节", "2026-04-04", "2026-04-06", 3},
	{"劳动节", "2026-05-01", "2026-05-05", 5},
	{"端午节", "2026-06-19", "2026-06-21", 3},
	{"中秋节", "2026-09-25", "2026-09-27", 3},
	{"国庆节", "2026-10-01", "2026-10-07", 7},
}

func TestHolidays2026(t *testing.T) {
	c := load2026(t)
	total := 0
	for _, h := range holidays2026 {
		t.Run(h.name, func(t *testing.T) {
			n := 0
			for d := day(t, h.from); !d.After(day(t, h.to)); d = d.AddDays(1) {
				n++
				if c.IsWorkingDay(d) {
					t.Errorf("%s (%s) is a working day", d, d.Weekday())
				}
				if name, ok := c.HolidayName(d); !ok || name != h.name {
					t.Errorf("HolidayName(%s) = %q, %v; want %q", d, name, ok, h.name)
				}
				if _, open := c.HoursOn(d); open {
					t.Errorf("HoursOn(%s): open on a holiday", d)
				}
			}
			if n != h.days {
				t.Errorf("%d days, want %d", n, h.days)
			}
			for _, edge := range []calendar.Day{day(t, h.from).AddDays(-1), day(t, h.to).AddDays(1)} {
				if _, ok := c.HolidayName(edge); ok {
					t.Errorf("%s, next to the holiday, is a holiday", edge)
				}
			}
			total += n
		})
	}
	n := 0
	for d := day(t, "2026-01-01"); d.Year == 2026; d = d.AddDays(1) {
		if _, ok := c.HolidayName(d); ok {
			n++
		}
	}
	if n != 33 || total != 33 {
		t.Errorf("holiday days in 2026: %d in the calendar, %d in the table; want 33", n, total)
	}
}

func TestMakeupDays2026(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		date    string
		weekday time.Weekday
	}{
		{"2026-01-04", time.Sunday},
		{"2026-02-14", time.Saturday},
		{"2026-02-28", time.Saturday},
		{"2026-05-09", time.Saturday},
		{"2026-09-20", time.Sunday},
		{"2026-10-10", time.Saturday},
	} {
		t.Run(tc.date, func(t *testing.T) {
			d := day(t, tc.date)
			if d.Weekday() != tc.weekday {
				t.Errorf("%s is a %s, want %s", d, d.Weekday(), tc.weekday)
			}
			if !c.IsWorkingDay(d) {
				t.Errorf("%s is not a working day", d)
			}
			h, ok := c.HoursOn(d)
			if !ok || h.Open != "08:30" || h.Close != "17:30" || h.Extended {
				t.Errorf("HoursOn(%s) = %+v, %v; want Monday's hours", d, h, ok)
			}
		})
	}
}

func TestIsWorkingDay(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		name string
		d    calendar.Day
		want bool
	}{
		{"ordinary Monday", day(t, "2026-03-02"), true},
		{"ordinary Friday", day(t, "2026-03-06"), true},
		{"ordinary Saturday, even with 延时服务", day(t, "2026-03-07"), false},
		{"ordinary Sunday", day(t, "2026-03-08"), false},
		{"Friday in 元旦", day(t, "2026-01-02"), false},
		{"Monday ending 春节", day(t, "2026-02-23"), false},
		{"Tuesday after 春节", day(t, "2026-02-24"), true},
		{"Saturday inside 春节", day(t, "2026-02-21"), false},
		{"Wednesday ending 国庆节", day(t, "2026-10-07"), false},
		{"Thursday after 国庆节", day(t, "2026-10-08"), true},
		{"Saturday after 国庆节, not a make-up day", day(t, "2026-10-17"), false},
		{"last day of the year", day(t, "2026-12-31"), true},
		{"literal 2026-02-30 is Monday 2 March", calendar.Day{Year: 2026, Month: 2, Day: 30}, true},
		{"other years follow the weekday rule alone", day(t, "2027-01-01"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.IsWorkingDay(tc.d); got != tc.want {
				t.Errorf("IsWorkingDay(%s) = %v, want %v", tc.d, got, tc.want)
			}
		})
	}
	if got := c.WorkingDaysBetween(day(t, "2025-12-31"), day(t, "2026-12-31")); got != 248 {
		t.Errorf("working days in 2026 = %d, want 248", got)
	}
}

func TestPeriodAt(t *testing.T) {
	c := load2026(t)
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		t    time.Time
		want calendar.Period
	}{
		{"Tuesday 08:29", at(t, "2026-03-03 08:29"), calendar.Closed},
		{"Tuesday 08:29:59", at(t, "2026-03-03 08:29:59"), calendar.Closed},
		{"Tuesday 08:30", at(t, "2026-03-03 08:30"), calendar.Regular},
		{"Tuesday 11:59:59", at(t, "2026-03-03 11:59:59"), calendar.Regular},
		{"Tuesday 12:00 lunch", at(t, "2026-03-03 12:00"), calendar.Lunch},
		{"Tuesday 13:29 lunch", at(t, "2026-03-03 13:29"), calendar.Lunch},
		{"Tuesday 13:30", at(t, "2026-03-03 13:30"), calendar.Regular},
		{"Tuesday 17:29:59", at(t, "2026-03-03 17:29:59"), calendar.Regular},
		{"Tuesday 17:30", at(t, "2026-03-03 17:30"), calendar.Closed},
		{"Tuesday 17:31", at(t, "2026-03-03 17:31"), calendar.Closed},
		{"Tuesday midnight", at(t, "2026-03-03 00:00"), calendar.Closed},
		{"Saturday 08:59", at(t, "2026-03-07 08:59"), calendar.Closed},
		{"Saturday 09:00 延时服务", at(t, "2026-03-07 09:00"), calendar.Extended},
		{"Saturday 11:59 延时服务", at(t, "2026-03-07 11:59"), calendar.Extended},
		{"Saturday 12:00", at(t, "2026-03-07 12:00"), calendar.Closed},
		{"Saturday 14:00", at(t, "2026-03-07 14:00"), calendar.Closed},
		{"Sunday 10:00", at(t, "2026-03-08 10:00"), calendar.Closed},
		{"make-up Saturday 08:30 keeps weekday hours", at(t, "2026-02-14 08:30"), calendar.Regular},
		{"make-up Saturday 12:30 lunch", at(t, "2026-02-14 12:30"), calendar.Lunch},
		{"make-up Saturday 16:00", at(t, "2026-02-14 16:00"), calendar.Regular},
		{"make-up Sunday 09:00", at(t, "2026-01-04 09:00"), calendar.Regular},
		{"Saturday inside 春节", at(t, "2026-02-21 10:00"), calendar.Closed},
		{"Thursday 国庆节", at(t, "2026-10-01 10:00"), calendar.Closed},
		{"UTC 00:29 is 08:29 in Shanghai", utc("2026-03-03T00:29:00Z"), calendar.Closed},
		{"UTC 00:30 is 08:30 in Shanghai", utc("2026-03-03T00:30:00Z"), calendar.Regular},
		{"UTC 04:00 is 12:00 in Shanghai", utc("2026-03-03T04:00:00Z"), calendar.Lunch},
		{"UTC 09:29 is 17:29 in Shanghai", utc("2026-03-03T09:29:00Z"), calendar.Regular},
		{"UTC 09:30 is 17:30 in Shanghai", utc("2026-03-03T09:30:00Z"), calendar.Closed},
		{"UTC Friday 16:00 is Saturday 00:00 in Shanghai", utc("2026-03-06T16:00:00Z"), calendar.Closed},
		{"UTC Saturday 01:00 is Saturday 09:00 in Shanghai", utc("2026-03-07T01:00:00Z"), calendar.Extended},
		{"UTC Wednesday 23:30 after 国庆节 is Thursday 07:30", utc("2026-10-07T23:30:00Z"), calendar.Closed},
		{"UTC Thursday 00:30 after 国庆节 is Thursday 08:30", utc("2026-10-08T00:30:00Z"), calendar.Regular},
		{"New York Monday 20:30 EST is Tuesday 09:30", time.Date(2026, 3, 2, 20, 30, 0, 0, ny), calendar.Regular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.PeriodAt(tc.t); got != tc.want {
				t.Errorf("PeriodAt(%s) = %s, want %s", tc.t, got, tc.want)
			}
			wantOpen := tc.want == calendar.Regular || tc.want == calendar.Extended
			if got := c.OpenAt(tc.t); got != wantOpen {
				t.Errorf("OpenAt(%s) = %v, want %v", tc.t, got, wantOpen)
			}
		})
	}
}

func TestDayOf(t *testing.T) {
	c := load2026(t)
	u := time.Date(2026, 10, 7, 16, 0, 0, 0, time.UTC) // midnight in Shanghai
	if got, want := c.DayOf(u), day(t, "2026-10-08"); got != want {
		t.Errorf("Calendar.DayOf(%s) = %s, want %s", u, got, want)
	}
	if got, want := calendar.DayOf(u), day(t, "2026-10-07"); got != want {
		t.Errorf("DayOf(%s) = %s, want %s", u, got, want)
	}
}

func TestNextOpening(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		name     string
		from     time.Time
		want     time.Time
		weekday  time.Weekday
		sameTime bool
	}{
		{name: "open now", from: at(t, "2026-03-03 10:00:30"), want: at(t, "2026-03-03 10:00:30"), weekday: time.Tuesday},
		{name: "before opening", from: at(t, "2026-03-03 07:00"), want: at(t, "2026-03-03 08:30"), weekday: time.Tuesday},
		{name: "across lunch", from: at(t, "2026-03-03 12:00"), want: at(t, "2026-03-03 13:30"), weekday: time.Tuesday},
		{name: "late in lunch", from: at(t, "2026-03-03 13:29:59"), want: at(t, "2026-03-03 13:30"), weekday: time.Tuesday},
		{name: "evening", from: at(t, "2026-03-03 17:30"), want: at(t, "2026-03-04 08:30"), weekday: time.Wednesday},
		{name: "Friday evening to Saturday 延时服务", from: at(t, "2026-03-06 17:31"), want: at(t, "2026-03-07 09:00"), weekday: time.Saturday},
		{name: "Saturday noon to Monday", from: at(t, "2026-03-07 12:00"), want: at(t, "2026-03-09 08:30"), weekday: time.Monday},
		{name: "Friday evening to make-up Saturday at weekday hours", from: at(t, "2026-02-13 18:00"), want: at(t, "2026-02-14 08:30"), weekday: time.Saturday},
		{name: "make-up Saturday evening across 春节", from: at(t, "2026-02-14 17:31"), want: at(t, "2026-02-24 08:30"), weekday: time.Tuesday},
		{name: "inside 春节", from: at(t, "2026-02-18 10:00"), want: at(t, "2026-02-24 08:30"), weekday: time.Tuesday},
		{name: "across 国庆节", from: at(t, "2026-09-30 17:30"), want: at(t, "2026-10-08 08:30"), weekday: time.Thursday},
		{name: "across the new year to make-up Sunday", from: at(t, "2025-12-31 18:00"), want: at(t, "2026-01-04 08:30"), weekday: time.Sunday},
		{name: "given in UTC", from: time.Date(2026, 2, 14, 9, 31, 0, 0, time.UTC), want: time.Date(2026, 2, 24, 0, 30, 0, 0, time.UTC), weekday: time.Tuesday},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := c.NextOpening(tc.from)
			if !got.Equal(tc.want) {
				t.Fatalf("NextOpening(%s) = %s, want %s", tc.from, got, tc.want)
			}
			if got.Location() != c.Location() {
				t.Errorf("result in %s, want %s", got.Location(), c.Location())
			}
			if got.Weekday() != tc.weekday {
				t.Errorf("opens on a %s, want %s", got.Weekday(), tc.weekday)
			}
			if !c.OpenAt(got) {
				t.Errorf("not open at %s", got)
			}
			if got.After(tc.from) && c.OpenAt(got.Add(-time.Second)) {
				t.Errorf("already open a second before %s", got)
			}
		})
	}
}

func TestNextOpeningEveryMinute(t *testing.T) {
	// Across the Spring Festival fortnight, minute by minute, the answer
	// is open, and nothing between the asked instant and it is open.
	c := load2026(t)
	start := at(t, "2026-02-12 00:00")
	for m := time.Duration(0); m < 15*24*time.Hour; m += time.Minute {
		from := start.Add(m)
		got := c.NextOpening(from)
		if !c.OpenAt(got) || got.Before(from) {
			t.Fatalf("NextOpening(%s) = %s", from, got)
		}
		// Openings fall on whole minutes, so a later answer must follow a
		// closed minute, and the asked instant must be closed.
		if got.After(from) && (c.OpenAt(from) || c.OpenAt(got.Add(-time.Minute))) {
			t.Fatalf("NextOpening(%s) = %s, but open before", from, got)
		}
	}
}

func TestWorkingDaysAfter(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"5 after 29 Sep across 国庆节 and make-up Saturday 10 Oct", "2026-09-29", 5, "2026-10-12"},
		{"1 after 30 Sep", "2026-09-30", 1, "2026-10-08"},
		{"3 after 30 Sep lands on make-up Saturday", "2026-09-30", 3, "2026-10-10"},
		{"1 after Friday 18 Sep is make-up Sunday 20 Sep", "2026-09-18", 1, "2026-09-20"},
		{"1 after Friday 13 Feb is make-up Saturday 14 Feb", "2026-02-13", 1, "2026-02-14"},
		{"2 after Friday 13 Feb skips 春节", "2026-02-13", 2, "2026-02-24"},
		{"4 after 24 Feb is make-up Saturday 28 Feb", "2026-02-24", 4, "2026-02-28"},
		{"20 after 10 Feb, a statutory limit across 春节", "2026-02-10", 20, "2026-03-16"},
		{"1 after 30 Apr skips 劳动节", "2026-04-30", 1, "2026-05-06"},
		{"1 after Friday 8 May is make-up Saturday 9 May", "2026-05-08", 1, "2026-05-09"},
		{"1 after 31 Dec 2025 is make-up Sunday 4 Jan", "2025-12-31", 1, "2026-01-04"},
		{"20 after 5 Jan, no holiday", "2026-01-05", 20, "2026-02-02"},
		{"1 after Thursday 18 Jun skips 端午节", "2026-06-18", 1, "2026-06-22"},
		{"0 is the day itself, even a holiday", "2026-10-01", 0, "2026-10-01"},
		{"a weekend start counts from Monday", "2026-03-07", 1, "2026-03-09"},
		{"5 before 12 Oct", "2026-10-12", -5, "2026-09-29"},
		{"1 before 24 Feb", "2026-02-24", -1, "2026-02-14"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, want := day(t, tc.from), day(t, tc.want)
			got := c.WorkingDaysAfter(from, tc.n)
			if got != want {
				t.Fatalf("WorkingDaysAfter(%s, %d) = %s (%s), want %s", from, tc.n, got, got.Weekday(), want)
			}
			if tc.n != 0 && !c.IsWorkingDay(got) {
				t.Errorf("%s is not a working day", got)
			}
			if back := c.WorkingDaysBetween(from, got); back != tc.n {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", from, got, back, tc.n)
			}
		})
	}
}

func TestWorkingDaysBeforeAHoliday(t *testing.T) {
	// Counting back from a day off counts the working days before it; the
	// day off itself is not among them.
	c := load2026(t)
	if got, want := c.WorkingDaysAfter(day(t, "2026-01-01"), -3), day(t, "2025-12-29"); got != want {
		t.Errorf("WorkingDaysAfter(2026-01-01, -3) = %s, want %s", got, want)
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		name string
		a, b string
		want int
	}{
		{"whole year 2026", "2025-12-31", "2026-12-31", 248},
		{"same day", "2026-03-03", "2026-03-03", 0},
		{"make-up Saturday to after 春节", "2026-02-14", "2026-02-24", 1},
		{"across 春节, ending on a holiday", "2026-02-13", "2026-02-23", 1},
		{"reversed", "2026-02-24", "2026-02-14", -1},
		{"ordinary week", "2026-03-06", "2026-03-13", 5},
		{"October with 国庆节", "2026-09-30", "2026-10-31", 18},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.WorkingDaysBetween(day(t, tc.a), day(t, tc.b)); got != tc.want {
				t.Errorf("WorkingDaysBetween(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
	// Inverse on every day of the year; counting back, from working days.
	for d := day(t, "2026-01-01"); d.Year == 2026; d = d.AddDays(1) {
		for _, n := range []int{-7, -1, 1, 2, 10, 30} {
			if n < 0 && !c.IsWorkingDay(d) {
				continue
			}
			if got := c.WorkingDaysBetween(d, c.WorkingDaysAfter(d, n)); got != n {
				t.Fatalf("WorkingDaysBetween(%s, WorkingDaysAfter(%s, %d)) = %d", d, d, n, got)
			}
		}
	}
}

func TestHoursOn(t *testing.T) {
	c := load2026(t)
	for _, tc := range []struct {
		name     string
		d        string
		open     bool
		from     string
		extended bool
	}{
		{"Monday", "2026-03-02", true, "08:30", false},
		{"Saturday 延时服务", "2026-03-07", true, "09:00", true},
		{"make-up Saturday", "2026-10-10", true, "08:30", false},
		{"Sunday", "2026-03-08", false, "", false},
		{"holiday Saturday", "2026-10-03", false, "", false},
		{"holiday Monday", "2026-10-05", false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, ok := c.HoursOn(day(t, tc.d))
			if ok != tc.open || h.Open != tc.from || h.Extended != tc.extended {
				t.Errorf("HoursOn(%s) = %+v, %v", tc.d, h, ok)
			}
		})
	}
}

// config2026 returns the 2026 file as a JSON tree, to edit into bad files.
func config2026(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestForCenter(t *testing.T) {
	m := config2026(t)
	m["centers"] = map[string]any{
		"chengguan": map[string]any{
			"mon": map[string]any{"open": "09:00", "close": "17:00"},
			"thu": map[string]any{"open": "09:00", "lunch_start": "12:00", "lunch_end": "13:00", "close": "17:00", "extended_until": "19:00"},
		},
	}
	b, _ := json.Marshal(m)
	c, err := calendar.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	cg := c.ForCenter("chengguan")
	for _, tc := range []struct {
		name string
		cal  *calendar.Calendar
		t    time.Time
		want calendar.Period
	}{
		{"center Thursday 18:30 延时服务", cg, at(t, "2026-03-05 18:30"), calendar.Extended},
		{"center Thursday 17:00 延时服务", cg, at(t, "2026-03-05 17:00"), calendar.Extended},
		{"center Thursday 19:00", cg, at(t, "2026-03-05 19:00"), calendar.Closed},
		{"center Thursday 12:30 lunch", cg, at(t, "2026-03-05 12:30"), calendar.Lunch},
		{"center Monday 12:30 no lunch break", cg, at(t, "2026-03-02 12:30"), calendar.Regular},
		{"center Tuesday closed", cg, at(t, "2026-03-03 10:00"), calendar.Closed},
		{"center Saturday closed", cg, at(t, "2026-03-07 10:00"), calendar.Closed},
		{"center make-up Saturday keeps its Monday", cg, at(t, "2026-02-14 12:30"), calendar.Regular},
		{"center on a holiday", cg, at(t, "2026-10-01 10:00"), calendar.Closed},
		{"default Thursday 18:30", c, at(t, "2026-03-05 18:30"), calendar.Closed},
		{"unknown center gets the default", c.ForCenter("nowhere"), at(t, "2026-03-07 10:00"), calendar.Extended},
		{"default from a center calendar", cg.ForCenter("other"), at(t, "2026-03-03 10:00"), calendar.Regular},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cal.PeriodAt(tc.t); got != tc.want {
				t.Errorf("PeriodAt(%s) = %s, want %s", tc.t, got, tc.want)
			}
		})
	}
	if cg.ForCenter("chengguan") != cg {
		t.Error("ForCenter from a center calendar does not find the center")
	}
	if !cg.IsWorkingDay(day(t, "2026-03-03")) {
		t.Error("a center's closed weekday stopped being a working day")
	}
}

func TestNewKeepsItsOwnCopy(t *testing.T) {
	mon := &calendar.Hours{Open: "08:30", Close: "17:30"}
	c, err := calendar.New(calendar.Config{Year: 2026, Hours: calendar.Week{Mon: mon}})
	if err != nil {
		t.Fatal(err)
	}
	mon.Open = "06:00"
	if h, _ := c.HoursOn(day(t, "2026-03-02")); h.Open != "08:30" {
		t.Errorf("HoursOn after the caller's edit = %+v", h)
	}
	if c.Location() != calendar.Shanghai() {
		t.Errorf("default zone %s", c.Location())
	}
}

func TestParseErrors(t *testing.T) {
	type tree = map[string]any
	hol := func(m tree) []any { return m["holidays"].([]any) }
	mk := func(m tree) []any { return m["makeup_days"].([]any) }
	hours := func(m tree) tree { return m["hours"].(tree) }
	for _, tc := range []struct {
		name string
		edit func(m tree)
		want string // in the error
	}{
		{"unknown field", func(m tree) { m["holiday"] = []any{} }, `unknown field "holiday"`},
		{"unknown hours field", func(m tree) { hours(m)["mon"].(tree)["opne"] = "08:30" }, `unknown field "opne"`},
		{"unknown weekday", func(m tree) { hours(m)["thur"] = tree{"open": "08:30", "close": "17:30"} }, `unknown field "thur"`},
		{"unknown holiday field", func(m tree) { hol(m)[0].(tree)["until"] = "2026-01-03" }, `unknown field "until"`},
		{"bad date", func(m tree) { hol(m)[1].(tree)["to"] = "2026-02-30" }, `holidays[1] "春节": to: "2026-02-30" is not a date`},
		{"date without zero padding", func(m tree) { mk(m)[0].(tree)["date"] = "2026-1-4" }, `makeup_days[0] "元旦调休上班": date: "2026-1-4" is not a date`},
		{"date in another year", func(m tree) { hol(m)[0].(tree)["from"] = "2025-12-31" }, `holidays[0] "元旦": from: 2025-12-31 is not in 2026`},
		{"to before from", func(m tree) { hol(m)[2].(tree)["to"] = "2026-04-03" }, `holidays[2] "清明节": to 2026-04-03 is before from 2026-04-04`},
		{"overlapping holidays", func(m tree) { hol(m)[4].(tree)["from"] = "2026-05-05" }, `holidays[4] "端午节": 2026-05-05 is already a holiday of "劳动节"`},
		{"holiday and make-up day", func(m tree) { mk(m)[3].(tree)["date"] = "2026-05-02" }, `makeup_days[3] "劳动节调休上班": 2026-05-02 is also a holiday of "劳动节"`},
		{"make-up day on a weekday", func(m tree) { mk(m)[0].(tree)["date"] = "2026-01-05" }, `makeup_days[0] "元旦调休上班": 2026-01-05 is a Monday`},
		{"make-up day twice", func(m tree) { mk(m)[2].(tree)["date"] = "2026-02-14" }, `makeup_days[2] "春节调休上班": 2026-02-14 is listed twice`},
		{"holiday without a name", func(m tree) { hol(m)[3].(tree)["name"] = " " }, `holidays[3] " ": name is empty`},
		{"lunch before opening", func(m tree) { hours(m)["tue"].(tree)["lunch_start"] = "08:00" }, `hours.tue: lunch_start 08:00 is not after open 08:30`},
		{"lunch ends before it starts", func(m tree) { hours(m)["wed"].(tree)["lunch_end"] = "11:00" }, `hours.wed: lunch_end 11:00 is not after lunch_start 12:00`},
		{"close before lunch ends", func(m tree) { hours(m)["thu"].(tree)["close"] = "13:00" }, `hours.thu: close 13:00 is not after lunch_end 13:30`},
		{"close equals open", func(m tree) { hours(m)["sat"].(tree)["close"] = "09:00" }, `hours.sat: close 09:00 is not after open 09:00`},
		{"extended before close", func(m tree) { hours(m)["fri"].(tree)["extended_until"] = "17:00" }, `hours.fri: extended_until 17:00 is before close 17:30`},
		{"half a lunch break", func(m tree) { delete(hours(m)["mon"].(tree), "lunch_end") }, `hours.mon: lunch_start and lunch_end go together`},
		{"clock without zero", func(m tree) { hours(m)["mon"].(tree)["open"] = "8:30" }, `hours.mon: open "8:30": want a time of day HH:MM`},
		{"clock 24:00", func(m tree) { hours(m)["fri"].(tree)["close"] = "24:00" }, `hours.fri: close "24:00"`},
		{"missing close", func(m tree) { delete(hours(m)["fri"].(tree), "close") }, `hours.fri: close "": want`},
		{"no hours at all", func(m tree) { m["hours"] = tree{} }, `hours: no day has opening hours`},
		{"make-up hours from Saturday", func(m tree) { m["makeup_hours"] = "sat" }, `makeup_hours "sat"`},
		{"make-up weekday closed", func(m tree) { m["makeup_hours"] = "wed"; hours(m)["wed"] = nil }, `hours: wed is closed, but make-up days keep its hours`},
		{"bad zone", func(m tree) { m["time_zone"] = "Asia/Nowhere" }, `time_zone`},
		{"server zone", func(m tree) { m["time_zone"] = "Local" }, `"Local" is not a center's zone`},
		{"no year", func(m tree) { delete(m, "year") }, `year 0`},
		{"bad center code", func(m tree) { m["centers"] = tree{"Bad Code": tree{"mon": tree{"open": "09:00", "close": "17:00"}}} }, `centers "Bad Code": not a center code`},
		{"bad center hours", func(m tree) {
			m["centers"] = tree{"xiang": tree{"mon": tree{"open": "17:00", "close": "09:00"}}}
		}, `centers.xiang.mon: close 09:00 is not after open 17:00`},
		{"center with no hours", func(m tree) { m["centers"] = tree{"xiang": tree{}} }, `centers.xiang: no day has opening hours`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := config2026(t)
			tc.edit(m)
			b, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = calendar.Parse(bytes.NewReader(b))
			if err == nil {
				t.Fatalf("Parse accepted it:\n%s", b)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"empty", ``, "decode"},
		{"not an object", `[]`, "decode"},
		{"trailing data", `{"year":2026,"hours":{"mon":{"open":"08:30","close":"17:30"}}} {}`, "trailing data"},
		{"wrong type", `{"year":"2026"}`, "decode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := calendar.Parse(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse(%q) error = %v, want %q", tc.in, err, tc.want)
			}
		})
	}
}

func TestDay(t *testing.T) {
	t.Run("ParseDay", func(t *testing.T) {
		for _, tc := range []struct {
			in   string
			want calendar.Day
			ok   bool
		}{
			{"2026-02-14", calendar.Day{Year: 2026, Month: time.February, Day: 14}, true},
			{"2028-02-29", calendar.Day{Year: 2028, Month: time.February, Day: 29}, true},
			{"2026-02-29", calendar.Day{}, false},
			{"2026-13-01", calendar.Day{}, false},
			{"2026-2-14", calendar.Day{}, false},
			{"2026-02-14T00:00:00Z", calendar.Day{}, false},
			{" 2026-02-14", calendar.Day{}, false},
			{"", calendar.Day{}, false},
		} {
			got, err := calendar.ParseDay(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseDay(%q) = %v, %v", tc.in, got, err)
			}
		}
	})
	t.Run("arithmetic and order", func(t *testing.T) {
		d := day(t, "2026-02-28")
		if got := d.AddDays(1).String(); got != "2026-03-01" {
			t.Errorf("AddDays(1) = %s", got)
		}
		if got := d.AddDays(-59).String(); got != "2025-12-31" {
			t.Errorf("AddDays(-59) = %s", got)
		}
		if !d.Before(d.AddDays(1)) || !d.After(d.AddDays(-1)) || d.Compare(d) != 0 {
			t.Error("order")
		}
		if (calendar.Day{Year: 2026, Month: 2, Day: 30}).Compare(day(t, "2026-03-02")) != 0 {
			t.Error("2026-02-30 should compare as 2026-03-02")
		}
		if got := d.Time(calendar.Shanghai()); !got.Equal(time.Date(2026, 2, 27, 16, 0, 0, 0, time.UTC)) {
			t.Errorf("Time = %s", got)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		type rec struct {
			Due  calendar.Day `json:"due"`
			Done calendar.Day `json:"done,omitzero"`
		}
		b, err := json.Marshal(rec{Due: day(t, "2026-10-12")})
		if err != nil || string(b) != `{"due":"2026-10-12"}` {
			t.Fatalf("Marshal = %s, %v", b, err)
		}
		var r rec
		if err := json.Unmarshal([]byte(`{"due":"2026-10-12","done":""}`), &r); err != nil || r.Due != day(t, "2026-10-12") || !r.Done.IsZero() {
			t.Errorf("Unmarshal = %+v, %v", r, err)
		}
		if err := json.Unmarshal([]byte(`{"due":"12/10/2026"}`), &r); err == nil {
			t.Error("Unmarshal accepted 12/10/2026")
		}
	})
}

func TestShanghai(t *testing.T) {
	_, off := time.Date(2026, 7, 1, 12, 0, 0, 0, calendar.Shanghai()).Zone()
	if off != 8*60*60 {
		t.Errorf("offset %d", off)
	}
}

func ExampleCalendar_WorkingDaysAfter() {
	f, _ := os.Open("testdata/2026.json")
	defer f.Close()
	c, err := calendar.Parse(f)
	if err != nil {
		panic(err)
	}
	accepted, _ := calendar.ParseDay("2026-09-29")
	due := c.WorkingDaysAfter(accepted, 5)
	fmt.Println(due, due.Weekday())
	// Output: 2026-10-12 Monday
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/2026.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte(`{"year":2026,"hours":{"mon":{"open":"08:30","close":"17:30"}}}`))
	f.Add([]byte(`{"year":2030,"time_zone":"UTC","makeup_hours":"fri","hours":{"fri":{"open":"00:00","close":"23:59","extended_until":"23:59"},"sun":{"open":"10:00","close":"11:00","extended":true}},"centers":{"ab":{"sat":{"open":"09:00","lunch_start":"10:00","lunch_end":"11:00","close":"12:00","extended_until":"13:00"}}}}`))
	f.Add([]byte(`{"year":2026,"holidays":[{"name":"x","from":"2026-12-31"}],"makeup_days":[{"name":"y","date":"2026-12-27"}],"hours":{"mon":{"open":"08:30","close":"17:30"}}}`))
	f.Add([]byte(`{"year":2026,"holidays":[{"name":"x","from":"2026-01-01","to":"2026-12-31"}],"hours":{"mon":{"open":"08:30","close":"17:30"}}}`))
	f.Add([]byte(`{"year":1e400}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := calendar.Parse(bytes.NewReader(data))
		if err != nil {
			if c != nil {
				t.Fatal("calendar with an error")
			}
			return
		}
		first := calendar.Day{Year: c.Year(), Month: time.January, Day: 1}
		for i := range 40 {
			d := first.AddDays(i * 19)
			from := d.Time(c.Location()).Add(time.Duration(i*37) * time.Minute)
			next := c.NextOpening(from)
			if !next.IsZero() && (!c.OpenAt(next) || next.Before(from)) {
				t.Fatalf("NextOpening(%s) = %s, not open or in the past", from, next)
			}
			for _, n := range []int{-3, 0, 4} {
				if n < 0 && !c.IsWorkingDay(d) {
					continue
				}
				if got := c.WorkingDaysBetween(d, c.WorkingDaysAfter(d, n)); got != n {
					t.Fatalf("WorkingDaysBetween(%s, WorkingDaysAfter(%s, %d)) = %d", d, d, n, got)
				}
			}
			c.HoursOn(d)
			c.ForCenter("ab").PeriodAt(from)
		}
	})
}

func TestOpenSpans(t *testing.T) {
	c := load2026(t)
	show := func(d string) []string {
		var out []string
		for _, s := range c.OpenSpans(day(t, d)) {
			v := s.From.Format("15:04") + "-" + s.To.Format("15:04")
			if s.Extended {
				v += " extended"
			}
			out = append(out, v)
		}
		return out
	}
	for d, want := range map[string][]string{
		"2026-11-25": {"08:30-12:00", "13:30-17:30"}, // Wednesday
		"2026-11-28": {"09:00-12:00 extended"},       // Saturday
		"2026-11-29": nil,                            // Sunday
		"2026-10-01": nil,                            // 国庆节
		"2026-10-10": {"08:30-12:00", "13:30-17:30"}, // Saturday, make-up working day
	} {
		if got := show(d); !slices.Equal(got, want) {
			t.Errorf("OpenSpans(%s) = %v, want %v", d, got, want)
		}
	}
	if s := c.OpenSpans(day(t, "2026-11-25")); s[0].From.Location() != c.Location() {
		t.Errorf("span in %v, want the center's zone", s[0].From.Location())
	}
}
