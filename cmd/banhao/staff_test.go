package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func loginBody(user, pw string) *strings.Reader {
	return strings.NewReader(fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw))
}

// auditActions returns the actions and outcomes in the center's audit log.
func auditActions(t *testing.T, s *server, token string) string {
	t.Helper()
	code, _, body := s.do(t, http.MethodGet, "/api/v1/staff/audit?limit=500", token, nil)
	if code != http.StatusOK {
		t.Fatalf("audit: %d %s", code, body)
	}
	var l struct {
		Items []struct {
			Actor   string `json:"actor"`
			Action  string `json:"action"`
			Outcome string `json:"outcome"`
			Target  string `json:"target"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range l.Items {
		fmt.Fprintf(&b, "%s %s %s %s\n", r.Actor, r.Action, r.Outcome, r.Target)
	}
	return b.String()
}

func TestStaffLoginAndLockout(t *testing.T) {
	s := startServer(t, nil)
	admin := s.admin(t)
	s.createStaff(t, "clerk1", "clerk")

	// A wrong password and an unknown user get the same answer.
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody("clerk1", "wrong-password-1"))
	p1 := wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody("nobody", "wrong-password-1"))
	p2 := wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	if p1.Detail != p2.Detail {
		t.Errorf("unknown user (%q) and wrong password (%q) are told apart", p2.Detail, p1.Detail)
	}
	// Four more failures lock the account, even for the right password.
	for i := 0; i < 4; i++ {
		s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody("clerk1", "wrong-password-1"))
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/staff/login", loginBody("clerk1", testPassword))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("locked account: status %d Retry-After %q, want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	log := auditActions(t, s, admin)
	if strings.Count(log, " login failed") < 5 || !strings.Contains(log, " login denied") {
		t.Errorf("failed and refused logins are not all audited:\n%s", log)
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	s := startServer(t, map[string]string{"BANHAO_LOGINS_PER_MINUTE": "3"})
	for i := 0; i < 3; i++ {
		s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody(fmt.Sprintf("user%d", i), "wrong-password-1"))
	}
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody("user9", "wrong-password-1"))
	wantProblem(t, code, ctype, body, 429, "too_many_requests", "")
}

func TestStaffSessionsRolesAndCSRF(t *testing.T) {
	s := startServer(t, nil)
	admin := s.admin(t)

	// An administrator opens a clerk account; the clerk logs in.
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/accounts", admin,
		strings.NewReader(`{"username":"clerk2","name":"王窗口","roles":["clerk"],"sectors":["housing-fund"],"password":"`+testPassword+`"}`))
	if code != http.StatusCreated || strings.Contains(body, "password") {
		t.Fatalf("create clerk: %d %s", code, body)
	}
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/accounts", admin,
		strings.NewReader(`{"username":"clerk3","name":"李","roles":["clerk"],"password":"short"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "password")
	clerk := s.login(t, "clerk2", testPassword)

	// The clerk may not administer the catalog or accounts; refusals are audited.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/matters/hm-gjj-loan/retire", clerk, strings.NewReader(`{"version":1}`))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/accounts", clerk, nil)
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	if log := auditActions(t, s, admin); !strings.Contains(log, "permission_denied denied") || !strings.Contains(log, "staff.create ok staff:") {
		t.Errorf("audit log lacks the refusal or the account creation:\n%s", log)
	}

	// A browser session: the cookie is HttpOnly and SameSite=Strict, and a
	// change without the CSRF token is refused.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/staff/login", loginBody("clerk2", testPassword))
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var sessionCookie, csrf *http.Cookie
	for _, c := range res.Cookies() {
		switch c.Name {
		case "banhao_staff":
			sessionCookie = c
		case "banhao_csrf":
			csrf = c
		}
	}
	if sessionCookie == nil || csrf == nil || !sessionCookie.HttpOnly || sessionCookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("login cookies: %v", res.Header.Values("Set-Cookie"))
	}
	withCookie := func(method, path, csrfToken string) int {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(sessionCookie)
		if csrfToken != "" {
			req.Header.Set("X-CSRF-Token", csrfToken)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := withCookie(http.MethodGet, "/api/v1/staff/me", ""); got != 200 {
		t.Fatalf("GET me with the cookie: %d", got)
	}
	if got := withCookie(http.MethodPost, "/api/v1/staff/logout", ""); got != 403 {
		t.Fatalf("logout by cookie without CSRF token: %d, want 403", got)
	}
	if got := withCookie(http.MethodPost, "/api/v1/staff/logout", csrf.Value); got != 204 {
		t.Fatalf("logout by cookie with CSRF token: %d, want 204", got)
	}
	if got := withCookie(http.MethodGet, "/api/v1/staff/me", ""); got != 401 {
		t.Fatalf("GET me after logout: %d, want 401", got)
	}

	// Changing the password ends the other sessions.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/password", clerk,
		strings.NewReader(`{"old_password":"`+testPassword+`","new_password":"another-horse-77"}`))
	if code != http.StatusNoContent {
		t.Fatalf("change password: %d %s", code, body)
	}
	if code, _, _ := s.get(t, "/api/v1/staff/me"); code != 401 {
		t.Fatalf("anonymous me: %d", code)
	}
	if code, _, _ := s.do(t, http.MethodGet, "/api/v1/staff/me", clerk, nil); code != 401 {
		t.Fatalf("old session after password change: %d, want 401", code)
	}
	s.login(t, "clerk2", "another-horse-77")
}

func TestAdminCommandLine(t *testing.T) {
	s := startServer(t, nil)
	var out strings.Builder
	err := run(t.Context(), []string{"admin", "create", "-username", "boss", "-center", "hm"}, s.getenv, &out)
	if err != nil {
		t.Fatalf("admin create: %v\n%s", err, out.String())
	}
	pw := ""
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "password: "); ok {
			pw = v
		}
	}
	if len(pw) < 10 {
		t.Fatalf("no generated password printed:\n%s", out.String())
	}
	s.login(t, "boss", pw)
	for name, args := range map[string][]string{
		"duplicate username": {"admin", "create", "-username", "boss", "-center", "hm"},
		"unknown center":     {"admin", "create", "-username", "boss2", "-center", "atlantis"},
		"missing center":     {"admin", "create", "-username", "boss3"},
		"bad role":           {"admin", "create", "-username", "boss4", "-center", "hm", "-roles", "king"},
	} {
		if err := run(t.Context(), args, s.getenv, &strings.Builder{}); err == nil {
			t.Errorf("%s: admin create succeeded", name)
		}
	}
}

func TestDevModeCreatesDemoAdmin(t *testing.T) {
	s := startServer(t, map[string]string{"BANHAO_DEV": "true"})
	line := ""
	for _, l := range strings.Split(s.Stdout.String(), "\n") {
		if strings.Contains(l, `administrator "admin"`) {
			line = l
		}
	}
	_, pw, ok := strings.Cut(line, "with password ")
	pw, _, _ = strings.Cut(pw, " ")
	if !ok || pw == "" {
		t.Fatalf("development start did not print the demo administrator:\n%s", s.Stdout.String())
	}
	s.login(t, "admin", pw)
}

func TestCourierAccounts(t *testing.T) {
	s := startServer(t, nil)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/couriers", admin,
		strings.NewReader(`{"username":"courier1","name":"赵师傅","company":"中国邮政EMS","password":"`+testPassword+`"}`))
	if code != http.StatusCreated || !strings.Contains(body, `"company":"中国邮政EMS"`) {
		t.Fatalf("create courier: %d %s", code, body)
	}
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/couriers", admin,
		strings.NewReader(`{"username":"courier2","name":"钱师傅","company":"","password":"`+testPassword+`"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "company")

	// A courier logs in at the courier entrance only.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/login", "", loginBody("courier1", testPassword))
	if code != 200 {
		t.Fatalf("courier login: %d %s", code, body)
	}
	var l struct {
		Token string `json:"token"`
	}
	json.Unmarshal([]byte(body), &l)
	if code, _, body := s.do(t, http.MethodGet, "/api/v1/courier/me", l.Token, nil); code != 200 || !strings.Contains(body, "赵师傅") {
		t.Fatalf("courier me: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/me", l.Token, nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/login", "", loginBody("courier1", testPassword))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	// And staff do not log in at the courier entrance.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/login", "", loginBody("testadmin", testPassword))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/courier/me", admin, nil)
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
}
