package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/identity"
)

// Every generated ID number passes the server's own check, and the
// numbers of a run are distinct: one ID number binds one account only.
func TestIDNumbersAreValidAndDistinct(t *testing.T) {
	today := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	base := randomIDBase()
	seen := map[string]bool{}
	check := func(k int) {
		t.Helper()
		s := idNumber(k)
		id, err := identity.ParseIDNumber("id_number", s, today)
		if err != nil {
			t.Fatalf("idNumber(%d) = %s: %v", k, s, err)
		}
		if !slices.Contains(idRegions[:], id.Region) {
			t.Fatalf("idNumber(%d) = %s: region %s", k, s, id.Region)
		}
		if age := today.Year() - id.Birth.Year(); age < 18 || age >= 70 {
			t.Fatalf("idNumber(%d) = %s: %d years old", k, s, age)
		}
	}
	for _, k := range []int{0, 1, 999, 1000, idBirthDays*1000 - 1, idBirthDays * 1000, idSpace - 1, idSpace, -1} {
		check(k)
	}
	for i := range 20_000 {
		check(base + i)
		s := idNumber(base + i)
		if seen[s] {
			t.Fatalf("idNumber(%d) = %s repeats", base+i, s)
		}
		seen[s] = true
	}
	if idNumber(idSpace-1) == idNumber(0) || idNumber(idSpace) != idNumber(0) {
		t.Fatal("idNumber does not wrap at idSpace")
	}
}

// The check character is the standard's: the numbers of its own examples
// and of the kiosk's demo cards.
func TestIDCheck(t *testing.T) {
	for _, n := range []string{"11010519491231002X", "371621198001010012", "37162119900215002X", "440524188001010014"} {
		if got := idCheck(n[:17]); got != n[17] {
			t.Errorf("%s: check %c, want %c", n, got, n[17])
		}
	}
}

// A kiosk's requests carry a proof the server accepts: well-formed
// headers, a fresh nonce each time, the signature of exactly the body
// sent, and a timestamp on the server's clock.
func TestKioskProof(t *testing.T) {
	secret := []byte("s3cret")
	serverNow := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	nonces := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header
		p, err := identity.ParseProof(h.Get("X-Kiosk-Id"), h.Get("X-Kiosk-Timestamp"), h.Get("X-Kiosk-Nonce"), h.Get("X-Kiosk-Signature"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		want := identity.SignKioskRequest(secret, r.Method, r.URL.RequestURI(), p.Timestamp, p.Nonce, body)
		if want != h.Get("X-Kiosk-Signature") || nonces[p.Nonce] {
			http.Error(w, "bad signature or replay", http.StatusUnauthorized)
			return
		}
		if d := time.Unix(p.Timestamp, 0).Sub(serverNow); d > time.Minute || d < -time.Minute {
			http.Error(w, "clock", http.StatusUnauthorized)
			return
		}
		nonces[p.Nonce] = true
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	k := newKiosk("ks0123456789abcdef0123456789ab", string(secret), serverNow)
	a := newAPI(srv.URL, 1)
	for i := range 20 {
		if err := k.post(context.Background(), a, "/api/v1/kiosk/tickets", []byte(`{"sector":"tax"}`), nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
}
