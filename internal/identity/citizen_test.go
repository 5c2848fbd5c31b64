package identity_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// citizens returns the citizen service on a fresh SQLite database, logging
// in through the real WeChat library against the fake WeChat server.
func citizens(t *testing.T, fake *wechattest.Fake, now func() time.Time) (*identity.Citizens, *sqlite.DB) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	keys, err := seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	wc, err := wechat.New(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	al := audit.NewLog(sqlite.NewAuditStore(db), now)
	return identity.NewCitizens(sqlite.NewCitizenStore(db), sqlite.NewIdentityStore(db), keys, wc.Flat(), al,
		slog.New(slog.DiscardHandler), now, identity.CitizensConfig{}), db
}

func TestWeChatLogin(t *testing.T) {
	fake := wechattest.New(t)
	cs, _ := citizens(t, fake, time.Now)
	ctx := context.Background()

	fake.RegisterCode("code-1", "openid-1")
	first, err := cs.Login(ctx, "code-1", identity.Origin{})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	// WeChat codes are single use: a retry with the same code is refused
	// with a field error, not a 500.
	if _, err := cs.Login(ctx, "code-1", identity.Origin{}); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("reused code: %v, want invalid_input", err)
	}
	// The same WeChat user logging in again is the same citizen.
	fake.RegisterCode("code-2", "openid-1")
	again, err := cs.Login(ctx, "code-2", identity.Origin{})
	if err != nil || again.Citizen.ID != first.Citizen.ID || again.Token == first.Token {
		t.Fatalf("second login: %v, citizen %s vs %s", err, again.Citizen.ID, first.Citizen.ID)
	}
	if _, c, err := cs.Authenticate(ctx, again.Token); err != nil || c.ID != first.Citizen.ID {
		t.Fatalf("authenticate: %v", err)
	}
	// Development codes are refused unless development logins are on.
	if _, err := cs.Login(ctx, "dev:alice", identity.Origin{}); err == nil {
		t.Fatal("dev: code accepted with development logins off")
	}
	// WeChat being busy is a 503-class error, and a login is never retried.
	fake.RegisterCode("code-3", "openid-3")
	fake.FailNext(wechattest.Code2Session, 1, -1)
	calls := fake.Calls(wechattest.Code2Session)
	if _, err := cs.Login(ctx, "code-3", identity.Origin{}); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("WeChat busy: %v, want unavailable", err)
	}
	if n := fake.Calls(wechattest.Code2Session) - calls; n != 1 {
		t.Fatalf("busy login called WeChat %d times, want 1", n)
	}
}

func TestConcurrentFirstLoginsMakeOneCitizen(t *testing.T) {
	fake := wechattest.New(t)
	cs, _ := citizens(t, fake, time.Now)
	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		code := "c" + string(rune('a'+i))
		fake.RegisterCode(code, "openid-same")
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := cs.Login(context.Background(), code, identity.Origin{})
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = l.Citizen.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one WeChat user became several citizens: %v", ids)
		}
	}
}

func TestCitizenSessionExpires(t *testing.T) {
	fake := wechattest.New(t)
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	cs, _ := citizens(t, fake, clock)
	fake.RegisterCode("code-1", "openid-1")
	l, err := cs.Login(context.Background(), "code-1", identity.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(6 * 24 * time.Hour) // used within the idle limit: extended
	if _, _, err := cs.Authenticate(context.Background(), l.Token); err != nil {
		t.Fatalf("after 6 days: %v", err)
	}
	now = now.Add(8 * 24 * time.Hour) // 8 idle days
	if _, _, err := cs.Authenticate(context.Background(), l.Token); !apperr.Is(err, apperr.Unauthorized) {
		t.Fatalf("after 8 idle days: %v, want unauthorized", err)
	}
}
