package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/banhao/banhao/internal/apperr"
)

func testApp(t *testing.T, logs io.Writer) *fiber.App {
	t.Helper()
	app := NewApp(AppConfig{
		Log:            slog.New(slog.NewJSONHandler(logs, nil)),
		BodyLimit:      1 << 10,
		RequestTimeout: 50 * time.Millisecond,
		Metrics:        NewMetrics(prometheus.NewRegistry()),
	})
	app.Get("/panic", func(*fiber.Ctx) error { panic("secret internal state 0xdeadbeef") })
	app.Get("/raw", func(*fiber.Ctx) error { return errors.New("pq: password authentication failed for user banhao") })
	app.Get("/slow", func(c *fiber.Ctx) error {
		<-c.UserContext().Done()
		return c.UserContext().Err()
	})
	app.Get("/fields", func(*fiber.Ctx) error {
		return apperr.Fields(apperr.FieldError{Field: "phone", Message: "电话号码格式不正确"})
	})
	app.Get("/limited", func(*fiber.Ctx) error {
		e := apperr.New(apperr.TooManyRequests, "请求过于频繁")
		e.RetryAfter = 29500 * time.Millisecond
		return e
	})
	app.Post("/echo", func(c *fiber.Ctx) error {
		var v struct {
			Name string `json:"name"`
		}
		if err := DecodeJSON(c, &v); err != nil {
			return err
		}
		return c.JSON(v)
	})
	return app
}

func call(t *testing.T, app *fiber.App, method, path, body string, hdr map[string]string) (int, Problem, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := app.Test(req, 5000)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	var p Problem
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("bad problem body %s", b)
		}
	}
	return res.StatusCode, p, string(b)
}

// Faults of ours must answer with a problem that hides the cause, and log it.
func TestInternalErrorsAreHiddenAndLogged(t *testing.T) {
	var logs strings.Builder
	app := testApp(t, &logs)
	for _, path := range []string{"/panic", "/raw"} {
		status, p, body := call(t, app, "GET", path, "", nil)
		if status != 500 || p.Code != apperr.Internal || p.RequestID == "" {
			t.Fatalf("%s: %d %s", path, status, body)
		}
		if strings.Contains(body, "secret") || strings.Contains(body, "password") {
			t.Fatalf("%s leaks the cause: %s", path, body)
		}
	}
	if !strings.Contains(logs.String(), "password authentication failed") {
		t.Fatalf("the cause of a 500 is not logged: %s", logs.String())
	}
}

func TestProblemMapping(t *testing.T) {
	app := testApp(t, io.Discard)
	tests := []struct {
		name, method, path, body string
		hdr                      map[string]string
		status                   int
		code                     apperr.Code
		field                    string
	}{
		{"timeout", "GET", "/slow", "", nil, 504, apperr.Timeout, ""},
		{"field errors", "GET", "/fields", "", nil, 400, apperr.Invalid, "phone"},
		{"no route", "GET", "/nowhere", "", nil, 404, apperr.NotFound, ""},
		{"not JSON", "POST", "/echo", "name=x", map[string]string{"Content-Type": "text/plain"}, 415, codeUnsupportedMedia, ""},
		{"wrong type", "POST", "/echo", `{"name":5}`, map[string]string{"Content-Type": "application/json"}, 400, apperr.Invalid, "name"},
		{"unknown field", "POST", "/echo", `{"nom":"x"}`, map[string]string{"Content-Type": "application/json"}, 400, apperr.Invalid, "nom"},
		{"rate limited", "GET", "/limited", "", nil, 429, apperr.TooManyRequests, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, p, body := call(t, app, tt.method, tt.path, tt.body, tt.hdr)
			if status != tt.status || p.Code != tt.code || p.Status != tt.status || p.Type != ProblemType+string(tt.code) || p.Title == "" {
				t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.code)
			}
			if tt.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.field) {
				t.Fatalf("errors do not name %s: %s", tt.field, body)
			}
		})
	}
	req := httptest.NewRequest("GET", "/limited", nil)
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("Retry-After") != "30" {
		t.Fatalf("Retry-After = %q, want 30", res.Header.Get("Retry-After"))
	}
}

func TestHTMLErrorPageForBrowsers(t *testing.T) {
	app := testApp(t, io.Discard)
	status, _, body := call(t, app, "GET", "/kiosk/nowhere", "", map[string]string{"Accept": "text/html"})
	if status != 404 || !strings.Contains(body, "返回首页") || strings.Contains(body, `"code"`) {
		t.Fatalf("%d %s", status, body)
	}
}
