// Package wechat is the one package that talks to WeChat: mini-program
// login (code2Session), the user's phone number and subscribe messages
// (订阅消息, which Subscriber sends for the notify outbox), through
// github.com/silenceper/wechat/v2 with the stable access token.
//
// Three things differ from using the library as documented, each because
// of a library quirk:
//
//   - The library sends every request through the package-level
//     util.DefaultHTTPClient and hard-codes https://api.weixin.qq.com. New
//     installs, once per process, a client whose transport picks the
//     *http.Client of the calling Client from the request context, so each
//     Client keeps its own HTTP client (production timeouts, or a test
//     fake's transport) even though the library has only one global.
//     For the same reason, calls whose library method takes no context
//     (Subscribe.Send) are made with the library's types and util
//     helpers and a context instead: without one they would leave
//     through the fallback client.
//   - The library's cache.Memory reads its map without the lock
//     (upstream issue #888), so the access token lives in a cache of ours.
//   - The library's errors are formatted strings, some of which contain the
//     request URL, and so the AppSecret (jscode2session) or the access
//     token. They are never wrapped or logged: the transport records what
//     WeChat answered (HTTP status, errcode) and the errors of this package
//     are built from that record alone.
//
// The session_key that code2Session returns never leaves this package.
package wechat

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/miniprogram"
	mpconfig "github.com/silenceper/wechat/v2/miniprogram/config"
)

// DefaultTimeout bounds one call of a Client method (all its HTTP requests,
// including an access-token fetch and the one retry) when Config.Timeout
// is zero.
const DefaultTimeout = 10 * time.Second

// Config configures a Client.
type Config struct {
	// AppID and Secret are the mini-program's credentials.
	AppID, Secret string
	// HTTPClient sends the requests; nil means a production client with
	// dial, TLS, response-header and overall timeouts. Tests inject the
	// client of wechattest.Fake here.
	HTTPClient *http.Client
	// Timeout bounds each call of a Client method; zero means DefaultTimeout.
	Timeout time.Duration
	// SubscribeState is the build of the mini-program that subscribe
	// messages open: StateFormal (the default), StateTrial or
	// StateDeveloper, for testing a build before release.
	SubscribeState string
}

// Client calls WeChat for one mini-program. It is safe for concurrent use;
// concurrent calls share one access token and one token fetch.
type Client struct {
	mp      *miniprogram.MiniProgram
	hc      *http.Client
	tokens  *tokenCache
	timeout time.Duration
	state   string
}

// Session is who a mini-program login code belongs to. WeChat's
// session_key is deliberately not part of it.
type Session struct {
	// OpenID identifies the user within this mini-program.
	OpenID string
	// UnionID identifies the user across the owner's apps; empty unless the
	// mini-program is bound to a WeChat Open Platform account.
	UnionID string
}

// New returns a Client. The first call also installs the process-wide
// dispatching util.DefaultHTTPClient of the library (see the package doc);
// nothing else in the process may replace util.DefaultHTTPClient.
func New(cfg Config) (*Client, error) {
	if cfg.AppID == "" || cfg.Secret == "" {
		return nil, errors.New("wechat: AppID and Secret are required")
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("wechat: Timeout must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch cfg.SubscribeState {
	case "":
		cfg.SubscribeState = StateFormal
	case StateFormal, StateTrial, StateDeveloper:
	default:
		return nil, errors.New("wechat: SubscribeState must be formal, trial or developer")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newProductionClient(cfg.Timeout)
	}
	installDispatcher()

	tokens := newTokenCache(time.Now)
	mp := miniprogram.NewMiniProgram(&mpconfig.Config{
		AppID:     cfg.AppID,
		AppSecret: cfg.Secret,
		Cache:     tokens,
		// The stable token is isolated from /cgi-bin/token and is not
		// invalidated when another server of ours fetches one, so instances
		// need no shared cache or lock.
		UseStableAK: true,
	})
	// Wrap the library's stable-token handle to learn which token a call
	// used, so that on 40001 we drop exactly that one.
	mp.SetAccessTokenContextHandle(tokenRecorder{inner: mp.GetContext().AccessTokenContextHandle})
	return &Client{mp: mp, hc: hc, tokens: tokens, timeout: cfg.Timeout, state: cfg.SubscribeState}, nil
}

// codePattern accepts only URL-unreserved characters: the library pastes
// js_code into the query string unescaped, so "&" or "#" in a citizen's
// input would change the request.
var codePattern = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`)

// Code2Session exchanges a wx.login code for the user's openid and unionid.
// An unknown or already used code is an apperr.Invalid error naming the
// field "code".
func (c *Client) Code2Session(ctx context.Context, code string) (Session, error) {
	if !codePattern.MatchString(code) {
		return Session{}, invalidCode(opLogin)
	}
	callCtx, cl, cancel := c.begin(ctx)
	defer cancel()
	res, err := c.mp.GetAuth().Code2SessionContext(callCtx, code)
	// res.SessionKey is dropped here on purpose.
	if err != nil {
		return Session{}, c.fail(ctx, opLogin, cl, err, res.ErrCode)
	}
	if res.OpenID == "" {
		return Session{}, unexpected(opLogin, cl.last())
	}
	return Session{OpenID: res.OpenID, UnionID: res.UnionID}, nil
}

// PhoneNumber exchanges the code of a getPhoneNumber button for the user's
// phone number without country code (purePhoneNumber). When WeChat says
// the access token is invalid or expired, the cached token is dropped and
// the call retried exactly once.
func (c *Client) PhoneNumber(ctx context.Context, code string) (string, error) {
	if !codePattern.MatchString(code) {
		return "", invalidCode(opPhone)
	}
	callCtx, cl, cancel := c.begin(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		cl.setToken("")
		res, err := c.mp.GetAuth().GetPhoneNumberContext(callCtx, code)
		if err == nil {
			if res.PhoneInfo.PurePhoneNumber == "" {
				return "", unexpected(opPhone, cl.last())
			}
			return res.PhoneInfo.PurePhoneNumber, nil
		}
		ex := cl.last()
		if attempt == 0 && ex.path == pathPhone && tokenRejected(ex.errcode) && ctx.Err() == nil {
			c.dropToken(cl.token())
			continue
		}
		return "", c.fail(ctx, opPhone, cl, err, 0)
	}
}

// dropToken removes a rejected token from the cache. Only that token is
// removed: when many calls fail with the same stale token, the first drops
// it and fetches a new one, and the others must not drop the new one.
func (c *Client) dropToken(token string) {
	if token == "" {
		c.tokens.clear()
		return
	}
	c.tokens.deleteValue(token)
}

// begin starts one call: its deadline and the record its HTTP exchanges
// are written to.
func (c *Client) begin(parent context.Context) (context.Context, *call, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(parent, c.timeout)
	cl := &call{hc: c.hc}
	return context.WithValue(ctx, callKey{}, cl), cl, cancel
}

// tokenRecorder is the library's access-token handle, noting in the call
// record which token it handed out.
type tokenRecorder struct {
	inner credential.AccessTokenContextHandle
}

var _ credential.AccessTokenContextHandle = tokenRecorder{}

// GetAccessToken implements credential.AccessTokenHandle.
func (r tokenRecorder) GetAccessToken() (string, error) {
	return r.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext implements credential.AccessTokenContextHandle.
func (r tokenRecorder) GetAccessTokenContext(ctx context.Context) (string, error) {
	token, err := r.inner.GetAccessTokenContext(ctx)
	if err == nil {
		if cl, ok := ctx.Value(callKey{}).(*call); ok {
			cl.setToken(token)
		}
	}
	return token, err
}

// Flat returns c as seen by consumers whose Code2Session returns the
// openid and unionid as two strings, such as identity.WeChat.
func (c *Client) Flat() Flat { return Flat{c: c} }

// Flat adapts a Client to interfaces with
// Code2Session(ctx, code) (openID, unionID string, err error).
type Flat struct{ c *Client }

// Code2Session is Client.Code2Session with the Session spread out.
func (f Flat) Code2Session(ctx context.Context, code string) (openID, unionID string, err error) {
	s, err := f.c.Code2Session(ctx, code)
	return s.OpenID, s.UnionID, err
}

// PhoneNumber is Client.PhoneNumber.
func (f Flat) PhoneNumber(ctx context.Context, code string) (string, error) {
	return f.c.PhoneNumber(ctx, code)
}
