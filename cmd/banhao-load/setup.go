package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/banhao/banhao/internal/identity"
)

// setupLimit bounds the untimed preparation phases (logins, bindings):
// they end when their work does, well before.
const setupLimit = 10 * time.Minute

// newRunID names this run's users, accounts, windows and kiosks, so that
// runs against the same server do not collide.
func newRunID() string { return strconv.FormatInt(time.Now().Unix(), 36) }

// listSectors returns the codes of the center's sectors.
func listSectors(ctx context.Context, a *api, center string) ([]string, error) {
	var sectors struct {
		Items []struct {
			Code string `json:"code"`
		} `json:"items"`
	}
	if err := a.call(ctx, http.MethodGet, "/api/v1/sectors?center="+center, "", nil, &sectors); err != nil {
		return nil, fmt.Errorf("read sectors (is the server running?): %w", err)
	}
	if len(sectors.Items) == 0 {
		return nil, fmt.Errorf("center %q has no sectors", center)
	}
	codes := make([]string, len(sectors.Items))
	for i, s := range sectors.Items {
		codes[i] = s.Code
	}
	return codes, nil
}

// serverDay returns the center's date on the server's clock (which a
// development server may start at BANHAO_DEV_NOW), from the lobby board.
func serverDay(ctx context.Context, a *api, center string) (time.Time, error) {
	var board struct {
		Day string `json:"day"`
	}
	if err := a.call(ctx, http.MethodGet, "/api/v1/display/"+center+"/board", "", nil, &board); err != nil {
		return time.Time{}, fmt.Errorf("read the server's date: %w", err)
	}
	d, err := time.Parse(time.DateOnly, board.Day)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the server's date: %q: %w", board.Day, err)
	}
	return d, nil
}

// staffSession is a logged-in staff account.
type staffSession struct {
	token, id, center string
}

// staffLogin logs a staff account in. Staff logins are limited per
// address (BANHAO_LOGINS_PER_MINUTE, 10 by default): on 429 it says so
// and waits as told.
func staffLogin(ctx context.Context, a *api, username, password string, out io.Writer) (staffSession, error) {
	for {
		var l struct {
			Token string `json:"token"`
			Staff struct {
				ID     string `json:"id"`
				Center string `json:"center"`
			} `json:"staff"`
		}
		err := a.call(ctx, http.MethodPost, "/api/v1/staff/login", "", map[string]string{"username": username, "password": password}, &l)
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusTooManyRequests {
			wait := max(he.retryAfter, time.Second)
			fmt.Fprintf(out, "staff logins are rate-limited (raise BANHAO_LOGINS_PER_MINUTE on the server): waiting %s\n", wait)
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return staffSession{}, ctx.Err()
			}
		}
		if err != nil {
			return staffSession{}, fmt.Errorf("staff login %s: %w", username, err)
		}
		return staffSession{token: l.Token, id: l.Staff.ID, center: l.Staff.Center}, nil
	}
}

// randomPassword returns a password the server accepts (letters and
// digits, at least 10).
func randomPassword() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // documented never to fail
	return "Ld" + hex.EncodeToString(b) + "9"
}

// desk is a window with a clerk signed in to it.
type desk struct {
	window, token string
}

// openDesks creates n windows serving every sector (综合受理) and n clerk
// accounts, and signs each clerk in to a window.
func openDesks(ctx context.Context, a *api, admin staffSession, run string, sectors []string, n int, out io.Writer) ([]desk, error) {
	desks := make([]desk, 0, n)
	for i := range n {
		var w struct {
			ID string `json:"id"`
		}
		if err := a.call(ctx, http.MethodPost, "/api/v1/staff/windows", admin.token,
			map[string]any{"name": fmt.Sprintf("压测%s-%02d", run, i+1), "sectors": sectors}, &w); err != nil {
			return desks, fmt.Errorf("create window: %w", err)
		}
		username, password := fmt.Sprintf("ld%sc%02d", run, i+1), randomPassword()
		if err := a.call(ctx, http.MethodPost, "/api/v1/staff/accounts", admin.token, map[string]any{
			"username": username, "name": "压测柜员", "roles": []string{"clerk"}, "sectors": []string{}, "password": password,
		}, nil); err != nil {
			return desks, fmt.Errorf("create clerk account: %w", err)
		}
		clerk, err := staffLogin(ctx, a, username, password, out)
		if err != nil {
			return desks, err
		}
		if err := a.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/sign-in", clerk.token, nil, nil); err != nil {
			return desks, fmt.Errorf("sign in to window: %w", err)
		}
		desks = append(desks, desk{window: w.ID, token: clerk.token})
		fmt.Fprintf(out, "\rwindows open: %d/%d", i+1, n)
	}
	if n > 0 {
		fmt.Fprintln(out)
	}
	return desks, nil
}

// closeDesks signs the clerks out, so that the windows do not stay open
// on the server after the run.
func closeDesks(a *api, desks []desk) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, d := range desks {
		_ = a.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+d.window+"/sign-out", d.token, nil, nil)
	}
}

// kioskClient is a registered kiosk that signs its requests as a real one
// does (identity.Proof).
type kioskClient struct {
	id     string
	secret []byte
	// skew is the server's clock minus ours: a development server's clock
	// may start at BANHAO_DEV_NOW, and kiosk timestamps must be within
	// identity.ProofWindow of it.
	skew time.Duration
	// nonce and seq make every request's nonce new.
	nonce string
	seq   atomic.Uint64
}

// registerKiosks registers n kiosks at the administrator's center.
func registerKiosks(ctx context.Context, a *api, admin staffSession, run string, n int) ([]*kioskClient, error) {
	var ks []*kioskClient
	for i := range n {
		var r struct {
			Kiosk struct {
				ID        string    `json:"id"`
				CreatedAt time.Time `json:"created_at"`
			} `json:"kiosk"`
			Secret string `json:"secret"`
		}
		if err := a.call(ctx, http.MethodPost, "/api/v1/staff/kiosks", admin.token,
			map[string]any{"location": fmt.Sprintf("压测终端 %s-%d", run, i+1), "card_reader": false, "printer": true}, &r); err != nil {
			return nil, fmt.Errorf("register kiosk: %w", err)
		}
		ks = append(ks, newKiosk(r.Kiosk.ID, r.Secret, r.Kiosk.CreatedAt))
	}
	return ks, nil
}

// newKiosk returns the client of a kiosk registered at created on the
// server's clock.
func newKiosk(id, secret string, created time.Time) *kioskClient {
	b := make([]byte, 8) // 16 hex characters, and a nonce has 16 to 64
	_, _ = rand.Read(b)
	return &kioskClient{id: id, secret: []byte(secret), skew: time.Until(created), nonce: hex.EncodeToString(b)}
}

// post sends a signed kiosk request.
func (k *kioskClient) post(ctx context.Context, a *api, path string, body []byte, out any) error {
	ts := time.Now().Add(k.skew).Unix()
	nonce := k.nonce + "-" + strconv.FormatUint(k.seq.Add(1), 10)
	sig := identity.SignKioskRequest(k.secret, http.MethodPost, path, ts, nonce, body)
	return a.send(ctx, http.MethodPost, path, body, func(h http.Header) {
		// The proof headers of identity.Proof.
		h.Set("X-Kiosk-Id", k.id)
		h.Set("X-Kiosk-Timestamp", strconv.FormatInt(ts, 10))
		h.Set("X-Kiosk-Nonce", nonce)
		h.Set("X-Kiosk-Signature", sig)
	}, out)
}

// loginCitizens logs in n development users of this run, and with bind
// binds each one's real name to a distinct ID number from idBase on, as a
// measured setup phase. It returns their tokens ("" for one that failed).
func loginCitizens(ctx context.Context, a *api, cpu *cpuProbe, run string, n, clients int, bind bool, idBase int, out io.Writer) ([]string, []result) {
	tokens := make([]string, n)
	login := newMeter("mp login")
	binding := newMeter("real-name binding")
	meters := []*meter{login}
	total := int64(n)
	if bind {
		meters = append(meters, binding)
		total *= 2
	}
	var next atomic.Int64
	p := phase{title: "setup: users", d: setupLimit, total: total, cpu: cpu, meters: meters, crews: []crew{{n: clients, loop: func(ctx context.Context, _, _ int) error {
		i := next.Add(1) - 1
		if i >= int64(n) {
			return errStop
		}
		var l struct {
			Token string `json:"token"`
		}
		if err := login.do(ctx, func() error {
			return a.call(ctx, http.MethodPost, "/api/v1/mp/login", "", map[string]string{"code": fmt.Sprintf("dev:load-%s-%d", run, i)}, &l)
		}); err != nil {
			return nil
		}
		if bind {
			err := binding.do(ctx, func() error {
				return a.call(ctx, http.MethodPost, "/api/v1/mp/me/real-name", l.Token,
					map[string]string{"name": "压测用户", "id_number": idNumber(idBase + int(i))}, nil)
			})
			if err != nil {
				return nil
			}
		}
		tokens[i] = l.Token
		return nil
	}}}}
	return tokens, p.run(ctx, out)
}

// idRegions are real county-level division codes (GB/T 2260) of the
// generated ID numbers: 惠民县, 滨城区, 北京市朝阳区, 济南市历下区.
var idRegions = [...]string{"371621", "371602", "110105", "370102"}

// Generated ID numbers are born from idFirstBirth on, over idBirthDays
// days (all adults, none old enough for the elderly priority), with
// sequence numbers 000-999.
var idFirstBirth = time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	idBirthDays = 16000
	// idSpace is how many distinct numbers idNumber makes.
	idSpace = len(idRegions) * idBirthDays * 1000
)

// idNumber returns the k-th (mod idSpace) of idSpace distinct,
// well-formed resident ID numbers: a real region code, a real birth date,
// a sequence number and the GB 11643 check character. One ID number binds
// to one account only, so every user of a run needs their own.
func idNumber(k int) string {
	k %= idSpace
	if k < 0 {
		k += idSpace
	}
	seq := k % 1000
	k /= 1000
	birth := idFirstBirth.AddDate(0, 0, k%idBirthDays)
	body := fmt.Sprintf("%s%s%03d", idRegions[k/idBirthDays], birth.Format("20060102"), seq)
	return body + string(idCheck(body))
}

// idCheck is the GB 11643-1999 check character of 17 digits: the sum of
// each digit times 2^(17-i) mod 11, mod 11, indexes "10X98765432".
func idCheck(body string) byte {
	sum := 0
	for i := range 17 {
		w := 1
		for range 17 - i {
			w = w * 2 % 11
		}
		sum += int(body[i]-'0') * w
	}
	return "10X98765432"[sum%11]
}

// randomIDBase picks where this run's ID numbers start, so that runs
// against the same server almost never reuse a number.
func randomIDBase() int {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return int(v % uint64(idSpace))
}
