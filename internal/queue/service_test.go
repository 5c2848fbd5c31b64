package queue

import (
	"testing"
	"time"
)

func TestAgeOn(t *testing.T) {
	birth := time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		on   time.Time
		want int
	}{
		{time.Date(2019, 12, 30, 23, 0, 0, 0, time.UTC), 69},
		{time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC), 70},
		{time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), 76},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), 74},
	} {
		if got := ageOn(birth, tt.on); got != tt.want {
			t.Errorf("age on %s = %d, want %d", tt.on.Format("2006-01-02"), got, tt.want)
		}
	}
}

func TestPriorityRanks(t *testing.T) {
	order := []Priority{PriorityGreen, PriorityAppointment, PriorityElderly, PriorityNone}
	for i := 1; i < len(order); i++ {
		if order[i-1].Rank() >= order[i].Rank() {
			t.Errorf("%q does not come before %q", order[i-1], order[i])
		}
	}
	if PriorityDisabled.Rank() != PriorityElderly.Rank() || PriorityPregnant.Rank() != PriorityElderly.Rank() {
		t.Error("the priority groups are not served alike")
	}
	if Priority("vip").Rank() >= 0 {
		t.Error("an unknown priority has a rank")
	}
	if FormatNumber(SectorLetter(3), 23) != "C023" || FormatNumber(SectorLetter(1), 1000) != "A1000" {
		t.Error("ticket numbers are not letter and three digits")
	}
}

func TestServiceTimeIgnoresOutliers(t *testing.T) {
	m := time.Minute
	for _, tt := range []struct {
		samples []time.Duration
		want    time.Duration
	}{
		{[]time.Duration{6 * m, 6 * m}, DefaultServiceTime}, // too few to learn from
		{[]time.Duration{4 * m, 6 * m, 8 * m, 6 * m, 6 * m}, 6 * m},
		// A misclick and a "complete" forgotten over lunch change nothing.
		{[]time.Duration{6 * m, 6 * m, time.Second, 6 * m, 90 * m, 6 * m, 6 * m}, 6 * m},
		// The long tail of honest services still counts.
		{[]time.Duration{4 * m, 4 * m, 4 * m, 4 * m, 10 * m}, 26 * m / 5},
	} {
		if got := ServiceTime(tt.samples); got != tt.want {
			t.Errorf("ServiceTime(%v) = %v, want %v", tt.samples, got, tt.want)
		}
	}
}
