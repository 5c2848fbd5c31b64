package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestKioskTicketQR fetches the QR code of a ticket taken at a kiosk, as
// its printed ticket shows it, and checks that the route draws nothing but
// the mini-program's ticket page.
func TestKioskTicketQR(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	k := registerKiosk(t, s, s.admin(t))
	k.skew = skew
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
	if code != http.StatusCreated {
		t.Fatalf("take: %d %s", code, body)
	}
	var tk struct {
		ID         string `json:"id"`
		FollowPath string `json:"follow_path"`
	}
	if err := json.Unmarshal([]byte(body), &tk); err != nil || tk.FollowPath != "pages/ticket/index?id="+tk.ID {
		t.Fatalf("ticket follow path %q for %q (%v): %s", tk.FollowPath, tk.ID, err, body)
	}

	res, err := http.Get(s.URL + "/kiosk/qr.png?path=" + url.QueryEscape(tk.FollowPath))
	if err != nil {
		t.Fatal(err)
	}
	img, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR of the follow path: %d %s %.200q", res.StatusCode, res.Header.Get("Content-Type"), img)
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") || !strings.Contains(cc, "private") {
		t.Errorf("QR Cache-Control = %q, want a private max-age (the path names a ticket)", cc)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(img))
	if err != nil || cfg.Width < 200 || cfg.Width != cfg.Height {
		t.Fatalf("QR image is not a square PNG of at least 200 px: %+v %v", cfg, err)
	}
	// The image encodes the follow path itself: the same encoder with the
	// same settings draws the same pixels.
	want, err := qrcode.Encode(tk.FollowPath, qrcode.Medium, cfg.Width)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img, want) {
		t.Error("the QR image does not encode the ticket's follow path")
	}

	for name, path := range map[string]string{
		"no path":          "",
		"another page":     "pages/index/index",
		"a web address":    "https://example.com/pages/ticket/index?id=" + tk.ID,
		"prefix inside":    "xpages/ticket/index?id=" + tk.ID,
		"no ticket ID":     "pages/ticket/index?id=",
		"extra parameters": "pages/ticket/index?id=" + tk.ID + "&next=https://example.com",
		"a line break":     "pages/ticket/index?id=" + tk.ID + "\n",
		"an overlong ID":   "pages/ticket/index?id=" + strings.Repeat("a", 65),
	} {
		t.Run(name, func(t *testing.T) {
			code, ctype, body := s.get(t, "/kiosk/qr.png?path="+url.QueryEscape(path))
			wantProblem(t, code, ctype, body, http.StatusBadRequest, "invalid_input", "path")
		})
	}
}

// TestKioskQueuePagesServe checks the kiosk's queue pages as served: the
// strict content security policy of the kiosk pages, no inline script,
// nothing cached (they show a citizen's ticket), each loading its own
// script; and the home page's tiles to them.
func TestKioskQueuePagesServe(t *testing.T) {
	s := startServer(t, nil)
	for path, script := range map[string]string{
		"/kiosk/ticket":   "/static/kiosk-take.js",
		"/kiosk/check-in": "/static/kiosk-checkin.js",
		"/kiosk/queue":    "/static/kiosk-queue.js",
		"/kiosk/setup":    "/static/kiosk-setup.js",
	} {
		t.Run(path, func(t *testing.T) {
			res, err := http.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			body := string(b)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d\n%s", path, res.StatusCode, body)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s CSP = %q, want script-src 'self', nothing inline, no framing", path, csp)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s Cache-Control = %q, want no-store", path, cc)
			}
			for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
				if !strings.Contains(tag, `src="/static/`) {
					t.Errorf("%s has an inline script: %s", path, tag)
				}
			}
			if !strings.Contains(body, `src="`+script+`"`) {
				t.Errorf("%s does not load %s", path, script)
			}
			if strings.Contains(body, "style=") {
				t.Errorf("%s has an inline style, which its CSP blocks", path)
			}
		})
	}
	_, _, home := s.get(t, "/kiosk/")
	for _, href := range []string{`href="/kiosk/ticket"`, `href="/kiosk/check-in"`, `href="/kiosk/queue"`} {
		if !strings.Contains(home, href) {
			t.Errorf("kiosk home page has no tile %s", href)
		}
	}
	// The scripts the pages import are served too.
	for _, js := range []string{"/static/kiosk-sign.js", "/static/kiosk-queue-view.js"} {
		if code, ctype, _ := s.get(t, js); code != http.StatusOK || !strings.Contains(ctype, "javascript") {
			t.Errorf("GET %s = %d %s", js, code, ctype)
		}
	}
}
