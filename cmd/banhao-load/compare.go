package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"
)

// savedRun is a run's figures as -save writes them, for a later run to
// -compare with (the scale comparison runs the same scenario on a server
// with 10 k tickets stored, then on one with 1 M).
type savedRun struct {
	Scenario string        `json:"scenario"`
	URL      string        `json:"url"`
	Clients  int           `json:"clients"`
	At       time.Time     `json:"at"`
	Results  []savedResult `json:"results"`
}

// savedResult is one operation's figures; latencies in nanoseconds.
type savedResult struct {
	Name   string        `json:"name"`
	OK     int64         `json:"ok"`
	Errors int64         `json:"errors"`
	Rate   float64       `json:"rate"`
	P50    time.Duration `json:"p50_ns"`
	P95    time.Duration `json:"p95_ns"`
	P99    time.Duration `json:"p99_ns"`
}

func toSaved(o options, rs []result) savedRun {
	run := savedRun{Scenario: o.scenario, URL: o.url, Clients: o.clients, At: time.Now()}
	for _, r := range rs {
		run.Results = append(run.Results, savedResult{Name: r.name, OK: r.ok, Errors: r.fails, Rate: r.rate(),
			P50: r.percentile(.5), P95: r.percentile(.95), P99: r.percentile(.99)})
	}
	return run
}

func saveRun(path string, run savedRun) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func loadRun(path string) (savedRun, error) {
	var run savedRun
	b, err := os.ReadFile(path)
	if err != nil {
		return run, err
	}
	if err := json.Unmarshal(b, &run); err != nil {
		return run, fmt.Errorf("%s: %w", path, err)
	}
	return run, nil
}

// scaleLimit is how much slower an operation may be with a million
// tickets stored than with ten thousand.
const scaleLimit = 1.5

// compareRuns prints this run's figures next to a saved run's and judges
// the ticket take and status latency against scaleLimit.
func compareRuns(out io.Writer, then, now savedRun) []check {
	fmt.Fprintf(out, "compared with the run saved at %s (%s, %d clients):\n", then.At.Format(time.DateTime), then.Scenario, then.Clients)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\trate then\trate now\tp50 then\tp50 now\t×\tp99 then\tp99 now\t×\t")
	var cs []check
	for _, n := range now.Results {
		var t savedResult
		found := false
		for _, r := range then.Results {
			if r.Name == n.Name {
				t, found = r, true
			}
		}
		if !found {
			continue
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t\n", n.Name, t.Rate, n.Rate,
			round(t.P50), round(n.P50), ratio(n.P50, t.P50), round(t.P99), round(n.P99), ratio(n.P99, t.P99))
		if n.Name != opTakeMP && n.Name != opStatus {
			continue
		}
		for _, q := range []struct {
			label     string
			then, now time.Duration
		}{{"p50", t.P50, n.P50}, {"p99", t.P99, n.P99}} {
			cs = append(cs, check{
				target: fmt.Sprintf("%s %s ≤ %.1f × the saved run's", n.Name, q.label, scaleLimit),
				pass:   q.then > 0 && ratio(q.now, q.then) <= scaleLimit,
				got:    fmt.Sprintf("%s vs %s = %.2f ×", round(q.now), round(q.then), ratio(q.now, q.then)),
			})
		}
	}
	tw.Flush()
	return cs
}

func ratio(a, b time.Duration) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
