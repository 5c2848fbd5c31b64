package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// kioskCaseRefusals are the browser's own log lines for the refusal the
// kiosk application shows in large Chinese: the pre-check's missing
// materials (422).
var kioskCaseRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of 422`)

// TestBrowserKioskCases walks the kiosk's case pages with 张三丰's ID card:
// 我的办件 asks for the card, then lists the housing-fund loan he applied
// for in the mini-program, returned by a clerk, with its one-time notice
// and timeline; the guide of a kiosk-enabled matter offers 自助申请, whose
// application shows the ID card taken from his e-certificates (免提交) and
// whose pre-check lists the missing application form at once; the draft
// is listed and can be continued; taking the card out clears the page.
// Every state shown is checked with axe-core and for kiosk-sized type and
// targets.
func TestBrowserKioskCases(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	kc := registerKiosk(t, srv, srv.admin(t))
	kc.skew = skew

	// 张三丰's housing-fund loan: applied for in the mini-program and
	// returned by a clerk with a one-time notice.
	alice := srv.mpLogin(t, "alice")
	srv.bindRealName(t, alice, "张三丰", aliceID)
	code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-gjj-loan"}`))
	loan := decodeCase(t, code, body, 201)
	for i, name := range []string{"购房合同", "借款申请书"} {
		code, _, body := srv.upload(t, fmt.Sprintf("/api/v1/mp/cases/%s/materials/%d/file", loan.ID, loan.material(t, name)), alice, testPNG(t, byte(i+1)))
		decodeCase(t, code, body, 201)
	}
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/mp/cases/"+loan.ID+"/submit", alice, strings.NewReader(`{}`))
	decodeCase(t, code, body, 200)
	srv.createStaff(t, "clerk", "clerk")
	clerk := srv.login(t, "clerk", testPassword)
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/cases/"+loan.ID+"/return", clerk,
		strings.NewReader(fmt.Sprintf(`{"problems":[{"material":%d,"reason":"合同缺少签字页"}]}`, loan.material(t, "购房合同"))))
	decodeCase(t, code, body, 200)

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	var draftNumber string

	steps := []browserStep{
		{"我的办件 asks for the ID card", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			k.open(t, "/kiosk/cases")
			k.waitFor(t, "the page asks for the card", `document.getElementById("need-card").checkVisibility()`, 10*time.Second)
			if h := k.text(t, "main h1"); h != "我的办件" {
				t.Errorf("h1 = %q, want 我的办件", h)
			}
			if k.visible(t, "#case-list") {
				t.Error("cases are listed without a card")
			}
			checkReadable(t, b, "我的办件 without a card")
			checkAxe(t, b, "我的办件 without a card")
		}},
		{"with the card it lists the case and its timeline", func(t *testing.T) {
			k.setCard(t, startCard(t, kc, aliceCard))
			card := `.case-card[data-number="` + loan.Number + `"]`
			k.waitFor(t, "the case is listed", `!!document.querySelector(`+jsString(card)+`)`, 10*time.Second)
			if got := k.text(t, "#card-state"); !strings.Contains(got, "您好") || strings.Contains(got, "张三丰") {
				t.Errorf("card state = %q, want a greeting with the masked name", got)
			}
			if got := k.text(t, card+" .case-state"); got != "待补正" {
				t.Errorf("case state = %q, want 待补正", got)
			}
			if got := k.text(t, card+" .case-notice"); !strings.Contains(got, "购房合同或首付款凭证：合同缺少签字页") {
				t.Errorf("the one-time notice reads %q", got)
			}
			if got := k.text(t, card+" .case-deadline"); got == "" {
				t.Error("the case shows no deadline line")
			}
			type line struct {
				Time   string `json:"time"`
				Office string `json:"office"`
				Note   string `json:"note"`
				Size   float64
			}
			lines := get(t, b, "read the timeline", chromedp.Evaluate[[]line](`[...document.querySelectorAll(`+jsString(card+" .timeline-item")+`)].map(li => ({
				time: li.querySelector(".timeline-time").innerText.trim(),
				office: li.querySelector(".timeline-office").innerText.trim(),
				note: li.querySelector(".timeline-note").innerText.trim(),
				Size: parseFloat(getComputedStyle(li.querySelector(".timeline-note")).fontSize),
			}))`))
			if len(lines) != 2 {
				t.Fatalf("timeline has %d lines, want submit and return: %+v", len(lines), lines)
			}
			when := regexp.MustCompile(`^2026年11月25日 09:0\d$`)
			if !when.MatchString(lines[0].Time) || lines[0].Office != "申请人" || !strings.Contains(lines[0].Note, "申请已提交") {
				t.Errorf("first timeline line = %+v", lines[0])
			}
			if !when.MatchString(lines[1].Time) || lines[1].Office != "综合受理窗口" || !strings.Contains(lines[1].Note, "一次告知") {
				t.Errorf("second timeline line = %+v", lines[1])
			}
			if lines[0].Size < 28 {
				t.Errorf("timeline notes are %.1fpx, want large type (at least 28px)", lines[0].Size)
			}
			checkChineseFont(t, b, card+" .timeline-note")
			checkReadable(t, b, "我的办件")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-cases.png"))
			checkAxe(t, b, "我的办件 with a case")
		}},
		{"a kiosk-enabled guide offers 自助申请", func(t *testing.T) {
			k.open(t, "/kiosk/matters/hm-gjj-loan")
			if k.visible(t, "a.apply-button") {
				t.Error("a matter without the kiosk channel offers 自助申请")
			}
			k.open(t, "/kiosk/matters/hm-ga-no-crime-record")
			if got := k.text(t, "a.apply-button"); got != "自助申请" {
				t.Fatalf("the 无犯罪记录证明 guide offers %q, want 自助申请", got)
			}
			checkReadable(t, b, "guide with 自助申请")
			checkAxe(t, b, "guide with 自助申请")
			b.do(t, "press 自助申请", waitLoad(chromedp.Click(chromedp.CSS("a.apply-button"))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/apply/hm-ga-no-crime-record" {
				t.Fatalf("自助申请 went to %s", loc)
			}
		}},
		{"the application takes the ID card from the e-certificates and lists what is missing", func(t *testing.T) {
			k.waitFor(t, "the page offers to start", `document.getElementById("apply-start").checkVisibility()`, 10*time.Second)
			checkReadable(t, b, "自助申请 before starting")
			checkAxe(t, b, "自助申请 before starting")
			k.click(t, "#apply-go")
			k.waitFor(t, "the materials are shown", `document.getElementById("apply-case").checkVisibility()`, 10*time.Second)
			type material struct {
				Name   string `json:"name"`
				Status string `json:"status"`
				Source string `json:"source"`
				Text   string `json:"text"`
			}
			ms := get(t, b, "read the materials", chromedp.Evaluate[[]material](`[...document.querySelectorAll("#apply-materials li")].map(li => ({
				name: li.querySelector(".apply-name").innerText.trim(), status: li.dataset.status, source: li.dataset.source,
				text: li.querySelector(".apply-status").innerText.trim(),
			}))`))
			if len(ms) != 3 || ms[0].Name != "申请人居民身份证" || ms[0].Source != "ecert" || !strings.Contains(ms[0].Text, "免提交") ||
				ms[1].Name != "犯罪记录查询申请表" || ms[1].Status != "missing" {
				t.Fatalf("materials shown: %+v", ms)
			}
			draftNumber = get(t, b, "read the case number", chromedp.Evaluate[string](`document.getElementById("apply-number").dataset.number`))
			if draftNumber == "" || !strings.Contains(k.text(t, "#apply-number"), "草稿") {
				t.Errorf("the application reads %q, want its number as a draft", k.text(t, "#apply-number"))
			}
			checkAxe(t, b, "自助申请 with the materials")
			k.click(t, "#apply-submit")
			k.waitFor(t, "the pre-check answers", `document.getElementById("apply-missing").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#apply-missing-title"); !strings.Contains(got, "还缺少 1 项") {
				t.Errorf("missing title = %q", got)
			}
			items := get(t, b, "read the missing list", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#apply-missing-list li")].map(li => li.innerText.trim())`))
			if strings.Join(items, "|") != "犯罪记录查询申请表" {
				t.Errorf("missing materials listed: %q, want the application form alone", items)
			}
			if size := get(t, b, "measure the list", chromedp.Evaluate[float64](`parseFloat(getComputedStyle(document.querySelector("#apply-missing-list li")).fontSize)`)); size < 36 {
				t.Errorf("the missing materials are %.1fpx, want large type (at least 36px)", size)
			}
			if role := get(t, b, "read the role", chromedp.Evaluate[string](`document.getElementById("apply-missing").getAttribute("role")`)); role != "alert" {
				t.Errorf("the missing list has role %q, want alert", role)
			}
			if got := k.text(t, `#apply-materials li[data-index="1"] .apply-status`); !strings.Contains(got, "缺少") {
				t.Errorf("the missing form is marked %q in the list", got)
			}
			checkReadable(t, b, "自助申请 refused by the pre-check")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-apply-missing.png"))
			checkAxe(t, b, "自助申请 refused by the pre-check")
		}},
		{"the draft is listed and continues", func(t *testing.T) {
			k.open(t, "/kiosk/cases")
			card := `.case-card[data-number="` + draftNumber + `"]`
			k.waitFor(t, "the draft is listed", `!!document.querySelector(`+jsString(card)+`)`, 10*time.Second)
			if n := get(t, b, "count the cases", chromedp.Evaluate[int](`document.querySelectorAll(".case-card").length`)); n != 2 {
				t.Errorf("%d cases listed, want the loan and the draft", n)
			}
			if got := k.text(t, card+" .case-state"); got != "草稿" {
				t.Errorf("draft state = %q", got)
			}
			checkReadable(t, b, "我的办件 with a draft")
			b.do(t, "press 继续申请", waitLoad(chromedp.Click(chromedp.CSS(card+" a.button"))))
			k.waitFor(t, "the draft is shown again", `document.getElementById("apply-case").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#apply-number"); !strings.Contains(got, draftNumber) {
				t.Errorf("continued application shows %q, want %s", got, draftNumber)
			}
		}},
		{"taking the card out clears the page", func(t *testing.T) {
			k.open(t, "/kiosk/cases")
			k.waitFor(t, "the cases are listed", `document.querySelectorAll(".case-card").length === 2`, 10*time.Second)
			k.setCard(t, "")
			k.waitFor(t, "the page asks for the card again", `document.getElementById("need-card").checkVisibility() && document.querySelectorAll(".case-card").length === 0`, 5*time.Second)
		}},
	}
	walk(t, b, "kiosk case walk", kioskCaseRefusals, started, steps)
}
