package queue_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// TestLineupMatchesStore checks the people-ahead counts the service gives
// from its in-memory lineups against the store's own count, after every
// step of a random morning of takes (all priorities), calls at windows
// serving different sectors, transfers and completions.
func TestLineupMatchesStore(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	rng := rand.New(rand.NewPCG(7, 7))
	var desks []queue.Window
	for _, w := range []struct {
		name    string
		sectors []string
	}{{"1号窗口", []string{"tax"}}, {"2号窗口", []string{"business"}}, {"3号窗口", []string{"tax", "business"}}} {
		desks = append(desks, h.openWindow(t, w.name, "st-"+w.name, w.sectors...))
	}
	priorities := []queue.Priority{queue.PriorityNone, queue.PriorityNone, queue.PriorityNone, queue.PriorityElderly, queue.PriorityGreen, queue.PriorityPregnant}
	sectors := []string{"tax", "business"}
	var tickets []string
	called := map[string]queue.Window{} // ticket → window it is called to
	check := func(step int) {
		t.Helper()
		for _, id := range tickets {
			p, err := h.svc.Ticket(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if p.Ticket.Status != queue.StatusWaiting {
				continue
			}
			want, err := h.store.CountAhead(ctx, p.Ticket)
			if err != nil {
				t.Fatal(err)
			}
			if p.Ahead != want {
				t.Fatalf("step %d: %s (%s, %s) has %d ahead, the store counts %d", step, p.Ticket.Number, p.Ticket.Sector, p.Ticket.Priority, p.Ahead, want)
			}
		}
	}
	for step := range 300 {
		switch op := rng.IntN(10); {
		case op < 5:
			p, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: sectors[rng.IntN(2)], Channel: queue.ChannelKiosk, Priority: priorities[rng.IntN(len(priorities))]})
			if err != nil {
				t.Fatal(err)
			}
			if want, _ := h.store.CountAhead(ctx, p.Ticket); p.Ahead != want {
				t.Fatalf("step %d: new ticket %s has %d ahead, the store counts %d", step, p.Ticket.Number, p.Ahead, want)
			}
			tickets = append(tickets, p.Ticket.ID)
		case op < 8:
			w := desks[rng.IntN(len(desks))]
			busy := false
			for _, at := range called {
				busy = busy || at.ID == w.ID
			}
			if busy {
				continue
			}
			tk, _, err := h.svc.CallNext(ctx, "hm", "st-"+w.Name, w.ID)
			if apperr.Is(err, queue.CodeQueueEmpty) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			called[tk.ID] = w
		default:
			for id, w := range called {
				a, to := queue.ActionComplete, ""
				if rng.IntN(2) == 0 {
					p, _ := h.svc.Ticket(ctx, id)
					a, to = queue.ActionTransfer, sectors[0]
					if p.Ticket.Sector == to {
						to = sectors[1]
					}
				}
				if _, err := h.svc.Act(ctx, "hm", "st-"+w.Name, w.ID, id, a, to); err != nil {
					t.Fatal(err)
				}
				delete(called, id)
				break
			}
		}
		check(step)
	}
}
