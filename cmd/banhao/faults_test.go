package main

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/printing/ipptest"
)

// TestStoreLockedByAnotherProcess runs the real server on SQLite while
// another process holds the database's write lock past the busy timeout:
// a write is answered 503 unavailable with Retry-After (not a 500),
// /readyz fails, and both recover by themselves once the lock is gone.
// (The MongoDB side, a store that goes away and comes back, is in
// internal/storetest, the only test binary with FerretDB.)
func TestStoreLockedByAnotherProcess(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, map[string]string{"BANHAO_DATA_DIR": dataDir, "BANHAO_REQUEST_TIMEOUT": "3s"})
	admin := s.admin(t)
	create := func(name string) (int, http.Header, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, s.URL+"/api/v1/staff/windows", strings.NewReader(`{"name":"`+name+`","sectors":["convenience"]}`))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+admin)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	ready := func() (int, string) {
		res, err := http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, res.Header.Get("Retry-After")
	}

	other, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "banhao.db")+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	code, h, body := create("1号窗口")
	wantProblem(t, code, h.Get("Content-Type"), body, 503, "unavailable", "")
	if h.Get("Retry-After") != "5" {
		t.Errorf("Retry-After %q, want 5", h.Get("Retry-After"))
	}
	if code, ra := ready(); code != 503 || ra != "5" {
		t.Errorf("/readyz while the store cannot write: %d Retry-After %q", code, ra)
	}

	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := ready(); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after the lock was released")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code, _, body := create("2号窗口"); code != http.StatusCreated {
		t.Errorf("write after the lock was released: %d %s", code, body)
	}
}

// TestWindowPrinterFaults: a window printer that drops the connection or
// hangs past the request's time gives 503 printer_unavailable, the job is
// recorded failed, and the certificate stays printable: once the printer
// works again the original prints, with no 正在打印中 left behind.
func TestWindowPrinterFaults(t *testing.T) {
	printer := ipptest.New()
	defer printer.Close()
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_WINDOW_PRINTERS"] = `{"出件窗口": "` + printer.URI() + `"}`
	env["BANHAO_REQUEST_TIMEOUT"] = "3s"
	s := startServer(t, env)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"出件窗口","sectors":["convenience"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		t.Fatal(err)
	}
	cert, _ := issueNoCrimeRecord(t, s)
	clerk := s.login(t, "clerk1", testPassword)
	s.signIn(t, clerk, w.ID)
	windowPrint := func() (int, string, string) {
		return s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/window-print", clerk, strings.NewReader(`{"window":"`+w.ID+`"}`))
	}

	printer.Drop(true)
	code, ctype, body := windowPrint()
	wantProblem(t, code, ctype, body, 503, "printer_unavailable", "")
	printer.Drop(false)

	printer.Stall(true)
	start := time.Now()
	code, ctype, body = windowPrint()
	wantProblem(t, code, ctype, body, 503, "printer_unavailable", "")
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("a hung printer held the request %s; the request timeout is 3 s", took)
	}
	printer.Stall(false)

	code, _, body = windowPrint()
	if code != http.StatusCreated || !strings.Contains(body, `"status":"printed"`) || !strings.Contains(body, `"copy":false`) {
		t.Fatalf("the original after the printer came back: %d %s", code, body)
	}
	if jobs := printer.Jobs(); len(jobs) != 1 {
		t.Errorf("the printer printed %d jobs, want 1", len(jobs))
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/certificates/"+cert+"/prints", clerk, nil)
	if code != 200 || strings.Count(body, `"status":"printed"`) != 1 || strings.Count(body, `"status":"failed"`) != 2 {
		t.Fatalf("print history: %d %s", code, body)
	}
}
