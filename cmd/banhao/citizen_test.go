package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// mpLogin logs a mini-program user in with a development code.
func (s *server) mpLogin(t *testing.T, openid string) string {
	t.Helper()
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/login", "", strings.NewReader(`{"code":"dev:`+openid+`"}`))
	if code != http.StatusOK {
		t.Fatalf("mp login %s: %d %s", openid, code, body)
	}
	var l struct {
		Token   string `json:"token"`
		Citizen struct {
			Bound bool `json:"bound"`
		} `json:"citizen"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil || l.Token == "" {
		t.Fatalf("mp login: %v %s", err, body)
	}
	return l.Token
}

const (
	aliceID = "371621198001010012"
	bobID   = "37162119900215002X"
)

func TestMiniProgramRealNameBinding(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, map[string]string{"BANHAO_DEV": "true", "BANHAO_DATA_DIR": dataDir})
	alice := s.mpLogin(t, "alice")
	if again := s.mpLogin(t, "alice"); again == alice {
		t.Fatal("a second login returned the same token")
	}

	code, _, body := s.do(t, http.MethodGet, "/api/v1/mp/me", alice, nil)
	if code != 200 || !strings.Contains(body, `"bound":false`) {
		t.Fatalf("me before binding: %d %s", code, body)
	}

	bad := []struct{ name, body, field string }{
		{"wrong checksum", `{"name":"张三","id_number":"371621198001010013"}`, "id_number"},
		{"17 digits", `{"name":"张三","id_number":"37162119800101001"}`, "id_number"},
		{"full-width digits", `{"name":"张三","id_number":"３７１６２１１９８００１０１００１２"}`, "id_number"},
		{"impossible date", `{"name":"张三","id_number":"371621198002300012"}`, "id_number"},
		{"no name", `{"name":"","id_number":"` + aliceID + `"}`, "name"},
		{"operator injection", `{"name":"张三","id_number":{"$gt":""}}`, "id_number"},
		{"unknown field", `{"name":"张三","id_number":"` + aliceID + `","admin":true}`, "admin"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(tt.body))
			wantProblem(t, code, ctype, body, 400, "invalid_input", tt.field)
		})
	}

	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(`{"name":"张三丰","id_number":"`+aliceID+`"}`))
	if code != 200 {
		t.Fatalf("bind: %d %s", code, body)
	}
	if !strings.Contains(body, `"id_number_masked":"3716**********0012"`) || !strings.Contains(body, `"name_masked":"张**"`) {
		t.Errorf("binding answer is not masked as expected: %s", body)
	}
	if strings.Contains(body, aliceID) || strings.Contains(body, "张三丰") {
		t.Fatalf("binding answer shows personal data in full: %s", body)
	}

	// The same number from another WeChat account is refused, never moved.
	bob := s.mpLogin(t, "bob")
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", bob, strings.NewReader(`{"name":"李四","id_number":"`+aliceID+`"}`))
	wantProblem(t, code, ctype, body, 409, "id_number_bound", "")
	// A bound account cannot rebind to another number.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(`{"name":"李四","id_number":"`+bobID+`"}`))
	wantProblem(t, code, ctype, body, 409, "already_bound", "")
	// Lower-case x is accepted and normalised.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", bob, strings.NewReader(`{"name":"李四","id_number":"`+strings.ToLower(bobID)+`"}`))
	if code != 200 || !strings.Contains(body, `002X"`) {
		t.Fatalf("bind with lower-case x: %d %s", code, body)
	}

	// The citizen sees the use of their data, without staff identities.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/me/data-use", alice, nil)
	if code != 200 || !strings.Contains(body, `"action":"citizen.bind"`) || !strings.Contains(body, `"role_label":"本人"`) {
		t.Fatalf("data-use log: %d %s", code, body)
	}

	// Nothing personal is readable in the database file or the server log.
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"banhao.db", "banhao.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dataDir, f))
		if err != nil {
			continue
		}
		for _, secret := range []string{aliceID, bobID, "张三丰", "李四"} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in clear text", f, secret)
			}
		}
	}
	if info, err := os.Stat(filepath.Join(dataDir, "banhao.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("personal data key file: %v, mode %v, want 0600", err, info.Mode().Perm())
	}
	if strings.Contains(s.Stdout.String(), aliceID) {
		t.Error("the server log shows an ID number")
	}
}

func TestMiniProgramSessions(t *testing.T) {
	s := startServer(t, nil) // not development mode: no dev logins
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/mp/login", "", strings.NewReader(`{"code":"dev:alice"}`))
	wantProblem(t, code, ctype, body, 503, "unavailable", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/mp/me", "", nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/mp/me", "forged-token", nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")

	d := startServer(t, map[string]string{"BANHAO_DEV": "true"})
	tok := d.mpLogin(t, "carol")
	// A staff token is no citizen token, and the reverse.
	code, ctype, body = d.do(t, http.MethodGet, "/api/v1/staff/me", tok, nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	if code, _, _ := d.do(t, http.MethodPost, "/api/v1/mp/logout", tok, nil); code != 204 {
		t.Fatalf("logout: %d", code)
	}
	code, ctype, body = d.do(t, http.MethodGet, "/api/v1/mp/me", tok, nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
}

func TestStaffLookupShowsInDataUseLog(t *testing.T) {
	s := startServer(t, map[string]string{"BANHAO_DEV": "true"})
	alice := s.mpLogin(t, "alice")
	if code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/me/real-name", alice, strings.NewReader(`{"name":"张三丰","id_number":"`+aliceID+`"}`)); code != 200 {
		t.Fatalf("bind: %d %s", code, body)
	}
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/me/phone", alice, strings.NewReader(`{"code":"dev:+86 13800138000"}`))
	if code != 200 || !strings.Contains(body, `"phone_masked":"138****8000"`) || strings.Contains(body, "13800138000") {
		t.Fatalf("phone: %d %s", code, body)
	}
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/mp/me/phone", alice, strings.NewReader(`{"code":"dev:12345"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "code")

	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	lookup := "/api/v1/staff/citizens/lookup?id_number=" + aliceID + "&purpose=" + "%E7%AA%97%E5%8F%A3%E6%A0%B8%E9%AA%8C%E8%BA%AB%E4%BB%BD" // 窗口核验身份
	code, _, body = s.do(t, http.MethodGet, lookup, clerk, nil)
	if code != 200 || !strings.Contains(body, `"name":"张三丰"`) || strings.Contains(body, aliceID) || strings.Contains(body, "13800138000") {
		t.Fatalf("lookup: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/citizens/lookup?id_number="+aliceID, clerk, nil)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "purpose")
	code, ctype, body = s.do(t, http.MethodGet, lookup, s.admin(t), nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")

	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/me/data-use", alice, nil)
	if code != 200 || !strings.Contains(body, `"role_label":"窗口受理"`) || !strings.Contains(body, `"purpose":"窗口核验身份"`) || !strings.Contains(body, `"center":"hm"`) {
		t.Fatalf("data-use log does not show the clerk's lookup: %s", body)
	}
	if strings.Contains(body, "staff:") || strings.Contains(body, "测试clerk") {
		t.Fatalf("data-use log reveals the staff member: %s", body)
	}
}
