package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserEvaluationPad rates a served ticket on the window's
// evaluation pad (评价器): five large faces with their words, a touch on
// 非常不满意 rates the ticket just completed there and opens a
// rectification task; a second touch says it was rated already.
func TestBrowserEvaluationPad(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	admin := srv.admin(t)
	kc := registerKiosk(t, srv, admin)
	kc.skew = skew
	code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"5号窗口","sectors":["tax"]}`))
	if code != http.StatusCreated {
		t.Fatalf("window: %d %s", code, body)
	}
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	card := *kc
	card.session = startCard(t, kc, aliceCard)
	if code, _, body := card.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"tax"}`); code != http.StatusCreated {
		t.Fatalf("take: %d %s", code, body)
	}
	srv.createStaff(t, "clerk", "clerk")
	clerk := srv.login(t, "clerk", testPassword)
	srv.signIn(t, clerk, w.ID)
	code, _, body = srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil)
	var called struct {
		TicketID string `json:"ticket_id"`
	}
	if err := json.Unmarshal([]byte(body), &called); err != nil || code != http.StatusOK {
		t.Fatalf("call: %d %s", code, body)
	}
	if code, _, body := srv.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/tickets/"+called.TicketID+"/complete", clerk, nil); code != http.StatusOK {
		t.Fatalf("complete: %d %s", code, body)
	}

	b := newBrowser(t)
	kioskBrowserClock(t, b, skew)
	k := kioskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	steps := []browserStep{
		{"the pad shows five large faces with their words", func(t *testing.T) {
			k.open(t, "/kiosk/")
			b.do(t, "set the kiosk up", chromedp.Evaluate[chromedp.Void](
				`localStorage.setItem("banhao.kiosk.id", `+jsString(kc.id)+`); localStorage.setItem("banhao.kiosk.secret", `+jsString(kc.secret)+`)`))
			k.open(t, "/kiosk/pad?window="+w.ID)
			if h1 := k.text(t, "main h1"); !strings.Contains(h1, "5号窗口") {
				t.Errorf("h1 = %q, want the window's name", h1)
			}
			words := get(t, b, "read the faces", chromedp.Evaluate[string](
				`[...document.querySelectorAll("button.pad-face")].map(e => e.querySelector(".pad-word").innerText.trim()).join(",")`))
			if words != "非常满意,满意,基本满意,不满意,非常不满意" {
				t.Errorf("faces %q", words)
			}
			small := get(t, b, "measure the faces", chromedp.Evaluate[int](
				`[...document.querySelectorAll("button.pad-face")].filter(e => { const r = e.getBoundingClientRect(); return r.width < 64 || r.height < 64 }).length`))
			if small != 0 {
				t.Errorf("%d faces are smaller than 64 px", small)
			}
			// Each face is drawn (no emoji font needed), at least 64 px, with a
			// mouth that differs from the others.
			drawn := get(t, b, "measure the drawn faces", chromedp.Evaluate[string](
				`[...document.querySelectorAll("button.pad-face svg.face")].filter(s => s.getBoundingClientRect().width >= 64).map(s => s.querySelector("path:last-of-type").getAttribute("d")).join("|")`))
			if mouths := strings.Split(drawn, "|"); len(mouths) != 5 || len(slices.Compact(slices.Sorted(slices.Values(mouths)))) != 5 {
				t.Errorf("drawn faces: %q, want five different ones of at least 64 px", drawn)
			}
			checkChineseFont(t, b, ".pad-word")
			checkReadable(t, b, "evaluation pad")
			checkAxe(t, b, "evaluation pad")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-pad.png"))
		}},
		{"非常不满意 rates the ticket just served; a second touch is refused", func(t *testing.T) {
			k.click(t, `button.pad-face[data-level="1"]`)
			k.waitFor(t, "the thanks", `!document.getElementById("pad-thanks").hidden`, 10*time.Second)
			if got := k.text(t, "#pad-thanks"); !strings.Contains(got, "非常不满意") {
				t.Errorf("thanks read %q", got)
			}
			code, _, body := srv.do(t, http.MethodGet, "/api/v1/staff/rectifications", clerk, nil)
			if code != http.StatusOK || !strings.Contains(body, `"state":"verify"`) {
				t.Errorf("no rectification task after the bad review: %d %s", code, body)
			}
			k.click(t, `button.pad-face[data-level="5"]`)
			title, _ := k.readProblem(t)
			if title != "这次办理已经评价过了，谢谢您" {
				t.Errorf("second touch: %q", title)
			}
			checkAxe(t, b, "evaluation pad refusal")
		}},
	}
	walk(t, b, "evaluation pad walk", regexp.MustCompile(`status of 409`), started, steps)
}
