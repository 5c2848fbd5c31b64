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

// priorityExpectedFailures are the refusals 优先办理确认 shows on the page:
// a number not given out today (404) and a ticket no longer waiting (409).
var priorityExpectedFailures = regexp.MustCompile(`Failed to load resource: the server responded with a status of (404|409)`)

// TestBrowserConsolePriority decides declared priorities from the
// console's 优先办理确认 card: two walk-ins wait in 住房公积金 when a third
// declares 孕妇 at the kiosk; the clerk, having seen her papers, confirms
// C003 by number and it goes to the front; a declaration of 残疾人 without
// papers is turned down and waits as an ordinary ticket; an unknown number,
// a number no longer waiting, an empty field and Enter without a decision
// are answered in plain Chinese. A supervisor sees the card too. The card is
// checked with axe-core.
func TestBrowserConsolePriority(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	k := registerKiosk(t, srv, admin)
	k.skew = skew
	take := func(t *testing.T, body, want string) {
		t.Helper()
		code, _, got := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", body)
		if code != http.StatusCreated || !strings.Contains(got, `"number":"`+want+`"`) {
			t.Fatalf("take %s: %d %s", want, code, got)
		}
	}
	take(t, `{"sector":"housing-fund"}`, "C001")
	take(t, `{"sector":"housing-fund"}`, "C002")
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund","declared":"pregnant"}`)
	var declared struct {
		Number   string `json:"number"`
		Priority string `json:"priority"`
		Declared string `json:"declared"`
		Ahead    int    `json:"ahead"`
	}
	if err := json.Unmarshal([]byte(body), &declared); err != nil || code != http.StatusCreated {
		t.Fatalf("take with a declaration: %d %s", code, body)
	}
	if declared.Number != "C003" || declared.Declared != "pregnant" || declared.Priority != "" || declared.Ahead != 2 {
		t.Fatalf("declared ticket %+v, want C003 pending pregnant behind 2", declared)
	}
	srv.createStaff(t, "clerk", "clerk")
	srv.createStaff(t, "lead", "supervisor")

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
		return get(t, b, "read the focused element", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	}
	waitFor := func(t *testing.T, what, expr string) {
		t.Helper()
		b.do(t, "wait until "+what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(10*time.Second)))
	}
	login := func(t *testing.T, username string) {
		t.Helper()
		b.do(t, "open the login page", chromedp.Navigate(srv.URL+"/console/login"))
		b.do(t, "type the username", chromedp.SendKeys(chromedp.CSS("#login-username"), username))
		b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
		if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/console/" {
			t.Fatalf("after logging in as %s the browser is at %s", username, loc)
		}
	}
	// decide types number and presses the button of priority ("" is 驳回申报).
	decide := func(t *testing.T, number, priority string) {
		t.Helper()
		b.do(t, "type "+number, emptyField("#priority-number"), chromedp.SendKeys(chromedp.CSS("#priority-number"), number))
		b.do(t, "press the button of "+priority, chromedp.Click(chromedp.CSS(`#priority-form button[data-priority="`+priority+`"]`)))
	}
	waitDone := func(t *testing.T, want string) {
		t.Helper()
		waitFor(t, "the card says "+want, fmt.Sprintf(`(e => !e.hidden && e.innerText.trim() === %q)(document.getElementById("priority-form-done"))`, want))
		if visible(t, "#priority-form-message") {
			t.Errorf("an alert stays next to the answer: %q", text(t, "#priority-form-message"))
		}
		if f := focused(t); f != "priority-number" {
			t.Errorf("focus after the answer is on %q, want the number field for the next citizen", f)
		}
		if v := get(t, b, "read the number field", chromedp.Value(chromedp.CSS("#priority-number"))); v != "" {
			t.Errorf("after the answer the number field still holds %q", v)
		}
	}
	waitAlert := func(t *testing.T, want string) {
		t.Helper()
		waitFor(t, "the alert says "+want, fmt.Sprintf(`(e => !e.hidden && e.innerText.includes(%q))(document.getElementById("priority-form-message"))`, want))
		if visible(t, "#priority-form-done") {
			t.Errorf("an earlier answer stays next to the alert: %q", text(t, "#priority-form-done"))
		}
	}

	steps := []browserStep{
		{"the clerk sees the card", func(t *testing.T) {
			login(t, "clerk")
			if h := text(t, "#priority-title"); h != "优先办理确认" {
				t.Fatalf("card title = %q, want 优先办理确认", h)
			}
			if got := text(t, `label[for="priority-number"]`); got != "排队号码" {
				t.Errorf("number field label = %q, want 排队号码", got)
			}
			buttons := get(t, b, "read the buttons", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("#priority-form button")].map(e => e.innerText.trim() + "=" + e.dataset.priority)`))
			if got := strings.Join(buttons, ","); got != "确认残疾人=disabled,确认孕妇=pregnant,绿色通道=green,驳回申报=" {
				t.Errorf("card buttons = %s", got)
			}
			checkAxe(t, b, "clerk's home with the priority card")
		}},
		{"Enter alone decides nothing", func(t *testing.T) {
			b.do(t, "type C003 and press Enter", emptyField("#priority-number"), chromedp.SendKeys(chromedp.CSS("#priority-number"), "C003"+kb.Enter))
			waitAlert(t, "请按下方的按钮选择")
			if v := get(t, b, "read the number field", chromedp.Value(chromedp.CSS("#priority-number"))); v != "C003" {
				t.Errorf("after Enter the number field holds %q, want C003 kept", v)
			}
			// Had Enter pressed the first button, C003 would be 残疾人 now and
			// the confirmation below would answer that it already is.
		}},
		{"an empty number is asked for", func(t *testing.T) {
			b.do(t, "empty the field", emptyField("#priority-number"))
			b.do(t, "press 确认孕妇", chromedp.Click(chromedp.CSS(`#priority-form button[data-priority="pregnant"]`)))
			waitFor(t, "the field error shows", `!!document.getElementById("priority-form-number-error")`)
			if got := text(t, "#priority-form-number-error"); got != "请输入排队号码，如 C023" {
				t.Errorf("field error = %q", got)
			}
			if f := focused(t); f != "priority-number" {
				t.Errorf("focus after the field error is on %q, want the number field", f)
			}
			if got := get(t, b, "read aria-invalid", chromedp.Evaluate[string](`document.getElementById("priority-number").getAttribute("aria-invalid") || ""`)); got != "true" {
				t.Errorf("the empty field is not marked invalid (aria-invalid=%q)", got)
			}
		}},
		{"the clerk confirms 孕妇 and C003 goes to the front", func(t *testing.T) {
			// Typed in lower case, as a hurried clerk may.
			decide(t, "c003", "pregnant")
			waitDone(t, "C003 号已按孕妇优先，前面还有 0 人。")
			if got := get(t, b, "read aria-invalid", chromedp.Evaluate[string](`document.getElementById("priority-number").getAttribute("aria-invalid") || ""`)); got != "" {
				t.Errorf("after the answer the field is still marked invalid (%q)", got)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-priority-confirmed.png"))
			checkAxe(t, b, "priority card with an answer")
		}},
		{"a declaration without papers is turned down", func(t *testing.T) {
			take(t, `{"sector":"housing-fund","declared":"disabled"}`, "C004")
			decide(t, "C004", "")
			// C003 (孕妇), C001 and C002 are ahead: it waits as an ordinary ticket.
			waitDone(t, "C004 号的优先申报已驳回，按普通号排队，前面还有 3 人。")
		}},
		{"an unknown number is not found", func(t *testing.T) {
			decide(t, "C099", "disabled")
			waitAlert(t, "没有查到今天的这个号码，请核对号码")
			if f := focused(t); f != "priority-form-message" {
				t.Errorf("focus after the refusal is on %q, want the alert", f)
			}
			if v := get(t, b, "read the number field", chromedp.Value(chromedp.CSS("#priority-number"))); v != "C099" {
				t.Errorf("after the refusal the number field holds %q, want C099 to correct", v)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-priority-not-found.png"))
			checkAxe(t, b, "priority card with a refusal")
		}},
		{"the confirmed ticket is called first and can no longer change", func(t *testing.T) {
			code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["housing-fund"]}`))
			var w struct{ ID string }
			if err := json.Unmarshal([]byte(body), &w); err != nil || code != http.StatusCreated {
				t.Fatalf("create window: %d %s", code, body)
			}
			clerk := srv.login(t, "clerk", testPassword)
			srv.signIn(t, clerk, w.ID)
			code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
			if code != http.StatusOK || !strings.Contains(body, `"number":"C003"`) || !strings.Contains(body, `"priority":"pregnant"`) {
				t.Fatalf("call next after the confirmation: %d %s, want C003 with 孕妇 priority", code, body)
			}
			decide(t, "C003", "green")
			waitAlert(t, "C003：")
			if got := text(t, "#priority-form-message"); !strings.Contains(got, "不能再调整优先") {
				t.Errorf("a called ticket is refused with %q, want it to say it can no longer change", got)
			}
		}},
		{"a supervisor sees the card but not the calling panel", func(t *testing.T) {
			b.do(t, "log out", waitLoad(chromedp.Click(chromedp.CSS("#logout"))))
			login(t, "lead")
			if !visible(t, "#priority") {
				t.Error("a supervisor does not see 优先办理确认")
			}
			if visible(t, "#calling") {
				t.Error("a supervisor sees the clerk's calling panel")
			}
			take(t, `{"sector":"housing-fund","declared":"disabled"}`, "C005")
			decide(t, "C005", "disabled")
			// C001 and C002 wait; C004 was turned down.
			waitDone(t, "C005 号已按残疾人优先，前面还有 0 人。")
		}},
	}
	walk(t, b, "priority walk", priorityExpectedFailures, started, steps)
}
