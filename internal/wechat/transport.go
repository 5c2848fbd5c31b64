package wechat

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// URL paths of the WeChat endpoints this package reaches through the library.
const (
	pathCode2Session = "/sns/jscode2session"
	pathToken        = "/cgi-bin/token"
	pathStableToken  = "/cgi-bin/stable_token"
	pathPhone        = "/wxa/business/getuserphonenumber"
	pathSubscribe    = "/cgi-bin/message/subscribe/send"
)

// newProductionClient returns the HTTP client used when Config.HTTPClient
// is nil. Each phase has its own bound so that a black-holed connection
// fails fast instead of using up the whole call budget.
func newProductionClient(overall time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{
		Timeout: overall,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   3 * time.Second,
			ResponseHeaderTimeout: 5 * time.Second,
			ExpectContinueTimeout: time.Second,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   16,
			IdleConnTimeout:       90 * time.Second,
		},
	}
}

var installOnce sync.Once

// installDispatcher points the library's util.DefaultHTTPClient, a
// package-level variable read on every request, at the dispatcher. It is
// process-wide, hence done once: every Client goes through New, so every
// read of the variable by the library happens after this write.
func installDispatcher() {
	installOnce.Do(func() {
		util.DefaultHTTPClient = &http.Client{
			Transport: dispatcher{fallback: newProductionClient(DefaultTimeout)},
		}
	})
}

// callKey is the context key of the *call of one Client method.
type callKey struct{}

// call is the record of one Client method call: the HTTP client to use,
// the access token the library took, and the last HTTP exchange.
type call struct {
	hc *http.Client

	mu       sync.Mutex
	tok      string
	exchange exchange
}

func (cl *call) setToken(t string) {
	cl.mu.Lock()
	cl.tok = t
	cl.mu.Unlock()
}

func (cl *call) token() string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.tok
}

func (cl *call) record(ex exchange) {
	cl.mu.Lock()
	cl.exchange = ex
	cl.mu.Unlock()
}

func (cl *call) last() exchange {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.exchange
}

// exchange is what one HTTP request to WeChat came to. It holds no URL
// query and no body, so it can be logged.
type exchange struct {
	// path is the URL path; empty if no request was sent.
	path string
	// err is the transport error, with the URL (and its secrets) removed.
	err error
	// status is the HTTP status code.
	status int
	// errcode and errmsg are WeChat's, from a JSON body.
	errcode int64
	errmsg  string
}

// maxSniff bounds how much of a response body is read to find errcode.
// Answers of the endpoints used here are a few hundred bytes.
const maxSniff = 64 << 10

// dispatcher is the transport of the process-wide client: it sends each
// request with the HTTP client of the call in the request's context and
// records the exchange there.
type dispatcher struct {
	// fallback serves requests made by the library outside a Client call.
	fallback *http.Client
}

// RoundTrip implements http.RoundTripper.
func (d dispatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	cl, _ := req.Context().Value(callKey{}).(*call)
	hc := d.fallback
	if cl != nil && cl.hc != nil {
		hc = cl.hc
	}
	ex := exchange{path: req.URL.Path}
	resp, err := hc.Do(req)
	if err != nil {
		// The outer client wraps the error in a *url.Error again; the inner
		// one would print the URL a second time.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		ex.err = err
		if cl != nil {
			cl.record(ex)
		}
		return nil, err
	}
	ex.status = resp.StatusCode
	buf, err := io.ReadAll(io.LimitReader(resp.Body, maxSniff))
	if err != nil {
		resp.Body.Close()
		ex.err = err
		if cl != nil {
			cl.record(ex)
		}
		return nil, err
	}
	if len(buf) < maxSniff {
		var body struct {
			ErrCode int64  `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if json.Unmarshal(buf, &body) == nil {
			ex.errcode, ex.errmsg = body.ErrCode, body.ErrMsg
		}
	}
	resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), Closer: resp.Body}
	if cl != nil {
		cl.record(ex)
	}
	return resp, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
