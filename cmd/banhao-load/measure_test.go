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
	r := hammer(context.Background(), "op", 8, 10*time.Second, io.Discard, func(context.Context, int, int) error {
		i := n.Add(1)
		switch {
		case i > 1000:
			return errStop
		case i%10 == 0:
			return errors.New("boom")
		}
		return nil
	})
	if r.ok != 900 || r.fails != 100 || len(r.latencies) != 1000 {
		t.Fatalf("ok %d fails %d measured %d, want 900, 100, 1000", r.ok, r.fails, len(r.latencies))
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a phase out of work did not end early: %v", took)
	}
	if r.percentile(0) > r.percentile(.99) {
		t.Fatal("latencies are not sorted")
	}
	var out strings.Builder
	report(&out, []result{r})
	if !strings.Contains(out.String(), "op: first error: boom") || !strings.Contains(out.String(), "900") {
		t.Fatalf("report:\n%s", out.String())
	}
}

func TestRunRejectsBadOptions(t *testing.T) {
	for _, args := range [][]string{{"-clients", "0"}, {"-duration", "-1s"}, {"-scenario", "picnic", "-baselines=false"}} {
		if err := run(context.Background(), args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
