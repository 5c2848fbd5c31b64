package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// api talks JSON to the server under test through one pool of HTTP
// connections.
type api struct {
	base string
	hc   *http.Client
}

// newAPI returns a client of the server at base with up to conns
// connections, all kept open between calls so that every load client
// keeps its own.
func newAPI(base string, conns int) *api {
	return &api{base: base, hc: &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns: conns, MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns,
			DisableCompression: true, IdleConnTimeout: time.Minute,
		},
	}}
}

// httpError is an answer outside 2xx: its status, the problem+json code
// (RFC 9457, banhao's "code" member) and how long to wait before retrying.
type httpError struct {
	method, path string
	status       int
	code         string
	retryAfter   time.Duration
	body         string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, e.body)
}

// codeOf returns the problem code of an error answer, "" for other errors.
func codeOf(err error) string {
	var he *httpError
	if errors.As(err, &he) {
		return he.code
	}
	return ""
}

// call sends body as JSON with a bearer token (if any) and decodes a 2xx
// answer into out (if not nil).
func (a *api) call(ctx context.Context, method, path, token string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	return a.send(ctx, method, path, b, func(h http.Header) {
		if token != "" {
			h.Set("Authorization", "Bearer "+token)
		}
	}, out)
}

// send sends a raw JSON body (nil for none) with the headers set by
// header, and decodes a 2xx answer into out (if not nil).
func (a *api) send(ctx context.Context, method, path string, body []byte, header func(http.Header), out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if header != nil {
		header(req.Header)
	}
	res, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode/100 != 2 {
		he := &httpError{method: method, path: req.URL.Path, status: res.StatusCode, body: string(bytes.TrimSpace(b))}
		var p struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(b, &p) == nil {
			he.code = p.Code
		}
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
			he.retryAfter = time.Duration(s) * time.Second
		}
		return he
	}
	if out != nil && len(b) > 0 {
		return json.Unmarshal(b, out)
	}
	return nil
}
