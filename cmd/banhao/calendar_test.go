package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestCalendarEdit has an administrator close the hall on a Thursday
// (临时闭馆) through the console API while the server runs on that very
// morning: the day's slots and tickets go at once.
func TestCalendarEdit(t *testing.T) {
	env, skew := devClock(t, "2026-11-26T09:00:00+08:00") // a Thursday
	s := startServer(t, env)
	admin := s.admin(t)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	slots := func() (int, string, []any, string) {
		t.Helper()
		code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/slots?center=hm&sector=tax&date=2026-11-26", alice, nil)
		var v struct {
			Closed string `json:"closed"`
			Items  []any  `json:"items"`
		}
		json.Unmarshal([]byte(body), &v)
		return code, v.Closed, v.Items, body
	}
	if code, closed, items, body := slots(); code != 200 || closed != "" || len(items) == 0 {
		t.Fatalf("Thursday's slots before the edit: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"tax"}`)); code != 201 {
		t.Fatalf("ticket before the edit: %d %s", code, body)
	}
	// Carol booked Thursday afternoon, and Friday morning.
	carol := s.mpLogin(t, "carol")
	s.bindRealName(t, carol, "张三丰", "371621198001010012")
	var thursday, friday apptView
	for _, b := range []struct {
		start string
		into  *apptView
	}{{"2026-11-26T15:00:00+08:00", &thursday}, {"2026-11-27T09:00:00+08:00", &friday}} {
		code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/appointments", carol, strings.NewReader(`{"center":"hm","sector":"tax","start":"`+b.start+`"}`))
		if code != 201 {
			t.Fatalf("book %s: %d %s", b.start, code, body)
		}
		json.Unmarshal([]byte(body), b.into)
	}

	// The shipped calendar is there, as version 1, for supervisors too.
	s.createStaff(t, "super", "supervisor")
	super := s.login(t, "super", testPassword)
	code, _, body := s.do(t, http.MethodGet, "/api/v1/staff/calendars", super, nil)
	if code != 200 || !strings.Contains(body, `"year":2026`) || !strings.Contains(body, `"version":1`) || !strings.Contains(body, `"updated_by":"seed"`) {
		t.Fatalf("list: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/calendars/2026", admin, nil)
	if code != 200 {
		t.Fatalf("get 2026: %d %s", code, body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	code, ctype, body := s.do(t, http.MethodGet, "/api/v1/staff/calendars/2031", admin, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	// edit returns the calendar as read, changed by change, as a PUT body.
	edit := func(change func(m map[string]any)) *bytes.Reader {
		t.Helper()
		b, _ := json.Marshal(doc)
		var m map[string]any
		json.Unmarshal(b, &m)
		change(m)
		b, _ = json.Marshal(m)
		return bytes.NewReader(b)
	}
	closeThursday := func(m map[string]any) {
		m["holidays"] = append(m["holidays"].([]any), map[string]any{"name": "临时闭馆", "from": "2026-11-26"})
	}

	// A clerk may neither read nor change the calendar.
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/calendars", clerk, nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodPut, "/api/v1/staff/calendars/2026", clerk, edit(closeThursday))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodPut, "/api/v1/staff/calendars/2026", super, edit(closeThursday))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")

	// Bad calendars are refused, naming the field.
	for _, tc := range []struct {
		name   string
		change func(m map[string]any)
		field  string
	}{
		{"make-up day on a weekday", func(m map[string]any) {
			m["makeup_days"].([]any)[0].(map[string]any)["date"] = "2026-01-05"
		}, "makeup_days[0].date"},
		{"hours not rising", func(m map[string]any) {
			m["hours"].(map[string]any)["tue"].(map[string]any)["lunch_start"] = "08:00"
		}, "hours.tue.lunch_start"},
		{"bad date", func(m map[string]any) {
			closeThursday(m)
			m["holidays"].([]any)[7].(map[string]any)["from"] = "2026-11-31"
		}, "holidays[7].from"},
		{"another year's page", func(m map[string]any) { m["year"] = 2027 }, "year"},
		{"no version", func(m map[string]any) { delete(m, "version") }, "version"},
		{"unknown field", func(m map[string]any) { m["holiday"] = []any{} }, "holiday"},
		{"wrong type", func(m map[string]any) {
			m["hours"].(map[string]any)["mon"].(map[string]any)["open"] = 8.5
		}, "hours.mon.open"},
	} {
		code, ctype, body := s.do(t, http.MethodPut, "/api/v1/staff/calendars/2026", admin, edit(tc.change))
		wantProblem(t, code, ctype, body, 400, "invalid_input", tc.field)
	}

	// The administrator closes Thursday.
	code, _, body = s.do(t, http.MethodPut, "/api/v1/staff/calendars/2026", admin, edit(closeThursday))
	if code != 200 || !strings.Contains(body, `"version":2`) || !strings.Contains(body, `"临时闭馆"`) || !strings.Contains(body, `"updated_by":"staff:`) {
		t.Fatalf("close Thursday: %d %s", code, body)
	}
	// An edit of the version that was current before is stale.
	code, ctype, body = s.do(t, http.MethodPut, "/api/v1/staff/calendars/2026", admin, edit(func(m map[string]any) {}))
	wantProblem(t, code, ctype, body, 409, "version_conflict", "")

	// Carol's Thursday appointment is cancelled by the center (and she is
	// told through the outbox); Friday's stands.
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/appointments/"+thursday.ID, carol, nil); code != 200 || !strings.Contains(body, `"status":"cancelled"`) {
		t.Errorf("appointment on the closed day: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/appointments/"+friday.ID, carol, nil); code != 200 || !strings.Contains(body, `"status":"booked"`) {
		t.Errorf("appointment on the next day: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/staff/audit?action=appointment.cancel", admin, nil); code != 200 || !strings.Contains(body, thursday.ID) || !strings.Contains(body, "临时闭馆") {
		t.Errorf("audit of the center's cancellation: %d %s", code, body)
	}

	// The day's slots are gone, with the reason; tickets are refused.
	if code, closed, items, body := slots(); code != 200 || closed != "临时闭馆" || len(items) != 0 {
		t.Fatalf("Thursday's slots after the edit: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/tickets", bob, strings.NewReader(`{"center":"hm","sector":"tax"}`))
	p := wantProblem(t, code, ctype, body, 409, "center_closed", "")
	if !strings.Contains(p.Detail, "11月27日 08:30") {
		t.Errorf("the refusal does not say when the hall opens again: %q", p.Detail)
	}
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"business"}`)
	wantProblem(t, code, ctype, body, 409, "center_closed", "")

	// Every version stays readable, and the edit is in the audit log.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/calendars/2026/versions/1", super, nil)
	if code != 200 || strings.Contains(body, "临时闭馆") || !strings.Contains(body, `"version":1`) {
		t.Fatalf("version 1: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/calendars/2026/versions/3", admin, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/audit?action=calendar.revise", admin, nil)
	if code != 200 || !strings.Contains(body, `"calendar:2026@2"`) {
		t.Fatalf("audit: %d %s", code, body)
	}
}
