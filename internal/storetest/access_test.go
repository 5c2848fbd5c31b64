package storetest

import (
	"context"
	"encoding/base64"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/seal"
)

// world is the identity services on one backend's stores, with a clock
// the test moves.
type world struct {
	now      time.Time
	audit    *audit.Log
	staff    *identity.Service
	citizens *identity.Citizens
	kiosks   *identity.Kiosks
}

func newWorld(t *testing.T, s stores) *world {
	t.Helper()
	w := &world{now: time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	keys, err := seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	w.audit = audit.NewLog(s.audit, clock)
	cfg := identity.DefaultConfig()
	cfg.Argon2 = identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1} // fast hashes for tests
	w.staff = identity.NewService(s.staff, s.sessions, w.audit, log, clock, cfg)
	w.citizens = identity.NewCitizens(s.citizens, s.sessions, keys, nil, w.audit, log, clock, identity.CitizensConfig{DevLogin: true})
	w.kiosks = identity.NewKiosks(s.kiosks, s.sessions, keys, w.audit, log, clock)
	return w
}

// proof builds a kiosk request proof at the world's time.
func (w *world) proof(k identity.Kiosk, secret, nonce string, body []byte) identity.Proof {
	ts := w.now.Unix()
	sig := identity.SignKioskRequest([]byte(secret), "POST", "/api/v1/kiosk/heartbeat", ts, nonce, body)
	p, _ := identity.ParseProof(k.ID, strconv.FormatInt(ts, 10), nonce, sig)
	return p
}

// denied counts the audit records with outcome denied.
func (w *world) denied(t *testing.T) int {
	t.Helper()
	recs, err := w.audit.List(context.Background(), audit.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Outcome == audit.OutcomeDenied || r.Outcome == audit.OutcomeFailed {
			n++
		}
	}
	return n
}

// TestAccessMatrix checks, on every backend, that each party is refused
// what is not theirs, and that every refusal leaves an audit record.
func TestAccessMatrix(t *testing.T) {
	ctx := context.Background()
	runContract(t, func(s stores) stores { return s }, []scenario[stores]{
		{"a citizen's token is not another kind's", func(t *testing.T, s stores) {
			w := newWorld(t, s)
			a, err := w.citizens.Login(ctx, "dev:alice", identity.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.staff.AuthenticateStaff(ctx, a.Token); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("citizen token as staff: %v", err)
			}
			b, _ := w.citizens.Login(ctx, "dev:bob", identity.Origin{})
			_, cb, err := w.citizens.Authenticate(ctx, b.Token)
			if err != nil || cb.ID == a.Citizen.ID {
				t.Fatalf("bob's token resolves to %s (alice %s): %v", cb.ID, a.Citizen.ID, err)
			}
		}},
		{"one ID number binds one account, never moved", func(t *testing.T, s stores) {
			w := newWorld(t, s)
			a, _ := w.citizens.Login(ctx, "dev:alice", identity.Origin{})
			b, _ := w.citizens.Login(ctx, "dev:bob", identity.Origin{})
			if _, err := w.citizens.BindRealName(ctx, a.Citizen, "张三", "371621198001010012", identity.Origin{}); err != nil {
				t.Fatal(err)
			}
			before := w.denied(t)
			_, err := w.citizens.BindRealName(ctx, b.Citizen, "张三", "371621198001010012", identity.Origin{})
			if apperr.CodeOf(err) != identity.CodeIDNumberBound {
				t.Fatalf("second account binding the number: %v", err)
			}
			if w.denied(t) != before+1 {
				t.Fatal("the refused binding is not audited")
			}
			if _, cb, _ := w.citizens.Authenticate(ctx, b.Token); cb.Bound() {
				t.Fatal("bob became bound")
			}
		}},
		{"a card session is refused at another kiosk, after 120 s idle, and after it ends", func(t *testing.T, s stores) {
			w := newWorld(t, s)
			k1, _, err := w.kiosks.Register(ctx, "staff:x", "hm", "大厅东", true, true, identity.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			k2, _, _ := w.kiosks.Register(ctx, "staff:x", "hm", "大厅西", true, true, identity.Origin{})
			card := identity.Card{Name: "张三", IDNumber: "371621198001010012", ValidFrom: w.now.AddDate(-1, 0, 0)}
			tok, _, err := w.kiosks.StartCardSession(ctx, k1, card, identity.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			before := w.denied(t)
			if _, _, err := w.kiosks.CardSession(ctx, k2, tok); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("card session at another kiosk: %v", err)
			}
			if w.denied(t) != before+1 {
				t.Fatal("use at another kiosk is not audited")
			}
			w.now = w.now.Add(100 * time.Second)
			if _, h, err := w.kiosks.CardSession(ctx, k1, tok); err != nil || h.IDNumber != card.IDNumber {
				t.Fatalf("card session within 120 s: %v", err)
			}
			w.now = w.now.Add(121 * time.Second)
			if _, _, err := w.kiosks.CardSession(ctx, k1, tok); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("card session after 121 s idle: %v", err)
			}
			tok2, _, _ := w.kiosks.StartCardSession(ctx, k1, card, identity.Origin{})
			if err := w.kiosks.EndCardSession(ctx, k1, tok2); err != nil {
				t.Fatal(err)
			}
			if _, _, err := w.kiosks.CardSession(ctx, k1, tok2); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("ended card session: %v", err)
			}
		}},
		{"a replayed, late or revoked kiosk request is refused and audited", func(t *testing.T, s stores) {
			w := newWorld(t, s)
			k, secret, err := w.kiosks.Register(ctx, "staff:x", "hm", "大厅东", true, true, identity.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{}`)
			p := w.proof(k, secret, "nonce-0123456789ab", body)
			if _, err := w.kiosks.Verify(ctx, p, "POST", "/api/v1/kiosk/heartbeat", body, identity.Origin{}); err != nil {
				t.Fatalf("first request: %v", err)
			}
			before := w.denied(t)
			if _, err := w.kiosks.Verify(ctx, p, "POST", "/api/v1/kiosk/heartbeat", body, identity.Origin{}); apperr.CodeOf(err) != identity.CodeKioskReplay {
				t.Fatalf("replay: %v", err)
			}
			late := w.proof(k, secret, "nonce-late-456789ab", body)
			w.now = w.now.Add(6 * time.Minute)
			if _, err := w.kiosks.Verify(ctx, late, "POST", "/api/v1/kiosk/heartbeat", body, identity.Origin{}); apperr.CodeOf(err) != identity.CodeKioskClock {
				t.Fatalf("6 minutes late: %v", err)
			}
			if err := w.kiosks.Revoke(ctx, "staff:x", "hm", k.ID, identity.Origin{}); err != nil {
				t.Fatal(err)
			}
			fresh := w.proof(k, secret, "nonce-after-revoke1", body)
			if _, err := w.kiosks.Verify(ctx, fresh, "POST", "/api/v1/kiosk/heartbeat", body, identity.Origin{}); apperr.CodeOf(err) != identity.CodeKioskRevoked {
				t.Fatalf("revoked kiosk: %v", err)
			}
			if got := w.denied(t) - before; got != 3 {
				t.Fatalf("%d of 3 refusals audited", got)
			}
			// Another center's administrator cannot revoke it, nor learn it exists.
			if err := w.kiosks.Revoke(ctx, "staff:y", "hm-lizhuang", k.ID, identity.Origin{}); !apperr.Is(err, apperr.NotFound) {
				t.Fatalf("revoke from another center: %v", err)
			}
		}},
		{"a locked or logged-out staff session is refused", func(t *testing.T, s stores) {
			w := newWorld(t, s)
			if _, err := w.staff.CreateStaff(ctx, "cli", identity.NewStaff{Center: "hm", Username: "clerk", Name: "王", Roles: []identity.Role{identity.RoleClerk}, Password: "correct-horse-42"}, identity.Origin{}); err != nil {
				t.Fatal(err)
			}
			l, err := w.staff.LoginStaff(ctx, "clerk", "correct-horse-42", identity.Origin{})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 5; i++ {
				w.staff.LoginStaff(ctx, "clerk", "wrong-horse-42", identity.Origin{})
			}
			if _, err := w.staff.LoginStaff(ctx, "clerk", "correct-horse-42", identity.Origin{}); apperr.CodeOf(err) != apperr.AccountLocked {
				t.Fatalf("login of a locked account: %v", err)
			}
			w.now = w.now.Add(16 * time.Minute)
			if _, err := w.staff.LoginStaff(ctx, "clerk", "correct-horse-42", identity.Origin{}); err != nil {
				t.Fatalf("login after the lock ended: %v", err)
			}
			// The earlier session expired after 30 idle minutes.
			if _, _, err := w.staff.AuthenticateStaff(ctx, l.Token); err != nil {
				t.Fatalf("session within 30 minutes: %v", err)
			}
			w.now = w.now.Add(31 * time.Minute)
			if _, _, err := w.staff.AuthenticateStaff(ctx, l.Token); !apperr.Is(err, apperr.Unauthorized) {
				t.Fatalf("session after 31 idle minutes: %v", err)
			}
			if n := w.denied(t); n < 6 {
				t.Fatalf("only %d failed or refused logins audited, want 6", n)
			}
		}},
	})
}
