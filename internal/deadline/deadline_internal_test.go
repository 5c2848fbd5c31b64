package deadline

import (
	"testing"
	"time"

	"github.com/banhao/banhao/internal/calendar"
)

// TestDayArithmetic checks next, ordinal and valid against the time
// package over four centuries and more, leap years of every kind included.
func TestDayArithmetic(t *testing.T) {
	d := calendar.Day{Year: 1899, Month: time.January, Day: 1}
	end := calendar.Day{Year: 2301, Month: time.January, Day: 1}
	for d != end {
		if want := d.Time(time.UTC).Unix() / (24 * 60 * 60); ordinal(d) != want {
			t.Fatalf("ordinal(%s) = %d, want %d", d, ordinal(d), want)
		}
		if !valid(d) {
			t.Fatalf("valid(%s) = false", d)
		}
		if got, want := next(d), d.AddDays(1); got != want {
			t.Fatalf("next(%s) = %s, want %s", d, got, want)
		}
		d = next(d)
	}
	for _, d := range []calendar.Day{
		{Year: 2026, Month: time.February, Day: 29},
		{Year: 1900, Month: time.February, Day: 29},
		{Year: 2026, Month: time.April, Day: 31},
		{Year: 2026, Month: time.January, Day: 0},
		{Year: 2026, Month: 13, Day: 1},
		{},
	} {
		if valid(d) {
			t.Errorf("valid(%d-%d-%d) = true", d.Year, d.Month, d.Day)
		}
	}
	if d := (calendar.Day{Year: 2000, Month: time.February, Day: 29}); !valid(d) {
		t.Errorf("valid(%s) = false", d)
	}
}
