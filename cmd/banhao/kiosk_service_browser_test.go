package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// kioskServiceRefusals are the browser's log lines for the refusal the
// kiosk's 我要咨询 shows in large Chinese: an empty question (400).
var kioskServiceRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of 400`)

// TestBrowserKioskService walks 我要咨询 and 我要投诉 with 张三丰's ID card:
// both are reached from the home page's tiles and ask for the card; an
// empty question is refused in Chinese; a common question chosen with one
// touch is sent and reaches the 综合便民 desk's worklist; a question about
// a matter reaches its sector; once staff reply, the page lists both
// questions with the center's reply; a complaint is filed and reaches the
// complaints worklist; taking the card out clears the page. Every state is
// checked with axe-core and for kiosk-sized type and targets.
func TestBrowserKioskService(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	kc := registerKiosk(t, srv, srv.admin(t))
	kc.skew = skew
	chief := srv.createSectorStaff(t, "chief", "supervisor", "")

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	worklist := func(t *testing.T, path, want string) string {
		t.Helper()
		code, _, body := srv.do(t, http.MethodGet, path, chief, nil)
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("%s: %d %s, want %s", path, code, body, want)
		}
		return body
	}

	steps := []browserStep{
		{"我要咨询 from the home page asks for the card", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			k.open(t, "/kiosk/")
			b.do(t, "touch the 我要咨询 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a[href="/kiosk/consult"]`))))
			k.waitFor(t, "the page asks for the card", `document.getElementById("need-card").checkVisibility()`, 10*time.Second)
			if h := k.text(t, "main h1"); h != "我要咨询" {
				t.Errorf("h1 = %q, want 我要咨询", h)
			}
			if k.visible(t, "#service-form") {
				t.Error("the question form is shown without a card")
			}
			checkReadable(t, b, "我要咨询 without a card")
			checkAxe(t, b, "我要咨询 without a card")
		}},
		{"with the card an empty question is refused", func(t *testing.T) {
			k.setCard(t, startCard(t, kc, aliceCard))
			k.waitFor(t, "the form shows", `document.getElementById("service-form").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#card-state"); !strings.Contains(got, "您好") || strings.Contains(got, "张三丰") {
				t.Errorf("card state = %q, want a greeting with the masked name", got)
			}
			k.click(t, "#service-submit")
			k.waitFor(t, "the refusal shows", `document.getElementById("problem").checkVisibility()`, 10*time.Second)
			title, detail := k.readProblem(t)
			if title == "" || !regexp.MustCompile(`\p{Han}`).MatchString(detail) {
				t.Errorf("refusal = %q / %q", title, detail)
			}
			checkReadable(t, b, "我要咨询 form")
			checkAxe(t, b, "refused question")
		}},
		{"a common question is sent with one touch", func(t *testing.T) {
			k.click(t, `button.quick[data-text="周末和节假日可以办理吗？"]`)
			if v := get(t, b, "read the question", chromedp.Evaluate[string](`document.getElementById("service-text").value`)); v != "周末和节假日可以办理吗？" {
				t.Errorf("the quick button filled in %q", v)
			}
			k.click(t, "#service-submit")
			k.waitFor(t, "the question is sent", `document.getElementById("service-done").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#service-done-text"); !strings.Contains(got, "2026年11月26日前") {
				t.Errorf("done text = %q, want the reply day", got)
			}
			if k.visible(t, "#problem") {
				t.Error("the earlier refusal is still shown")
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-consult-done.png"))
			checkAxe(t, b, "question sent")
			body := worklist(t, "/api/v1/staff/consultations", "周末和节假日可以办理吗？")
			if !strings.Contains(body, `"sector":"convenience"`) || !strings.Contains(body, `"channel":"kiosk"`) {
				t.Errorf("the general question's thread: %s", body)
			}
		}},
		{"a question about a matter reaches its sector", func(t *testing.T) {
			k.open(t, "/kiosk/consult?matter=hm-gjj-loan")
			k.waitFor(t, "the form shows", `document.getElementById("service-form").checkVisibility()`, 10*time.Second)
			if h := k.text(t, "main h1"); !strings.HasPrefix(h, "我要咨询：") {
				t.Errorf("h1 = %q", h)
			}
			k.fill(t, "#service-text", "贷款额度怎么算？")
			k.click(t, "#service-submit")
			k.waitFor(t, "the question is sent", `document.getElementById("service-done").checkVisibility()`, 10*time.Second)
			body := worklist(t, "/api/v1/staff/consultations", "贷款额度怎么算？")
			if !strings.Contains(body, `"sector":"housing-fund"`) {
				t.Errorf("the matter's thread: %s", body)
			}
		}},
		{"my questions are listed with the center's reply", func(t *testing.T) {
			var list struct {
				Items []struct {
					ID       string `json:"id"`
					Messages []struct {
						Text string `json:"text"`
					} `json:"messages"`
				} `json:"items"`
			}
			if err := json.Unmarshal([]byte(worklist(t, "/api/v1/staff/consultations", "周末和节假日可以办理吗？")), &list); err != nil {
				t.Fatal(err)
			}
			id := ""
			for _, it := range list.Items {
				if it.Messages[0].Text == "周末和节假日可以办理吗？" {
					id = it.ID
				}
			}
			code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/consultations/"+id+"/reply", chief, strings.NewReader(`{"text":"周六上午延时服务 9:00-12:00。"}`))
			if code != 200 {
				t.Fatalf("reply: %d %s", code, body)
			}
			k.open(t, "/kiosk/consult")
			k.waitFor(t, "my questions are listed", `document.querySelectorAll("#thread-list .thread-card").length === 2`, 10*time.Second)
			if got := k.text(t, `#thread-list .thread-card[data-id="`+id+`"]`); !strings.Contains(got, "我问：周末和节假日可以办理吗？") || !strings.Contains(got, "中心答复：周六上午延时服务") {
				t.Errorf("the answered question reads %q", got)
			}
			checkReadable(t, b, "我要咨询 with my questions")
			checkAxe(t, b, "我要咨询 with my questions")
		}},
		{"我要投诉 files a complaint", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "touch the 我要投诉 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a[href="/kiosk/complain"]`))))
			k.waitFor(t, "the form shows", `document.getElementById("service-form").checkVisibility()`, 10*time.Second)
			if h := k.text(t, "main h1"); h != "我要投诉" {
				t.Errorf("h1 = %q, want 我要投诉", h)
			}
			checkReadable(t, b, "我要投诉 form")
			checkAxe(t, b, "我要投诉 form")
			k.fill(t, "#service-text", "二楼饮水机没有热水")
			k.click(t, "#service-submit")
			k.waitFor(t, "the complaint is filed", `document.getElementById("service-done").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#service-done-text"); !strings.Contains(got, "前答复您") {
				t.Errorf("done text = %q", got)
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-complain-done.png"))
			checkAxe(t, b, "complaint filed")
			body := worklist(t, "/api/v1/staff/complaints", "二楼饮水机没有热水")
			if !strings.Contains(body, `"source":"kiosk"`) {
				t.Errorf("the complaint: %s", body)
			}
		}},
		{"taking the card out clears the page", func(t *testing.T) {
			k.click(t, "#service-again")
			k.fill(t, "#service-text", "还没写完")
			k.setCard(t, "")
			k.waitFor(t, "the page asks for the card again", `document.getElementById("need-card").checkVisibility()`, 10*time.Second)
			if v := get(t, b, "read the text box", chromedp.Evaluate[string](`document.getElementById("service-text").value`)); v != "" {
				t.Errorf("the next citizen would see %q", v)
			}
		}},
	}
	walk(t, b, "kiosk 我要咨询 and 我要投诉", kioskServiceRefusals, started, steps)
}

// TestBrowserKioskRate walks 服务评价 with 张三丰's ID card: the page asks
// for the card, then offers his services to rate (待评价): the queue
// ticket just served at a window and his approved no-crime-record case;
// touching the ticket shows the pad's five large faces with their words;
// 满意 rates it and it leaves the list; the case is rated next, and the
// list is then empty. Rating a service rated elsewhere meanwhile is
// refused as already rated, in large Chinese, and drops it too.
func TestBrowserKioskRate(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	kc := registerKiosk(t, srv, admin)
	kc.skew = skew
	_, number := issueNoCrimeRecord(t, srv)

	// 张三丰 takes a tax ticket with his card and is served at 3号窗口.
	_, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	kc.session = startCard(t, kc, aliceCard)
	code, _, body := kc.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
	kc.session = ""
	var tk struct{ ID, Number string }
	if code != 201 || json.Unmarshal([]byte(body), &tk) != nil {
		t.Fatalf("take: %d %s", code, body)
	}
	srv.createStaff(t, "clerk", "clerk")
	clerk := srv.login(t, "clerk", testPassword)
	srv.signIn(t, clerk, w.ID)
	if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+tk.ID+"/complete", clerk,
		strings.NewReader(`{"matters":["hm-tax-invoice"]}`)); code != 200 {
		t.Fatalf("complete: %d %s", code, body)
	}

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	offered := func(t *testing.T) []string {
		t.Helper()
		return get(t, b, "read the offered services", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rate-event-list button.rate-event")].map(e => e.dataset.kind + ":" + e.dataset.id)`))
	}
	steps := []browserStep{
		{"服务评价 from the home page asks for the card", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			k.open(t, "/kiosk/")
			b.do(t, "touch the 服务评价 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a[href="/kiosk/rate"]`))))
			k.waitFor(t, "the page asks for the card", `document.getElementById("need-card").checkVisibility()`, 10*time.Second)
			checkReadable(t, b, "服务评价 without a card")
			checkAxe(t, b, "服务评价 without a card")
		}},
		{"with the card the served ticket and the concluded case are offered", func(t *testing.T) {
			k.setCard(t, startCard(t, kc, aliceCard))
			k.waitFor(t, "the services are offered", `document.querySelectorAll("button.rate-event").length === 2`, 10*time.Second)
			list := offered(t)
			if len(list) != 2 || list[0] != "ticket:"+tk.ID || !strings.HasPrefix(list[1], "case:") {
				t.Fatalf("offered = %q", list)
			}
			got := k.text(t, "#rate-event-list")
			if !strings.Contains(got, "窗口办理") || !strings.Contains(got, "排队号 "+tk.Number) || !strings.Contains(got, number) || !strings.Contains(got, "无犯罪记录") {
				t.Errorf("offered services = %q", got)
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-rate-pending.png"))
			checkReadable(t, b, "服务评价 list")
			checkAxe(t, b, "服务评价 list")
			k.click(t, `button.rate-event[data-kind="ticket"]`)
			k.waitFor(t, "the faces show", `document.getElementById("rate-faces").checkVisibility()`, 10*time.Second)
			words := get(t, b, "read the faces", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rate-faces .pad-word")].map(e => e.innerText.trim())`))
			if strings.Join(words, "|") != "非常满意|满意|基本满意|不满意|非常不满意" {
				t.Errorf("face words = %q", words)
			}
			checkReadable(t, b, "服务评价 faces")
			checkAxe(t, b, "服务评价 faces")
		}},
		{"满意 rates the served ticket, which leaves the list", func(t *testing.T) {
			k.click(t, `#rate-faces button[data-level="4"]`)
			k.waitFor(t, "the thanks show", `document.getElementById("rate-thanks").checkVisibility()`, 10*time.Second)
			if got := k.text(t, "#rate-thanks"); !strings.Contains(got, "满意") || !strings.Contains(got, tk.Number) {
				t.Errorf("thanks = %q", got)
			}
			if list := offered(t); len(list) != 1 || !strings.HasPrefix(list[0], "case:") {
				t.Errorf("offered after rating = %q", list)
			}
			if k.visible(t, "#rate-faces") {
				t.Error("the faces stay after rating")
			}
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-rate-thanks.png"))
			checkAxe(t, b, "rated")
			// The ticket is rated, as the window's clerk's.
			code, _, body := srv.do(t, http.MethodGet, "/api/v1/staff/satisfaction?by=window", clerk, nil)
			if code != 200 || !strings.Contains(body, `"key":"`+w.ID+`"`) {
				t.Errorf("satisfaction: %d %s", code, body)
			}
		}},
		{"a service rated elsewhere meanwhile is refused and dropped", func(t *testing.T) {
			alice := srv.mpLogin(t, "alice")
			list := offered(t)
			caseID := strings.TrimPrefix(list[0], "case:")
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/evaluations", alice,
				strings.NewReader(`{"event_kind":"case","event_id":"`+caseID+`","level":5}`)); code != 201 {
				t.Fatalf("rate in the mini-program: %d %s", code, body)
			}
			k.click(t, `button.rate-event[data-kind="case"]`)
			k.waitFor(t, "the faces show", `document.getElementById("rate-faces").checkVisibility()`, 10*time.Second)
			k.click(t, `#rate-faces button[data-level="5"]`)
			k.waitFor(t, "the refusal shows", `document.getElementById("problem").checkVisibility()`, 10*time.Second)
			if title, _ := k.readProblem(t); title != "这次服务已经评价过了，谢谢您" {
				t.Errorf("refusal = %q", title)
			}
			k.waitFor(t, "the list is empty", `document.getElementById("rate-empty").checkVisibility()`, 10*time.Second)
			checkAxe(t, b, "nothing left to rate")
		}},
	}
	walk(t, b, "kiosk 服务评价", regexp.MustCompile(`Failed to load resource: the server responded with a status of 409`), started, steps)
}
