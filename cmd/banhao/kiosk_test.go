package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/identity"
)

// kioskClient signs requests as a registered kiosk does.
type kioskClient struct {
	s      *server
	id     string
	secret string
	// skew shifts the kiosk's clock; session is the card session token.
	skew    time.Duration
	session string
}

// registerKiosk registers a kiosk through the staff API.
func registerKiosk(t *testing.T, s *server, admin string) *kioskClient {
	t.Helper()
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/kiosks", admin,
		strings.NewReader(`{"location":"一楼大厅东侧","card_reader":true,"printer":true}`))
	if code != http.StatusCreated {
		t.Fatalf("register kiosk: %d %s", code, body)
	}
	var r struct {
		Kiosk  struct{ ID string } `json:"kiosk"`
		Secret string              `json:"secret"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Secret == "" {
		t.Fatalf("register kiosk: %v %s", err, body)
	}
	return &kioskClient{s: s, id: r.Kiosk.ID, secret: r.Secret}
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// request builds a signed request; the caller may tamper with it.
func (k *kioskClient) request(method, path, body string) *http.Request {
	req, _ := http.NewRequest(method, k.s.URL+path, strings.NewReader(body))
	ts := time.Now().Add(k.skew).Unix()
	n := nonce()
	req.Header.Set("X-Kiosk-Id", k.id)
	req.Header.Set("X-Kiosk-Timestamp", fmt.Sprint(ts))
	req.Header.Set("X-Kiosk-Nonce", n)
	req.Header.Set("X-Kiosk-Signature", identity.SignKioskRequest([]byte(k.secret), method, path, ts, n, []byte(body)))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if k.session != "" {
		req.Header.Set("X-Kiosk-Session", k.session)
	}
	return req
}

func send(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	var buf []byte
	if req.Body != nil {
		buf, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(buf))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(b)
}

func (k *kioskClient) do(t *testing.T, method, path, body string) (int, string, string) {
	t.Helper()
	return send(t, k.request(method, path, body))
}

const aliceCard = `{"name":"张三丰","id_number":"` + aliceID + `","valid_from":"2020-01-01","valid_until":"长期"}`

func TestKioskProofAndCardSessions(t *testing.T) {
	s := startServer(t, nil)
	admin := s.admin(t)
	k := registerKiosk(t, s, admin)
	other := registerKiosk(t, s, admin)

	if code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{"printer":"paper_low","reader":"ok"}`); code != 204 {
		t.Fatalf("heartbeat: %d %s", code, body)
	}
	_, _, body := s.do(t, http.MethodGet, "/api/v1/staff/kiosks", admin, nil)
	if !strings.Contains(body, `"printer_status":"paper_low"`) || strings.Contains(body, "secret") {
		t.Fatalf("kiosk list: %s", body)
	}

	t.Run("refused requests", func(t *testing.T) {
		// copyWith sends the headers of a signed request again with body.
		copyWith := func(signed *http.Request, body string) *http.Request {
			req, _ := http.NewRequest(signed.Method, signed.URL.String(), strings.NewReader(body))
			req.Header = signed.Header.Clone()
			return req
		}
		original := k.request(http.MethodPost, "/api/v1/kiosk/heartbeat", `{"printer":"ok"}`)
		if code, _, body := send(t, copyWith(original, `{"printer":"ok"}`)); code != 204 {
			t.Fatalf("original: %d %s", code, body)
		}
		code, ctype, body := send(t, copyWith(original, `{"printer":"ok"}`))
		wantProblem(t, code, ctype, body, 401, "kiosk_replay", "")

		tampered := k.request(http.MethodPost, "/api/v1/kiosk/heartbeat", `{"printer":"ok"}`)
		code, ctype, body = send(t, copyWith(tampered, `{"printer":"error"}`))
		wantProblem(t, code, ctype, body, 401, "kiosk_proof_invalid", "")

		late := *k
		late.skew = -6 * time.Minute
		code, ctype, body = late.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{}`)
		wantProblem(t, code, ctype, body, 401, "kiosk_clock_skew", "")

		forged := *k
		forged.secret = "not-the-secret"
		code, ctype, body = forged.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{}`)
		wantProblem(t, code, ctype, body, 401, "kiosk_proof_invalid", "")

		code, ctype, body = s.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", "", strings.NewReader(`{}`))
		wantProblem(t, code, ctype, body, 401, "kiosk_proof_invalid", "")
	})

	t.Run("card session", func(t *testing.T) {
		code, _, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", aliceCard)
		if code != 201 || !strings.Contains(body, "3716**********0012") || strings.Contains(body, aliceID) {
			t.Fatalf("start: %d %s", code, body)
		}
		var r struct {
			Token string `json:"session_token"`
		}
		json.Unmarshal([]byte(body), &r)
		k.session = r.Token
		if code, _, body := k.do(t, http.MethodGet, "/api/v1/kiosk/card-sessions/current", ""); code != 200 || !strings.Contains(body, "张**") {
			t.Fatalf("current: %d %s", code, body)
		}
		// The session cannot be used from another kiosk.
		other.session = r.Token
		code, ctype, body := other.do(t, http.MethodGet, "/api/v1/kiosk/card-sessions/current", "")
		wantProblem(t, code, ctype, body, 401, "unauthorized", "")
		// Taking the card out ends it.
		if code, _, body := k.do(t, http.MethodDelete, "/api/v1/kiosk/card-sessions/current", ""); code != 204 {
			t.Fatalf("end: %d %s", code, body)
		}
		code, ctype, body = k.do(t, http.MethodGet, "/api/v1/kiosk/card-sessions/current", "")
		wantProblem(t, code, ctype, body, 401, "unauthorized", "")
		k.session = ""
	})

	t.Run("bad cards", func(t *testing.T) {
		for name, tt := range map[string]struct {
			body, code, field string
			status            int
		}{
			"expired":        {`{"name":"张三丰","id_number":"` + aliceID + `","valid_from":"2000-01-01","valid_until":"2020-01-01"}`, "card_expired", "", 422},
			"wrong checksum": {`{"name":"张三丰","id_number":"371621198001010013","valid_from":"2020-01-01"}`, "invalid_input", "id_number", 400},
			"bad date":       {`{"name":"张三丰","id_number":"` + aliceID + `","valid_from":"2020/01/01"}`, "invalid_input", "valid_from", 400},
		} {
			t.Run(name, func(t *testing.T) {
				code, ctype, body := k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", tt.body)
				wantProblem(t, code, ctype, body, tt.status, tt.code, tt.field)
			})
		}
	})

	t.Run("revoked kiosk", func(t *testing.T) {
		if code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/kiosks/"+other.id+"/revoke", admin, nil); code != 204 {
			t.Fatalf("revoke: %d %s", code, body)
		}
		code, ctype, body := other.do(t, http.MethodPost, "/api/v1/kiosk/heartbeat", `{}`)
		wantProblem(t, code, ctype, body, 401, "kiosk_revoked", "")
		if log := auditActions(t, s, admin); !strings.Contains(log, "kiosk.request denied") || !strings.Contains(log, "kiosk.revoke ok") {
			t.Errorf("kiosk refusals and revocation are not audited:\n%s", log)
		}
	})
}
