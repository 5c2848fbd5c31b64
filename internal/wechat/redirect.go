package wechat

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// RedirectedClient returns an HTTP client that sends the requests meant
// for api.weixin.qq.com to base instead (scheme and host only), for an
// egress proxy that relays WeChat's API, or a test's fake WeChat server.
func RedirectedClient(base string, timeout time.Duration) (*http.Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("wechat: the API address must be http(s)://host[:port], not %q", base)
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	inner := newProductionClient(timeout)
	return &http.Client{Timeout: timeout, Transport: redirect{to: u, next: inner.Transport}}, nil
}

type redirect struct {
	to   *url.URL
	next http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "api.weixin.qq.com" {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, r.to.Host
	}
	return r.next.RoundTrip(req)
}
