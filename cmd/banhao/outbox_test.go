package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// deadLetters is the answer of GET /api/v1/staff/outbox/failed.
type deadLetters struct {
	Items []struct {
		ID        string `json:"id"`
		To        string `json:"to"`
		Kind      string `json:"kind"`
		Attempts  int    `json:"attempts"`
		LastError string `json:"last_error"`
		CreatedAt string `json:"created_at"`
	} `json:"items"`
}

// outboxWorld is a server sending WeChat messages to the fake WeChat,
// where alice refuses them: her consultation's reply fails for good
// (43101) and becomes a dead letter.
type outboxWorld struct {
	srv   *server
	wx    *wechattest.Fake
	chief string // a supervisor's token
	fund  string // an approver's token
}

func newOutboxWorld(t *testing.T) outboxWorld {
	t.Helper()
	wx := wechattest.New(t)
	wx.Refuse("dev-alice")
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_WECHAT_APPID"] = wechattest.AppID
	env["BANHAO_WECHAT_SECRET"] = wechattest.Secret
	env["BANHAO_WECHAT_API_URL"] = wx.URL()
	env["BANHAO_WECHAT_TEMPLATES"] = `{"consult_reply": {"id": "tmpl-reply", "fields": {"subject": "thing1", "state": "phrase2", "time": "time3"}}}`
	srv := startServer(t, env)
	w := outboxWorld{srv: srv, wx: wx}
	alice := srv.mpLogin(t, "alice")
	w.fund = srv.createSectorStaff(t, "fund1", "approver", "housing-fund")
	w.chief = srv.createSectorStaff(t, "chief", "supervisor", "")

	code, _, body := srv.do(t, http.MethodPost, "/api/v1/mp/consultations", alice,
		strings.NewReader(`{"matter":"hm-gjj-withdraw-rent","text":"租房提取要不要房东签字？"}`))
	th := decodeThread(t, code, body, 201)
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/reply", w.fund, strings.NewReader(`{"text":"不需要房东签字。"}`))
	if code != 200 {
		t.Fatalf("reply: %d %s", code, body)
	}
	return w
}

// replyLetter waits for the refused reply to be a dead letter and returns
// its ID. (The review invitation queued with the reply fails for good
// too: no template is configured for its kind.)
func (w outboxWorld) replyLetter(t *testing.T) string {
	t.Helper()
	id := ""
	waitUntil(t, "the refused reply and the invitation become dead letters", func() bool {
		items := w.failed(t).Items
		for _, m := range items {
			if m.Kind == "consult_reply" {
				id = m.ID
			}
		}
		return id != "" && len(items) == 2
	})
	return id
}

// failed lists the dead letters as the supervisor.
func (w outboxWorld) failed(t *testing.T) deadLetters {
	t.Helper()
	code, _, body := w.srv.do(t, http.MethodGet, "/api/v1/staff/outbox/failed", w.chief, nil)
	if code != 200 {
		t.Fatalf("dead letters: %d %s", code, body)
	}
	var d deadLetters
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("dead letters: %v: %s", err, body)
	}
	return d
}

// waitUntil polls until check passes, for at most 15 s (the outbox polls
// every 2 s).
func waitUntil(t *testing.T, what string, check func() bool) {
	t.Helper()
	end := time.Now().Add(15 * time.Second)
	for !check() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOutboxDeadLetters: a message WeChat refused for good is listed for
// supervisors (recipient masked, kind, attempts, reason), not for an
// approver; retried by the supervisor, it is sent, and the retry is in
// the audit log. A message not failed cannot be retried.
func TestOutboxDeadLetters(t *testing.T) {
	w := newOutboxWorld(t)
	id := w.replyLetter(t)
	d := w.failed(t)
	if len(d.Items) != 2 || d.Items[0].Kind != "review_invite" || d.Items[1].ID != id {
		t.Fatalf("dead letters, newest first: %+v", d.Items)
	}
	if !strings.Contains(d.Items[0].LastError, "review_invite") {
		t.Errorf("a kind without template failed with %q", d.Items[0].LastError)
	}
	m := d.Items[1]
	if m.Kind != "consult_reply" || m.Attempts != 1 || !strings.Contains(m.LastError, "43101") ||
		!strings.HasPrefix(m.To, "citizen:") || !strings.HasSuffix(m.To, "****") || len(m.To) > len("citizen:")+8 {
		t.Errorf("dead letter %+v", m)
	}
	if strings.Contains(m.LastError, "dev-alice") {
		t.Errorf("the reason names the openid: %q", m.LastError)
	}

	code, ctype, body := w.srv.do(t, http.MethodGet, "/api/v1/staff/outbox/failed", w.fund, nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = w.srv.do(t, http.MethodPost, "/api/v1/staff/outbox/retry", w.fund, strings.NewReader(`{"id":"`+m.ID+`"}`))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = w.srv.do(t, http.MethodPost, "/api/v1/staff/outbox/retry", w.chief, strings.NewReader(`{"id":""}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "id")
	code, ctype, body = w.srv.do(t, http.MethodPost, "/api/v1/staff/outbox/retry", w.chief, strings.NewReader(`{"id":"no-such-message"}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	w.wx.Accept("dev-alice") // she subscribed again
	code, _, body = w.srv.do(t, http.MethodPost, "/api/v1/staff/outbox/retry", w.chief, strings.NewReader(`{"id":"`+m.ID+`"}`))
	if code != 200 {
		t.Fatalf("retry: %d %s", code, body)
	}
	waitUntil(t, "the retried message is sent", func() bool { return len(w.wx.Subscribes()) == 1 })
	if got := w.wx.Subscribes()[0]; got.ToUser != "dev-alice" || got.TemplateID != "tmpl-reply" {
		t.Errorf("WeChat got %+v", got)
	}
	if d := w.failed(t); len(d.Items) != 1 || d.Items[0].Kind != "review_invite" {
		t.Errorf("dead letters after the retry: %+v", d.Items)
	}
	code, ctype, body = w.srv.do(t, http.MethodPost, "/api/v1/staff/outbox/retry", w.chief, strings.NewReader(`{"id":"`+m.ID+`"}`))
	wantProblem(t, code, ctype, body, 409, "conflict", "")

	code, _, body = w.srv.do(t, http.MethodGet, "/api/v1/staff/audit?action=outbox.retry", w.chief, nil)
	if code != 200 || !strings.Contains(body, `"message:`+m.ID+`"`) {
		t.Errorf("audit of the retry: %d %s", code, body)
	}
}

// TestBrowserConsoleOutbox walks 通知发送失败: a supervisor follows the
// home page's link, sees the refused reply with its masked recipient and
// reason, and retries it once the citizen accepts messages again; the
// message is sent and leaves the list. Each state is checked with axe.
func TestBrowserConsoleOutbox(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	w := newOutboxWorld(t)
	id := w.replyLetter(t)

	b := newDeskBrowser(t)
	d := deskTab{b: b, srv: w.srv}
	shots := screenshotDir(t)
	row := `#outbox-list tr[data-id="` + id + `"]`
	steps := []browserStep{
		{"the supervisor opens 通知发送失败 from the home page", func(t *testing.T) {
			d.b.do(t, "open the login page", chromedp.Navigate(d.srv.URL+"/console/login"))
			d.fill(t, "#login-username", "chief")
			d.b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
			d.b.do(t, "follow the 通知发送失败 link", waitLoad(chromedp.Click(chromedp.CSS(`.outbox-link a[href="/console/outbox"]`))))
			d.waitFor(t, "the list has the message", `!!document.querySelector(`+jsString(row)+`)`)
			cells := get(t, b, "read the row", chromedp.Evaluate[[]string](`[...document.querySelector(`+jsString(row)+`).cells].map(c => c.innerText.trim())`))
			if len(cells) != 6 || cells[0] != "咨询答复" || !strings.HasSuffix(cells[1], "****") || cells[2] != "1" || !strings.Contains(cells[3], "43101") || cells[5] != "重新发送" {
				t.Errorf("dead letter row = %q", cells)
			}
			checkChineseFont(t, b, "main h1")
			checkAxe(t, b, "dead letters")
		}},
		{"a retry sends the message and takes it off the list", func(t *testing.T) {
			w.wx.Accept("dev-alice")
			d.click(t, row+" button[data-retry]")
			d.waitFor(t, "the retry is confirmed", `document.getElementById("outbox-done").innerText.includes("已重新排队")`)
			waitUntil(t, "the retried message is sent", func() bool { return len(w.wx.Subscribes()) == 1 })
			d.click(t, "#outbox-refresh")
			d.waitFor(t, "the list has one message left", `document.getElementById("outbox-status").innerText.includes("共 1 条")`)
			if d.visible(t, row) {
				t.Error("the sent message is still listed")
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-outbox.png"))
			checkAxe(t, b, "no dead letters")
		}},
	}
	walk(t, b, "通知发送失败 page", nil, started, steps)
}
