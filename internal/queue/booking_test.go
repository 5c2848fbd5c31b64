package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// hall is a queue service on a real SQLite database and the shipped 2026
// calendar, with a clock the test moves and the real outbox.
type hall struct {
	cal atomic.Pointer[calendar.Calendar]
	svc *queue.Service
	// mute is a service on the same stores that queues no messages: a
	// server that dies between storing a change and queuing its message.
	mute   *queue.Service
	store  *sqlite.QueueStore
	outbox notify.Store
	mu     sync.Mutex
	now    time.Time
}

func (h *hall) clock() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.now
}

// set moves the clock to a wall-clock time in Beijing, "2026-11-25 09:00".
func (h *hall) set(t *testing.T, s string) {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	h.now = v
	h.mu.Unlock()
}

// sectors is the catalog as the queue sees it: two sectors of center hm.
type sectors struct{}

func (sectors) Sectors(_ context.Context, center string) ([]catalog.Sector, error) {
	if center != "hm" {
		return nil, apperr.New(apperr.NotFound, "no center")
	}
	return []catalog.Sector{{Center: "hm", Code: "tax", Name: "税务", Order: 1}, {Center: "hm", Code: "business", Name: "市场监管", Order: 2}}, nil
}

// Matter finds the demo matters the tests serve.
func (sectors) Matter(_ context.Context, code string) (catalog.Matter, error) {
	switch code {
	case "hm-tax-invoice", "hm-tax-register":
		return catalog.Matter{Code: code, Center: "hm", Sector: "tax"}, nil
	case "xz-tax-invoice":
		return catalog.Matter{Code: code, Center: "xz", Sector: "tax"}, nil
	}
	return catalog.Matter{}, apperr.New(apperr.NotFound, "no matter")
}

// hours adapts the calendar in force to queue.Calendar.
type hours struct {
	cal *atomic.Pointer[calendar.Calendar]
}

func (h hours) OpenAt(_ string, t time.Time) bool           { return h.cal.Load().OpenAt(t) }
func (h hours) NextOpening(_ string, t time.Time) time.Time { return h.cal.Load().NextOpening(t) }
func (h hours) ClosedReason(_ string, day time.Time) string {
	if name, ok := h.cal.Load().HolidayName(calendar.DayOf(day)); ok {
		return name
	}
	return "休息日"
}
func (h hours) OpenSpans(_ string, day time.Time) []queue.Span {
	var out []queue.Span
	for _, s := range h.cal.Load().OpenSpans(calendar.DayOf(day)) {
		out = append(out, queue.Span{From: s.From, To: s.To})
	}
	return out
}

func newHall(t testing.TB, synchronous string) *hall {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db"), Synchronous: synchronous})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	h := &hall{store: sqlite.NewQueueStore(db), outbox: sqlite.NewOutboxStore(db)}
	cal := loadCalendar(t, nil)
	h.cal.Store(cal)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	al := audit.NewLog(sqlite.NewAuditStore(db), h.clock)
	ob := notify.NewOutbox(h.outbox, nil, nil, log, h.clock, notify.OutboxConfig{})
	h.svc = queue.NewService(h.store, sectors{}, al, log, h.clock, queue.Config{
		Calendar: hours{&h.cal}, Location: cal.Location(), Appointments: sqlite.NewAppointmentStore(db), Notifier: ob,
	})
	h.mute = queue.NewService(h.store, sectors{}, al, log, h.clock, queue.Config{
		Calendar: hours{&h.cal}, Location: cal.Location(), Appointments: sqlite.NewAppointmentStore(db),
	})
	return h
}

// loadCalendar reads the shipped 2026 calendar, changed by edit if not nil.
func loadCalendar(t testing.TB, edit func(*calendar.Config)) *calendar.Calendar {
	t.Helper()
	b, err := os.ReadFile("../../assets/calendar/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	var cfg calendar.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&cfg)
	}
	cal, err := calendar.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// openWindow creates a window of center hm serving sectors, with staff
// signed in to it.
func (h *hall) openWindow(t testing.TB, name, staff string, sectors ...string) queue.Window {
	t.Helper()
	ctx := context.Background()
	w, err := h.svc.CreateWindow(ctx, "staff:admin", "hm", name, sectors)
	if err != nil {
		t.Fatal(err)
	}
	if w, err = h.svc.SignIn(ctx, "hm", staff, w.ID); err != nil {
		t.Fatal(err)
	}
	return w
}

func (h *hall) slot(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func (h *hall) message(t *testing.T, id string) notify.Message {
	t.Helper()
	m, err := h.outbox.GetMessage(context.Background(), id)
	if err != nil {
		t.Fatalf("outbox message %s: %v", id, err)
	}
	return m
}

func TestBookingRemindersAndCutoff(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	alice := queue.Booker{Citizen: "cz-alice", IDIndex: "idx-alice"}
	h.set(t, "2026-11-25 09:00")
	a, err := h.svc.Book(ctx, alice, "hm", "tax", h.slot(t, "2026-11-26 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	// Reminders the day before and an hour before, to the booker's account.
	day, hour := h.message(t, "remind-day:"+a.ID), h.message(t, "remind-hour:"+a.ID)
	if !day.NotBefore.Equal(h.slot(t, "2026-11-25 10:00")) || !hour.NotBefore.Equal(h.slot(t, "2026-11-26 09:00")) ||
		day.To != "citizen:cz-alice" || day.Kind != notify.KindAppointmentReminder || day.Data["time"] != "2026-11-26 10:00" {
		t.Fatalf("reminders: %+v / %+v", day, hour)
	}
	// An hour before the slot it is too late to cancel or move.
	h.set(t, "2026-11-26 09:05")
	_, err = h.svc.Cancel(ctx, alice, a.ID)
	wantCode(t, "cancel after the cut-off", err, queue.CodeAppointmentState)
	_, err = h.svc.Reschedule(ctx, alice, a.ID, h.slot(t, "2026-11-26 15:00"))
	wantCode(t, "reschedule after the cut-off", err, queue.CodeAppointmentState)
	h.set(t, "2026-11-26 08:55")
	if _, err := h.svc.Cancel(ctx, alice, a.ID); err != nil {
		t.Fatalf("cancel before the cut-off: %v", err)
	}
	// A cancelled appointment's pending reminder is withdrawn.
	if m := h.message(t, "remind-hour:"+a.ID); m.Status != notify.StatusWithdrawn {
		t.Errorf("hour reminder after cancel: %s", m.Status)
	}
}

func TestCheckInWindow(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	alice := queue.Booker{Citizen: "cz-alice", IDIndex: "idx-alice"}
	h.set(t, "2026-11-25 09:00")
	if _, err := h.svc.Book(ctx, alice, "hm", "tax", h.slot(t, "2026-11-26 10:00")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   string
		code apperr.Code
	}{
		{"2026-11-26 09:29", queue.CodeCheckInEarly},
		{"2026-11-26 10:16", queue.CodeCheckInLate},
	} {
		h.set(t, tt.at)
		_, _, err := h.svc.CheckIn(ctx, "hm", "id:idx-alice")
		wantCode(t, "check in at "+tt.at, err, tt.code)
	}
	// At 10:15 it is still in time: an appointment-priority ticket.
	h.set(t, "2026-11-26 10:15")
	a, p, err := h.svc.CheckIn(ctx, "hm", "id:idx-alice")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != queue.AppointmentCheckedIn || p.Ticket.Priority != queue.PriorityAppointment || a.Ticket != p.Ticket.ID || p.Ticket.Holder != "id:idx-alice" {
		t.Fatalf("checked in: %+v, ticket %+v", a, p.Ticket)
	}
	// Checked in, it is no no-show.
	h.set(t, "2026-11-26 11:00")
	if n, err := h.svc.SweepNoShows(ctx); err != nil || n != 0 {
		t.Fatalf("sweep after check-in: %d %v", n, err)
	}
}

func TestNoShowsSuspendBooking(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	bob := queue.Booker{Citizen: "cz-bob", IDIndex: "idx-bob"}
	// Three missed appointments on three working days.
	for _, d := range []string{"2026-11-26", "2026-11-27", "2026-11-30"} {
		h.set(t, "2026-11-25 09:00")
		if d == "2026-11-30" {
			h.set(t, "2026-11-27 12:00")
		}
		if _, err := h.svc.Book(ctx, bob, "hm", "tax", h.slot(t, d+" 09:00")); err != nil {
			t.Fatalf("book %s: %v", d, err)
		}
		h.set(t, d+" 09:14")
		if n, _ := h.svc.SweepNoShows(ctx); n != 0 {
			t.Fatalf("marked a no-show while check-in was still open")
		}
		h.set(t, d+" 10:00")
		if n, err := h.svc.SweepNoShows(ctx); err != nil || n != 1 {
			t.Fatalf("sweep %s: %d %v", d, n, err)
		}
	}
	h.set(t, "2026-11-30 11:00")
	_, err := h.svc.Book(ctx, bob, "hm", "tax", h.slot(t, "2026-12-02 09:00"))
	wantCode(t, "book after three no-shows", err, queue.CodeBookingSuspended)
	// Someone else is not affected; and walk-in tickets still work for bob.
	if _, err := h.svc.Book(ctx, queue.Booker{Citizen: "cz-carol", IDIndex: "idx-carol"}, "hm", "tax", h.slot(t, "2026-12-02 09:00")); err != nil {
		t.Fatalf("another person books: %v", err)
	}
	if _, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk, Holder: "id:idx-bob"}); err != nil {
		t.Fatalf("walk-in ticket while suspended: %v", err)
	}
	// Thirty days after the third no-show the suspension ends.
	h.set(t, "2026-12-30 10:00")
	if _, err := h.svc.Book(ctx, bob, "hm", "tax", h.slot(t, "2026-12-31 09:00")); err != nil {
		t.Fatalf("book after the suspension: %v", err)
	}
}

func TestCallsNotifyTheHolder(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	w := h.openWindow(t, "5号窗口", "st-clerk", "tax")
	var ids []string
	for _, holder := range []string{"citizen:a", "", "citizen:c", "id:d"} {
		p, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelMiniProgram, Holder: holder})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.Ticket.ID)
	}
	first, _, err := h.svc.CallNext(ctx, "hm", "st-clerk", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	m := h.message(t, "call:"+first.ID+":1")
	if m.To != "citizen:a" || m.Kind != notify.KindCall || m.Data["text"] != "请A001号到5号窗口办理" {
		t.Errorf("call message: %+v", m)
	}
	// After the call, A004 has two ahead: "your turn is near", once.
	if m := h.message(t, "soon:"+ids[3]); m.To != "id:d" || m.Kind != notify.KindTurnSoon {
		t.Errorf("turn-soon message: %+v", m)
	}
	if _, err := h.svc.Act(ctx, "hm", "st-clerk", w.ID, first.ID, queue.ActionRecall, ""); err != nil {
		t.Fatal(err)
	}
	if m := h.message(t, "call:"+first.ID+":2"); m.Data["number"] != "A001" {
		t.Errorf("recall message: %+v", m)
	}
	// A walk-in without a card gets no message, and nothing breaks.
	if _, err := h.svc.Act(ctx, "hm", "st-clerk", w.ID, first.ID, queue.ActionComplete, ""); err != nil {
		t.Fatal(err)
	}
	second, _, err := h.svc.CallNext(ctx, "hm", "st-clerk", w.ID)
	if err != nil || second.ID != ids[1] {
		t.Fatalf("second call: %v %+v", err, second)
	}
	if _, err := h.outbox.GetMessage(ctx, "call:"+second.ID+":1"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("a walk-in's call was queued: %v", err)
	}
}

func TestWaitEstimate(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	var windows []queue.Window
	for _, name := range []string{"1号窗口", "2号窗口", "3号窗口"} {
		w, err := h.svc.CreateWindow(ctx, "staff:admin", "hm", name, []string{"tax"})
		if err != nil {
			t.Fatal(err)
		}
		windows = append(windows, w)
	}
	// Before anyone is served the default service time applies, over all
	// the windows serving the sector while none is open.
	p, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Windows) != 3 || p.Wait != 0 {
		t.Fatalf("first ticket: windows %v wait %v", p.Windows, p.Wait)
	}
	// Two windows open and serve six people in 6 minutes each.
	for _, w := range windows[:2] {
		if _, err := h.svc.SignIn(ctx, "hm", "st-"+w.Name, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		if _, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk}); err != nil {
			t.Fatal(err)
		}
	}
	clock := h.slot(t, "2026-11-25 09:00")
	for i := range 6 {
		w := windows[i%2]
		tk, _, err := h.svc.CallNext(ctx, "hm", "st-"+w.Name, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(6 * time.Minute)
		h.mu.Lock()
		h.now = clock
		h.mu.Unlock()
		if _, err := h.svc.Act(ctx, "hm", "st-"+w.Name, w.ID, tk.ID, queue.ActionComplete, ""); err != nil {
			t.Fatal(err)
		}
	}
	// The service time is cached for a minute: look a minute later.
	h.mu.Lock()
	h.now = clock.Add(2 * time.Minute)
	h.mu.Unlock()
	var last queue.Position
	for range 5 {
		if last, err = h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk}); err != nil {
			t.Fatal(err)
		}
	}
	// (Four ahead + ½ for a window to free) × 6 minutes ÷ 2 open windows.
	if last.Ahead != 4 || last.Wait != 13*time.Minute+30*time.Second || queue.Minutes(last.Wait) != 14 {
		t.Fatalf("fifth ticket: ahead %d wait %v", last.Ahead, last.Wait)
	}
}

func TestReactivateMissedTicket(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	w := h.openWindow(t, "5号窗口", "st-clerk", "tax")
	take := func(holder string) queue.Position {
		t.Helper()
		p, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk, Holder: holder})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	miss := func() queue.Ticket {
		t.Helper()
		tk, _, err := h.svc.CallNext(ctx, "hm", "st-clerk", w.ID)
		if err != nil {
			t.Fatal(err)
		}
		for range queue.MaxCalls {
			if tk, err = h.svc.Act(ctx, "hm", "st-clerk", w.ID, tk.ID, queue.ActionRecall, ""); err != nil {
				t.Fatal(err)
			}
		}
		if tk.Status != queue.StatusMissed {
			t.Fatalf("after %d recalls the ticket is %s", queue.MaxCalls, tk.Status)
		}
		return tk
	}
	alice := take("id:alice") // A001
	take("")                  // A002
	take("")                  // A003
	if m := miss(); m.ID != alice.Ticket.ID {
		t.Fatalf("missed %s, want alice's A001", m.Number)
	}
	// Still waiting: nothing to put back.
	_, err := h.svc.Reactivate(ctx, "hm", "A002", "")
	wantCode(t, "reactivate a waiting ticket", err, queue.CodeTicketMoved)
	_, err = h.svc.Reactivate(ctx, "hm", "Z999", "")
	wantCode(t, "reactivate an unknown number", err, apperr.NotFound)
	// Alice's ticket was taken by name: her card, not anyone's, brings it back.
	_, err = h.svc.Reactivate(ctx, "hm", "A001", "")
	wantCode(t, "reactivate without the holder's card", err, apperr.Forbidden)
	_, err = h.svc.Reactivate(ctx, "hm", "A001", "id:bob")
	wantCode(t, "reactivate with another card", err, apperr.Forbidden)
	h.set(t, "2026-11-25 09:10")
	p, err := h.svc.Reactivate(ctx, "hm", "a001", "id:alice")
	if err != nil {
		t.Fatal(err)
	}
	// Back at the end of the line, with its number.
	if p.Ticket.Status != queue.StatusWaiting || p.Ticket.Number != "A001" || p.Ahead != 2 || p.Ticket.Window != "" {
		t.Fatalf("reactivated: %+v ahead %d", p.Ticket, p.Ahead)
	}
	if late := take(""); late.Ahead != 3 {
		t.Errorf("a ticket taken after the reactivation has %d ahead, want 3", late.Ahead)
	}
	// Missed again: once is all.
	for _, want := range []string{"A002", "A003"} {
		tk, _, err := h.svc.CallNext(ctx, "hm", "st-clerk", w.ID)
		if err != nil || tk.Number != want {
			t.Fatalf("call: %v %s, want %s", err, tk.Number, want)
		}
		if _, err := h.svc.Act(ctx, "hm", "st-clerk", w.ID, tk.ID, queue.ActionComplete, ""); err != nil {
			t.Fatal(err)
		}
	}
	if m := miss(); m.Number != "A001" {
		t.Fatalf("missed %s, want A001 again", m.Number)
	}
	_, err = h.svc.Reactivate(ctx, "hm", "A001", "id:alice")
	wantCode(t, "reactivate twice", err, queue.CodeReactivated)
}

func TestDeclaredPriorityCountsOnceConfirmed(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	take := func(r queue.TakeRequest) queue.Position {
		t.Helper()
		r.Center, r.Sector, r.Channel = "hm", "tax", queue.ChannelKiosk
		p, err := h.svc.Take(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	take(queue.TakeRequest{})
	take(queue.TakeRequest{})
	p := take(queue.TakeRequest{Declared: queue.PriorityPregnant})
	// Declared, not yet confirmed: served in turn.
	if p.Ticket.Priority != queue.PriorityNone || p.Ticket.Declared != queue.PriorityPregnant || p.Ahead != 2 {
		t.Fatalf("declared ticket: %+v ahead %d", p.Ticket, p.Ahead)
	}
	_, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk, Declared: queue.PriorityGreen})
	wantCode(t, "declare the green channel", err, apperr.Invalid)
	// Staff confirm: the ticket moves to the front.
	c, err := h.svc.SetPriority(ctx, "staff:guide", "hm", p.Ticket.Number, queue.PriorityPregnant)
	if err != nil {
		t.Fatal(err)
	}
	if c.Ticket.Priority != queue.PriorityPregnant || c.Ticket.Declared != "" || c.Ahead != 0 {
		t.Fatalf("confirmed: %+v ahead %d", c.Ticket, c.Ahead)
	}
	if first, _ := h.svc.Ticket(ctx, take(queue.TakeRequest{}).Ticket.ID); first.Ahead != 3 {
		t.Errorf("a later walk-in has %d ahead, want 3", first.Ahead)
	}
	// A declaration turned down stays in turn and is forgotten.
	d := take(queue.TakeRequest{Declared: queue.PriorityDisabled})
	r, err := h.svc.SetPriority(ctx, "staff:guide", "hm", d.Ticket.Number, queue.PriorityNone)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ticket.Priority != queue.PriorityNone || r.Ticket.Declared != "" || r.Ahead != d.Ahead {
		t.Fatalf("turned down: %+v ahead %d, was %d", r.Ticket, r.Ahead, d.Ahead)
	}
	_, err = h.svc.SetPriority(ctx, "staff:guide", "hm", "A099", queue.PriorityGreen)
	wantCode(t, "priority of an unknown number", err, apperr.NotFound)
	_, err = h.svc.SetPriority(ctx, "staff:guide", "hm", d.Ticket.Number, queue.PriorityElderly)
	wantCode(t, "set elderly by hand", err, apperr.Invalid)
}

func TestCenterClosingCancelsBookings(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	alice := queue.Booker{Citizen: "cz-alice", IDIndex: "idx-alice"}
	bob := queue.Booker{Citizen: "cz-bob", IDIndex: "idx-bob"}
	thursday, err := h.svc.Book(ctx, alice, "hm", "tax", h.slot(t, "2026-11-26 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	late, err := h.svc.Book(ctx, bob, "hm", "tax", h.slot(t, "2026-11-27 17:00"))
	if err != nil {
		t.Fatal(err)
	}
	early, err := h.svc.Book(ctx, alice, "hm", "tax", h.slot(t, "2026-11-27 09:00"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := h.svc.CancelClosedBookings(ctx); err != nil || n != 0 {
		t.Fatalf("nothing closed yet: %d %v", n, err)
	}
	// Thursday becomes a holiday, and Friday closes at 16:30.
	h.cal.Store(loadCalendar(t, func(c *calendar.Config) {
		c.Holidays = append(c.Holidays, calendar.Holiday{Name: "临时闭馆", From: "2026-11-26"})
		c.Hours.Fri = &calendar.Hours{Open: "08:30", LunchStart: "12:00", LunchEnd: "13:30", Close: "16:30"}
	}))
	n, err := h.svc.CancelClosedBookings(ctx)
	if err != nil || n != 2 {
		t.Fatalf("cancelled %d, %v; want Thursday's and Friday 17:00", n, err)
	}
	for _, a := range []queue.Appointment{thursday, late} {
		got, err := h.svc.Appointment(ctx, queue.Booker{Citizen: a.Citizen, IDIndex: strings.TrimPrefix(a.Holder, "id:")}, a.ID)
		if err != nil || got.Status != queue.AppointmentCancelled {
			t.Errorf("%s after closing: %+v %v", a.ID, got.Status, err)
		}
		if m := h.message(t, "remind-hour:"+a.ID); m.Status != notify.StatusWithdrawn {
			t.Errorf("%s reminder %s, want withdrawn", a.ID, m.Status)
		}
	}
	m := h.message(t, "closed:"+thursday.ID)
	if m.To != "citizen:cz-alice" || m.Kind != notify.KindAppointmentCancelled || !strings.Contains(m.Data["text"], "临时闭馆") {
		t.Errorf("message to alice: %+v", m)
	}
	if m := h.message(t, "closed:"+late.ID); m.Data["reason"] != "办公时间调整" {
		t.Errorf("message to bob: %+v", m)
	}
	if got, _ := h.svc.Appointment(ctx, alice, early.ID); got.Status != queue.AppointmentBooked {
		t.Errorf("Friday 09:00 is still open, yet %s", got.Status)
	}
	// Run again: nothing more to do.
	if n, err := h.svc.CancelClosedBookings(ctx); err != nil || n != 0 {
		t.Errorf("second run cancelled %d, %v", n, err)
	}
}

func TestCompleteRecordsMattersServed(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	w := h.openWindow(t, "5号窗口", "st-clerk", "tax")
	if _, err := h.svc.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelKiosk}); err != nil {
		t.Fatal(err)
	}
	tk, _, err := h.svc.CallNext(ctx, "hm", "st-clerk", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	complete := func(matters ...string) (queue.Ticket, error) {
		return h.svc.ActWith(ctx, "hm", "st-clerk", w.ID, tk.ID, queue.ActionComplete, queue.ActDetails{Matters: matters})
	}
	// Refused, and nothing changes: an unknown matter, another center's,
	// too many.
	for _, bad := range [][]string{{"hm-tax-invoice", "no-such-matter"}, {"xz-tax-invoice"}, make([]string, queue.MaxMattersServed+1)} {
		_, err := complete(bad...)
		wantCode(t, fmt.Sprintf("complete with %v", bad), err, apperr.Invalid)
	}
	if p, _ := h.svc.Ticket(ctx, tk.ID); p.Ticket.Status != queue.StatusCalled {
		t.Fatalf("a refused completion changed the ticket: %s", p.Ticket.Status)
	}
	done, err := complete("hm-tax-invoice", "hm-tax-register", "hm-tax-invoice")
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != queue.StatusDone || !slices.Equal(done.Matters, []string{"hm-tax-invoice", "hm-tax-register"}) {
		t.Fatalf("completed: %s %v", done.Status, done.Matters)
	}
	if p, _ := h.svc.Ticket(ctx, tk.ID); !slices.Equal(p.Ticket.Matters, done.Matters) {
		t.Errorf("stored matters %v", p.Ticket.Matters)
	}
}

// TestReannounceAfterCrash: a call or a booking stored by a server that
// died before queuing its messages has none; at the next start
// Reannounce and RemindAgain queue them.
func TestReannounceAfterCrash(t *testing.T) {
	h := newHall(t, "NORMAL")
	ctx := context.Background()
	h.set(t, "2026-11-25 09:00")
	w := h.openWindow(t, "5号窗口", "st-clerk", "tax")
	if _, err := h.mute.Take(ctx, queue.TakeRequest{Center: "hm", Sector: "tax", Channel: queue.ChannelMiniProgram, Holder: "citizen:a"}); err != nil {
		t.Fatal(err)
	}
	called, _, err := h.mute.CallNext(ctx, "hm", "st-clerk", w.ID)
	if err != nil {
		t.Fatal(err)
	}
	a, err := h.mute.Book(ctx, queue.Booker{Citizen: "cz-alice", IDIndex: "idx-alice"}, "hm", "tax", h.slot(t, "2026-11-26 10:00"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"call:" + called.ID + ":1", "remind-hour:" + a.ID} {
		if _, err := h.outbox.GetMessage(ctx, id); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("message %s before the restart: %v", id, err)
		}
	}
	for range 2 { // a second start finds nothing lost and changes nothing
		if n, err := h.svc.Reannounce(ctx, "hm"); err != nil || n != 1 {
			t.Fatalf("Reannounce = %d, %v; want the one called ticket", n, err)
		}
		if n, err := h.svc.RemindAgain(ctx); err != nil || n != 2 {
			t.Fatalf("RemindAgain = %d, %v; want the booking's two reminders", n, err)
		}
	}
	if m := h.message(t, "call:"+called.ID+":1"); m.To != "citizen:a" || m.Data["text"] != "请A001号到5号窗口办理" {
		t.Errorf("call message queued again: %+v", m)
	}
	if m := h.message(t, "remind-hour:"+a.ID); !m.NotBefore.Equal(h.slot(t, "2026-11-26 09:00")) || m.To != "citizen:cz-alice" {
		t.Errorf("hour reminder queued again: %+v", m)
	}
	h.message(t, "remind-day:"+a.ID)
	// A completed ticket is not announced again.
	if _, err := h.svc.Act(ctx, "hm", "st-clerk", w.ID, called.ID, queue.ActionComplete, ""); err != nil {
		t.Fatal(err)
	}
	if n, err := h.svc.Reannounce(ctx, "hm"); err != nil || n != 0 {
		t.Errorf("Reannounce after completion = %d, %v; want 0", n, err)
	}
}
