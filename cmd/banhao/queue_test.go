package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// atWednesday9 starts the server's clock on a working Wednesday at 09:00
// in the center's time zone, when the hall is open.
const atWednesday9 = "2026-11-25T09:00:00+08:00"

// devClock returns the environment that starts a development server's
// clock at at, and the skew its kiosks need so their signatures match it.
func devClock(t testing.TB, at string) (map[string]string, time.Duration) {
	t.Helper()
	start, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"BANHAO_DEV": "true", "BANHAO_DEV_NOW": at}, time.Until(start)
}

func TestTicketsAndCalling(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["housing-fund","tax"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"2号窗口","sectors":["astrology"]}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "sectors[0]")

	k := registerKiosk(t, s, admin)
	k.skew = skew
	take := func(k *kioskClient, sector string) (int, map[string]any, string) {
		t.Helper()
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"`+sector+`"}`)
		var v map[string]any
		json.Unmarshal([]byte(body), &v)
		return code, v, body
	}
	// Two walk-ins: housing-fund is the third sector, so its letter is C.
	if code, v, body := take(k, "housing-fund"); code != 201 || v["number"] != "C001" || v["ahead"] != 0.0 || v["sector_name"] != "住房公积金" {
		t.Fatalf("first walk-in: %d %s", code, body)
	}
	if code, v, body := take(k, "housing-fund"); code != 201 || v["number"] != "C002" || v["ahead"] != 1.0 {
		t.Fatalf("second walk-in: %d %s", code, body)
	}
	// A 76-year-old with their ID card is served first.
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", `{"name":"王五","id_number":"11010519491231002X","valid_from":"2020-01-01","valid_until":"长期"}`)
	if code != 201 {
		t.Fatalf("card: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	json.Unmarshal([]byte(body), &cs)
	k.session = cs.Token
	if code, v, body := take(k, "housing-fund"); code != 201 || v["number"] != "C003" || v["priority"] != "elderly" || v["ahead"] != 0.0 {
		t.Fatalf("elderly card holder: %d %s", code, body)
	}
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`)
	wantProblem(t, code, ctype, body, 409, "active_ticket", "")
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"astrology"}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "sector")
	k.session = ""

	// Remote tickets from the mini-program are followed only by their owner.
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"tax"}`))
	var mine struct {
		ID     string `json:"id"`
		Number string `json:"number"`
	}
	json.Unmarshal([]byte(body), &mine)
	if code != 201 || mine.Number != "K001" {
		t.Fatalf("mp ticket: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/tickets/"+mine.ID, alice, nil); code != 200 || !strings.Contains(body, `"status":"waiting"`) {
		t.Fatalf("own ticket: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/mp/tickets/"+mine.ID, bob, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	// The refused look at another person's ticket is audited.
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/staff/audit?action=ticket.read", admin, nil); code != 200 ||
		!strings.Contains(body, `"outcome":"denied"`) || !strings.Contains(body, mine.ID) {
		t.Errorf("audit of the refused ticket read: %d %s", code, body)
	}

	// The clerk calls: the elderly holder first, then first come first served.
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	// A window nobody signed in to does not call.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	wantProblem(t, code, ctype, body, 409, "window_closed", "")
	s.signIn(t, clerk, w.ID)
	// Nor can a second clerk take it over, or call at it.
	s.createStaff(t, "clerk2", "clerk")
	clerk2 := s.login(t, "clerk2", testPassword)
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/sign-in", clerk2, nil)
	wantProblem(t, code, ctype, body, 409, "window_state", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk2, nil)
	wantProblem(t, code, ctype, body, 409, "window_closed", "")
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/tickets/"+mine.ID, alice, nil); code != 200 || !strings.Contains(body, `"windows":["1号窗口"]`) || !strings.Contains(body, `"wait_minutes":`) {
		t.Fatalf("waiting ticket names its windows and wait: %d %s", code, body)
	}
	var called []string
	for i := 0; i < 4; i++ {
		code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
		if code != 200 {
			t.Fatalf("call %d: %d %s", i, code, body)
		}
		var c struct {
			Number       string `json:"number"`
			Announcement string `json:"announcement"`
		}
		json.Unmarshal([]byte(body), &c)
		called = append(called, c.Number)
		if i == 0 && c.Announcement != "请C003号到1号窗口办理" {
			t.Errorf("announcement %q", c.Announcement)
		}
	}
	if got := strings.Join(called, ","); got != "C003,C001,C002,K001" {
		t.Fatalf("call order %s, want C003,C001,C002,K001", got)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	wantProblem(t, code, ctype, body, 404, "queue_empty", "")
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/tickets/"+mine.ID, alice, nil); !strings.Contains(body, `"status":"called"`) || !strings.Contains(body, `"window":"`) {
		t.Fatalf("called ticket: %d %s", code, body)
	}
	// Only clerks call.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", admin, nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	// Signed out, the window is closed; then the second clerk may sign in.
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/sign-out", clerk, nil); code != 200 || !strings.Contains(body, `"open":false`) {
		t.Fatalf("sign out: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	wantProblem(t, code, ctype, body, 409, "window_closed", "")
	s.signIn(t, clerk2, w.ID)
}

func TestNoTicketsOutsideOpeningHours(t *testing.T) {
	env, skew := devClock(t, "2026-10-01T10:00:00+08:00") // National Day
	s := startServer(t, env)
	k := registerKiosk(t, s, s.admin(t))
	k.skew = skew
	code, ctype, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
	p := wantProblem(t, code, ctype, body, 409, "center_closed", "")
	if !strings.Contains(p.Detail, "10月8日 08:30") {
		t.Errorf("the refusal does not say when the hall opens again: %q", p.Detail)
	}
	alice := s.mpLogin(t, "alice")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"tax"}`))
	wantProblem(t, code, ctype, body, 409, "center_closed", "")
}

func TestWindowActions(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	_, _, body = s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"4号窗口","sectors":["business"]}`))
	var other struct{ ID string }
	json.Unmarshal([]byte(body), &other)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	for i := 0; i < 3; i++ {
		if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`); code != 201 {
			t.Fatalf("take: %d %s", code, body)
		}
	}
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	s.signIn(t, clerk, other.ID)
	call := func(win string) string {
		t.Helper()
		code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+win+"/call-next", clerk, nil)
		if code != 200 {
			t.Fatalf("call: %d %s", code, body)
		}
		var c struct {
			TicketID string `json:"ticket_id"`
		}
		json.Unmarshal([]byte(body), &c)
		return c.TicketID
	}
	act := func(win, ticket, action, body string) (int, string, string) {
		var r *strings.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		if r == nil {
			return s.do(t, http.MethodPost, "/api/v1/staff/windows/"+win+"/tickets/"+ticket+"/"+action, clerk, nil)
		}
		return s.do(t, http.MethodPost, "/api/v1/staff/windows/"+win+"/tickets/"+ticket+"/"+action, clerk, r)
	}

	first := call(w.ID)
	// Recalls count up; a third recall after three calls marks the ticket missed.
	for i, want := range []string{`"calls":2`, `"calls":3`, `"status":"missed"`} {
		if code, _, body := act(w.ID, first, "recall", ""); code != 200 || !strings.Contains(body, want) {
			t.Fatalf("recall %d: %d %s, want %s", i+1, code, body, want)
		}
	}
	code, ctype, body := act(w.ID, first, "complete", "")
	wantProblem(t, code, ctype, body, 409, "ticket_state", "")

	second := call(w.ID)
	// Another window cannot act on it.
	code, ctype, body = act(other.ID, second, "complete", "")
	wantProblem(t, code, ctype, body, 409, "ticket_state", "")
	if code, _, body := act(w.ID, second, "park", ""); code != 200 || !strings.Contains(body, `"status":"parked"`) {
		t.Fatalf("park: %d %s", code, body)
	}
	if code, _, body := act(w.ID, second, "resume", ""); code != 200 || !strings.Contains(body, `"status":"called"`) {
		t.Fatalf("resume: %d %s", code, body)
	}
	// Completing records the matters the visit served: known matters of
	// the center only.
	code, ctype, body = act(w.ID, second, "complete", `{"matters":["hm-tax-invoice","no-such-matter"]}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "matters[1]")
	if code, _, body := act(w.ID, second, "complete", `{"matters":["hm-tax-invoice","hm-tax-clearance"]}`); code != 200 ||
		!strings.Contains(body, `"status":"done"`) || !strings.Contains(body, `"matters":["hm-tax-invoice","hm-tax-clearance"]`) {
		t.Fatalf("complete: %d %s", code, body)
	}

	// A transfer keeps the take time: the ticket is first in the new sector.
	third := call(w.ID)
	code, ctype, body = act(w.ID, third, "transfer", `{"sector":"astrology"}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "sector")
	if code, _, body := act(w.ID, third, "transfer", `{"sector":"business"}`); code != 200 || !strings.Contains(body, `"status":"waiting"`) || !strings.Contains(body, `"sector":"business"`) {
		t.Fatalf("transfer: %d %s", code, body)
	}
	if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"business"}`); code != 201 {
		t.Fatalf("take business: %d %s", code, body)
	}
	if got := call(other.ID); got != third {
		t.Fatalf("the business window called %s, want the transferred ticket %s first", got, third)
	}
	code, ctype, body = act(w.ID, "tk-nope", "complete", "")
	wantProblem(t, code, ctype, body, 404, "not_found", "")
}

// A bound citizen holds one active ticket per sector whether it was taken
// in the mini-program or with their ID card at a kiosk.
func TestOneActiveTicketAcrossChannels(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	alice := s.mpLogin(t, "alice")
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(`{"name":"张三丰","id_number":"`+aliceID+`"}`)); code != 200 {
		t.Fatalf("bind: %d %s", code, body)
	}
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"tax"}`))
	if code != 201 {
		t.Fatalf("mp ticket: %d %s", code, body)
	}
	var mine struct{ ID string }
	json.Unmarshal([]byte(body), &mine)
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/tickets/"+mine.ID, alice, nil); code != 200 {
		t.Fatalf("own ticket after binding: %d %s", code, body)
	}
	k := registerKiosk(t, s, s.admin(t))
	k.skew = skew
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", aliceCard)
	if code != 201 {
		t.Fatalf("card: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	json.Unmarshal([]byte(body), &cs)
	k.session = cs.Token
	code, ctype, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
	wantProblem(t, code, ctype, body, 409, "active_ticket", "")
}

// A transfer must not give a person a second active ticket in the target sector.
func TestTransferKeepsOneActiveTicket(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	alice := s.mpLogin(t, "alice")
	for _, sector := range []string{"tax", "business"} {
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"`+sector+`"}`)); code != 201 {
			t.Fatalf("take %s: %d %s", sector, code, body)
		}
	}
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	if code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	var c struct {
		TicketID string `json:"ticket_id"`
	}
	json.Unmarshal([]byte(body), &c)
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+c.TicketID+"/transfer", clerk, strings.NewReader(`{"sector":"business"}`))
	wantProblem(t, code, ctype, body, 409, "active_ticket", "")
	// Nothing changed: the ticket is still called at the window and can be completed.
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+c.TicketID+"/complete", clerk, nil); code != 200 {
		t.Fatalf("complete after refused transfer: %d %s", code, body)
	}
}

// signIn signs the clerk with token in to window id.
func (s *server) signIn(t testing.TB, token, id string) {
	t.Helper()
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+id+"/sign-in", token, nil); code != http.StatusOK || !strings.Contains(body, `"mine":true`) {
		t.Fatalf("sign in to window %s: %d %s", id, code, body)
	}
}

// A walk-in who missed their call puts the ticket back in line at a kiosk, once.
func TestKioskReactivatesMissedTicket(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	for range 2 {
		if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`); code != 201 {
			t.Fatalf("take: %d %s", code, body)
		}
	}
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	var c struct {
		TicketID string `json:"ticket_id"`
		Number   string `json:"number"`
	}
	json.Unmarshal([]byte(body), &c)
	if code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+c.TicketID+"/no-show", clerk, nil); code != 200 || !strings.Contains(body, `"status":"missed"`) {
		t.Fatalf("no-show: %d %s", code, body)
	}
	code, ctype, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets/reactivate", `{"number":""}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "number")
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets/reactivate", `{"number":"`+c.Number+`"}`)
	if code != 200 || !strings.Contains(body, `"number":"`+c.Number+`"`) || !strings.Contains(body, `"status":"waiting"`) || !strings.Contains(body, `"ahead":1`) {
		t.Fatalf("reactivate: %d %s", code, body)
	}
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets/reactivate", `{"number":"`+c.Number+`"}`)
	wantProblem(t, code, ctype, body, 409, "already_reactivated", "")
}
