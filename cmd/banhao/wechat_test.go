package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/sqlite"
)

// The outbox finds a message's mini-program account by the queue's
// names for people: the account itself, or the ID card's blind index of
// a citizen who bound the same number.
func TestRecipientsFindTheOpenID(t *testing.T) {
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cs := sqlite.NewCitizenStore(db)
	ct, err := cs.EnsureCitizen(t.Context(), identity.Citizen{ID: "ct1", OpenID: "openid-alice", IDIndex: identity.UnboundIndex("ct1"), CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.BindRealName(t.Context(), ct.ID, "sealed-name", "sealed-id", "idx-alice", time.Now()); err != nil {
		t.Fatal(err)
	}
	r := recipients{cs}
	for _, to := range []string{"citizen:ct1", "id:idx-alice"} {
		if got, err := r.OpenID(t.Context(), to); err != nil || got != "openid-alice" {
			t.Errorf("OpenID(%q) = %q, %v", to, got, err)
		}
	}
	for _, to := range []string{"citizen:nobody", "id:idx-bob", "kiosk:k1", ""} {
		if _, err := r.OpenID(t.Context(), to); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("OpenID(%q): %v, want not found", to, err)
		}
	}
}
