package wechat_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// newClient returns a Client talking to f through the real library.
func newClient(t *testing.T, f *wechattest.Fake, edit ...func(*wechat.Config)) *wechat.Client {
	t.Helper()
	cfg := f.Config()
	for _, e := range edit {
		e(&cfg)
	}
	c, err := wechat.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantErr checks err's apperr code and that its text, cause included,
// holds no credential.
func wantErr(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	e, ok := apperr.As(err)
	if !ok {
		t.Fatalf("got %T %v, want *apperr.Error", err, err)
	}
	if e.Code != code {
		t.Fatalf("got code %s (%v), want %s", e.Code, err, code)
	}
	noCredentials(t, err.Error())
	return e
}

func noCredentials(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{wechattest.Secret, "wechattest-token-", "wechattest-session-key", "access_token=", "secret="} {
		if strings.Contains(s, secret) {
			t.Errorf("error text %q contains %q", s, secret)
		}
	}
}

func wantCalls(t *testing.T, f *wechattest.Fake, want map[wechattest.Endpoint]int) {
	t.Helper()
	for ep, n := range want {
		if got := f.Calls(ep); got != n {
			t.Errorf("calls to %s = %d, want %d", ep, got, n)
		}
	}
}

func wantInvalidCode(t *testing.T, err error, msg string) {
	t.Helper()
	e := wantErr(t, err, apperr.Invalid)
	if e.Message != msg {
		t.Errorf("message %q, want %q", e.Message, msg)
	}
	if len(e.Fields) != 1 || e.Fields[0].Field != "code" {
		t.Errorf("fields %+v, want one naming \"code\"", e.Fields)
	}
}

func TestNewValidates(t *testing.T) {
	for _, cfg := range []wechat.Config{
		{Secret: "s"},
		{AppID: "wx1"},
		{AppID: "wx1", Secret: "s", Timeout: -time.Second},
	} {
		if _, err := wechat.New(cfg); err == nil {
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}
	// The production client: built without touching the network.
	if _, err := wechat.New(wechat.Config{AppID: "wx1", Secret: "s"}); err != nil {
		t.Fatal(err)
	}
}

func TestCode2Session(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCodeUnionID("code-1", "openid-1", "unionid-1")
	f.RegisterCode("code-2", "openid-2")
	c := newClient(t, f)

	s, err := c.Code2Session(t.Context(), "code-1")
	if err != nil {
		t.Fatal(err)
	}
	if s != (wechat.Session{OpenID: "openid-1", UnionID: "unionid-1"}) {
		t.Errorf("got %+v", s)
	}
	s, err = c.Code2Session(t.Context(), "code-2")
	if err != nil || s != (wechat.Session{OpenID: "openid-2"}) {
		t.Errorf("got %+v, %v", s, err)
	}
	// Login needs no access token.
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.Code2Session: 2, wechattest.StableToken: 0, wechattest.Token: 0})
}

func TestCode2SessionErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *wechattest.Fake)
		code  string
		want  apperr.Code
		calls int
	}{
		{name: "unknown code 40029", code: "nope", want: apperr.Invalid, calls: 1},
		{name: "used code 40163", code: "used", want: apperr.Invalid, calls: 2, setup: func(f *wechattest.Fake) {
			f.RegisterCode("used", "openid-u")
			if _, err := newClient(t, f).Code2Session(t.Context(), "used"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "code that would alter the URL", code: "x&secret=y", want: apperr.Invalid, calls: 0},
		{name: "empty code", code: "", want: apperr.Invalid, calls: 0},
		{name: "rate limit 45011", code: "c", want: apperr.TooManyRequests, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.Code2Session, 1, 45011)
		}},
		{name: "system busy -1", code: "c", want: apperr.Unavailable, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.Code2Session, 1, -1)
		}},
		{name: "http 500", code: "c", want: apperr.Unavailable, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNextStatus(wechattest.Code2Session, 1, 500)
		}},
		{name: "http 502", code: "c", want: apperr.Unavailable, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNextStatus(wechattest.Code2Session, 1, 502)
		}},
		{name: "risky account 40226", code: "c", want: apperr.Forbidden, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.Code2Session, 1, 40226)
		}},
		{name: "unknown errcode", code: "c", want: apperr.Internal, calls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.Code2Session, 1, 99999)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := wechattest.New(t)
			f.RegisterCode("c", "openid-c")
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := newClient(t, f).Code2Session(t.Context(), tt.code)
			e := wantErr(t, err, tt.want)
			switch tt.want {
			case apperr.Invalid:
				wantInvalidCode(t, err, "微信登录凭证无效或已使用，请重新登录")
			case apperr.TooManyRequests:
				if e.RetryAfter <= 0 {
					t.Errorf("RetryAfter = %v", e.RetryAfter)
				}
			}
			// Login is never retried.
			wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.Code2Session: tt.calls})
		})
	}
}

func TestWrongSecret(t *testing.T) {
	const wrong = "not-the-secret-4711"
	f := wechattest.New(t)
	f.RegisterCode("c", "o")
	f.RegisterPhoneCode("p", "13800138000")
	c := newClient(t, f, func(cfg *wechat.Config) { cfg.Secret = wrong })

	_, err := c.Code2Session(t.Context(), "c")
	wantErr(t, err, apperr.Internal)
	_, err2 := c.PhoneNumber(t.Context(), "p")
	wantErr(t, err2, apperr.Internal)
	for _, err := range []error{err, err2} {
		if strings.Contains(err.Error(), wrong) {
			t.Errorf("error text %q contains the secret", err)
		}
	}
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 1, wechattest.PhoneNumber: 0})
}

func TestPhoneNumber(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterPhoneCode("p1", "13800138000")
	f.RegisterPhoneCode("p2", "13900139000")
	c := newClient(t, f)

	for code, want := range map[string]string{"p1": "13800138000", "p2": "13900139000"} {
		got, err := c.PhoneNumber(t.Context(), code)
		if err != nil || got != want {
			t.Errorf("PhoneNumber(%s) = %q, %v; want %q", code, got, err, want)
		}
	}
	// One stable token, cached for the second call; never the plain token.
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 1, wechattest.Token: 0, wechattest.PhoneNumber: 2})
}

func TestPhoneNumberExpiredTokenIsRefreshedOnce(t *testing.T) {
	for _, errcode := range []int{40001, 42001, 40014} {
		t.Run(fmt.Sprintf("injected %d", errcode), func(t *testing.T) {
			f := wechattest.New(t)
			f.RegisterPhoneCode("p", "13800138000")
			c := newClient(t, f)
			f.FailNext(wechattest.PhoneNumber, 1, errcode)
			got, err := c.PhoneNumber(t.Context(), "p")
			if err != nil || got != "13800138000" {
				t.Fatalf("got %q, %v", got, err)
			}
			wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.PhoneNumber: 2})
		})
	}

	t.Run("token expired at WeChat", func(t *testing.T) {
		f := wechattest.New(t)
		f.RegisterPhoneCode("p1", "13800138000")
		f.RegisterPhoneCode("p2", "13900139000")
		c := newClient(t, f)
		if _, err := c.PhoneNumber(t.Context(), "p1"); err != nil {
			t.Fatal(err)
		}
		f.ExpireToken()
		got, err := c.PhoneNumber(t.Context(), "p2")
		if err != nil || got != "13900139000" {
			t.Fatalf("got %q, %v", got, err)
		}
		// p1; p2 with the expired token (40001); p2 again with a new one.
		wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.PhoneNumber: 3})
		if n := f.TokensIssued(); n != 2 {
			t.Errorf("tokens issued %d, want 2", n)
		}
	})
}

func TestPhoneNumberTokenRejectedTwiceFails(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterPhoneCode("p", "13800138000")
	c := newClient(t, f)
	f.FailNext(wechattest.PhoneNumber, 2, 40001)

	_, err := c.PhoneNumber(t.Context(), "p")
	wantErr(t, err, apperr.Unavailable)
	// One retry, not a loop.
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.PhoneNumber: 2})

	// The code was not used up; the next call works without a new token.
	got, err := c.PhoneNumber(t.Context(), "p")
	if err != nil || got != "13800138000" {
		t.Fatalf("got %q, %v", got, err)
	}
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.PhoneNumber: 3})
}

func TestPhoneNumberErrors(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(f *wechattest.Fake)
		code        string
		want        apperr.Code
		tokenCalls  int
		phoneCalls  int
		wantMessage string
	}{
		{name: "unknown code 40029", code: "nope", want: apperr.Invalid, tokenCalls: 1, phoneCalls: 1},
		{name: "bad code format", code: "a b", want: apperr.Invalid},
		{name: "rate limit 45011", code: "p", want: apperr.TooManyRequests, tokenCalls: 1, phoneCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.PhoneNumber, 1, 45011)
		}},
		{name: "daily quota 45009", code: "p", want: apperr.Unavailable, tokenCalls: 1, phoneCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.PhoneNumber, 1, 45009)
		}},
		{name: "system busy -1", code: "p", want: apperr.Unavailable, tokenCalls: 1, phoneCalls: 1, wantMessage: "微信系统繁忙，请稍后重试", setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.PhoneNumber, 1, -1)
		}},
		{name: "http 500", code: "p", want: apperr.Unavailable, tokenCalls: 1, phoneCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNextStatus(wechattest.PhoneNumber, 1, 500)
		}},
		{name: "token endpoint busy -1", code: "p", want: apperr.Unavailable, tokenCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.StableToken, 1, -1)
		}},
		{name: "token quota 45009", code: "p", want: apperr.Unavailable, tokenCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.StableToken, 1, 45009)
		}},
		{name: "token endpoint 503", code: "p", want: apperr.Unavailable, tokenCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNextStatus(wechattest.StableToken, 1, 503)
		}},
		{name: "IP not whitelisted 40164", code: "p", want: apperr.Internal, tokenCalls: 1, setup: func(f *wechattest.Fake) {
			f.FailNext(wechattest.StableToken, 1, 40164)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := wechattest.New(t)
			f.RegisterPhoneCode("p", "13800138000")
			if tt.setup != nil {
				tt.setup(f)
			}
			_, err := newClient(t, f).PhoneNumber(t.Context(), tt.code)
			e := wantErr(t, err, tt.want)
			if tt.want == apperr.Invalid {
				wantInvalidCode(t, err, "手机号授权凭证无效或已使用，请重新授权")
			}
			if tt.wantMessage != "" && e.Message != tt.wantMessage {
				t.Errorf("message %q, want %q", e.Message, tt.wantMessage)
			}
			wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: tt.tokenCalls, wechattest.PhoneNumber: tt.phoneCalls})
		})
	}
}

func TestTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	short := func(cfg *wechat.Config) { cfg.Timeout = timeout }
	tests := []struct {
		name string
		slow wechattest.Endpoint
		call func(ctx context.Context, c *wechat.Client) error
	}{
		{name: "login", slow: wechattest.Code2Session, call: func(ctx context.Context, c *wechat.Client) error {
			_, err := c.Code2Session(ctx, "c")
			return err
		}},
		{name: "phone", slow: wechattest.PhoneNumber, call: func(ctx context.Context, c *wechat.Client) error {
			_, err := c.PhoneNumber(ctx, "p")
			return err
		}},
		{name: "token fetch", slow: wechattest.StableToken, call: func(ctx context.Context, c *wechat.Client) error {
			_, err := c.PhoneNumber(ctx, "p")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := wechattest.New(t)
			f.RegisterCode("c", "o")
			f.RegisterPhoneCode("p", "13800138000")
			f.SetLatency(tt.slow, 10*time.Second)
			c := newClient(t, f, short)
			start := time.Now()
			err := tt.call(t.Context(), c)
			elapsed := time.Since(start)
			e := wantErr(t, err, apperr.Unavailable)
			if e.Message != "微信服务响应超时，请稍后重试" {
				t.Errorf("message %q", e.Message)
			}
			if elapsed > timeout+time.Second {
				t.Errorf("took %v with a %v timeout", elapsed, timeout)
			}
			if f.Calls(tt.slow) != 1 {
				t.Errorf("calls to %s = %d, want 1", tt.slow, f.Calls(tt.slow))
			}
		})
	}
}

func TestCallerDeadlineIsTimeout(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCode("c", "o")
	f.SetLatency(wechattest.AllEndpoints, 10*time.Second)
	c := newClient(t, f) // 5 s of its own
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Code2Session(ctx, "c")
	wantErr(t, err, apperr.Timeout)
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
}

func TestConcurrentCallsShareOneToken(t *testing.T) {
	const n = 50
	f := wechattest.New(t)
	for i := range n {
		f.RegisterCode("c"+itoa(i), "openid-"+itoa(i))
		f.RegisterPhoneCode("p"+itoa(i), "138000"+pad5(i))
	}
	// Slow tokens widen the window in which all callers find the cache empty.
	f.SetLatency(wechattest.StableToken, 100*time.Millisecond)
	c := newClient(t, f)

	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Go(func() {
			s, err := c.Code2Session(t.Context(), "c"+itoa(i))
			if err == nil && s.OpenID != "openid-"+itoa(i) {
				t.Errorf("login %d got %+v", i, s)
			}
			errs <- err
		})
		wg.Go(func() {
			p, err := c.PhoneNumber(t.Context(), "p"+itoa(i))
			if err == nil && p != "138000"+pad5(i) {
				t.Errorf("phone %d got %q", i, p)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 1, wechattest.PhoneNumber: n, wechattest.Code2Session: n})
}

func TestConcurrentCallsAfterExpiryRefreshOnce(t *testing.T) {
	const n = 20
	f := wechattest.New(t)
	for i := range n + 1 {
		f.RegisterPhoneCode("p"+itoa(i), "138000"+pad5(i))
	}
	c := newClient(t, f)
	if _, err := c.PhoneNumber(t.Context(), "p"+itoa(n)); err != nil {
		t.Fatal(err)
	}
	f.ExpireToken()

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := c.PhoneNumber(t.Context(), "p"+itoa(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Many callers saw 40001 with the same stale token; exactly one new
	// token was fetched, and no caller dropped it again.
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2})
	if got := f.TokensIssued(); got != 2 {
		t.Errorf("tokens issued %d, want 2", got)
	}
	if got := f.Calls(wechattest.PhoneNumber); got < n+1 || got > 2*n+1 {
		t.Errorf("phone calls %d, want between %d and %d", got, n+1, 2*n+1)
	}
}

// TestClientsKeepTheirOwnHTTPClient shows that the process-wide
// util.DefaultHTTPClient of the library does not mix up Clients.
func TestClientsKeepTheirOwnHTTPClient(t *testing.T) {
	fakes := []*wechattest.Fake{wechattest.New(t), wechattest.New(t)}
	var clients []*wechat.Client
	for i, f := range fakes {
		f.RegisterCode("c", "openid-of-fake-"+itoa(i))
		f.RegisterPhoneCode("p", "1380013800"+itoa(i))
		clients = append(clients, newClient(t, f))
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		for range 10 {
			wg.Go(func() {
				// Each code works once per fake; only the first of the ten
				// goroutines succeeds, the others see 40163 / 40029.
				s, err := c.Code2Session(t.Context(), "c")
				if err == nil && s.OpenID != "openid-of-fake-"+itoa(i) {
					t.Errorf("client %d reached the wrong fake: %+v", i, s)
				}
				p, err := c.PhoneNumber(t.Context(), "p")
				if err == nil && p != "1380013800"+itoa(i) {
					t.Errorf("client %d reached the wrong fake: %q", i, p)
				}
			})
		}
	}
	wg.Wait()
	for _, f := range fakes {
		wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.Code2Session: 10, wechattest.PhoneNumber: 10, wechattest.StableToken: 1})
	}
}

func TestFlat(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCodeUnionID("c", "o", "u")
	f.RegisterPhoneCode("p", "13800138000")
	flat := newClient(t, f).Flat()
	var iface interface {
		Code2Session(ctx context.Context, code string) (openID, unionID string, err error)
		PhoneNumber(ctx context.Context, code string) (string, error)
	} = flat
	o, u, err := iface.Code2Session(t.Context(), "c")
	if err != nil || o != "o" || u != "u" {
		t.Errorf("got %q %q %v", o, u, err)
	}
	if p, err := iface.PhoneNumber(t.Context(), "p"); err != nil || p != "13800138000" {
		t.Errorf("got %q %v", p, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func pad5(i int) string { return fmt.Sprintf("%05d", i) }

// wantPermanent checks whether the outbox would give err up at once.
func wantPermanent(t *testing.T, err error, want bool) {
	t.Helper()
	if got := notify.IsPermanent(err); got != want {
		t.Errorf("IsPermanent(%v) = %v, want %v", err, got, want)
	}
}

func TestSendSubscribe(t *testing.T) {
	f := wechattest.New(t)
	c := newClient(t, f)
	data := map[string]string{"character_string1": "A023", "thing2": "5号窗口 <请带齐材料>"}
	if err := c.SendSubscribe(t.Context(), "openid-1", "tmpl-call", "pages/ticket/index?id=tk1&x=1", data); err != nil {
		t.Fatal(err)
	}
	if err := c.SendSubscribe(t.Context(), "openid-2", "tmpl-call", "", map[string]string{"thing2": "x"}); err != nil {
		t.Fatal(err)
	}
	got := f.Subscribes()
	want := []wechattest.Subscribe{
		{ToUser: "openid-1", TemplateID: "tmpl-call", Page: "pages/ticket/index?id=tk1&x=1", Data: data, State: "formal", Lang: "zh_CN"},
		{ToUser: "openid-2", TemplateID: "tmpl-call", Data: map[string]string{"thing2": "x"}, State: "formal", Lang: "zh_CN"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n %+v\nwant\n %+v", got, want)
	}
	// One stable token, cached for the second message.
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 1, wechattest.Token: 0, wechattest.SubscribeSend: 2})
}

func TestSendSubscribeState(t *testing.T) {
	f := wechattest.New(t)
	c := newClient(t, f, func(cfg *wechat.Config) { cfg.SubscribeState = wechat.StateTrial })
	if err := c.SendSubscribe(t.Context(), "openid-1", "tmpl", "", map[string]string{"thing1": "x"}); err != nil {
		t.Fatal(err)
	}
	if got := f.Subscribes(); len(got) != 1 || got[0].State != "trial" {
		t.Errorf("sent %+v, want one in state trial", got)
	}
	if _, err := wechat.New(wechat.Config{AppID: "wx1", Secret: "s", SubscribeState: "beta"}); err == nil {
		t.Error("New accepted SubscribeState beta")
	}
}

func TestSendSubscribeExpiredTokenIsRefreshedOnce(t *testing.T) {
	for _, errcode := range []int{40001, 42001, 40014} {
		t.Run(fmt.Sprintf("injected %d", errcode), func(t *testing.T) {
			f := wechattest.New(t)
			c := newClient(t, f)
			f.FailNext(wechattest.SubscribeSend, 1, errcode)
			if err := c.SendSubscribe(t.Context(), "openid-1", "tmpl", "", map[string]string{"thing1": "x"}); err != nil {
				t.Fatal(err)
			}
			wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.SubscribeSend: 2})
			if n := len(f.Subscribes()); n != 1 {
				t.Errorf("%d messages accepted, want 1", n)
			}
		})
	}
	t.Run("token expired at WeChat", func(t *testing.T) {
		f := wechattest.New(t)
		c := newClient(t, f)
		send := func() error {
			return c.SendSubscribe(t.Context(), "openid-1", "tmpl", "", map[string]string{"thing1": "x"})
		}
		if err := send(); err != nil {
			t.Fatal(err)
		}
		f.ExpireToken()
		if err := send(); err != nil {
			t.Fatal(err)
		}
		// The first; the second with the expired token (40001), then with a new one.
		wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: 2, wechattest.SubscribeSend: 3})
		if n := len(f.Subscribes()); n != 2 {
			t.Errorf("%d messages accepted, want 2", n)
		}
	})
}

// subscribeArgs are the arguments of one SendSubscribe.
type subscribeArgs struct {
	openID, template string
	data             map[string]string
}

func TestSendSubscribeErrors(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(f *wechattest.Fake)
		edit       func(m *subscribeArgs)
		want       apperr.Code
		permanent  bool
		tokenCalls int
		sendCalls  int
	}{
		{name: "user refused 43101", edit: func(m *subscribeArgs) { m.openID = "refuser" }, want: apperr.Forbidden, permanent: true, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.Refuse("refuser") }},
		{name: "invalid openid 40003", edit: func(m *subscribeArgs) { m.openID = "not an openid!" }, want: apperr.Invalid, permanent: true, tokenCalls: 1, sendCalls: 1},
		{name: "empty openid", edit: func(m *subscribeArgs) { m.openID = "" }, want: apperr.Invalid, permanent: true},
		{name: "unknown template 40037", edit: func(m *subscribeArgs) { m.template = "tmpl-other" }, want: apperr.Internal, permanent: true, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.AllowTemplates("tmpl") }},
		{name: "empty template", edit: func(m *subscribeArgs) { m.template = "" }, want: apperr.Internal, permanent: true},
		{name: "data not fitting the template 47003", edit: func(m *subscribeArgs) { m.data = nil }, want: apperr.Invalid, permanent: true, tokenCalls: 1, sendCalls: 1},
		{name: "bad page 41030", want: apperr.Internal, permanent: true, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 1, 41030) }},
		{name: "system busy -1", want: apperr.Unavailable, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 1, -1) }},
		{name: "daily quota 45009", want: apperr.Unavailable, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 1, 45009) }},
		{name: "rate limit 45011", want: apperr.TooManyRequests, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 1, 45011) }},
		{name: "http 502", want: apperr.Unavailable, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNextStatus(wechattest.SubscribeSend, 1, 502) }},
		{name: "token rejected twice", want: apperr.Unavailable, tokenCalls: 2, sendCalls: 2,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 2, 40001) }},
		{name: "token endpoint busy", want: apperr.Unavailable, tokenCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.StableToken, 1, -1) }},
		{name: "IP not whitelisted 40164", want: apperr.Internal, tokenCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.StableToken, 1, 40164) }},
		{name: "unknown errcode", want: apperr.Internal, tokenCalls: 1, sendCalls: 1,
			setup: func(f *wechattest.Fake) { f.FailNext(wechattest.SubscribeSend, 1, 99999) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := wechattest.New(t)
			if tt.setup != nil {
				tt.setup(f)
			}
			m := subscribeArgs{openID: "openid-1", template: "tmpl", data: map[string]string{"thing1": "x"}}
			if tt.edit != nil {
				tt.edit(&m)
			}
			err := newClient(t, f).SendSubscribe(t.Context(), m.openID, m.template, "", m.data)
			e := wantErr(t, err, tt.want)
			if e.Message == "" {
				t.Error("no message")
			}
			wantPermanent(t, err, tt.permanent)
			wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.StableToken: tt.tokenCalls, wechattest.SubscribeSend: tt.sendCalls})
			if n := len(f.Subscribes()); n != 0 {
				t.Errorf("%d messages accepted", n)
			}
		})
	}
}

func TestSendSubscribeTimeout(t *testing.T) {
	f := wechattest.New(t)
	f.SetLatency(wechattest.SubscribeSend, 10*time.Second)
	c := newClient(t, f, func(cfg *wechat.Config) { cfg.Timeout = 300 * time.Millisecond })
	start := time.Now()
	err := c.SendSubscribe(t.Context(), "openid-1", "tmpl", "", map[string]string{"thing1": "x"})
	wantErr(t, err, apperr.Unavailable)
	wantPermanent(t, err, false)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with a 300ms timeout", d)
	}
}

func TestSubscriber(t *testing.T) {
	f := wechattest.New(t)
	f.AllowTemplates("tmpl-call", "tmpl-soon")
	templates := map[notify.Kind]wechat.Template{
		notify.KindCall:     {ID: "tmpl-call", Fields: map[string]string{"number": "character_string1", "window": "thing2"}},
		notify.KindTurnSoon: {ID: "tmpl-soon"},
		// Configured with an empty ID: as good as missing.
		notify.KindAppointmentReminder: {},
	}
	var s notify.Sender = wechat.NewSubscriber(newClient(t, f), templates)
	// The Subscriber keeps its own copy of the configuration.
	templates[notify.KindCall].Fields["number"] = "changed"
	templates[notify.KindTurnSoon] = wechat.Template{ID: "changed"}

	data := map[string]string{"number": "A023", "window": "5号窗口", "center": "城关"}
	if err := s.SendSubscribe(t.Context(), "openid-1", notify.KindCall, data, "pages/ticket/index?id=tk1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SendSubscribe(t.Context(), "openid-2", notify.KindTurnSoon, map[string]string{"thing1": "还有 3 人"}, ""); err != nil {
		t.Fatal(err)
	}
	want := []wechattest.Subscribe{
		{ToUser: "openid-1", TemplateID: "tmpl-call", Page: "pages/ticket/index?id=tk1",
			Data: map[string]string{"character_string1": "A023", "thing2": "5号窗口"}, State: "formal", Lang: "zh_CN"},
		{ToUser: "openid-2", TemplateID: "tmpl-soon", Data: map[string]string{"thing1": "还有 3 人"}, State: "formal", Lang: "zh_CN"},
	}
	if got := f.Subscribes(); !reflect.DeepEqual(got, want) {
		t.Errorf("sent\n %+v\nwant\n %+v", got, want)
	}

	for _, kind := range []notify.Kind{notify.KindAppointmentReminder, "unknown_kind"} {
		err := s.SendSubscribe(t.Context(), "openid-1", kind, data, "")
		if err == nil || !strings.Contains(err.Error(), string(kind)) || !strings.Contains(err.Error(), "template") {
			t.Errorf("kind %s: got %v, want an error naming the kind and the missing template", kind, err)
		}
		wantPermanent(t, err, true)
	}
	f.Refuse("openid-3")
	wantPermanent(t, s.SendSubscribe(t.Context(), "openid-3", notify.KindTurnSoon, map[string]string{"thing1": "x"}, ""), true)
	wantCalls(t, f, map[wechattest.Endpoint]int{wechattest.SubscribeSend: 3})
}
