package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// queueRefusals are the browser's own log lines for the refusals the
// queue pages show in Chinese: a wrong secret at setup (401), a second
// ticket in a sector or a check-in too early (409), no appointment today
// (404).
var queueRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of (401|404|409)`)

// kioskBrowserClock sets a tab's clock to the development server's before
// any page script runs, as a kiosk's clock follows the real server's: the
// pages sign their requests with the browser's time, which the server
// checks against its own (devClock's skew does the same for Go clients).
// It also puts a recorder in place of window.print, since a test browser
// has no printer and a print dialog would stall it.
func kioskBrowserClock(t *testing.T, b *browser, skew time.Duration) {
	t.Helper()
	src := fmt.Sprintf(`(() => {
	const shift = %d;
	const Real = Date;
	const now = () => Real.now() + shift;
	function Shifted(...args) {
		if (!new.target) return new Real(now()).toString();
		return args.length === 0 ? new Real(now()) : new Real(...args);
	}
	Shifted.prototype = Real.prototype;
	Shifted.now = now;
	Shifted.parse = Real.parse;
	Shifted.UTC = Real.UTC;
	globalThis.Date = Shifted;
	window.__printed = 0;
	window.print = () => { window.__printed++; };
})()`, skew.Milliseconds())
	b.do(t, "set the kiosk's clock to the server's", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: src})
		return err
	}))
}

// kioskTab is a kiosk browser tab of a test with its little helpers.
type kioskTab struct {
	b   *browser
	srv *server
}

func (k kioskTab) text(t *testing.T, sel string) string {
	t.Helper()
	return strings.TrimSpace(get(t, k.b, "read "+sel, chromedp.Evaluate[string](
		`(e => e ? e.innerText : "")(document.querySelector(`+jsString(sel)+`))`)))
}

func (k kioskTab) visible(t *testing.T, sel string) bool {
	t.Helper()
	return get(t, k.b, "is "+sel+" shown", chromedp.Evaluate[bool](
		`(e => !!e && e.checkVisibility())(document.querySelector(`+jsString(sel)+`))`))
}

// waitFor polls until expr holds, as the pages answer after a request.
func (k kioskTab) waitFor(t *testing.T, what, expr string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(k.b.ctx, within)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		body := get(t, k.b, "read the page", chromedp.Evaluate[string](`document.body.innerText`))
		t.Fatalf("%s within %v: %v\npage:\n%s", what, within, err, body)
	}
}

func (k kioskTab) open(t *testing.T, path string) {
	t.Helper()
	k.b.do(t, "open "+path, chromedp.Navigate(k.srv.URL+path))
}

func (k kioskTab) fill(t *testing.T, sel, value string) {
	t.Helper()
	k.b.do(t, "type into "+sel, emptyField(sel), chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (k kioskTab) click(t *testing.T, sel string) {
	t.Helper()
	k.b.do(t, "press "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// setCard plays the card-reader bridge: it puts a card session token in
// the tab's sessionStorage, or takes it out with "".
func (k kioskTab) setCard(t *testing.T, token string) {
	t.Helper()
	js := `sessionStorage.removeItem("banhao.kiosk.card")`
	if token != "" {
		js = `sessionStorage.setItem("banhao.kiosk.card", ` + jsString(token) + `)`
	}
	k.b.do(t, "put the card session in the tab", chromedp.Evaluate[chromedp.Void](js))
}

// shownTicket is the ticket as the page shows it.
type shownTicket struct {
	Number   string `json:"number"`
	Sector   string `json:"sector"`
	Ahead    string `json:"ahead"`
	Time     string `json:"time"`
	Priority string `json:"priority"`
	Holder   string `json:"holder"`
	QRWidth  int    `json:"qr"`
	Page     string `json:"page"`
}

// readTicket waits for the ticket and its QR image and reads them.
func (k kioskTab) readTicket(t *testing.T) shownTicket {
	t.Helper()
	k.waitFor(t, "the ticket is shown", `document.getElementById("ticket").checkVisibility()`, 10*time.Second)
	k.waitFor(t, "the QR code is loaded", `(i => i.complete && i.naturalWidth > 0)(document.getElementById("ticket-qr"))`, 10*time.Second)
	return get(t, k.b, "read the ticket", chromedp.Evaluate[shownTicket](`(() => {
		const $ = id => document.getElementById(id);
		const shown = id => $(id).checkVisibility() ? $(id).innerText.trim() : "";
		return {
			number: $("ticket-number").innerText.trim(),
			sector: $("ticket-sector").innerText.trim(),
			ahead: $("ticket-ahead").innerText.trim(),
			time: $("ticket-time").innerText.trim(),
			priority: shown("ticket-priority"),
			holder: shown("ticket-holder"),
			qr: $("ticket-qr").naturalWidth,
			page: document.body.innerText,
		};
	})()`))
}

// readProblem waits for a refusal and reads it.
func (k kioskTab) readProblem(t *testing.T) (title, detail string) {
	t.Helper()
	k.waitFor(t, "a refusal is shown", `document.getElementById("problem").checkVisibility()`, 10*time.Second)
	return k.text(t, "#problem-title"), k.text(t, "#problem-detail")
}

// printed is how often the page called window.print.
func (k kioskTab) printed(t *testing.T) int {
	t.Helper()
	return get(t, k.b, "count the print calls", chromedp.Evaluate[int](`window.__printed || 0`))
}

// startCard starts a card session from Go, as a kiosk's bridge would.
func startCard(t *testing.T, k *kioskClient, card string) string {
	t.Helper()
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", card)
	if code != http.StatusCreated {
		t.Fatalf("start card session: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	if err := json.Unmarshal([]byte(body), &cs); err != nil || cs.Token == "" {
		t.Fatalf("card session: %v %s", err, body)
	}
	return cs.Token
}

// bookSlot binds an mp user's real name and books the slot of 税务服务 that
// starts at hhmm on the test's Wednesday, as the mini-program does.
func bookSlot(t *testing.T, srv *server, openid, name, idNumber, hhmm string) {
	t.Helper()
	user := srv.mpLogin(t, openid)
	if code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/me/real-name", user, strings.NewReader(`{"name":"`+name+`","id_number":"`+idNumber+`"}`)); code != http.StatusOK {
		t.Fatalf("bind real name: %d %s", code, body)
	}
	code, _, body := srv.do(t, http.MethodGet, "/api/v1/mp/slots?center=hm&sector=tax&date=2026-11-25", user, nil)
	if code != http.StatusOK {
		t.Fatalf("slots: %d %s", code, body)
	}
	var slots struct {
		Items []struct {
			Start string `json:"start"`
			Open  bool   `json:"open"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(body), &slots)
	start := ""
	for _, s := range slots.Items {
		if s.Open && strings.HasPrefix(s.Start, "2026-11-25T"+hhmm+":00") {
			start = s.Start
		}
	}
	if start == "" {
		t.Fatalf("no open 税务服务 slot at %s: %s", hhmm, body)
	}
	if code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/appointments", user, strings.NewReader(`{"center":"hm","sector":"tax","start":"`+start+`"}`)); code != http.StatusCreated {
		t.Fatalf("book %s: %d %s", hhmm, code, body)
	}
}

var ticketNumber = regexp.MustCompile(`^[A-Z]\d{3}$`)

const bobCard = `{"name":"李四","id_number":"` + bobID + `","valid_from":"2016-03-01","valid_until":"2036-03-01"}`

// TestBrowserKioskQueue walks the kiosk's queue pages on a Wednesday
// morning: an administrator sets the kiosk up in its browser; walk-ins take
// tickets with and without a printer, and one declares 孕妇, which the
// ticket shows as waiting for staff to confirm; a citizen with an ID card
// takes one and is refused a second in the same sector; the queue page
// follows the hall; check-in asks for a card, answers a card without an appointment,
// signs in a booked appointment and says when an early one can; forgetting
// the kiosk stops it.
func TestBrowserKioskQueue(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	kc := registerKiosk(t, srv, admin)
	kc.skew = skew
	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)

	steps := []browserStep{
		{"setup keeps the kiosk's ID and secret", func(t *testing.T) {
			k.open(t, "/kiosk/setup")
			if got := k.text(t, "#setup-state"); !strings.Contains(got, "尚未设置") {
				t.Errorf("a fresh kiosk's setup page says %q, want 尚未设置", got)
			}
			checkChineseFont(t, b, "main h1")
			checkReadable(t, b, "setup page")
			checkAxe(t, b, "setup page")

			// A wrong secret: the test shows the server's reason.
			k.fill(t, "#kiosk-id", kc.id)
			k.fill(t, "#kiosk-secret", "not-the-secret")
			k.click(t, "#save")
			k.waitFor(t, "the test answers", `["ok", "failed"].includes(document.getElementById("test-result").dataset.result)`, 10*time.Second)
			if got := k.text(t, "#test-result"); !strings.Contains(got, "连接失败") || !strings.Contains(got, "自助终端请求签名不正确") {
				t.Errorf("a wrong secret tests as %q, want 连接失败 with the server's reason", got)
			}

			k.fill(t, "#kiosk-secret", kc.secret)
			k.click(t, "#save")
			k.waitFor(t, "the test succeeds", `document.getElementById("test-result").dataset.result === "ok"`, 10*time.Second)
			if got := k.text(t, "#test-result"); !strings.Contains(got, "连接成功") {
				t.Errorf("the right secret tests as %q, want 连接成功", got)
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-setup.png"))

			// Kept across a reload; the secret is never shown again.
			b.do(t, "reload", chromedp.Reload())
			got := get(t, b, "read the fields", chromedp.Evaluate[[]string](
				`[document.getElementById("kiosk-id").value, document.getElementById("kiosk-secret").value]`))
			if got[0] != kc.id || got[1] != "" {
				t.Errorf("after a reload the fields hold %q, want the kiosk ID and an empty secret field", got)
			}
			if s := k.text(t, "#setup-state"); !strings.Contains(s, kc.id) {
				t.Errorf("setup state %q does not name the kiosk", s)
			}
			k.click(t, "#test")
			k.waitFor(t, "the stored secret tests ok", `document.getElementById("test-result").dataset.result === "ok"`, 10*time.Second)
		}},
		{"home tiles lead to the queue pages", func(t *testing.T) {
			k.open(t, "/kiosk/")
			tiles := get(t, b, "read the service tiles", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("ul.services a.tile")].filter(a => a.checkVisibility()).map(a => a.querySelector(".tile-name").innerText.trim() + " " + new URL(a.href).pathname)`))
			if strings.Join(tiles, "|") != "取号 /kiosk/ticket|预约签到 /kiosk/check-in|排队情况 /kiosk/queue|过号恢复 /kiosk/reactivate|我的办件 /kiosk/cases|证照打印 /kiosk/certificates|我要咨询 /kiosk/consult|我要投诉 /kiosk/complain|服务评价 /kiosk/rate" {
				t.Errorf("home service tiles: %q", tiles)
			}
			b.do(t, "touch the 取号 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a[href="/kiosk/ticket"]`))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/ticket" {
				t.Errorf("取号 tile went to %s", loc)
			}
		}},
		{"a walk-in takes a ticket", func(t *testing.T) {
			k.waitFor(t, "the page knows there is no card", `document.getElementById("card-state").dataset.state === "walk-in"`, 10*time.Second)
			if got := k.text(t, "#card-state"); !strings.Contains(got, "无身份证也可取号") {
				t.Errorf("card state without a card: %q, want 无身份证也可取号", got)
			}
			names := get(t, b, "read the sector buttons", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("button.take-sector")].filter(e => e.checkVisibility()).map(e => e.querySelector(".take-name").innerText.trim() + "=" + e.querySelector(".waiting-count").innerText.trim())`))
			if len(names) != 11 || names[2] != "住房公积金=0" {
				t.Errorf("sector buttons with waiting counts: %q, want the eleven sectors with 住房公积金=0 third", names)
			}
			checkChineseFont(t, b, ".take-name")
			checkReadable(t, b, "ticket page")
			checkAxe(t, b, "ticket page")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-sectors.png"))

			k.click(t, `button.take-sector[data-sector="housing-fund"]`)
			tk := k.readTicket(t)
			if !ticketNumber.MatchString(tk.Number) || tk.Number != "C001" {
				t.Errorf("ticket number %q, want C001", tk.Number)
			}
			if tk.Sector != "住房公积金" || tk.Ahead != "0" || tk.Holder != "" {
				t.Errorf("walk-in ticket shows sector %q, %q ahead, holder %q; want 住房公积金, 0, none", tk.Sector, tk.Ahead, tk.Holder)
			}
			// The server's clock started at 09:00 and runs on.
			if !regexp.MustCompile(`^11月25日 09:0\d$`).MatchString(tk.Time) {
				t.Errorf("ticket time %q, want 11月25日 09:0x", tk.Time)
			}
			if tk.QRWidth <= 0 {
				t.Error("the ticket's QR code did not load")
			}
			if k.visible(t, "#take") {
				t.Error("the sector buttons stay on screen under the ticket")
			}
			if n := k.printed(t); n != 0 {
				t.Errorf("a kiosk without a printer called window.print %d times", n)
			}
			// On paper only the ticket: no header, footer, buttons or page title.
			b.do(t, "render as for printing", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			}))
			for sel, want := range map[string]bool{"#ticket-number": true, "#ticket-qr": true, "header.top": false, "footer.bottom": false, "main h1": false, ".ticket-actions": false} {
				if got := k.visible(t, sel); got != want {
					t.Errorf("printed, %s shown = %v, want %v", sel, got, want)
				}
			}
			b.do(t, "render for the screen again", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
				return err
			}))
			checkChineseFont(t, b, "#ticket-sector")
			checkReadable(t, b, "ticket shown")
			checkAxe(t, b, "ticket shown")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-walk-in.png"))
		}},
		{"a kiosk with a printer prints the ticket", func(t *testing.T) {
			k.open(t, "/kiosk/ticket?print=1")
			if got := k.text(t, `[data-waiting="housing-fund"]`); got != "1" {
				t.Errorf("住房公积金 shows %q waiting, want 1", got)
			}
			k.click(t, `button.take-sector[data-sector="housing-fund"]`)
			tk := k.readTicket(t)
			if tk.Number != "C002" || tk.Ahead != "1" {
				t.Errorf("second walk-in: %s with %s ahead, want C002 with 1 ahead", tk.Number, tk.Ahead)
			}
			k.waitFor(t, "the ticket is printed", `window.__printed === 1`, 5*time.Second)
		}},
		{"a walk-in declares 孕妇 and the ticket says staff will confirm it", func(t *testing.T) {
			k.open(t, "/kiosk/ticket")
			k.waitFor(t, "the page knows there is no card", `document.getElementById("card-state").dataset.state === "walk-in"`, 10*time.Second)
			pressed := func() string {
				return get(t, b, "read the pressed toggles", chromedp.Evaluate[string](
					`[...document.querySelectorAll("button.declare-option")].map(e => e.innerText.trim() + "=" + e.getAttribute("aria-pressed")).join(",")`))
			}
			if got := k.text(t, "#declare legend"); !strings.Contains(got, "需要优先办理？") {
				t.Errorf("declaration legend %q, want 需要优先办理？", got)
			}
			if got := k.text(t, "#declare-hint"); !strings.Contains(got, "请向导服人员") || !strings.Contains(got, "出示相关证件") {
				t.Errorf("declaration hint %q, want it to send the citizen to the guide desk with papers", got)
			}
			if got := pressed(); got != "残疾人=false,孕妇=false" {
				t.Errorf("toggles on a fresh page: %s, want none pressed", got)
			}
			// One at most: pressing the other moves the choice, pressing it
			// again takes it back.
			for _, c := range []struct{ press, want, state string }{
				{"disabled", "残疾人=true,孕妇=false", "残疾人优先申报"},
				{"pregnant", "残疾人=false,孕妇=true", "孕妇优先申报"},
				{"pregnant", "残疾人=false,孕妇=false", "未申报优先"},
				{"pregnant", "残疾人=false,孕妇=true", "孕妇优先申报"},
			} {
				k.click(t, `button.declare-option[data-declare="`+c.press+`"]`)
				if got := pressed(); got != c.want {
					t.Errorf("after pressing %s the toggles are %s, want %s", c.press, got, c.want)
				}
				if got := k.text(t, "#declare-state"); !strings.Contains(got, c.state) {
					t.Errorf("after pressing %s the page says %q, want %s", c.press, got, c.state)
				}
			}
			checkChineseFont(t, b, ".declare-option")
			checkReadable(t, b, "ticket page with a declaration")
			checkAxe(t, b, "ticket page with a declaration")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-declare.png"))

			k.click(t, `button.take-sector[data-sector="social-affairs"]`)
			tk := k.readTicket(t)
			if tk.Number != "D001" || tk.Sector != "社会综合事务" || tk.Ahead != "0" {
				t.Errorf("declared ticket: %s in %q with %s ahead, want D001 in 社会综合事务 with 0 ahead", tk.Number, tk.Sector, tk.Ahead)
			}
			if tk.Priority != "优先申报待确认（孕妇）" {
				t.Errorf("declared ticket's priority line %q, want 优先申报待确认（孕妇）", tk.Priority)
			}
			// The pending note is on paper too.
			b.do(t, "render as for printing", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
				return err
			}))
			if !k.visible(t, "#ticket-priority") || k.visible(t, "#declare") {
				t.Error("printed, the pending declaration is missing or the toggles are printed")
			}
			b.do(t, "render for the screen again", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: ""})
				return err
			}))
			checkReadable(t, b, "declared ticket")
			checkAxe(t, b, "declared ticket")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-declared.png"))
		}},
		{"a card holder takes their own ticket, once per sector", func(t *testing.T) {
			// The demo page plays the card reader in the same tab.
			k.open(t, "/kiosk/demo")
			k.click(t, `button.idcard[data-name="张三丰"]`)
			k.click(t, "#card-in")
			k.waitFor(t, "the card is read", `document.getElementById("screen").dataset.state === "session"`, 10*time.Second)
			if tok := get(t, b, "read the card session", chromedp.Evaluate[string](`sessionStorage.getItem("banhao.kiosk.card") || ""`)); tok == "" {
				t.Fatal("the demo page's 刷卡 left no card session in sessionStorage")
			}
			k.open(t, "/kiosk/ticket")
			k.waitFor(t, "the page reads the card", `document.getElementById("card-state").dataset.state === "card"`, 10*time.Second)
			if got := k.text(t, "#card-state"); !strings.Contains(got, "张**") || strings.Contains(got, "张三丰") {
				t.Errorf("card state %q, want the masked holder 张**", got)
			}
			k.click(t, `button.take-sector[data-sector="housing-fund"]`)
			tk := k.readTicket(t)
			if tk.Number != "C003" || tk.Ahead != "2" || tk.Holder != "张**" {
				t.Errorf("card holder's ticket: %s, %s ahead, holder %q; want C003, 2, 张**", tk.Number, tk.Ahead, tk.Holder)
			}
			for _, n := range demoCardNumbers {
				if strings.Contains(tk.Page, n) {
					t.Errorf("the ticket page shows the full ID number %s", n)
				}
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-card.png"))

			k.open(t, "/kiosk/ticket")
			k.waitFor(t, "the page reads the card", `document.getElementById("card-state").dataset.state === "card"`, 10*time.Second)
			k.click(t, `button.take-sector[data-sector="housing-fund"]`)
			title, detail := k.readProblem(t)
			if title != "您在这个板块已经取过号了" || !strings.Contains(detail, "您在该板块已有排队号") {
				t.Errorf("second take in the sector says %q / %q, want the already-have-a-ticket message", title, detail)
			}
			if got := k.text(t, "#problem"); strings.Contains(got, "active_ticket") || strings.Contains(got, "409") {
				t.Errorf("the refusal shows a raw code: %q", got)
			}
			if !k.visible(t, `button.take-sector[data-sector="tax"]`) {
				t.Error("after the refusal the other sectors are not offered")
			}
			checkReadable(t, b, "ticket refusal")
			checkAxe(t, b, "ticket refusal")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-ticket-refused.png"))
			// Taking the card out: the next ticket is a walk-in's again.
			k.open(t, "/kiosk/demo")
			k.click(t, "#card-out")
			k.waitFor(t, "the card is out", `document.getElementById("screen").dataset.state === "ended"`, 10*time.Second)
			if tok := get(t, b, "read the card session", chromedp.Evaluate[string](`sessionStorage.getItem("banhao.kiosk.card") || ""`)); tok != "" {
				t.Error("the demo page's 取卡 left the card session in sessionStorage")
			}
		}},
		{"the queue page follows the hall", func(t *testing.T) {
			k.open(t, "/kiosk/queue")
			waiting := func() string { return k.text(t, `#waiting tr[data-sector="housing-fund"] td`) }
			if got := waiting(); got != "3" {
				t.Errorf("住房公积金 shows %q waiting, want 3", got)
			}
			if !k.visible(t, "#calls-empty") {
				t.Error("no call made yet, but the page does not say so")
			}
			checkChineseFont(t, b, "#waiting th")
			checkReadable(t, b, "queue page")
			checkAxe(t, b, "queue page")
			// Another walk-in and a call at a window: the page follows.
			if code, _, body := kc.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`); code != http.StatusCreated {
				t.Fatalf("take: %d %s", code, body)
			}
			k.waitFor(t, "the count goes up to 4", `document.querySelector('#waiting tr[data-sector="housing-fund"] td').innerText.trim() === "4"`, 12*time.Second)
			code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["housing-fund"]}`))
			if code != http.StatusCreated {
				t.Fatalf("create window: %d %s", code, body)
			}
			var w struct{ ID string }
			json.Unmarshal([]byte(body), &w)
			srv.createStaff(t, "clerk", "clerk")
			clerk := srv.login(t, "clerk", testPassword)
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/sign-in", clerk, nil); code != http.StatusOK {
				t.Fatalf("sign in at the window: %d %s", code, body)
			}
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != http.StatusOK {
				t.Fatalf("call next: %d %s", code, body)
			}
			// First come, first served: C001 is called.
			k.waitFor(t, "the call is listed", `[...document.querySelectorAll("#calls li")].some(li => li.dataset.number === "C001")`, 12*time.Second)
			if got := k.text(t, "#calls li"); !strings.Contains(got, "C001") || !strings.Contains(got, "1号窗口") {
				t.Errorf("the latest call reads %q, want C001 at 1号窗口", got)
			}
			if got := waiting(); got != "3" {
				t.Errorf("after the call 住房公积金 shows %q waiting, want 3", got)
			}
			if k.visible(t, "#calls-empty") {
				t.Error("a call is listed, but the page still says there is none")
			}
			checkReadable(t, b, "queue page with a call")
			checkAxe(t, b, "queue page with a call")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-queue.png"))
		}},
		{"check-in asks for the ID card", func(t *testing.T) {
			k.setCard(t, "")
			k.open(t, "/kiosk/check-in")
			k.waitFor(t, "the page asks for the card", `document.getElementById("checkin").dataset.state === "need-card"`, 10*time.Second)
			if got := k.text(t, "#need-card"); !strings.Contains(got, "请先刷身份证") {
				t.Errorf("check-in without a card says %q, want 请先刷身份证", got)
			}
			if k.visible(t, "#check-in") {
				t.Error("the 签到 button is offered without a card")
			}
			checkChineseFont(t, b, "#need-card .big-message")
			checkReadable(t, b, "check-in without a card")
			checkAxe(t, b, "check-in without a card")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-checkin-no-card.png"))
		}},
		{"check-in without an appointment", func(t *testing.T) {
			// The card reader reads 李四's card while the page waits.
			k.setCard(t, startCard(t, kc, bobCard))
			k.waitFor(t, "the page sees the card", `document.getElementById("checkin").dataset.state === "ready"`, 10*time.Second)
			if got := k.text(t, "#checkin-state"); !strings.Contains(got, "李*") {
				t.Errorf("check-in greets %q, want 李*", got)
			}
			k.click(t, "#check-in")
			title, detail := k.readProblem(t)
			if title != "未查到预约" || !strings.Contains(detail, "没有查到您今天在本中心的预约") {
				t.Errorf("no appointment: %q / %q, want 未查到预约 with the server's detail", title, detail)
			}
			if !k.visible(t, "#problem-take") {
				t.Error("no 取普通号 button for a citizen without an appointment")
			}
			checkReadable(t, b, "check-in refusal")
			checkAxe(t, b, "check-in refusal")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-checkin-none.png"))
			b.do(t, "press 取普通号", waitLoad(chromedp.Click(chromedp.CSS("#problem-take"))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/ticket" {
				t.Errorf("取普通号 went to %s, want /kiosk/ticket", loc)
			}
		}},
		{"check-in signs in a booked appointment", func(t *testing.T) {
			// 张三丰 booked the next slot of 税务服务 in the mini-program:
			// 09:30, whose check-in opened at 09:00.
			bookSlot(t, srv, "alice", "张三丰", aliceID, "09:30")
			k.setCard(t, startCard(t, kc, aliceCard))
			k.open(t, "/kiosk/check-in")
			k.waitFor(t, "the page sees the card", `document.getElementById("checkin").dataset.state === "ready"`, 10*time.Second)
			k.click(t, "#check-in")
			tk := k.readTicket(t)
			if tk.Number != "K001" || tk.Sector != "税务服务" || tk.Holder != "张**" {
				t.Errorf("check-in ticket %s in %q for %q, want K001 in 税务服务 for 张**", tk.Number, tk.Sector, tk.Holder)
			}
			if tk.Priority != "预约优先 · 预约时间 09:30" {
				t.Errorf("check-in ticket priority line %q, want 预约优先 · 预约时间 09:30", tk.Priority)
			}
			if tk.QRWidth <= 0 {
				t.Error("the check-in ticket's QR code did not load")
			}
			checkReadable(t, b, "check-in ticket")
			checkAxe(t, b, "check-in ticket")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-checkin-ticket.png"))
		}},
		{"check-in too early says from when", func(t *testing.T) {
			bookSlot(t, srv, "bob", "李四", bobID, "10:30")
			k.setCard(t, startCard(t, kc, bobCard))
			k.open(t, "/kiosk/check-in")
			k.waitFor(t, "the page sees the card", `document.getElementById("checkin").dataset.state === "ready"`, 10*time.Second)
			k.click(t, "#check-in")
			title, detail := k.readProblem(t)
			if title != "还没到签到时间" || !strings.Contains(detail, "10:30") || !strings.Contains(detail, "10:00") {
				t.Errorf("too early: %q / %q, want 还没到签到时间 saying the 10:30 appointment opens at 10:00", title, detail)
			}
			if k.visible(t, "#problem-take") {
				t.Error("a citizen who is early is sent to take a normal ticket")
			}
			checkReadable(t, b, "check-in too early")
			checkAxe(t, b, "check-in too early")
		}},
		{"a forgotten kiosk cannot give tickets", func(t *testing.T) {
			k.open(t, "/kiosk/setup")
			k.click(t, "#forget")
			k.waitFor(t, "the settings are gone", `document.getElementById("test-result").dataset.result === "forgotten"`, 5*time.Second)
			left := get(t, b, "read localStorage", chromedp.Evaluate[int](`localStorage.length`))
			if left != 0 {
				t.Errorf("after 清除本机设置 localStorage still holds %d items", left)
			}
			k.setCard(t, "")
			k.open(t, "/kiosk/ticket")
			title, detail := k.readProblem(t)
			if title != "本机尚未完成设置" || !strings.Contains(detail, "终端设置") {
				t.Errorf("an unset kiosk says %q / %q, want 本机尚未完成设置", title, detail)
			}
		}},
	}
	walk(t, b, "queue walk", queueRefusals, started, steps)
}

// TestBrowserKioskTicketIdleReset leaves a ticket on screen, as a citizen
// walking away with it would, and expects the kiosk to go back home.
func TestBrowserKioskTicketIdleReset(t *testing.T) {
	requireChromium(t)
	env, skew := devClock(t, atWednesday9)
	env["BANHAO_KIOSK_IDLE_RESET"] = "3s"
	srv := startServer(t, env)
	kc := registerKiosk(t, srv, srv.admin(t))
	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	k.open(t, "/kiosk/")
	b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
		`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
	k.open(t, "/kiosk/ticket")
	k.click(t, `button.take-sector[data-sector="tax"]`)
	if tk := k.readTicket(t); tk.Number != "K001" {
		t.Fatalf("ticket %s, want K001", tk.Number)
	}
	// The page navigates away by itself: poll from here.
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && loc == srv.URL+"/kiosk/" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an untouched ticket did not return to the home page within 15s (at %q, %v)", loc, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
