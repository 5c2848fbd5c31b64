package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/web"
)

// A handler that panics, or fails with a server fault, leaves no claimed
// key behind: the retry runs again at once instead of waiting for a key
// that will never be finished. A refusal is kept and replayed.
func TestIdempotentReleasesKeyOnPanic(t *testing.T) {
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "t.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	keys := idempotency.NewService(sqlite.NewIdempotencyStore(db), log, time.Now, idempotency.Config{Wait: 200 * time.Millisecond})
	app := web.NewApp(web.AppConfig{Log: log, BodyLimit: 1 << 10, RequestTimeout: 5 * time.Second})
	var runs atomic.Int32
	grp := app.Group("/x", func(c *fiber.Ctx) error { c.Locals(web.LocalsActor, "citizen:c1"); return c.Next() })
	grp.Use(web.Idempotent(keys, nil))
	grp.Post("/panic", func(*fiber.Ctx) error { runs.Add(1); panic("boom") })
	grp.Post("/refuse", func(*fiber.Ctx) error { runs.Add(1); return fiber.NewError(fiber.StatusBadRequest) })
	post := func(path string) int {
		req := httptest.NewRequest("POST", path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "k1"+path)
		res, err := app.Test(req, 5000)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode
	}
	for i := range 2 {
		if code := post("/x/panic"); code != 500 {
			t.Fatalf("panic #%d: %d, want 500 (a 409 means the key stayed claimed)", i+1, code)
		}
	}
	if n := runs.Load(); n != 2 {
		t.Errorf("the panicking handler ran %d times, want 2", n)
	}
	runs.Store(0)
	for range 2 {
		if code := post("/x/refuse"); code != 400 {
			t.Fatalf("refusal: %d", code)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the refusing handler ran %d times, want once (then replayed)", n)
	}
}
