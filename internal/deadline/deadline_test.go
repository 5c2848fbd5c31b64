package deadline_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/deadline"
)

// shipped returns the calendar the program ships for 2026.
func shipped(t testing.TB) *calendar.Calendar {
	t.Helper()
	f, err := assets.FS.Open("calendar/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := calendar.Parse(f)
	if err != nil {
		t.Fatalf("parse the shipped 2026 calendar: %v", err)
	}
	return c
}

// book2026 is the book of the shipped calendar alone, as a deployment has
// it before the 2027 notice is published.
func book2026(t testing.TB) *calendar.Book {
	t.Helper()
	b, err := calendar.NewBook(shipped(t))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at is a wall-clock time in Asia/Shanghai, "2026-09-30 10:00" with
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

func day(t testing.TB, s string) calendar.Day {
	t.Helper()
	d, err := calendar.ParseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDue(t *testing.T) {
	book := book2026(t)
	tests := []struct {
		name  string
		clock func(t *testing.T) deadline.Clock
		now   string
		want  string // due day
	}{
		{
			name:  "national day: 1-7 Oct off, Sat 10 Oct a make-up day",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-09-30 10:00"), Days: 5} },
			now:   "2026-09-30 10:00",
			want:  "2026-10-13",
		},
		{
			name:  "accepted at the last second of the day counts from the next",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-09-30 23:59:59"), Days: 1} },
			now:   "2026-09-30 23:59:59",
			want:  "2026-10-08",
		},
		{
			name:  "accepted on a holiday: the next working day after it is day 1",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-10-01 09:00"), Days: 1} },
			now:   "2026-10-01 09:00",
			want:  "2026-10-08",
		},
		{
			name:  "accepted on a Saturday",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-10-17 09:30"), Days: 1} },
			now:   "2026-10-17 09:30",
			want:  "2026-10-19",
		},
		{
			name:  "accepted on a make-up Sunday: that day is not counted either",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-09-20 09:30"), Days: 1} },
			now:   "2026-09-20 09:30",
			want:  "2026-09-21",
		},
		{
			name:  "spring festival: Sat 14 Feb is day 1, then 15-23 Feb off",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-02-13 16:00"), Days: 5} },
			now:   "2026-02-13 16:00",
			want:  "2026-02-27",
		},
		{
			name:  "spring festival: Sat 28 Feb is a make-up day too",
			clock: func(t *testing.T) deadline.Clock { return deadline.Clock{Start: at(t, "2026-02-13 16:00"), Days: 6} },
			now:   "2026-02-13 16:00",
			want:  "2026-02-28",
		},
		{
			name: "pause across the national day skips its working days only",
			clock: func(t *testing.T) deadline.Clock {
				// Without the pause: 29, 30 Sep, 8, 9, 10 Oct. The pause
				// covers 30 Sep, 8 and 9 Oct (1-7 Oct are off anyway).
				return deadline.Clock{Start: at(t, "2026-09-28 10:00"), Days: 5, Pauses: []deadline.Pause{
					{From: at(t, "2026-09-29 10:00"), To: at(t, "2026-10-09 15:00"), Reason: "补正材料"},
				}}
			},
			now:  "2026-10-20 10:00",
			want: "2026-10-14",
		},
		{
			name: "pause begun and ended the same day moves nothing",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-09-28 10:00"), Days: 5, Pauses: []deadline.Pause{
					{From: at(t, "2026-09-29 09:00"), To: at(t, "2026-09-29 16:00")},
				}}
			},
			now:  "2026-10-20 10:00",
			want: "2026-10-10",
		},
		{
			name: "overlapping pauses skip a day once",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-09-28 10:00"), Days: 5, Pauses: []deadline.Pause{
					{From: at(t, "2026-09-30 11:00"), To: at(t, "2026-10-09 15:00")},
					{From: at(t, "2026-09-29 10:00"), To: at(t, "2026-10-08 10:00")},
				}}
			},
			now:  "2026-10-20 10:00",
			want: "2026-10-14",
		},
		{
			name: "pause over the weekend only moves nothing",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Pauses: []deadline.Pause{
					{From: at(t, "2026-11-13 17:00"), To: at(t, "2026-11-15 20:00")},
				}}
			},
			now:  "2026-11-20 10:00",
			want: "2026-11-16",
		},
		{
			name: "a pause that begins after now is not counted yet",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Pauses: []deadline.Pause{
					{From: at(t, "2026-11-11 10:00"), To: at(t, "2026-11-13 10:00")},
				}}
			},
			now:  "2026-11-10 10:00",
			want: "2026-11-16",
		},
		{
			name: "extension adds working days",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Extensions: []deadline.Extension{
					{Days: 3, At: at(t, "2026-11-13 09:00"), Reason: "需现场核查"},
				}}
			},
			now:  "2026-11-13 09:00",
			want: "2026-11-19",
		},
		{
			name: "extension approved after now adds nothing yet",
			clock: func(t *testing.T) deadline.Clock {
				return deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Extensions: []deadline.Extension{
					{Days: 3, At: at(t, "2026-11-13 09:00")},
				}}
			},
			now:  "2026-11-13 08:59:59",
			want: "2026-11-16",
		},
		{
			name: "pause and extension together, over the labour day holiday",
			clock: func(t *testing.T) deadline.Clock {
				// Counted: 28, 29 Apr; 30 Apr and 6 May paused (1-5 May
				// off); then 7, 8, 9 (make-up Saturday), 11, 12 May.
				return deadline.Clock{Start: at(t, "2026-04-27 15:00"), Days: 5,
					Pauses:     []deadline.Pause{{From: at(t, "2026-04-29 11:00"), To: at(t, "2026-05-06 17:00")}},
					Extensions: []deadline.Extension{{Days: 2, At: at(t, "2026-05-07 10:00")}},
				}
			},
			now:  "2026-05-08 10:00",
			want: "2026-05-12",
		},
	}
	var e deadline.Engine
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotDay, gotDue, err := e.Due(book, tt.clock(t), at(t, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if want := day(t, tt.want); gotDay != want {
				t.Errorf("due day = %s, want %s", gotDay, want)
			}
			if want := day(t, tt.want).AddDays(1).Time(calendar.Shanghai()); !gotDue.Equal(want) {
				t.Errorf("due = %s, want %s", gotDue, want)
			}
		})
	}
}

// TestOpenPause follows one case while it waits for a correction (补正):
// accepted Mon 9 Nov 2026 with 5 working days, due Mon 16 Nov without the
// pause, which opens on Wed 11 Nov.
func TestOpenPause(t *testing.T) {
	book := book2026(t)
	open := deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Pauses: []deadline.Pause{
		{From: at(t, "2026-11-11 10:00"), Reason: "补正材料"},
	}}
	closed := open
	closed.Pauses = []deadline.Pause{{From: at(t, "2026-11-11 10:00"), To: at(t, "2026-11-16 15:00")}}
	tests := []struct {
		name    string
		clock   deadline.Clock
		now     string
		due     string
		used    float64
		paused  bool
		overdue bool
	}{
		// On the day it opens the day still counts: 10 Nov and half of 11.
		{"the day the pause opens", open, "2026-11-11 12:00", "2026-11-16", 1.5, true, false},
		// 12 and 13 Nov are paused: counted 10, 11, then 16, 17, 18.
		{"two days into the pause", open, "2026-11-13 10:00", "2026-11-18", 2, true, false},
		{"the weekend moves nothing", open, "2026-11-15 10:00", "2026-11-18", 2, true, false},
		{"still open on Monday", open, "2026-11-16 09:00", "2026-11-19", 2, true, false},
		// Resumed on Mon 16 at 15:00: 16 Nov stays paused.
		{"resumed", closed, "2026-11-16 16:00", "2026-11-19", 2, false, false},
		{"a day after resuming", closed, "2026-11-17 12:00", "2026-11-19", 2.5, false, false},
		// The same record read as it stood before it was closed.
		{"the closed pause read before its end", closed, "2026-11-13 10:00", "2026-11-18", 2, true, false},
		// A pause on record that begins later is not open yet.
		{"before the pause opens", open, "2026-11-11 09:00", "2026-11-16", 1 + 9.0/24, false, false},
		// Open for ever: never overdue while the count stands still.
		{"open a month on", open, "2026-12-14 10:00", "2026-12-17", 2, true, false},
	}
	var e deadline.Engine
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := e.Status(book, tt.clock, at(t, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if want := day(t, tt.due); s.DueDay != want {
				t.Errorf("due day = %s, want %s", s.DueDay, want)
			}
			if !near(s.Used, tt.used) {
				t.Errorf("used = %v, want %v", s.Used, tt.used)
			}
			if s.Paused != tt.paused || s.Overdue != tt.overdue {
				t.Errorf("paused, overdue = %v, %v; want %v, %v", s.Paused, s.Overdue, tt.paused, tt.overdue)
			}
		})
	}
}

// TestOverdueAfterPause: a pause opened after the due day does not bring
// the matter back within its limit.
func TestOverdueAfterPause(t *testing.T) {
	c := deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5, Pauses: []deadline.Pause{
		{From: at(t, "2026-11-17 10:00")},
	}}
	s, err := deadline.Engine{}.Status(book2026(t), c, at(t, "2026-11-19 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	if s.DueDay != day(t, "2026-11-16") || s.Level != deadline.Red || !s.Paused {
		t.Errorf("status = %+v, want due 2026-11-16, red and paused", s)
	}
}

// TestLevel walks a 5-working-day matter accepted Mon 9 Nov 2026 (counted
// 10, 11, 12, 13, 16 Nov) through its colours at the default 80 %.
func TestLevel(t *testing.T) {
	book := book2026(t)
	c := deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5}
	tests := []struct {
		now   string
		used  float64
		level deadline.Level
	}{
		{"2026-11-09 10:00", 0, deadline.Green}, // acceptance day is not counted
		{"2026-11-10 06:00", 0.25, deadline.Green},
		{"2026-11-13 12:00", 3.5, deadline.Green},
		{"2026-11-13 23:59:59", 3 + 86399.0/86400, deadline.Green},
		{"2026-11-14 00:00", 4, deadline.Yellow}, // 4 of 5 used: 80 %
		{"2026-11-15 20:00", 4, deadline.Yellow}, // the weekend uses nothing
		{"2026-11-16 23:59:59", 4 + 86399.0/86400, deadline.Yellow},
		{"2026-11-17 00:00", 5, deadline.Red}, // the due instant
		{"2026-11-18 12:00", 6.5, deadline.Red},
	}
	var e deadline.Engine
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			s, err := e.Status(book, c, at(t, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if s.Level != tt.level || s.Overdue != (tt.level == deadline.Red) {
				t.Errorf("level, overdue = %s, %v; want %s", s.Level, s.Overdue, tt.level)
			}
			if !near(s.Used, tt.used) {
				t.Errorf("used = %v, want %v", s.Used, tt.used)
			}
			if want := max(5-tt.used, 0); !near(s.Left, want) {
				t.Errorf("left = %v, want %v", s.Left, want)
			}
			if s.Limit != 5 {
				t.Errorf("limit = %d, want 5", s.Limit)
			}
		})
	}
}

// TestNationalDayOverdue: the 30 Sep example is due at the end of 13 Oct,
// not a second before.
func TestNationalDayOverdue(t *testing.T) {
	book := book2026(t)
	c := deadline.Clock{Start: at(t, "2026-09-30 10:00"), Days: 5}
	tests := []struct {
		now   string
		level deadline.Level
	}{
		{"2026-10-05 12:00", deadline.Green},  // a holiday uses nothing
		{"2026-10-12 12:00", deadline.Green},  // 8, 9, 10 Oct and half of 12
		{"2026-10-13 00:00", deadline.Yellow}, // 4 of 5
		{"2026-10-13 23:59", deadline.Yellow},
		{"2026-10-13 23:59:59", deadline.Yellow},
		{"2026-10-14 00:00", deadline.Red},
	}
	for _, tt := range tests {
		t.Run(tt.now, func(t *testing.T) {
			s, err := deadline.Engine{}.Status(book, c, at(t, tt.now))
			if err != nil {
				t.Fatal(err)
			}
			if s.Level != tt.level {
				t.Errorf("level = %s, want %s (used %v)", s.Level, tt.level, s.Used)
			}
		})
	}
}

func TestWarnAt(t *testing.T) {
	book := book2026(t)
	c := deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 10} // counted from 10 Nov
	now := at(t, "2026-11-16 12:00")                                // 4.5 used
	tests := []struct {
		warnAt float64
		want   deadline.Level
	}{
		{0, deadline.Green}, // the default, 0.8
		{-1, deadline.Green},
		{math.NaN(), deadline.Green},
		{0.4, deadline.Yellow},
		{0.45, deadline.Yellow},
		{0.46, deadline.Green},
		{2, deadline.Green},
	}
	for _, tt := range tests {
		s, err := deadline.Engine{WarnAt: tt.warnAt}.Status(book, c, now)
		if err != nil {
			t.Fatal(err)
		}
		if s.Level != tt.want {
			t.Errorf("WarnAt %v: level = %s, want %s", tt.warnAt, s.Level, tt.want)
		}
	}
}

// TestYearBoundary shows what the Book does for a year it has no file
// for: the weekday rule alone, so 1 Jan 2027, a Friday, counts as a
// working day until the 2027 notice is loaded.
func TestYearBoundary(t *testing.T) {
	c := deadline.Clock{Start: at(t, "2026-12-30 10:00"), Days: 3}
	tests := []struct {
		name string
		book func(t testing.TB) *calendar.Book
		want string
	}{
		{"without a 2027 file", book2026, "2027-01-04"},
		{"with a 2027 file", func(t testing.TB) *calendar.Book {
			// A stand-in for the 2027 notice, which is not out yet: 元旦
			// on Fri 1 to Sun 3 Jan.
			y27, err := calendar.New(calendar.Config{
				Year:     2027,
				Holidays: []calendar.Holiday{{Name: "元旦", From: "2027-01-01", To: "2027-01-03"}},
				Hours:    calendar.Week{Mon: &calendar.Hours{Open: "08:30", Close: "17:30"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			b, err := calendar.NewBook(shipped(t), y27)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}, "2027-01-05"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := deadline.Engine{}.Due(tt.book(t), c, at(t, "2026-12-30 10:00"))
			if err != nil {
				t.Fatal(err)
			}
			if want := day(t, tt.want); got != want {
				t.Errorf("due day = %s, want %s", got, want)
			}
		})
	}
}

// TestZone: instants in other zones are read on the center's clock.
func TestZone(t *testing.T) {
	// 16:30 UTC on 30 Sep is 00:30 on 1 Oct in Shanghai, a holiday, so
	// the one day is 8 Oct, which ends at 16:00 UTC.
	start := time.Date(2026, time.September, 30, 16, 30, 0, 0, time.UTC)
	c := deadline.Clock{Start: start, Days: 1}
	tests := []struct {
		now   time.Time
		level deadline.Level
	}{
		{time.Date(2026, time.October, 8, 15, 59, 59, 0, time.UTC), deadline.Yellow},
		{time.Date(2026, time.October, 8, 16, 0, 0, 0, time.UTC), deadline.Red},
	}
	for _, tt := range tests {
		s, err := deadline.Engine{}.Status(book2026(t), c, tt.now)
		if err != nil {
			t.Fatal(err)
		}
		if s.DueDay != day(t, "2026-10-08") || s.Due.Location() != calendar.Shanghai() {
			t.Errorf("due = %s %s, want 2026-10-08 in Asia/Shanghai", s.DueDay, s.Due)
		}
		if s.Level != tt.level {
			t.Errorf("at %s: level = %s, want %s", tt.now, s.Level, tt.level)
		}
	}
}

func TestValidate(t *testing.T) {
	start := at(t, "2026-11-09 10:00")
	tests := []struct {
		name   string
		clock  deadline.Clock
		fields []string
	}{
		{"valid", deadline.Clock{Start: start, Days: 5}, nil},
		{"no start", deadline.Clock{Days: 5}, []string{"start"}},
		{"zero days", deadline.Clock{Start: start}, []string{"days"}},
		{"negative days", deadline.Clock{Start: start, Days: -1}, []string{"days"}},
		{"too many days", deadline.Clock{Start: start, Days: deadline.MaxDays + 1}, []string{"days"}},
		{"extended past the maximum", deadline.Clock{Start: start, Days: deadline.MaxDays, Extensions: []deadline.Extension{{Days: 1, At: start}}}, []string{"extensions"}},
		{"pause before acceptance", deadline.Clock{Start: start, Days: 5, Pauses: []deadline.Pause{{From: start.Add(-time.Minute)}}}, []string{"pauses[0].from"}},
		{"pause without a start", deadline.Clock{Start: start, Days: 5, Pauses: []deadline.Pause{{To: start}}}, []string{"pauses[0].from"}},
		{"pause ends before it begins", deadline.Clock{Start: start, Days: 5, Pauses: []deadline.Pause{
			{From: start, To: start.Add(time.Hour)},
			{From: start.Add(2 * time.Hour), To: start.Add(time.Hour)},
		}}, []string{"pauses[1].to"}},
		{"negative extension", deadline.Clock{Start: start, Days: 5, Extensions: []deadline.Extension{{Days: -2, At: start}}}, []string{"extensions[0].days"}},
		{"zero extension", deadline.Clock{Start: start, Days: 5, Extensions: []deadline.Extension{{At: start}}}, []string{"extensions[0].days"}},
		{"extension without approval time", deadline.Clock{Start: start, Days: 5, Extensions: []deadline.Extension{{Days: 2}}}, []string{"extensions[0].at"}},
		{"extension before acceptance", deadline.Clock{Start: start, Days: 5, Extensions: []deadline.Extension{{Days: 2, At: start.Add(-time.Hour)}}}, []string{"extensions[0].at"}},
		{"several faults at once", deadline.Clock{Days: 0, Pauses: []deadline.Pause{{}}}, []string{"start", "days", "pauses[0].from"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.clock.Validate()
			if tt.fields == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				t.Fatalf("Validate = %v, want an %s error", err, apperr.Invalid)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
				if f.Message == "" {
					t.Errorf("field %s has no message", f.Field)
				}
			}
			if len(got) != len(tt.fields) {
				t.Fatalf("fields = %q, want %q", got, tt.fields)
			}
			for i := range got {
				if got[i] != tt.fields[i] {
					t.Fatalf("fields = %q, want %q", got, tt.fields)
				}
			}
			// Status refuses what Validate refuses.
			if _, err := (deadline.Engine{}).Status(book2026(t), tt.clock, start); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("Status error = %v, want %s", err, apperr.Invalid)
			}
		})
	}
}

// TestTable: a Table answers as the Book it was built from, inside its
// range and outside it.
func TestTable(t *testing.T) {
	book := book2026(t)
	table := deadline.NewTable(book, day(t, "2026-09-01"), day(t, "2026-12-31"))
	for d := day(t, "2026-01-01"); d.Before(day(t, "2027-03-01")); d = d.AddDays(1) {
		if got, want := table.IsWorkingDay(d), book.IsWorkingDay(d); got != want {
			t.Fatalf("IsWorkingDay(%s) = %v, want %v", d, got, want)
		}
	}
	for _, r := range [][2]string{{"2026-03-10", "2026-03-14"}, {"2026-01-01", "2026-01-01"}, {"2026-12-20", "2027-01-10"}, {"2026-02-27", "2026-03-02"}} {
		short := deadline.NewTable(scattered{}, day(t, r[0]), day(t, r[1]))
		for d := day(t, "2025-12-01"); d.Before(day(t, "2027-02-01")); d = d.AddDays(1) {
			if got, want := short.IsWorkingDay(d), (scattered{}).IsWorkingDay(d); got != want {
				t.Fatalf("table %s to %s: IsWorkingDay(%s) = %v, want %v", r[0], r[1], d, got, want)
			}
		}
	}
	// An out-of-range literal is the Book's to read: 2026-09-31 is 1 Oct.
	if table.IsWorkingDay(calendar.Day{Year: 2026, Month: time.September, Day: 31}) {
		t.Error("2026-09-31 (1 Oct) is a working day in the table")
	}
	if table.Location() != book.Location() {
		t.Errorf("location = %s, want %s", table.Location(), book.Location())
	}
	empty := deadline.NewTable(book, day(t, "2026-12-31"), day(t, "2026-01-01"))
	if !empty.IsWorkingDay(day(t, "2026-10-08")) || empty.IsWorkingDay(day(t, "2026-10-01")) {
		t.Error("an empty table does not answer as its book")
	}

	var e deadline.Engine
	now := at(t, "2026-11-20 15:00")
	for i, c := range worklist(now, 2000) {
		want, err := e.Status(book, c, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Status(table, c, now)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("clock %d: status on the table %+v, on the book %+v", i, got, want)
		}
	}
}

// scattered is a calendar of working days with no pattern a misplaced
// table lookup could match.
type scattered struct{}

func (scattered) IsWorkingDay(d calendar.Day) bool {
	return (d.Day*d.Day+3*int(d.Month)+d.Year)%7 < 3
}

func (scattered) Location() *time.Location { return calendar.Shanghai() }

// noWork is a broken calendar: no day is a working day.
type noWork struct{ loc *time.Location }

func (noWork) IsWorkingDay(calendar.Day) bool { return false }

func (c noWork) Location() *time.Location { return c.loc }

// lateWork is a calendar with no working day before a given day.
type lateWork struct{ from calendar.Day }

func (c lateWork) IsWorkingDay(d calendar.Day) bool { return !d.Before(c.from) }

func (lateWork) Location() *time.Location { return calendar.Shanghai() }

func TestNoWorkingDay(t *testing.T) {
	c := deadline.Clock{Start: at(t, "2026-11-09 10:00"), Days: 5}
	done := make(chan error, 1)
	go func() {
		_, err := deadline.Engine{}.Status(noWork{calendar.Shanghai()}, c, at(t, "2026-11-10 10:00"))
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, deadline.ErrNoWorkingDay) || apperr.CodeOf(err) != deadline.CodeNoWorkingDay {
			t.Errorf("error = %v, want ErrNoWorkingDay", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Status hangs on a calendar without working days")
	}

	// Two years without a working day is a strange calendar, not a broken
	// one: the engine still counts on it.
	late := lateWork{from: day(t, "2028-11-09")}
	got, _, err := deadline.Engine{}.Due(late, c, at(t, "2026-11-10 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	if want := day(t, "2028-11-13"); got != want {
		t.Errorf("due day = %s, want %s", got, want)
	}
}

func TestLabel(t *testing.T) {
	for l, want := range map[deadline.Level]string{
		deadline.Green: "正常", deadline.Yellow: "预警", deadline.Red: "超期", "purple": "purple",
	} {
		if got := l.Label(); got != want {
			t.Errorf("%s.Label() = %q, want %q", l, got, want)
		}
	}
}

func TestStatusJSON(t *testing.T) {
	c := deadline.Clock{Start: at(t, "2026-09-30 10:00"), Days: 5}
	s, err := deadline.Engine{}.Status(book2026(t), c, at(t, "2026-10-09 12:00"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"due_day":"2026-10-13","due":"2026-10-14T00:00:00+08:00","limit":5,"used":1.5,"left":3.5,"level":"green","paused":false,"overdue":false}`
	if string(b) != want {
		t.Errorf("JSON = %s\nwant   %s", b, want)
	}
}

// TestNoAllocs holds Status to its promise of no allocations.
func TestNoAllocs(t *testing.T) {
	book := book2026(t)
	c := benchClock(t)
	now := at(t, "2026-10-12 11:00")
	var e deadline.Engine
	if n := testing.AllocsPerRun(100, func() {
		if _, err := e.Status(book, c, now); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Status allocates %v times per call, want 0", n)
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// benchClock is a 20-day case accepted before the national day, with a
// closed pause, an open one and an extension.
func benchClock(t testing.TB) deadline.Clock {
	return deadline.Clock{
		Start: at(t, "2026-09-21 09:30"),
		Days:  20,
		Pauses: []deadline.Pause{
			{From: at(t, "2026-09-24 10:00"), To: at(t, "2026-09-29 16:00"), Reason: "补正材料"},
			{From: at(t, "2026-10-09 14:00"), Reason: "中止：等待鉴定"},
		},
		Extensions: []deadline.Extension{{Days: 10, At: at(t, "2026-10-09 09:00"), Reason: "情况复杂"}},
	}
}

func BenchmarkStatus(b *testing.B) {
	book := book2026(b)
	c := benchClock(b)
	now := at(b, "2026-10-12 11:00")
	var e deadline.Engine
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Status(book, c, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatusWorklist colours a supervision board of 10,000 open
// cases of 1 to 20 days, accepted over the two months before now.
func BenchmarkStatusWorklist(b *testing.B) {
	benchWorklist(b, func(b *calendar.Book, _ time.Time) deadline.Calendar { return b })
}

// BenchmarkStatusWorklistTable is BenchmarkStatusWorklist on a Table
// built, as a request would, for each run.
func BenchmarkStatusWorklistTable(b *testing.B) {
	benchWorklist(b, func(b *calendar.Book, now time.Time) deadline.Calendar {
		today := calendar.DayOf(now.In(b.Location()))
		return deadline.NewTable(b, today.AddDays(-120), today.AddDays(240))
	})
}

func benchWorklist(b *testing.B, cal func(*calendar.Book, time.Time) deadline.Calendar) {
	book := book2026(b)
	now := at(b, "2026-11-20 15:00")
	clocks := worklist(now, 10_000)
	var e deadline.Engine
	b.ReportAllocs()
	for b.Loop() {
		cal := cal(book, now)
		for _, c := range clocks {
			if _, err := e.Status(cal, c, now); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// worklist returns n open cases of 1 to 20 days accepted over the two
// months before now, a third of them paused once, a seventh extended.
func worklist(now time.Time, n int) []deadline.Clock {
	clocks := make([]deadline.Clock, n)
	for i := range clocks {
		start := now.Add(-time.Duration(i%60*24+i%9) * time.Hour)
		c := deadline.Clock{Start: start, Days: 1 + i%20}
		if i%3 == 0 {
			c.Pauses = []deadline.Pause{{From: start.Add(26 * time.Hour), To: start.Add(100 * time.Hour)}}
		}
		if i%5 == 0 {
			c.Pauses = append(c.Pauses, deadline.Pause{From: start.Add(150 * time.Hour)}) // open
		}
		if i%7 == 0 {
			c.Extensions = []deadline.Extension{{Days: 5, At: start.Add(time.Hour)}}
		}
		clocks[i] = c
	}
	return clocks
}
