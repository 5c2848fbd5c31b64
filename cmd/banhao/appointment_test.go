package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// bindRealName binds a real name to the mini-program user with token.
func (s *server) bindRealName(t *testing.T, token, name, idNumber string) {
	t.Helper()
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", token, strings.NewReader(`{"name":"`+name+`","id_number":"`+idNumber+`"}`))
	if code != http.StatusOK {
		t.Fatalf("bind %s: %d %s", name, code, body)
	}
}

type apptView struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	Start      string `json:"start"`
	ReplacedBy string `json:"replaced_by"`
	Ticket     string `json:"ticket"`
}

// TestAppointments books, refuses, reschedules, cancels and checks in
// appointments through the mini-program and kiosk APIs on a Wednesday at
// 09:00, one citizen at a time as they would.
func TestAppointments(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	alice, bob, carol := s.mpLogin(t, "alice"), s.mpLogin(t, "bob"), s.mpLogin(t, "carol")
	book := func(token, sector, start string) (int, string, string) {
		t.Helper()
		return s.do(t, http.MethodPost, "/api/v1/mp/appointments", token, strings.NewReader(`{"center":"hm","sector":"`+sector+`","start":"`+start+`"}`))
	}
	const tomorrow9 = "2026-11-26T09:00:00+08:00"

	// Booking is by real name.
	code, ctype, body := book(alice, "tax", tomorrow9)
	wantProblem(t, code, ctype, body, 403, "real_name_required", "")
	s.bindRealName(t, alice, "张三丰", "371621198001010012")
	s.bindRealName(t, bob, "李四", "37162119900215002X")
	s.bindRealName(t, carol, "王五", "11010519491231002X")

	// Thursday: 08:30-12:00 and 13:30-17:30 in half hours; with no window
	// set up yet a slot has 2 places (one window × 30 min ÷ 15 min).
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/slots?center=hm&sector=tax&date=2026-11-26", alice, nil)
	var slots struct {
		Closed string `json:"closed"`
		Items  []struct {
			Start     string `json:"start"`
			Capacity  int    `json:"capacity"`
			Available int    `json:"available"`
			Open      bool   `json:"open"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(body), &slots)
	if code != 200 || len(slots.Items) != 15 || slots.Items[0].Start != "2026-11-26T08:30:00+08:00" || slots.Items[7].Start != "2026-11-26T13:30:00+08:00" ||
		slots.Items[1].Capacity != 2 || !slots.Items[1].Open {
		t.Fatalf("Thursday's slots: %d %s", code, body)
	}

	code, _, body = book(alice, "tax", tomorrow9)
	var a1 apptView
	json.Unmarshal([]byte(body), &a1)
	if code != 201 || a1.Status != "booked" || a1.Start != tomorrow9 {
		t.Fatalf("book: %d %s", code, body)
	}
	// One booking per person, sector and day; another sector is fine.
	code, ctype, body = book(alice, "tax", "2026-11-26T10:00:00+08:00")
	wantProblem(t, code, ctype, body, 409, "already_booked", "")
	if code, _, body := book(alice, "business", tomorrow9); code != 201 {
		t.Fatalf("book another sector: %d %s", code, body)
	}
	// Two places: bob takes the last, carol finds the slot full.
	if code, _, body := book(bob, "tax", tomorrow9); code != 201 {
		t.Fatalf("bob books: %d %s", code, body)
	}
	code, ctype, body = book(carol, "tax", tomorrow9)
	wantProblem(t, code, ctype, body, 409, "slot_full", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/slots?center=hm&sector=tax&date=2026-11-26", carol, nil)
	json.Unmarshal([]byte(body), &slots)
	if code != 200 || slots.Items[1].Available != 0 || slots.Items[1].Open {
		t.Fatalf("full slot still offered: %s", body)
	}
	// A supervisor or admin sets a slot's places; a clerk may not.
	admin := s.admin(t)
	capacity := func(token, body string) (int, string, string) {
		return s.do(t, http.MethodPut, "/api/v1/staff/slots/capacity", token, strings.NewReader(body))
	}
	s.createStaff(t, "clerk", "clerk")
	code, ctype, body = capacity(s.login(t, "clerk", testPassword), `{"sector":"tax","start":"`+tomorrow9+`","capacity":5}`)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = capacity(admin, `{"sector":"tax","start":"2026-11-26T12:30:00+08:00","capacity":5}`)
	wantProblem(t, code, ctype, body, 422, "slot_unavailable", "")
	if code, _, body := capacity(admin, `{"sector":"tax","start":"`+tomorrow9+`","capacity":1}`); code != 200 || !strings.Contains(body, `"capacity":1,"booked":2`) {
		t.Fatalf("lower the capacity below the bookings: %d %s", code, body)
	}
	code, ctype, body = book(carol, "tax", tomorrow9)
	wantProblem(t, code, ctype, body, 409, "slot_full", "")
	if code, _, body := capacity(admin, `{"sector":"tax","start":"`+tomorrow9+`","capacity":0}`); code != 200 || !strings.Contains(body, `"capacity":2`) {
		t.Fatalf("capacity back to the default: %d %s", code, body)
	}

	// Slots that cannot be booked, each with its own clear answer.
	for _, tt := range []struct {
		name, sector, start string
		status              int
		code                string
	}{
		{"started today", "tax", "2026-11-25T08:30:00+08:00", 422, "slot_unavailable"},
		{"Sunday", "tax", "2026-11-29T10:00:00+08:00", 422, "slot_unavailable"},
		{"beyond a week", "tax", "2026-12-09T10:00:00+08:00", 422, "slot_unavailable"},
		{"not a slot start", "tax", "2026-11-26T09:10:00+08:00", 422, "slot_unavailable"},
		{"lunch break", "tax", "2026-11-26T12:30:00+08:00", 422, "slot_unavailable"},
		{"unknown sector", "astrology", tomorrow9, 400, "invalid_input"},
	} {
		code, ctype, body := book(carol, tt.sector, tt.start)
		t.Run(tt.name, func(t *testing.T) { wantProblem(t, code, ctype, body, tt.status, tt.code, "") })
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/slots?center=hm&sector=tax&date=2026-11-29", carol, nil)
	if code != 200 || !strings.Contains(body, `"closed":"休息日"`) || !strings.Contains(body, `"items":[]`) {
		t.Fatalf("Sunday: %d %s", code, body)
	}

	// Rescheduling frees the old place at once: carol can have it.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/appointments/"+a1.ID+"/reschedule", alice, strings.NewReader(`{"start":"2026-11-26T10:00:00+08:00"}`))
	var a2 apptView
	json.Unmarshal([]byte(body), &a2)
	if code != 201 || a2.Status != "booked" || a2.Start != "2026-11-26T10:00:00+08:00" {
		t.Fatalf("reschedule: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/appointments/"+a1.ID, alice, nil); code != 200 || !strings.Contains(body, `"status":"rescheduled"`) || !strings.Contains(body, a2.ID) {
		t.Fatalf("old appointment after reschedule: %d %s", code, body)
	}
	if code, _, body := book(carol, "tax", tomorrow9); code != 201 {
		t.Fatalf("carol books the freed place: %d %s", code, body)
	}
	// A refused reschedule (to a full slot) keeps the booking.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/appointments/"+a2.ID+"/reschedule", alice, strings.NewReader(`{"start":"`+tomorrow9+`"}`))
	wantProblem(t, code, ctype, body, 409, "slot_full", "")
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/appointments/"+a2.ID, alice, nil); !strings.Contains(body, `"status":"booked"`) {
		t.Fatalf("booking after refused reschedule: %d %s", code, body)
	}

	// Someone else's appointment is not found, whatever they try.
	for _, path := range []string{"/api/v1/mp/appointments/" + a2.ID, "/api/v1/mp/appointments/" + a2.ID + "/cancel"} {
		method := http.MethodGet
		if strings.HasSuffix(path, "/cancel") {
			method = http.MethodPost
		}
		code, ctype, body := s.do(t, method, path, bob, nil)
		wantProblem(t, code, ctype, body, 404, "not_found", "")
	}
	// Cancel, once.
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/appointments/"+a2.ID+"/cancel", alice, nil); code != 200 || !strings.Contains(body, `"status":"cancelled"`) {
		t.Fatalf("cancel: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/appointments/"+a2.ID+"/cancel", alice, nil)
	wantProblem(t, code, ctype, body, 409, "appointment_state", "")

	// The list shows alice's appointments from today on, by start.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/appointments", alice, nil)
	var list struct{ Items []apptView }
	json.Unmarshal([]byte(body), &list)
	if code != 200 || len(list.Items) != 3 {
		t.Fatalf("list: %d %s", code, body)
	}

	// Check-in at the kiosk with the ID card: today's 09:30 appointment
	// opens for check-in at 09:00, and gives an appointment ticket.
	code, _, body = book(alice, "housing-fund", "2026-11-25T09:30:00+08:00")
	if code != 201 {
		t.Fatalf("book today: %d %s", code, body)
	}
	code, _, body = book(bob, "housing-fund", "2026-11-25T11:00:00+08:00")
	if code != 201 {
		t.Fatalf("bob books today: %d %s", code, body)
	}
	k := registerKiosk(t, s, admin)
	k.skew = skew
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/check-in", `{}`)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	insert := func(name, id string) {
		t.Helper()
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", `{"name":"`+name+`","id_number":"`+id+`","valid_from":"2020-01-01","valid_until":"长期"}`)
		var cs struct {
			Token string `json:"session_token"`
		}
		json.Unmarshal([]byte(body), &cs)
		if code != 201 || cs.Token == "" {
			t.Fatalf("card %s: %d %s", name, code, body)
		}
		k.session = cs.Token
	}
	insert("张三丰", "371621198001010012")
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/check-in", `{}`)
	var ci struct {
		Appointment string `json:"appointment"`
		Ticket      struct {
			ID       string `json:"id"`
			Number   string `json:"number"`
			Priority string `json:"priority"`
		} `json:"ticket"`
	}
	json.Unmarshal([]byte(body), &ci)
	if code != 201 || ci.Ticket.Priority != "appointment" || ci.Ticket.Number != "C001" {
		t.Fatalf("check-in: %d %s", code, body)
	}
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/check-in", `{}`)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/appointments/"+ci.Appointment, alice, nil); !strings.Contains(body, `"status":"checked_in"`) || !strings.Contains(body, ci.Ticket.ID) {
		t.Fatalf("checked-in appointment: %d %s", code, body)
	}
	// Bob's is at 11:00: too early, and he is told when to come back.
	insert("李四", "37162119900215002X")
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/check-in", `{}`)
	if p := wantProblem(t, code, ctype, body, 409, "checkin_too_early", ""); !strings.Contains(p.Detail, "10:30") {
		t.Errorf("too early says %q, want the time check-in opens", p.Detail)
	}
	// A walk-in is served after the appointment ticket.
	k.session = ""
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"housing-fund"}`)
	if code != 201 || !strings.Contains(body, `"ahead":1`) {
		t.Fatalf("walk-in after the appointment: %d %s", code, body)
	}
}
