package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// demoCardNumbers are the full ID numbers on the demo page's cards; the
// pretend kiosk screen must never show one.
var demoCardNumbers = []string{"371621198001010012", "37162119900215002X", "11010519491231002X"}

// demoRefusals are the browser's own log lines for the refusals the demo
// page is meant to show on its pretend screen: an expired card (422) and a
// wrong secret (401).
var demoRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of (401|422)`)

// TestKioskDemoOnlyInDev checks that the demo page, which takes a kiosk
// secret, exists only in development mode, and that where it exists it
// runs under a strict content security policy with no inline script.
func TestKioskDemoOnlyInDev(t *testing.T) {
	t.Run("production", func(t *testing.T) {
		s := startServer(t, nil)
		if code, _, body := s.get(t, "/kiosk/demo"); code != http.StatusNotFound {
			t.Errorf("GET /kiosk/demo without BANHAO_DEV = %d, want 404\n%s", code, body)
		}
	})
	t.Run("development", func(t *testing.T) {
		s := startServer(t, map[string]string{"BANHAO_DEV": "true"})
		res, err := http.Get(s.URL + "/kiosk/demo")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /kiosk/demo in development mode = %d, want 200", res.StatusCode)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("demo page CSP = %q, want script-src 'self' and nothing inline", csp)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("demo page Cache-Control = %q, want no-store", cc)
		}
		_, _, body := s.get(t, "/kiosk/demo")
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/static/`) {
				t.Errorf("demo page has an inline script: %s", tag)
			}
		}
		if !strings.Contains(body, `src="/static/kiosk-demo.js"`) {
			t.Error("demo page does not load /static/kiosk-demo.js")
		}
	})
}

// TestBrowserKioskDemo plays a new user trying a kiosk without hardware: an
// administrator registers a kiosk, the user pastes its ID and secret into
// the demo page, puts demo ID cards on the pretend reader and watches the
// kiosk screen: a welcome with the masked holder and a countdown, the end
// of the session, an expired card refused, and a wrong secret refused.
func TestBrowserKioskDemo(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	srv := startServer(t, map[string]string{"BANHAO_DEV": "true"})
	admin := srv.admin(t)
	k := registerKiosk(t, srv, admin)
	b := newBrowser(t)
	shots := screenshotDir(t)

	type screen struct {
		State     string `json:"state"`
		Title     string `json:"title"`
		Detail    string `json:"detail"`
		Name      string `json:"name"`
		ID        string `json:"id"`
		Holder    bool   `json:"holder"`
		Countdown bool   `json:"countdown"`
		Seconds   int    `json:"seconds"`
		Page      string `json:"page"`
	}
	read := func(t *testing.T) screen {
		t.Helper()
		return get(t, b, "read the kiosk screen", chromedp.Evaluate[screen](`(() => {
			const $ = id => document.getElementById(id);
			const shown = id => $(id).checkVisibility();
			return {
				state: $("screen").dataset.state,
				title: $("screen-title").innerText.trim(),
				detail: shown("screen-detail") ? $("screen-detail").innerText.trim() : "",
				name: shown("holder-name") ? $("holder-name").innerText.trim() : "",
				id: shown("holder-id") ? $("holder-id").innerText.trim() : "",
				holder: shown("screen-holder"),
				countdown: shown("countdown"),
				seconds: Number($("countdown-seconds").textContent),
				page: document.body.innerText,
			};
		})()`))
	}
	// press clicks a button and waits for the screen to show its outcome:
	// the screen's state is blanked first, so that an outcome left over
	// from the previous press does not count.
	press := func(t *testing.T, id, want string) screen {
		t.Helper()
		b.do(t, "blank the screen state", chromedp.Evaluate[chromedp.Void](`document.getElementById("screen").dataset.state = "pressed"`))
		b.do(t, "press #"+id, chromedp.Click(chromedp.CSS("#"+id)))
		ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
			`(() => { const s = document.getElementById("screen"); return !["pressed", "busy"].includes(s.dataset.state) && !s.hasAttribute("aria-busy"); })()`,
			chromedp.WithPollingTimeout(0)))
		cancel()
		s := read(t)
		if err != nil {
			t.Fatalf("pressing #%s changed nothing on the kiosk screen within 10s (%v); screen: %+v", id, err, s)
		}
		if s.State != want {
			t.Fatalf("after #%s the screen is %q (%s: %s), want %q", id, s.State, s.Title, s.Detail, want)
		}
		for _, n := range demoCardNumbers {
			if strings.Contains(s.Page, n) {
				t.Errorf("after #%s the page shows the full ID number %s", id, n)
			}
		}
		return s
	}
	pick := func(t *testing.T, name string) {
		t.Helper()
		b.do(t, "put "+name+"'s card on the reader", chromedp.Click(chromedp.CSS(`button.idcard[data-name="`+name+`"]`)))
		picked := get(t, b, "read which card is picked", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('button.idcard[aria-pressed="true"]')].map(b => b.dataset.name)`))
		if len(picked) != 1 || picked[0] != name {
			t.Fatalf("cards marked picked: %q, want only %s", picked, name)
		}
	}
	fill := func(t *testing.T, sel, value string) {
		t.Helper()
		b.do(t, "type into "+sel, emptyField(sel), chromedp.SendKeys(chromedp.CSS(sel), value))
	}

	steps := []browserStep{
		{"credentials are kept in the tab", func(t *testing.T) {
			b.do(t, "open the demo page", chromedp.Navigate(srv.URL+"/kiosk/demo"))
			fill(t, "#kiosk-id", k.id)
			fill(t, "#kiosk-secret", k.secret)
			b.do(t, "reload the demo page", chromedp.Reload())
			got := get(t, b, "read the fields", chromedp.Evaluate[[]string](
				`[document.getElementById("kiosk-id").value, document.getElementById("kiosk-secret").value]`))
			if len(got) != 2 || got[0] != k.id || got[1] != k.secret {
				t.Fatalf("after a reload the fields hold %q, want the kiosk ID and secret kept in sessionStorage", got)
			}
			if s := read(t); s.State != "idle" {
				t.Errorf("a fresh demo page shows %q (%s), want the idle screen", s.State, s.Title)
			}
		}},
		{"a card starts a session", func(t *testing.T) {
			pick(t, "张三丰")
			s := press(t, "card-in", "session")
			if s.Title != "您好，张**，请选择要办理的事项" {
				t.Errorf("welcome = %q, want 您好，张**，请选择要办理的事项", s.Title)
			}
			if s.Name != "张**" || s.ID != "3716**********0012" {
				t.Errorf("holder shown as %q %q, want 张** 3716**********0012", s.Name, s.ID)
			}
			if !s.Countdown || s.Seconds < 110 || s.Seconds > 120 {
				t.Errorf("countdown shown=%v at %d s, want it counting down from 120", s.Countdown, s.Seconds)
			}
			time.Sleep(1500 * time.Millisecond)
			if later := read(t); later.Seconds >= s.Seconds {
				t.Errorf("countdown still at %d s 1.5 s after %d s", later.Seconds, s.Seconds)
			}
			checkChineseFont(t, b, "#screen-title")
			checkReadable(t, b, "demo page with a session")
			checkAxe(t, b, "demo page with a session")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-demo-session.png"))

			s = press(t, "card-look", "session")
			if s.Name != "张**" || s.ID != "3716**********0012" {
				t.Errorf("查看会话 shows %q %q, want 张** 3716**********0012", s.Name, s.ID)
			}
		}},
		{"taking the card ends the session", func(t *testing.T) {
			s := press(t, "card-out", "ended")
			if s.Title != "会话已结束，请取走您的身份证" {
				t.Errorf("after 取卡 the screen says %q, want the session ended message", s.Title)
			}
			if s.Countdown || s.Holder {
				t.Errorf("after 取卡 the screen still shows the holder (%v) or the countdown (%v)", s.Holder, s.Countdown)
			}
			if s = press(t, "card-look", "idle"); s.Title != "当前没有会话" {
				t.Errorf("查看会话 after 取卡 says %q, want 当前没有会话", s.Title)
			}
		}},
		{"another card opens its own session", func(t *testing.T) {
			pick(t, "李四")
			if s := press(t, "card-in", "session"); s.Name != "李*" || s.ID != "3716**********002X" {
				t.Errorf("李四's card shows %q %q, want 李* 3716**********002X", s.Name, s.ID)
			}
		}},
		{"an expired card is refused", func(t *testing.T) {
			pick(t, "王五")
			s := press(t, "card-in", "refused")
			if !strings.Contains(s.Detail, "身份证不在有效期内，请到窗口办理") {
				t.Errorf("expired card refusal says %q / %q, want the detail 身份证不在有效期内，请到窗口办理", s.Title, s.Detail)
			}
			if s.Holder || s.Countdown {
				t.Error("a refused card still shows a holder or a countdown")
			}
			checkReadable(t, b, "demo page with a refusal")
			checkAxe(t, b, "demo page with a refusal")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-demo-refused.png"))
		}},
		{"a heartbeat reaches the console", func(t *testing.T) {
			b.do(t, "pick a printer state", chromedp.SetValue(chromedp.CSS("#printer-state"), "paper_low"))
			b.do(t, "clear the device status", chromedp.Evaluate[chromedp.Void](`document.getElementById("device-status").textContent = ""`))
			b.do(t, "press 发送心跳", chromedp.Click(chromedp.CSS("#heartbeat")))
			ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`document.getElementById("device-status").innerText.trim() !== ""`, chromedp.WithPollingTimeout(0)))
			cancel()
			status := get(t, b, "read the device status", chromedp.Text(chromedp.CSS("#device-status")))
			if err != nil || !strings.Contains(status, "心跳已发送") || !strings.Contains(status, "纸张不足") {
				t.Fatalf("after 发送心跳 the page says %q (%v), want 心跳已发送 with 纸张不足", status, err)
			}
			_, _, body := srv.do(t, http.MethodGet, "/api/v1/staff/kiosks", admin, nil)
			var list struct {
				Items []struct {
					ID            string `json:"id"`
					PrinterStatus string `json:"printer_status"`
				} `json:"items"`
			}
			if err := json.Unmarshal([]byte(body), &list); err != nil {
				t.Fatalf("kiosk list: %v %s", err, body)
			}
			found := false
			for _, it := range list.Items {
				if it.ID == k.id {
					found = true
					if it.PrinterStatus != "paper_low" {
						t.Errorf("console lists the kiosk's printer as %q, want paper_low from the demo heartbeat", it.PrinterStatus)
					}
				}
			}
			if !found {
				t.Errorf("console kiosk list has no %s: %s", k.id, body)
			}
		}},
		{"a wrong secret is refused", func(t *testing.T) {
			fill(t, "#kiosk-secret", "not-the-secret")
			pick(t, "张三丰")
			s := press(t, "card-in", "refused")
			if !strings.Contains(s.Detail, "自助终端请求签名不正确") {
				t.Errorf("wrong secret refusal says %q / %q, want the detail 自助终端请求签名不正确", s.Title, s.Detail)
			}
		}},
	}
	walk(t, b, "demo walk", demoRefusals, started, steps)
}
