package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// TestKioskStore is the contract of identity.KioskStore.
func TestKioskStore(t *testing.T) {
	runContract(t, func(s stores) identity.KioskStore { return s.kiosks }, kioskScenarios)
}

var kioskScenarios = []scenario[identity.KioskStore]{
	{"created kiosks read back equal, sealed secret, flags and times included", testKioskCreateGet},
	{"duplicate kiosk id is a conflict and keeps the first", testKioskDuplicate},
	{"unknown kiosk is not found by get, revoke and heartbeat", testKioskNotFound},
	{"kiosks are listed per center by id, revoked ones too", testKioskList},
	{"revoke marks a kiosk revoked once and keeps the first time", testKioskRevoke},
	{"heartbeat stores last seen and the peripherals' state only", testKioskHeartbeat},
	{"a nonce is used once per kiosk; another kiosk may use it too", testUseNonce},
	{"concurrent uses of one nonce: exactly one succeeds", testUseNonceRace},
	{"sweep forgets only older nonces, which can then be used again", testSweepNonces},
}

// Kiosk IDs as identity.Kiosks.Register makes them.
const (
	ks1 = "ks0195a1b2c3d4e5f60718293a4b5c"
	ks2 = "ks0195a1b2c3d4e5f60718293a4b5d"
	ks3 = "ks0195a1b2c3d4e5f60718293a4b5e"
	ks4 = "ks0195a1b2c3d4e5f60718293a4b5f"
)

// fullKiosk sets every field a registration sets, so a store that drops
// one is caught; revocation and heartbeat fields stay unset.
func fullKiosk(id, center string) identity.Kiosk {
	return identity.Kiosk{
		ID: id, Center: center, Location: "一楼大厅东侧 " + id[len(id)-2:],
		CardReader: true, Printer: true,
		SecretSealed: "v1.sealed-secret-" + id,
		CreatedAt:    at.Add(-time.Hour),
	}
}

// storedKiosk is how a store returns a kiosk it was given.
func storedKiosk(k identity.Kiosk) identity.Kiosk {
	k.RevokedAt, k.CreatedAt, k.LastSeen = stored(k.RevokedAt), stored(k.CreatedAt), stored(k.LastSeen)
	return k
}

func sameKiosk(t *testing.T, what string, got, want identity.Kiosk) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.RevokedAt, got.CreatedAt, got.LastSeen} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

func getKiosk(t *testing.T, s identity.KioskStore, id string) identity.Kiosk {
	t.Helper()
	k, err := s.GetKiosk(t.Context(), id)
	must(t, "get kiosk "+id, err)
	return k
}

func createKiosks(t *testing.T, s identity.KioskStore, ks ...identity.Kiosk) {
	t.Helper()
	for _, k := range ks {
		must(t, "create kiosk "+k.ID, s.CreateKiosk(t.Context(), k))
	}
}

func kioskIDs(ks []identity.Kiosk) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.ID
	}
	return out
}

func testKioskCreateGet(t *testing.T, s identity.KioskStore) {
	full := fullKiosk(ks1, "c1")
	// A kiosk without peripherals: false flags must not read back true.
	bare := fullKiosk(ks2, "c1")
	bare.CardReader, bare.Printer = false, false
	bare.Location = "二楼"
	// Only one peripheral, each way round.
	reader := fullKiosk(ks3, "c1")
	reader.Printer = false
	// Every field set, times below the millisecond.
	seen := fullKiosk(ks4, "c2")
	seen.CardReader = false
	seen.RevokedAt = at.Add(3*time.Minute + 999999)
	seen.LastSeen = at.Add(2*time.Minute + 1)
	seen.PrinterStatus, seen.ReaderStatus = "paper_low", "offline"
	createKiosks(t, s, full, bare, reader, seen)

	for _, k := range []identity.Kiosk{full, bare, reader, seen} {
		got := getKiosk(t, s, k.ID)
		sameKiosk(t, "get "+k.ID, got, storedKiosk(k))
		if got.SecretSealed != k.SecretSealed {
			t.Errorf("kiosk %s: sealed secret %q, want %q: its signatures could not be checked", k.ID, got.SecretSealed, k.SecretSealed)
		}
	}
	if got := getKiosk(t, s, ks1); !got.RevokedAt.IsZero() || !got.LastSeen.IsZero() {
		t.Errorf("new kiosk reads back revoked or seen: %+v", got)
	}
}

func testKioskDuplicate(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	first := fullKiosk(ks1, "c1")
	createKiosks(t, s, first)
	second := fullKiosk(ks1, "c2")
	second.Location, second.SecretSealed = "另一处", "v1.sealed-other"
	wantCode(t, "create duplicate", s.CreateKiosk(ctx, second), apperr.Conflict)
	sameKiosk(t, "after duplicate create", getKiosk(t, s, ks1), storedKiosk(first))
	list, err := s.ListKiosks(ctx, "c2")
	must(t, "list c2", err)
	if len(list) != 0 {
		t.Errorf("the refused duplicate is listed at c2: %v", kioskIDs(list))
	}
}

func testKioskNotFound(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	k := fullKiosk(ks1, "c1")
	createKiosks(t, s, k)

	_, err := s.GetKiosk(ctx, ks2)
	wantCode(t, "get unknown", err, apperr.NotFound)
	wantCode(t, "revoke unknown", s.RevokeKiosk(ctx, ks2, at), apperr.NotFound)
	wantCode(t, "heartbeat of unknown", s.RecordHeartbeat(ctx, ks2, at, "ok", "ok"), apperr.NotFound)
	// Neither call made the kiosk up.
	_, err = s.GetKiosk(ctx, ks2)
	wantCode(t, "get unknown after revoke and heartbeat", err, apperr.NotFound)
	list, err := s.ListKiosks(ctx, "c1")
	must(t, "list", err)
	if got := kioskIDs(list); !slices.Equal(got, []string{ks1}) {
		t.Errorf("kiosks after calls on an unknown one: %v, want [%s]", got, ks1)
	}
	sameKiosk(t, "known kiosk after calls on an unknown one", getKiosk(t, s, ks1), storedKiosk(k))
}

func testKioskList(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	a, b, c := fullKiosk(ks1, "c1"), fullKiosk(ks2, "c1"), fullKiosk(ks4, "c1")
	other := fullKiosk(ks3, "c2")
	// Created out of order, so a store listing by insertion is caught.
	createKiosks(t, s, c, other, a, b)
	revokedAt := at.Add(time.Minute)
	must(t, "revoke", s.RevokeKiosk(ctx, ks2, revokedAt))
	b.RevokedAt = revokedAt

	list, err := s.ListKiosks(ctx, "c1")
	must(t, "list c1", err)
	want := []identity.Kiosk{a, b, c}
	if got := kioskIDs(list); !slices.Equal(got, kioskIDs(want)) {
		t.Fatalf("c1 kiosks: %v, want %v", got, kioskIDs(want))
	}
	for i, k := range want {
		sameKiosk(t, "listed "+k.ID, list[i], storedKiosk(k))
	}

	list, err = s.ListKiosks(ctx, "c2")
	must(t, "list c2", err)
	if got := kioskIDs(list); !slices.Equal(got, []string{ks3}) {
		t.Errorf("c2 kiosks: %v, want [%s]", got, ks3)
	}
	list, err = s.ListKiosks(ctx, "c9")
	must(t, "list a center without kiosks", err)
	if len(list) != 0 {
		t.Errorf("c9 kiosks: %v, want none", kioskIDs(list))
	}
}

func testKioskRevoke(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	k, other := fullKiosk(ks1, "c1"), fullKiosk(ks2, "c1")
	createKiosks(t, s, k, other)

	first := at.Add(5*time.Minute + 500*time.Microsecond)
	must(t, "revoke", s.RevokeKiosk(ctx, ks1, first))
	want := storedKiosk(k)
	want.RevokedAt = stored(first)
	sameKiosk(t, "after revoke", getKiosk(t, s, ks1), want)
	for _, again := range []time.Time{first.Add(time.Minute), first.Add(-time.Minute)} {
		must(t, "revoke again", s.RevokeKiosk(ctx, ks1, again))
		sameKiosk(t, "after revoking again at "+again.String(), getKiosk(t, s, ks1), want)
	}
	sameKiosk(t, "another kiosk of the center", getKiosk(t, s, ks2), storedKiosk(other))
}

func testKioskHeartbeat(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	k, other := fullKiosk(ks1, "c1"), fullKiosk(ks2, "c1")
	createKiosks(t, s, k, other)

	beat := at.Add(time.Minute + 1234567)
	must(t, "heartbeat", s.RecordHeartbeat(ctx, ks1, beat, "paper_low", "ok"))
	want := storedKiosk(k)
	want.LastSeen, want.PrinterStatus, want.ReaderStatus = stored(beat), "paper_low", "ok"
	sameKiosk(t, "after heartbeat", getKiosk(t, s, ks1), want)

	// A later heartbeat replaces the state, an empty status included.
	beat = at.Add(2 * time.Minute)
	must(t, "second heartbeat", s.RecordHeartbeat(ctx, ks1, beat, "", "offline"))
	want.LastSeen, want.PrinterStatus, want.ReaderStatus = stored(beat), "", "offline"
	sameKiosk(t, "after second heartbeat", getKiosk(t, s, ks1), want)
	// The same heartbeat again changes nothing and is no error.
	must(t, "same heartbeat again", s.RecordHeartbeat(ctx, ks1, beat, "", "offline"))
	sameKiosk(t, "after the same heartbeat again", getKiosk(t, s, ks1), want)

	// A heartbeat does not bring a revoked kiosk back.
	revoked := at.Add(3 * time.Minute)
	must(t, "revoke", s.RevokeKiosk(ctx, ks1, revoked))
	must(t, "heartbeat after revoke", s.RecordHeartbeat(ctx, ks1, at.Add(4*time.Minute), "ok", "ok"))
	if got := getKiosk(t, s, ks1); !got.RevokedAt.Equal(stored(revoked)) {
		t.Errorf("revoked kiosk after a heartbeat: revoked at %v, want %v", got.RevokedAt, stored(revoked))
	}
	sameKiosk(t, "another kiosk", getKiosk(t, s, ks2), storedKiosk(other))
}

// Nonces as kiosks send them.
const (
	nonceA = "n0nce-AAAAAAAAAAAAAAAA"
	nonceB = "n0nce-BBBBBBBBBBBBBBBB"
)

func testUseNonce(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	must(t, "first use", s.UseNonce(ctx, ks1, nonceA, at))
	wantCode(t, "replay", s.UseNonce(ctx, ks1, nonceA, at), apperr.Conflict)
	wantCode(t, "replay a minute later", s.UseNonce(ctx, ks1, nonceA, at.Add(time.Minute)), apperr.Conflict)
	must(t, "another nonce of the same kiosk", s.UseNonce(ctx, ks1, nonceB, at))
	must(t, "the same nonce from another kiosk", s.UseNonce(ctx, ks2, nonceA, at))
	wantCode(t, "replay at the other kiosk", s.UseNonce(ctx, ks2, nonceA, at), apperr.Conflict)
	wantCode(t, "replay of the other nonce", s.UseNonce(ctx, ks1, nonceB, at.Add(time.Second)), apperr.Conflict)
}

// testUseNonceRace is a captured request replayed while the original is
// still in flight: one of them is served, every other is refused.
func testUseNonceRace(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	const requests = 20
	errs := make([]error, requests)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range requests {
		wg.Go(func() {
			<-start
			errs[i] = s.UseNonce(ctx, ks1, nonceA, at.Add(time.Duration(i)*time.Millisecond))
		})
	}
	close(start)
	wg.Wait()

	served := 0
	for i, err := range errs {
		switch {
		case err == nil:
			served++
		case apperr.Is(err, apperr.Conflict):
		default:
			t.Errorf("request %d: %v, want success or conflict", i, err)
		}
	}
	if served != 1 {
		t.Errorf("%d of %d racing requests with one nonce served, want exactly 1", served, requests)
	}
	wantCode(t, "replay after the race", s.UseNonce(ctx, ks1, nonceA, at.Add(time.Minute)), apperr.Conflict)
}

func testSweepNonces(t *testing.T, s identity.KioskStore) {
	ctx := t.Context()
	cutoff := at.Add(-10 * time.Minute)
	uses := []struct {
		kiosk, nonce string
		at           time.Time
		swept        bool
	}{
		{ks1, "old-nonce-0000000001", at.Add(-time.Hour), true},
		{ks2, "old-nonce-0000000002", cutoff.Add(-time.Millisecond), true},
		{ks1, "cut-nonce-0000000003", cutoff, false},
		{ks2, "new-nonce-0000000004", at.Add(-5 * time.Minute), false},
		{ks1, "new-nonce-0000000005", at, false},
	}
	for _, u := range uses {
		must(t, "use "+u.nonce, s.UseNonce(ctx, u.kiosk, u.nonce, u.at))
	}

	n, err := s.SweepNonces(ctx, cutoff)
	must(t, "sweep", err)
	if n != 2 {
		t.Errorf("sweep removed %d nonces, want 2", n)
	}
	for _, u := range uses {
		err := s.UseNonce(ctx, u.kiosk, u.nonce, at)
		what := fmt.Sprintf("use %s (recorded at %v) after the sweep", u.nonce, u.at)
		if u.swept {
			must(t, what, err)
		} else {
			wantCode(t, what, err, apperr.Conflict)
		}
	}

	// Nothing older is left: the nonces used again count from now.
	n, err = s.SweepNonces(ctx, cutoff)
	must(t, "sweep again", err)
	if n != 0 {
		t.Errorf("second sweep removed %d nonces, want 0", n)
	}
	n, err = s.SweepNonces(ctx, at.Add(time.Millisecond))
	must(t, "sweep everything", err)
	if n != len(uses) {
		t.Errorf("sweeping everything removed %d nonces, want %d", n, len(uses))
	}
}
