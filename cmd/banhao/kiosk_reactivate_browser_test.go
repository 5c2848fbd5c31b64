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

// TestBrowserKioskReactivate puts missed tickets back in line at the
// kiosk's 过号恢复 page, keyed in on its letter and digit keys: a walk-in's
// C001, missed at a window, comes back once with the people ahead, and a
// second try says it can come back only once; a number that is waiting,
// or not given out today, is refused in plain Chinese; a ticket taken
// with an ID card needs that card in the reader. The page is reached from
// the home page's tiles and from 取号.
func TestBrowserKioskReactivate(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	kc := registerKiosk(t, srv, admin)
	kc.skew = skew

	// Two walk-ins in 住房公积金 and 李四, with her ID card, in 税务服务.
	for _, want := range []string{"C001", "C002"} {
		if code, _, body := kc.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`); code != http.StatusCreated || !strings.Contains(body, `"number":"`+want+`"`) {
			t.Fatalf("take %s: %d %s", want, code, body)
		}
	}
	bob := *kc
	bob.session = startCard(t, kc, bobCard)
	if code, _, body := bob.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`); code != http.StatusCreated || !strings.Contains(body, `"number":"K001"`) {
		t.Fatalf("take K001 with a card: %d %s", code, body)
	}
	// A clerk at each sector's window calls the first ticket, which nobody
	// answers: C001 and K001 are missed.
	srv.createStaff(t, "clerk", "clerk")
	clerk := srv.login(t, "clerk", testPassword)
	for _, win := range []struct{ sector, number string }{{"housing-fund", "C001"}, {"tax", "K001"}} {
		code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"`+win.number+`窗口","sectors":["`+win.sector+`"]}`))
		if code != http.StatusCreated {
			t.Fatalf("create window: %d %s", code, body)
		}
		var w struct{ ID string }
		json.Unmarshal([]byte(body), &w)
		srv.signIn(t, clerk, w.ID)
		code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
		var c struct {
			TicketID string `json:"ticket_id"`
			Number   string `json:"number"`
		}
		if err := json.Unmarshal([]byte(body), &c); err != nil || code != http.StatusOK || c.Number != win.number {
			t.Fatalf("call %s: %d %s", win.number, code, body)
		}
		if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+c.TicketID+"/no-show", clerk, nil); code != http.StatusOK || !strings.Contains(body, `"status":"missed"`) {
			t.Fatalf("no-show %s: %d %s", win.number, code, body)
		}
	}

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	// key presses the page's keys for a number: its letter, then digits.
	key := func(t *testing.T, number string) {
		t.Helper()
		k.click(t, `#key-clear`)
		k.click(t, `button.letter-key[data-letter="`+number[:1]+`"]`)
		for _, d := range number[1:] {
			k.click(t, `button.digit-key[data-digit="`+string(d)+`"]`)
		}
		if got := k.text(t, "#entry"); got != number {
			t.Fatalf("after keying %s the entry shows %q", number, got)
		}
	}
	// refused keys a number in, presses 恢复排队 and reads the refusal.
	refused := func(t *testing.T, number string) (title, detail string) {
		t.Helper()
		k.open(t, "/kiosk/reactivate")
		key(t, number)
		k.click(t, "#reactivate-go")
		return k.readProblem(t)
	}

	steps := []browserStep{
		{"the page is reached from home and from 取号", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			k.open(t, "/kiosk/ticket")
			if !k.visible(t, `a[href="/kiosk/reactivate"]`) {
				t.Error("取号 offers no way to 过号恢复")
			}
			k.open(t, "/kiosk/")
			b.do(t, "touch the 过号恢复 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.services a.tile[href="/kiosk/reactivate"]`))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/reactivate" {
				t.Fatalf("过号恢复 tile went to %s", loc)
			}
			if h1 := k.text(t, "main h1"); h1 != "过号恢复" {
				t.Errorf("h1 = %q, want 过号恢复", h1)
			}
			k.waitFor(t, "the page knows there is no card", `document.getElementById("card-state").dataset.state === "walk-in"`, 10*time.Second)
			letters := get(t, b, "read the letter keys", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("button.letter-key")].filter(e => e.checkVisibility()).map(e => e.innerText.replace(/\s+/g, ""))`))
			if len(letters) != 11 || letters[0] != "A不动产交易登记" || letters[2] != "C住房公积金" || letters[10] != "K税务服务" {
				t.Errorf("letter keys %q, want A to K with the sectors' names, C住房公积金 third", letters)
			}
			digits := get(t, b, "read the digit keys", chromedp.Evaluate[string](
				`[...document.querySelectorAll("button.digit-key")].map(e => e.innerText.trim()).join(",")`))
			if digits != "1,2,3,4,5,6,7,8,9,退格,0,清空" {
				t.Errorf("digit keys %q, want a phone's keypad", digits)
			}
			if n := get(t, b, "count the text fields", chromedp.Evaluate[int](`document.querySelectorAll("input, textarea").length`)); n != 0 {
				t.Errorf("the page has %d text fields, which would call up a system keyboard", n)
			}
			checkChineseFont(t, b, ".letter-name")
			checkReadable(t, b, "reactivate page")
			checkAxe(t, b, "reactivate page")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-reactivate.png"))
		}},
		{"keys without a whole number ask for the rest", func(t *testing.T) {
			k.click(t, `button.digit-key[data-digit="1"]`)
			k.click(t, "#reactivate-go")
			if title, _ := k.readProblem(t); title != "请先按号码开头的字母" {
				t.Errorf("digits without a letter: %q, want 请先按号码开头的字母", title)
			}
			// A letter replaces the letter; 退格 takes the last key back.
			for _, sel := range []string{`[data-letter="A"]`, `[data-letter="C"]`, `[data-digit="9"]`, "#key-back", `[data-digit="0"]`, `[data-digit="1"]`} {
				k.click(t, sel)
			}
			if got := k.text(t, "#entry"); got != "C101" {
				t.Errorf("entry after A, C, 1, 9, 退格, 0, 1 = %q, want C101", got)
			}
			if k.visible(t, "#problem") {
				t.Error("the refusal stays on screen after the number was changed")
			}
			if got := get(t, b, "read the pressed letter", chromedp.Evaluate[string](
				`[...document.querySelectorAll('button.letter-key[aria-pressed="true"]')].map(e => e.dataset.letter).join()`)); got != "C" {
				t.Errorf("letter keys pressed: %q, want C alone", got)
			}
		}},
		{"a missed walk-in's ticket comes back once", func(t *testing.T) {
			key(t, "C001")
			k.click(t, "#reactivate-go")
			tk := k.readTicket(t)
			if tk.Number != "C001" || tk.Sector != "住房公积金" || tk.Ahead != "1" || tk.Holder != "" {
				t.Errorf("reactivated ticket: %s in %q with %s ahead, holder %q; want C001 in 住房公积金 with 1 ahead (C002), no holder", tk.Number, tk.Sector, tk.Ahead, tk.Holder)
			}
			if !strings.Contains(tk.Priority, "过号已恢复，请留意叫号") {
				t.Errorf("the ticket's note reads %q, want 过号已恢复，请留意叫号", tk.Priority)
			}
			if k.visible(t, "#reactivate") {
				t.Error("the keys stay on screen under the ticket")
			}
			code, _, body := srv.do(t, http.MethodGet, "/api/v1/display/hm/board", "", nil)
			var board struct {
				Waiting []struct {
					Sector  string `json:"sector"`
					Waiting int    `json:"waiting"`
				} `json:"waiting"`
			}
			if err := json.Unmarshal([]byte(body), &board); err != nil || code != http.StatusOK {
				t.Fatalf("board: %d %s", code, body)
			}
			for _, w := range board.Waiting {
				if w.Sector == "housing-fund" && w.Waiting != 2 {
					t.Errorf("after the reactivation 住房公积金 has %d waiting, want 2 (C002 and C001)", w.Waiting)
				}
			}
			checkReadable(t, b, "reactivated ticket")
			checkAxe(t, b, "reactivated ticket")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-reactivate-ticket.png"))

			title, detail := refused(t, "C001")
			if title != "过号只能恢复一次" || !strings.Contains(detail, "只能恢复一次") {
				t.Errorf("a second reactivation says %q / %q, want 过号只能恢复一次", title, detail)
			}
			if got := k.text(t, "#problem"); strings.Contains(got, "already_reactivated") || strings.Contains(got, "409") {
				t.Errorf("the refusal shows a raw code: %q", got)
			}
			if got := k.text(t, "#problem-take"); !k.visible(t, "#problem-take") || got != "重新取号" {
				t.Errorf("the refusal offers %q (shown %v), want 重新取号", got, k.visible(t, "#problem-take"))
			}
			if !k.visible(t, "button.letter-key") {
				t.Error("after the refusal the keys are not offered")
			}
			checkReadable(t, b, "reactivate refusal")
			checkAxe(t, b, "reactivate refusal")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-reactivate-refused.png"))
		}},
		{"numbers that cannot come back say why", func(t *testing.T) {
			for _, c := range []struct{ number, title, detail string }{
				{"C002", "这个号码不需要恢复", "不是过号状态"},
				{"C099", "没有查到这个号码", "请核对号码"},
			} {
				title, detail := refused(t, c.number)
				if title != c.title || !strings.Contains(detail, c.detail) {
					t.Errorf("%s: %q / %q, want %s with %s", c.number, title, detail, c.title, c.detail)
				}
				if k.visible(t, "#problem-take") {
					t.Errorf("%s: the refusal sends the citizen to take a new ticket", c.number)
				}
			}
		}},
		{"a ticket taken with an ID card needs the card", func(t *testing.T) {
			title, detail := refused(t, "K001")
			if title != "请刷本人身份证" || !strings.Contains(detail, "刷本人身份证") {
				t.Errorf("K001 without a card: %q / %q, want 请刷本人身份证", title, detail)
			}
			// The card-reader bridge reads 李四's card while the page waits.
			k.setCard(t, startCard(t, kc, bobCard))
			k.waitFor(t, "the page reads the card", `document.getElementById("card-state").dataset.state === "card"`, 10*time.Second)
			if got := k.text(t, "#card-state"); !strings.Contains(got, "李*") {
				t.Errorf("card state %q, want the masked holder 李*", got)
			}
			if got := k.text(t, "#entry"); got != "K001" {
				t.Errorf("the card's arrival changed the entry to %q", got)
			}
			k.click(t, "#reactivate-go")
			tk := k.readTicket(t)
			if tk.Number != "K001" || tk.Sector != "税务服务" || tk.Ahead != "0" {
				t.Errorf("K001 with the card: %s in %q with %s ahead, want K001 in 税务服务 with 0 ahead", tk.Number, tk.Sector, tk.Ahead)
			}
		}},
	}
	walk(t, b, "reactivate walk", reactivateRefusals, started, steps)
}

// reactivateRefusals are the queue's refusals plus the 403 of a ticket
// taken by name put back without its holder's card.
var reactivateRefusals = regexp.MustCompile(queueRefusals.String() + `|status of 403`)
