package storetest

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestIdempotencyStoreContract is the contract of idempotency.Store, and
// of the service's claims on it: two requests racing with one key run once.
func TestIdempotencyStoreContract(t *testing.T) {
	runContract(t, pickIdempotency, idempotencyScenarios)
}

func pickIdempotency(s stores) idempotency.Store {
	if s.sqlite != nil {
		return sqlite.NewIdempotencyStore(s.sqlite)
	}
	return mongo.NewIdempotencyStore(s.mongo)
}

var idempotencyScenarios = []scenario[idempotency.Store]{
	{"a claimed key reads back pending, its time in UTC to the millisecond", testKeyCreateGet},
	{"claiming a key twice is a conflict and keeps the first claim", testKeyCreateTwice},
	{"finishing stores the response once, only for the same claim", testKeyFinish},
	{"deleting removes only the same claim", testKeyDelete},
	{"the sweep deletes the keys claimed before the cut-off only", testKeySweep},
	{"of ten concurrent claims of one key exactly one wins", testKeyConcurrent},
	{"two concurrent requests with one key: one runs, the other replays its response", testKeyServiceRace},
	{"a retry with another body is refused; a released key runs again", testKeyServiceReuse},
}

var ikAt = time.Date(2026, 11, 26, 8, 30, 1, 987654321, time.FixedZone("CST", 8*3600))

func getKey(t *testing.T, s idempotency.Store, id string) idempotency.Record {
	t.Helper()
	r, err := s.GetKey(t.Context(), id)
	if err != nil {
		t.Fatalf("get key %s: %v", id, err)
	}
	return r
}

func testKeyCreateGet(t *testing.T, s idempotency.Store) {
	if err := s.CreateKey(t.Context(), idempotency.Record{ID: "k1", Fingerprint: "fp1", Created: ikAt}); err != nil {
		t.Fatal(err)
	}
	r := getKey(t, s, "k1")
	if r.ID != "k1" || r.Fingerprint != "fp1" || r.Done || r.Status != 0 || len(r.Body) != 0 || !r.Created.Equal(stored(ikAt)) || r.Created.Location() != time.UTC {
		t.Errorf("got %+v, want pending k1 fp1 created %v UTC", r, stored(ikAt))
	}
	if _, err := s.GetKey(t.Context(), "nope"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown key: %v, want not_found", err)
	}
}

func testKeyCreateTwice(t *testing.T, s idempotency.Store) {
	if err := s.CreateKey(t.Context(), idempotency.Record{ID: "k1", Fingerprint: "fp1", Created: ikAt}); err != nil {
		t.Fatal(err)
	}
	err := s.CreateKey(t.Context(), idempotency.Record{ID: "k1", Fingerprint: "fp2", Created: ikAt.Add(time.Second)})
	if !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second claim: %v, want conflict", err)
	}
	if r := getKey(t, s, "k1"); r.Fingerprint != "fp1" || !r.Created.Equal(stored(ikAt)) {
		t.Errorf("first claim changed: %+v", r)
	}
}

func testKeyFinish(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	if err := s.CreateKey(ctx, idempotency.Record{ID: "k1", Fingerprint: "fp1", Created: ikAt}); err != nil {
		t.Fatal(err)
	}
	// Another claim's finish (a different creation time) changes nothing.
	if err := s.FinishKey(ctx, "k1", ikAt.Add(time.Second), 201, "application/json", []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if r := getKey(t, s, "k1"); r.Done {
		t.Fatalf("finished by another claim: %+v", r)
	}
	body := []byte("{\"number\":\"A001\",\"bin\":\"\x00\xff\"}")
	if err := s.FinishKey(ctx, "k1", ikAt, 201, "application/json", body); err != nil {
		t.Fatal(err)
	}
	r := getKey(t, s, "k1")
	if !r.Done || r.Status != 201 || r.ContentType != "application/json" || !bytes.Equal(r.Body, body) {
		t.Errorf("got %+v, want done 201 with the body", r)
	}
	// A done key is not finished again.
	if err := s.FinishKey(ctx, "k1", ikAt, 409, "application/problem+json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if r := getKey(t, s, "k1"); r.Status != 201 || !bytes.Equal(r.Body, body) {
		t.Errorf("finished twice: %+v", r)
	}
	// Finishing a key that is gone is no error.
	if err := s.FinishKey(ctx, "gone", ikAt, 201, "", nil); err != nil {
		t.Errorf("finish a missing key: %v", err)
	}
}

func testKeyDelete(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	if err := s.CreateKey(ctx, idempotency.Record{ID: "k1", Fingerprint: "fp1", Created: ikAt}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKey(ctx, "k1", ikAt.Add(time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	getKey(t, s, "k1")
	if err := s.DeleteKey(ctx, "k1", ikAt); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetKey(ctx, "k1"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("after delete: %v, want not_found", err)
	}
	if err := s.CreateKey(ctx, idempotency.Record{ID: "k1", Fingerprint: "fp2", Created: ikAt}); err != nil {
		t.Errorf("claim again after delete: %v", err)
	}
}

func testKeySweep(t *testing.T, s idempotency.Store) {
	ctx := t.Context()
	for i, id := range []string{"old1", "old2", "new1"} {
		at := ikAt.Add(time.Duration(i) * time.Hour)
		if err := s.CreateKey(ctx, idempotency.Record{ID: id, Fingerprint: "fp", Created: at}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.FinishKey(ctx, "old1", ikAt, 200, "application/json", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	n, err := s.SweepKeys(ctx, ikAt.Add(90*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("sweep: %d, %v; want 2", n, err)
	}
	for _, id := range []string{"old1", "old2"} {
		if _, err := s.GetKey(ctx, id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("%s after sweep: %v, want not_found", id, err)
		}
	}
	getKey(t, s, "new1")
}

func testKeyConcurrent(t *testing.T, s idempotency.Store) {
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateKey(t.Context(), idempotency.Record{ID: "race", Fingerprint: "fp", Created: ikAt.Add(time.Duration(i) * time.Millisecond)})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !apperr.Is(err, apperr.Conflict):
			t.Errorf("claim: %v, want nil or conflict", err)
		}
	}
	if won != 1 {
		t.Errorf("%d claims won, want 1", won)
	}
}

func newKeyService(s idempotency.Store) *idempotency.Service {
	return idempotency.NewService(s, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Now, idempotency.Config{Wait: 10 * time.Second})
}

func testKeyServiceRace(t *testing.T, s idempotency.Store) {
	svc := newKeyService(s)
	ctx := t.Context()
	const n = 4
	var wg sync.WaitGroup
	var mu sync.Mutex
	runs := 0
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() {
			c, err := svc.Begin(ctx, "citizen:c1", "key-1", "fp")
			if err != nil {
				t.Errorf("begin: %v", err)
				return
			}
			if c.Replay != nil {
				bodies[i] = string(c.Replay.Body)
				return
			}
			mu.Lock()
			runs++
			mu.Unlock()
			time.Sleep(50 * time.Millisecond) // the request's work
			bodies[i] = `{"number":"A001"}`
			svc.Finish(ctx, c, 201, "application/json", []byte(bodies[i]))
		})
	}
	wg.Wait()
	if runs != 1 {
		t.Errorf("the request ran %d times, want once", runs)
	}
	for i, b := range bodies {
		if b != `{"number":"A001"}` {
			t.Errorf("request %d got %q, want the one response", i, b)
		}
	}
	// Another caller with the same key is another request.
	c, err := svc.Begin(ctx, "citizen:c2", "key-1", "fp")
	if err != nil || c.Replay != nil {
		t.Errorf("another caller's key: replay %v, err %v; want a fresh claim", c.Replay, err)
	}
}

func testKeyServiceReuse(t *testing.T, s idempotency.Store) {
	svc := newKeyService(s)
	ctx := t.Context()
	c, err := svc.Begin(ctx, "staff:s1", "k", "fp-a")
	if err != nil {
		t.Fatal(err)
	}
	svc.Finish(ctx, c, 200, "application/json", []byte(`{}`))
	if _, err := svc.Begin(ctx, "staff:s1", "k", "fp-b"); !apperr.Is(err, idempotency.CodeKeyReused) {
		t.Errorf("other body: %v, want %s", err, idempotency.CodeKeyReused)
	}
	// A server fault releases the key: the retry runs.
	c, err = svc.Begin(ctx, "staff:s1", "k2", "fp")
	if err != nil {
		t.Fatal(err)
	}
	svc.Finish(ctx, c, 503, "application/problem+json", []byte(`{}`))
	c, err = svc.Begin(ctx, "staff:s1", "k2", "fp")
	if err != nil || c.Replay != nil {
		t.Errorf("after a 503: replay %v, err %v; want to run again", c.Replay, err)
	}
	if _, err := svc.Begin(ctx, "staff:s1", "", "fp"); !apperr.Is(err, idempotency.CodeKeyInvalid) {
		t.Errorf("empty key: %v", err)
	}
	if _, err := svc.Begin(ctx, "staff:s1", "k\n", "fp"); !apperr.Is(err, idempotency.CodeKeyInvalid) {
		t.Errorf("control character: %v", err)
	}
}
