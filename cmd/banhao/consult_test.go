package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// createSectorStaff opens an account acting in the given sectors.
func (s *server) createSectorStaff(t *testing.T, username, roles, sectors string) string {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := []string{"admin", "create", "-username", username, "-center", "hm", "-name", "测试" + username, "-roles", roles, "-password-file", pw}
	if sectors != "" {
		args = append(args, "-sectors", sectors)
	}
	if err := run(context.Background(), args, s.getenv, &out); err != nil {
		t.Fatalf("admin create %s: %v\n%s", username, err, out.String())
	}
	return s.login(t, username, testPassword)
}

type threadBody struct {
	ID       string `json:"id"`
	Sector   string `json:"sector"`
	State    string `json:"state"`
	ReplyDue *struct {
		DueDay string `json:"due_day"`
		Level  string `json:"level"`
	} `json:"reply_due"`
	ClosedBy string `json:"closed_by"`
	Messages []struct {
		N       int    `json:"n"`
		From    string `json:"from"`
		Text    string `json:"text"`
		Held    bool   `json:"held"`
		StaffID string `json:"staff_id"`
	} `json:"messages"`
}

func decodeThread(t *testing.T, code int, body string, want int) threadBody {
	t.Helper()
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	var th threadBody
	if err := json.Unmarshal([]byte(body), &th); err != nil {
		t.Fatalf("thread body: %v: %s", err, body)
	}
	return th
}

// TestConsultationFromQuestionToFAQ is the consultation part of issue 7
// over the real server, with WeChat's content check on the fake WeChat
// server: a citizen asks about a matter, a risky follow-up is held and
// released by staff, staff reply, the citizen confirms, and the answer
// published as an FAQ is found by the catalog search.
func TestConsultationFromQuestionToFAQ(t *testing.T) {
	wx := wechattest.New(t)
	wx.RiskyWords("代开发票")
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_WECHAT_APPID"] = wechattest.AppID
	env["BANHAO_WECHAT_SECRET"] = wechattest.Secret
	env["BANHAO_WECHAT_API_URL"] = wx.URL()
	s := startServer(t, env)
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	fund := s.createSectorStaff(t, "fund1", "approver", "housing-fund")
	tax := s.createSectorStaff(t, "tax1", "approver", "tax")
	conv := s.createSectorStaff(t, "conv1", "clerk", "convenience")

	// Before: nothing in the catalog speaks of a landlord.
	code, _, body := s.get(t, "/api/v1/matters?center=hm&q=%E6%88%BF%E4%B8%9C") // 房东
	if code != 200 || strings.Contains(body, "hm-gjj-withdraw-rent") {
		t.Fatalf("search before the FAQ: %d %s", code, body)
	}

	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/consultations", alice,
		strings.NewReader(`{"matter":"hm-gjj-withdraw-rent","text":"租房提取要不要<b>房东</b>签字？"}`))
	th := decodeThread(t, code, body, 201)
	if th.Sector != "housing-fund" || th.State != "open" || th.Messages[0].Held || th.ReplyDue == nil || th.ReplyDue.DueDay != "2026-11-26" {
		t.Fatalf("asked: %s", body)
	}
	// HTML is plain text: kept as typed, escaped in the JSON.
	if th.Messages[0].Text != "租房提取要不要<b>房东</b>签字？" || strings.Contains(body, "<b>") {
		t.Fatalf("text not kept as escaped plain text: %s", body)
	}
	if got := wx.Checked(); len(got) != 1 || got[0].OpenID != "dev-alice" {
		t.Fatalf("content checks: %+v", got)
	}
	path := "/api/v1/mp/consultations/" + th.ID

	// Access: another citizen, another sector's staff.
	code, ctype, body := s.do(t, http.MethodGet, path, bob, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, ctype, body = s.do(t, http.MethodPost, path+"/messages", bob, strings.NewReader(`{"text":"插一句"}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/consultations", tax, nil)
	if code != 200 || strings.Contains(body, th.ID) {
		t.Fatalf("tax worklist: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/reply", tax, strings.NewReader(`{"text":"不用"}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/consultations", "", nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")

	// Bad input: too long, blank.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/consultations", alice,
		strings.NewReader(`{"center":"hm","text":"`+strings.Repeat("长", 1001)+`"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "text")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/consultations", alice, strings.NewReader(`{"center":"hm","text":"  "}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "text")

	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/consultations", fund, nil)
	if code != 200 || !strings.Contains(body, th.ID) {
		t.Fatalf("fund worklist: %d %s", code, body)
	}
	outbox := s.dlOutbox(t)
	wantNotInvited(t, outbox, review.EventConsultation, th.ID)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/reply", fund, strings.NewReader(`{"text":"不需要房东签字，带租赁合同即可。"}`))
	th = decodeThread(t, code, body, 200)
	if th.State != "answered" || th.ReplyDue != nil || th.Messages[1].StaffID == "" {
		t.Fatalf("replied: %s", body)
	}
	// The first answer invites the citizen to rate the consultation.
	first := wantInvitedOnce(t, s, outbox, review.EventConsultation, th.ID)
	if !strings.HasPrefix(first.To, "citizen:") {
		t.Fatalf("invitation to rate the answer goes to %q", first.To)
	}
	// The citizen's view does not name the staff member.
	code, _, body = s.do(t, http.MethodGet, path, alice, nil)
	if th = decodeThread(t, code, body, 200); th.Messages[1].StaffID != "" || th.Messages[1].From != "staff" {
		t.Fatalf("citizen view: %s", body)
	}

	// A risky follow-up is held for review, not dropped.
	code, _, body = s.do(t, http.MethodPost, path+"/messages", alice, strings.NewReader(`{"text":"能顺便代开发票吗"}`))
	th = decodeThread(t, code, body, 200)
	if th.State != "open" || len(th.Messages) != 3 || !th.Messages[2].Held {
		t.Fatalf("risky follow-up: %s", body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/messages/2/release", fund, nil)
	if th = decodeThread(t, code, body, 200); th.Messages[2].Held {
		t.Fatalf("released: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/messages/2/release", fund, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, ctype, body = s.do(t, http.MethodPost, path+"/confirm", alice, nil)
	wantProblem(t, code, ctype, body, 409, "consultation_state", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/reply", fund, strings.NewReader(`{"text":"发票请到税务服务窗口办理。"}`))
	decodeThread(t, code, body, 200)
	// A second answer invites no more.
	if again := wantInvitedOnce(t, s, outbox, review.EventConsultation, th.ID); !again.CreatedAt.Equal(first.CreatedAt) {
		t.Fatalf("invitation queued again: %+v, first %+v", again, first)
	}
	code, _, body = s.do(t, http.MethodPost, path+"/confirm", alice, nil)
	if th = decodeThread(t, code, body, 200); th.State != "closed" || th.ClosedBy != "confirmed" {
		t.Fatalf("confirmed: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/consultations", alice, nil)
	if code != 200 || !strings.Contains(body, th.ID) {
		t.Fatalf("my consultations: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/consultations", bob, nil)
	if code != 200 || strings.Contains(body, th.ID) {
		t.Fatalf("bob's consultations: %d %s", code, body)
	}

	// The first answer becomes an FAQ of the matter, and search finds it.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/faq", tax, strings.NewReader(`{"message":1}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/faq", fund,
		strings.NewReader(`{"message":1,"question":"租房提取公积金要不要房东签字？"}`))
	if code != 201 {
		t.Fatalf("publish FAQ: %d %s", code, body)
	}
	for _, q := range []string{"%E6%88%BF%E4%B8%9C", "fangdong"} {
		code, _, body = s.get(t, "/api/v1/matters?center=hm&q="+q)
		list := decode[summaryList](t, body)
		if code != 200 || len(list.Items) == 0 || list.Items[0].Code != "hm-gjj-withdraw-rent" {
			t.Fatalf("search %s after the FAQ: %d %s", q, code, body)
		}
	}
	code, _, body = s.get(t, "/api/v1/matters/hm-gjj-withdraw-rent/faqs")
	if code != 200 || !strings.Contains(body, "不需要房东签字") {
		t.Fatalf("FAQs: %d %s", code, body)
	}

	// A general question goes to the 综合便民 desk.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/consultations", bob, strings.NewReader(`{"center":"hm","text":"周六上班吗？"}`))
	if th = decodeThread(t, code, body, 201); th.Sector != "convenience" {
		t.Fatalf("general question: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/consultations", conv, nil)
	if code != 200 || !strings.Contains(body, th.ID) {
		t.Fatalf("convenience worklist: %d %s", code, body)
	}
}

type complaintBody struct {
	ID             string `json:"id"`
	Sector         string `json:"sector"`
	Source         string `json:"source"`
	State          string `json:"state"`
	Answer         string `json:"answer"`
	ClosedBy       string `json:"closed_by"`
	Handler        string `json:"handler"`
	Complainant    string `json:"complainant"`
	IdentityHidden bool   `json:"identity_hidden"`
	Caller         *struct {
		Name   string `json:"name"`
		Phone  string `json:"phone"`
		Masked bool   `json:"masked"`
	} `json:"caller"`
	AnswerDue *struct {
		DueDay string `json:"due_day"`
	} `json:"answer_due"`
}

func decodeComplaint(t *testing.T, code int, body string, want int) complaintBody {
	t.Helper()
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	var c complaintBody
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("complaint body: %v: %s", err, body)
	}
	return c
}

// TestComplaints is the complaint part of issue 7 over the real server:
// a citizen files a complaint that is answered and confirmed; staff enter
// a 12345 hotline complaint whose caller only the handler and the
// supervisor see; a supervisor closes it; a kiosk complaint.
func TestComplaints(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	conv := s.createSectorStaff(t, "conv1", "clerk", "convenience")
	conv2 := s.createSectorStaff(t, "conv2", "clerk", "convenience")
	hot := s.createSectorStaff(t, "hot1", "clerk", "hotline-12345")
	hot2 := s.createSectorStaff(t, "hot2", "clerk", "hotline-12345")
	chief := s.createSectorStaff(t, "chief", "supervisor", "")

	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/complaints", alice, strings.NewReader(`{"center":"hm","text":"取号机<script>坏了</script>"}`))
	c := decodeComplaint(t, code, body, 201)
	if c.Sector != "convenience" || c.Source != "mp" || c.State != "received" || c.AnswerDue == nil || c.AnswerDue.DueDay != "2026-12-02" {
		t.Fatalf("filed: %s", body)
	}
	if strings.Contains(body, "<script>") {
		t.Fatalf("HTML not escaped in JSON: %s", body)
	}
	code, ctype, body := s.do(t, http.MethodGet, "/api/v1/mp/complaints/"+c.ID, bob, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/complaints/"+c.ID, hot, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/complaints", alice, strings.NewReader(`{"center":"hm","text":"`+strings.Repeat("长", 1001)+`"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "text")

	// Before anyone handles it, sector staff do not see who complained.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/complaints", conv, nil)
	if code != 200 || !strings.Contains(body, c.ID) || strings.Contains(body, "citizen:") {
		t.Fatalf("worklist: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints/"+c.ID+"/answer", conv, strings.NewReader(`{"answer":"已修复取号机。"}`))
	if c = decodeComplaint(t, code, body, 200); c.State != "answered" || c.Handler == "" || c.IdentityHidden || !strings.HasPrefix(c.Complainant, "citizen:") {
		t.Fatalf("answered: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/complaints/"+c.ID, conv2, nil)
	if other := decodeComplaint(t, code, body, 200); !other.IdentityHidden || other.Complainant != "" {
		t.Fatalf("another clerk sees the complainant: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints/"+c.ID+"/decide", conv, strings.NewReader(`{"decision":"办结"}`))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/complaints/"+c.ID+"/confirm", alice, nil)
	if c = decodeComplaint(t, code, body, 200); c.State != "closed" || c.ClosedBy != "confirmed" || c.Answer != "已修复取号机。" {
		t.Fatalf("confirmed: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/complaints", alice, nil)
	if code != 200 || !strings.Contains(body, c.ID) {
		t.Fatalf("my complaints: %d %s", code, body)
	}

	// A 12345 hotline complaint entered by staff.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints", hot,
		strings.NewReader(`{"caller_name":"王小明","caller_phone":"13800138000","text":"大厅空调不开"}`))
	h := decodeComplaint(t, code, body, 201)
	if h.Source != "hotline_12345" || h.Sector != "hotline-12345" || h.Caller == nil || !h.Caller.Masked || strings.Contains(body, "13800138000") || strings.Contains(body, "王小明") {
		t.Fatalf("hotline entry: %s", body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints/"+h.ID+"/claim", hot, nil)
	if h = decodeComplaint(t, code, body, 200); h.Caller == nil || h.Caller.Masked || h.Caller.Phone != "13800138000" || h.Caller.Name != "王小明" {
		t.Fatalf("handler's view: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/complaints/"+h.ID, hot2, nil)
	if code != 200 || strings.Contains(body, "13800138000") || strings.Contains(body, "王小明") {
		t.Fatalf("another clerk's view: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints", hot, strings.NewReader(`{"caller_phone":"<b>1</b>","text":"x"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "caller_phone")
	// The caller names a sector: it goes there; an unknown sector or case
	// number is refused by field.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints", hot, strings.NewReader(`{"sector":"tax","text":"税务窗口中午无人"}`))
	if ts := decodeComplaint(t, code, body, 201); ts.Sector != "tax" || ts.Source != "hotline_12345" {
		t.Fatalf("hotline entry for a sector: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints", hot, strings.NewReader(`{"sector":"astrology","text":"x"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "sector")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints", hot, strings.NewReader(`{"case":"HM0000000000","text":"x"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "case")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/complaints/"+h.ID+"/decide", chief, strings.NewReader(`{"decision":"来电人无法联系，已核实空调修复。"}`))
	if h = decodeComplaint(t, code, body, 200); h.State != "closed" || h.ClosedBy != "supervisor" || h.Caller.Masked {
		t.Fatalf("decided: %s", body)
	}

	// A kiosk complaint by the card holder.
	k := registerKiosk(t, s, s.admin(t))
	k.skew = skew
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", aliceCard)
	if code != 201 {
		t.Fatalf("card session: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	json.Unmarshal([]byte(body), &cs)
	k.session = cs.Token
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/complaints", `{"center":"hm","text":"排队太久"}`)
	if kc := decodeComplaint(t, code, body, 201); kc.Source != "kiosk" {
		t.Fatalf("kiosk complaint: %s", body)
	}
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/consultations", `{"matter":"hm-gjj-loan","text":"贷款额度怎么算？"}`)
	if kt := decodeThread(t, code, body, 201); kt.Sector != "housing-fund" {
		t.Fatalf("kiosk question: %s", body)
	}
	k.session = ""
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/complaints", `{"center":"hm","text":"排队太久"}`)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
}

// Bad consultation and complaint settings stop the server at start,
// naming the setting.
func TestConsultConfig(t *testing.T) {
	for name, v := range map[string]string{
		"BANHAO_CONSULT_REPLY_DAYS": "0",
		"BANHAO_CONSULT_QUIET_DAYS": "forever",
		"BANHAO_COMPLAINT_DAYS":     "61",
		"BANHAO_WECHAT_API_URL":     "ftp://example.com",
	} {
		_, err := parseConfig(nil, func(k string) string {
			if k == name {
				return v
			}
			return ""
		}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, v, err)
		}
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"BANHAO_CONSULT_REPLY_DAYS": "2", "BANHAO_COMPLAINT_DAYS": "10"}[k]
	}, &bytes.Buffer{})
	if err != nil || cfg.Consult.ReplyDays != 2 || cfg.Consult.ComplaintDays != 10 || cfg.Consult.QuietDays != 7 {
		t.Errorf("parsed %+v, %v", cfg.Consult, err)
	}
}
