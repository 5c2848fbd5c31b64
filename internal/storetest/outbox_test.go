package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestOutboxStore is the contract of notify.Store.
func TestOutboxStore(t *testing.T) {
	runContract(t, pickOutbox, outboxScenarios)
}

// pickOutbox builds the outbox store on the backend's raw database.
func pickOutbox(s stores) notify.Store {
	if s.sqlite != nil {
		return sqlite.NewOutboxStore(s.sqlite)
	}
	return mongo.NewOutboxStore(s.mongo)
}

var outboxScenarios = []scenario[notify.Store]{
	{"enqueued messages read back equal: pending, due at NotBefore or else CreatedAt", testOutboxEnqueueGet},
	{"enqueue is idempotent: a stored ID keeps its first content, even once sent", testOutboxEnqueueIdempotent},
	{"claim takes due pending messages only, oldest first then by ID, up to limit", testOutboxClaimOrder},
	{"a claimed message is hidden until its lease ends, then claimed again", testOutboxLease},
	{"claim with limit 0 claims nothing; a lease not after now is refused", testOutboxClaimArgs},
	{"concurrent claimers never get one message twice and together get all", testOutboxClaimRace},
	{"mark sent: attempts and time recorded; a second mark changes nothing", testOutboxMarkSent},
	{"mark failed: retried at retryAt, then failed for good", testOutboxMarkFailed},
	{"withdraw affects pending messages only", testOutboxWithdraw},
	{"a message withdrawn while being sent is recorded as sent", testOutboxWithdrawnThenSent},
	{"count by status counts every status, zeros included", testOutboxCount},
	{"unknown message: get, mark sent and mark failed are not found", testOutboxNotFound},
	{"dead letters: failed messages listed newest first; requeue makes one pending, due, untried", testOutboxDeadLetters},
}

// obAt is the outbox scenarios' "now": a time with a zone and
// nanoseconds, so stores that keep either wrong are caught.
var obAt = time.Date(2025, 3, 14, 9, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// obMessage is a message as notify.Outbox.Notify hands it to the store,
// every field a producer sets set.
func obMessage(id string, notBefore time.Time) notify.Message {
	return notify.Message{
		ID:        id,
		To:        "citizen:ct0195" + id,
		Kind:      notify.KindCall,
		Data:      map[string]string{"number": "A023", "window": "5号窗口", "id": id},
		Page:      "pages/ticket/index?id=" + id,
		NotBefore: notBefore,
		CreatedAt: obAt.Add(-time.Minute),
	}
}

// obStored is how a store returns a message it was just given.
func obStored(m notify.Message) notify.Message {
	m.Status, m.Attempts, m.LastError, m.SentAt = notify.StatusPending, 0, "", time.Time{}
	m.NextAttempt = m.NotBefore
	if m.NextAttempt.IsZero() {
		m.NextAttempt = m.CreatedAt
	}
	m.NotBefore, m.CreatedAt, m.NextAttempt = stored(m.NotBefore), stored(m.CreatedAt), stored(m.NextAttempt)
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return m
}

func obSame(t *testing.T, what string, got, want notify.Message) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.NotBefore, got.CreatedAt, got.NextAttempt, got.SentAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

func obGet(t *testing.T, s notify.Store, id string) notify.Message {
	t.Helper()
	m, err := s.GetMessage(t.Context(), id)
	must(t, "get message "+id, err)
	return m
}

func obEnqueue(t *testing.T, s notify.Store, msgs ...notify.Message) {
	t.Helper()
	must(t, "enqueue", s.Enqueue(t.Context(), msgs...))
}

func obClaim(t *testing.T, s notify.Store, now, leaseUntil time.Time, limit int) []notify.Message {
	t.Helper()
	ms, err := s.Claim(t.Context(), now, leaseUntil, limit)
	must(t, "claim", err)
	return ms
}

func obIDs(ms []notify.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func obStatus(t *testing.T, s notify.Store, id string, want notify.Status) notify.Message {
	t.Helper()
	m := obGet(t, s, id)
	if m.Status != want {
		t.Errorf("message %s is %s, want %s", id, m.Status, want)
	}
	return m
}

func testOutboxEnqueueGet(t *testing.T, s notify.Store) {
	later := obMessage("remind-day:ap1", obAt.Add(24*time.Hour))
	now := obMessage("call:tk1:1", time.Time{})
	bare := notify.Message{ID: "bare", To: "id:blind", Kind: notify.KindTurnSoon, CreatedAt: obAt}
	// What a store must ignore: a message always starts pending, untried.
	odd := obMessage("odd", obAt)
	odd.Status, odd.Attempts, odd.LastError = notify.StatusSent, 7, "boom"
	odd.NextAttempt, odd.SentAt = obAt.Add(time.Hour), obAt
	obEnqueue(t, s, later, now, bare, odd)

	for _, m := range []notify.Message{later, now, bare, odd} {
		obSame(t, "message "+m.ID, obGet(t, s, m.ID), obStored(m))
	}
	if got := obGet(t, s, "bare"); got.Data != nil {
		t.Errorf("empty data reads back as %#v, want nil", got.Data)
	}
	must(t, "enqueue nothing", s.Enqueue(t.Context()))
}

func testOutboxEnqueueIdempotent(t *testing.T, s notify.Store) {
	first := obMessage("call:tk1:1", time.Time{})
	again := obMessage("call:tk1:1", obAt.Add(time.Hour))
	again.To, again.Data, again.Kind = "citizen:someone-else", map[string]string{"number": "B999"}, notify.KindTurnSoon
	obEnqueue(t, s, first)
	obEnqueue(t, s, again)
	obSame(t, "after a second enqueue", obGet(t, s, first.ID), obStored(first))

	// Twice in one call: the first stays.
	a, b := obMessage("dup", time.Time{}), obMessage("dup", time.Time{})
	b.Page = "pages/other"
	obEnqueue(t, s, a, b)
	obSame(t, "duplicate in one call", obGet(t, s, "dup"), obStored(a))

	got := obClaim(t, s, obAt, obAt.Add(time.Minute), 10)
	if len(got) != 2 {
		t.Fatalf("claimed %v, want the two messages once each", obIDs(got))
	}
	must(t, "mark sent", s.MarkSent(t.Context(), first.ID, obAt))
	sent := obGet(t, s, first.ID)
	obEnqueue(t, s, again)
	obEnqueue(t, s, first)
	obSame(t, "a sent message enqueued again", obGet(t, s, first.ID), sent)
	if sent.Status != notify.StatusSent {
		t.Errorf("status %s, want sent", sent.Status)
	}
	counts, err := s.CountByStatus(t.Context())
	must(t, "count", err)
	if counts[notify.StatusSent] != 1 || counts[notify.StatusPending] != 1 {
		t.Errorf("counts %v, want one sent and one pending", counts)
	}
	if got := obClaim(t, s, obAt.Add(2*time.Hour), obAt.Add(3*time.Hour), 10); !slices.Equal(obIDs(got), []string{"dup"}) {
		t.Errorf("claimed %v after re-enqueueing a sent message, want only [dup]", obIDs(got))
	}
}

func testOutboxClaimOrder(t *testing.T, s notify.Store) {
	// Due in this order: c (1 h ago), a and b (30 min ago, ties by ID),
	// d (now, NotBefore zero so CreatedAt); e is not due yet.
	c := obMessage("c", obAt.Add(-time.Hour))
	b := obMessage("b", obAt.Add(-30*time.Minute))
	a := obMessage("a", obAt.Add(-30*time.Minute))
	d := obMessage("d", time.Time{})
	d.CreatedAt = obAt
	e := obMessage("e", obAt.Add(time.Millisecond))
	// Not pending: never claimed.
	w := obMessage("w", obAt.Add(-2*time.Hour))
	obEnqueue(t, s, e, d, b, w, c, a)
	must(t, "withdraw", s.Withdraw(t.Context(), "w"))

	lease := obAt.Add(time.Minute)
	got := obClaim(t, s, obAt, lease, 2)
	if want := []string{"c", "a"}; !slices.Equal(obIDs(got), want) {
		t.Fatalf("first claim %v, want %v", obIDs(got), want)
	}
	for _, m := range got {
		want := obStored(map[string]notify.Message{"c": c, "a": a}[m.ID])
		want.NextAttempt = stored(lease)
		obSame(t, "claimed "+m.ID, m, want)
		obSame(t, "stored after claim "+m.ID, obGet(t, s, m.ID), want)
	}
	got = obClaim(t, s, obAt, lease, 10)
	if want := []string{"b", "d"}; !slices.Equal(obIDs(got), want) {
		t.Fatalf("second claim %v, want %v", obIDs(got), want)
	}
	if got := obClaim(t, s, obAt, lease, 10); len(got) != 0 {
		t.Fatalf("third claim %v, want nothing: e is not due", obIDs(got))
	}
	if got := obClaim(t, s, obAt.Add(time.Millisecond), lease, 10); !slices.Equal(obIDs(got), []string{"e"}) {
		t.Fatalf("claim at e's NotBefore: %v, want [e]", obIDs(got))
	}
	obStatus(t, s, "w", notify.StatusWithdrawn)
}

func testOutboxLease(t *testing.T, s notify.Store) {
	obEnqueue(t, s, obMessage("m1", obAt), obMessage("m2", obAt.Add(time.Second)))
	lease := obAt.Add(2 * time.Minute)
	if got := obClaim(t, s, obAt, lease, 1); !slices.Equal(obIDs(got), []string{"m1"}) {
		t.Fatalf("claimed %v, want [m1]", obIDs(got))
	}
	// A second sender a little later gets m2, not the leased m1.
	if got := obClaim(t, s, obAt.Add(time.Minute), obAt.Add(3*time.Minute), 10); !slices.Equal(obIDs(got), []string{"m2"}) {
		t.Fatalf("claimed %v during m1's lease, want [m2]", obIDs(got))
	}
	if got := obClaim(t, s, lease.Add(-time.Millisecond), lease.Add(time.Minute), 10); len(got) != 0 {
		t.Fatalf("claimed %v just before the leases end, want nothing", obIDs(got))
	}
	// The sender of m1 died: at the end of its lease m1 is due again,
	// untouched but for NextAttempt.
	got := obClaim(t, s, lease, lease.Add(time.Minute), 10)
	if !slices.Equal(obIDs(got), []string{"m1"}) {
		t.Fatalf("claimed %v at the end of m1's lease, want [m1]", obIDs(got))
	}
	if got[0].Attempts != 0 || got[0].Status != notify.StatusPending || !got[0].NextAttempt.Equal(stored(lease.Add(time.Minute))) {
		t.Errorf("reclaimed m1: %+v", got[0])
	}
}

func testOutboxClaimArgs(t *testing.T, s notify.Store) {
	obEnqueue(t, s, obMessage("m1", obAt))
	got, err := s.Claim(t.Context(), obAt, obAt.Add(time.Minute), 0)
	if err != nil || len(got) != 0 {
		t.Fatalf("claim with limit 0: %v, %v; want nothing", obIDs(got), err)
	}
	for _, lease := range []time.Time{obAt, obAt.Add(-time.Minute)} {
		if _, err := s.Claim(t.Context(), obAt, lease, 10); err == nil {
			t.Errorf("claim with lease until %v at %v succeeded", lease, obAt)
		}
	}
	if got := obClaim(t, s, obAt, obAt.Add(time.Minute), 10); !slices.Equal(obIDs(got), []string{"m1"}) {
		t.Fatalf("claimed %v after refused claims, want [m1]", obIDs(got))
	}
}

func testOutboxClaimRace(t *testing.T, s notify.Store) {
	const n, senders, batch = 200, 8, 5
	msgs := make([]notify.Message, n)
	for i := range msgs {
		msgs[i] = obMessage(fmt.Sprintf("m%04d", i), obAt.Add(-time.Duration(i)*time.Second))
	}
	obEnqueue(t, s, msgs...)

	claimed := make([][]string, senders)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range senders {
		wg.Go(func() {
			<-start
			for {
				got, err := s.Claim(t.Context(), obAt, obAt.Add(time.Minute), batch)
				if err != nil {
					errs[w] = err
					return
				}
				if len(got) == 0 {
					return
				}
				if len(got) > batch {
					errs[w] = fmt.Errorf("claimed %d messages with limit %d", len(got), batch)
					return
				}
				claimed[w] = append(claimed[w], obIDs(got)...)
			}
		})
	}
	close(start)
	wg.Wait()

	seen := map[string]int{}
	for w, ids := range claimed {
		if errs[w] != nil {
			t.Errorf("sender %d: %v", w, errs[w])
		}
		for _, id := range ids {
			if prev, ok := seen[id]; ok {
				t.Errorf("message %s claimed by senders %d and %d", id, prev, w)
			}
			seen[id] = w
		}
	}
	if len(seen) != n {
		t.Errorf("%d of %d messages claimed", len(seen), n)
	}
	if got := obClaim(t, s, obAt, obAt.Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("claimed %v after the race, want nothing", obIDs(got))
	}
}

func testOutboxMarkSent(t *testing.T, s notify.Store) {
	m := obMessage("m1", obAt)
	obEnqueue(t, s, m)
	obClaim(t, s, obAt, obAt.Add(time.Minute), 10)
	sentAt := obAt.Add(3 * time.Second)
	must(t, "mark sent", s.MarkSent(t.Context(), "m1", sentAt))

	want := obStored(m)
	want.Status, want.Attempts, want.SentAt, want.NextAttempt = notify.StatusSent, 1, stored(sentAt), stored(obAt.Add(time.Minute))
	obSame(t, "sent", obGet(t, s, "m1"), want)

	must(t, "mark sent again", s.MarkSent(t.Context(), "m1", sentAt.Add(time.Hour)))
	must(t, "mark failed after sent", s.MarkFailed(t.Context(), "m1", "late", obAt.Add(time.Hour)))
	must(t, "withdraw after sent", s.Withdraw(t.Context(), "m1"))
	obSame(t, "sent, after marks and a withdrawal", obGet(t, s, "m1"), want)
	if got := obClaim(t, s, obAt.Add(2*time.Hour), obAt.Add(3*time.Hour), 10); len(got) != 0 {
		t.Errorf("claimed a sent message: %v", obIDs(got))
	}
}

func testOutboxMarkFailed(t *testing.T, s notify.Store) {
	m := obMessage("m1", obAt)
	obEnqueue(t, s, m)
	obClaim(t, s, obAt, obAt.Add(time.Minute), 10)

	retry := obAt.Add(30 * time.Second)
	must(t, "mark failed", s.MarkFailed(t.Context(), "m1", "wechat: errcode -1 (system busy)", retry))
	want := obStored(m)
	want.Attempts, want.LastError, want.NextAttempt = 1, "wechat: errcode -1 (system busy)", stored(retry)
	obSame(t, "after a temporary failure", obGet(t, s, "m1"), want)

	if got := obClaim(t, s, retry.Add(-time.Millisecond), retry.Add(time.Minute), 10); len(got) != 0 {
		t.Fatalf("claimed %v before retryAt", obIDs(got))
	}
	got := obClaim(t, s, retry, retry.Add(time.Minute), 10)
	if !slices.Equal(obIDs(got), []string{"m1"}) || got[0].Attempts != 1 || got[0].LastError != want.LastError {
		t.Fatalf("claim at retryAt: %+v", got)
	}

	must(t, "mark failed for good", s.MarkFailed(t.Context(), "m1", "no mini-program account", time.Time{}))
	failed := obStatus(t, s, "m1", notify.StatusFailed)
	if failed.Attempts != 2 || failed.LastError != "no mini-program account" || !failed.SentAt.IsZero() {
		t.Errorf("failed for good: %+v", failed)
	}
	if got := obClaim(t, s, obAt.Add(24*time.Hour), obAt.Add(25*time.Hour), 10); len(got) != 0 {
		t.Errorf("claimed a failed message: %v", obIDs(got))
	}
	// A failed message stays as it is.
	must(t, "mark failed again", s.MarkFailed(t.Context(), "m1", "again", retry.Add(time.Hour)))
	must(t, "mark sent after failed", s.MarkSent(t.Context(), "m1", obAt))
	must(t, "withdraw after failed", s.Withdraw(t.Context(), "m1"))
	obSame(t, "failed, after marks and a withdrawal", obGet(t, s, "m1"), failed)
}

func testOutboxWithdraw(t *testing.T, s notify.Store) {
	for _, id := range []string{"pending", "leased", "sent", "failed", "other"} {
		obEnqueue(t, s, obMessage(id, obAt.Add(-time.Hour)))
	}
	got := obClaim(t, s, obAt, obAt.Add(time.Minute), 10)
	if len(got) != 5 {
		t.Fatalf("claimed %v, want all five", obIDs(got))
	}
	must(t, "mark sent", s.MarkSent(t.Context(), "sent", obAt))
	must(t, "mark failed", s.MarkFailed(t.Context(), "failed", "gone", time.Time{}))
	must(t, "mark failed, retry", s.MarkFailed(t.Context(), "pending", "busy", obAt))

	before := obGet(t, s, "pending")
	must(t, "withdraw", s.Withdraw(t.Context(), "pending", "leased", "sent", "failed", "unknown"))
	w := obStatus(t, s, "pending", notify.StatusWithdrawn)
	before.Status = notify.StatusWithdrawn
	obSame(t, "withdrawn keeps all but its status", w, before)
	obStatus(t, s, "leased", notify.StatusWithdrawn)
	obStatus(t, s, "sent", notify.StatusSent)
	obStatus(t, s, "failed", notify.StatusFailed)
	obStatus(t, s, "other", notify.StatusPending)
	if _, err := s.GetMessage(t.Context(), "unknown"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("withdrawing an unknown ID stored something: %v", err)
	}

	got = obClaim(t, s, obAt.Add(time.Hour), obAt.Add(2*time.Hour), 10)
	if !slices.Equal(obIDs(got), []string{"other"}) {
		t.Errorf("claimed %v after the withdrawal, want [other]", obIDs(got))
	}
	// A withdrawn message stays withdrawn: a failure does not revive it.
	must(t, "mark failed after withdrawn", s.MarkFailed(t.Context(), "pending", "busy", obAt.Add(time.Hour)))
	obSame(t, "withdrawn after a failed attempt", obGet(t, s, "pending"), w)
	must(t, "withdraw nothing", s.Withdraw(t.Context()))
}

func testOutboxWithdrawnThenSent(t *testing.T, s notify.Store) {
	obEnqueue(t, s, obMessage("m1", obAt))
	obClaim(t, s, obAt, obAt.Add(time.Minute), 10)
	must(t, "withdraw during the send", s.Withdraw(t.Context(), "m1"))
	must(t, "mark sent", s.MarkSent(t.Context(), "m1", obAt.Add(time.Second)))
	m := obStatus(t, s, "m1", notify.StatusSent)
	if m.Attempts != 1 || !m.SentAt.Equal(stored(obAt.Add(time.Second))) {
		t.Errorf("sent after withdrawn: %+v", m)
	}
}

func testOutboxCount(t *testing.T, s notify.Store) {
	counts, err := s.CountByStatus(t.Context())
	must(t, "count empty", err)
	want := map[notify.Status]int{notify.StatusPending: 0, notify.StatusSent: 0, notify.StatusFailed: 0, notify.StatusWithdrawn: 0}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("empty outbox counts %v, want %v", counts, want)
	}
	for i := range 10 {
		obEnqueue(t, s, obMessage(fmt.Sprintf("m%02d", i), obAt))
	}
	obClaim(t, s, obAt, obAt.Add(time.Minute), 6)
	for _, id := range []string{"m00", "m01", "m02"} {
		must(t, "mark sent", s.MarkSent(t.Context(), id, obAt))
	}
	must(t, "mark failed", s.MarkFailed(t.Context(), "m03", "x", time.Time{}))
	must(t, "mark failed, retry", s.MarkFailed(t.Context(), "m04", "x", obAt.Add(time.Minute)))
	must(t, "withdraw", s.Withdraw(t.Context(), "m08", "m09", "m00"))
	counts, err = s.CountByStatus(t.Context())
	must(t, "count", err)
	want = map[notify.Status]int{notify.StatusPending: 4, notify.StatusSent: 3, notify.StatusFailed: 1, notify.StatusWithdrawn: 2}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
}

func testOutboxNotFound(t *testing.T, s notify.Store) {
	obEnqueue(t, s, obMessage("m1", obAt))
	_, err := s.GetMessage(t.Context(), "nope")
	wantCode(t, "get unknown", err, apperr.NotFound)
	wantCode(t, "mark unknown sent", s.MarkSent(t.Context(), "nope", obAt), apperr.NotFound)
	wantCode(t, "mark unknown failed", s.MarkFailed(t.Context(), "nope", "x", obAt), apperr.NotFound)
	wantCode(t, "mark unknown failed for good", s.MarkFailed(t.Context(), "nope", "x", time.Time{}), apperr.NotFound)
	obStatus(t, s, "m1", notify.StatusPending)
}

func testOutboxDeadLetters(t *testing.T, s notify.Store) {
	var msgs []notify.Message
	for i, id := range []string{"d1", "d2", "d3", "ok"} {
		m := obMessage(id, time.Time{})
		m.CreatedAt = obAt.Add(time.Duration(i) * time.Minute)
		msgs = append(msgs, m)
	}
	obEnqueue(t, s, msgs...)
	obClaim(t, s, obAt.Add(time.Hour), obAt.Add(2*time.Hour), 10)
	for _, id := range []string{"d1", "d2", "d3"} {
		must(t, "fail "+id, s.MarkFailed(t.Context(), id, "wechat: errcode 45009 "+id, time.Time{}))
	}
	must(t, "send ok", s.MarkSent(t.Context(), "ok", obAt.Add(time.Hour)))

	got, err := s.ListFailed(t.Context(), 10)
	must(t, "list failed", err)
	if !slices.Equal(obIDs(got), []string{"d3", "d2", "d1"}) {
		t.Fatalf("failed messages %v, want d3 d2 d1", obIDs(got))
	}
	if got[0].Attempts != 1 || got[0].LastError != "wechat: errcode 45009 d3" || got[0].To != msgs[2].To || got[0].Kind != notify.KindCall {
		t.Errorf("dead letter d3 reads %+v", got[0])
	}
	if got, err := s.ListFailed(t.Context(), 2); err != nil || !slices.Equal(obIDs(got), []string{"d3", "d2"}) {
		t.Errorf("list failed, limit 2: %v %v", obIDs(got), err)
	}
	if got, err := s.ListFailed(t.Context(), 0); err != nil || len(got) != 0 {
		t.Errorf("list failed, limit 0: %v %v", obIDs(got), err)
	}

	at := obAt.Add(3 * time.Hour)
	must(t, "requeue d2", s.Requeue(t.Context(), "d2", at))
	m := obStatus(t, s, "d2", notify.StatusPending)
	if m.Attempts != 0 || !m.NextAttempt.Equal(stored(at)) || m.LastError != "wechat: errcode 45009 d2" {
		t.Errorf("requeued d2 reads %+v", m)
	}
	if got := obClaim(t, s, at, at.Add(time.Minute), 10); !slices.Equal(obIDs(got), []string{"d2"}) {
		t.Errorf("claim after requeue: %v, want d2", obIDs(got))
	}
	if got, _ := s.ListFailed(t.Context(), 10); !slices.Equal(obIDs(got), []string{"d3", "d1"}) {
		t.Errorf("failed after requeue: %v", obIDs(got))
	}
	for id, code := range map[string]apperr.Code{"d2": apperr.Conflict, "ok": apperr.Conflict, "nobody": apperr.NotFound} {
		if err := s.Requeue(t.Context(), id, at); !apperr.Is(err, code) {
			t.Errorf("requeue %s: %v, want %s", id, err, code)
		}
	}
}
