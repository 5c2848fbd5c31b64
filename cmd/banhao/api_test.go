package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
)

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Code   string `json:"code"`
	Errors []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// wantProblem checks an error response is problem+json with the status and
// code, and (if field is set) names that field.
func wantProblem(t *testing.T, status int, ctype, body string, wantStatus int, wantCode, field string) problem {
	t.Helper()
	if status != wantStatus {
		t.Fatalf("status %d, want %d: %s", status, wantStatus, body)
	}
	if !strings.HasPrefix(ctype, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json", ctype)
	}
	var p problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body is not JSON: %v: %s", err, body)
	}
	if p.Code != wantCode || p.Status != wantStatus || p.Title == "" || p.Type == "" {
		t.Fatalf("problem = %+v, want code %s status %d", p, wantCode, wantStatus)
	}
	if strings.Contains(body, "goroutine") || strings.Contains(body, ".go:") {
		t.Fatalf("problem leaks internals: %s", body)
	}
	if field != "" {
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == field
		}
		if !found {
			t.Fatalf("problem does not name field %q: %s", field, body)
		}
	}
	return p
}

type summaryList struct {
	Items []struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		Sector string `json:"sector"`
		Status string `json:"status"`
	} `json:"items"`
	Next string `json:"next"`
}

func decode[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, body)
	}
	return v
}

func TestPublicCatalogAPI(t *testing.T) {
	s := startServer(t, nil)

	code, _, body := s.get(t, "/api/v1/centers")
	if code != 200 || !strings.Contains(body, "惠民县政务服务中心") {
		t.Fatalf("centers: %d %s", code, body)
	}
	code, _, body = s.get(t, "/api/v1/sectors?center=hm")
	sectors := decode[struct{ Items []catalog.Sector }](t, body)
	if code != 200 || len(sectors.Items) != 11 || sectors.Items[0].Name != "不动产交易登记" {
		t.Fatalf("sectors of hm: %d %+v", code, sectors.Items)
	}

	t.Run("pages walk every active matter once", func(t *testing.T) {
		seen := map[string]bool{}
		path := "/api/v1/matters?center=hm&limit=7"
		for pages := 0; ; pages++ {
			if pages > 50 {
				t.Fatal("pagination does not end")
			}
			code, _, body := s.get(t, path)
			if code != 200 {
				t.Fatalf("%s: %d %s", path, code, body)
			}
			l := decode[summaryList](t, body)
			for _, m := range l.Items {
				if seen[m.Code] {
					t.Fatalf("matter %s listed twice", m.Code)
				}
				seen[m.Code] = true
			}
			if l.Next == "" {
				break
			}
			path = "/api/v1/matters?center=hm&limit=7&cursor=" + url.QueryEscape(l.Next)
		}
		if len(seen) < 40 {
			t.Fatalf("walked %d matters at hm, want at least 40", len(seen))
		}
	})

	t.Run("search by pinyin initials and words", func(t *testing.T) {
		for q, want := range map[string]string{"gjj": "住房公积金", "营业执照": "个体工商户设立登记", "huzhao": "护照"} {
			code, _, body := s.get(t, "/api/v1/matters?center=hm&q="+url.QueryEscape(q))
			l := decode[summaryList](t, body)
			if code != 200 || len(l.Items) == 0 {
				t.Fatalf("q=%s: %d %s", q, code, body)
			}
			top := ""
			for _, m := range l.Items[:min(3, len(l.Items))] {
				top += m.Name + " "
			}
			if !strings.Contains(top, want) {
				t.Errorf("q=%s: top results %q do not include %q", q, top, want)
			}
		}
	})

	t.Run("guide", func(t *testing.T) {
		code, _, body := s.get(t, "/api/v1/matters/hm-gjj-withdraw-purchase")
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		var g map[string]any
		json.Unmarshal([]byte(body), &g)
		for _, f := range []string{"authority", "legal_basis", "materials", "steps", "promised_days", "statutory_days", "fee_standard", "complaint_phone", "kind_label"} {
			if _, ok := g[f]; !ok {
				t.Errorf("guide lacks %s", f)
			}
		}
		if _, ok := g["updated_by"]; ok {
			t.Error("public guide names the staff member who edited it")
		}
		if ts, _ := g["updated_at"].(string); !strings.HasSuffix(ts, "+08:00") {
			t.Errorf("updated_at %q is not in +08:00", ts)
		}
	})

	bad := []struct {
		name, path string
		status     int
		code       string
		field      string
	}{
		{"unknown matter", "/api/v1/matters/no-such-matter", 404, "not_found", ""},
		{"malformed matter code", "/api/v1/matters/%E4%BD%A0%00", 404, "not_found", ""},
		{"unknown route", "/api/v1/nothing-here", 404, "not_found", ""},
		{"sectors without center", "/api/v1/sectors", 400, "invalid_input", "center"},
		{"sectors of unknown center", "/api/v1/sectors?center=atlantis", 404, "not_found", ""},
		{"matters of unknown center", "/api/v1/matters?center=atlantis", 404, "not_found", ""},
		{"huge query", "/api/v1/matters?q=" + strings.Repeat("a", 10000), 400, "invalid_input", "q"},
		{"overlong address", "/api/v1/matters?q=" + strings.Repeat("a", 20000), 431, "headers_too_large", ""},
		{"control bytes", "/api/v1/matters?q=gjj%00%07", 400, "invalid_input", "q"},
		{"bad limit", "/api/v1/matters?limit=-3", 400, "invalid_input", "limit"},
		{"huge limit", "/api/v1/matters?limit=100000", 400, "invalid_input", "limit"},
		{"bad cursor", "/api/v1/matters?cursor=%21%21%21", 400, "invalid_input", "cursor"},
		{"bad channel", "/api/v1/matters?channel=pigeon", 400, "invalid_input", "channel"},
		{"bad kind", "/api/v1/matters?kind=magic", 400, "invalid_input", "kind"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			code, ctype, body := s.get(t, tt.path)
			wantProblem(t, code, ctype, body, tt.status, tt.code, tt.field)
		})
	}
}

func TestAdminEditsCatalog(t *testing.T) {
	s := startServer(t, nil)
	adminToken := s.admin(t)
	post := func(t *testing.T, path, token, body string) (int, string, string) {
		return s.do(t, http.MethodPost, path, token, strings.NewReader(body))
	}
	put := func(t *testing.T, path, token, body string) (int, string, string) {
		return s.do(t, http.MethodPut, path, token, strings.NewReader(body))
	}
	_, _, body := s.get(t, "/api/v1/matters/hm-gjj-withdraw-purchase")
	var m catalog.Matter
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	guide := func(mut func(*catalog.Matter)) string {
		c := m
		c.UpdatedBy = ""
		mut(&c)
		b, _ := json.Marshal(c)
		return string(b)
	}

	t.Run("refused without the admin token", func(t *testing.T) {
		code, ctype, body := post(t, "/api/v1/staff/matters", "", guide(func(*catalog.Matter) {}))
		wantProblem(t, code, ctype, body, 401, "unauthorized", "")
		code, ctype, body = post(t, "/api/v1/staff/matters", "wrong-token-0123456789", guide(func(*catalog.Matter) {}))
		wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	})

	t.Run("create", func(t *testing.T) {
		newGuide := guide(func(c *catalog.Matter) {
			c.Code = "hm-test-new-matter"
			c.Name = "住房公积金提取（测试新增）"
		})
		code, _, body := post(t, "/api/v1/staff/matters", adminToken, newGuide)
		if code != 201 {
			t.Fatalf("create: %d %s", code, body)
		}
		created := decode[catalog.Matter](t, body)
		if created.Version != 1 || created.Status != catalog.StatusActive || !strings.HasPrefix(created.UpdatedBy, "staff:") {
			t.Fatalf("created = version %d status %s by %q", created.Version, created.Status, created.UpdatedBy)
		}
		code, ctype, body := post(t, "/api/v1/staff/matters", adminToken, newGuide)
		wantProblem(t, code, ctype, body, 409, "conflict", "")
		code, _, body = s.get(t, "/api/v1/matters?q="+url.QueryEscape("测试新增"))
		if code != 200 || !strings.Contains(body, "hm-test-new-matter") {
			t.Fatalf("new matter not found by search: %s", body)
		}
	})

	t.Run("bad input names the field", func(t *testing.T) {
		cases := []struct {
			name, body, code, field string
			status                  int
		}{
			{"invalid guide", guide(func(c *catalog.Matter) { c.Code = "hm-x1"; c.Name = ""; c.PromisedDays = 99; c.StatutoryDays = 10 }), "invalid_input", "name", 400},
			{"promised over statutory", guide(func(c *catalog.Matter) { c.Code = "hm-x2"; c.PromisedDays = 99; c.StatutoryDays = 10 }), "invalid_input", "promised_days", 400},
			{"unknown sector", guide(func(c *catalog.Matter) { c.Code = "hm-x3"; c.Sector = "astrology" }), "invalid_input", "sector", 400},
			{"unknown field", `{"code":"hm-x4","colour":"red"}`, "invalid_input", "colour", 400},
			{"wrong type", `{"code":"hm-x5","fee_fen":"free"}`, "invalid_input", "fee_fen", 400},
			{"malformed", `{"code":`, "invalid_input", "body", 400},
			{"two values", `{} {}`, "invalid_input", "body", 400},
			{"empty", ``, "invalid_input", "body", 400},
		}
		for _, tt := range cases {
			t.Run(tt.name, func(t *testing.T) {
				code, ctype, body := post(t, "/api/v1/staff/matters", adminToken, tt.body)
				wantProblem(t, code, ctype, body, tt.status, tt.code, tt.field)
			})
		}
		code, ctype, body := s.oversizePost(t, "/api/v1/staff/matters", adminToken, 2<<20)
		wantProblem(t, code, ctype, body, 413, "body_too_large", "")
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/staff/matters", strings.NewReader("code=x"))
		req.Header.Set("Authorization", "Bearer "+adminToken)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		wantProblem(t, res.StatusCode, res.Header.Get("Content-Type"), string(b), 415, "unsupported_media_type", "")
	})

	t.Run("revise, stale revise, history and retire", func(t *testing.T) {
		code, _, body := put(t, "/api/v1/staff/matters/hm-gjj-withdraw-purchase", adminToken,
			guide(func(c *catalog.Matter) { c.PromisedDays = 1; c.Name = "住房公积金提取（购买自住住房）" }))
		if code != 200 {
			t.Fatalf("revise: %d %s", code, body)
		}
		if v := decode[catalog.Matter](t, body); v.Version != 2 || v.PromisedDays != 1 {
			t.Fatalf("revised = v%d promised %d", v.Version, v.PromisedDays)
		}
		// A second editor who loaded version 1 must not overwrite version 2.
		code, ctype, body := put(t, "/api/v1/staff/matters/hm-gjj-withdraw-purchase", adminToken,
			guide(func(c *catalog.Matter) { c.PromisedDays = 3 }))
		wantProblem(t, code, ctype, body, 409, "version_conflict", "")
		_, _, body = s.get(t, "/api/v1/matters/hm-gjj-withdraw-purchase")
		if cur := decode[catalog.Matter](t, body); cur.Version != 2 || cur.PromisedDays != 1 {
			t.Fatalf("after stale edit: v%d promised %d", cur.Version, cur.PromisedDays)
		}
		code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/matters/hm-gjj-withdraw-purchase/versions/1", adminToken, nil)
		if old := decode[catalog.Matter](t, body); code != 200 || old.Name != m.Name || old.PromisedDays != m.PromisedDays {
			t.Fatalf("version 1: %d %s", code, body)
		}
		code, _, body = s.get(t, "/api/v1/matters?q="+url.QueryEscape("自住住房"))
		if !strings.Contains(body, "hm-gjj-withdraw-purchase") {
			t.Fatalf("search does not see the revised name: %d %s", code, body)
		}
		code, ctype, body = post(t, "/api/v1/staff/matters/hm-gjj-withdraw-purchase/retire", adminToken, `{"version":1}`)
		wantProblem(t, code, ctype, body, 409, "version_conflict", "")
		code, _, body = post(t, "/api/v1/staff/matters/hm-gjj-withdraw-purchase/retire", adminToken, `{"version":2}`)
		if r := decode[catalog.Matter](t, body); code != 200 || r.Status != catalog.StatusRetired || r.Version != 3 {
			t.Fatalf("retire: %d %s", code, body)
		}
		_, _, body = s.get(t, "/api/v1/matters?center=hm&sector=housing-fund&limit=100")
		if strings.Contains(body, "hm-gjj-withdraw-purchase") {
			t.Fatal("retired matter still listed")
		}
		_, _, body = s.get(t, "/api/v1/matters?q=gjj&limit=100")
		if strings.Contains(body, "hm-gjj-withdraw-purchase") {
			t.Fatal("retired matter still found by search")
		}
		code, _, body = s.get(t, "/api/v1/matters/hm-gjj-withdraw-purchase")
		if code != 200 || !strings.Contains(body, `"status":"retired"`) {
			t.Fatalf("retired guide should stay readable: %d %s", code, body)
		}
		code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/matters/hm-gjj-withdraw-purchase/versions/9", adminToken, nil)
		wantProblem(t, code, ctype, body, 404, "not_found", "")
	})
}

// TestOpenAPIDescribesEveryRoute keeps /openapi.json and the router in
// step: every API and operations route is described, and every described
// path and method is served. Pages and static files are not API.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := sqlite.NewIdentityStore(db)
	st := &stores{catalog: sqlite.NewCatalogStore(db), staff: ids, sessions: ids, citizens: sqlite.NewCitizenStore(db), kiosks: sqlite.NewKioskStore(db), queue: sqlite.NewQueueStore(db),
		audit: sqlite.NewAuditStore(db), ping: db.Ping, close: db.Close}
	log := slog.New(slog.DiscardHandler)
	cfg, err := parseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := newServices(cfg, st, keys, log)
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(cfg, log, prometheus.NewRegistry(), st, svc)
	if err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	served := map[string]bool{}
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" || !isAPI(r.Path) {
			continue
		}
		served[r.Method+" "+param.ReplaceAllString(r.Path, "{$1}")] = true
	}
	b, err := assets.FS.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q, want 3.1.0", doc.OpenAPI)
	}
	described := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			described[strings.ToUpper(method)+" "+path] = true
		}
	}
	for r := range served {
		if !described[r] {
			t.Errorf("route %s is served but not described in openapi.json", r)
		}
	}
	for r := range described {
		if !served[r] {
			t.Errorf("openapi.json describes %s, which is not served", r)
		}
	}
	if len(served) < 10 {
		t.Fatalf("only %d API routes found: the route listing is broken", len(served))
	}
}

func isAPI(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/openapi.json":
		return true
	}
	return strings.HasPrefix(path, "/api/") || strings.HasPrefix(path, "/.well-known/")
}

// oversizePost announces a body of size bytes and sends only its start, as
// a client uploading something too large would, and returns the answer the
// server gives before reading it all. A plain HTTP client may instead see
// the connection closed under its upload, which would make the test flaky.
func (s *server) oversizePost(t *testing.T, path, token string, size int) (int, string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"name\":\"", path, token, size)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
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
