package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// TestMonthlyReportExcel serves a ticket, rates it 非常不满意 on the pad,
// and downloads the month's and the day's reports: the workbook shows
// the ticket, the bad review and its open rectification under the sector.
func TestMonthlyReportExcel(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	_, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"3号窗口","sectors":["tax"]}`))
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`)
	if code != 201 {
		t.Fatalf("take: %d %s", code, body)
	}
	var tk struct{ ID string }
	json.Unmarshal([]byte(body), &tk)
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+tk.ID+"/complete", clerk,
		strings.NewReader(`{"matters":["hm-tax-invoice"]}`)); code != 200 {
		t.Fatalf("complete: %d %s", code, body)
	}
	if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/evaluations", `{"window":"`+w.ID+`","level":1}`); code != 201 {
		t.Fatalf("pad rating: %d %s", code, body)
	}

	s.createStaff(t, "super", "supervisor")
	super := s.login(t, "super", testPassword)
	code, ctype, body := s.do(t, http.MethodGet, "/api/v1/staff/reports/monthly.xlsx", clerk, nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/reports/monthly.xlsx?month=2026-13", super, nil)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "")

	for _, c := range []struct{ path, sheetRow string }{
		{"/api/v1/staff/reports/monthly.xlsx?month=2026-11", "A2"},
		{"/api/v1/staff/reports/daily.xlsx?date=2026-11-25", "A2"},
	} {
		code, ctype, body = s.do(t, http.MethodGet, c.path, super, nil)
		if code != 200 || !strings.HasPrefix(ctype, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
			t.Fatalf("%s: %d %s", c.path, code, ctype)
		}
		f, err := excelize.OpenReader(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		rows, err := f.GetRows("按板块")
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		// 板块, 取号数, 已办结号数, ..., 评价数, 差评数, 整改中.
		if len(rows) < 2 || rows[0][0] != "板块" || rows[0][9] != "差评数" || rows[1][0] != "tax" ||
			rows[1][1] != "1" || rows[1][2] != "1" || rows[1][8] != "1" || rows[1][9] != "1" || rows[1][10] != "1" {
			t.Errorf("%s: 按板块 = %q", c.path, rows)
		}
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/reports/spot-check?week=2026-W48", super, nil)
	if code != 200 || !strings.Contains(body, `"kind":"ticket"`) || !strings.Contains(body, tk.ID) {
		t.Errorf("spot check: %d %s", code, body)
	}

	// 周抽查: the supervisor marks the served ticket 有问题; a clerk may not.
	mark := `{"week":"2026-W48","kind":"ticket","id":"` + tk.ID + `","verdict":"problem","note":"未一次告知所需材料"}`
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/reports/spot-check/marks", clerk, strings.NewReader(mark))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/reports/spot-check/marks", super,
		strings.NewReader(`{"week":"2026-W48","kind":"ticket","id":"`+tk.ID+`","verdict":"bad"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "verdict")
	// An item the week did not draw cannot be marked.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/reports/spot-check/marks", super,
		strings.NewReader(`{"week":"2026-W47","kind":"ticket","id":"`+tk.ID+`","verdict":"ok"}`))
	wantProblem(t, code, ctype, body, 422, "not_in_sample", "")
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/reports/spot-check/marks", super, strings.NewReader(mark)); code != 200 {
		t.Fatalf("mark: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/reports/spot-check?week=2026-W48", super, nil)
	var sc struct {
		Items []struct {
			ID   string
			Mark *struct{ Verdict, Note, By string }
		}
	}
	if err := json.Unmarshal([]byte(body), &sc); code != 200 || err != nil {
		t.Fatalf("spot check: %d %v %s", code, err, body)
	}
	for _, it := range sc.Items {
		if it.ID == tk.ID && (it.Mark == nil || it.Mark.Verdict != "problem" || it.Mark.Note != "未一次告知所需材料" || it.Mark.By == "") {
			t.Errorf("mark of %s: %+v", tk.ID, it.Mark)
		}
	}
}
