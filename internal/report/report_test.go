package report

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
)

// memSource is an in-process Source over slices, for the rules that do
// not depend on a store (the stores are checked in internal/storetest).
type memSource struct{ tickets []queue.Ticket }

func (m memSource) Tickets(_ context.Context, center, from, to string) ([]queue.Ticket, error) {
	var out []queue.Ticket
	for _, t := range m.tickets {
		if t.Center == center && t.Day >= from && t.Day < to {
			out = append(out, t)
		}
	}
	return out, nil
}
func (memSource) Cases(context.Context, string, time.Time, time.Time) ([]cases.Case, error) {
	return nil, nil
}
func (memSource) Evaluations(context.Context, string, time.Time, time.Time) ([]review.Evaluation, error) {
	return nil, nil
}
func (memSource) Tasks(context.Context, string) ([]review.Task, error) { return nil, nil }

func TestPermil(t *testing.T) {
	for _, c := range []struct{ n, total, want int }{{0, 0, 0}, {1, 3, 333}, {2, 3, 667}, {1, 2, 500}, {1, 8, 125}, {1, 16, 63}} {
		if got := permil(c.n, c.total); got != c.want {
			t.Errorf("permil(%d, %d) = %d, want %d", c.n, c.total, got, c.want)
		}
	}
}

// TestWaitPercentile checks the nearest-rank 90th percentile and the
// rounded average on 1..10 and 1..11 minutes of waiting.
func TestWaitPercentile(t *testing.T) {
	for _, c := range []struct {
		n        int
		avg, p90 int64
	}{{10, 330, 540}, {11, 360, 600}, {1, 60, 60}} {
		var ts []queue.Ticket
		for i := range c.n {
			taken := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			ts = append(ts, queue.Ticket{ID: fmt.Sprint(i), Center: "C", Sector: "S", Day: "2026-11-02", TakenAt: taken,
				CalledAt: taken.Add(time.Duration(i+1) * time.Minute), Status: queue.StatusDone})
		}
		d, err := NewService(memSource{ts}, time.UTC, nil).Daily(t.Context(), "C", "2026-11-02")
		if err != nil {
			t.Fatal(err)
		}
		if d.Total.AvgWaitSec != c.avg || d.Total.P90WaitSec != c.p90 || d.Total.Served != c.n {
			t.Errorf("%d waits: %+v, want avg %d p90 %d", c.n, d.Total, c.avg, c.p90)
		}
	}
}

func TestSpotCheckWeeks(t *testing.T) {
	s := NewService(memSource{}, time.UTC, nil)
	for _, c := range []struct {
		week string
		ok   bool
	}{{"2026-W01", true}, {"2026-W48", true}, {"2026-W53", true}, {"2025-W53", false}, {"2026-W00", false}, {"2026-48", false}, {"x", false}} {
		_, err := s.SpotCheck(t.Context(), "C", c.week)
		if (err == nil) != c.ok {
			t.Errorf("week %s: err %v, want ok=%v", c.week, err, c.ok)
		}
	}
}
