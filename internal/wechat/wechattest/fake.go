// Package wechattest is a fake of the WeChat HTTP API on 127.0.0.1, for
// tests of banhao packages that log citizens in through internal/wechat.
// It implements the endpoints that silenceper/wechat calls for login,
// phone numbers and subscribe messages: /sns/jscode2session,
// /cgi-bin/token, /cgi-bin/stable_token, /wxa/business/getuserphonenumber
// and /cgi-bin/message/subscribe/send, with WeChat's errcodes (40029
// unknown code, 40163 used code, 40001 invalid token, 40013/40125 wrong
// AppID/secret, 43101 refused subscribe message, 40003 bad openid, 40037
// bad template).
//
// The library hard-codes https://api.weixin.qq.com; the fake's
// HTTPClient (or Transport) rewrites the scheme and host of every request
// for that host to the fake and refuses any other host, so a test can
// never reach the real WeChat. Inject it as wechat.Config.HTTPClient;
// Config does that with the fake's credentials:
//
//	func TestLogin(t *testing.T) {
//		fake := wechattest.New(t) // closed by t.Cleanup
//		fake.RegisterCode("code-1", "openid-1")
//		fake.RegisterPhoneCode("phone-1", "13800138000")
//		wc, err := wechat.New(fake.Config())
//		if err != nil {
//			t.Fatal(err)
//		}
//		citizens := identity.NewCitizens(..., wc.Flat(), ...)
//		// ... log in with "code-1"; then:
//		fake.FailNext(wechattest.Code2Session, 1, 45011) // next login is rate limited
//		fake.ExpireToken()                               // next phone call sees 40001 once
//		fake.SetLatency(wechattest.AllEndpoints, 3*time.Second)
//		if n := fake.Calls(wechattest.Code2Session); n != 1 { ... }
//
//		fake.Refuse("openid-2")          // 43101 for this user's messages
//		fake.AllowTemplates("tmpl-call") // 40037 for any other template
//		// ... send subscribe messages; then:
//		msgs := fake.Subscribes()        // what was accepted, in order
//	}
//
// Every code is single-use, as in WeChat. All methods are safe for
// concurrent use.
package wechattest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/wechat"
)

// Credentials the fake accepts; Config uses them.
const (
	AppID  = "wx00000000wechattest"
	Secret = "wechattest-secret"
)

// Host is the WeChat API host that the fake's transport redirects.
const Host = "api.weixin.qq.com"

// Endpoint is the URL path of a faked WeChat endpoint.
type Endpoint string

// The faked endpoints.
const (
	// Code2Session is the mini-program login (GET).
	Code2Session Endpoint = "/sns/jscode2session"
	// Token is the ordinary access token (GET).
	Token Endpoint = "/cgi-bin/token"
	// StableToken is the stable access token (POST JSON), which
	// internal/wechat uses.
	StableToken Endpoint = "/cgi-bin/stable_token"
	// PhoneNumber exchanges a phone code for the number (POST JSON).
	PhoneNumber Endpoint = "/wxa/business/getuserphonenumber"
	// SubscribeSend sends a subscribe message (POST JSON).
	SubscribeSend Endpoint = "/cgi-bin/message/subscribe/send"
	// AllEndpoints, given to SetLatency, means every endpoint.
	AllEndpoints Endpoint = "*"
)

// TokenLifetime is the expires_in the fake reports for access tokens.
// Tokens never expire by time, only through ExpireToken.
const TokenLifetime = 7200 * time.Second

// Fake is a fake WeChat API server.
type Fake struct {
	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	logins   map[string]*login
	phones   map[string]*phone
	token    string // the one valid access token; "" when none
	minted   int
	failures map[Endpoint][]failure
	latency  map[Endpoint]time.Duration
	calls    map[Endpoint]int

	subscribes []Subscribe
	refused    map[string]bool // openids that refuse subscribe messages
	templates  map[string]bool // nil: any template ID is valid

	msgChecks msgChecks // msgSecCheck state, in msgcheck.go
}

// Subscribe is a subscribe message the fake accepted.
type Subscribe struct {
	ToUser     string
	TemplateID string
	Page       string
	// Data are the keyword values, e.g. {"thing2": "5号窗口"}.
	Data map[string]string
	// State and Lang are miniprogram_state and lang as sent.
	State, Lang string
}

type login struct {
	openID, unionID string
	used            bool
}

type phone struct {
	number string
	used   bool
}

// failure is one queued failure: an HTTP status, or else an errcode.
type failure struct {
	status  int
	errcode int
}

// New starts a fake and closes it when the test ends.
func New(t testing.TB) *Fake {
	t.Helper()
	f := Start()
	t.Cleanup(f.Close)
	return f
}

// Start starts a fake; the caller must Close it. Tests use New.
func Start() *Fake {
	f := &Fake{
		closed:   make(chan struct{}),
		logins:   make(map[string]*login),
		phones:   make(map[string]*phone),
		failures: make(map[Endpoint][]failure),
		latency:  make(map[Endpoint]time.Duration),
		calls:    make(map[Endpoint]int),
		refused:  make(map[string]bool),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+string(Code2Session), f.serve(Code2Session, f.code2Session))
	mux.HandleFunc("GET "+string(Token), f.serve(Token, f.plainToken))
	mux.HandleFunc("POST "+string(StableToken), f.serve(StableToken, f.stableToken))
	mux.HandleFunc("POST "+string(PhoneNumber), f.serve(PhoneNumber, f.phoneNumber))
	mux.HandleFunc("POST "+string(SubscribeSend), f.serve(SubscribeSend, f.subscribeSend))
	mux.HandleFunc("POST "+string(MsgCheck), f.serve(MsgCheck, f.msgCheck))
	f.srv = httptest.NewServer(mux)
	return f
}

// Close stops the server, aborting requests that wait out a latency.
func (f *Fake) Close() {
	f.once.Do(func() { close(f.closed) })
	f.srv.Close()
}

// URL is the fake's base URL, http://127.0.0.1:port.
func (f *Fake) URL() string { return f.srv.URL }

// Transport returns a RoundTripper that sends every request for
// api.weixin.qq.com to the fake, over plain HTTP, keeping path and query,
// and fails requests for any other host.
func (f *Fake) Transport() http.RoundTripper {
	target, _ := url.Parse(f.srv.URL)
	return rewriter{target: target, next: f.srv.Client().Transport}
}

// HTTPClient returns a client using Transport, for wechat.Config.HTTPClient.
func (f *Fake) HTTPClient() *http.Client {
	return &http.Client{Transport: f.Transport()}
}

// Config returns a wechat.Config for this fake: its credentials, its
// HTTPClient and a 5 s timeout.
func (f *Fake) Config() wechat.Config {
	return wechat.Config{AppID: AppID, Secret: Secret, HTTPClient: f.HTTPClient(), Timeout: 5 * time.Second}
}

// RegisterCode makes a wx.login code valid, once, for openID.
func (f *Fake) RegisterCode(code, openID string) {
	f.RegisterCodeUnionID(code, openID, "")
}

// RegisterCodeUnionID is RegisterCode with a unionid in the answer.
func (f *Fake) RegisterCodeUnionID(code, openID, unionID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.logins[code] = &login{openID: openID, unionID: unionID}
}

// RegisterPhoneCode makes a getPhoneNumber code valid, once, for a
// mainland number such as "13800138000".
func (f *Fake) RegisterPhoneCode(code, number string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.phones[code] = &phone{number: number}
}

// Refuse makes subscribe messages to openID fail with 43101, as when the
// user rejected the template or has no subscription left for it.
func (f *Fake) Refuse(openID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused[openID] = true
}

// Accept undoes Refuse: subscribe messages to openID are accepted again,
// as when the user subscribed anew.
func (f *Fake) Accept(openID string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.refused, openID)
}

// AllowTemplates makes only these template IDs valid for subscribe
// messages; others get 40037. Until it is called, every ID is valid.
func (f *Fake) AllowTemplates(ids ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.templates = make(map[string]bool, len(ids))
	for _, id := range ids {
		f.templates[id] = true
	}
}

// Subscribes returns the subscribe messages accepted so far, in order.
func (f *Fake) Subscribes() []Subscribe {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Subscribe, len(f.subscribes))
	copy(out, f.subscribes)
	return out
}

// FailNext makes the next n calls of ep answer HTTP 200 with the given
// errcode (for example -1, 45011, 40001, 45009). Failures queue up in
// order across FailNext and FailNextStatus.
func (f *Fake) FailNext(ep Endpoint, n, errcode int) {
	f.queue(ep, n, failure{errcode: errcode})
}

// FailNextStatus makes the next n calls of ep answer the HTTP status
// (for example 500 or 502) with a plain-text body.
func (f *Fake) FailNextStatus(ep Endpoint, n, status int) {
	f.queue(ep, n, failure{status: status})
}

func (f *Fake) queue(ep Endpoint, n int, fl failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.failures[ep] = append(f.failures[ep], fl)
	}
}

// ExpireToken invalidates the current access token: the next call that
// uses it gets errcode 40001, and the next token request gets a new one.
func (f *Fake) ExpireToken() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.token = ""
}

// SetLatency delays every answer of ep (or of AllEndpoints) by d; zero
// removes the delay. A delay specific to an endpoint wins over
// AllEndpoints. The wait ends early when the client gives up.
func (f *Fake) SetLatency(ep Endpoint, d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.latency[ep] = d
}

// Calls returns how many requests ep has received, failed ones included.
func (f *Fake) Calls(ep Endpoint) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[ep]
}

// TokensIssued returns how many access tokens the fake has handed out.
func (f *Fake) TokensIssued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.minted
}

// serve wraps an endpoint handler with counting, latency and queued failures.
func (f *Fake) serve(ep Endpoint, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.calls[ep]++
		d, ok := f.latency[ep]
		if !ok {
			d = f.latency[AllEndpoints]
		}
		f.mu.Unlock()

		if d > 0 {
			// Reading the body to its end first lets the server notice a
			// client that gives up, which cancels r.Context().
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			case <-f.closed:
				t.Stop()
				return
			}
		}

		f.mu.Lock()
		var fl *failure
		if q := f.failures[ep]; len(q) > 0 {
			fl = &q[0]
			f.failures[ep] = q[1:]
		}
		f.mu.Unlock()
		switch {
		case fl == nil:
			h(w, r)
		case fl.status != 0:
			http.Error(w, http.StatusText(fl.status), fl.status)
		default:
			writeErr(w, fl.errcode, "injected by wechattest")
		}
	}
}

func (f *Fake) code2Session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !f.credentialsOK(w, q.Get("appid"), q.Get("secret")) {
		return
	}
	if q.Get("grant_type") != "authorization_code" {
		writeErr(w, 40002, "invalid grant_type")
		return
	}
	f.mu.Lock()
	l, ok := f.logins[q.Get("js_code")]
	used := ok && l.used
	if ok {
		l.used = true
	}
	f.mu.Unlock()
	switch {
	case !ok:
		writeErr(w, 40029, "invalid code")
	case used:
		writeErr(w, 40163, "code been used")
	default:
		writeJSON(w, map[string]any{
			"openid":      l.openID,
			"unionid":     l.unionID,
			"session_key": "wechattest-session-key-" + randomHex(8),
		})
	}
}

func (f *Fake) plainToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("grant_type") != "client_credential" {
		writeErr(w, 40002, "invalid grant_type")
		return
	}
	if !f.credentialsOK(w, q.Get("appid"), q.Get("secret")) {
		return
	}
	f.writeToken(w, false)
}

func (f *Fake) stableToken(w http.ResponseWriter, r *http.Request) {
	var req struct {
		GrantType    string `json:"grant_type"`
		AppID        string `json:"appid"`
		Secret       string `json:"secret"`
		ForceRefresh bool   `json:"force_refresh"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 47001, "data format error")
		return
	}
	if req.GrantType != "client_credential" {
		writeErr(w, 40002, "invalid grant_type")
		return
	}
	if !f.credentialsOK(w, req.AppID, req.Secret) {
		return
	}
	f.writeToken(w, req.ForceRefresh)
}

// writeToken answers the current token, minting one if there is none (or
// if forced). Like WeChat's stable token, repeated requests get the same
// token while it is valid.
func (f *Fake) writeToken(w http.ResponseWriter, force bool) {
	f.mu.Lock()
	if f.token == "" || force {
		f.minted++
		f.token = "wechattest-token-" + strconv.Itoa(f.minted) + "-" + randomHex(4)
	}
	tok := f.token
	f.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(TokenLifetime / time.Second)})
}

func (f *Fake) phoneNumber(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	var req struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 47001, "data format error")
		return
	}
	f.mu.Lock()
	valid := tok != "" && tok == f.token
	p, ok := f.phones[req.Code]
	used := ok && p.used
	if valid && ok {
		p.used = true
	}
	f.mu.Unlock()
	switch {
	case tok == "":
		writeErr(w, 41001, "access_token missing")
	case !valid:
		writeErr(w, 40001, "invalid credential, access_token is invalid or not latest")
	case !ok || used:
		writeErr(w, 40029, "invalid code")
	default:
		writeJSON(w, map[string]any{
			"errcode": 0,
			"errmsg":  "ok",
			"phone_info": map[string]any{
				"phoneNumber":     p.number,
				"purePhoneNumber": p.number,
				"countryCode":     "86",
				"watermark":       map[string]any{"timestamp": time.Now().Unix(), "appid": AppID},
			},
		})
	}
}

// openIDPattern is the shape of the openids the fake accepts: WeChat's
// are 28 characters of this alphabet, tests' may be shorter.
var openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func (f *Fake) subscribeSend(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	var req struct {
		ToUser     string `json:"touser"`
		TemplateID string `json:"template_id"`
		Page       string `json:"page"`
		Data       map[string]struct {
			Value any `json:"value"`
		} `json:"data"`
		State string `json:"miniprogram_state"`
		Lang  string `json:"lang"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 47001, "data format error")
		return
	}
	f.mu.Lock()
	valid := tok != "" && tok == f.token
	refused := f.refused[req.ToUser]
	badTemplate := req.TemplateID == "" || (f.templates != nil && !f.templates[req.TemplateID])
	f.mu.Unlock()
	switch {
	case tok == "":
		writeErr(w, 41001, "access_token missing")
		return
	case !valid:
		writeErr(w, 40001, "invalid credential, access_token is invalid or not latest")
		return
	case !openIDPattern.MatchString(req.ToUser):
		writeErr(w, 40003, "invalid openid")
		return
	case badTemplate:
		writeErr(w, 40037, "invalid template_id")
		return
	case len(req.Data) == 0:
		writeErr(w, 47003, "argument invalid! data is empty")
		return
	case req.State != "" && req.State != "formal" && req.State != "trial" && req.State != "developer":
		writeErr(w, 47003, "argument invalid! miniprogram_state")
		return
	case refused:
		writeErr(w, 43101, "user refuse to accept the msg")
		return
	}
	msg := Subscribe{ToUser: req.ToUser, TemplateID: req.TemplateID, Page: req.Page, State: req.State, Lang: req.Lang,
		Data: make(map[string]string, len(req.Data))}
	for k, v := range req.Data {
		s, ok := v.Value.(string)
		if !ok {
			writeErr(w, 47003, "argument invalid! data."+k+".value")
			return
		}
		msg.Data[k] = s
	}
	f.mu.Lock()
	f.subscribes = append(f.subscribes, msg)
	id := len(f.subscribes)
	f.mu.Unlock()
	writeJSON(w, map[string]any{"errcode": 0, "errmsg": "ok", "msgid": id})
}

func (f *Fake) credentialsOK(w http.ResponseWriter, appID, secret string) bool {
	switch {
	case appID != AppID:
		writeErr(w, 40013, "invalid appid")
		return false
	case secret != Secret:
		writeErr(w, 40125, "invalid appsecret")
		return false
	}
	return true
}

func writeErr(w http.ResponseWriter, errcode int, errmsg string) {
	writeJSON(w, map[string]any{"errcode": errcode, "errmsg": errmsg + ", rid: wechattest"})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// rewriter sends requests for Host to the fake.
type rewriter struct {
	target *url.URL
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (rw rewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Hostname() != Host {
		if req.Body != nil {
			req.Body.Close()
		}
		// The host only: the query may hold credentials.
		return nil, fmt.Errorf("wechattest: refusing a request to %s: only %s is faked", req.URL.Host, Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = rw.target.Scheme
	out.URL.Host = rw.target.Host
	out.Host = ""
	return rw.next.RoundTrip(out)
}
