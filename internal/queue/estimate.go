package queue

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Wait estimates (预计等候时间): people ahead × the sector's learned
// service time ÷ the open windows serving it.

// DefaultServiceTime is assumed for a sector until it has completed
// MinServiceSamples tickets.
const DefaultServiceTime = 10 * time.Minute

// MinServiceSamples is how many completed tickets a sector needs before
// its own service time is used.
const MinServiceSamples = 5

// serviceSamples is how many of a sector's latest completions the
// estimate learns from, and serviceHorizon how far back it looks.
const (
	serviceSamples = 30
	serviceHorizon = 14 * 24 * time.Hour
)

// ServiceTime estimates one person's service from recent service times:
// their mean without the outliers, those under a fifth or over three
// times the median (a misclick of a second, a "complete" forgotten for an
// hour), so that the long tail of service times that makes the mean
// longer than the median still counts; DefaultServiceTime below
// MinServiceSamples.
func ServiceTime(samples []time.Duration) time.Duration {
	if len(samples) < MinServiceSamples {
		return DefaultServiceTime
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	median := s[len(s)/2]
	var sum time.Duration
	n := 0
	for _, d := range s {
		if d < median/5 || d > 3*median {
			continue
		}
		sum += d
		n++
	}
	return sum / time.Duration(n)
}

// EstimateWait is the expected wait of a ticket with ahead people before
// it at open windows each taking service per person: the people ahead
// leave one every service/open, and then the ticket waits for a window
// to free, half a service on average — (ahead + ½) × service ÷ open. The
// first in line is shown no wait: it is called at the next free window.
// With no window open the caller counts the windows that serve the sector
// at all (they will open); with none, one.
func EstimateWait(ahead int, service time.Duration, open int) time.Duration {
	if ahead <= 0 {
		return 0
	}
	return time.Duration(2*ahead+1) * service / time.Duration(2*max(1, open))
}

// cache keeps values per key for a short time; a zero cache is ready to use.
type cache[V any] struct {
	mu sync.Mutex
	m  map[string]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

// get returns the value of key if it was loaded within maxAge, else loads it.
func (c *cache[V]) get(key string, now time.Time, maxAge time.Duration, load func() (V, error)) (V, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < maxAge && now.Sub(e.at) >= 0 {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cached[V]{}
	}
	c.m[key] = cached[V]{v: v, at: now}
	c.mu.Unlock()
	return v, nil
}

func (c *cache[V]) drop(key string) {
	c.mu.Lock()
	delete(c.m, key)
	c.mu.Unlock()
}

// Cache ages: windows change at sign-in and out, service times slowly.
const (
	windowCacheAge  = 2 * time.Second
	serviceCacheAge = time.Minute
)

// estimate fills p's wait and windows.
func (s *Service) estimate(ctx context.Context, p *Position) error {
	t := p.Ticket
	now := s.now()
	ws, err := s.windows.get(t.Center, now, windowCacheAge, func() ([]Window, error) { return s.store.ListWindows(ctx, t.Center) })
	if err != nil {
		return err
	}
	names, open, all := windowsFor(ws, t.Sector)
	p.Windows = names
	if t.Status != StatusWaiting {
		return nil
	}
	svc, err := s.services.get(t.Center+"|"+t.Sector, now, serviceCacheAge, func() (time.Duration, error) {
		samples, err := s.store.ServiceTimes(ctx, t.Center, t.Sector, now.Add(-serviceHorizon), serviceSamples)
		return ServiceTime(samples), err
	})
	if err != nil {
		return err
	}
	if open == 0 {
		open = all
	}
	p.Wait = EstimateWait(p.Ahead, svc, open)
	return nil
}

// Minutes is a wait in whole minutes, rounded up, as tickets show it.
func Minutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }
