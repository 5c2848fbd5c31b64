package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var (
	inlineScript  = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	inlineHandler = regexp.MustCompile(`(?i)<[a-z][^>]*\son[a-z]+\s*=`)
	styleAttr     = regexp.MustCompile(`(?i)<[a-z][^>]*\sstyle\s*=`)
)

// TestPagesAreLockedDown loads every page, as a visitor and as a
// logged-in administrator over Secure cookies, and checks what a browser
// enforces: a CSP allowing only this server's scripts and styles, no
// inline script, event handler or style attribute it would silently
// block, no framing, no sniffing, no referrer to other sites.
func TestPagesAreLockedDown(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_COOKIE_SECURE"] = "true"
	s := startServer(t, env)
	s.admin(t)

	// The console's session cookie: HttpOnly, Secure, SameSite=Strict.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/staff/login", loginBody("testadmin", testPassword))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if !c.Secure || c.SameSite != http.SameSiteStrictMode {
			t.Errorf("cookie %s: Secure=%v SameSite=%v, want Secure and Strict", c.Name, c.Secure, c.SameSite)
		}
		if c.Name == "banhao_staff" {
			session = c
		}
	}
	if session == nil || !session.HttpOnly {
		t.Fatalf("session cookie: %v", res.Header.Values("Set-Cookie"))
	}

	pages := []struct {
		path    string
		console bool
	}{
		{"/kiosk/", false}, {"/kiosk/search?q=%E5%85%AC%E7%A7%AF%E9%87%91", false}, {"/kiosk/sectors/tax", false},
		{"/kiosk/matters/hm-gjj-deposit-proof", false}, {"/kiosk/ticket", false}, {"/kiosk/check-in", false},
		{"/kiosk/reactivate", false}, {"/kiosk/queue", false}, {"/kiosk/setup", false}, {"/kiosk/cases", false},
		{"/kiosk/apply/hm-gjj-deposit-proof", false}, {"/kiosk/certificates", false}, {"/kiosk/consult", false},
		{"/kiosk/complain", false}, {"/kiosk/rate", false}, {"/kiosk/demo", false}, {"/display/hm", false},
		{"/verify", false}, {"/courier/", false}, {"/console/login", false},
		{"/console/", true}, {"/console/cases", true}, {"/console/service", true}, {"/console/reports", true}, {"/console/outbox", true},
	}
	for _, p := range pages {
		req, _ := http.NewRequest(http.MethodGet, s.URL+p.path, nil)
		req.Header.Set("Accept", "text/html")
		if p.console {
			req.AddCookie(session)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(b)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: %d %s", p.path, res.StatusCode, res.Header.Get("Content-Type"))
			continue
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %s", p.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: CSP %q allows unsafe sources", p.path, csp)
		}
		for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff"} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s: %s %q, want %q", p.path, h, got, want)
			}
		}
		// No address leaves for another site.
		if rp := res.Header.Get("Referrer-Policy"); rp != "no-referrer" && rp != "same-origin" {
			t.Errorf("%s: Referrer-Policy %q", p.path, rp)
		}
		for _, tag := range inlineScript.FindAllString(body, -1) {
			if !strings.Contains(tag, "src=") {
				t.Errorf("%s: inline script %s", p.path, tag)
			}
		}
		if m := inlineHandler.FindString(body); m != "" {
			t.Errorf("%s: inline event handler in %s", p.path, m)
		}
		if m := styleAttr.FindString(body); m != "" {
			t.Errorf("%s: style attribute (blocked by the CSP) in %s", p.path, m)
		}
	}
}

// TestPublicWritesAreLimited: mini-program logins are limited per
// address and a citizen's changes per citizen, with 429 and Retry-After;
// reads and other citizens go on.
func TestPublicWritesAreLimited(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_MP_LOGINS_PER_MINUTE"] = "3"
	env["BANHAO_CITIZEN_WRITES_PER_MINUTE"] = "5"
	s := startServer(t, env)
	alice, bob := s.mpLogin(t, "limit-alice"), s.mpLogin(t, "limit-bob")
	s.mpLogin(t, "limit-carol")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/mp/login", strings.NewReader(`{"code":"dev:limit-dave"}`))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	wantProblem(t, res.StatusCode, res.Header.Get("Content-Type"), string(b), 429, "too_many_requests", "")
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}

	ask := func(token string) (int, string, string) {
		return s.do(t, http.MethodPost, "/api/v1/mp/consultations", token, strings.NewReader(`{"text":""}`))
	}
	for i := range 5 {
		if code, _, body := ask(alice); code == 429 {
			t.Fatalf("write %d refused: %s", i+1, body)
		}
	}
	code, ctype, body := ask(alice)
	wantProblem(t, code, ctype, body, 429, "too_many_requests", "")
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/me", alice, nil); code != 200 {
		t.Errorf("a read after the limit: %d %s", code, body)
	}
	if code, _, body := ask(bob); code == 429 {
		t.Errorf("another citizen limited too: %s", body)
	}
}
