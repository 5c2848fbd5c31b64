package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// errStop ends a load client's loop: its share of the work is done.
var errStop = errors.New("stop")

// tally is an answer that is neither a success nor an error, such as
// "queue empty" at a window or "slot full" when booking: it is counted
// under its own name and its latency is measured.
type tally string

func (t tally) Error() string { return string(t) }

// meter measures one operation: how many calls succeeded, failed or ended
// in a tally, and how long each took.
type meter struct {
	name      string
	ok, fails atomic.Int64

	mu       sync.Mutex
	lat      []time.Duration
	tallies  map[string]int64
	firstErr string
	// last is when the last counted call ended: the rate of work that
	// ran out before the phase did is over the time it ran.
	last time.Time
}

func newMeter(name string) *meter { return &meter{name: name, tallies: map[string]int64{}} }

// do runs op and records it, unless the phase ended while it ran (cut
// off: not counted) or op reports that the work ran out (errStop). It
// returns op's error.
func (m *meter) do(ctx context.Context, op func() error) error {
	t0 := time.Now()
	err := op()
	d := time.Since(t0)
	if ctx.Err() != nil || errors.Is(err, errStop) {
		return err
	}
	m.observe(d, err)
	return err
}

// observe records one call that took d and ended with err.
func (m *meter) observe(d time.Duration, err error) {
	var t tally
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = now
	m.lat = append(m.lat, d)
	switch {
	case err == nil:
		m.ok.Add(1)
	case errors.As(err, &t):
		m.tallies[string(t)]++
	default:
		m.fails.Add(1)
		if m.firstErr == "" {
			m.firstErr = err.Error()
		}
	}
}

// result freezes the meter's measurements of a phase that ran from start
// to end.
func (m *meter) result(start, end time.Time) result {
	m.mu.Lock()
	defer m.mu.Unlock()
	elapsed := end.Sub(start)
	if !m.last.IsZero() && m.last.Before(end) {
		elapsed = m.last.Sub(start)
	}
	lat := slices.Clone(m.lat)
	slices.Sort(lat)
	tallies := map[string]int64{}
	for k, v := range m.tallies {
		tallies[k] = v
	}
	return result{name: m.name, ok: m.ok.Load(), fails: m.fails.Load(), elapsed: elapsed, latencies: lat, tallies: tallies, firstErr: m.firstErr}
}

// result is one operation's measurements.
type result struct {
	name      string
	ok, fails int64
	elapsed   time.Duration
	// latencies are sorted, of every counted call: successes, failures
	// and tallies.
	latencies []time.Duration
	tallies   map[string]int64
	firstErr  string
	// phase is the title of the phase measured, and cpu the cores used
	// while it ran.
	phase string
	cpu   cpuSplit
}

// rate is the successes per second.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile returns the latency below which the fraction p of the calls
// fell (nearest rank), 0 without calls.
func (r result) percentile(p float64) time.Duration { return percentile(r.latencies, p) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// crew is a number of goroutines running the same loop during a phase.
// Each iteration records its calls through meters; returning errStop ends
// the goroutine.
type crew struct {
	n    int
	loop func(ctx context.Context, client, i int) error
}

// phase is a stretch of load: crews run for d (or until ctx ends, or
// every goroutine ran out of work) while a progress line shows the meters.
// With total > 0 the bar shows the successes out of total, else the time.
type phase struct {
	title  string
	d      time.Duration
	total  int64
	meters []*meter
	crews  []crew
	// cpu, if not nil, measures the cores used during the phase.
	cpu *cpuProbe
}

// run runs the phase and returns each meter's result. Calls are bounded
// by the duration, so the phase always ends by itself.
func (p phase) run(ctx context.Context, out io.Writer) []result {
	before := p.cpu.sample(ctx)
	sampled := time.Now()
	ctx, cancel := context.WithTimeout(ctx, p.d)
	defer cancel()
	start := time.Now()
	done := make(chan struct{})
	go p.progress(ctx, start, out, done)
	var wg sync.WaitGroup
	for _, cr := range p.crews {
		for c := 0; c < cr.n; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ctx.Err() == nil; i++ {
					if err := cr.loop(ctx, c, i); errors.Is(err, errStop) {
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	end := time.Now()
	cancel() // ends the progress line now if the work ran out early
	<-done
	var cpu cpuSplit
	if p.cpu != nil {
		cpu = splitCPU(before, p.cpu.sample(context.WithoutCancel(ctx)), time.Since(sampled))
		fmt.Fprintf(out, "%-30s cpu: %s\n", "", cpu)
	}
	rs := make([]result, len(p.meters))
	for i, m := range p.meters {
		rs[i] = m.result(start, end)
		rs[i].phase, rs[i].cpu = p.title, cpu
	}
	return rs
}

// progress prints a bar and the running rates until ctx ends.
func (p phase) progress(ctx context.Context, start time.Time, out io.Writer, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	width := 0
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "\r%-30s [%s] done%s\n", p.title, bar(1), strings.Repeat(" ", max(0, width-4)))
			return
		case <-t.C:
			el := time.Since(start)
			var ok, fails int64
			var rates []string
			for _, m := range p.meters {
				ok += m.ok.Load()
				fails += m.fails.Load()
				if len(p.meters) > 1 {
					rates = append(rates, fmt.Sprintf("%s %.0f/s", m.name, float64(m.ok.Load())/el.Seconds()))
				}
			}
			f := float64(el) / float64(p.d)
			if p.total > 0 {
				f = float64(ok) / float64(p.total)
			}
			line := fmt.Sprintf("%7.0f/s  errors %d", float64(ok)/el.Seconds(), fails)
			if p.total > 0 {
				line = fmt.Sprintf("%d/%d  %s", ok, p.total, line)
			}
			if len(rates) > 0 {
				line = strings.Join(rates, ", ") + fmt.Sprintf("  errors %d", fails)
			}
			width = max(width, len(line))
			fmt.Fprintf(out, "\r%-30s [%s] %-*s", p.title, bar(f), width, line)
		}
	}
}

// hammer runs op from clients goroutines for d (or until ctx ends, or op
// returns errStop everywhere) and measures each call.
func hammer(ctx context.Context, cpu *cpuProbe, name string, clients int, d time.Duration, out io.Writer, op func(ctx context.Context, client, i int) error) result {
	m := newMeter(name)
	p := phase{title: name, d: d, cpu: cpu, meters: []*meter{m}, crews: []crew{{n: clients, loop: func(ctx context.Context, c, i int) error {
		return m.do(ctx, func() error { return op(ctx, c, i) })
	}}}}
	return p.run(ctx, out)[0]
}

func bar(f float64) string {
	const w = 24
	n := min(w, max(0, int(f*w)))
	return strings.Repeat("#", n) + strings.Repeat(".", w-n)
}

// report prints the results as a table, then each operation's tallies
// and first error.
func report(out io.Writer, rs []result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tok\terrors\trate/s\tp50\tp95\tp99\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t\n", r.name, r.ok, r.fails, r.rate(),
			round(r.percentile(.5)), round(r.percentile(.95)), round(r.percentile(.99)))
	}
	tw.Flush()
	for _, r := range rs {
		keys := make([]string, 0, len(r.tallies))
		for k := range r.tallies {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(out, "%s: %d answered %s\n", r.name, r.tallies[k], k)
		}
		if r.firstErr != "" {
			fmt.Fprintf(out, "%s: first error: %s\n", r.name, r.firstErr)
		}
	}
	seen := map[string]bool{}
	for _, r := range rs {
		if r.phase == "" || seen[r.phase] || r.cpu == (cpuSplit{}) {
			continue
		}
		seen[r.phase] = true
		if len(seen) == 1 {
			fmt.Fprintln(out, "cores used during each phase:")
		}
		fmt.Fprintf(out, "  %-32s %s\n", r.phase+":", r.cpu)
	}
}

func round(d time.Duration) time.Duration {
	switch {
	case d > 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d > time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// check is a target of the issue, judged on this run's figures.
type check struct {
	target string
	pass   bool
	got    string
}

// printChecks prints one PASS or FAIL line per target.
func printChecks(out io.Writer, cs []check) {
	for _, c := range cs {
		v := "FAIL"
		if c.pass {
			v = "PASS"
		}
		fmt.Fprintf(out, "%s  %s: %s\n", v, c.target, c.got)
	}
}

// find returns the result named name.
func find(rs []result, name string) (result, bool) {
	for _, r := range rs {
		if r.name == name {
			return r, true
		}
	}
	return result{}, false
}
