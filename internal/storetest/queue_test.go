package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// TestQueueStore is the contract of queue.Store.
func TestQueueStore(t *testing.T) {
	runContract(t, func(s stores) queue.Store { return s.queue }, queueScenarios)
}

var queueScenarios = []scenario[queue.Store]{
	{"a taken ticket reads back equal, numbered from 1", testTakeGet},
	{"unknown ticket is not found", testTicketNotFound},
	{"numbers count per center, sector and day", testTicketCounters},
	{"concurrent takes get numbers 1..n, each once", testTakeRace},
	{"a holder has one active ticket per sector and day; a refusal uses no number", testHolderOneActive},
	{"concurrent takes by one holder: one ticket, one number used", testHolderRace},
	{"calling order: green, appointment, elderly, none; first come first within a rank", testClaimOrder},
	{"a ticket waiting since before starveBefore is called first, oldest first", testClaimStarved},
	{"a window is called only its sectors' tickets, of its center and day", testClaimSectors},
	{"concurrent calls at many windows call every ticket exactly once", testClaimRace},
	{"count ahead counts the waiting tickets called before, in the sector", testCountAhead},
	{"windows are created, read back and listed by name per center", testWindows},
	{"a window name is unique within its center only", testWindowDuplicate},
	{"move: a recall at the window stays called, counts a call and records its time", testMoveRecall},
	{"move: at another window or from another status is refused and changes nothing", testMoveRefused},
	{"move: done from called; done again is refused", testMoveDone},
	{"move: park and resume at the same window", testMovePark},
	{"move: a transfer waits in the new sector with its number and take time", testMoveTransfer},
	{"move: unknown ticket is not found", testMoveNotFound},
	{"move: of concurrent moves of one called ticket to done exactly one succeeds", testMoveRace},
	{"a parked ticket still holds its holder's place; a done one frees it", testHolderParkedDone},
	{"a transferred ticket holds its holder's place in its new sector, not its old one", testHolderTransfer},
	{"recent calls: newest call first, ties by seq, limited, of the center and day only", testRecentCalls},
	{"waiting counts per sector of the center and day", testWaitingCounts},
	{"has active ticket: waiting, called or parked in that sector and day only", testHasActiveTicket},
	{"sign window: a clerk signs in to a closed window only, and out again", testSignWindow},
	{"sign window: of concurrent sign-ins to one window exactly one succeeds", testSignWindowRace},
	{"service times: done tickets of the sector since a time, newest first, limited", testServiceTimes},
	{"waiting: a sector's waiting tickets in calling order, limited", testWaiting},
	{"ticket by number: by center, sector taken in, day and number", testTicketByNumber},
	{"reactivate: a missed ticket waits again at the end of the line, once", testReactivate},
	{"at window: the tickets called or parked at a window, earliest call first", testAtWindow},
	{"priority: a declared priority reads back; a confirmed one moves the ticket up", testPriorityChange},
	{"transfer into a sector where the holder has a ticket is refused and changes nothing", testTransferRefused},
	{"a transfer and a take racing into one sector: the holder ends with one ticket there", testTransferTakeRace},
	{"matters served are recorded on completion and read back", testMattersServed},
	{"served tickets: a holder's done tickets since a time, in any center, latest first, limited", testServedTickets},
}

func testServedTickets(t *testing.T, s queue.Store) {
	ctx := t.Context()
	serve := func(id, center, sector, holder string, finished time.Time, done bool) {
		t.Helper()
		tk := ticket(id, sector, queue.PriorityNone, finished.Add(-time.Hour))
		tk.Center, tk.Holder = center, holder
		called(t, s, tk, "w-"+center, finished.Add(-10*time.Minute))
		if done {
			move(t, s, id, []queue.Status{queue.StatusCalled}, "w-"+center, queue.Change{Status: queue.StatusDone, FinishedAt: finished})
		}
	}
	serve("a", "c1", "tax", "id:alice", at, true)
	serve("b", "c2", "tax", "id:alice", at.Add(2*time.Hour), true)
	serve("c", "c1", "business", "id:alice", at.Add(time.Hour), true)
	serve("d", "c1", "housing", "id:bob", at.Add(3*time.Hour), true)
	// Called, not done: not served.
	serve("e", "c1", "social", "id:alice", at.Add(4*time.Hour), false)
	// A walk-in without a card is nobody's.
	serve("f", "c1", "fund", "", at.Add(5*time.Hour), true)

	ids := func(list []queue.Ticket) string {
		out := make([]string, len(list))
		for i, tk := range list {
			out[i] = tk.ID
		}
		return strings.Join(out, ",")
	}
	got, err := s.ServedTickets(ctx, "id:alice", at, 10)
	must(t, "served tickets", err)
	if ids(got) != "b,c,a" {
		t.Errorf("alice's served tickets %s, want b,c,a", ids(got))
	}
	if len(got) > 0 && (got[0].Center != "c2" || got[0].Status != queue.StatusDone || !got[0].FinishedAt.Equal(stored(at.Add(2*time.Hour)))) {
		t.Errorf("served ticket read back: %+v", got[0])
	}
	got, err = s.ServedTickets(ctx, "id:alice", at.Add(30*time.Minute), 10)
	must(t, "served tickets since", err)
	if ids(got) != "b,c" {
		t.Errorf("alice's served tickets since +30m %s, want b,c", ids(got))
	}
	got, err = s.ServedTickets(ctx, "id:alice", at, 1)
	must(t, "served tickets limited", err)
	if ids(got) != "b" {
		t.Errorf("alice's served tickets limit 1 %s, want b", ids(got))
	}
	got, err = s.ServedTickets(ctx, "", at, 10)
	must(t, "served tickets of nobody", err)
	if len(got) != 0 {
		t.Errorf("nobody's served tickets: %s", ids(got))
	}
}

func testMattersServed(t *testing.T, s queue.Store) {
	called(t, s, ticket("a", "tax", queue.PriorityNone, at), "w1", at.Add(time.Minute))
	if got := getTicket(t, s, "a"); got.Matters != nil {
		t.Errorf("matters before completion: %#v, want none", got.Matters)
	}
	got := move(t, s, "a", fromCalled, "w1", queue.Change{Status: queue.StatusDone, Matters: []string{"m-1", "m-2"}})
	if !reflect.DeepEqual(got.Matters, []string{"m-1", "m-2"}) {
		t.Errorf("matters on completion: %#v", got.Matters)
	}
	called(t, s, ticket("b", "tax", queue.PriorityNone, at), "w1", at.Add(2*time.Minute))
	if got := move(t, s, "b", fromCalled, "w1", queue.Change{Status: queue.StatusDone, Matters: []string{}}); got.Matters != nil {
		t.Errorf("no matters served reads back as %#v, want none", got.Matters)
	}
}

func testTransferRefused(t *testing.T, s queue.Store) {
	held := func(id, sector string) queue.Ticket {
		tk := ticket(id, sector, queue.PriorityNone, at)
		tk.Holder = "citizen:cz1"
		return tk
	}
	take(t, s, held("b1", "business"))
	called(t, s, held("t1", "tax"), "w1", at.Add(time.Minute))
	wantMoveRefused(t, s, "transfer to where the holder waits", "t1", fromCalled, "w1",
		queue.Change{Status: queue.StatusWaiting, Sector: "business", ClearWindow: true, At: at.Add(2 * time.Minute)}, queue.CodeActiveTicket)
	// The refusal left nothing behind: once the other ticket is gone the
	// transfer goes through.
	if _, err := s.ClaimNext(t.Context(), "c1", qDay, []string{"business"}, "w2", at.Add(3*time.Minute), time.Time{}); err != nil {
		t.Fatal(err)
	}
	move(t, s, "b1", fromCalled, "w2", queue.Change{Status: queue.StatusDone})
	got := move(t, s, "t1", fromCalled, "w1", queue.Change{Status: queue.StatusWaiting, Sector: "business", ClearWindow: true, At: at.Add(4 * time.Minute)})
	if got.Sector != "business" || got.Status != queue.StatusWaiting {
		t.Errorf("transfer after the other ticket is done: %+v", got)
	}
}

func testTransferTakeRace(t *testing.T, s queue.Store) {
	ctx := t.Context()
	rounds := ferretScale(t, 20, 8)
	for r := range rounds {
		holder := fmt.Sprintf("citizen:race%d", r)
		tk := ticket(fmt.Sprintf("r%d-tax", r), "tax", queue.PriorityNone, at)
		tk.Holder = holder
		take(t, s, tk)
		if _, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", at.Add(time.Minute), time.Time{}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var moveErr, takeErr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, moveErr = s.MoveTicket(ctx, tk.ID, fromCalled, "w1", queue.Change{Status: queue.StatusWaiting, Sector: "business", ClearWindow: true, At: at.Add(2 * time.Minute)})
		}()
		go func() {
			defer wg.Done()
			nt := ticket(fmt.Sprintf("r%d-biz", r), "business", queue.PriorityNone, at.Add(2*time.Minute))
			nt.Holder = holder
			_, takeErr = s.TakeTicket(ctx, nt, "B")
		}()
		wg.Wait()
		for _, err := range []error{moveErr, takeErr} {
			if err != nil && apperr.CodeOf(err) != queue.CodeActiveTicket {
				t.Fatalf("round %d: %v", r, err)
			}
		}
		if has, err := s.HasActiveTicket(ctx, "c1", "business", qDay, holder); err != nil || !has {
			t.Fatalf("round %d: the holder has no ticket in business (move %v, take %v)", r, moveErr, takeErr)
		}
		if moveErr == nil && takeErr == nil {
			t.Fatalf("round %d: both the transfer and the take put the holder in business", r)
		}
		// Leave no waiting ticket behind for the next round's claim.
		for {
			c, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax", "business"}, "w9", at.Add(time.Hour), time.Time{})
			if apperr.Is(err, apperr.NotFound) {
				break
			}
			must(t, "claim", err)
			move(t, s, c.ID, fromCalled, "w9", queue.Change{Status: queue.StatusDone})
		}
		if moveErr != nil {
			move(t, s, tk.ID, fromCalled, "w1", queue.Change{Status: queue.StatusDone})
		}
	}
}

func testPriorityChange(t *testing.T, s queue.Store) {
	ctx := t.Context()
	take(t, s, ticket("a", "tax", queue.PriorityNone, at))
	d := ticket("b", "tax", queue.PriorityNone, at.Add(time.Minute))
	d.Declared = queue.PriorityDisabled
	if got := take(t, s, d); got.Declared != queue.PriorityDisabled {
		t.Errorf("declared on take: %+v", got)
	}
	if got := getTicket(t, s, "b"); got.Declared != queue.PriorityDisabled || got.Priority != queue.PriorityNone {
		t.Errorf("declared read back: %+v", got)
	}
	got := move(t, s, "b", []queue.Status{queue.StatusWaiting}, "", queue.Change{Priority: queue.PriorityDisabled, ClearDeclared: true})
	if got.Priority != queue.PriorityDisabled || got.Declared != "" {
		t.Errorf("confirmed: %+v", got)
	}
	if n, err := s.CountAhead(ctx, got); err != nil || n != 0 {
		t.Errorf("ahead of the confirmed ticket: %d %v", n, err)
	}
	if ids := claimAll(t, s, []string{"tax"}, "w1", time.Time{}); !reflect.DeepEqual(ids, []string{"b", "a"}) {
		t.Errorf("calling order after confirming b: %v", ids)
	}
}

func testAtWindow(t *testing.T, s queue.Store) {
	ctx := t.Context()
	called(t, s, ticket("a", "tax", queue.PriorityNone, at), "w1", at.Add(2*time.Minute))
	called(t, s, ticket("b", "tax", queue.PriorityNone, at), "w1", at.Add(time.Minute))
	move(t, s, "b", []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusParked})
	called(t, s, ticket("c", "tax", queue.PriorityNone, at), "w2", at.Add(3*time.Minute))
	called(t, s, ticket("d", "tax", queue.PriorityNone, at), "w1", at.Add(4*time.Minute))
	move(t, s, "d", []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusDone})
	take(t, s, ticket("e", "tax", queue.PriorityNone, at))
	got, err := s.AtWindow(ctx, "c1", qDay, "w1")
	must(t, "at window", err)
	var ids []string
	for _, tk := range got {
		ids = append(ids, tk.ID+":"+string(tk.Status))
	}
	if want := []string{"b:parked", "a:called"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("at w1: %v, want %v", ids, want)
	}
	if got, _ := s.AtWindow(ctx, "c1", qDay, "w9"); len(got) != 0 {
		t.Errorf("at an idle window: %+v", got)
	}
}

func testTicketByNumber(t *testing.T, s queue.Store) {
	ctx := t.Context()
	a := take(t, s, ticket("a", "tax", queue.PriorityNone, at))
	take(t, s, ticket("b", "tax", queue.PriorityNone, at))
	other := ticket("c", "tax", queue.PriorityNone, at)
	other.Day = "2025-03-15"
	take(t, s, other)
	got, err := s.TicketByNumber(ctx, "c1", "tax", qDay, 1)
	must(t, "ticket by number", err)
	if !reflect.DeepEqual(got, a) {
		t.Errorf("ticket 1:\n got %+v\nwant %+v", got, a)
	}
	if got, _ := s.TicketByNumber(ctx, "c1", "tax", "2025-03-15", 1); got.ID != "c" {
		t.Errorf("ticket 1 of the next day is %q, want c", got.ID)
	}
	// A transfer keeps the number of the sector it was taken in.
	called(t, s, ticket("d", "business", queue.PriorityNone, at), "w1", at.Add(time.Minute))
	move(t, s, "d", []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusWaiting, Sector: "tax", ClearWindow: true})
	if got, _ := s.TicketByNumber(ctx, "c1", "business", qDay, 1); got.ID != "d" || got.Sector != "tax" {
		t.Errorf("transferred ticket by its number: %+v", got)
	}
	for _, tt := range []struct {
		center, sector, day string
		seq                 int
	}{{"c1", "tax", qDay, 9}, {"c2", "tax", qDay, 1}, {"c1", "social", qDay, 1}, {"c1", "tax", "2025-03-13", 1}} {
		_, err := s.TicketByNumber(ctx, tt.center, tt.sector, tt.day, tt.seq)
		wantCode(t, fmt.Sprintf("ticket %+v", tt), err, apperr.NotFound)
	}
}

func testReactivate(t *testing.T, s queue.Store) {
	tk := called(t, s, ticket("a", "tax", queue.PriorityNone, at), "w1", at.Add(time.Minute))
	move(t, s, tk.ID, []queue.Status{queue.StatusCalled}, "w1", queue.Change{CalledAt: at.Add(2 * time.Minute), Call: true})
	move(t, s, tk.ID, []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusMissed})
	back := at.Add(10 * time.Minute)
	got := move(t, s, tk.ID, []queue.Status{queue.StatusMissed}, "", queue.Change{Status: queue.StatusWaiting, ClearWindow: true, Reactivate: back})
	if got.Status != queue.StatusWaiting || !got.Reactivated || got.Calls != 0 || !got.TakenAt.Equal(stored(back)) || got.Window != "" || got.Number != "A001" {
		t.Errorf("reactivated: %+v", got)
	}
	// Behind a ticket taken before the reactivation.
	take(t, s, ticket("b", "tax", queue.PriorityNone, at.Add(5*time.Minute)))
	if n, err := s.CountAhead(t.Context(), got); err != nil || n != 1 {
		t.Errorf("ahead of the reactivated ticket: %d %v, want 1", n, err)
	}
	claimAll(t, s, []string{"tax"}, "w1", time.Time{})
	move(t, s, tk.ID, []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusMissed})
	wantMoveRefused(t, s, "reactivate twice", tk.ID, []queue.Status{queue.StatusMissed}, "", queue.Change{Status: queue.StatusWaiting, Reactivate: back.Add(time.Minute)}, queue.CodeTicketMoved)
}

func testSignWindow(t *testing.T, s queue.Store) {
	ctx := t.Context()
	must(t, "create window", s.CreateWindow(ctx, queue.Window{ID: "w1", Center: "c1", Name: "1号窗口", Sectors: []string{"tax"}, CreatedAt: at}))
	w, err := s.SignWindow(ctx, "w1", "", "st-alice", at.Add(time.Minute))
	must(t, "sign in", err)
	if w.Staff != "st-alice" || !w.Open() || !w.OpenedAt.Equal(stored(at.Add(time.Minute))) {
		t.Errorf("signed in: %+v", w)
	}
	if got, _ := s.GetWindow(ctx, "w1"); got.Staff != "st-alice" || !got.OpenedAt.Equal(w.OpenedAt) || got.OpenedAt.Location() != time.UTC {
		t.Errorf("read back: %+v", got)
	}
	_, err = s.SignWindow(ctx, "w1", "", "st-bob", at.Add(2*time.Minute))
	wantCode(t, "sign in to a taken window", err, queue.CodeWindowTaken)
	_, err = s.SignWindow(ctx, "w1", "st-bob", "", at.Add(2*time.Minute))
	wantCode(t, "sign out someone else", err, queue.CodeWindowTaken)
	if got, _ := s.GetWindow(ctx, "w1"); got.Staff != "st-alice" {
		t.Errorf("refused sign-ins changed the window: %+v", got)
	}
	w, err = s.SignWindow(ctx, "w1", "st-alice", "", at.Add(3*time.Minute))
	must(t, "sign out", err)
	if w.Open() || !w.OpenedAt.IsZero() {
		t.Errorf("signed out: %+v", w)
	}
	if got, _ := s.GetWindow(ctx, "w1"); got.Open() || !got.OpenedAt.IsZero() {
		t.Errorf("signed out, read back: %+v", got)
	}
	_, err = s.SignWindow(ctx, "nope", "", "st-alice", at)
	wantCode(t, "sign in to an unknown window", err, apperr.NotFound)
}

func testSignWindowRace(t *testing.T, s queue.Store) {
	ctx := t.Context()
	must(t, "create window", s.CreateWindow(ctx, queue.Window{ID: "w1", Center: "c1", Name: "1号窗口", Sectors: []string{"tax"}, CreatedAt: at}))
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.SignWindow(ctx, "w1", "", fmt.Sprintf("st%02d", i), at)
		}()
	}
	wg.Wait()
	won := ""
	for i, err := range errs {
		switch {
		case err == nil:
			if won != "" {
				t.Fatalf("two clerks signed in to one window: %s and st%02d", won, i)
			}
			won = fmt.Sprintf("st%02d", i)
		case apperr.CodeOf(err) != queue.CodeWindowTaken:
			t.Fatalf("sign in st%02d: %v", i, err)
		}
	}
	if got, _ := s.GetWindow(ctx, "w1"); won == "" || got.Staff != won {
		t.Fatalf("winner %q, window %+v", won, got)
	}
}

func testServiceTimes(t *testing.T, s queue.Store) {
	ctx := t.Context()
	finish := func(id, sector string, calledAt time.Time, took time.Duration) {
		t.Helper()
		called(t, s, ticket(id, sector, queue.PriorityNone, calledAt.Add(-time.Hour)), "w1", calledAt)
		move(t, s, id, []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusDone, FinishedAt: calledAt.Add(took)})
	}
	finish("a", "tax", at, 4*time.Minute)
	finish("b", "tax", at.Add(10*time.Minute), 6*time.Minute)
	finish("c", "tax", at.Add(20*time.Minute), 8*time.Minute)
	finish("d", "business", at.Add(20*time.Minute), 30*time.Minute)
	// Called but not done: not a service time.
	called(t, s, ticket("e", "tax", queue.PriorityNone, at), "w1", at.Add(30*time.Minute))

	if got := getTicket(t, s, "c"); !got.FinishedAt.Equal(stored(at.Add(28 * time.Minute))) {
		t.Errorf("finished at %v, want %v", got.FinishedAt, stored(at.Add(28*time.Minute)))
	}
	got, err := s.ServiceTimes(ctx, "c1", "tax", at, 10)
	must(t, "service times", err)
	if want := []time.Duration{8 * time.Minute, 6 * time.Minute, 4 * time.Minute}; !reflect.DeepEqual(got, want) {
		t.Errorf("service times %v, want %v", got, want)
	}
	got, err = s.ServiceTimes(ctx, "c1", "tax", at.Add(15*time.Minute), 10)
	must(t, "service times since", err)
	if want := []time.Duration{8 * time.Minute, 6 * time.Minute}; !reflect.DeepEqual(got, want) {
		t.Errorf("service times since +15m %v, want %v", got, want)
	}
	got, err = s.ServiceTimes(ctx, "c1", "tax", at, 1)
	must(t, "service times limited", err)
	if want := []time.Duration{8 * time.Minute}; !reflect.DeepEqual(got, want) {
		t.Errorf("service times limit 1 %v, want %v", got, want)
	}
	if got, _ := s.ServiceTimes(ctx, "c2", "tax", at, 10); len(got) != 0 {
		t.Errorf("another center's service times: %v", got)
	}
}

func testWaiting(t *testing.T, s queue.Store) {
	ctx := t.Context()
	called(t, s, ticket("n1", "tax", queue.PriorityNone, at), "w1", at.Add(4*time.Minute))
	take(t, s, ticket("n2", "tax", queue.PriorityNone, at.Add(time.Minute)))
	take(t, s, ticket("e1", "tax", queue.PriorityElderly, at.Add(2*time.Minute)))
	take(t, s, ticket("g1", "tax", queue.PriorityGreen, at.Add(3*time.Minute)))
	take(t, s, ticket("b1", "business", queue.PriorityNone, at))
	ids := func(ts []queue.Ticket) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	got, err := s.Waiting(ctx, "c1", qDay, "tax", 10)
	must(t, "waiting", err)
	if want := []string{"g1", "e1", "n2"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("waiting %v, want %v", ids(got), want)
	}
	got, err = s.Waiting(ctx, "c1", qDay, "tax", 2)
	must(t, "waiting limited", err)
	if want := []string{"g1", "e1"}; !reflect.DeepEqual(ids(got), want) {
		t.Errorf("waiting limit 2 %v, want %v", ids(got), want)
	}
	if got, _ := s.Waiting(ctx, "c1", qDay, "social", 10); len(got) != 0 {
		t.Errorf("waiting in an empty sector: %v", ids(got))
	}
}

func testHasActiveTicket(t *testing.T, s queue.Store) {
	ctx := context.Background()
	at := time.Date(2025, 3, 14, 1, 0, 0, 0, time.UTC)
	tk := ticket("h1", "tax", queue.PriorityNone, at)
	tk.Holder = "id:abc"
	tk = take(t, s, tk)
	has := func(sector, day, holder string) bool {
		t.Helper()
		ok, err := s.HasActiveTicket(ctx, "c1", sector, day, holder)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !has("tax", qDay, "id:abc") {
		t.Fatal("a waiting ticket is not active")
	}
	if has("social", qDay, "id:abc") || has("tax", "2025-03-15", "id:abc") || has("tax", qDay, "id:other") {
		t.Fatal("another sector, day or holder counts as active")
	}
	if _, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", at, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.MoveTicket(ctx, tk.ID, []queue.Status{queue.StatusCalled}, "w1", queue.Change{Status: queue.StatusParked}); err != nil {
		t.Fatal(err)
	}
	if !has("tax", qDay, "id:abc") {
		t.Fatal("a parked ticket is not active")
	}
	if _, err := s.MoveTicket(ctx, tk.ID, []queue.Status{queue.StatusParked}, "w1", queue.Change{Status: queue.StatusDone}); err != nil {
		t.Fatal(err)
	}
	if has("tax", qDay, "id:abc") {
		t.Fatal("a done ticket is still active")
	}
}

const qDay = "2025-03-14"

// ticket is a waiting walk-in ticket of center c1 on qDay.
func ticket(id, sector string, p queue.Priority, taken time.Time) queue.Ticket {
	return queue.Ticket{
		ID: id, Center: "c1", Sector: sector, Day: qDay,
		Channel: queue.ChannelKiosk, Priority: p, Status: queue.StatusWaiting, TakenAt: taken,
	}
}

func take(t *testing.T, s queue.Store, tk queue.Ticket) queue.Ticket {
	t.Helper()
	got, err := s.TakeTicket(t.Context(), tk, "A")
	must(t, "take ticket "+tk.ID, err)
	return got
}

func getTicket(t *testing.T, s queue.Store, id string) queue.Ticket {
	t.Helper()
	got, err := s.GetTicket(t.Context(), id)
	must(t, "get ticket "+id, err)
	return got
}

// claimAll calls tickets at window w until none waits and returns their IDs.
func claimAll(t *testing.T, s queue.Store, sectors []string, w string, starveBefore time.Time) []string {
	t.Helper()
	var ids []string
	for {
		tk, err := s.ClaimNext(t.Context(), "c1", qDay, sectors, w, at.Add(time.Hour), starveBefore)
		if apperr.Is(err, apperr.NotFound) {
			return ids
		}
		must(t, "claim next", err)
		ids = append(ids, tk.ID)
	}
}

// ferretScale scales a race test's ticket count down on the embedded
// FerretDB. FerretDB v1 on SQLite pushes neither the filter nor the sort
// of a findAndModify down, so every ClaimNext reads and sorts the whole
// tickets collection in Go, one command at a time on the test's one
// connection: 500 tickets took some 45 s there, most of the suite's
// minute, and prove nothing 200 do not. SQLite and MongoDB keep the full
// count, and the goroutine counts stay, so the calls still interleave.
func ferretScale(t *testing.T, n, onFerret int) int {
	t.Helper()
	if strings.Contains(t.Name(), "/ferretdb/") {
		return onFerret
	}
	return n
}

func testTakeGet(t *testing.T, s queue.Store) {
	tk := ticket("tk1", "tax", queue.PriorityElderly, at)
	tk.Holder = "citizen:cz1"
	tk.Channel = queue.ChannelMiniProgram
	got := take(t, s, tk)

	want := tk
	want.Seq, want.Number, want.TakenAt = 1, "A001", stored(at)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("take:\n got %+v\nwant %+v", got, want)
	}
	read := getTicket(t, s, "tk1")
	if !reflect.DeepEqual(read, want) {
		t.Errorf("get:\n got %+v\nwant %+v", read, want)
	}
	if read.TakenAt.Location() != time.UTC || read.CalledAt.Location() != time.UTC {
		t.Errorf("times not in UTC: %v, %v", read.TakenAt, read.CalledAt)
	}
	if got := take(t, s, ticket("tk2", "tax", queue.PriorityNone, at)); got.Seq != 2 || got.Number != "A002" {
		t.Errorf("second ticket: seq %d number %q, want 2 A002", got.Seq, got.Number)
	}
}

func testTicketNotFound(t *testing.T, s queue.Store) {
	_, err := s.GetTicket(t.Context(), "no-such-ticket")
	wantCode(t, "get unknown ticket", err, apperr.NotFound)
	take(t, s, ticket("tk1", "tax", queue.PriorityNone, at))
	_, err = s.GetTicket(t.Context(), "tk")
	wantCode(t, "get ticket by a prefix of an ID", err, apperr.NotFound)
}

func testTicketCounters(t *testing.T, s queue.Store) {
	base := ticket("", "tax", queue.PriorityNone, at)
	other := func(id string, f func(*queue.Ticket)) queue.Ticket {
		tk := base
		tk.ID = id
		f(&tk)
		return tk
	}
	steps := []struct {
		tk      queue.Ticket
		wantSeq int
	}{
		{other("t1", func(*queue.Ticket) {}), 1},
		{other("t2", func(*queue.Ticket) {}), 2},
		{other("t3", func(tk *queue.Ticket) { tk.Sector = "social" }), 1},
		{other("t4", func(tk *queue.Ticket) { tk.Day = "2025-03-15" }), 1},
		{other("t5", func(tk *queue.Ticket) { tk.Center = "c2" }), 1},
		{other("t6", func(*queue.Ticket) {}), 3},
		{other("t7", func(tk *queue.Ticket) { tk.Sector = "social" }), 2},
	}
	for _, st := range steps {
		got := take(t, s, st.tk)
		if got.Seq != st.wantSeq {
			t.Errorf("%s (%s/%s/%s): seq %d, want %d", st.tk.ID, st.tk.Center, st.tk.Sector, st.tk.Day, got.Seq, st.wantSeq)
		}
		if want := queue.FormatNumber("A", st.wantSeq); got.Number != want {
			t.Errorf("%s: number %q, want %q", st.tk.ID, got.Number, want)
		}
	}
}

func testTakeRace(t *testing.T, s queue.Store) {
	const n = 1000
	got := make([]queue.Ticket, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.TakeTicket(t.Context(), ticket(fmt.Sprintf("tk%04d", i), "tax", queue.PriorityNone, at), "A")
		})
	}
	close(start)
	wg.Wait()

	seqs := make([]int, 0, n)
	numbers := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("take %d: %v", i, err)
		}
		seqs = append(seqs, got[i].Seq)
		numbers[got[i].Number] = true
		if stored := getTicket(t, s, got[i].ID); stored.Seq != got[i].Seq || stored.Number != got[i].Number {
			t.Errorf("ticket %s: stored %d %s, returned %d %s", got[i].ID, stored.Seq, stored.Number, got[i].Seq, got[i].Number)
		}
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		if seq != i+1 {
			t.Fatalf("sorted seqs[%d] = %d, want %d: numbers repeat or have gaps", i, seq, i+1)
		}
	}
	if len(numbers) != n {
		t.Errorf("%d distinct numbers for %d tickets", len(numbers), n)
	}
	for _, want := range []string{"A001", "A010", "A100", "A999", "A1000"} {
		if !numbers[want] {
			t.Errorf("number %s not given out", want)
		}
	}
}

func testHolderOneActive(t *testing.T, s queue.Store) {
	ctx := t.Context()
	held := func(id string) queue.Ticket {
		tk := ticket(id, "tax", queue.PriorityNone, at)
		tk.Holder = "id:blind-index-1"
		return tk
	}
	take(t, s, held("h1"))

	_, err := s.TakeTicket(ctx, held("h2"), "A")
	wantCode(t, "second waiting ticket of one holder", err, queue.CodeActiveTicket)
	if _, err := s.GetTicket(ctx, "h2"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("refused ticket stored anyway: %v", err)
	}
	if got := take(t, s, ticket("anon1", "tax", queue.PriorityNone, at)); got.Seq != 2 {
		t.Errorf("anonymous ticket after a refusal: seq %d, want 2: the refusal used a number", got.Seq)
	}

	// Called is still active: the citizen is at the window.
	if _, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", at, time.Time{}); err != nil {
		t.Fatalf("claim: %v", err)
	}
	if got := getTicket(t, s, "h1"); got.Status != queue.StatusCalled {
		t.Fatalf("h1 is %s, want called", got.Status)
	}
	_, err = s.TakeTicket(ctx, held("h3"), "A")
	wantCode(t, "new ticket of a holder whose ticket is called", err, queue.CodeActiveTicket)

	// Another sector, another day, another center, another holder: free.
	other := held("h4")
	other.Sector = "social"
	if got := take(t, s, other); got.Seq != 1 {
		t.Errorf("holder in another sector: seq %d, want 1", got.Seq)
	}
	other = held("h5")
	other.Day = "2025-03-15"
	take(t, s, other)
	other = held("h6")
	other.Center = "c2"
	take(t, s, other)
	other = held("h7")
	other.Holder = "id:blind-index-2"
	if got := take(t, s, other); got.Seq != 3 {
		t.Errorf("another holder: seq %d, want 3", got.Seq)
	}
}

func testHolderRace(t *testing.T, s queue.Store) {
	const takes = 20
	got := make([]queue.Ticket, takes)
	errs := make([]error, takes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range takes {
		wg.Go(func() {
			<-start
			tk := ticket(fmt.Sprintf("h%02d", i), "tax", queue.PriorityNone, at)
			tk.Holder = "citizen:cz1"
			got[i], errs[i] = s.TakeTicket(t.Context(), tk, "A")
		})
	}
	close(start)
	wg.Wait()

	var won []queue.Ticket
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, got[i])
		case apperr.Is(err, queue.CodeActiveTicket):
		default:
			t.Errorf("take %d: %v, want a ticket or active_ticket", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d racing takes by one holder got a ticket, want exactly 1", len(won), takes)
	}
	if won[0].Seq != 1 {
		t.Errorf("the one ticket has seq %d, want 1", won[0].Seq)
	}
	if got := take(t, s, ticket("anon", "tax", queue.PriorityNone, at)); got.Seq != 2 {
		t.Errorf("anonymous ticket after the race: seq %d, want 2: refused takes used numbers", got.Seq)
	}
	if ids := claimAll(t, s, []string{"tax"}, "w1", time.Time{}); len(ids) != 2 {
		t.Errorf("%d tickets waiting after the race, want 2 (the winner's and the anonymous one): %v", len(ids), ids)
	}
}

func testClaimOrder(t *testing.T, s queue.Store) {
	ctx := t.Context()
	// Taken in an order that is neither the calling order nor its reverse;
	// e1 and e2 share a time, so seq decides between them.
	takes := []queue.Ticket{
		ticket("n1", "tax", queue.PriorityNone, at),
		ticket("e1", "tax", queue.PriorityElderly, at.Add(time.Minute)),
		ticket("e2", "tax", queue.PriorityPregnant, at.Add(time.Minute)),
		ticket("a1", "tax", queue.PriorityAppointment, at.Add(2*time.Minute)),
		ticket("n2", "tax", queue.PriorityNone, at.Add(3*time.Minute)),
		ticket("g1", "tax", queue.PriorityGreen, at.Add(4*time.Minute)),
		ticket("d1", "tax", queue.PriorityDisabled, at.Add(5*time.Minute)),
		ticket("a2", "tax", queue.PriorityAppointment, at.Add(6*time.Minute)),
		ticket("g2", "tax", queue.PriorityGreen, at.Add(7*time.Minute)),
	}
	for _, tk := range takes {
		take(t, s, tk)
	}
	callAt := at.Add(10*time.Minute + 999)
	first, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", callAt, time.Time{})
	must(t, "claim first", err)
	want := getTicket(t, s, "g1")
	if first.ID != "g1" || first.Status != queue.StatusCalled || first.Window != "w1" ||
		!first.CalledAt.Equal(stored(callAt)) || first.Calls != 1 {
		t.Errorf("first call: %+v, want g1 called at w1 at %v, calls 1", first, stored(callAt))
	}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("claimed ticket differs from the stored one:\n got %+v\nwant %+v", first, want)
	}
	if first.CalledAt.Location() != time.UTC {
		t.Errorf("called at %v not in UTC", first.CalledAt)
	}

	got := append([]string{first.ID}, claimAll(t, s, []string{"tax"}, "w1", time.Time{})...)
	wantOrder := []string{"g1", "g2", "a1", "a2", "e1", "e2", "d1", "n1", "n2"}
	if !slices.Equal(got, wantOrder) {
		t.Errorf("calling order %v, want %v", got, wantOrder)
	}
	_, err = s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", callAt, time.Time{})
	wantCode(t, "claim with nobody waiting", err, apperr.NotFound)
}

func testClaimStarved(t *testing.T, s queue.Store) {
	starveBefore := at.Add(5 * time.Minute)
	for _, tk := range []queue.Ticket{
		ticket("fresh-green", "tax", queue.PriorityGreen, at.Add(10*time.Minute)),
		ticket("starved-green", "tax", queue.PriorityGreen, at.Add(time.Minute)),
		ticket("fresh-none", "tax", queue.PriorityNone, at.Add(6*time.Minute)),
		ticket("starved-none", "tax", queue.PriorityNone, at),
		ticket("fresh-appt", "tax", queue.PriorityAppointment, at.Add(8*time.Minute)),
		ticket("edge-none", "tax", queue.PriorityNone, starveBefore), // not before: not starved
	} {
		take(t, s, tk)
	}
	got := claimAll(t, s, []string{"tax"}, "w1", starveBefore)
	want := []string{"starved-none", "starved-green", "fresh-green", "fresh-appt", "edge-none", "fresh-none"}
	if !slices.Equal(got, want) {
		t.Errorf("calling order with starvation %v, want %v", got, want)
	}
}

func testClaimSectors(t *testing.T, s queue.Store) {
	ctx := t.Context()
	other := func(tk queue.Ticket, f func(*queue.Ticket)) queue.Ticket { f(&tk); return tk }
	for _, tk := range []queue.Ticket{
		ticket("tax1", "tax", queue.PriorityNone, at),
		ticket("soc1", "social", queue.PriorityNone, at.Add(time.Minute)),
		ticket("soc2", "social", queue.PriorityGreen, at.Add(2*time.Minute)),
		ticket("mkt1", "market", queue.PriorityNone, at.Add(-time.Minute)),
		other(ticket("c2tax", "tax", queue.PriorityGreen, at), func(tk *queue.Ticket) { tk.Center = "c2" }),
		other(ticket("d2tax", "tax", queue.PriorityGreen, at), func(tk *queue.Ticket) { tk.Day = "2025-03-15" }),
	} {
		take(t, s, tk)
	}
	_, err := s.ClaimNext(ctx, "c1", qDay, nil, "w0", at, time.Time{})
	wantCode(t, "claim for a window without sectors", err, apperr.NotFound)
	_, err = s.ClaimNext(ctx, "c1", qDay, []string{"housing"}, "w0", at, time.Time{})
	wantCode(t, "claim for a sector nobody waits in", err, apperr.NotFound)

	if got := claimAll(t, s, []string{"tax"}, "w1", time.Time{}); !slices.Equal(got, []string{"tax1"}) {
		t.Errorf("tax window called %v, want [tax1]", got)
	}
	if got := claimAll(t, s, []string{"social", "tax"}, "w2", time.Time{}); !slices.Equal(got, []string{"soc2", "soc1"}) {
		t.Errorf("social+tax window called %v, want [soc2 soc1]", got)
	}
	if got := getTicket(t, s, "mkt1"); got.Status != queue.StatusWaiting {
		t.Errorf("market ticket is %s, want still waiting", got.Status)
	}
	for _, id := range []string{"c2tax", "d2tax"} {
		if got := getTicket(t, s, id); got.Status != queue.StatusWaiting {
			t.Errorf("ticket %s of another center or day is %s, want still waiting", id, got.Status)
		}
	}
	if got := getTicket(t, s, "soc1"); got.Window != "w2" {
		t.Errorf("soc1 called at window %q, want w2", got.Window)
	}
}

func testClaimRace(t *testing.T, s queue.Store) {
	n := ferretScale(t, 500, 200)
	const windows = 10
	prios := []queue.Priority{queue.PriorityNone, queue.PriorityElderly, queue.PriorityGreen, queue.PriorityAppointment}
	for i := range n {
		take(t, s, ticket(fmt.Sprintf("tk%04d", i), "tax", prios[i%len(prios)], at.Add(time.Duration(i)*time.Second)))
	}

	claimed := make([][]queue.Ticket, windows)
	errs := make([]error, windows)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range windows {
		wg.Go(func() {
			<-start
			for {
				tk, err := s.ClaimNext(t.Context(), "c1", qDay, []string{"tax"}, fmt.Sprint("w", w), at.Add(time.Hour), time.Time{})
				if apperr.Is(err, apperr.NotFound) {
					return
				}
				if err != nil {
					errs[w] = err
					return
				}
				claimed[w] = append(claimed[w], tk)
			}
		})
	}
	close(start)
	wg.Wait()

	seen := map[string]string{}
	for w, tks := range claimed {
		if errs[w] != nil {
			t.Errorf("window w%d: %v", w, errs[w])
		}
		for _, tk := range tks {
			if prev, ok := seen[tk.ID]; ok {
				t.Errorf("ticket %s called twice, at %s and w%d", tk.ID, prev, w)
			}
			seen[tk.ID] = fmt.Sprint("w", w)
			if tk.Window != seen[tk.ID] || tk.Status != queue.StatusCalled || tk.Calls != 1 {
				t.Errorf("ticket %s claimed by %s reads window %q status %s calls %d", tk.ID, seen[tk.ID], tk.Window, tk.Status, tk.Calls)
			}
		}
	}
	if len(seen) != n {
		t.Errorf("%d of %d tickets called", len(seen), n)
	}
	for id, w := range seen {
		if got := getTicket(t, s, id); got.Window != w || got.Calls != 1 {
			t.Errorf("ticket %s stored window %q calls %d, claimed by %s once", id, got.Window, got.Calls, w)
		}
	}
	_, err := s.ClaimNext(t.Context(), "c1", qDay, []string{"tax"}, "w0", at.Add(time.Hour), time.Time{})
	wantCode(t, "claim after the race", err, apperr.NotFound)
}

func testCountAhead(t *testing.T, s queue.Store) {
	ctx := t.Context()
	var tks []queue.Ticket
	for _, tk := range []queue.Ticket{
		ticket("n1", "tax", queue.PriorityNone, at),
		ticket("e1", "tax", queue.PriorityElderly, at.Add(time.Minute)),
		ticket("n2", "tax", queue.PriorityNone, at.Add(time.Minute)),
		ticket("e2", "tax", queue.PriorityDisabled, at.Add(time.Minute)), // same time as e1: seq decides
		ticket("g1", "tax", queue.PriorityGreen, at.Add(2*time.Minute)),
		ticket("soc", "social", queue.PriorityGreen, at.Add(-time.Minute)),
	} {
		tks = append(tks, take(t, s, tk))
	}
	want := map[string]int{"g1": 0, "e1": 1, "e2": 2, "n1": 3, "n2": 4, "soc": 0}
	check := func(when string) {
		t.Helper()
		for _, tk := range tks {
			w, ok := want[tk.ID]
			if !ok {
				continue
			}
			n, err := s.CountAhead(ctx, tk)
			must(t, "count ahead of "+tk.ID, err)
			if n != w {
				t.Errorf("%s: %d ahead of %s, want %d", when, n, tk.ID, w)
			}
		}
	}
	check("all waiting")

	// Calling g1 takes it out of everyone's count.
	first, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", at.Add(time.Hour), time.Time{})
	must(t, "claim", err)
	if first.ID != "g1" {
		t.Fatalf("claimed %s, want g1", first.ID)
	}
	delete(want, "g1")
	want["e1"], want["e2"], want["n1"], want["n2"] = 0, 1, 2, 3
	check("g1 called")

}

func testWindows(t *testing.T, s queue.Store) {
	ctx := t.Context()
	ws := []queue.Window{
		{ID: "win3", Center: "c1", Name: "3号窗口", Sectors: []string{"tax"}, CreatedAt: at},
		{ID: "win1", Center: "c1", Name: "1号窗口", Sectors: []string{"social", "tax", "market"}, CreatedAt: at.Add(time.Minute)},
		{ID: "win2", Center: "c1", Name: "2号窗口", Sectors: []string{"housing"}, CreatedAt: at.Add(2 * time.Minute)},
		{ID: "winx", Center: "c2", Name: "1号窗口", Sectors: []string{"tax"}, CreatedAt: at},
	}
	for _, w := range ws {
		must(t, "create window "+w.ID, s.CreateWindow(ctx, w))
	}
	storedW := func(w queue.Window) queue.Window { w.CreatedAt = stored(w.CreatedAt); return w }
	for _, w := range ws {
		got, err := s.GetWindow(ctx, w.ID)
		must(t, "get window "+w.ID, err)
		if !reflect.DeepEqual(got, storedW(w)) {
			t.Errorf("get window %s:\n got %+v\nwant %+v", w.ID, got, storedW(w))
		}
		if got.CreatedAt.Location() != time.UTC {
			t.Errorf("window %s created at %v, not in UTC", w.ID, got.CreatedAt)
		}
	}
	_, err := s.GetWindow(ctx, "no-such-window")
	wantCode(t, "get unknown window", err, apperr.NotFound)

	list, err := s.ListWindows(ctx, "c1")
	must(t, "list windows", err)
	want := []queue.Window{storedW(ws[1]), storedW(ws[2]), storedW(ws[0])}
	if !reflect.DeepEqual(list, want) {
		t.Errorf("list windows of c1:\n got %+v\nwant %+v", list, want)
	}
	list, err = s.ListWindows(ctx, "c9")
	must(t, "list windows of an empty center", err)
	if len(list) != 0 {
		t.Errorf("windows of an empty center: %+v", list)
	}

	// A window without sectors reads back with none, not with a null.
	must(t, "create bare window", s.CreateWindow(ctx, queue.Window{ID: "bare", Center: "c3", Name: "咨询台", CreatedAt: at}))
	got, err := s.GetWindow(ctx, "bare")
	must(t, "get bare window", err)
	if len(got.Sectors) != 0 {
		t.Errorf("bare window sectors %v, want none", got.Sectors)
	}
}

func testWindowDuplicate(t *testing.T, s queue.Store) {
	ctx := t.Context()
	first := queue.Window{ID: "win1", Center: "c1", Name: "5号窗口", Sectors: []string{"tax"}, CreatedAt: at}
	must(t, "create window", s.CreateWindow(ctx, first))

	dupName := queue.Window{ID: "win2", Center: "c1", Name: "5号窗口", Sectors: []string{"social"}, CreatedAt: at}
	wantCode(t, "same name in one center", s.CreateWindow(ctx, dupName), apperr.Conflict)
	if _, err := s.GetWindow(ctx, "win2"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("refused window stored anyway: %v", err)
	}
	dupID := queue.Window{ID: "win1", Center: "c1", Name: "6号窗口", CreatedAt: at}
	wantCode(t, "taken window ID", s.CreateWindow(ctx, dupID), apperr.Conflict)
	if got, err := s.GetWindow(ctx, "win1"); err != nil || got.Name != "5号窗口" || !slices.Equal(got.Sectors, []string{"tax"}) {
		t.Errorf("first window after the duplicates: %+v, %v", got, err)
	}

	elsewhere := queue.Window{ID: "win3", Center: "c2", Name: "5号窗口", CreatedAt: at}
	must(t, "same name in another center", s.CreateWindow(ctx, elsewhere))
	list, err := s.ListWindows(ctx, "c1")
	must(t, "list windows", err)
	if len(list) != 1 || list[0].ID != "win1" {
		t.Errorf("windows of c1 after the duplicates: %+v", list)
	}
}

// called takes tk and calls it at window w at when; tk must be the one
// that sector's window calls next.
func called(t *testing.T, s queue.Store, tk queue.Ticket, w string, when time.Time) queue.Ticket {
	t.Helper()
	take(t, s, tk)
	got, err := s.ClaimNext(t.Context(), tk.Center, tk.Day, []string{tk.Sector}, w, when, time.Time{})
	must(t, "claim "+tk.ID, err)
	if got.ID != tk.ID {
		t.Fatalf("claimed %s, want %s", got.ID, tk.ID)
	}
	return got
}

// move moves a ticket and checks that what it returns is what is stored.
func move(t *testing.T, s queue.Store, id string, from []queue.Status, w string, c queue.Change) queue.Ticket {
	t.Helper()
	got, err := s.MoveTicket(t.Context(), id, from, w, c)
	must(t, "move "+id, err)
	if read := getTicket(t, s, id); !reflect.DeepEqual(got, read) {
		t.Errorf("move %s returned\n %+v\nstored\n %+v", id, got, read)
	}
	return got
}

// wantMoveRefused checks that a move is refused with code and leaves the
// ticket as it was.
func wantMoveRefused(t *testing.T, s queue.Store, what, id string, from []queue.Status, w string, c queue.Change, code apperr.Code) {
	t.Helper()
	before, _ := s.GetTicket(t.Context(), id)
	_, err := s.MoveTicket(t.Context(), id, from, w, c)
	wantCode(t, what, err, code)
	if after, _ := s.GetTicket(t.Context(), id); !reflect.DeepEqual(after, before) {
		t.Errorf("%s: refused move changed the ticket:\n was %+v\n now %+v", what, before, after)
	}
}

var fromCalled = []queue.Status{queue.StatusCalled}

func testMoveRecall(t *testing.T, s queue.Store) {
	first := called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))
	recall := at.Add(2*time.Hour + 999)
	got := move(t, s, "tk1", fromCalled, "w1", queue.Change{CalledAt: recall, Call: true})
	want := first
	want.CalledAt, want.Calls = stored(recall), 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recall:\n got %+v\nwant %+v", got, want)
	}
	if got.CalledAt.Location() != time.UTC {
		t.Errorf("recalled at %v, not in UTC", got.CalledAt)
	}
}

func testMoveRefused(t *testing.T, s queue.Store) {
	called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))
	done := queue.Change{Status: queue.StatusDone}
	wantMoveRefused(t, s, "done at another window", "tk1", fromCalled, "w2", done, queue.CodeTicketMoved)
	wantMoveRefused(t, s, "resume of a called ticket", "tk1", []queue.Status{queue.StatusParked}, "w1",
		queue.Change{Status: queue.StatusCalled, CalledAt: at.Add(2 * time.Hour), Call: true}, queue.CodeTicketMoved)
	wantMoveRefused(t, s, "move from no status", "tk1", nil, "", done, queue.CodeTicketMoved)

	take(t, s, ticket("tk2", "social", queue.PriorityNone, at))
	wantMoveRefused(t, s, "waiting ticket at a window", "tk2", []queue.Status{queue.StatusWaiting}, "w1", done, queue.CodeTicketMoved)
	if got := move(t, s, "tk1", fromCalled, "w1", done); got.Status != queue.StatusDone {
		t.Errorf("done at its window after the refusals: %s", got.Status)
	}
}

func testMoveDone(t *testing.T, s queue.Store) {
	first := called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))
	got := move(t, s, "tk1", fromCalled, "w1", queue.Change{Status: queue.StatusDone})
	want := first
	want.Status = queue.StatusDone
	if !reflect.DeepEqual(got, want) {
		t.Errorf("done:\n got %+v\nwant %+v", got, want)
	}
	again := queue.Change{Status: queue.StatusDone}
	wantMoveRefused(t, s, "done again", "tk1", fromCalled, "w1", again, queue.CodeTicketMoved)
	wantMoveRefused(t, s, "done again, any window", "tk1", fromCalled, "", again, queue.CodeTicketMoved)
	wantMoveRefused(t, s, "missed after done", "tk1", fromCalled, "w1", queue.Change{Status: queue.StatusMissed}, queue.CodeTicketMoved)
}

func testMovePark(t *testing.T, s queue.Store) {
	first := called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))
	parked := move(t, s, "tk1", fromCalled, "w1", queue.Change{Status: queue.StatusParked})
	want := first
	want.Status = queue.StatusParked
	if !reflect.DeepEqual(parked, want) {
		t.Errorf("park:\n got %+v\nwant %+v", parked, want)
	}
	fromParked := []queue.Status{queue.StatusParked}
	resume := queue.Change{Status: queue.StatusCalled, CalledAt: at.Add(2 * time.Hour), Call: true}
	wantMoveRefused(t, s, "recall of a parked ticket", "tk1", fromCalled, "w1", queue.Change{CalledAt: at.Add(2 * time.Hour), Call: true}, queue.CodeTicketMoved)
	wantMoveRefused(t, s, "resume at another window", "tk1", fromParked, "w2", resume, queue.CodeTicketMoved)
	if _, err := s.ClaimNext(t.Context(), "c1", qDay, []string{"tax"}, "w2", at.Add(2*time.Hour), time.Time{}); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("claim with only a parked ticket: %v, want not found", err)
	}

	got := move(t, s, "tk1", fromParked, "w1", resume)
	want.Status, want.CalledAt, want.Calls = queue.StatusCalled, stored(resume.CalledAt), 2
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resume:\n got %+v\nwant %+v", got, want)
	}
	wantMoveRefused(t, s, "resume again", "tk1", fromParked, "w1", resume, queue.CodeTicketMoved)
}

func testMoveTransfer(t *testing.T, s queue.Store) {
	take(t, s, ticket("soc-early", "social", queue.PriorityNone, at.Add(-time.Minute)))
	take(t, s, ticket("soc-late", "social", queue.PriorityNone, at.Add(time.Minute)))
	first := called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))

	transfer := queue.Change{Status: queue.StatusWaiting, Sector: "social", ClearWindow: true}
	wantMoveRefused(t, s, "transfer from another window", "tk1", fromCalled, "w2", transfer, queue.CodeTicketMoved)
	got := move(t, s, "tk1", fromCalled, "w1", transfer)
	want := first
	want.Status, want.Sector, want.Window = queue.StatusWaiting, "social", ""
	if !reflect.DeepEqual(got, want) {
		t.Errorf("transfer:\n got %+v\nwant %+v", got, want)
	}
	if got.Number != "A001" || got.Seq != 1 || !got.TakenAt.Equal(stored(at)) {
		t.Errorf("transferred ticket %s seq %d taken %v, want A001 1 %v", got.Number, got.Seq, got.TakenAt, stored(at))
	}
	n, err := s.CountAhead(t.Context(), got)
	must(t, "count ahead of the transferred ticket", err)
	if n != 1 {
		t.Errorf("%d ahead of the transferred ticket, want 1 (soc-early)", n)
	}
	if ids := claimAll(t, s, []string{"tax"}, "w1", time.Time{}); len(ids) != 0 {
		t.Errorf("tax window called %v after the transfer, want none", ids)
	}

	// Window sets a window; from waiting, with no window to check.
	recalled := move(t, s, "tk1", []queue.Status{queue.StatusWaiting}, "",
		queue.Change{Status: queue.StatusCalled, Window: "w3", CalledAt: at.Add(2 * time.Hour), Call: true})
	if recalled.Window != "w3" || recalled.Status != queue.StatusCalled || recalled.Calls != 2 || recalled.Sector != "social" {
		t.Errorf("called after the transfer: %+v, want called at w3 in social, calls 2", recalled)
	}
	if ids := claimAll(t, s, []string{"social"}, "w2", time.Time{}); !slices.Equal(ids, []string{"soc-early", "soc-late"}) {
		t.Errorf("social window called %v, want [soc-early soc-late]", ids)
	}
}

func testMoveNotFound(t *testing.T, s queue.Store) {
	ctx := t.Context()
	_, err := s.MoveTicket(ctx, "no-such-ticket", fromCalled, "w1", queue.Change{Status: queue.StatusDone})
	wantCode(t, "move an unknown ticket", err, apperr.NotFound)
	_, err = s.MoveTicket(ctx, "no-such-ticket", nil, "", queue.Change{})
	wantCode(t, "move an unknown ticket, no status, no change", err, apperr.NotFound)
	take(t, s, ticket("tk1", "tax", queue.PriorityNone, at))
	_, err = s.MoveTicket(ctx, "tk", []queue.Status{queue.StatusWaiting}, "", queue.Change{Status: queue.StatusDone})
	wantCode(t, "move by a prefix of an ID", err, apperr.NotFound)
	if got := getTicket(t, s, "tk1"); got.Status != queue.StatusWaiting {
		t.Errorf("tk1 is %s after moves of other IDs, want waiting", got.Status)
	}
}

func testMoveRace(t *testing.T, s queue.Store) {
	called(t, s, ticket("tk1", "tax", queue.PriorityNone, at), "w1", at.Add(time.Hour))
	const movers = 10
	got := make([]queue.Ticket, movers)
	errs := make([]error, movers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range movers {
		wg.Go(func() {
			<-start
			// Call and a time of its own show whose change is stored,
			// and that it is stored once.
			c := queue.Change{Status: queue.StatusDone, CalledAt: at.Add(time.Duration(i+2) * time.Hour), Call: true}
			got[i], errs[i] = s.MoveTicket(t.Context(), "tk1", fromCalled, "w1", c)
		})
	}
	close(start)
	wg.Wait()

	var won []queue.Ticket
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, got[i])
		case errors.Is(err, queue.ErrTicketMoved):
		default:
			t.Errorf("move %d: %v, want the ticket or ErrTicketMoved", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d of %d racing moves to done succeeded, want exactly 1", len(won), movers)
	}
	if read := getTicket(t, s, "tk1"); !reflect.DeepEqual(read, won[0]) || read.Calls != 2 || read.Status != queue.StatusDone {
		t.Errorf("stored after the race:\n %+v\nthe winner's move returned\n %+v\nwant done, calls 2", read, won[0])
	}
}

func testHolderParkedDone(t *testing.T, s queue.Store) {
	ctx := t.Context()
	held := func(id string) queue.Ticket {
		tk := ticket(id, "tax", queue.PriorityNone, at)
		tk.Holder = "citizen:cz1"
		return tk
	}
	called(t, s, held("h1"), "w1", at.Add(time.Hour))
	move(t, s, "h1", fromCalled, "w1", queue.Change{Status: queue.StatusParked})
	_, err := s.TakeTicket(ctx, held("h2"), "A")
	wantCode(t, "second ticket of a holder whose ticket is parked", err, queue.CodeActiveTicket)
	if _, err := s.GetTicket(ctx, "h2"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("refused ticket stored anyway: %v", err)
	}
	if got := take(t, s, ticket("anon1", "tax", queue.PriorityNone, at)); got.Seq != 2 {
		t.Errorf("anonymous ticket after the refusal: seq %d, want 2: the refusal used a number", got.Seq)
	}

	move(t, s, "h1", []queue.Status{queue.StatusParked}, "w1", queue.Change{Status: queue.StatusCalled, CalledAt: at.Add(2 * time.Hour), Call: true})
	_, err = s.TakeTicket(ctx, held("h3"), "A")
	wantCode(t, "second ticket of a holder whose ticket is resumed", err, queue.CodeActiveTicket)
	move(t, s, "h1", fromCalled, "w1", queue.Change{Status: queue.StatusDone})
	if got := take(t, s, held("h4")); got.Seq != 3 {
		t.Errorf("holder's ticket after the done one: seq %d, want 3", got.Seq)
	}
	_, err = s.TakeTicket(ctx, held("h5"), "A")
	wantCode(t, "third ticket while the second waits", err, queue.CodeActiveTicket)
}

func testHolderTransfer(t *testing.T, s queue.Store) {
	ctx := t.Context()
	held := func(id, sector string) queue.Ticket {
		tk := ticket(id, sector, queue.PriorityNone, at)
		tk.Holder = "citizen:cz1"
		return tk
	}
	called(t, s, held("h1", "tax"), "w1", at.Add(time.Hour))
	move(t, s, "h1", fromCalled, "w1", queue.Change{Status: queue.StatusWaiting, Sector: "social", ClearWindow: true})

	_, err := s.TakeTicket(ctx, held("h2", "social"), "B")
	wantCode(t, "ticket in the sector the holder's ticket was transferred to", err, queue.CodeActiveTicket)
	if _, err := s.GetTicket(ctx, "h2"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("refused ticket stored anyway: %v", err)
	}
	if got := take(t, s, held("h3", "tax")); got.Seq != 2 {
		t.Errorf("ticket in the sector transferred from: seq %d, want 2", got.Seq)
	}
	_, err = s.TakeTicket(ctx, held("h4", "tax"), "A")
	wantCode(t, "second ticket in the sector transferred from", err, queue.CodeActiveTicket)
	_, err = s.TakeTicket(ctx, held("h5", "social"), "B")
	wantCode(t, "ticket in the sector transferred to, again", err, queue.CodeActiveTicket)

	// Once the transferred ticket is done, the holder may queue there.
	if _, err := s.ClaimNext(ctx, "c1", qDay, []string{"social"}, "w2", at.Add(2*time.Hour), time.Time{}); err != nil {
		t.Fatalf("claim in social: %v", err)
	}
	move(t, s, "h1", fromCalled, "w2", queue.Change{Status: queue.StatusDone})
	if got, err := s.TakeTicket(ctx, held("h6", "social"), "B"); err != nil || got.Number != "B001" {
		t.Errorf("ticket in social after the transferred one is done: %+v, %v; want B001", got, err)
	}
}

func testRecentCalls(t *testing.T, s queue.Store) {
	ctx := t.Context()
	t1, t2, t3, t4 := at.Add(time.Hour), at.Add(2*time.Hour), at.Add(3*time.Hour), at.Add(4*time.Hour)
	other := func(tk queue.Ticket, f func(*queue.Ticket)) queue.Ticket { f(&tk); return tk }
	called(t, s, ticket("a1", "tax", queue.PriorityNone, at), "w1", t1)
	called(t, s, ticket("a2", "tax", queue.PriorityNone, at.Add(time.Minute)), "w1", t2)
	called(t, s, ticket("s1", "social", queue.PriorityNone, at), "w2", t2) // a2's time, lower seq
	called(t, s, ticket("a3", "tax", queue.PriorityNone, at.Add(2*time.Minute)), "w1", t3)
	take(t, s, ticket("a4", "tax", queue.PriorityNone, at.Add(3*time.Minute))) // never called
	// Called last of all, then transferred: waiting again, so not shown.
	called(t, s, ticket("m1", "market", queue.PriorityNone, at), "w3", t4.Add(time.Hour))
	move(t, s, "m1", fromCalled, "w3", queue.Change{Status: queue.StatusWaiting, Sector: "tax", ClearWindow: true})
	// Another center and another day, called last.
	called(t, s, other(ticket("c2", "tax", queue.PriorityNone, at), func(tk *queue.Ticket) { tk.Center = "c2" }), "w9", t4.Add(time.Hour))
	called(t, s, other(ticket("d2", "tax", queue.PriorityNone, at), func(tk *queue.Ticket) { tk.Day = "2025-03-15" }), "w9", t4.Add(time.Hour))

	move(t, s, "a1", fromCalled, "w1", queue.Change{Status: queue.StatusDone})
	move(t, s, "a2", fromCalled, "w1", queue.Change{Status: queue.StatusMissed})
	move(t, s, "s1", fromCalled, "w2", queue.Change{Status: queue.StatusParked})
	move(t, s, "a3", fromCalled, "w1", queue.Change{CalledAt: t4, Call: true}) // recalled: newest

	ids := func(tks []queue.Ticket) []string {
		out := make([]string, len(tks))
		for i, tk := range tks {
			out[i] = tk.ID
		}
		return out
	}
	all, err := s.RecentCalls(ctx, "c1", qDay, 10)
	must(t, "recent calls", err)
	if want := []string{"a3", "a2", "s1", "a1"}; !slices.Equal(ids(all), want) {
		t.Errorf("recent calls %v, want %v", ids(all), want)
	}
	for _, tk := range all {
		if read := getTicket(t, s, tk.ID); !reflect.DeepEqual(tk, read) {
			t.Errorf("recent call differs from the stored ticket:\n got %+v\nwant %+v", tk, read)
		}
	}
	two, err := s.RecentCalls(ctx, "c1", qDay, 2)
	must(t, "recent calls, limit 2", err)
	if want := []string{"a3", "a2"}; !slices.Equal(ids(two), want) {
		t.Errorf("recent calls, limit 2: %v, want %v", ids(two), want)
	}
	c2, err := s.RecentCalls(ctx, "c2", qDay, 10)
	must(t, "recent calls of c2", err)
	if want := []string{"c2"}; !slices.Equal(ids(c2), want) {
		t.Errorf("recent calls of c2: %v, want %v", ids(c2), want)
	}
	none, err := s.RecentCalls(ctx, "c1", "2025-03-13", 10)
	must(t, "recent calls of a day without calls", err)
	if len(none) != 0 {
		t.Errorf("recent calls of a day without calls: %v", ids(none))
	}
}

func testWaitingCounts(t *testing.T, s queue.Store) {
	ctx := t.Context()
	got, err := s.WaitingCounts(ctx, "c1", qDay)
	must(t, "waiting counts, nobody waits", err)
	if !reflect.DeepEqual(got, map[string]int{}) {
		t.Errorf("waiting counts with nobody waiting: %#v, want an empty map", got)
	}

	other := func(tk queue.Ticket, f func(*queue.Ticket)) queue.Ticket { f(&tk); return tk }
	for _, tk := range []queue.Ticket{
		ticket("t1", "tax", queue.PriorityNone, at),
		ticket("t2", "tax", queue.PriorityNone, at.Add(time.Minute)),
		ticket("t3", "tax", queue.PriorityGreen, at.Add(2*time.Minute)),
		ticket("s1", "social", queue.PriorityNone, at),
		other(ticket("c2", "tax", queue.PriorityNone, at), func(tk *queue.Ticket) { tk.Center = "c2" }),
		other(ticket("d2", "housing", queue.PriorityNone, at), func(tk *queue.Ticket) { tk.Day = "2025-03-15" }),
	} {
		take(t, s, tk)
	}
	called(t, s, ticket("m1", "market", queue.PriorityNone, at), "w3", at.Add(time.Hour)) // called: not waiting
	if _, err := s.ClaimNext(ctx, "c1", qDay, []string{"tax"}, "w1", at.Add(time.Hour), time.Time{}); err != nil {
		t.Fatalf("claim in tax: %v", err)
	}

	// Under a deadline, as every request has one (the driver then sends
	// maxTimeMS, which FerretDB v1 refuses on some commands).
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	got, err = s.WaitingCounts(dctx, "c1", qDay)
	must(t, "waiting counts", err)
	if want := map[string]int{"tax": 2, "social": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("waiting counts %v, want %v", got, want)
	}
	got, err = s.WaitingCounts(ctx, "c2", qDay)
	must(t, "waiting counts of c2", err)
	if want := map[string]int{"tax": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("waiting counts of c2 %v, want %v", got, want)
	}
}
