package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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

// errStoreDown stands for an error a store package says means "down".
var errStoreDown = errors.New("store: database is locked")

// TestStoreFaultsAreUnavailable: an error the store's classifier
// recognises, however a handler or business package wrapped it, is a 503
// unavailable problem with Retry-After, in the response, the access log
// and the metrics; other faults keep their status.
func TestStoreFaultsAreUnavailable(t *testing.T) {
	reg := prometheus.NewRegistry()
	var logs bytes.Buffer
	app := NewApp(AppConfig{
		Log:            slog.New(slog.NewJSONHandler(&logs, nil)),
		BodyLimit:      1 << 10,
		RequestTimeout: time.Second,
		Metrics:        NewMetrics(reg),
		StoreDown:      func(err error) bool { return errors.Is(err, errStoreDown) },
	})
	app.Get("/wrapped", func(*fiber.Ctx) error { return fmt.Errorf("queue: call next: %w", errStoreDown) })
	app.Get("/internal", func(*fiber.Ctx) error { return apperr.Wrap(apperr.Internal, "系统内部错误", errStoreDown) })
	app.Get("/deadline", func(*fiber.Ctx) error {
		return fmt.Errorf("read: %w", errors.Join(context.DeadlineExceeded, errStoreDown))
	})
	app.Get("/other", func(*fiber.Ctx) error { return errors.New("a bug") })
	app.Get("/refusal", func(*fiber.Ctx) error { return apperr.Wrap(apperr.Conflict, "冲突", errStoreDown) })
	app.Get("/timeout", func(*fiber.Ctx) error { return context.DeadlineExceeded })

	for _, tt := range []struct {
		path, code, retryAfter string
		status                 int
	}{
		{"/wrapped", "unavailable", "5", 503},
		{"/internal", "unavailable", "5", 503},
		{"/deadline", "unavailable", "5", 503},
		{"/other", "internal", "", 500},
		{"/refusal", "conflict", "", 409},
		{"/timeout", "timeout", "", 504},
	} {
		res, err := app.Test(httptest.NewRequest("GET", tt.path, nil), 5000)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tt.status || !strings.Contains(string(body), `"code":"`+tt.code+`"`) || res.Header.Get("Retry-After") != tt.retryAfter {
			t.Errorf("%s: %d Retry-After %q %s; want %d %s Retry-After %q", tt.path, res.StatusCode, res.Header.Get("Retry-After"), body, tt.status, tt.code, tt.retryAfter)
		}
		if strings.Contains(string(body), "database is locked") {
			t.Errorf("%s: the cause reached the client: %s", tt.path, body)
		}
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counted := false
	for _, mf := range mfs {
		if mf.GetName() != "banhao_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["route"] == "/wrapped" && labels["status"] == "503" {
				counted = true
			}
		}
	}
	if !counted {
		t.Error("the metrics do not count the 503")
	}
	if !strings.Contains(logs.String(), `"route":"/wrapped","status":503`) {
		t.Errorf("the access log does not show the 503: %s", logs.String())
	}
}
