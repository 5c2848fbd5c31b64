package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// keyed sends req with an Idempotency-Key and returns status, the
// replay header and the body.
func keyed(t *testing.T, req *http.Request, key string) (int, string, string) {
	t.Helper()
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Idempotent-Replayed"), string(b)
}

func (s *server) bearerRequest(t *testing.T, method, path, token, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// A phone, a kiosk or a console that retries a POST with the same
// Idempotency-Key gets the first answer, never a second ticket or window.
func TestIdempotentRetries(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)

	t.Run("a retried ticket is the same ticket", func(t *testing.T) {
		alice := s.mpLogin(t, "alice-idem")
		take := func(key, body string) (int, string, string) {
			return keyed(t, s.bearerRequest(t, http.MethodPost, "/api/v1/mp/tickets", alice, body), key)
		}
		code, replayed, first := take("k-ticket-1", `{"center":"hm","sector":"tax"}`)
		if code != 201 || replayed != "" {
			t.Fatalf("first: %d replayed=%q %s", code, replayed, first)
		}
		code, replayed, again := take("k-ticket-1", `{"center":"hm","sector":"tax"}`)
		if code != 201 || replayed != "true" || again != first {
			t.Fatalf("retry: %d replayed=%q %s\nwant the first answer %s", code, replayed, again, first)
		}
		// Without the key the same request is a new one: refused, since
		// the citizen holds an active ticket already.
		code, _, body := take("", `{"center":"hm","sector":"tax"}`)
		wantProblem(t, code, "application/problem+json", body, 409, "active_ticket", "")
		// The same key with another body is refused, not replayed.
		code, _, body = take("k-ticket-1", `{"center":"hm","sector":"housing-fund"}`)
		wantProblem(t, code, "application/problem+json", body, 409, "idempotency_key_reused", "")
		code, _, body = take(strings.Repeat("k", 256), `{"center":"hm","sector":"tax"}`)
		wantProblem(t, code, "application/problem+json", body, 400, "idempotency_key_invalid", "")
		// Another citizen's request with the same key is theirs alone.
		bob := s.mpLogin(t, "bob-idem")
		code, replayed, theirs := keyed(t, s.bearerRequest(t, http.MethodPost, "/api/v1/mp/tickets", bob, `{"center":"hm","sector":"tax"}`), "k-ticket-1")
		if code != 201 || replayed != "" || theirs == first {
			t.Fatalf("another citizen, same key: %d replayed=%q %s", code, replayed, theirs)
		}
	})

	t.Run("concurrent retries get one ticket", func(t *testing.T) {
		carol := s.mpLogin(t, "carol-idem")
		const n = 6
		var wg sync.WaitGroup
		codes, bodies := make([]int, n), make([]string, n)
		for i := range n {
			wg.Go(func() {
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/mp/tickets", strings.NewReader(`{"center":"hm","sector":"housing-fund"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+carol)
				req.Header.Set("Idempotency-Key", "carol-1")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				codes[i], bodies[i] = res.StatusCode, string(b)
			})
		}
		wg.Wait()
		for i := range n {
			if codes[i] != 201 || bodies[i] != bodies[0] {
				t.Errorf("request %d: %d %s\nwant 201 %s", i, codes[i], bodies[i], bodies[0])
			}
		}
	})

	t.Run("a kiosk's retried walk-in ticket keeps the numbers gapless", func(t *testing.T) {
		k := registerKiosk(t, s, admin)
		k.skew = skew
		take := func(key string) (int, string, map[string]any) {
			code, replayed, body := keyed(t, k.request(http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"business"}`), key)
			var v map[string]any
			json.Unmarshal([]byte(body), &v)
			return code, replayed, v
		}
		code, _, first := take("walk-in-1")
		code2, replayed, again := take("walk-in-1")
		code3, _, next := take("walk-in-2")
		if code != 201 || code2 != 201 || replayed != "true" || again["number"] != first["number"] || code3 != 201 {
			t.Fatalf("tickets: %d %v, retry %d %q %v, next %d %v", code, first, code2, replayed, again, code3, next)
		}
		num := func(v map[string]any) string { s, _ := v["number"].(string); return s }
		if a, b := num(first), num(next); len(a) != 4 || len(b) != 4 || a[1:] == b[1:] || b[1:] != next1(a[1:]) {
			t.Errorf("numbers %s then %s: want consecutive", a, b)
		}
	})

	t.Run("a console retry creates one window", func(t *testing.T) {
		create := func() (int, string, string) {
			return keyed(t, s.bearerRequest(t, http.MethodPost, "/api/v1/staff/windows", admin, `{"name":"9号窗口","sectors":["tax"]}`), "window-9")
		}
		code, _, first := create()
		code2, replayed, again := create()
		if code != 201 || code2 != 201 || replayed != "true" || again != first {
			t.Fatalf("create twice: %d %s / %d %q %s", code, first, code2, replayed, again)
		}
		_, _, list := s.do(t, http.MethodGet, "/api/v1/staff/windows", admin, nil)
		if n := strings.Count(list, "9号窗口"); n != 1 {
			t.Errorf("%d windows named 9号窗口, want 1: %s", n, list)
		}
	})
}

// next1 is the three-digit number after n ("001" → "002").
func next1(n string) string {
	v := 0
	for _, c := range n {
		v = v*10 + int(c-'0')
	}
	v++
	return string([]byte{byte('0' + v/100%10), byte('0' + v/10%10), byte('0' + v%10)})
}
