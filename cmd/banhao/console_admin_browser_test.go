package main

import (
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// beijingClock is how the console prints a time: the center's time (China
// keeps no daylight saving time, so a fixed zone is exact).
var beijingClock = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$`)

// TestBrowserConsoleAdmin walks the administrator's kiosk, courier and
// audit sections: registering a kiosk shows its secret once, the secret
// works for the kiosk's heartbeat, revoking asks again in place, a courier
// account joins the account list, and the audit log shows all of it, page
// by page. A supervisor then sees the audit log and none of the
// administrators' forms.
func TestBrowserConsoleAdmin(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	srv := startServer(t, nil)
	srv.createStaff(t, "admin", "admin")
	srv.createStaff(t, "sup", "supervisor")
	b := newDeskBrowser(t)
	shots := screenshotDir(t)

	const location = "一楼大厅东侧 2 号机"
	var kiosk *kioskClient
	row := func() string { return `#kiosks-table tr[data-id="` + kiosk.id + `"]` }

	text := func(t *testing.T, sel string) string {
		t.Helper()
		return strings.TrimSpace(get(t, b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
	}
	cells := func(t *testing.T, sel string) []string {
		t.Helper()
		return get(t, b, "read the cells of "+sel, chromedp.Evaluate[[]string](
			`[...document.querySelectorAll('`+sel+` td')].map(td => td.innerText.trim())`))
	}
	focused := func(t *testing.T) string {
		t.Helper()
		return get(t, b, "read the focused element", chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id || document.activeElement.innerText.trim() : ""`))
	}
	fill := func(t *testing.T, sel, value string) {
		t.Helper()
		b.do(t, "type into "+sel, emptyField(sel), chromedp.SendKeys(chromedp.CSS(sel), value))
	}
	// until waits for a script condition to hold, naming it on failure.
	until := func(t *testing.T, what, cond string) {
		t.Helper()
		b.do(t, "wait until "+what, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(10*time.Second)))
	}
	login := func(t *testing.T, user string) {
		t.Helper()
		b.do(t, "open the login page", chromedp.Navigate(srv.URL+"/console/login"))
		fill(t, "#login-username", user)
		b.do(t, "type the password and press Enter", emptyField("#login-password"),
			waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
		if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/console/" {
			t.Fatalf("after logging in as %s the browser is at %s", user, loc)
		}
	}
	// auditRows reads action and outcome of every audit row, newest first.
	auditRows := func(t *testing.T) []string {
		t.Helper()
		return get(t, b, "read the audit rows", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#audit-table tbody tr")].map(tr => tr.dataset.action + "/" + tr.dataset.outcome)`))
	}

	steps := []browserStep{
		{"the administrator's home has the kiosk, courier and audit sections", func(t *testing.T) {
			login(t, "admin")
			for _, sel := range []string{"#kiosks", "#kiosk-form", "#courier-form", "#audit", "#accounts"} {
				b.do(t, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
			}
			until(t, "the kiosk list has loaded", `document.getElementById("kiosks-status").innerText.includes("还没有登记")`)
		}},
		{"a kiosk without a location is reported next to its field", func(t *testing.T) {
			b.do(t, "press 登记终端", chromedp.Click(chromedp.CSS(`#kiosk-form button[type="submit"]`)))
			b.do(t, "wait for the field error", chromedp.WaitVisible(chromedp.CSS("#kiosk-form-location-error")))
			if msg := text(t, "#kiosk-form-location-error"); !strings.Contains(msg, "安放位置") {
				t.Errorf("location error = %q", msg)
			}
			if f := focused(t); f != "kiosk-location" {
				t.Errorf("focus after the error is on %q, want the location field", f)
			}
			if n := get(t, b, "look for the secret panel", chromedp.Evaluate[bool](`!document.getElementById("kiosk-secret").hidden`)); n {
				t.Error("a refused registration opened the secret panel")
			}
		}},
		{"registering a kiosk shows its ID and secret once", func(t *testing.T) {
			fill(t, "#kiosk-location", location)
			b.do(t, "press 登记终端", chromedp.Click(chromedp.CSS(`#kiosk-form button[type="submit"]`)))
			b.do(t, "wait for the secret panel", chromedp.WaitVisible(chromedp.CSS("#kiosk-secret")))
			id, secret := text(t, "#kiosk-secret-id"), text(t, "#kiosk-secret-value")
			if len(secret) != 43 || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(secret) {
				t.Errorf("secret shown = %q (%d characters), want 43 base64url characters", secret, len(secret))
			}
			if !strings.HasPrefix(id, "ks") {
				t.Errorf("kiosk ID shown = %q", id)
			}
			if warn := text(t, "#kiosk-secret .message.warn"); !strings.Contains(warn, "密钥只显示这一次，请立即配置到终端") {
				t.Errorf("warning = %q", warn)
			}
			if h := text(t, "#kiosk-secret-title"); !strings.Contains(h, location) {
				t.Errorf("panel title = %q, want the location", h)
			}
			if f := focused(t); f != "kiosk-secret" {
				t.Errorf("focus after registering is on %q, want the secret panel", f)
			}
			if v := get(t, b, "read the location field", chromedp.Value(chromedp.CSS("#kiosk-location"))); v != "" {
				t.Errorf("the form still holds %q after registering", v)
			}
			kiosk = &kioskClient{s: srv, id: id, secret: secret}
			b.do(t, "wait for the new kiosk's row", chromedp.WaitVisible(chromedp.CSS(row())))
			want := []string{location, id, "未上报", "未上报", "正常", "从未连接", "停用"}
			if got := cells(t, row()); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("kiosk row = %q, want %q", got, want)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-kiosk-secret.png"))
			checkAxe(t, b, "administrator's home with the kiosk secret shown")
		}},
		{"the kiosk's heartbeat shows in the list", func(t *testing.T) {
			code, _, body := kiosk.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{"printer":"paper_low","reader":"ok"}`)
			if code != http.StatusNoContent {
				t.Fatalf("heartbeat with the secret the panel showed: %d %s", code, body)
			}
			b.do(t, "press 刷新状态", chromedp.Click(chromedp.CSS("#kiosks-refresh")))
			until(t, "the heartbeat shows", `document.querySelector('`+row()+` td:nth-child(4)').innerText.trim() === "纸少"`)
			got := cells(t, row())
			if got[2] != "正常" || got[3] != "纸少" {
				t.Errorf("reader and printer shown as %q and %q, want 正常 and 纸少", got[2], got[3])
			}
			if !beijingClock.MatchString(got[5]) {
				t.Fatalf("last heartbeat shown as %q, want YYYY-MM-DD HH:MM:SS", got[5])
			}
			seen, err := time.ParseInLocation("2006-01-02 15:04:05", got[5], time.FixedZone("CST", 8*3600))
			if err != nil || time.Since(seen).Abs() > time.Minute {
				t.Errorf("last heartbeat shown as %s, want now in Beijing time (%s)", got[5], time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateTime))
			}
		}},
		{"closing the panel forgets the secret", func(t *testing.T) {
			b.do(t, "press 关闭", chromedp.Click(chromedp.CSS("#kiosk-secret-close")))
			if v := get(t, b, "read the panel", chromedp.Evaluate[string](`document.getElementById("kiosk-secret").hidden + "|" + document.getElementById("kiosk-secret-value").textContent`)); v != "true|" {
				t.Errorf("after closing, panel hidden|secret = %q, want the secret gone", v)
			}
			if f := focused(t); f != "kiosk-location" {
				t.Errorf("focus after closing the panel is on %q, want the location field", f)
			}
		}},
		{"revoking asks again in place; Escape keeps the kiosk", func(t *testing.T) {
			b.do(t, "press 停用", chromedp.Click(chromedp.CSS(row()+" td:last-child button")))
			b.do(t, "wait for the confirmation", chromedp.WaitVisible(chromedp.CSS(row()+" .confirm")))
			if f := focused(t); f != "确认停用" {
				t.Errorf("focus after 停用 is on %q, want 确认停用", f)
			}
			if q := text(t, row()+" .confirm-text"); !strings.Contains(q, "立即无法使用") {
				t.Errorf("question = %q", q)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-kiosk-revoke-confirm.png"))
			b.do(t, "press Escape", chromedp.SendKeys(chromedp.CSS(row()+" .confirm button"), kb.Escape))
			until(t, "the confirmation closes", `!document.querySelector('`+row()+` .confirm')`)
			if f := focused(t); f != "停用" {
				t.Errorf("focus after Escape is on %q, want 停用", f)
			}
			if got := cells(t, row()); got[4] != "正常" {
				t.Errorf("status after Escape = %q, want 正常", got[4])
			}
		}},
		{"confirming revokes the kiosk", func(t *testing.T) {
			b.do(t, "press 停用", chromedp.Click(chromedp.CSS(row()+" td:last-child button")))
			b.do(t, "press 确认停用", chromedp.Click(chromedp.CSS(row()+" .confirm .fill")))
			until(t, "the kiosk shows as revoked", `(document.querySelector('`+row()+` td:nth-child(5)') || {}).innerText === "已停用"`)
			if got := cells(t, row()); got[6] != "—" {
				t.Errorf("a revoked kiosk still offers %q", got[6])
			}
			if msg := text(t, "#kiosks-status"); !strings.Contains(msg, "已停用“"+location+"”的终端") {
				t.Errorf("status after revoking = %q", msg)
			}
			if f := focused(t); f != "kiosks-status" {
				t.Errorf("focus after revoking is on %q, want the list's status", f)
			}
			if code, _, body := kiosk.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{}`); code != http.StatusUnauthorized {
				t.Errorf("heartbeat of the revoked kiosk: %d %s, want 401", code, body)
			}
		}},
		{"a courier needs a company", func(t *testing.T) {
			fill(t, "#courier-username", "ems.zhao")
			fill(t, "#courier-name", "赵师傅")
			fill(t, "#courier-password", "courier-pass-2024")
			b.do(t, "press 创建快递员账号", chromedp.Click(chromedp.CSS(`#courier-form button[type="submit"]`)))
			b.do(t, "wait for the field error", chromedp.WaitVisible(chromedp.CSS("#courier-form-company-error")))
			if msg := text(t, "#courier-form-company-error"); !strings.Contains(msg, "快递公司") {
				t.Errorf("company error = %q", msg)
			}
			if f := focused(t); f != "courier-company" {
				t.Errorf("focus after the error is on %q, want the company field", f)
			}
		}},
		{"a courier account joins the account list", func(t *testing.T) {
			fill(t, "#courier-company", "中国邮政EMS")
			b.do(t, "press 创建快递员账号", chromedp.Click(chromedp.CSS(`#courier-form button[type="submit"]`)))
			courierRow := `#accounts-table tr[data-username="ems.zhao"]`
			b.do(t, "wait for the courier's row", chromedp.WaitVisible(chromedp.CSS(courierRow)))
			want := []string{"ems.zhao", "赵师傅", "快递员", "—", "中国邮政EMS", "正常"}
			if got := cells(t, courierRow); strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("courier row = %q, want %q", got, want)
			}
			if msg := text(t, "#courier-form-done"); !strings.Contains(msg, "ems.zhao") {
				t.Errorf("confirmation = %q", msg)
			}
			if v := get(t, b, "read the password field", chromedp.Value(chromedp.CSS("#courier-password"))); v != "" {
				t.Error("the initial password stays in the courier form")
			}
		}},
		{"the audit log shows the kiosk and account changes", func(t *testing.T) {
			// The table reloads after the courier is created; an earlier
			// load already shows the administrator's own staff.create.
			until(t, "the audit log shows the courier", `[...document.querySelectorAll('#audit-table tr[data-action="staff.create"]')].some((r) => r.innerText.includes("ems.zhao"))`)
			rows := strings.Join(auditRows(t), " ")
			for _, want := range []string{"kiosk.register/ok", "kiosk.revoke/ok", "staff.create/ok", "login/ok"} {
				if !strings.Contains(rows, want) {
					t.Errorf("audit rows %q lack %s", rows, want)
				}
			}
			rev := cells(t, `#audit-table tr[data-action="kiosk.revoke"]`)
			if len(rev) != 6 || !beijingClock.MatchString(rev[0]) || rev[1] != "测试admin（admin）" ||
				rev[2] != "停用自助终端 kiosk.revoke" || rev[3] != "成功" || rev[4] != "自助终端“"+location+"”" || rev[5] != "127.0.0.1" {
				t.Errorf("kiosk.revoke row = %q", rev)
			}
			if got := cells(t, `#audit-table tr[data-action="staff.create"]`); len(got) < 5 || got[4] != "赵师傅（ems.zhao）" {
				t.Errorf("staff.create row = %q, want the courier as its target", got)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-admin-audit.png"))
		}},
		{"the audit log pages with 更早 and filters by action", func(t *testing.T) {
			// Each refusal of a supervisor's request is audited at the
			// center: enough of them fill more than one page.
			sup := srv.login(t, "sup", testPassword)
			for range 60 {
				if code, _, body := srv.do(t, http.MethodGet, "/api/v1/staff/kiosks", sup, nil); code != http.StatusForbidden {
					t.Fatalf("supervisor listing kiosks: %d %s", code, body)
				}
			}
			b.do(t, "press 查询", chromedp.Click(chromedp.CSS(`#audit-filter button[type="submit"]`)))
			until(t, "the first page shows", `document.querySelectorAll("#audit-table tbody tr").length === 50 && !document.getElementById("audit-more").hidden`)
			if first := auditRows(t)[0]; first != "permission_denied/denied" {
				t.Errorf("newest audit row = %q, want the supervisor's refusal", first)
			}
			if got := cells(t, `#audit-table tbody tr:first-child`); got[3] != "拒绝" || got[1] != "测试sup（sup）" {
				t.Errorf("refusal row = %q, want the supervisor and 拒绝", got)
			}
			b.do(t, "press 更早", chromedp.Click(chromedp.CSS("#audit-more")))
			until(t, "the older records follow", `document.querySelectorAll("#audit-table tbody tr").length > 50 && document.getElementById("audit-more").hidden`)
			// The oldest record is the command line opening the
			// administrator's account.
			if last := cells(t, `#audit-table tbody tr:last-child`); last[1] != "服务器命令行" || last[2] != "新建账号 staff.create" || last[4] != "测试admin（admin）" {
				t.Errorf("oldest audit row = %q, want the command line creating the administrator", last)
			}
			times := get(t, b, "read the times", chromedp.Evaluate[[]float64](
				`[...document.querySelectorAll("#audit-table tbody time")].map(e => Date.parse(e.dateTime))`))
			for i := 1; i < len(times); i++ {
				if times[i] > times[i-1] {
					t.Fatalf("audit row %d (%v) is newer than row %d (%v)", i, times[i], i-1, times[i-1])
				}
			}
			if msg := text(t, "#audit-status"); !strings.Contains(msg, "已是全部记录") {
				t.Errorf("status at the end of the log = %q", msg)
			}
			if f := focused(t); f != "audit-status" {
				t.Errorf("focus after the last page is on %q, want the status (更早 is gone)", f)
			}
			b.do(t, "choose 登记自助终端", chromedp.SetValue(chromedp.CSS("#audit-action"), "kiosk.register"))
			b.do(t, "press 查询", chromedp.Click(chromedp.CSS(`#audit-filter button[type="submit"]`)))
			until(t, "only registrations show", `document.querySelectorAll("#audit-table tbody tr").length === 1`)
			if rows := auditRows(t); len(rows) != 1 || rows[0] != "kiosk.register/ok" {
				t.Errorf("filtered audit rows = %q", rows)
			}
		}},
		{"a supervisor sees the audit log and no administrators' forms", func(t *testing.T) {
			b.do(t, "press 退出登录", waitLoad(chromedp.Click(chromedp.CSS("#logout"))))
			login(t, "sup")
			until(t, "the audit log shows the supervisor's refusals", `!!document.querySelector('#audit-table tr[data-action="permission_denied"]')`)
			// The registration is older than the newest 50 records.
			b.do(t, "choose 登记自助终端", chromedp.SetValue(chromedp.CSS("#audit-action"), "kiosk.register"))
			b.do(t, "press 查询", chromedp.Click(chromedp.CSS(`#audit-filter button[type="submit"]`)))
			b.do(t, "wait for the registration", chromedp.WaitVisible(chromedp.CSS(`#audit-table tr[data-action="kiosk.register"]`)))
			if n := get(t, b, "look for administrators' sections", chromedp.Evaluate[int](
				`document.querySelectorAll("#accounts, #create-form, #couriers, #courier-form, #kiosks, #kiosk-form, #kiosk-secret, nav.jump").length`)); n != 0 {
				t.Errorf("the supervisor's home has %d administrators' sections or forms", n)
			}
			// The supervisor has no account or kiosk list; the page names
			// the center's accounts for the log all the same.
			if got := cells(t, `#audit-table tr[data-action="kiosk.register"]`); got[1] != "测试admin（admin）" {
				t.Errorf("kiosk.register row for the supervisor = %q, want the administrator named", got)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-supervisor-home.png"))
			checkAxe(t, b, "supervisor's home")
		}},
	}
	walk(t, b, "administrator's walk", expectedFailures, started, steps)
}
