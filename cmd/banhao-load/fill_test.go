package main

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

func TestPastWorkingDays(t *testing.T) {
	// 2026-11-25 is a Wednesday.
	got := pastWorkingDays(time.Date(2026, 11, 25, 0, 0, 0, 0, cst), 4)
	var days []string
	for _, d := range got {
		days = append(days, d.Format(time.DateOnly))
	}
	want := []string{"2026-11-19", "2026-11-20", "2026-11-23", "2026-11-24"}
	if len(days) != len(want) {
		t.Fatalf("%v", days)
	}
	for i := range want {
		if days[i] != want[i] {
			t.Fatalf("%v, want %v", days, want)
		}
	}
}

// fill stores past tickets that the server reads as its own: numbered per
// sector and day, with the day's counter raised so that the next ticket
// taken that day goes on from the last number.
func TestFillStoresPastDays(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	err := run(ctx, []string{"fill", "-data", dir, "-tickets", "2500", "-per-day", "1100", "-before", "2026-11-25", "-batch", "700"},
		func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	qs := sqlite.NewQueueStore(db)
	// Three days (1100, 1100, 300) over the 11 sectors of the demo center:
	// 100 tickets a sector on 2026-11-23, 28 of the first sector on 2026-11-24.
	for _, tc := range []struct {
		day  string
		next int
	}{{"2026-11-20", 101}, {"2026-11-23", 101}, {"2026-11-24", 29}} {
		tk, err := qs.TakeTicket(ctx, queue.Ticket{ID: "tknext" + tc.day, Center: "hm", Sector: "real-estate", Day: tc.day,
			Status: queue.StatusWaiting, TakenAt: time.Now()}, "A")
		if err != nil {
			t.Fatal(err)
		}
		if tk.Seq != tc.next {
			t.Errorf("%s: next number %d, want %d", tc.day, tk.Seq, tc.next)
		}
	}
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, cst)
	times, err := qs.ServiceTimes(ctx, "hm", "real-estate", since, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// Nine in ten are served: of 228 real-estate tickets, those with j%10 != 9.
	if len(times) < 150 || len(times) >= 228 {
		t.Errorf("%d service times of served tickets", len(times))
	}
	for _, d := range times {
		if d < 8*time.Minute || d > 18*time.Minute {
			t.Fatalf("service time %v", d)
		}
	}
}
