package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The console runs in an ordinary browser window on a clerk's desk; the
// test gives the tab a common office monitor size instead of the kiosk's
// portrait screen.
const deskWidth, deskHeight = 1366, 768

// expectedFailures are the browser's own log lines for API answers the
// console is meant to handle on the page (a wrong password, a form error,
// a rate limit); any other console error fails the test.
var expectedFailures = regexp.MustCompile(`Failed to load resource: the server responded with a status of (400|401|429)`)

// requireChromium skips the test without Chromium, or fails it when
// BANHAO_REQUIRE_BROWSER=1, as the kiosk browser tests do.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("browser test needs Chromium at %s and a CJK font: apt-get install -y chromium fonts-wqy-microhei (%v)", chromiumPath, err)
		if os.Getenv("BANHAO_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// newDeskBrowser starts a browser tab at desk size.
func newDeskBrowser(t *testing.T) *browser {
	t.Helper()
	b := newBrowser(t)
	b.do(t, "set a desktop viewport", chromedp.EmulateViewport(deskWidth, deskHeight))
	return b
}

// TestBrowserConsole walks the staff console as an administrator and then
// as the clerk the administrator creates: a refused login, the home page,
// opening an account through the form (with a form error first), logging
// out, and changing a password, which ends the session. The login page and
// the administrator's home are checked with axe-core.
func TestBrowserConsole(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	srv := startServer(t, nil)
	srv.createStaff(t, "admin", "admin")
	b := newDeskBrowser(t)
	shots := screenshotDir(t)

	const (
		clerkUser = "zhang.wei"
		clerkName = "张伟"
		clerkPass = "window-pass-2024"
		clerkNew  = "window-pass-2025"
	)
	text := func(t *testing.T, sel string) string {
		t.Helper()
		return strings.TrimSpace(get(t, b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
	}
	focused := func(t *testing.T) string {
		t.Helper()
		return get(t, b, "read the focused element", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	}
	location := func(t *testing.T) string {
		t.Helper()
		return get(t, b, "read the location", chromedp.Location())
	}
	fill := func(t *testing.T, sel, value string) {
		t.Helper()
		b.do(t, "type into "+sel, emptyField(sel), chromedp.SendKeys(chromedp.CSS(sel), value))
	}
	// login types the credentials and presses Enter, as a clerk does; on
	// success the page moves to the home.
	login := func(t *testing.T, user, pass string) {
		t.Helper()
		fill(t, "#login-username", user)
		b.do(t, "clear the password", emptyField("#login-password"))
		b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), pass+kb.Enter)))
		if loc := location(t); loc != srv.URL+"/console/" {
			t.Fatalf("after logging in as %s the browser is at %s, want /console/", user, loc)
		}
	}

	steps := []browserStep{
		{"console sends a stranger to the login page", func(t *testing.T) {
			b.do(t, "open the console", chromedp.Navigate(srv.URL+"/console/"))
			if loc := location(t); loc != srv.URL+"/console/login" {
				t.Errorf("/console/ without a session went to %s, want /console/login", loc)
			}
			if h1 := text(t, "main h1"); h1 != "工作人员登录" {
				t.Errorf("login page h1 = %q", h1)
			}
			if f := focused(t); f != "login-username" {
				t.Errorf("focus on the login page is on %q, want the username field", f)
			}
			checkChineseFont(t, b, "main h1")
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-login.png"))
			checkAxe(t, b, "login page")
		}},
		{"a wrong password is reported on the page", func(t *testing.T) {
			fill(t, "#login-username", "admin")
			fill(t, "#login-password", "not-the-password-1")
			b.do(t, "press Enter", chromedp.SendKeys(chromedp.CSS("#login-password"), kb.Enter))
			b.do(t, "wait for the error", chromedp.WaitVisible(chromedp.CSS("#login-form-message")))
			if msg := text(t, "#login-form-message"); !strings.Contains(msg, "用户名或密码错误") {
				t.Errorf("error shown = %q, want 用户名或密码错误", msg)
			}
			if loc := location(t); loc != srv.URL+"/console/login" {
				t.Errorf("a refused login moved the browser to %s", loc)
			}
			if f := focused(t); f != "login-form-message" {
				t.Errorf("focus after a refused login is on %q, want the error message", f)
			}
			if pw := get(t, b, "read the password", chromedp.Value(chromedp.CSS("#login-password"))); pw != "" {
				t.Error("the refused password is still in the field")
			}
			if u := get(t, b, "read the username", chromedp.Value(chromedp.CSS("#login-username"))); u != "admin" {
				t.Errorf("the username field shows %q after a refused login, want it kept", u)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-login-error.png"))
			checkAxe(t, b, "login page with an error")
		}},
		{"the right password opens the administrator's home", func(t *testing.T) {
			login(t, "admin", testPassword)
			if h1 := text(t, "main h1"); h1 != "您好，测试admin" {
				t.Errorf("home h1 = %q, want the administrator's name", h1)
			}
			if roles := text(t, "#me-roles"); roles != "管理员" {
				t.Errorf("roles shown = %q, want 管理员", roles)
			}
			if center := text(t, "#me-center"); center != "惠民县政务服务中心" {
				t.Errorf("center shown = %q, want the center's name", center)
			}
			b.do(t, "wait for the account list", chromedp.WaitVisible(chromedp.CSS(`#accounts-table tr[data-username="admin"]`)))
			checkChineseFont(t, b, "main h1")
		}},
		{"an unknown sector and a missing role are reported next to their fields", func(t *testing.T) {
			fill(t, "#create-username", clerkUser)
			fill(t, "#create-name", clerkName)
			fill(t, "#create-sectors", "住房公积金，菜市场")
			fill(t, "#create-password", clerkPass)
			b.do(t, "press 创建账号", chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)))
			b.do(t, "wait for the sectors error", chromedp.WaitVisible(chromedp.CSS("#create-form-sectors-error")))
			if msg := text(t, "#create-form-sectors-error"); !strings.Contains(msg, "菜市场") || strings.Contains(msg, "住房公积金") {
				t.Errorf("sectors error = %q, want it to name the unknown sector only", msg)
			}
			if got := focused(t); got != "create-sectors" {
				t.Errorf("focus after the sectors error is on %q, want the sectors field", got)
			}
			fill(t, "#create-sectors", "住房公积金，tax")
			b.do(t, "press 创建账号", chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)))
			b.do(t, "wait for the roles error", chromedp.WaitVisible(chromedp.CSS("#create-form-roles-error")))
			if msg := text(t, "#create-form-roles-error"); !strings.Contains(msg, "至少一个角色") {
				t.Errorf("roles error = %q", msg)
			}
			if n := get(t, b, "count field errors", chromedp.Evaluate[int](`document.querySelectorAll("#create-form .field-error").length`)); n != 1 {
				t.Errorf("%d field errors shown, want only the roles error (the sectors error is fixed)", n)
			}
			if d := get(t, b, "read the roles group", chromedp.Evaluate[string](`document.getElementById("create-roles").getAttribute("aria-describedby") || ""`)); d != "create-form-roles-error" {
				t.Errorf("roles group aria-describedby = %q, want its error", d)
			}
			if got := get(t, b, "read the focused element", chromedp.Evaluate[string](`document.activeElement.name + "=" + document.activeElement.value`)); got != "roles=clerk" {
				t.Errorf("focus after the roles error is on %q, want the first role", got)
			}
		}},
		{"a short password is reported next to its field", func(t *testing.T) {
			b.do(t, "tick 窗口受理", chromedp.Click(chromedp.CSS(`#create-form input[name="roles"][value="clerk"]`)))
			fill(t, "#create-password", "short1")
			b.do(t, "press 创建账号", chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)))
			b.do(t, "wait for the field error", chromedp.WaitVisible(chromedp.CSS("#create-form-password-error")))
			if msg := text(t, "#create-form-password-error"); !strings.Contains(msg, "至少 10 位") {
				t.Errorf("password error = %q, want the minimum length", msg)
			}
			type field struct {
				DescribedBy string `json:"describedBy"`
				Invalid     string `json:"invalid"`
				NextID      string `json:"nextID"`
			}
			f := get(t, b, "read the password field", chromedp.Evaluate[field](`(() => {
				const e = document.getElementById("create-password");
				return {describedBy: e.getAttribute("aria-describedby") || "", invalid: e.getAttribute("aria-invalid") || "",
					nextID: e.nextElementSibling ? e.nextElementSibling.id : ""};
			})()`))
			if !strings.Contains(" "+f.DescribedBy+" ", " create-form-password-error ") || f.Invalid != "true" {
				t.Errorf("password field aria-describedby=%q aria-invalid=%q, want it to point at its error and be invalid", f.DescribedBy, f.Invalid)
			}
			if f.NextID != "create-form-password-error" {
				t.Errorf("the element after the password field is %q, want its error", f.NextID)
			}
			if got := focused(t); got != "create-password" {
				t.Errorf("focus after the form error is on %q, want the password field", got)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-create-error.png"))
		}},
		{"the new account appears in the list", func(t *testing.T) {
			fill(t, "#create-password", clerkPass)
			b.do(t, "press 创建账号", chromedp.Click(chromedp.CSS(`#create-form button[type="submit"]`)))
			row := `#accounts-table tr[data-username="` + clerkUser + `"]`
			b.do(t, "wait for the new row", chromedp.WaitVisible(chromedp.CSS(row)))
			cells := get(t, b, "read the new row", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll('`+row+` td')].map(td => td.innerText.trim())`))
			if want := []string{clerkUser, clerkName, "窗口受理", "住房公积金、税务服务", "—", "正常"}; strings.Join(cells, "|") != strings.Join(want, "|") {
				t.Errorf("new account row = %q, want %q", cells, want)
			}
			if msg := text(t, "#create-form-done"); !strings.Contains(msg, clerkUser) {
				t.Errorf("confirmation = %q, want it to name %s", msg, clerkUser)
			}
			if n := get(t, b, "count field errors", chromedp.Evaluate[int](`document.querySelectorAll("#create-form .field-error").length`)); n != 0 {
				t.Errorf("%d field errors still shown after the account was created", n)
			}
			if v := get(t, b, "read the password field", chromedp.Value(chromedp.CSS("#create-password"))); v != "" {
				t.Error("the initial password stays in the form after the account was created")
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-admin-home.png"))
			checkAxe(t, b, "administrator's home")
		}},
		{"logging out returns to the login page", func(t *testing.T) {
			b.do(t, "press 退出登录", waitLoad(chromedp.Click(chromedp.CSS("#logout"))))
			if loc := location(t); !strings.HasPrefix(loc, srv.URL+"/console/login") {
				t.Errorf("after logging out the browser is at %s", loc)
			}
			if msg := text(t, "main .message.ok"); !strings.Contains(msg, "已退出") {
				t.Errorf("logout notice = %q", msg)
			}
			b.do(t, "open the console again", chromedp.Navigate(srv.URL+"/console/"))
			if loc := location(t); loc != srv.URL+"/console/login" {
				t.Errorf("after logging out /console/ went to %s, want the login page", loc)
			}
		}},
		{"a clerk sees no accounts section", func(t *testing.T) {
			login(t, clerkUser, clerkPass)
			if h1 := text(t, "main h1"); h1 != "您好，"+clerkName {
				t.Errorf("clerk's home h1 = %q", h1)
			}
			if roles := text(t, "#me-roles"); roles != "窗口受理" {
				t.Errorf("clerk's roles shown = %q", roles)
			}
			if n := get(t, b, "look for the accounts section", chromedp.Evaluate[int](
				`document.querySelectorAll("#accounts, #create-form").length`)); n != 0 {
				t.Error("a clerk's home shows the staff accounts section")
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-clerk-home.png"))
			checkAxe(t, b, "clerk's home")
		}},
		{"a wrong old password is reported next to its field", func(t *testing.T) {
			fill(t, "#password-old", "not-my-password-9")
			fill(t, "#password-new", clerkNew)
			fill(t, "#password-confirm", clerkNew)
			b.do(t, "press 修改密码", chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`)))
			b.do(t, "wait for the field error", chromedp.WaitVisible(chromedp.CSS("#password-form-old_password-error")))
			if msg := text(t, "#password-form-old_password-error"); !strings.Contains(msg, "原密码不正确") {
				t.Errorf("old password error = %q", msg)
			}
			if got := focused(t); got != "password-old" {
				t.Errorf("focus after the error is on %q, want the old password field", got)
			}
		}},
		{"changing the password ends the session", func(t *testing.T) {
			fill(t, "#password-old", clerkPass)
			b.do(t, "press 修改密码", waitLoad(chromedp.Click(chromedp.CSS(`#password-form button[type="submit"]`))))
			if loc := location(t); loc != srv.URL+"/console/login?reason=password" {
				t.Errorf("after changing the password the browser is at %s, want the login page", loc)
			}
			if msg := text(t, "main .message.ok"); !strings.Contains(msg, "密码已修改") {
				t.Errorf("notice after the change = %q", msg)
			}
			b.do(t, "open the console again", chromedp.Navigate(srv.URL+"/console/"))
			if loc := location(t); loc != srv.URL+"/console/login" {
				t.Errorf("after the change /console/ went to %s, want the login page", loc)
			}
		}},
		{"the new password works", func(t *testing.T) {
			login(t, clerkUser, clerkNew)
			if h1 := text(t, "main h1"); h1 != "您好，"+clerkName {
				t.Errorf("home h1 after logging in with the new password = %q", h1)
			}
		}},
	}
	walk(t, b, "console walk", expectedFailures, started, steps)
}

// TestBrowserConsoleRetryAfter hits the login rate limit and expects the
// page to say how long to wait, from the Retry-After of the 429 answer.
func TestBrowserConsoleRetryAfter(t *testing.T) {
	requireChromium(t)
	srv := startServer(t, map[string]string{"BANHAO_LOGINS_PER_MINUTE": "1"})
	b := newDeskBrowser(t)
	b.do(t, "open the login page", chromedp.Navigate(srv.URL+"/console/login"))
	for i := range 2 {
		b.do(t, "type a username", emptyField("#login-username"), chromedp.SendKeys(chromedp.CSS("#login-username"), "nobody"))
		b.do(t, "type a password and press Enter", chromedp.SendKeys(chromedp.CSS("#login-password"), fmt.Sprintf("guess-%d-password%s", i, kb.Enter)))
		b.do(t, "wait for the answer", chromedp.Poll[chromedp.Void](
			`document.getElementById("login-form-message").innerText.trim() !== "" && !document.querySelector("#login-form button").disabled`,
			chromedp.WithPollingTimeout(10*time.Second)))
	}
	msg := strings.TrimSpace(get(t, b, "read the message", chromedp.Text(chromedp.CSS("#login-form-message"))))
	if !strings.Contains(msg, "过于频繁") || !regexp.MustCompile(`请等待约 1 分钟，\d\d:\d\d 之后再试`).MatchString(msg) {
		t.Errorf("message after the rate limit = %q, want the reason and the wait from Retry-After", msg)
	}
	checkConsoleErrors(t, b)
}

// emptyField empties an input. chromedp.Clear resets the value attribute
// only, which does not empty a field the user has typed in.
func emptyField(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel))
}

// checkConsoleErrors fails on every error the pages wrote to the browser
// console, except the log lines of API refusals the pages show to the user.
func checkConsoleErrors(t *testing.T, b *browser) {
	t.Helper()
	var unexpected []string
	for _, e := range b.pageErrors() {
		if !expectedFailures.MatchString(e) {
			unexpected = append(unexpected, e)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("the console pages wrote errors to the browser console:\n%s", strings.Join(unexpected, "\n"))
	}
}

// saveDeskScreenshot writes a full-page PNG at desk width, growing the
// viewport to the page's height for the shot.
func saveDeskScreenshot(t *testing.T, b *browser, path string) {
	t.Helper()
	h := get(t, b, "measure the page", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	b.do(t, "grow the viewport to the page", chromedp.EmulateViewport(deskWidth, max(h, deskHeight)))
	png := get(t, b, "take a full-page screenshot", chromedp.FullScreenshot(100))
	b.do(t, "restore the desk viewport", chromedp.EmulateViewport(deskWidth, deskHeight))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
