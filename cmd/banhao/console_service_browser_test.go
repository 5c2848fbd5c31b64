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
	"github.com/chromedp/chromedp/kb"

	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// serviceRefusals are the browser's log lines for the refusals the 咨询与投诉
// page shows in Chinese: an empty reply or decision (400).
var serviceRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of (400)`)

// openService logs username in and follows the home page's 咨询与投诉 link.
func (d deskTab) openService(t *testing.T, username string) {
	t.Helper()
	d.b.do(t, "open the login page", chromedp.Navigate(d.srv.URL+"/console/login"))
	d.fill(t, "#login-username", username)
	d.b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
	d.b.do(t, "follow the 咨询与投诉 link", waitLoad(chromedp.Click(chromedp.CSS(`.service-link a[href="/console/service"]`))))
}

// panelSays waits for a panel's status (prefix-done) or alert
// (prefix-message) to show want.
func (d deskTab) panelSays(t *testing.T, id, want string) {
	t.Helper()
	d.waitFor(t, "#"+id+" says "+want, `(e => e.checkVisibility() && e.innerText.includes(`+jsString(want)+`))(document.getElementById(`+jsString(id)+`))`)
}

// TestBrowserConsoleService walks the 咨询与投诉 page: a housing-fund
// approver sees a citizen's question with its 正常 deadline label, is
// refused an empty reply (the alert shows the server's Chinese detail),
// replies, releases the citizen's held follow-up and publishes the answer
// as an FAQ, which the catalog search then finds; a supervisor claims a
// complaint, answers it, is refused an empty decision with the answer
// kept, and closes it with a decision. Every state is checked with axe.
func TestBrowserConsoleService(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	wx := wechattest.New(t)
	wx.RiskyWords("代开发票")
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_WECHAT_APPID"] = wechattest.AppID
	env["BANHAO_WECHAT_SECRET"] = wechattest.Secret
	env["BANHAO_WECHAT_API_URL"] = wx.URL()
	srv := startServer(t, env)
	alice := srv.mpLogin(t, "alice")
	srv.createSectorStaff(t, "fund1", "approver", "housing-fund")
	srv.createSectorStaff(t, "chief", "supervisor", "")

	code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/consultations", alice,
		strings.NewReader(`{"matter":"hm-gjj-withdraw-rent","text":"租房提取要不要房东签字？"}`))
	th := decodeThread(t, code, body, 201)
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/mp/complaints", alice, strings.NewReader(`{"center":"hm","text":"取号机打印不出号票"}`))
	k := decodeComplaint(t, code, body, 201)

	b := newDeskBrowser(t)
	d := deskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	row := `#consult-list tr[data-id="` + th.ID + `"]`
	steps := []browserStep{
		{"the approver's list has the question with its deadline label", func(t *testing.T) {
			d.openService(t, "fund1")
			d.waitFor(t, "the list has the question", `!!document.querySelector(`+jsString(row)+`)`)
			cells := get(t, b, "read the row", chromedp.Evaluate[[]string](`[...document.querySelector(`+jsString(row)+`).cells].map(c => c.innerText.trim())`))
			if len(cells) != 5 || !strings.HasPrefix(cells[0], "租房提取") || cells[2] != "住房公积金" || cells[3] != "待答复" || !strings.HasPrefix(cells[4], "正常") {
				t.Errorf("consultation row = %q", cells)
			}
			if d.visible(t, "#decide-form") {
				t.Error("an approver is offered the supervisors' decision")
			}
			checkChineseFont(t, b, "main h1")
			checkAxe(t, b, "consultation list")
		}},
		{"an empty reply is refused in Chinese", func(t *testing.T) {
			d.click(t, row+" button[data-open]")
			d.waitFor(t, "the thread opens", `!document.getElementById("thread").hidden`)
			d.click(t, `#reply-form button[type="submit"]`)
			d.panelSays(t, "thread-message", "")
			if role := get(t, b, "read the alert's role", chromedp.Evaluate[string](`document.getElementById("thread-message").getAttribute("role")`)); role != "alert" {
				t.Errorf("the refusal's role = %q, want alert", role)
			}
			if s := d.text(t, "#thread-message"); s == "" || !regexp.MustCompile(`\p{Han}`).MatchString(s) {
				t.Errorf("refusal text = %q, want the server's Chinese detail", s)
			}
			checkAxe(t, b, "refused reply")
		}},
		{"the reply is sent", func(t *testing.T) {
			d.fill(t, "#reply-text", "不需要房东签字，带租赁合同即可。")
			d.click(t, `#reply-form button[type="submit"]`)
			d.panelSays(t, "thread-done", "答复已发送")
			if s := d.text(t, "#thread-messages"); !strings.Contains(s, "不需要房东签字") {
				t.Errorf("messages after the reply: %q", s)
			}
		}},
		{"a held follow-up is released", func(t *testing.T) {
			code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/consultations/"+th.ID+"/messages", alice, strings.NewReader(`{"text":"能代开发票吗？"}`))
			if got := decodeThread(t, code, body, 200); !got.Messages[2].Held {
				t.Fatalf("the follow-up is not held: %s", body)
			}
			d.click(t, row+" button[data-open]")
			d.waitFor(t, "the held message offers 放行", `!!document.querySelector('#thread-messages button[data-release="2"]')`)
			checkAxe(t, b, "held message")
			d.click(t, `#thread-messages button[data-release="2"]`)
			d.panelSays(t, "thread-done", "留言已放行")
			if d.visible(t, `#thread-messages button[data-release="2"]`) {
				t.Error("the released message still offers 放行")
			}
		}},
		{"the answer is published as an FAQ", func(t *testing.T) {
			d.fill(t, "#faq-question", "租房提取公积金要不要房东签字？")
			d.click(t, `#faq-form button[type="submit"]`)
			d.panelSays(t, "thread-done", "已发布为常见问题：租房提取公积金要不要房东签字？")
			code, _, body := srv.get(t, "/api/v1/matters/hm-gjj-withdraw-rent/faqs")
			if code != 200 || !strings.Contains(body, "不需要房东签字") {
				t.Errorf("FAQs: %d %s", code, body)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-service-consult.png"))
			checkAxe(t, b, "published FAQ")
		}},
		{"a supervisor claims and answers a complaint", func(t *testing.T) {
			d.logOut(t)
			d.openService(t, "chief")
			krow := `#complaint-list tr[data-id="` + k.ID + `"]`
			d.waitFor(t, "the complaint is listed", `!!document.querySelector(`+jsString(krow)+`)`)
			d.click(t, krow+" button[data-open]")
			d.waitFor(t, "the complaint opens", `!document.getElementById("complaint").hidden`)
			checkAxe(t, b, "complaint panel")
			d.click(t, "#complaint-claim")
			d.panelSays(t, "complaint-done", "已认领")
			if s := d.text(t, "#complaint-facts"); !strings.Contains(s, "citizen:") {
				t.Errorf("the handler does not see the complainant: %q", s)
			}
			d.fill(t, "#answer-text", "已更换打印纸，取号机恢复正常。")
			d.click(t, `#answer-form button[type="submit"]`)
			d.panelSays(t, "complaint-done", "答复已提交")
			if s := d.text(t, "#complaint-facts"); !strings.Contains(s, "已答复") || !strings.Contains(s, "已更换打印纸") {
				t.Errorf("after the answer the facts read %q", s)
			}
		}},
		{"the supervisor decides", func(t *testing.T) {
			d.click(t, `#decide-form button[type="submit"]`)
			d.panelSays(t, "complaint-message", "")
			checkAxe(t, b, "refused decision")
			d.fill(t, "#decide-text", "属实，已整改，办结。")
			d.click(t, `#decide-form button[type="submit"]`)
			d.panelSays(t, "complaint-done", "投诉办结")
			if s := d.text(t, "#complaint-facts"); !strings.Contains(s, "已办结") {
				t.Errorf("after the decision the facts read %q", s)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-service-complaint.png"))
			checkAxe(t, b, "decided complaint")
		}},
		{"a 12345 hotline complaint is refused field by field, then entered", func(t *testing.T) {
			fieldError := func(t *testing.T, name, want string) {
				t.Helper()
				id := "hotline-form-" + name + "-error"
				d.waitFor(t, "the error next to "+name, `(e => !!e && e.innerText.includes(`+jsString(want)+`))(document.getElementById(`+jsString(id)+`))`)
				ok := get(t, b, "read "+name+"'s marks", chromedp.Evaluate[bool](`(c => c.getAttribute("aria-invalid") === "true" && c.getAttribute("aria-describedby").split(" ").includes(`+jsString(id)+`) && c.nextElementSibling.id === `+jsString(id)+`)(document.querySelector('#hotline-form [name="`+name+`"]'))`))
				if !ok {
					t.Errorf("%s is not marked invalid with its error next to it", name)
				}
			}
			d.fill(t, "#hotline-phone", "<script>")
			d.click(t, `#hotline-form button[type="submit"]`)
			fieldError(t, "text", "")
			checkAxe(t, b, "hotline form refused")
			d.fill(t, "#hotline-text", "来电反映：<b>税务窗口</b>中午无人值守")
			d.click(t, `#hotline-form button[type="submit"]`)
			fieldError(t, "caller_phone", "电话号码格式不正确")
			if d.visible(t, "#hotline-form-text-error") {
				t.Error("the text's error stays once the text is given")
			}
			d.fill(t, "#hotline-phone", "0543-1234567")
			d.fill(t, "#hotline-case", "HM0000000000")
			d.click(t, `#hotline-form button[type="submit"]`)
			fieldError(t, "case", "没有这个办件")
			d.fill(t, "#hotline-case", "")
			d.fill(t, "#hotline-name", "王小明")
			b.do(t, "choose the tax sector", chromedp.SetValue(chromedp.CSS("#hotline-sector"), "tax"))
			d.click(t, `#hotline-form button[type="submit"]`)
			d.panelSays(t, "hotline-done", "已录入")
			if d.visible(t, "#hotline-form-message") || d.visible(t, "#hotline-form .field-error") {
				t.Error("errors stay after the complaint was entered")
			}
			if v := get(t, b, "read the text box", chromedp.Evaluate[string](`document.getElementById("hotline-text").value`)); v != "" {
				t.Errorf("the form keeps %q after entering", v)
			}
			hrow := `#complaint-list tr[data-id]`
			d.waitFor(t, "the hotline complaint is listed", `[...document.querySelectorAll(`+jsString(hrow)+`)].some(r => r.innerText.includes("12345热线") && r.innerText.includes("税务窗口"))`)
			cells := get(t, b, "read the row", chromedp.Evaluate[[]string](`[...[...document.querySelectorAll(`+jsString(hrow)+`)].find(r => r.innerText.includes("12345热线")).cells].map(c => c.innerText.trim())`))
			if len(cells) != 5 || !strings.Contains(cells[0], "<b>税务窗口</b>") || cells[1] != "12345热线" || cells[2] == "hotline-12345" || cells[3] == "" {
				t.Errorf("hotline complaint row = %q", cells)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-service-hotline.png"))
			checkAxe(t, b, "hotline complaint entered")
		}},
	}
	walk(t, b, "咨询与投诉 page", serviceRefusals, started, steps)
}

// badTicketReviews serves two of Alice's tax tickets at a new window and
// rates each on the window's pad (非常不满意, then 不满意), returning the
// two rectification tasks the bad reviews opened.
func badTicketReviews(t *testing.T, s *server, skew time.Duration) (first, second string) {
	t.Helper()
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	if err := json.Unmarshal([]byte(body), &w); err != nil || w.ID == "" {
		t.Fatalf("window: %s", body)
	}
	k := registerKiosk(t, s, admin)
	k.skew = skew
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", aliceCard)
	var cs struct {
		Token string `json:"session_token"`
	}
	if json.Unmarshal([]byte(body), &cs); code != 201 || cs.Token == "" {
		t.Fatalf("card: %d %s", code, body)
	}
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	var tasks []string
	for i, rating := range []string{`{"window":"` + w.ID + `","level":1,"comment":"等了很久","tags":["等候时间长"]}`, `{"window":"` + w.ID + `","level":2,"comment":"态度不好"}`} {
		k.session = cs.Token
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
		var tk struct{ ID string }
		if json.Unmarshal([]byte(body), &tk); code != 201 {
			t.Fatalf("take %d: %d %s", i, code, body)
		}
		k.session = ""
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != 200 {
			t.Fatalf("call %d: %d %s", i, code, body)
		}
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+tk.ID+"/complete", clerk, strings.NewReader(`{}`)); code != 200 {
			t.Fatalf("complete %d: %d %s", i, code, body)
		}
		code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", rating)
		var ev struct {
			Rectification string `json:"rectification"`
		}
		if json.Unmarshal([]byte(body), &ev); code != 201 || ev.Rectification == "" {
			t.Fatalf("pad rating %d: %d %s", i, code, body)
		}
		tasks = append(tasks, ev.Rectification)
	}
	return tasks[0], tasks[1]
}

// TestBrowserConsoleRectification walks two 差评整改 tasks on the 咨询与投诉
// page: a clerk is refused a verification without a finding (the alert
// shows the server's Chinese detail and the typed note stays), finds the
// first review founded, rectifies and follows up; finds the second
// unfounded, which then waits for a supervisor, who confirms it.
func TestBrowserConsoleRectification(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	founded, unfounded := badTicketReviews(t, srv, skew)
	srv.createStaff(t, "boss", "supervisor")

	b := newDeskBrowser(t)
	d := deskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	open := func(t *testing.T, id string) {
		t.Helper()
		row := `#rect-list tr[data-id="` + id + `"]`
		d.waitFor(t, "the task is listed", `!!document.querySelector(`+jsString(row)+`)`)
		d.click(t, row+" button[data-open]")
		d.waitFor(t, "the task opens", `!document.getElementById("rect").hidden && document.getElementById("rect-facts").innerText.includes("评价")`)
	}
	steps := []browserStep{
		{"the clerk sees both tasks to verify", func(t *testing.T) {
			d.openService(t, "clerk")
			open(t, founded)
			if s := d.text(t, "#rect-facts"); !strings.Contains(s, "非常不满意") || !strings.Contains(s, "等了很久") || !strings.Contains(s, "待核实") {
				t.Errorf("task facts = %q", s)
			}
			if s := d.text(t, "#rect-submit"); s != "提交核实结果" {
				t.Errorf("submit button = %q", s)
			}
			checkAxe(t, b, "rectification task")
		}},
		{"a verification without a finding is refused and keeps the note", func(t *testing.T) {
			d.fill(t, "#rect-note", "调取叫号记录")
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-message", "请说明差评是否属实")
			if v := get(t, b, "read the note", chromedp.Evaluate[string](`document.getElementById("rect-note").value`)); v != "调取叫号记录" {
				t.Errorf("the note after the refusal = %q", v)
			}
			checkAxe(t, b, "refused verification")
		}},
		{"founded: verify, rectify, follow up", func(t *testing.T) {
			d.click(t, `#rect-founded input[value="true"]`)
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-done", "现在：待整改")
			d.fill(t, "#rect-note", "增开一个税务窗口")
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-done", "现在：待回访")
			d.fill(t, "#rect-note", "电话回访，群众表示认可")
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-done", "现在：已结案")
			if s := d.text(t, "#rect-steps"); !strings.Contains(s, "核实属实：调取叫号记录") || !strings.Contains(s, "回访：电话回访") {
				t.Errorf("steps = %q", s)
			}
			if d.visible(t, "#rect-form") {
				t.Error("a closed task still offers a step")
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-rectification.png"))
			checkAxe(t, b, "closed task")
		}},
		{"unfounded waits for a supervisor", func(t *testing.T) {
			open(t, unfounded)
			d.click(t, `#rect-founded input[value="false"]`)
			d.fill(t, "#rect-note", "监控显示按规定办理")
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-done", "现在：待督办确认")
			if !d.visible(t, "#rect-wait") || d.visible(t, "#rect-submit") {
				t.Error("a clerk is offered the supervisor's confirmation")
			}
		}},
		{"the supervisor confirms", func(t *testing.T) {
			d.logOut(t)
			d.openService(t, "boss")
			open(t, unfounded)
			if s := d.text(t, "#rect-submit"); s != "确认不属实并结案" {
				t.Errorf("supervisor's button = %q", s)
			}
			d.fill(t, "#rect-note", "同意")
			d.click(t, "#rect-submit")
			d.panelSays(t, "rect-done", "现在：已结案")
			checkAxe(t, b, "confirmed task")
		}},
	}
	walk(t, b, "差评整改 on the 咨询与投诉 page", serviceRefusals, started, steps)
}
