package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer collects the server's stdout while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a banhao started by run() for a test.
type server struct {
	URL    string
	Stdout *syncBuffer
	stop   func() error
	getenv func(string) string

	adminOnce  sync.Once
	adminToken string
}

// testPassword is the password of the accounts tests create.
const testPassword = "correct-horse-42"

// createStaff opens an account through the command line, as an operator
// would on a fresh deployment.
func (s *server) createStaff(t testing.TB, username, roles string) {
	t.Helper()
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "create", "-username", username, "-center", "hm", "-name", "测试" + username, "-roles", roles, "-password-file", pw}, s.getenv, &out)
	if err != nil {
		t.Fatalf("admin create %s: %v\n%s", username, err, out.String())
	}
}

// login logs a staff member in and returns the bearer token.
func (s *server) login(t testing.TB, username, password string) string {
	t.Helper()
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, username, password)
	code, _, resp := s.do(t, http.MethodPost, "/api/v1/staff/login", "", strings.NewReader(body))
	if code != http.StatusOK {
		t.Fatalf("login %s: %d %s", username, code, resp)
	}
	var l struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(resp), &l); err != nil || l.Token == "" {
		t.Fatalf("login %s: %v %s", username, err, resp)
	}
	return l.Token
}

// admin returns the token of an administrator of center hm, creating the
// account on first use.
func (s *server) admin(t testing.TB) string {
	t.Helper()
	s.adminOnce.Do(func() {
		s.createStaff(t, "testadmin", "admin")
		s.adminToken = s.login(t, "testadmin", testPassword)
	})
	return s.adminToken
}

var listenLine = regexp.MustCompile(`banhao listening on (http://\S+)`)

// startServer runs the real server on port 0 with a fresh data folder and
// the demo catalog, waits until /healthz answers, and stops it at cleanup.
// env adds or overrides BANHAO_* settings.
func startServer(t testing.TB, env map[string]string) *server {
	t.Helper()
	vars := map[string]string{
		"BANHAO_ADDR":     "127.0.0.1:0",
		"BANHAO_DATA_DIR": filepath.Join(t.TempDir(), "data"),
		// Everything is logged, so that checkLogs sees every line.
		"BANHAO_LOG_LEVEL": "debug",
	}
	for k, v := range env {
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, getenv, out) }()
	s := &server{Stdout: out, getenv: getenv}
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = context.DeadlineExceeded
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("server stopped with error: %v", err)
		}
		checkLogs(t, out.String())
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\n%s", err, out.String())
		default:
		}
		if m := listenLine.FindStringSubmatch(out.String()); m != nil && s.URL == "" {
			s.URL = m[1]
		}
		if s.URL != "" {
			if res, err := http.Get(s.URL + "/healthz"); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return s
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server did not become healthy:\n%s", out.String())
	return nil
}

// get fetches a path and returns status, content type and body.
func (s *server) get(t testing.TB, path string) (int, string, string) {
	t.Helper()
	return s.do(t, http.MethodGet, path, "", nil)
}

func (s *server) do(t testing.TB, method, path, token string, body io.Reader) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func TestRunServesAndShutsDown(t *testing.T) {
	s := startServer(t, nil)
	for _, want := range []string{"/kiosk/", "/openapi.json", "/healthz"} {
		if !strings.Contains(s.Stdout.String(), s.URL+want) {
			t.Errorf("startup output does not show %s:\n%s", want, s.Stdout.String())
		}
	}
	if code, _, body := s.get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	s.get(t, "/api/v1/matters/hm-gjj-loan")
	s.get(t, "/api/v1/matters/no-such-matter")
	s.get(t, "/wp-admin/setup.php")
	code, _, metrics := s.get(t, "/metrics")
	if strings.Contains(metrics, "wp-admin") {
		t.Error("/metrics labels a request by its raw unknown path")
	}
	for _, want := range []string{
		`banhao_http_requests_total{method="GET",route="/api/v1/matters/:code",status="200"} 1`,
		`banhao_http_requests_total{method="GET",route="/api/v1/matters/:code",status="404"} 1`,
		`banhao_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`banhao_outbox_messages{status="pending"} 0`,
		"go_goroutines",
	} {
		if code != 200 || !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if err := s.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := http.Get(s.URL + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	tests := map[string]map[string]string{
		"synchronous":            {"BANHAO_SQLITE_SYNCHRONOUS": "OFF"},
		"body limit":             {"BANHAO_BODY_LIMIT": "lots"},
		"timeout":                {"BANHAO_REQUEST_TIMEOUT": "-1s"},
		"login limit":            {"BANHAO_LOGINS_PER_MINUTE": "0"},
		"mongo scheme":           {"BANHAO_MONGODB_URI": "http://example"},
		"mongo status reads":     {"BANHAO_MONGODB_STATUS_READS": "secondary-ish"},
		"missing file":           {"BANHAO_MONGODB_URI_FILE": "/nonexistent/uri"},
		"mongo without key":      {"BANHAO_MONGODB_URI": "mongodb://127.0.0.1:1"},
		"wechat half-configured": {"BANHAO_WECHAT_APPID": "wx123"},
		"log level":              {"BANHAO_LOG_LEVEL": "loud"},
		"boolean":                {"BANHAO_SEED": "perhaps"},
		"templates not JSON":     {"BANHAO_WECHAT_TEMPLATES": "queue_call=abc"},
		"max calls":              {"BANHAO_MAX_CALLS": "0"},
		"slot length":            {"BANHAO_SLOT_LENGTH": "7m"},
		"no-show window":         {"BANHAO_NO_SHOW_WINDOW": "-24h"},
		"template of no kind":    {"BANHAO_WECHAT_TEMPLATES": `{"lottery": {"id": "t1"}}`},
		"template without id":    {"BANHAO_WECHAT_TEMPLATES": `{"queue_call": {"fields": {"number": "character_string1"}}}`},
	}
	for name, env := range tests {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"BANHAO_ADDR": "127.0.0.1:0", "BANHAO_DATA_DIR": t.TempDir()}
			for k, v := range env {
				vars[k] = v
			}
			var out bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, &out)
			if err == nil || !strings.Contains(err.Error(), "configuration") {
				t.Fatalf("run = %v, want a configuration error", err)
			}
		})
	}
}

func TestSecretFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "uri")
	if err := os.WriteFile(path, []byte("mongodb://db.example:27017/?replicaSet=rs0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyPath, []byte("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	signingPath := filepath.Join(t.TempDir(), "signing")
	if err := os.WriteFile(signingPath, []byte("k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseConfig(nil, func(k string) string {
		return map[string]string{"BANHAO_MONGODB_URI_FILE": path, "BANHAO_DATA_KEY_FILE": keyPath, "BANHAO_SIGNING_KEYS_FILE": signingPath}[k]
	}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MongoURI != "mongodb://db.example:27017/?replicaSet=rs0" {
		t.Fatalf("URI = %q", cfg.MongoURI)
	}
	if cfg.SigningKeys != "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" {
		t.Fatalf("signing keys = %q", cfg.SigningKeys)
	}
}

// An administrator's edit must survive a restart: the demo catalog is
// loaded into an empty store only, never over existing data.
func TestRestartKeepsEdits(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	env := map[string]string{"BANHAO_DATA_DIR": dir}
	s := startServer(t, env)
	_, _, body := s.get(t, "/api/v1/matters/hm-gjj-loan")
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "kind_label")
	delete(m, "updated_at")
	m["promised_days"] = 2
	edit, _ := json.Marshal(m)
	code, _, body := s.do(t, http.MethodPut, "/api/v1/staff/matters/hm-gjj-loan", s.admin(t), bytes.NewReader(edit))
	if code != http.StatusOK {
		t.Fatalf("edit: %d %s", code, body)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	s = startServer(t, env)
	_, _, body = s.get(t, "/api/v1/matters/hm-gjj-loan")
	if !strings.Contains(body, `"promised_days":2`) || !strings.Contains(body, `"version":2`) {
		t.Fatalf("after restart the edit is gone: %s", body)
	}
	_, _, body = s.get(t, "/api/v1/matters?q=gjj")
	if !strings.Contains(body, "hm-gjj-loan") {
		t.Fatalf("after restart search does not find the matter: %s", body)
	}
}

// personalData are the ID numbers and phone numbers the tests use; none
// may ever reach a log line, in any spelling.
var personalData = []string{
	aliceID, bobID, strings.ToLower(bobID), "11010519491231002X", "371621198001010013", "371621198002300012",
	"13800138000", "13900139000",
}

// checkLogs fails the test if the server's output (its logs at debug
// level, access logs included) holds personal data.
func checkLogs(t testing.TB, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		for _, pd := range personalData {
			if strings.Contains(line, pd) || strings.Contains(line, url.QueryEscape(pd)) {
				t.Errorf("personal data %s…%s in the server log: %s", pd[:3], pd[len(pd)-2:], line)
			}
		}
	}
}
