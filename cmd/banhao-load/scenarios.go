package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// client is an HTTP client with enough idle connections for every load
// client to keep its own.
func client(n int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: n}}
}

// call sends a JSON request and decodes a 2xx answer into out.
func call(ctx context.Context, c *http.Client, method, url, token string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, req.URL.Path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// rush is the morning rush from the mini-program: many users log in, then
// take tickets across every sector as fast as the server gives them out,
// then follow them.
func rush(ctx context.Context, o options, out io.Writer) ([]result, error) {
	hc := client(o.clients)
	var sectors struct{ Items []struct{ Code string } }
	if err := call(ctx, hc, http.MethodGet, o.url+"/api/v1/sectors?center="+o.center, "", nil, &sectors); err != nil {
		return nil, fmt.Errorf("read sectors (is the server running?): %w", err)
	}
	if len(sectors.Items) == 0 {
		return nil, errors.New("the center has no sectors")
	}
	tokens := make([]string, o.users)
	var next atomic.Int64
	login := hammer(ctx, "mp login", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		i := next.Add(1) - 1
		if i >= int64(o.users) {
			return errStop
		}
		var l struct{ Token string }
		if err := call(ctx, hc, http.MethodPost, o.url+"/api/v1/mp/login", "", map[string]string{"code": fmt.Sprintf("dev:load-%d-%d", time.Now().Unix(), i)}, &l); err != nil {
			return err
		}
		tokens[i] = l.Token
		return nil
	})
	users := int(min(next.Load(), int64(o.users)))
	if login.fails > 0 || users == 0 {
		return []result{login}, fmt.Errorf("logins failed (is it a development server, BANHAO_DEV=true?)")
	}
	ids := make([]string, users*len(sectors.Items))
	next.Store(0)
	take := hammer(ctx, "ticket take (mp)", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		n := next.Add(1) - 1
		if n >= int64(len(ids)) {
			return errStop
		}
		u, s := int(n)%users, int(n)/users
		var t struct{ ID string }
		err := call(ctx, hc, http.MethodPost, o.url+"/api/v1/mp/tickets", tokens[u],
			map[string]string{"center": o.center, "sector": sectors.Items[s].Code}, &t)
		ids[n] = t.ID
		return err
	})
	taken := int(min(next.Load(), int64(len(ids))))
	read := hammer(ctx, "ticket status (mp)", o.clients, o.duration, out, func(ctx context.Context, c, i int) error {
		n := (c*7919 + i) % max(taken, 1)
		if ids[n] == "" {
			return nil
		}
		return call(ctx, hc, http.MethodGet, o.url+"/api/v1/mp/tickets/"+ids[n], tokens[n%users], nil, nil)
	})
	return []result{login, take, read}, nil
}

// errStop ends a load client's loop: its share of the work is done.
var errStop = errors.New("stop")

// status is a storm of public reads: a guide and the health check.
func status(ctx context.Context, o options, out io.Writer) ([]result, error) {
	hc := client(o.clients)
	guide := hammer(ctx, "guide read", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return call(ctx, hc, http.MethodGet, o.url+"/api/v1/matters/hm-gjj-loan", "", nil, nil)
	})
	health := hammer(ctx, "health check", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return call(ctx, hc, http.MethodGet, o.url+"/healthz", "", nil, nil)
	})
	return []result{guide, health}, nil
}

// baselines measures, on this machine, what bounds the server: fiber's
// raw JSON handler over loopback, and the store's ticket take with durable
// writes, one transaction per take (one client) and group-committed.
func baselines(ctx context.Context, o options, out io.Writer) ([]result, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"number": "A001", "ahead": 3}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go app.Listener(ln)
	defer app.Shutdown()
	hc := client(o.clients)
	url := "http://" + ln.Addr().String() + "/x"
	raw := hammer(ctx, "baseline: raw fiber JSON", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return call(ctx, hc, http.MethodGet, url, "", nil, nil)
	})

	dir, err := os.MkdirTemp("", "banhao-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "load.db"), Synchronous: "FULL"})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	qs := sqlite.NewQueueStore(db)
	var seq atomic.Int64
	take := func(ctx context.Context, _, _ int) error {
		n := seq.Add(1)
		_, err := qs.TakeTicket(ctx, queue.Ticket{ID: fmt.Sprintf("tk%d", n), Center: "hm", Sector: "tax", Day: "2026-11-25",
			Status: queue.StatusWaiting, TakenAt: time.Now()}, "K")
		return err
	}
	single := hammer(ctx, "baseline: store take, 1 tx each", 1, o.duration, out, take)
	group := hammer(ctx, "baseline: store take, grouped", o.clients, o.duration, out, take)
	return []result{raw, single, group}, nil
}
