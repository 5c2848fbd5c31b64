package notify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// t0 is the tests' start time, in the centers' zone.
var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))

// clock is a settable clock for the Outbox.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// recipients knows the openids of some people; others have no account.
type recipients map[string]string

func (r recipients) OpenID(_ context.Context, to string) (string, error) {
	if id, ok := r[to]; ok {
		return id, nil
	}
	return "", apperr.New(apperr.NotFound, "没有这个公民")
}

// sent is one call of the fake sender.
type sent struct {
	OpenID string
	Kind   notify.Kind
	Data   map[string]string
	Page   string
}

// sender is a fake notify.Sender: it records the messages it accepts
// and fails with the errors queued for an openid, in order.
type sender struct {
	mu    sync.Mutex
	sent  []sent
	tries int
	fail  map[string][]error
	// during, if set, runs inside every send, e.g. to move the clock.
	during func()
}

func newSender() *sender { return &sender{fail: map[string][]error{}} }

func (s *sender) FailNext(openID string, errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[openID] = append(s.fail[openID], errs...)
}

func (s *sender) SendSubscribe(_ context.Context, openID string, kind notify.Kind, data map[string]string, page string) error {
	if s.during != nil {
		s.during()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tries++
	if q := s.fail[openID]; len(q) > 0 {
		s.fail[openID] = q[1:]
		return q[0]
	}
	s.sent = append(s.sent, sent{OpenID: openID, Kind: kind, Data: data, Page: page})
	return nil
}

func (s *sender) Sent() []sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sent(nil), s.sent...)
}

func (s *sender) Tries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tries
}

// openStore opens an outbox on a fresh SQLite database.
func openStore(t *testing.T) *sqlite.OutboxStore {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return sqlite.NewOutboxStore(db)
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// world is an Outbox on SQLite with a fake sender, a settable clock and
// two citizens with a mini-program account.
type world struct {
	store  *sqlite.OutboxStore
	sender *sender
	clock  *clock
	outbox *notify.Outbox
	cfg    notify.OutboxConfig
}

var people = recipients{"citizen:ct1": "openid-1", "citizen:ct2": "openid-2", "id:blind-3": "openid-3"}

func newWorld(t *testing.T, cfg notify.OutboxConfig) *world {
	t.Helper()
	w := &world{store: openStore(t), sender: newSender(), clock: &clock{t: t0}, cfg: cfg}
	w.outbox = w.newOutbox()
	return w
}

// newOutbox returns another Outbox on the world's store, sender and clock.
func (w *world) newOutbox() *notify.Outbox {
	return notify.NewOutbox(w.store, people, w.sender, quiet(), w.clock.Now, w.cfg)
}

func (w *world) notify(t *testing.T, msgs ...notify.Message) {
	t.Helper()
	if err := w.outbox.Notify(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func (w *world) sendDue(t *testing.T, wantSent, wantFailed int) {
	t.Helper()
	s, f, err := w.outbox.SendDue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if s != wantSent || f != wantFailed {
		t.Fatalf("SendDue: %d sent, %d failed; want %d and %d", s, f, wantSent, wantFailed)
	}
}

func (w *world) get(t *testing.T, id string) notify.Message {
	t.Helper()
	m, err := w.store.GetMessage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(id, to string) notify.Message {
	return notify.Message{
		ID: id, To: to, Kind: notify.KindCall,
		Data: map[string]string{"number": "A023", "window": "5号窗口"},
		Page: "pages/ticket/index?id=" + id,
	}
}

// errBusy is a failure worth retrying, as the WeChat client reports
// "system busy".
var errBusy = apperr.New(apperr.Unavailable, "微信系统繁忙，请稍后重试")

func TestNotifyAndSend(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	m := call("call:tk1:1", "citizen:ct1")
	w.notify(t, m, call("call:tk2:1", "id:blind-3"))
	w.sendDue(t, 2, 0)

	want := []sent{
		{OpenID: "openid-1", Kind: notify.KindCall, Data: m.Data, Page: m.Page},
		{OpenID: "openid-3", Kind: notify.KindCall, Data: m.Data, Page: "pages/ticket/index?id=call:tk2:1"},
	}
	got := w.sender.Sent()
	if len(got) == 2 && got[0].OpenID != "openid-1" {
		got[0], got[1] = got[1], got[0]
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n %+v\nwant\n %+v", got, want)
	}
	stored := w.get(t, m.ID)
	if stored.Status != notify.StatusSent || stored.Attempts != 1 || !stored.CreatedAt.Equal(t0) || !stored.SentAt.Equal(t0) {
		t.Errorf("stored %+v, want sent once, created and sent at %v", stored, t0)
	}
	w.sendDue(t, 0, 0)
}

func TestNotifyValidates(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	good := call("ok", "citizen:ct1")
	tests := []struct {
		name  string
		edit  func(m *notify.Message)
		field string
	}{
		{"no ID", func(m *notify.Message) { m.ID = "" }, "msgs[1].id"},
		{"long ID", func(m *notify.Message) { m.ID = strings.Repeat("x", 201) }, "msgs[1].id"},
		{"no recipient", func(m *notify.Message) { m.To = "" }, "msgs[1].to"},
		{"recipient of no known form", func(m *notify.Message) { m.To = "openid-1" }, "msgs[1].to"},
		{"empty citizen", func(m *notify.Message) { m.To = "citizen:" }, "msgs[1].to"},
		{"unknown kind", func(m *notify.Message) { m.Kind = "sms" }, "msgs[1].kind"},
		{"empty data key", func(m *notify.Message) { m.Data = map[string]string{"": "x"} }, "msgs[1].data"},
		{"long data value", func(m *notify.Message) { m.Data = map[string]string{"k": strings.Repeat("长", 201)} }, "msgs[1].data"},
		{"invalid UTF-8 in page", func(m *notify.Message) { m.Page = "pages/\xff" }, "msgs[1].page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := call("bad", "citizen:ct1")
			tt.edit(&bad)
			err := w.outbox.Notify(t.Context(), good, bad)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				t.Fatalf("got %v, want invalid input", err)
			}
			if len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
				t.Errorf("fields %+v, want one naming %s", e.Fields, tt.field)
			}
			// Nothing stored, not even the valid message.
			if _, err := w.store.GetMessage(t.Context(), "ok"); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("the valid message of a refused batch was stored: %v", err)
			}
		})
	}
	if err := w.outbox.Notify(t.Context()); err != nil {
		t.Errorf("Notify with no messages: %v", err)
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	const base = 10 * time.Second
	w := newWorld(t, notify.OutboxConfig{BaseDelay: base, MaxDelay: time.Hour})
	w.sender.FailNext("openid-1", errBusy, errors.New("connection reset"))
	w.notify(t, call("m1", "citizen:ct1"))

	w.sendDue(t, 0, 1)
	m := w.get(t, "m1")
	if m.Status != notify.StatusPending || m.Attempts != 1 || !strings.Contains(m.LastError, "微信系统繁忙") {
		t.Fatalf("after one failure: %+v", m)
	}
	// First wait: from the upper half of BaseDelay.
	if wait := m.NextAttempt.Sub(t0); wait < base/2 || wait > base {
		t.Errorf("first retry after %v, want between %v and %v", wait, base/2, base)
	}
	// Not before it is due.
	w.clock.Set(m.NextAttempt.Add(-time.Millisecond))
	w.sendDue(t, 0, 0)

	w.clock.Set(m.NextAttempt)
	w.sendDue(t, 0, 1)
	second := w.clock.Now()
	m = w.get(t, "m1")
	if m.Attempts != 2 || m.LastError != "connection reset" {
		t.Fatalf("after two failures: %+v", m)
	}
	if wait := m.NextAttempt.Sub(second); wait < base || wait > 2*base {
		t.Errorf("second retry after %v, want between %v and %v", wait, base, 2*base)
	}

	w.clock.Set(m.NextAttempt)
	w.sendDue(t, 1, 0)
	m = w.get(t, "m1")
	if m.Status != notify.StatusSent || m.Attempts != 3 || !m.SentAt.Equal(w.clock.Now().UTC()) {
		t.Errorf("after success: %+v", m)
	}
	if n := len(w.sender.Sent()); n != 1 {
		t.Errorf("%d messages delivered, want 1", n)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	const base, maxDelay = time.Second, 4 * time.Second
	w := newWorld(t, notify.OutboxConfig{BaseDelay: base, MaxDelay: maxDelay, MaxAttempts: 10})
	for range 8 {
		w.sender.FailNext("openid-1", errBusy)
	}
	w.notify(t, call("m1", "citizen:ct1"))
	for i := range 8 {
		now := w.clock.Now()
		w.sendDue(t, 0, 1)
		m := w.get(t, "m1")
		want := min(base<<i, maxDelay)
		if wait := m.NextAttempt.Sub(now); wait < want/2 || wait > want {
			t.Errorf("wait after failure %d: %v, want between %v and %v", i+1, wait, want/2, want)
		}
		w.clock.Set(m.NextAttempt)
	}
	w.sendDue(t, 1, 0)
}

func TestRetryAfterIsRespected(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{BaseDelay: time.Second})
	limited := apperr.New(apperr.TooManyRequests, "操作过于频繁，请稍后再试")
	limited.RetryAfter = time.Minute
	w.sender.FailNext("openid-1", limited)
	w.notify(t, call("m1", "citizen:ct1"))
	w.sendDue(t, 0, 1)
	if m := w.get(t, "m1"); m.NextAttempt.Sub(t0) < time.Minute {
		t.Errorf("retry after %v, want at least the minute asked for", m.NextAttempt.Sub(t0))
	}
}

func TestTooManyAttemptsFailForGood(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{MaxAttempts: 3, BaseDelay: time.Second})
	for range 5 {
		w.sender.FailNext("openid-1", errBusy)
	}
	w.notify(t, call("m1", "citizen:ct1"))
	for i := range 3 {
		w.sendDue(t, 0, 1)
		m := w.get(t, "m1")
		if i < 2 && m.Status != notify.StatusPending || i == 2 && m.Status != notify.StatusFailed || m.Attempts != i+1 {
			t.Fatalf("after attempt %d: %+v", i+1, m)
		}
		w.clock.Add(time.Hour)
	}
	w.sendDue(t, 0, 0)
	if n := w.sender.Tries(); n != 3 {
		t.Errorf("%d tries, want 3", n)
	}
}

// refusal is how a sender in another package may mark an error permanent
// without importing notify.
type refusal struct{}

func (refusal) Error() string   { return "user refused the template" }
func (refusal) Permanent() bool { return true }

func TestPermanentFailures(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	w.sender.FailNext("openid-1", notify.Permanent(errors.New("invalid openid")))
	w.sender.FailNext("openid-2", fmt.Errorf("wechat: %w", refusal{}))
	w.notify(t, call("wrapped", "citizen:ct1"), call("own type", "citizen:ct2"), call("no account", "citizen:nobody"),
		call("unbound id", "id:never-bound"))
	w.sendDue(t, 0, 4)

	for id, reason := range map[string]string{
		"wrapped":    "invalid openid",
		"own type":   "wechat: user refused the template",
		"no account": notify.ReasonNoAccount,
		"unbound id": "no mini-program account",
	} {
		m := w.get(t, id)
		if m.Status != notify.StatusFailed || m.Attempts != 1 || m.LastError != reason {
			t.Errorf("%s: %+v, want failed after one attempt with %q", id, m, reason)
		}
	}
	// The sender was never asked for recipients without an account.
	if n := w.sender.Tries(); n != 2 {
		t.Errorf("%d tries, want 2", n)
	}
	w.clock.Add(24 * time.Hour)
	w.sendDue(t, 0, 0)
}

func TestPermanentAndIsPermanent(t *testing.T) {
	if notify.Permanent(nil) != nil {
		t.Error("Permanent(nil) is not nil")
	}
	base := errors.New("x")
	p := notify.Permanent(base)
	if !notify.IsPermanent(p) || !notify.IsPermanent(fmt.Errorf("wrapped: %w", p)) || !errors.Is(p, base) {
		t.Error("Permanent does not mark or does not wrap")
	}
	if notify.IsPermanent(base) || notify.IsPermanent(nil) || notify.IsPermanent(errBusy) {
		t.Error("an unmarked error is permanent")
	}
}

func TestNotifyTwiceSendsOnce(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	m := call("call:tk1:1", "citizen:ct1")
	w.notify(t, m)
	w.notify(t, m)
	w.sendDue(t, 1, 0)
	// Produced again after it went out, e.g. by a retried request.
	other := m
	other.Data = map[string]string{"number": "B001"}
	w.notify(t, other)
	w.clock.Add(time.Hour)
	w.sendDue(t, 0, 0)
	if got := w.sender.Sent(); len(got) != 1 || got[0].Data["number"] != "A023" {
		t.Errorf("sent %+v, want the first message once", got)
	}
}

func TestWithdrawnIsNotSent(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	day, hour := call("remind-day:ap1", "citizen:ct1"), call("remind-hour:ap1", "citizen:ct1")
	day.Kind, hour.Kind = notify.KindAppointmentReminder, notify.KindAppointmentReminder
	day.NotBefore, hour.NotBefore = t0.Add(time.Hour), t0.Add(2*time.Hour)
	w.notify(t, day, hour, call("call:tk1:1", "citizen:ct2"))
	if err := w.outbox.Withdraw(t.Context(), "remind-day:ap1", "remind-hour:ap1", "unknown"); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(3 * time.Hour)
	w.sendDue(t, 1, 0)
	if got := w.sender.Sent(); len(got) != 1 || got[0].OpenID != "openid-2" {
		t.Errorf("sent %+v, want only the call", got)
	}
	for _, id := range []string{"remind-day:ap1", "remind-hour:ap1"} {
		if m := w.get(t, id); m.Status != notify.StatusWithdrawn {
			t.Errorf("%s is %s, want withdrawn", id, m.Status)
		}
	}
	if err := w.outbox.Withdraw(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestNotBefore(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{})
	m := call("remind-hour:ap1", "citizen:ct1")
	m.Kind, m.NotBefore = notify.KindAppointmentReminder, t0.Add(time.Hour)
	w.notify(t, m)
	w.sendDue(t, 0, 0)
	w.clock.Set(t0.Add(time.Hour - time.Second))
	w.sendDue(t, 0, 0)
	w.clock.Set(t0.Add(time.Hour))
	w.sendDue(t, 1, 0)
}

func TestBatchAndWorkers(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{Batch: 7, Workers: 3})
	for i := range 20 {
		w.notify(t, call(fmt.Sprintf("m%02d", i), "citizen:ct1"))
	}
	w.sendDue(t, 7, 0)
	w.sendDue(t, 7, 0)
	w.sendDue(t, 6, 0)
	w.sendDue(t, 0, 0)
}

// TestNoSendNearTheLeaseEnd: a batch that runs slow stops starting sends
// while one could still outlive the lease, leaving the rest to be
// claimed again after it.
func TestNoSendNearTheLeaseEnd(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{Lease: time.Minute, SendTimeout: 20 * time.Second, Workers: 1})
	w.sender.during = func() { w.clock.Add(25 * time.Second) }
	for i := range 4 {
		w.notify(t, call(fmt.Sprintf("m%d", i), "citizen:ct1"))
	}
	// Sends start at 0 s and 25 s; at 50 s a send could run to 70 s, past
	// the lease (60 s): the last two wait.
	w.sendDue(t, 2, 0)
	w.sender.during = nil
	w.sendDue(t, 0, 0) // still leased
	w.clock.Set(t0.Add(time.Minute))
	w.sendDue(t, 2, 0)
	if n := len(w.sender.Sent()); n != 4 {
		t.Errorf("%d sent, want 4", n)
	}
}

func TestConcurrentSendDueNeverSendsTwice(t *testing.T) {
	const n = 200
	w := newWorld(t, notify.OutboxConfig{Batch: 10, Workers: 4})
	// A little time in each send lets the senders' batches overlap.
	w.sender.during = func() { time.Sleep(100 * time.Microsecond) }
	for i := range n {
		to := fmt.Sprintf("citizen:ct%d", i%2+1)
		w.notify(t, call(fmt.Sprintf("m%03d", i), to))
	}
	outboxes := []*notify.Outbox{w.outbox, w.newOutbox(), w.newOutbox()}
	var wg sync.WaitGroup
	errs := make(chan error, len(outboxes))
	for _, o := range outboxes {
		wg.Go(func() {
			for {
				s, f, err := o.SendDue(t.Context())
				if err != nil {
					errs <- err
					return
				}
				if s+f == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := w.sender.Sent()
	seen := map[string]int{}
	for _, s := range got {
		seen[s.Page]++
	}
	for page, k := range seen {
		if k != 1 {
			t.Errorf("%s sent %d times", page, k)
		}
	}
	if len(seen) != n || len(got) != n {
		t.Errorf("%d sends of %d distinct messages, want %d once each", len(got), len(seen), n)
	}
	counts, err := w.store.CountByStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts[notify.StatusSent] != n {
		t.Errorf("counts %v, want %d sent", counts, n)
	}
}

func TestRunSendsAndWakesOnNotify(t *testing.T) {
	w := newWorld(t, notify.OutboxConfig{PollInterval: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- w.outbox.Run(ctx) }()
	// Run's first look happens at once; give it a moment, then notify:
	// the wake-up, not the hourly poll, must send it.
	time.Sleep(50 * time.Millisecond)
	w.notify(t, call("m1", "citizen:ct1"))
	deadline := time.Now().Add(5 * time.Second)
	for len(w.sender.Sent()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if len(w.sender.Sent()) != 1 {
		t.Error("Run did not send a message that was due at once")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

func TestOutboxWithoutSenderOnlyQueues(t *testing.T) {
	store := openStore(t)
	o := notify.NewOutbox(store, nil, nil, quiet(), time.Now, notify.OutboxConfig{})
	if err := o.Notify(t.Context(), call("m1", "citizen:ct1")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.SendDue(t.Context()); err == nil {
		t.Error("SendDue without a sender succeeded")
	}
	if err := o.Run(t.Context()); err == nil {
		t.Error("Run without a sender succeeded")
	}
}

// TestThroughWeChat sends through the real WeChat client and the
// library, against the fake WeChat: a refusing user fails at once, a
// busy WeChat is retried.
func TestThroughWeChat(t *testing.T) {
	f := wechattest.New(t)
	f.Refuse("openid-2")
	f.FailNext(wechattest.SubscribeSend, 1, -1)
	wc, err := wechat.New(f.Config())
	if err != nil {
		t.Fatal(err)
	}
	sub := wechat.NewSubscriber(wc, map[notify.Kind]wechat.Template{
		notify.KindCall: {ID: "tmpl-call", Fields: map[string]string{"number": "character_string1", "window": "thing2"}},
	})
	store := openStore(t)
	clk := &clock{t: t0}
	o := notify.NewOutbox(store, people, sub, quiet(), clk.Now, notify.OutboxConfig{Workers: 1, BaseDelay: time.Second})
	soon := call("soon", "citizen:ct1")
	soon.Kind = notify.KindTurnSoon
	if err := o.Notify(t.Context(), call("busy", "citizen:ct1"), call("refused", "citizen:ct2"), soon); err != nil {
		t.Fatal(err)
	}
	if s, fl, err := o.SendDue(t.Context()); err != nil || s != 0 || fl != 3 {
		t.Fatalf("first round: %d sent, %d failed, %v", s, fl, err)
	}
	clk.Add(time.Minute)
	if s, fl, err := o.SendDue(t.Context()); err != nil || s != 1 || fl != 0 {
		t.Fatalf("second round: %d sent, %d failed, %v", s, fl, err)
	}
	wantStatus := map[string]notify.Status{"busy": notify.StatusSent, "refused": notify.StatusFailed, "soon": notify.StatusFailed}
	for id, st := range wantStatus {
		m, err := store.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != st {
			t.Errorf("%s is %s (%s), want %s", id, m.Status, m.LastError, st)
		}
		if strings.Contains(m.LastError, "wechattest-token") || strings.Contains(m.LastError, wechattest.Secret) {
			t.Errorf("%s: LastError holds a credential: %s", id, m.LastError)
		}
	}
	if m, _ := store.GetMessage(t.Context(), "soon"); !strings.Contains(m.LastError, "queue_turn_soon") {
		t.Errorf("a kind without template failed with %q, want the kind named", m.LastError)
	}
	got := f.Subscribes()
	if len(got) != 1 || got[0].ToUser != "openid-1" || got[0].Data["character_string1"] != "A023" || got[0].Page != "pages/ticket/index?id=busy" {
		t.Errorf("WeChat got %+v", got)
	}
}

// TestWeChatFaults sends through the WeChat client against the fake
// WeChat while it fails in each way WeChat fails: a timeout, an HTTP 500,
// errcode 45009 (the daily quota: retried much later than a busy WeChat)
// and 40001 (an expired token: refreshed, and the send retried at once).
// Each message is retried with backoff and ends sent; one that keeps
// failing ends failed after MaxAttempts (a dead letter), and sent once a
// member of staff retries it. No message is lost.
func TestWeChatFaults(t *testing.T) {
	f := wechattest.New(t)
	cfg := f.Config()
	cfg.Timeout = 300 * time.Millisecond
	wc, err := wechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sub := wechat.NewSubscriber(wc, map[notify.Kind]wechat.Template{
		notify.KindCall: {ID: "tmpl-call", Fields: map[string]string{"number": "character_string1", "window": "thing2"}},
	})
	store := openStore(t)
	clk := &clock{t: t0}
	const base = 10 * time.Second
	o := notify.NewOutbox(store, people, sub, quiet(), clk.Now, notify.OutboxConfig{Workers: 1, MaxAttempts: 3, BaseDelay: base, MaxDelay: time.Minute})
	round := func(wantSent, wantFailed int) {
		t.Helper()
		if s, fl, err := o.SendDue(t.Context()); err != nil || s != wantSent || fl != wantFailed {
			t.Fatalf("SendDue: %d sent, %d failed, %v; want %d and %d", s, fl, err, wantSent, wantFailed)
		}
	}
	get := func(id string) notify.Message {
		t.Helper()
		m, err := store.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// retried checks a message failed once and waits for its backoff.
	retried := func(id, reason string, minWait, maxWait time.Duration) {
		t.Helper()
		m := get(id)
		if m.Status != notify.StatusPending || m.Attempts != 1 || !strings.Contains(m.LastError, reason) {
			t.Fatalf("%s after a failure: %s, %d attempts, %q; want pending, 1, %q", id, m.Status, m.Attempts, m.LastError, reason)
		}
		if wait := m.NextAttempt.Sub(clk.Now()); wait < minWait || wait > maxWait {
			t.Errorf("%s is retried after %s, want %s to %s", id, wait, minWait, maxWait)
		}
		if strings.Contains(m.LastError, wechattest.Secret) || strings.Contains(m.LastError, "access_token") {
			t.Errorf("%s: LastError holds a credential: %s", id, m.LastError)
		}
	}
	sentOnRetry := func(id string) {
		t.Helper()
		clk.Set(get(id).NextAttempt)
		round(1, 0)
		if m := get(id); m.Status != notify.StatusSent || m.Attempts != 2 {
			t.Errorf("%s on retry: %s after %d attempts (%s)", id, m.Status, m.Attempts, m.LastError)
		}
	}
	notifyOne := func(id string) {
		t.Helper()
		if err := o.Notify(t.Context(), call(id, "citizen:ct1")); err != nil {
			t.Fatal(err)
		}
	}

	// A token first, so that each fault below hits the send itself.
	notifyOne("warm-up")
	round(1, 0)

	t.Run("timeout", func(t *testing.T) {
		f.SetLatency(wechattest.SubscribeSend, 2*time.Second)
		notifyOne("slow")
		round(0, 1)
		f.SetLatency(wechattest.SubscribeSend, 0)
		retried("slow", "超时", base/2, base)
		sentOnRetry("slow")
	})
	t.Run("http 500", func(t *testing.T) {
		f.FailNextStatus(wechattest.SubscribeSend, 1, 500)
		notifyOne("http500")
		round(0, 1)
		retried("http500", "http status 500", base/2, base)
		sentOnRetry("http500")
	})
	t.Run("45009 daily quota", func(t *testing.T) {
		f.FailNext(wechattest.SubscribeSend, 1, 45009)
		notifyOne("quota")
		round(0, 1)
		retried("quota", "errcode 45009", time.Hour, time.Hour)
		sentOnRetry("quota")
	})
	t.Run("40001 expired token", func(t *testing.T) {
		tokens, sends := f.TokensIssued(), f.Calls(wechattest.SubscribeSend)
		f.ExpireToken()
		notifyOne("token")
		round(1, 0)
		if m := get("token"); m.Status != notify.StatusSent || m.Attempts != 1 {
			t.Errorf("token: %s after %d attempts, want sent at the first", m.Status, m.Attempts)
		}
		if n := f.TokensIssued() - tokens; n != 1 {
			t.Errorf("%d tokens fetched after 40001, want 1", n)
		}
		if n := f.Calls(wechattest.SubscribeSend) - sends; n != 2 {
			t.Errorf("%d sends for one message after 40001, want 2 (refused, then with the new token)", n)
		}
	})
	t.Run("failing for good, then retried by staff", func(t *testing.T) {
		f.FailNextStatus(wechattest.SubscribeSend, 3, 502)
		notifyOne("dead")
		round(0, 1)
		waits := []time.Duration{}
		for range 2 {
			m := get("dead")
			waits = append(waits, m.NextAttempt.Sub(clk.Now()))
			clk.Set(m.NextAttempt)
			round(0, 1)
		}
		if waits[1] < base { // the second wait is drawn from [base, 2·base]
			t.Errorf("backoff did not grow: %v", waits)
		}
		m := get("dead")
		if m.Status != notify.StatusFailed || m.Attempts != 3 || !strings.Contains(m.LastError, "502") {
			t.Fatalf("after MaxAttempts: %s, %d attempts, %q; want failed, 3", m.Status, m.Attempts, m.LastError)
		}
		dead, err := o.Failed(t.Context(), 0)
		if err != nil || len(dead) != 1 || dead[0].ID != "dead" {
			t.Fatalf("dead letters: %v %v", dead, err)
		}
		if err := o.Retry(t.Context(), "dead"); err != nil {
			t.Fatal(err)
		}
		if err := o.Retry(t.Context(), "dead"); !apperr.Is(err, apperr.Conflict) {
			t.Errorf("retrying a pending message: %v, want conflict", err)
		}
		round(1, 0)
		if m := get("dead"); m.Status != notify.StatusSent || m.Attempts != 1 {
			t.Errorf("after the retry: %s, %d attempts", m.Status, m.Attempts)
		}
		if dead, _ := o.Failed(t.Context(), 0); len(dead) != 0 {
			t.Errorf("dead letters after the retry: %v", dead)
		}
	})

	counts, err := store.CountByStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if counts[notify.StatusSent] != 6 || counts[notify.StatusPending] != 0 || counts[notify.StatusFailed] != 0 {
		t.Errorf("outbox at the end: %v; want all 6 sent, none lost", counts)
	}
	if got := len(f.Subscribes()); got != 6 {
		t.Errorf("WeChat accepted %d messages, want 6", got)
	}
}
