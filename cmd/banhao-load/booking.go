package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/banhao/banhao/internal/queue"
)

const opBook = "booking attempt (mp)"

// slotView is a slot as the mini-program lists it.
type slotView struct {
	Start     time.Time `json:"start"`
	Capacity  int       `json:"capacity"`
	Booked    int       `json:"booked"`
	Available int       `json:"available"`
	Open      bool      `json:"open"`
}

// booking is the release of appointment places (放号): users, logged in
// and real-name bound beforehand, wait for the moment one slot opens with
// few places, then all book it at once. The server must give out exactly
// the places there are, quickly, and to nobody twice.
func booking(ctx context.Context, o options, cpu *cpuProbe, out io.Writer) ([]result, []check, error) {
	if o.adminPassword == "" {
		return nil, nil, errors.New("booking needs an administrator to set the slot's places: give -admin-password " +
			"(or BANHAO_LOAD_ADMIN_PASSWORD); a development server prints the demo administrator's password at its first start, " +
			"and `go run ./cmd/banhao admin create` makes one")
	}
	a := newAPI(o.url, o.clients)
	sectors, err := listSectors(ctx, a, o.center)
	if err != nil {
		return nil, nil, err
	}
	sector := o.sector
	if sector == "" {
		sector = sectors[0]
	}
	admin, err := staffLogin(ctx, a, o.admin, o.adminPassword, out)
	if err != nil {
		return nil, nil, err
	}
	if admin.center != o.center {
		return nil, nil, fmt.Errorf("the administrator %s belongs to center %q, not %q: pass -center %s", o.admin, admin.center, o.center, admin.center)
	}
	today, err := serverDay(ctx, a, o.center)
	if err != nil {
		return nil, nil, err
	}

	all, setup := loginCitizens(ctx, a, cpu, newRunID(), o.users, o.clients, true, randomIDBase(), out)
	var tokens []string
	for _, t := range all {
		if t != "" {
			tokens = append(tokens, t)
		}
	}
	if len(tokens) == 0 {
		return setup, nil, errors.New("no user could log in and bind a real name (is it a development server, BANHAO_DEV=true?)")
	}
	if len(tokens) < o.users {
		fmt.Fprintf(out, "only %d of %d users are ready; the release goes on with them\n", len(tokens), o.users)
	}

	date, slot, err := freshSlot(ctx, a, tokens[0], o.center, sector, today)
	if err != nil {
		return setup, nil, err
	}
	var set slotView
	if err := a.call(ctx, http.MethodPut, "/api/v1/staff/slots/capacity", admin.token,
		map[string]any{"sector": sector, "start": slot.Start, "capacity": o.places}, &set); err != nil {
		return setup, nil, fmt.Errorf("set the slot's places: %w", err)
	}
	if set.Capacity != o.places || set.Booked != 0 {
		return setup, nil, fmt.Errorf("the slot has %d places and %d booked after setting %d places", set.Capacity, set.Booked, o.places)
	}
	fmt.Fprintf(out, "release: %d users book %s %s %s (%d places) over %d connections\n",
		len(tokens), o.center, sector, slot.Start.Format("2006-01-02 15:04"), o.places, o.clients)
	warm(ctx, a, o.clients)

	book := newMeter(opBook)
	var ready, answered sync.WaitGroup
	release := make(chan struct{})
	var mu sync.Mutex
	var last time.Time
	body := map[string]any{"center": o.center, "sector": sector, "start": slot.Start}
	for _, tok := range tokens {
		ready.Add(1)
		answered.Add(1)
		go func() {
			defer answered.Done()
			ready.Done()
			<-release
			t0 := time.Now()
			err := a.call(ctx, http.MethodPost, "/api/v1/mp/appointments", tok, body, nil)
			if c := codeOf(err); c == string(queue.CodeSlotFull) {
				err = tally(c)
			}
			end := time.Now()
			book.observe(end.Sub(t0), err)
			mu.Lock()
			if end.After(last) {
				last = end
			}
			mu.Unlock()
		}()
	}
	ready.Wait()
	before := cpu.sample(ctx)
	start := time.Now()
	close(release)
	answered.Wait()
	r := book.result(start, last)
	r.phase, r.cpu = "release", splitCPU(before, cpu.sample(ctx), time.Since(start))

	after, err := slotAt(ctx, a, tokens[0], o.center, sector, date, slot.Start)
	if err != nil {
		return append(setup, r), nil, fmt.Errorf("read the slot back: %w", err)
	}
	wall := r.elapsed
	full := r.tallies[string(queue.CodeSlotFull)]
	fmt.Fprintf(out, "release: %d attempts answered in %s (%.0f answers/s): %d booked, %d slot_full, %d other errors; the slot shows %d of %d places booked\n",
		len(tokens), round(wall), float64(len(tokens))/wall.Seconds(), r.ok, full, r.fails, after.Booked, after.Capacity)
	want := min(o.places, len(tokens))
	cs := []check{
		{target: fmt.Sprintf("exactly %d booked", want), pass: r.ok == int64(want) && after.Booked == want && r.fails == 0,
			got: fmt.Sprintf("%d answered 201, slot shows %d booked, %d slot_full, %d other errors", r.ok, after.Booked, full, r.fails)},
		{target: fmt.Sprintf("%d attempts resolved in < 2s", len(tokens)), pass: wall < 2*time.Second && r.ok+full+r.fails == int64(len(tokens)),
			got: round(wall).String()},
	}
	return append(setup, r), cs, nil
}

// freshSlot returns the first open slot with nothing booked in the next
// seven days of the server's calendar (today's slots may start during
// the run), and its date.
func freshSlot(ctx context.Context, a *api, token, center, sector string, today time.Time) (string, slotView, error) {
	for d := 1; d <= 7; d++ {
		date := today.AddDate(0, 0, d).Format(time.DateOnly)
		slots, err := daySlots(ctx, a, token, center, sector, date)
		if err != nil {
			return "", slotView{}, err
		}
		for _, s := range slots {
			if s.Open && s.Booked == 0 {
				return date, s, nil
			}
		}
	}
	return "", slotView{}, fmt.Errorf("no open slot without bookings in %s %s in the next 7 days", center, sector)
}

func daySlots(ctx context.Context, a *api, token, center, sector, date string) ([]slotView, error) {
	var v struct {
		Items []slotView `json:"items"`
	}
	q := url.Values{"center": {center}, "sector": {sector}, "date": {date}}
	if err := a.call(ctx, http.MethodGet, "/api/v1/mp/slots?"+q.Encode(), token, nil, &v); err != nil {
		return nil, fmt.Errorf("list slots: %w", err)
	}
	return v.Items, nil
}

// slotAt reads one slot back.
func slotAt(ctx context.Context, a *api, token, center, sector, date string, start time.Time) (slotView, error) {
	slots, err := daySlots(ctx, a, token, center, sector, date)
	if err != nil {
		return slotView{}, err
	}
	for _, s := range slots {
		if s.Start.Equal(start) {
			return s, nil
		}
	}
	return slotView{}, fmt.Errorf("slot %s is gone", start)
}

// warm opens n connections at once before a release, so that the release
// measures the server, not TCP handshakes.
func warm(ctx context.Context, a *api, n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = a.call(ctx, http.MethodGet, "/healthz", "", nil, nil)
		}()
	}
	wg.Wait()
}
