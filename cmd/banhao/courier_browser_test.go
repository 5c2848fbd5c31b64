package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// A courier's phone, in CSS pixels.
const phoneWidth, phoneHeight = 390, 844

// courierRefusals are the browser's log lines of the refusals the walk
// provokes: a scan of the wrong label, a wrong delivery code (422).
var courierRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of 422`)

// TestBrowserCourierParcels walks the courier's phone page (/courier/) on a
// phone-sized screen with touch: log in, see the parcel assigned to me
// (recipient masked, address in full), pick it up with a mistyped parcel
// number first, record a failed attempt, type a wrong delivery code (the
// tries left are shown) and then the code the citizen received, after
// which the list is empty. The center's own couriers deliver here (no
// courier company configured). Every state is checked with axe-core and
// for 64px touch targets and 18px type.
func TestBrowserCourierParcels(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, _ := devClock(t, atWednesday9)
	srv := startServer(t, env)
	alice := srv.mpLogin(t, "alice")
	srv.bindRealName(t, alice, "张三丰", aliceID)
	srv.createStaff(t, "clerk1", "clerk")
	srv.createStaff(t, "approver1", "approver")
	clerk, approver := srv.login(t, "clerk1", testPassword), srv.login(t, "approver1", testPassword)
	courierID, _ := srv.dlCourier(t, "courier1", "赵师傅")
	c := srv.dlExpressCase(t, alice, clerk, approver)
	code, _, body := srv.do(t, http.MethodGet, "/api/v1/mp/cases/"+c.ID+"/delivery", alice, nil)
	p := decodeParcel(t, code, body, http.StatusOK)
	if p.Status != "ready" || !strings.HasPrefix(p.Tracking, "BH") {
		t.Fatalf("the center's own courier service: %s", body)
	}
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/parcels/"+p.ID+"/assign", clerk, strings.NewReader(`{"courier":"`+courierID+`"}`))
	decodeParcel(t, code, body, http.StatusOK)
	outbox := srv.dlOutbox(t)

	res, err := http.Get(srv.URL + "/courier/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); res.StatusCode != 200 || !strings.Contains(csp, "script-src 'self'") ||
		!strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("/courier/: %d, CSP %q", res.StatusCode, csp)
	}

	b := newBrowser(t)
	b.do(t, "set a phone viewport with touch", phoneViewport(phoneHeight))
	d := deskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	card := `#parcels li[data-id="` + p.ID + `"]`

	steps := []browserStep{
		{"log in", func(t *testing.T) {
			b.do(t, "open the courier page", chromedp.Navigate(srv.URL+"/courier/"))
			d.waitFor(t, "the login form", `document.getElementById("login-username").checkVisibility()`)
			checkChineseFont(t, b, "#login-title")
			checkReadable(t, b, "courier login")
			checkAxe(t, b, "courier login page")
			d.fill(t, "#login-username", "courier1")
			b.do(t, "type the password and press Enter", chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter))
			d.waitFor(t, "my parcel", `!!document.querySelector(`+jsString(card)+`)`)
			if who := d.text(t, "#who-name"); who != "赵师傅（测试快递）" {
				t.Errorf("signed in as %q", who)
			}
		}},
		{"the parcel shows masked, with the full address", func(t *testing.T) {
			text := d.text(t, card)
			for _, want := range []string{"营业执照", "待揽收", p.Tracking, "张**", "138****8000", dlAddress, p.ID} {
				if !strings.Contains(text, want) {
					t.Errorf("parcel card lacks %q:\n%s", want, text)
				}
			}
			page := d.text(t, "body")
			if strings.Contains(page, dlPhone) || strings.Contains(page, "张三丰") || strings.Contains(page, aliceID) {
				t.Errorf("the courier's page shows the recipient's data in full:\n%s", page)
			}
			if d.visible(t, card+" .p-deliver") || !d.visible(t, card+" .p-pickup") {
				t.Error("a parcel to pick up offers delivery, or no pick-up")
			}
			checkReadable(t, b, "courier parcel list")
			checkAxe(t, b, "courier parcel list")
			savePhoneScreenshot(t, b, filepath.Join(shots, "courier-list.png"))
		}},
		{"a mistyped parcel number is refused, the right one picks up", func(t *testing.T) {
			d.fill(t, card+` input[name="scan"]`, "pc0000")
			d.click(t, card+` .p-pickup button[type="submit"]`)
			d.waitFor(t, "the refusal", `(e => e.checkVisibility() && e.innerText.includes("不是这一件"))(document.querySelector(`+jsString(card+" .p-message")+`))`)
			checkAxe(t, b, "courier page with a refusal")
			d.fill(t, card+` input[name="scan"]`, p.ID)
			d.click(t, card+` .p-pickup button[type="submit"]`)
			d.waitFor(t, "the pick-up notice", `document.getElementById("notice").innerText.includes("已揽收")`)
			d.waitFor(t, "the delivery form", `(e => !!e && e.checkVisibility())(document.querySelector(`+jsString(card+" .p-deliver")+`))`)
			if s := d.text(t, card+" .p-status"); s != "派送中" {
				t.Errorf("status after pick-up %q", s)
			}
			checkReadable(t, b, "courier parcel on the way")
			checkAxe(t, b, "courier parcel on the way")
		}},
		{"a failed attempt is recorded with its reason", func(t *testing.T) {
			b.do(t, "choose 收件人不在家", chromedp.SetValue(chromedp.CSS(card+` select[name="reason"]`), "收件人不在家"))
			d.click(t, card+` .p-fail button[type="submit"]`)
			d.waitFor(t, "the failed-attempt notice", `document.getElementById("notice").innerText.includes("未投递成功")`)
			d.waitFor(t, "the attempt in the card", `(e => !!e && e.innerText.includes("收件人不在家"))(document.querySelector(`+jsString(card+" .p-attempts")+`))`)
		}},
		{"a wrong code counts down, the right code delivers", func(t *testing.T) {
			code := dlCode(t, outbox, p.ID, 1)
			d.fill(t, card+` input[name="code"]`, otherCode(code, 3))
			d.click(t, card+` .p-deliver button[type="submit"]`)
			d.waitFor(t, "the tries left", `(e => e.checkVisibility() && e.innerText.includes("还可尝试 4 次"))(document.querySelector(`+jsString(card+" .p-message")+`))`)
			if hint := d.text(t, card+" .p-tries"); hint != "签收码还可尝试 4 次" {
				t.Errorf("tries hint after a wrong code %q", hint)
			}
			checkAxe(t, b, "courier page after a wrong code")
			savePhoneScreenshot(t, b, filepath.Join(shots, "courier-wrong-code.png"))
			d.fill(t, card+` input[name="code"]`, code)
			d.click(t, card+` .p-deliver button[type="submit"]`)
			d.waitFor(t, "the delivery notice", `document.getElementById("notice").innerText.includes("已签收")`)
			d.waitFor(t, "an empty list", `document.getElementById("empty").checkVisibility() && !document.querySelector(`+jsString(card)+`)`)
			checkReadable(t, b, "courier empty list")
			checkAxe(t, b, "courier empty list")
		}},
		{"log out", func(t *testing.T) {
			d.click(t, "#logout")
			d.waitFor(t, "the login form again", `document.getElementById("login-username").checkVisibility()`)
			ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
			defer cancel()
			token, err := chromedp.Run(ctx, chromedp.Evaluate[string](`sessionStorage.getItem("banhao.courier.token") || ""`))
			if err != nil || token != "" {
				t.Errorf("token after logout %q (%v)", token, err)
			}
		}},
	}
	walk(t, b, "courier page walk", courierRefusals, started, steps)

	code, _, body = srv.do(t, http.MethodGet, "/api/v1/mp/parcels/"+p.ID, alice, nil)
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "delivered" {
		t.Fatalf("the citizen's parcel after the walk: %s", body)
	}
}

// phoneViewport emulates the courier's phone, height h tall.
func phoneViewport(h int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(phoneWidth, h, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)
}

// savePhoneScreenshot writes a full-page PNG of the phone page, growing
// the viewport to the page for the shot and back to the phone after.
func savePhoneScreenshot(t *testing.T, b *browser, path string) {
	t.Helper()
	h := get(t, b, "measure the page", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	b.do(t, "grow the viewport to the page", phoneViewport(max(h, phoneHeight)))
	png := get(t, b, "take a full-page screenshot", chromedp.FullScreenshot(100))
	b.do(t, "restore the phone viewport", phoneViewport(phoneHeight))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
