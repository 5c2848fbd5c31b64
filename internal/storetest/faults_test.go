package storetest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/web"
)

// The store faults: a store that goes away (MongoDB unreachable, the
// SQLite file locked by another process beyond the busy timeout, the
// database closed) is answered 503 unavailable with Retry-After, never
// 500; /readyz fails while it is away and recovers by itself, without a
// restart, when it comes back.

// proxy is a TCP proxy to a server that the test can cut (every
// connection dropped, nothing listening) and restore on the same address:
// the store going away and coming back, as a client sees it.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	// stalled connections are accepted and never answered: a store that
	// is there but does not respond.
	stalled bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	p := &proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	p.mu.Lock()
	if p.stalled {
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// cut stops listening and drops every connection.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// stall drops every connection and answers new ones never.
func (p *proxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// unstall drops the stalled connections and forwards new ones again.
func (p *proxy) unstall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = false
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// restore listens again on the same address.
func (p *proxy) restore() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment after the close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// faultApp is a small app with banhao's error handling, /readyz on ping,
// a read (GET /read) and a write (POST /write) through real stores.
func faultApp(ping func(context.Context) error, down func(error) bool, read func(context.Context) error, write func(context.Context) error) *fiber.App {
	app := web.NewApp(web.AppConfig{
		Log:            slog.New(slog.NewTextHandler(io.Discard, nil)),
		BodyLimit:      1 << 20,
		RequestTimeout: 2 * time.Second,
		StoreDown:      down,
	})
	web.OpsRoutes(app, ping, prometheus.NewRegistry(), []byte("{}"))
	app.Get("/read", func(c *fiber.Ctx) error {
		if err := read(c.UserContext()); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ok": true})
	})
	app.Post("/write", func(c *fiber.Ctx) error {
		if err := write(c.UserContext()); err != nil {
			return err
		}
		return c.JSON(fiber.Map{"ok": true})
	})
	return app
}

// answer is what a request to the fault app got.
type answer struct {
	status     int
	code       string
	retryAfter string
	took       time.Duration
}

func ask(t *testing.T, app *fiber.App, method, path string) answer {
	t.Helper()
	start := time.Now()
	resp, err := app.Test(httptest.NewRequest(method, path, nil), 60_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start)}
	if resp.StatusCode >= 400 {
		var p web.Problem
		if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
			t.Fatalf("%s %s: %d without a problem document: %v", method, path, resp.StatusCode, err)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Errorf("%s %s: content type %q", method, path, ct)
		}
		a.code = string(p.Code)
	}
	return a
}

// wantUnavailable checks a 503 unavailable problem with Retry-After.
func wantUnavailable(t *testing.T, a answer, what string) {
	t.Helper()
	if a.status != 503 || a.code != "unavailable" || a.retryAfter != "5" {
		t.Errorf("%s with the store away: %d %q Retry-After %q, want 503 unavailable Retry-After 5", what, a.status, a.code, a.retryAfter)
	}
}

// eventually polls until check passes or d ends.
func eventually(t *testing.T, d time.Duration, what string, check func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !check() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func auditWrite(s audit.Store) func(context.Context) error {
	return func(ctx context.Context) error {
		return s.AppendAudit(ctx, audit.Record{ID: "au" + time.Now().Format("150405.000000000"), At: time.Now(), Actor: "cli", Action: "fault.test", Outcome: audit.OutcomeOK})
	}
}

func TestStoreFaultsMongo(t *testing.T) {
	uri := startFerretDB(t)
	target := strings.TrimSuffix(strings.TrimPrefix(uri, "mongodb://"), "/")
	if i := strings.IndexAny(target, "/?"); i >= 0 {
		target = target[:i]
	}
	px := newProxy(t, target)
	// A short server selection timeout, as an operator may set in the
	// URI; requests are also bounded by the request timeout (2 s here).
	db, err := mongo.OpenWith(t.Context(), mongo.Options{URI: "mongodb://" + px.addr + "/?serverSelectionTimeoutMS=1000", Database: "banhao", MaxPoolSize: 1})
	if err != nil {
		t.Fatalf("open mongo through the proxy: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Close(ctx)
	})
	cat, au := mongo.NewCatalogStore(db), mongo.NewAuditStore(db)
	app := faultApp(db.Ping, mongo.IsUnavailable,
		func(ctx context.Context) error { _, err := cat.ListMatters(ctx, catalog.MatterFilter{}); return err },
		auditWrite(au))

	for _, p := range []struct{ method, path string }{{"GET", "/readyz"}, {"GET", "/read"}, {"POST", "/write"}} {
		if a := ask(t, app, p.method, p.path); a.status != 200 {
			t.Fatalf("%s %s with the store up: %d %s", p.method, p.path, a.status, a.code)
		}
	}

	px.cut()
	for _, p := range []struct{ method, path string }{{"GET", "/read"}, {"POST", "/write"}, {"GET", "/readyz"}} {
		a := ask(t, app, p.method, p.path)
		wantUnavailable(t, a, p.method+" "+p.path)
		if a.took > 5*time.Second {
			t.Errorf("%s %s took %s with the store away; the request timeout is 2 s", p.method, p.path, a.took)
		}
	}

	px.restore()
	back := func(when string) {
		t.Helper()
		eventually(t, 30*time.Second, "readiness after the store "+when, func() bool { return ask(t, app, "GET", "/readyz").status == 200 })
		for _, p := range []struct{ method, path string }{{"GET", "/read"}, {"POST", "/write"}} {
			if a := ask(t, app, p.method, p.path); a.status != 200 {
				t.Errorf("%s %s after the store %s: %d %s", p.method, p.path, when, a.status, a.code)
			}
		}
	}
	back("came back")

	// A store that accepts connections and never answers (slow, hung):
	// each request ends with the request timeout as a 503 problem, no hang.
	px.stall()
	for _, p := range []struct{ method, path string }{{"GET", "/read"}, {"POST", "/write"}} {
		a := ask(t, app, p.method, p.path)
		wantUnavailable(t, a, p.method+" "+p.path+" (stalled)")
		if a.took > 5*time.Second {
			t.Errorf("%s %s took %s with the store stalled; the request timeout is 2 s", p.method, p.path, a.took)
		}
	}
	px.unstall()
	back("answered again")
}

func TestStoreFaultsMongoClosedPort(t *testing.T) {
	// A MongoDB that was never there (a closed port): the server still
	// starts serving nothing but 503s, never hangs past the request timeout.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = mongo.OpenWith(t.Context(), mongo.Options{URI: "mongodb://" + addr + "/?serverSelectionTimeoutMS=500", Database: "banhao"})
	if err == nil || !mongo.IsUnavailable(err) {
		t.Errorf("open on a closed port: %v, want an error IsUnavailable recognises", err)
	}
	if mongo.IsUnavailable(context.DeadlineExceeded) || mongo.IsUnavailable(errors.New("other")) {
		t.Error("a bare context deadline or another error is not the store failing")
	}
}

func TestStoreFaultsSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "banhao.db")
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: path, BusyTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat, au := sqlite.NewCatalogStore(db), sqlite.NewAuditStore(db)
	app := faultApp(db.Ping, sqlite.IsUnavailable,
		func(ctx context.Context) error { _, err := cat.ListMatters(ctx, catalog.MatterFilter{}); return err },
		auditWrite(au))
	for _, p := range []struct{ method, path string }{{"GET", "/readyz"}, {"GET", "/read"}, {"POST", "/write"}} {
		if a := ask(t, app, p.method, p.path); a.status != 200 {
			t.Fatalf("%s %s with the store up: %d %s", p.method, p.path, a.status, a.code)
		}
	}

	// Another process takes the write lock and keeps it past the busy timeout.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(100)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("take the write lock: %v", err)
	}
	wantUnavailable(t, ask(t, app, "POST", "/write"), "POST /write")
	if a := ask(t, app, "GET", "/read"); a.status != 200 {
		t.Errorf("GET /read while another process writes: %d %s (WAL readers go on)", a.status, a.code)
	}
	wantUnavailable(t, ask(t, app, "GET", "/readyz"), "GET /readyz")

	// The lock is released: readiness and writes recover without a restart.
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	eventually(t, 10*time.Second, "readiness after the lock was released", func() bool { return ask(t, app, "GET", "/readyz").status == 200 })
	if a := ask(t, app, "POST", "/write"); a.status != 200 {
		t.Errorf("POST /write after the lock was released: %d %s", a.status, a.code)
	}

	// A closed database is unavailable too, not an internal error.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wantUnavailable(t, ask(t, app, "GET", "/read"), "GET /read after close")
	wantUnavailable(t, ask(t, app, "POST", "/write"), "POST /write after close")
}
