package main

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/review"
)

// TestBadReviewRectificationLoop is 好差评 end to end: a ticket taken
// with an ID card is served at a window and rated 非常不满意 on the
// window's evaluation pad; the rectification task goes through verify →
// rectify → 回访, and the citizen rates again at a kiosk. Bad ratings are
// refused with clear codes.
func TestBadReviewRectificationLoop(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	k := registerKiosk(t, s, admin)
	k.skew = skew

	// Alice takes a tax ticket and a business ticket with her card; a
	// walk-in takes a tax ticket after her.
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", aliceCard)
	if code != 201 {
		t.Fatalf("card: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	json.Unmarshal([]byte(body), &cs)
	take := func(sector string) string {
		t.Helper()
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"`+sector+`"}`)
		if code != 201 {
			t.Fatalf("take %s: %d %s", sector, code, body)
		}
		var tk struct{ ID string }
		json.Unmarshal([]byte(body), &tk)
		return tk.ID
	}
	k.session = cs.Token
	mine := take("tax")
	waiting := take("business")
	k.session = ""
	walkIn := take("tax")

	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	serve := func(want string) {
		t.Helper()
		code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("call: %d %s, want %s", code, body, want)
		}
		code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+want+"/complete", clerk,
			strings.NewReader(`{"matters":["hm-tax-invoice"]}`))
		if code != 200 {
			t.Fatalf("complete: %d %s", code, body)
		}
	}

	// The pad rates nothing before a ticket is served there.
	code, ctype, body := k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", `{"window":"`+w.ID+`","level":1}`)
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	serve(mine)
	// Completing the ticket invited Alice, with one reminder three days on.
	outbox := s.dlOutbox(t)
	inv, err := outbox.GetMessage(t.Context(), review.InviteMessageID(review.EventTicket, mine))
	if err != nil || inv.Kind != notify.KindReviewInvite || inv.To == "" {
		t.Fatalf("invitation: %+v, %v", inv, err)
	}
	rem, err := outbox.GetMessage(t.Context(), review.ReminderMessageID(review.EventTicket, mine))
	if err != nil || rem.NotBefore.Sub(inv.CreatedAt) < 72*time.Hour-time.Minute {
		t.Fatalf("reminder: %+v, %v", rem, err)
	}
	// On the pad: 非常不满意, with HTML in the comment, stored as text.
	comment := `<script>alert(1)</script>等了很久`
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", `{"window":"`+w.ID+`","level":1,"comment":"<script>alert(1)</script>等了很久","tags":["等候时间长"]}`)
	if code != 201 {
		t.Fatalf("pad rating: %d %s", code, body)
	}
	if strings.Contains(body, "<script>") {
		t.Errorf("the comment must come back escaped in JSON: %s", body)
	}
	var ev struct {
		EventID       string `json:"event_id"`
		Level         int    `json:"level"`
		LevelLabel    string `json:"level_label"`
		Comment       string `json:"comment"`
		Channel       string `json:"channel"`
		Rectification string `json:"rectification"`
		ReRatedFrom   int    `json:"re_rated_from"`
	}
	json.Unmarshal([]byte(body), &ev)
	if ev.EventID != mine || ev.Level != 1 || ev.LevelLabel != "非常不满意" || ev.Comment != comment || ev.Channel != "pad" || ev.Rectification == "" {
		t.Fatalf("pad rating: %+v", ev)
	}

	// Rated: the reminder is withdrawn.
	if rem, err := outbox.GetMessage(t.Context(), review.ReminderMessageID(review.EventTicket, mine)); err != nil || rem.Status != notify.StatusWithdrawn {
		t.Errorf("reminder after rating: %+v, %v", rem, err)
	}

	// Refusals, with Alice's card at the kiosk.
	k.session = cs.Token
	rate := func(body string) (int, string, string) {
		t.Helper()
		return k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", body)
	}
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":5}`)
	wantProblem(t, code, ctype, body, 409, "already_rated", "")
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", `{"window":"`+w.ID+`","level":5}`)
	wantProblem(t, code, ctype, body, 409, "already_rated", "")
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + waiting + `","level":3}`)
	wantProblem(t, code, ctype, body, 409, "event_not_finished", "")
	for _, lv := range []string{"0", "6"} {
		code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":` + lv + `}`)
		wantProblem(t, code, ctype, body, 400, "invalid_input", "level")
	}
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":3,"comment":"` + strings.Repeat("慢", 50_000) + `"}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "comment")
	serve(walkIn)
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + walkIn + `","level":3}`)
	wantProblem(t, code, ctype, body, 403, "not_your_event", "")
	code, ctype, body = rate(`{"event_kind":"case","event_id":"cs-none","level":3}`)
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	// The sector's staff work the task: verify → rectify → 回访.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/rectifications", clerk, nil)
	if code != 200 || !strings.Contains(body, ev.Rectification) || !strings.Contains(body, `"state":"verify"`) {
		t.Fatalf("rectifications: %d %s", code, body)
	}
	step := func(name, body, want string) {
		t.Helper()
		code, _, got := s.do(t, http.MethodPost, "/api/v1/staff/rectifications/"+ev.Rectification+"/"+name, clerk, strings.NewReader(body))
		if code != 200 || !strings.Contains(got, want) {
			t.Fatalf("%s: %d %s, want %s", name, code, got, want)
		}
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/rectifications/"+ev.Rectification+"/rectify", clerk, strings.NewReader(`{"note":"先整改"}`))
	wantProblem(t, code, ctype, body, 409, "task_state", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/rectifications/"+ev.Rectification+"/verify", clerk, strings.NewReader(`{"note":"查实"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "founded")
	step("verify", `{"founded":true,"note":"查实：叫号后等候过久"}`, `"state":"rectify"`)
	// Before the follow-up the citizen may not rate again.
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":4}`)
	wantProblem(t, code, ctype, body, 409, "already_rated", "")
	step("rectify", `{"note":"增开一个税务窗口"}`, `"state":"follow_up"`)
	step("follow-up", `{"note":"电话回访，群众表示认可"}`, `"state":"closed"`)

	// The citizen re-rates, once.
	code, _, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":4,"comment":"改进了"}`)
	if code != 201 {
		t.Fatalf("re-rate: %d %s", code, body)
	}
	json.Unmarshal([]byte(body), &ev)
	if ev.Level != 4 || ev.ReRatedFrom != 1 || ev.Channel != "pad" {
		t.Fatalf("re-rate: %+v", ev)
	}
	code, ctype, body = rate(`{"event_kind":"ticket","event_id":"` + mine + `","level":5}`)
	wantProblem(t, code, ctype, body, 409, "already_rated", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/rectifications/"+ev.Rectification, clerk, nil)
	if code != 200 || !strings.Contains(body, `"re_rate":4`) || !strings.Contains(body, `"action":"follow_up"`) {
		t.Fatalf("task after re-rate: %d %s", code, body)
	}

	// Citizens see only their own evaluations in the mini-program.
	alice := s.mpLogin(t, "alice")
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(`{"name":"张三丰","id_number":"`+aliceID+`"}`)); code != 200 {
		t.Fatalf("bind: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/evaluations", alice, nil)
	if code != 200 || !strings.Contains(body, mine) || strings.Count(body, `"event_id"`) != 1 {
		t.Fatalf("alice's evaluations: %d %s", code, body)
	}
	bob := s.mpLogin(t, "bob")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/evaluations", bob, nil)
	if code != 200 || strings.Contains(body, mine) {
		t.Fatalf("bob's evaluations: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/evaluations", bob, strings.NewReader(`{"event_kind":"ticket","event_id":"`+walkIn+`","level":5}`))
	wantProblem(t, code, ctype, body, 403, "not_your_event", "")

	// Satisfaction by window: one evaluation, now 满意.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/satisfaction?by=window", clerk, nil)
	if code != 200 || !strings.Contains(body, `"key":"`+w.ID+`"`) || !strings.Contains(body, `"rate":1`) {
		t.Fatalf("satisfaction: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/satisfaction?by=colour", clerk, nil)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "by")
}

// wantInvitedOnce checks that the outbox holds exactly one invitation to
// rate the event, to a citizen, with its one reminder, and returns it.
func wantInvitedOnce(t *testing.T, s *server, outbox notify.Store, kind review.EventKind, id string) notify.Message {
	t.Helper()
	inv, err := outbox.GetMessage(t.Context(), review.InviteMessageID(kind, id))
	if err != nil || inv.Kind != notify.KindReviewInvite || inv.To == "" || inv.Data["id"] != id || inv.Data["event"] != string(kind) {
		t.Fatalf("invitation to rate %s %s: %+v, %v", kind, id, inv, err)
	}
	if _, err := outbox.GetMessage(t.Context(), review.ReminderMessageID(kind, id)); err != nil {
		t.Fatalf("reminder to rate %s %s: %v", kind, id, err)
	}
	db, err := sql.Open("sqlite", filepath.Join(s.getenv("BANHAO_DATA_DIR"), "banhao.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM outbox WHERE kind = ? AND not_before <= created_at AND data LIKE ?`,
		string(notify.KindReviewInvite), `%"`+id+`"%`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d invitations to rate %s %s, want 1", n, kind, id)
	}
	return inv
}

// wantNotInvited checks that the outbox holds no invitation to rate the event.
func wantNotInvited(t *testing.T, outbox notify.Store, kind review.EventKind, id string) {
	t.Helper()
	if m, err := outbox.GetMessage(t.Context(), review.InviteMessageID(kind, id)); err == nil {
		t.Fatalf("invitation to rate %s %s before it finished: %+v", kind, id, m)
	}
}

// pendingList is the 待评价 list as the tests read it.
type pendingList struct {
	Items []struct {
		EventKind  string `json:"event_kind"`
		EventID    string `json:"event_id"`
		KindLabel  string `json:"kind_label"`
		Title      string `json:"title"`
		FinishedAt string `json:"finished_at"`
	} `json:"items"`
}

// keys lists the items as kind:id, in order.
func (p pendingList) keys() string {
	out := make([]string, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.EventKind + ":" + it.EventID
	}
	return strings.Join(out, ",")
}

func decodePending(t *testing.T, code int, body string) pendingList {
	t.Helper()
	if code != http.StatusOK {
		t.Fatalf("pending: %d %s", code, body)
	}
	var p pendingList
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("pending: %v %s", err, body)
	}
	return p
}

// TestPendingEvaluations is 待评价: a citizen's finished, unrated events
// of every kind, at a kiosk with the ID card and in the mini-program;
// another citizen's never listed; a rated event leaves the list.
func TestPendingEvaluations(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	aliceCardSession, bobCardSession := startCard(t, k, aliceCard), startCard(t, k, bobCard)
	take := func(session string) string {
		t.Helper()
		k.session = session
		defer func() { k.session = "" }()
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
		if code != 201 {
			t.Fatalf("take: %d %s", code, body)
		}
		var tk struct{ ID string }
		json.Unmarshal([]byte(body), &tk)
		return tk.ID
	}
	alicesTicket, bobsTicket, waiting := take(aliceCardSession), take(bobCardSession), ""
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	for _, id := range []string{alicesTicket, bobsTicket} {
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != 200 || !strings.Contains(body, id) {
			t.Fatalf("call: %d %s", code, body)
		}
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+id+"/complete", clerk,
			strings.NewReader(`{"matters":["hm-tax-invoice"]}`)); code != 200 {
			t.Fatalf("complete: %d %s", code, body)
		}
	}
	// Alice's next ticket is not served yet: not rateable.
	waiting = take(aliceCardSession)

	// Alice asks in the mini-program (bound to her real name); the
	// answer makes the consultation rateable.
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	s.bindRealName(t, alice, "张三丰", aliceID)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/consultations", alice, strings.NewReader(`{"center":"hm","text":"周六上班吗？"}`))
	th := decodeThread(t, code, body, 201)
	conv := s.createSectorStaff(t, "conv1", "clerk", "convenience")
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/consultations/"+th.ID+"/reply", conv, strings.NewReader(`{"text":"周六上午上班。"}`)); code != 200 {
		t.Fatalf("reply: %d %s", code, body)
	}

	kioskPending := func(session string) pendingList {
		t.Helper()
		k.session = session
		defer func() { k.session = "" }()
		code, _, body := k.do(t, http.MethodGet, "/api/v1/kiosk/evaluations/pending", "")
		return decodePending(t, code, body)
	}
	mpPending := func(token string) pendingList {
		t.Helper()
		code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/evaluations/pending", token, nil)
		return decodePending(t, code, body)
	}

	// At the kiosk, Alice's card: her served ticket and her answered
	// question (asked as herself by real name); newest first.
	p := kioskPending(aliceCardSession)
	if got, want := p.keys(), "consultation:"+th.ID+",ticket:"+alicesTicket; got != want {
		t.Fatalf("alice's pending at the kiosk %s, want %s", got, want)
	}
	if it := p.Items[1]; it.KindLabel != "窗口办理" || !strings.Contains(it.Title, "发票领用 · 排队号 ") || it.FinishedAt == "" {
		t.Fatalf("ticket item: %+v", it)
	}
	if it := p.Items[0]; it.KindLabel != "咨询" || !strings.Contains(it.Title, "周六上班吗") {
		t.Fatalf("consultation item: %+v", it)
	}
	for _, it := range p.Items {
		if it.EventID == bobsTicket || it.EventID == waiting {
			t.Fatalf("listed %s for alice", it.EventID)
		}
	}
	// The same in the mini-program; Bob sees none of it, his card only his ticket.
	if got := mpPending(alice).keys(); got != p.keys() {
		t.Fatalf("alice's pending in the mini-program %s, want %s", got, p.keys())
	}
	if got := mpPending(bob).keys(); got != "" {
		t.Fatalf("bob's pending in the mini-program: %s", got)
	}
	if got := kioskPending(bobCardSession).keys(); got != "ticket:"+bobsTicket {
		t.Fatalf("bob's pending at the kiosk: %s", got)
	}
	// Without a card: refused.
	code, ctype, body := k.do(t, http.MethodGet, "/api/v1/kiosk/evaluations/pending", "")
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")

	// Rating the ticket at the kiosk takes it off both lists.
	k.session = aliceCardSession
	if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", `{"event_kind":"ticket","event_id":"`+alicesTicket+`","level":5}`); code != 201 {
		t.Fatalf("rate: %d %s", code, body)
	}
	k.session = ""
	if got := kioskPending(aliceCardSession).keys(); got != "consultation:"+th.ID {
		t.Fatalf("alice's pending after rating: %s", got)
	}
	if got := mpPending(alice).keys(); got != "consultation:"+th.ID {
		t.Fatalf("alice's mini-program pending after rating: %s", got)
	}
}
