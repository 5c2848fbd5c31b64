package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// result is one operation's measurements.
type result struct {
	name      string
	ok, fails int64
	elapsed   time.Duration
	latencies []time.Duration
	firstErr  string
}

func (r result) rate() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r result) percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * p)
	return r.latencies[i]
}

// hammer runs op from clients goroutines for d (or until ctx ends) and
// measures each call, printing a progress line as it goes. Calls are
// bounded by the duration, so the run always ends by itself.
func hammer(ctx context.Context, name string, clients int, d time.Duration, out io.Writer, op func(ctx context.Context, client, i int) error) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var ok, fails atomic.Int64
	var mu sync.Mutex
	var firstErr string
	lat := make([][]time.Duration, clients)
	start := time.Now()
	done := make(chan struct{})
	go progress(ctx, name, d, start, &ok, &fails, out, done)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				t0 := time.Now()
				err := op(ctx, c, i)
				if ctx.Err() != nil || errors.Is(err, errStop) {
					return // cut off by the end of the phase, or done: not counted
				}
				lat[c] = append(lat[c], time.Since(t0))
				if err != nil {
					fails.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cancel() // ends the progress line now if the work ran out early
	<-done
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	return result{name: name, ok: ok.Load(), fails: fails.Load(), elapsed: elapsed, latencies: all, firstErr: firstErr}
}

// progress prints a bar and the running rate until ctx ends.
func progress(ctx context.Context, name string, d time.Duration, start time.Time, ok, fails *atomic.Int64, out io.Writer, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "\r%-28s [%s] done%30s\n", name, bar(1), "")
			return
		case <-t.C:
			el := time.Since(start)
			fmt.Fprintf(out, "\r%-28s [%s] %7.0f/s  errors %d", name, bar(float64(el)/float64(d)), float64(ok.Load())/el.Seconds(), fails.Load())
		}
	}
}

func bar(f float64) string {
	const w = 24
	n := min(w, max(0, int(f*w)))
	b := make([]byte, w)
	for i := range b {
		b[i] = '.'
		if i < n {
			b[i] = '#'
		}
	}
	return string(b)
}

func report(out io.Writer, rs []result) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tok\terrors\trate/s\tp50\tp95\tp99\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t\n", r.name, r.ok, r.fails, r.rate(),
			round(r.percentile(.5)), round(r.percentile(.95)), round(r.percentile(.99)))
	}
	tw.Flush()
	for _, r := range rs {
		if r.firstErr != "" {
			fmt.Fprintf(out, "%s: first error: %s\n", r.name, r.firstErr)
		}
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
