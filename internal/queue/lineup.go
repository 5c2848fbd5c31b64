package queue

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Lineups answer "how many are ahead of me" without counting in the
// store on every ticket read: each (center, sector, day) keeps the calling
// order of its waiting tickets in memory, loaded from the store and kept
// exact by this server's own takes, calls and transfers as they happen.
// A change made by another server (several servers share one MongoDB)
// shows within lineupAge, when the lineup is loaded again.
//
// A count in the store is linear in the people ahead (hundreds in a
// morning rush) on every take and every status read; a lookup here is a
// binary search.

// lineupAge is how long a loaded lineup is trusted before it is loaded
// again from the store: how late another server's changes may show.
const lineupAge = 5 * time.Second

// lineupLimit caps how many waiting tickets of one sector a lineup loads.
const lineupLimit = 100_000

// posKey orders waiting tickets as ClaimNext calls them (without the
// anti-starvation rule) and as CountAhead counts them.
type posKey struct {
	rank  int
	taken int64 // Unix milliseconds
	seq   int
	id    string
}

func keyOf(t Ticket) posKey {
	return posKey{rank: t.Priority.Rank(), taken: t.TakenAt.UnixMilli(), seq: t.Seq, id: t.ID}
}

func (a posKey) compare(b posKey) int {
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	if c := cmp.Compare(a.taken, b.taken); c != 0 {
		return c
	}
	if c := cmp.Compare(a.seq, b.seq); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// lineup is one sector's waiting tickets of one day, in calling order.
type lineup struct {
	mu     sync.Mutex
	keys   []posKey
	loaded time.Time // zero until the first load
	// loading is set while a load runs; changes made meanwhile are also
	// kept in pending, to be replayed over what the load read.
	loading bool
	pending []lineupChange
	ready   chan struct{} // closed when the first load ends
}

type lineupChange struct {
	add bool
	key posKey
}

func (l *lineup) apply(c lineupChange) {
	i, found := slices.BinarySearchFunc(l.keys, c.key, posKey.compare)
	switch {
	case c.add && !found:
		l.keys = slices.Insert(l.keys, i, c.key)
	case !c.add && found:
		l.keys = slices.Delete(l.keys, i, i+1)
	}
}

// lineups holds the lineups of every (center, sector) of the latest day
// in use; a new day starts afresh.
type lineups struct {
	mu  sync.Mutex
	day string
	m   map[string]*lineup
}

func lineupKey(center, sector, day string) string { return center + "|" + sector + "|" + day }

// get returns the lineup of center, sector and day, or nil for a day
// before the latest (a ticket left waiting yesterday is counted in the
// store instead).
func (ls *lineups) get(center, sector, day string) *lineup {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	switch {
	case day < ls.day:
		return nil
	case day > ls.day || ls.m == nil:
		ls.day, ls.m = day, map[string]*lineup{}
	}
	k := lineupKey(center, sector, day)
	l, ok := ls.m[k]
	if !ok {
		l = &lineup{ready: make(chan struct{})}
		ls.m[k] = l
	}
	return l
}

// change records a ticket entering (add) or leaving a sector's waiting
// line, if that lineup is in memory.
func (ls *lineups) change(t Ticket, add bool) {
	ls.mu.Lock()
	l := ls.m[lineupKey(t.Center, t.Sector, t.Day)]
	ls.mu.Unlock()
	if l == nil {
		return
	}
	c := lineupChange{add: add, key: keyOf(t)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.loading {
		l.pending = append(l.pending, c)
	}
	if !l.loaded.IsZero() {
		l.apply(c)
	}
}

// ahead counts the waiting tickets of t's sector called before t.
func (s *Service) ahead(ctx context.Context, t Ticket) (int, error) {
	l := s.lineups.get(t.Center, t.Sector, t.Day)
	if l == nil {
		return s.store.CountAhead(ctx, t)
	}
	if err := s.refresh(ctx, l, t); err != nil {
		// The store answers directly, as it would without lineups.
		return s.store.CountAhead(ctx, t)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Ahead are the tickets strictly before t in rank, take time and
	// number, as the store counts: a ticket transferred in with the same
	// take time and number (of another sector) is not ahead.
	k := keyOf(t)
	k.id = ""
	i, _ := slices.BinarySearchFunc(l.keys, k, posKey.compare)
	return i, nil
}

// refresh loads l from the store if it was never loaded or is older than
// lineupAge; only one load runs at a time, and while it runs the others
// use what l has (or wait for it, the first time).
func (s *Service) refresh(ctx context.Context, l *lineup, t Ticket) error {
	now := time.Now()
	l.mu.Lock()
	if !l.loaded.IsZero() && (now.Sub(l.loaded) < lineupAge || l.loading) {
		l.mu.Unlock()
		return nil
	}
	if l.loading { // the first load, by someone else
		ready := l.ready
		l.mu.Unlock()
		select {
		case <-ready:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.loaded.IsZero() {
			return errLineupNotLoaded
		}
		return nil
	}
	l.loading, l.pending = true, nil
	l.mu.Unlock()

	waiting, err := s.store.Waiting(ctx, t.Center, t.Day, t.Sector, lineupLimit)
	keys := make([]posKey, len(waiting))
	for i, w := range waiting {
		keys[i] = keyOf(w)
	}
	slices.SortFunc(keys, posKey.compare)

	l.mu.Lock()
	defer l.mu.Unlock()
	first := l.loaded.IsZero()
	l.loading = false
	if err == nil {
		l.keys = keys
		for _, c := range l.pending {
			l.apply(c)
		}
		l.loaded = now
	}
	l.pending = nil
	if first {
		close(l.ready)
		if err != nil {
			l.ready = make(chan struct{}) // the next reader tries again
		}
	}
	return err
}

// errLineupNotLoaded: the first load of a lineup, run by another request, failed.
var errLineupNotLoaded = errors.New("queue: lineup not loaded")
