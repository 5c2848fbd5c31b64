package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// clerkExpectedFailures adds the 404 of an empty queue to the refusals the
// console shows on the page: 叫下一位 with nobody waiting is an ordinary
// answer, not a fault.
var clerkExpectedFailures = regexp.MustCompile(`Failed to load resource: the server responded with a status of (400|401|404|429)`)

// TestBrowserConsoleClerk serves walk-ins at a window from the clerk's
// calling panel: choose the window (remembered across a reload), call,
// recall, complete, call, no-show, and call into an empty queue; then the
// browser forgets its storage (another computer) and the panel takes up
// from the server the ticket parked at the window, several open tickets
// one after the other, and drops a remembered ticket the server no longer
// lists; last, the clerk ticks the matters served before 办结. The page
// with a ticket shown is checked with axe-core.
func TestBrowserConsoleClerk(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["housing-fund"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	if err := json.Unmarshal([]byte(body), &w); err != nil || w.ID == "" {
		t.Fatalf("create window: %v %s", err, body)
	}
	k := registerKiosk(t, srv, admin)
	k.skew = skew
	for _, want := range []string{"C001", "C002"} {
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`)
		if code != http.StatusCreated || !strings.Contains(body, `"number":"`+want+`"`) {
			t.Fatalf("take %s: %d %s", want, code, body)
		}
	}
	srv.createStaff(t, "clerk", "clerk")
	// parked is the panel's remembered C003, kept to play a stale browser.
	var parked string

	b := newDeskBrowser(t)
	shots := screenshotDir(t)
	text := func(t *testing.T, sel string) string {
		t.Helper()
		return strings.TrimSpace(get(t, b, "read "+sel, chromedp.Evaluate[string](
			fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : ""; })()`, sel))))
	}
	visible := func(t *testing.T, sel string) bool {
		t.Helper()
		return get(t, b, "is "+sel+" shown", chromedp.Evaluate[bool](
			fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.offsetParent !== null; })()`, sel)))
	}
	focused := func(t *testing.T) string {
		t.Helper()
		return get(t, b, "read the focused element", chromedp.Evaluate[string](
			`document.activeElement ? (document.activeElement.id || document.activeElement.dataset.act || "") : ""`))
	}
	// waitFor polls until the expression holds, as the panel answers after
	// a request.
	waitFor := func(t *testing.T, what, expr string) {
		t.Helper()
		b.do(t, "wait until "+what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second)))
	}
	press := func(t *testing.T, act string) {
		t.Helper()
		b.do(t, "press "+act, chromedp.Click(chromedp.CSS(`#calling-ticket button[data-act="`+act+`"]`)))
	}
	waitStatus := func(t *testing.T, want string) {
		t.Helper()
		waitFor(t, "the status says "+want, fmt.Sprintf(`document.getElementById("calling-status").innerText.includes(%q)`, want))
	}
	waitCleared := func(t *testing.T) {
		t.Helper()
		waitFor(t, "the ticket is cleared", `document.getElementById("calling-ticket").hidden`)
		if f := focused(t); f != "call-next" {
			t.Errorf("focus after the ticket cleared is on %q, want 叫下一位", f)
		}
	}
	callNext := func(t *testing.T) {
		t.Helper()
		b.do(t, "press 叫下一位", chromedp.Click(chromedp.CSS("#call-next")))
	}
	waitTicket := func(t *testing.T, number string) {
		t.Helper()
		waitFor(t, number+" is shown", fmt.Sprintf(`!document.getElementById("calling-ticket").hidden && document.getElementById("ticket-number").innerText === %q`, number))
	}

	steps := []browserStep{
		{"the clerk logs in and sees the calling panel", func(t *testing.T) {
			b.do(t, "open the login page", chromedp.Navigate(srv.URL+"/console/login"))
			b.do(t, "type the username", chromedp.SendKeys(chromedp.CSS("#login-username"), "clerk"))
			b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/console/" {
				t.Fatalf("after logging in the browser is at %s", loc)
			}
			if h := text(t, "#calling-title"); h != "叫号" {
				t.Fatalf("calling panel title = %q, want 叫号", h)
			}
			if n := get(t, b, "count transfer sectors", chromedp.Evaluate[int](`document.querySelectorAll("#transfer-sector option").length`)); n < 2 {
				t.Errorf("the transfer select offers %d sectors", n)
			}
		}},
		{"the chosen window is remembered", func(t *testing.T) {
			opt := `#calling-window option[value="` + w.ID + `"]`
			b.do(t, "wait for the window list", chromedp.WaitReady(chromedp.CSS(opt)))
			if label := text(t, opt); label != "1号窗口（住房公积金）" {
				t.Errorf("window option = %q, want its name and sectors", label)
			}
			b.do(t, "choose 1号窗口", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
				`(() => { const s = document.getElementById("calling-window"); s.value = %q; s.dispatchEvent(new Event("change")); })()`, w.ID)))
			// Choosing the window signs the clerk in to it.
			waitStatus(t, "已签入1号窗口")
			if !visible(t, "#sign-out") {
				t.Error("no 签出窗口 button once signed in")
			}
			if code, _, body := srv.do(t, http.MethodGet, "/api/v1/staff/windows", admin, nil); code != 200 || !strings.Contains(body, `"open":true`) {
				t.Errorf("window after choosing it in the panel: %d %s", code, body)
			}
			b.do(t, "reload the page", chromedp.Reload())
			b.do(t, "wait for the window list", chromedp.WaitReady(chromedp.CSS(opt)))
			if v := get(t, b, "read the chosen window", chromedp.Value(chromedp.CSS("#calling-window"))); v != w.ID {
				t.Errorf("after a reload the window select shows %q, want %q", v, w.ID)
			}
		}},
		{"叫下一位 from the keyboard shows C001", func(t *testing.T) {
			b.do(t, "focus 叫下一位 and press Enter", chromedp.Focus(chromedp.CSS("#call-next")), chromedp.KeyEvent(kb.Enter))
			waitTicket(t, "C001")
			waitStatus(t, "请C001号到1号窗口办理")
			if got := text(t, "#ticket-sector") + "|" + text(t, "#ticket-calls") + "|" + text(t, "#ticket-window"); got != "住房公积金|1 次|1号窗口" {
				t.Errorf("ticket facts = %q", got)
			}
			if visible(t, "#ticket-priority") || visible(t, `[data-act="resume"]`) {
				t.Error("a walk-in without priority shows a priority label or 恢复")
			}
			if f := focused(t); f != "calling-ticket" {
				t.Errorf("focus after a call is on %q, want the ticket", f)
			}
			// Tab walks the actions in order.
			var order []string
			for range 6 {
				b.do(t, "press Tab", chromedp.KeyEvent(kb.Tab))
				order = append(order, focused(t))
			}
			if got := strings.Join(order, ","); got != "recall,no-show,complete,park,transfer-sector,transfer" {
				t.Errorf("Tab order from the ticket = %s", got)
			}
			ring := get(t, b, "read the focus ring", chromedp.Evaluate[string](`getComputedStyle(document.activeElement).outlineStyle`))
			if ring == "none" || ring == "" {
				t.Error("the focused 转办 button shows no outline")
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-clerk-ticket.png"))
			checkAxe(t, b, "clerk's home with a ticket")
		}},
		{"重呼 counts a second call", func(t *testing.T) {
			press(t, "recall")
			waitFor(t, "calls is 2", `document.getElementById("ticket-calls").innerText === "2 次"`)
			if f := focused(t); f != "recall" {
				t.Errorf("focus after 重呼 is on %q, want it to stay", f)
			}
		}},
		{"办结 clears the ticket", func(t *testing.T) {
			press(t, "complete")
			waitCleared(t)
			waitStatus(t, "C001 号已办结")
		}},
		{"叫下一位 shows C002 and 过号 clears it", func(t *testing.T) {
			callNext(t)
			waitTicket(t, "C002")
			press(t, "no-show")
			waitCleared(t)
			waitStatus(t, "C002 号已过号")
		}},
		{"an empty queue is said plainly", func(t *testing.T) {
			callNext(t)
			waitStatus(t, "当前没有等候的群众")
			if visible(t, "#calling-message") {
				t.Errorf("an empty queue is shown as an error: %q", text(t, "#calling-message"))
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-clerk-empty.png"))
		}},
		{"a parked ticket comes back after the browser forgets it", func(t *testing.T) {
			if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`); code != http.StatusCreated || !strings.Contains(body, `"number":"C003"`) {
				t.Fatalf("take C003: %d %s", code, body)
			}
			callNext(t)
			waitTicket(t, "C003")
			press(t, "park")
			waitStatus(t, "C003 号已挂起")
			parked = get(t, b, "read the remembered ticket", chromedp.Evaluate[string](`localStorage.getItem("banhao.console.ticket") || ""`))
			if !strings.Contains(parked, `"C003"`) {
				t.Fatalf("the panel remembers %q, want C003", parked)
			}
			// Another computer, or a browser that lost its storage.
			b.do(t, "clear localStorage", chromedp.Evaluate[chromedp.Void](`localStorage.clear()`))
			b.do(t, "reload the page", chromedp.Reload())
			waitTicket(t, "C003")
			waitStatus(t, "已接回本窗口未办完的 C003 号（已挂起）")
			if got := text(t, "#ticket-status") + "|" + text(t, "#ticket-window") + "|" + text(t, "#ticket-sector"); got != "已挂起|1号窗口|住房公积金" {
				t.Errorf("recovered ticket facts = %q, want 已挂起|1号窗口|住房公积金", got)
			}
			if !visible(t, `[data-act="resume"]`) || visible(t, `[data-act="complete"]`) {
				t.Error("the recovered parked ticket does not offer 恢复 alone")
			}
			if v := get(t, b, "read the chosen window", chromedp.Value(chromedp.CSS("#calling-window"))); v != w.ID {
				t.Errorf("after the storage was cleared the window select shows %q, want the window the clerk is signed in to", v)
			}
			if got := get(t, b, "read the remembered ticket", chromedp.Evaluate[string](`localStorage.getItem("banhao.console.ticket") || ""`)); !strings.Contains(got, `"C003"`) {
				t.Errorf("the recovered ticket is not remembered again: %q", got)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-clerk-recovered.png"))
			checkAxe(t, b, "clerk's home with a recovered ticket")
			press(t, "resume")
			waitStatus(t, "C003 号已恢复办理")
			if got := text(t, "#ticket-status"); got != "已呼叫，等候群众到窗口" {
				t.Errorf("after 恢复 the status reads %q", got)
			}
			press(t, "complete")
			waitCleared(t)
			waitStatus(t, "C003 号已办结")
		}},
		{"a remembered ticket the server no longer lists is dropped", func(t *testing.T) {
			b.do(t, "remember the finished C003", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.console.ticket", `+jsString(parked)+`)`))
			b.do(t, "reload the page", chromedp.Reload())
			waitStatus(t, "C003 号已不在本窗口待办")
			if visible(t, "#calling-ticket") {
				t.Errorf("the finished C003 is still shown: %q", text(t, "#calling-ticket"))
			}
			if got := get(t, b, "read the remembered ticket", chromedp.Evaluate[string](`localStorage.getItem("banhao.console.ticket") || ""`)); got != "" {
				t.Errorf("the dropped ticket is still remembered: %q", got)
			}
		}},
		{"several open tickets come back one after the other", func(t *testing.T) {
			// The clerk parks C004 and calls C005 from another computer.
			clerk := srv.login(t, "clerk", testPassword)
			for _, want := range []string{"C004", "C005"} {
				if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`); code != http.StatusCreated || !strings.Contains(body, `"number":"`+want+`"`) {
					t.Fatalf("take %s: %d %s", want, code, body)
				}
			}
			code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
			var c struct {
				TicketID string `json:"ticket_id"`
				Number   string `json:"number"`
			}
			if err := json.Unmarshal([]byte(body), &c); err != nil || code != http.StatusOK || c.Number != "C004" {
				t.Fatalf("call C004 elsewhere: %d %s", code, body)
			}
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+c.TicketID+"/park", clerk, nil); code != http.StatusOK {
				t.Fatalf("park C004 elsewhere: %d %s", code, body)
			}
			if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != http.StatusOK || !strings.Contains(body, `"number":"C005"`) {
				t.Fatalf("call C005 elsewhere: %d %s", code, body)
			}
			b.do(t, "reload the page", chromedp.Reload())
			// The earliest called first, and the other one counted.
			waitTicket(t, "C004")
			waitStatus(t, "另有 1 个号码未办完（C005）")
			press(t, "resume")
			waitStatus(t, "C004 号已恢复办理")
			press(t, "complete")
			waitTicket(t, "C005")
			waitStatus(t, "C004 号已办结")
			if !strings.Contains(text(t, "#calling-status"), "已接回本窗口未办完的 C005 号") {
				t.Errorf("after C004 the status reads %q, want C005 taken up", text(t, "#calling-status"))
			}
			press(t, "complete")
			waitCleared(t)
			waitStatus(t, "C005 号已办结")
		}},
		{"办结 records the matters ticked in 本次办理事项", func(t *testing.T) {
			for _, want := range []string{"C006", "C007"} {
				if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`); code != http.StatusCreated || !strings.Contains(body, `"number":"`+want+`"`) {
					t.Fatalf("take %s: %d %s", want, code, body)
				}
			}
			const boxes = `#ticket-matters input[type="checkbox"]`
			box := func(code string) string { return `#ticket-matters input[type="checkbox"][value="` + code + `"]` }
			callNext(t)
			waitTicket(t, "C006")
			waitFor(t, "the sector's matters are listed", fmt.Sprintf(`document.querySelectorAll(%q).length > 0`, boxes))
			if got := text(t, "#ticket-matters legend"); got != "本次办理事项" {
				t.Errorf("matters legend = %q, want 本次办理事项", got)
			}
			// The demo catalog has six 住房公积金 matters at the center.
			if n := get(t, b, "count the matters", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, boxes))); n != 6 {
				t.Errorf("the panel lists %d matters of 住房公积金, want 6", n)
			}
			if n := get(t, b, "count ticked matters", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, boxes+":checked"))); n != 0 {
				t.Errorf("%d matters are ticked before the clerk ticks any", n)
			}
			label := get(t, b, "read the label of hm-gjj-loan", chromedp.Evaluate[string](fmt.Sprintf(
				`(() => { const e = document.querySelector(%q); return e && e.labels.length ? e.labels[0].innerText.trim() : ""; })()`, box("hm-gjj-loan"))))
			if label != "住房公积金个人住房贷款" {
				t.Errorf("the hm-gjj-loan box is labelled %q", label)
			}
			// Tab goes on from 转办 into the list.
			b.do(t, "focus 转办 and press Tab", chromedp.Focus(chromedp.CSS(`#calling-ticket button[data-act="transfer"]`)), chromedp.KeyEvent(kb.Tab))
			if !get(t, b, "is a matter focused", chromedp.Evaluate[bool](`document.activeElement.matches('#ticket-matters input[type="checkbox"]')`)) {
				t.Error("Tab from 转办 does not reach the matters")
			}
			for _, code := range []string{"hm-gjj-loan", "hm-gjj-withdraw-rent"} {
				b.do(t, "tick "+code+" with Space", chromedp.Focus(chromedp.CSS(box(code))), chromedp.KeyEvent(" "))
			}
			ticked := get(t, b, "read the ticked matters", chromedp.Evaluate[string](fmt.Sprintf(
				`[...document.querySelectorAll(%q)].map((e) => e.value).sort().join(",")`, boxes+":checked")))
			if ticked != "hm-gjj-loan,hm-gjj-withdraw-rent" {
				t.Fatalf("ticked matters = %q", ticked)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-clerk-matters.png"))
			checkAxe(t, b, "clerk's home with the matters listed")
			press(t, "complete")
			waitCleared(t)
			// The count is the server's: the matters its answer recorded.
			waitStatus(t, "C006 号已办结（2 项事项）")
			// The next ticket starts with nothing ticked, and 办结 without
			// a matter still works.
			callNext(t)
			waitTicket(t, "C007")
			waitFor(t, "the sector's matters are listed", fmt.Sprintf(`document.querySelectorAll(%q).length > 0`, boxes))
			if n := get(t, b, "count ticked matters", chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, boxes+":checked"))); n != 0 {
				t.Errorf("%d matters are ticked for the next ticket", n)
			}
			// A matter the catalog no longer has is refused by name, its box
			// marked; unticked, 办结 goes through without matters.
			b.do(t, "tick a matter the catalog lost", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
				`(() => { const e = document.querySelector(%q); e.value = "hm-no-such-matter"; e.checked = true; })()`, box("hm-gjj-loan"))))
			press(t, "complete")
			waitFor(t, "the refusal is shown", `!document.getElementById("calling-message").hidden`)
			if got := text(t, "#calling-message"); !strings.Contains(got, "住房公积金个人住房贷款：本中心没有这个事项") {
				t.Errorf("refusal of an unknown matter reads %q", got)
			}
			lost := `#ticket-matters input[value="hm-no-such-matter"]`
			if got := get(t, b, "read the lost matter's mark", chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute("aria-invalid") || ""`, lost))); got != "true" {
				t.Errorf("the refused matter's box has aria-invalid=%q", got)
			}
			if f := focused(t); f != "calling-message" {
				t.Errorf("focus after the refusal is on %q, want the alert", f)
			}
			b.do(t, "untick it with Space", chromedp.Focus(chromedp.CSS(lost)), chromedp.KeyEvent(" "))
			press(t, "complete")
			waitCleared(t)
			waitStatus(t, "C007 号已办结。")
		}},
	}
	walk(t, b, "clerk walk", clerkExpectedFailures, started, steps)
}
