package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load tool's counts must be exact: a phase that runs out of work ends
// early, errors are counted apart, and the report names the first error.
func TestHammerCountsAndStops(t *testing.T) {
	var n atomic.Int64
	start := time.Now()
	r := hammer(context.Background(), nil, "op", 8, 10*time.Second, io.Discard, func(context.Context, int, int) error {
		i := n.Add(1)
		switch {
		case i > 1000:
			return errStop
		case i%10 == 0:
			return errors.New("boom")
		case i%10 == 5:
			return tally("queue_empty")
		}
		return nil
	})
	if r.ok != 800 || r.fails != 100 || r.tallies["queue_empty"] != 100 || len(r.latencies) != 1000 {
		t.Fatalf("ok %d fails %d tallied %v measured %d, want 800, 100, 100, 1000", r.ok, r.fails, r.tallies, len(r.latencies))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a phase out of work did not end early: %v", took)
	}
	if r.elapsed > time.Since(start) || r.elapsed <= 0 {
		t.Fatalf("elapsed %v", r.elapsed)
	}
	if r.percentile(0) > r.percentile(.99) {
		t.Fatal("latencies are not sorted")
	}
	var out strings.Builder
	report(&out, []result{r})
	for _, want := range []string{"op: first error: boom", "op: 100 answered queue_empty", " 800 "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

// A phase runs several crews at once and keeps each operation apart.
func TestPhaseKeepsOperationsApart(t *testing.T) {
	a, b := newMeter("a"), newMeter("b")
	var na, nb atomic.Int64
	rs := phase{title: "mixed", d: 10 * time.Second, meters: []*meter{a, b}, crews: []crew{
		{n: 3, loop: func(ctx context.Context, _, _ int) error {
			if na.Add(1) > 300 {
				return errStop
			}
			return a.do(ctx, func() error { return nil })
		}},
		{n: 2, loop: func(ctx context.Context, _, _ int) error {
			if nb.Add(1) > 50 {
				return errStop
			}
			return b.do(ctx, func() error { return errors.New("no") })
		}},
	}}.run(context.Background(), io.Discard)
	if len(rs) != 2 || rs[0].ok != 300 || rs[0].fails != 0 || rs[1].ok != 0 || rs[1].fails != 50 {
		t.Fatalf("results %+v", rs)
	}
}

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, .5, 0},
		{"one", []time.Duration{ms(7)}, .99, ms(7)},
		{"median", hundred, .5, ms(50)},
		{"p99", hundred, .99, ms(99)},
		{"max", hundred, 1, ms(100)},
		{"min", hundred, 0, ms(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.sorted, tc.p); got != tc.want {
				t.Fatalf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestMergeSorted(t *testing.T) {
	got := mergeSorted([]time.Duration{1, 4, 9}, []time.Duration{2, 3, 10, 11})
	want := []time.Duration{1, 2, 3, 4, 9, 10, 11}
	if len(got) != len(want) {
		t.Fatalf("%v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%v, want %v", got, want)
		}
	}
}

// The rush is judged against the targets with the baselines of
// the same run.
func TestRushChecks(t *testing.T) {
	lat := func(d time.Duration, n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = d
		}
		return out
	}
	rs := []result{
		{name: opTakeMP, ok: 150_000, elapsed: 10 * time.Second, latencies: lat(5*time.Millisecond, 100)},
		{name: opTakeKiosk, ok: 10_000, elapsed: 10 * time.Second, latencies: lat(6*time.Millisecond, 100)},
		{name: opStatus, ok: 100_000, elapsed: 10 * time.Second},
		{name: opRawJSON, ok: 500_000, elapsed: 10 * time.Second},
		{name: opStoreTx, ok: 20_000, elapsed: 10 * time.Second},
	}
	cs := rushChecks(rs, 64)
	if len(cs) != 4 {
		t.Fatalf("checks %+v", cs)
	}
	for i, want := range []bool{true, true, true, false} {
		if cs[i].pass != want {
			t.Errorf("%s: pass %v, want %v (%s)", cs[i].target, cs[i].pass, want, cs[i].got)
		}
	}
	var out strings.Builder
	printChecks(&out, cs)
	if !strings.Contains(out.String(), "PASS  ticket issue over HTTP ≥ 15000/s: 16000/s") ||
		!strings.Contains(out.String(), "FAIL  ticket status read ≥ 0.3 × fiber's raw JSON rate: 10000/s = 0.20 × 50000/s") {
		t.Fatalf("checks:\n%s", out.String())
	}
}

func TestCompareRuns(t *testing.T) {
	then := savedRun{Clients: 64, Results: []savedResult{
		{Name: opTakeMP, P50: 10 * time.Millisecond, P99: 20 * time.Millisecond},
		{Name: opStatus, P50: 2 * time.Millisecond, P99: 10 * time.Millisecond},
		{Name: "mp login", P50: time.Millisecond, P99: time.Millisecond},
	}}
	now := savedRun{Clients: 64, Results: []savedResult{
		{Name: opTakeMP, P50: 14 * time.Millisecond, P99: 31 * time.Millisecond},
		{Name: opStatus, P50: 2 * time.Millisecond, P99: 9 * time.Millisecond},
		{Name: "mp login", P50: 9 * time.Millisecond, P99: 9 * time.Millisecond},
	}}
	var out strings.Builder
	cs := compareRuns(&out, then, now)
	want := []bool{true, false, true, true} // take p50, take p99, status p50, status p99
	if len(cs) != len(want) {
		t.Fatalf("checks %+v", cs)
	}
	for i := range want {
		if cs[i].pass != want[i] {
			t.Errorf("%s: pass %v (%s)", cs[i].target, cs[i].pass, cs[i].got)
		}
	}
	if !strings.Contains(out.String(), "mp login") {
		t.Errorf("table lacks the other operations:\n%s", out.String())
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, args := range [][]string{
		{"-clients", "0"}, {"-duration", "-1s"}, {"-scenario", "picnic", "-baselines=false"},
		{"-places", "1001", "-scenario", "booking"}, {"-kiosks", "-1"}, {"-users", "0"},
		{"fill"}, {"fill", "-data", "x", "-before", "tomorrow"},
	} {
		if err := run(context.Background(), args, noEnv, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// Without an administrator's password the rush and booking stop before
// touching the server, and say where to get one.
func TestAdminPasswordRequired(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, sc := range []string{"booking", "rush"} {
		err := run(context.Background(), []string{"-scenario", sc, "-url", "http://127.0.0.1:1", "-baselines=false"}, noEnv, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "BANHAO_LOAD_ADMIN_PASSWORD") {
			t.Errorf("%s: %v", sc, err)
		}
	}
}

// The help never shows the administrator's password taken from the
// environment.
func TestHelpHidesPassword(t *testing.T) {
	var out strings.Builder
	env := func(k string) string {
		if k == "BANHAO_LOAD_ADMIN_PASSWORD" {
			return "Secret12345"
		}
		return ""
	}
	if err := run(context.Background(), []string{"-h"}, env, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "Secret12345") || !strings.Contains(out.String(), "-admin-password") {
		t.Fatalf("help:\n%s", out.String())
	}
}
