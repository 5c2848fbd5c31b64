package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// displayHall is a development server at an open hour with a window 1号窗口
// serving housing-fund (letter C) and tax (letter K), a registered kiosk to
// take tickets and a clerk to call them.
type displayHall struct {
	s      *server
	k      *kioskClient
	clerk  string
	window string
}

func newDisplayHall(t *testing.T, env map[string]string) *displayHall {
	t.Helper()
	dev, skew := devClock(t, atWednesday9)
	for k, v := range env {
		dev[k] = v
	}
	s := startServer(t, dev)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["housing-fund","tax"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	k := registerKiosk(t, s, admin)
	k.skew = skew
	s.createStaff(t, "clerk", "clerk")
	clerk := s.login(t, "clerk", testPassword)
	s.signIn(t, clerk, w.ID)
	return &displayHall{s: s, k: k, clerk: clerk, window: w.ID}
}

// take takes a walk-in ticket for sector and returns its number.
func (h *displayHall) take(t *testing.T, sector string) string {
	t.Helper()
	code, _, body := h.k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"`+sector+`"}`)
	var v struct{ Number string }
	json.Unmarshal([]byte(body), &v)
	if code != http.StatusCreated || v.Number == "" {
		t.Fatalf("take %s: %d %s", sector, code, body)
	}
	return v.Number
}

// calledTicket is what the clerk's call-next answers.
type calledTicket struct {
	TicketID     string `json:"ticket_id"`
	Number       string `json:"number"`
	Announcement string `json:"announcement"`
}

// callNext calls the next ticket to 1号窗口.
func (h *displayHall) callNext(t *testing.T) calledTicket {
	t.Helper()
	code, _, body := h.s.do(t, http.MethodPost, "/api/v1/staff/windows/"+h.window+"/call-next", h.clerk, nil)
	var c calledTicket
	json.Unmarshal([]byte(body), &c)
	if code != http.StatusOK || c.Number == "" {
		t.Fatalf("call next: %d %s", code, body)
	}
	return c
}

// recall calls a ticket at 1号窗口 again.
func (h *displayHall) recall(t *testing.T, ticketID string) {
	t.Helper()
	code, _, body := h.s.do(t, http.MethodPost, "/api/v1/staff/windows/"+h.window+"/tickets/"+ticketID+"/recall", h.clerk, nil)
	if code != http.StatusOK {
		t.Fatalf("recall: %d %s", code, body)
	}
}

// displayBoard is the board as the display API sends it.
type displayBoard struct {
	Day   string `json:"day"`
	Calls []struct {
		Number   string `json:"number"`
		Window   string `json:"window"`
		Status   string `json:"status"`
		CalledAt string `json:"called_at"`
		Calls    int    `json:"calls"`
	} `json:"calls"`
	Waiting []struct {
		Sector  string `json:"sector"`
		Name    string `json:"name"`
		Waiting int    `json:"waiting"`
	} `json:"waiting"`
}

func (b displayBoard) waiting(sector string) int {
	for _, w := range b.Waiting {
		if w.Sector == sector {
			return w.Waiting
		}
	}
	return -1
}

// calls sums the board's calls up as "C002@1号窗口#1 called" items.
func (b displayBoard) calls() []string {
	var out []string
	for _, c := range b.Calls {
		out = append(out, fmt.Sprintf("%s@%s#%d %s", c.Number, c.Window, c.Calls, c.Status))
	}
	return out
}

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	Event, Data string
}

// readEvents reads the events of a stream until it ends, and then closes
// the channel. Comment lines (heartbeats) and retry fields are skipped.
func readEvents(body io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 16)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.Data != "" || ev.Event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event:"):
				ev.Event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.Data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
			}
		}
	}()
	return ch
}

// nextBoard waits up to limit for the next board event.
func nextBoard(t *testing.T, events <-chan sseEvent, limit time.Duration) displayBoard {
	t.Helper()
	timeout := time.After(limit)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			if ev.Event != "board" {
				continue
			}
			var b displayBoard
			if err := json.Unmarshal([]byte(ev.Data), &b); err != nil {
				t.Fatalf("board event data: %v: %s", err, ev.Data)
			}
			return b
		case <-timeout:
			t.Fatalf("no board event within %v", limit)
		}
	}
}

// TestDisplayBoard checks the public board of the lobby calling screen
// after a few tickets are taken and called: the recent calls newest first,
// the waiting count per sector, and nothing but numbers.
func TestDisplayBoard(t *testing.T) {
	h := newDisplayHall(t, nil)
	s := h.s
	for _, want := range []string{"C001", "C002", "C003"} {
		if got := h.take(t, "housing-fund"); got != want {
			t.Fatalf("took %s, want %s", got, want)
		}
	}
	h.take(t, "tax")
	h.callNext(t)
	if c := h.callNext(t); c.Number != "C002" || c.Announcement != "请C002号到1号窗口办理" {
		t.Fatalf("second call: %+v", c)
	}

	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/display/hm/board", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("board: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), raw)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("board Cache-Control = %q, want no-store", cc)
	}
	var b displayBoard
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("board: %v %s", err, raw)
	}
	if b.Day != "2026-11-25" {
		t.Errorf("board day %q, want the dev clock's 2026-11-25", b.Day)
	}
	if got, want := b.calls(), []string{"C002@1号窗口#1 called", "C001@1号窗口#1 called"}; !slices.Equal(got, want) {
		t.Errorf("board calls %q, want %q", got, want)
	}
	for _, c := range b.Calls {
		at, err := time.Parse(time.RFC3339, c.CalledAt)
		if err != nil || !strings.HasSuffix(c.CalledAt, "+08:00") || at.Format("2006-01-02") != "2026-11-25" {
			t.Errorf("called_at %q: want a time on 2026-11-25 in +08:00 (%v)", c.CalledAt, err)
		}
	}
	if n := b.waiting("housing-fund"); n != 1 {
		t.Errorf("housing-fund waiting %d, want 1", n)
	}
	if n := b.waiting("tax"); n != 1 {
		t.Errorf("tax waiting %d, want 1", n)
	}
	if len(b.Waiting) < 11 {
		t.Errorf("board lists %d sectors, want every sector of the center", len(b.Waiting))
	}
	for _, w := range b.Waiting {
		if w.Name == "" || (w.Sector != "housing-fund" && w.Sector != "tax" && w.Waiting != 0) {
			t.Errorf("sector row %+v", w)
		}
	}
	// Public means numbers only: no ticket IDs, holders or channels.
	var loose struct {
		Calls []map[string]any `json:"calls"`
	}
	json.Unmarshal(raw, &loose)
	for _, c := range loose.Calls {
		var keys []string
		for k := range c {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if strings.Join(keys, ",") != "called_at,calls,number,status,window" {
			t.Errorf("a call on the public board has the fields %q", keys)
		}
	}
	if regexp.MustCompile(`"tk[0-9a-z]`).Match(raw) {
		t.Errorf("the public board shows a ticket ID: %s", raw)
	}

	t.Run("unknown center", func(t *testing.T) {
		for _, path := range []string{"/api/v1/display/nowhere/board", "/api/v1/display/nowhere/events", "/api/v1/display/NO%20WAY/board"} {
			code, ctype, body := s.get(t, path)
			wantProblem(t, code, ctype, body, http.StatusNotFound, "not_found", "")
		}
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/display/nowhere", nil)
		req.Header.Set("Accept", "text/html")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "没有这个服务中心") {
			t.Errorf("display page of an unknown center: %d %s\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
		}
		code, ctype, body2 := s.get(t, "/display/nowhere")
		wantProblem(t, code, ctype, body2, http.StatusNotFound, "not_found", "")
	})

	t.Run("page", func(t *testing.T) {
		res, err := http.Get(s.URL + "/display/hm")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(raw)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("display page: %d %s", res.StatusCode, body)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("display page CSP = %q, want script-src 'self' and nothing inline", csp)
		}
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(tag, `src="/static/display.js"`) {
				t.Errorf("display page loads a script other than display.js: %s", tag)
			}
		}
		// The kiosk script resets an untouched page to the kiosk home; a TV
		// is never touched.
		if strings.Contains(body, "kiosk.js") || !strings.Contains(body, `data-idle-seconds="0"`) {
			t.Error("the display page would reset through the kiosk idle timer")
		}
		if !regexp.MustCompile(`class="now-number">C002<`).MatchString(body) {
			t.Errorf("the display page does not show C002 as the latest call:\n%s", body)
		}
		for _, name := range []string{"/static/display.js", "/static/display.css"} {
			if code, _, _ := s.get(t, name); code != http.StatusOK {
				t.Errorf("GET %s = %d", name, code)
			}
		}
	})

	t.Run("events", func(t *testing.T) {
		res, err := http.Get(s.URL + "/api/v1/display/hm/events")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		events := readEvents(res.Body)
		first := nextBoard(t, events, 5*time.Second)
		if got := first.calls(); len(got) != 2 || got[0] != "C002@1号窗口#1 called" {
			t.Fatalf("first board event calls %q", got)
		}
		start := time.Now()
		c := h.callNext(t)
		b := nextBoard(t, events, 5*time.Second)
		if got := b.calls(); len(got) != 3 || got[0] != "C003@1号窗口#1 called" || b.waiting("housing-fund") != 0 {
			t.Fatalf("board event after calling C003: calls %q, housing-fund waiting %d", got, b.waiting("housing-fund"))
		}
		t.Logf("the call reached the stream after %v", time.Since(start).Round(time.Millisecond))
		h.recall(t, c.TicketID)
		b = nextBoard(t, events, 5*time.Second)
		if got := b.calls(); got[0] != "C003@1号窗口#2 called" {
			t.Fatalf("board event after recalling C003: calls %q", got)
		}

		// Shutting down ends open streams instead of waiting for them.
		start = time.Now()
		if err := s.stop(); err != nil {
			t.Fatalf("stop with an open stream: %v", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("stopping with an open stream took %v", d)
		}
		for range events {
		}
	})
}

// TestDisplayStreamsCapped opens as many event streams as one server takes
// and expects the next one refused with a 503 problem.
func TestDisplayStreamsCapped(t *testing.T) {
	s := startServer(t, nil)
	tr := &http.Transport{}
	client := &http.Client{Transport: tr}
	const limit = 100 // maxDisplayStreams in kiosk/display.go
	var open []io.Closer
	t.Cleanup(func() {
		for _, b := range open {
			b.Close()
		}
		tr.CloseIdleConnections()
	})
	for i := 0; i < limit; i++ {
		res, err := client.Get(s.URL + "/api/v1/display/hm/events")
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("stream %d refused: %d", i+1, res.StatusCode)
		}
	}
	res, err := client.Get(s.URL + "/api/v1/display/hm/events")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	wantProblem(t, res.StatusCode, res.Header.Get("Content-Type"), string(body), http.StatusServiceUnavailable, "unavailable", "")
	if res.Header.Get("Retry-After") == "" {
		t.Error("a refused stream does not say when to retry")
	}
	// The board itself is still served.
	if code, _, body := s.get(t, "/api/v1/display/hm/board"); code != http.StatusOK {
		t.Errorf("board while the streams are full: %d %s", code, body)
	}
}
