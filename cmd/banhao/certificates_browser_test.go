package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/banhao/banhao/printing"
)

// certificateRefusals are the browser's own log lines for the refusals
// the pages show on purpose: a second original at the kiosk (409), a
// forged QR code on the verify page (422).
var certificateRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of (409|422)`)

// downloadsTo makes the tab save downloads in dir, as a kiosk's browser
// saves them where its print agent picks them up.
func downloadsTo(t *testing.T, b *browser, dir string) {
	t.Helper()
	b.do(t, "save downloads in a folder", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		})
		return err
	}))
}

// waitDownload waits for a finished PDF in dir that is not among seen,
// and returns its name and content.
func waitDownload(t *testing.T, dir string, seen []string) (string, []byte) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".pdf") || slices.Contains(seen, e.Name()) {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err == nil && len(b) > 0 {
				return e.Name(), b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no new PDF was downloaded to %s within 15s", dir)
	return "", nil
}

// TestBrowserKioskCertificates walks 证照打印 with 张三丰's ID card after
// his 无犯罪记录证明 case was approved: the home tile leads there; without
// the card it asks for it; with it it lists the certificate; 打印 ends in
// a downloaded PDF (the kiosk's print step); a paper jam is reported and
// the retry prints the original, whose QR code verifies as valid; a
// second original is refused in Chinese. Each state is checked with
// axe-core and for kiosk-sized type and targets.
func TestBrowserKioskCertificates(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	cert, _ := issueNoCrimeRecord(t, srv)
	kc := registerKiosk(t, srv, srv.admin(t))
	kc.skew = skew

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	downloads := t.TempDir()
	downloadsTo(t, b, downloads)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	card := `.cert-card[data-id="` + cert + `"]`
	var seen []string

	steps := []browserStep{
		{"the home tile leads to 证照打印, which asks for the ID card", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			b.do(t, "touch the 证照打印 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a[href="/kiosk/certificates"]`))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/certificates" {
				t.Fatalf("the tile went to %s", loc)
			}
			k.waitFor(t, "the page asks for the card", `document.getElementById("need-card").checkVisibility()`, 10*time.Second)
			if h := k.text(t, "main h1"); h != "证照打印" {
				t.Errorf("h1 = %q", h)
			}
			checkReadable(t, b, "证照打印 without a card")
			checkAxe(t, b, "证照打印 without a card")
		}},
		{"with the card it lists the certificate", func(t *testing.T) {
			k.setCard(t, startCard(t, kc, aliceCard))
			k.waitFor(t, "the certificate is listed", `!!document.querySelector(`+jsString(card)+`)`, 10*time.Second)
			if n := get(t, b, "count the certificates", chromedp.Evaluate[int](`document.querySelectorAll(".cert-card").length`)); n != 1 {
				t.Errorf("%d certificates listed, want the new one alone (not the imported ID card)", n)
			}
			if got := k.text(t, card+" .cert-title"); got != "无犯罪记录证明" {
				t.Errorf("title = %q", got)
			}
			if got := k.text(t, card+" .cert-note"); !strings.Contains(got, "可以打印原件") {
				t.Errorf("note = %q", got)
			}
			if got := k.text(t, "#card-state"); !strings.Contains(got, "您好") || strings.Contains(got, "张三丰") {
				t.Errorf("card state = %q, want a greeting with the masked name", got)
			}
			checkChineseFont(t, b, card+" .cert-title")
			checkReadable(t, b, "证照打印 with a certificate")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-certificates.png"))
			checkAxe(t, b, "证照打印 with a certificate")
		}},
		{"打印 downloads the PDF; a paper jam is reported", func(t *testing.T) {
			k.click(t, card+" .cert-print")
			k.waitFor(t, "the print step is shown", `document.getElementById("printing").checkVisibility()`, 10*time.Second)
			name, pdf := waitDownload(t, downloads, seen)
			seen = append(seen, name)
			if !strings.HasPrefix(string(pdf), "%PDF-") || !strings.HasPrefix(name, "pj-"+cert+"-") {
				t.Fatalf("downloaded %s: %.20q", name, pdf)
			}
			if got := k.text(t, "#printing-what"); got != "无犯罪记录证明" {
				t.Errorf("printing %q", got)
			}
			checkReadable(t, b, "the print step")
			checkAxe(t, b, "the print step")
			k.click(t, `.print-fail[data-reason="卡纸"]`)
			k.waitFor(t, "the failure is shown", `document.getElementById("print-done").dataset.status === "failed"`, 10*time.Second)
			if got := k.text(t, "#print-done-title"); got != "打印没有完成：卡纸" {
				t.Errorf("result title = %q", got)
			}
			if !k.visible(t, "#print-retry") {
				t.Error("a failed print offers no retry")
			}
			checkReadable(t, b, "a failed print")
			checkAxe(t, b, "a failed print")
		}},
		{"the retry prints the original, whose QR code verifies", func(t *testing.T) {
			k.click(t, "#print-retry")
			k.waitFor(t, "the print step is shown again", `document.getElementById("printing").checkVisibility()`, 10*time.Second)
			name, pdf := waitDownload(t, downloads, seen)
			seen = append(seen, name)
			if !strings.HasPrefix(string(pdf), "%PDF-") || !strings.HasSuffix(name, "-2.pdf") {
				t.Fatalf("downloaded %s: %.20q; want the second job's PDF", name, pdf)
			}
			qr := pdfQR(t, pdf)
			code, _, body := srv.verify(t, qr)
			if v := decodeVerification(t, code, body); v.Status != "valid" || v.CertID != cert {
				t.Fatalf("the printed QR code verifies as %s", body)
			}
			k.click(t, "#print-ok")
			k.waitFor(t, "the print is done", `document.getElementById("print-done").dataset.status === "printed"`, 10*time.Second)
			if got := k.text(t, "#print-done-title"); got != "打印完成" {
				t.Errorf("result title = %q", got)
			}
			if k.visible(t, "#print-retry") {
				t.Error("a printed certificate offers a retry")
			}
			checkReadable(t, b, "a finished print")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-certificate-printed.png"))
			checkAxe(t, b, "a finished print")
		}},
		{"a second original is refused in Chinese", func(t *testing.T) {
			k.click(t, "#print-back")
			k.waitFor(t, "the list is back", `(e => !!e && e.dataset.original === "false")(document.querySelector(`+jsString(card)+`))`, 10*time.Second)
			if got := k.text(t, card+" .cert-print"); got != "打印副本" {
				t.Errorf("the button reads %q, want 打印副本", got)
			}
			k.click(t, card+" .cert-print")
			title, detail := k.readProblem(t)
			if title != "原件已打印过" || !strings.Contains(detail, "原件已打印过；如需补打，请到窗口由工作人员核准后打印副本") {
				t.Errorf("refusal: %q / %q", title, detail)
			}
			if names, _ := os.ReadDir(downloads); len(names) != 2 {
				t.Errorf("%d files downloaded, want the two jobs' PDFs only", len(names))
			}
			checkReadable(t, b, "a refused second original")
			checkAxe(t, b, "a refused second original")
		}},
	}
	walk(t, b, "kiosk certificate walk", certificateRefusals, started, steps)
}

// TestBrowserVerify opens the verify page as a phone that scanned a
// printed certificate does: 有效 with the masked holder; a tampered
// payload pasted into the form says 伪造或无效; after revocation the same
// link says 已注销. Each is checked with axe-core.
func TestBrowserVerify(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	cert, _ := issueNoCrimeRecord(t, srv)
	kc := registerKiosk(t, srv, admin)
	kc.skew = skew
	kc.session = startCard(t, kc, aliceCard)
	_, pdf := kc.printOnce(t, cert, true, "")
	qr := pdfQR(t, pdf)
	payload := printing.PayloadOf(qr)
	page := "/verify?payload=" + url.QueryEscape(payload)

	b := newBrowser(t)
	b.do(t, "use a phone's screen", chromedp.EmulateViewport(390, 844))
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	type shown struct {
		Status string            `json:"status"`
		Label  string            `json:"label"`
		Fields map[string]string `json:"fields"`
		Page   string            `json:"page"`
	}
	read := func(t *testing.T) shown {
		t.Helper()
		return get(t, b, "read the result", chromedp.Evaluate[shown](`(() => {
			const r = document.querySelector(".result");
			const fields = {};
			for (const d of document.querySelectorAll(".result-facts div")) fields[d.querySelector("dt").innerText.trim()] = d.querySelector("dd").innerText.trim();
			return {status: r ? r.dataset.status : "", label: r ? r.querySelector(".result-label").innerText.trim() : "", fields, page: document.body.innerText};
		})()`))
	}

	steps := []browserStep{
		{"the printed QR code's link says 有效", func(t *testing.T) {
			k.open(t, page)
			r := read(t)
			if r.Status != "valid" || !strings.Contains(r.Label, "有效") {
				t.Fatalf("result %q %q:\n%s", r.Status, r.Label, r.Page)
			}
			if r.Fields["持证人"] != "张**" || r.Fields["证照类型"] != "无犯罪记录证明" || r.Fields["发证机关"] != "惠民县公安局" || r.Fields["有效期至"] != "长期" {
				t.Errorf("fields shown: %v", r.Fields)
			}
			if strings.Contains(r.Page, "张三丰") || strings.Contains(r.Page, aliceID[6:14]) {
				t.Errorf("the page shows personal data:\n%s", r.Page)
			}
			csp := get(t, b, "no inline script runs", chromedp.Evaluate[int](`document.scripts.length`))
			if csp != 0 {
				t.Errorf("the verify page has %d scripts, want none", csp)
			}
			checkChineseFont(t, b, ".result-label")
			saveScreenshot(t, b, filepath.Join(shots, "verify-valid.png"))
			checkAxe(t, b, "verify page, valid")
		}},
		{"a tampered payload pasted into the form says 伪造或无效", func(t *testing.T) {
			k.fill(t, "#payload", tamper(t, payload))
			b.do(t, "press 核验", waitLoad(chromedp.Click(chromedp.CSS(`.verify-form button[type="submit"]`))))
			r := read(t)
			if r.Status != "invalid" || !strings.Contains(r.Label, "伪造或无效") || !strings.Contains(r.Page, "篡改或伪造") || len(r.Fields) != 0 {
				t.Fatalf("tampered payload: %q %q %v:\n%s", r.Status, r.Label, r.Fields, r.Page)
			}
			saveScreenshot(t, b, filepath.Join(shots, "verify-forged.png"))
			checkAxe(t, b, "verify page, forged")
		}},
		{"after revocation the same link says 已注销", func(t *testing.T) {
			srv.createStaff(t, "super1", "supervisor")
			sup := srv.login(t, "super1", testPassword)
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/revoke", sup, strings.NewReader(`{"reason":"证明有误"}`)); code != 200 {
				t.Fatalf("revoke: %d %s", code, body)
			}
			k.open(t, page)
			r := read(t)
			if r.Status != "revoked" || !strings.Contains(r.Label, "已注销") || !strings.HasPrefix(r.Fields["注销时间"], "2026-11-25 09:") {
				t.Fatalf("after revocation: %q %q %v", r.Status, r.Label, r.Fields)
			}
			checkAxe(t, b, "verify page, revoked")
		}},
	}
	walk(t, b, "verify page walk", certificateRefusals, started, steps)
}
