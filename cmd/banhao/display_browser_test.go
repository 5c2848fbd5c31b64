package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The lobby calling screen is a landscape full-HD TV.
const tvWidth, tvHeight = 1920, 1080

// speechRecorder replaces speechSynthesis.speak, before the page's own
// script runs, with a recorder of what would be said: a test browser has
// no voice, and a test must not depend on one.
const speechRecorder = `(() => {
	window.__spoken = [];
	const record = (u) => { window.__spoken.push({ text: u.text, lang: u.lang }); };
	if (window.speechSynthesis) {
		window.speechSynthesis.speak = record;
	} else {
		Object.defineProperty(window, "speechSynthesis", { configurable: true,
			value: { speak: record, cancel() {}, getVoices() { return []; } } });
	}
})()`

type spoken struct {
	Text string `json:"text"`
	Lang string `json:"lang"`
}

// TestBrowserDisplay puts the lobby calling screen on a TV-sized tab with a
// call already made, then has the clerk call the next ticket and recall it:
// the big number follows, every new call is spoken twice in Mandarin, the
// call already on the board when the page loaded is not, and the page
// stays put although the kiosk idle reset is short.
func TestBrowserDisplay(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	h := newDisplayHall(t, map[string]string{"BANHAO_KIOSK_IDLE_RESET": "2s"})
	for range 3 {
		h.take(t, "housing-fund")
	}
	h.take(t, "tax")
	if c := h.callNext(t); c.Number != "C001" {
		t.Fatalf("first call %s, want C001", c.Number)
	}
	b := newBrowser(t)
	shots := screenshotDir(t)
	b.do(t, "set a TV viewport", chromedp.EmulateViewport(tvWidth, tvHeight))
	b.do(t, "stub speech before any page script", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: speechRecorder})
		return err
	}))
	b.do(t, "open the display", chromedp.Navigate(h.s.URL+"/display/hm"))
	loaded := time.Now()

	text := func(t *testing.T, sel string) string {
		t.Helper()
		return strings.TrimSpace(get(t, b, "read "+sel, chromedp.Evaluate[string](
			`(e => e ? e.innerText : "")(document.querySelector(`+jsString(sel)+`))`)))
	}
	waitFor := func(t *testing.T, what, predicate string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.ctx, 8*time.Second)
		defer cancel()
		if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](predicate, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
			t.Fatalf("%s within 8s: %v; the big call shows %q", what, err, text(t, "#now"))
		}
	}
	said := func(t *testing.T) []spoken {
		t.Helper()
		return get(t, b, "read what was spoken", chromedp.Evaluate[[]spoken](`window.__spoken`))
	}

	if got := text(t, ".now-number"); got != "C001" {
		t.Fatalf("the big number shows %q at load, want C001", got)
	}
	// Wait for the stream, then call.
	waitFor(t, "the event stream opens", `document.body.dataset.link === "open"`)
	second := h.callNext(t)
	waitFor(t, "the big number shows C002", `document.querySelector(".now-number") && document.querySelector(".now-number").innerText === "C002"`)
	if got := text(t, "#now"); !strings.Contains(strings.Join(strings.Fields(got), ""), "请C002号到1号窗口办理") {
		t.Errorf("the big call reads %q, want 请 C002 号 到 1号窗口 办理", got)
	}
	want := spoken{Text: "请C002号到1号窗口办理", Lang: "zh-CN"}
	if got := said(t); !slices.Equal(got, []spoken{want, want}) {
		t.Errorf("spoken after calling C002: %+v, want %q twice in zh-CN and nothing about C001, which was on the board at load", got, want.Text)
	}
	if got := text(t, "#recent li"); !strings.Contains(got, "C001") || !strings.Contains(got, "1号窗口") {
		t.Errorf("the recent calls start with %q, want C001 at 1号窗口", got)
	}
	if got := text(t, `#waiting tr[data-sector="housing-fund"] td`); got != "1" {
		t.Errorf("住房公积金 waiting shows %q, want 1", got)
	}

	// A recall is a new call: it is spoken again.
	h.recall(t, second.TicketID)
	waitFor(t, "the recall is spoken", `window.__spoken.length >= 4`)
	if got := said(t); !slices.Equal(got, []spoken{want, want, want, want}) {
		t.Errorf("spoken after recalling C002: %+v, want %q four times in all", got, want.Text)
	}

	// A full board: eight calls in the list and the latest at a window
	// with a long name.
	code, _, body := h.s.do(t, "POST", "/api/v1/staff/windows", h.s.admin(t), strings.NewReader(`{"name":"综合受理窗口（不动产）","sectors":["business"]}`))
	if code != 201 {
		t.Fatalf("create window: %d %s", code, body)
	}
	var long struct{ ID string }
	json.Unmarshal([]byte(body), &long)
	h.s.signIn(t, h.clerk, long.ID)
	for range 5 {
		h.take(t, "housing-fund")
	}
	last := h.take(t, "business")
	for range 6 {
		h.callNext(t)
	}
	if code, _, body := h.s.do(t, "POST", "/api/v1/staff/windows/"+long.ID+"/call-next", h.clerk, nil); code != 200 || !strings.Contains(body, `"number":"`+last+`"`) {
		t.Fatalf("call %s at the long-named window: %d %s", last, code, body)
	}
	waitFor(t, "the big number shows "+last, `document.querySelector(".now-number") && document.querySelector(".now-number").innerText === "`+last+`"`)
	waitFor(t, "the list shows eight calls", `document.querySelectorAll("#recent li").length === 8`)
	if got := said(t); len(got) == 0 || got[len(got)-1].Text != "请"+last+"号到综合受理窗口（不动产）办理" {
		t.Errorf("the last thing spoken is %+v, want the call of %s", got[max(len(got)-1, 0):], last)
	}

	// A TV for a hall: one screen, nothing cut off or scrolled away.
	type extent struct {
		Width   int64   `json:"width"`
		Height  int64   `json:"height"`
		BigFont float64 `json:"bigFont"`
	}
	e := get(t, b, "measure the page", chromedp.Evaluate[extent](`({
		width: document.documentElement.scrollWidth,
		height: document.documentElement.scrollHeight,
		bigFont: parseFloat(getComputedStyle(document.querySelector(".now-number")).fontSize),
	})`))
	if e.Width > tvWidth || e.Height > tvHeight {
		t.Errorf("the display is %d×%d, larger than the %d×%d TV", e.Width, e.Height, tvWidth, tvHeight)
	}
	if e.BigFont < 160 {
		t.Errorf("the big number is %.0fpx, want it readable across the hall (160px or more)", e.BigFont)
	}
	clipped := get(t, b, "look for clipped rows", chromedp.Evaluate[[]string](`[...document.querySelectorAll("#recent li, #waiting tbody tr")]
		.filter(e => { const r = e.getBoundingClientRect(), p = e.closest("section").getBoundingClientRect(); return r.bottom > p.bottom + 1; })
		.map(e => e.innerText.replace(/\s+/g, " "))`))
	if len(clipped) > 0 {
		t.Errorf("rows cut off at the bottom of their panel: %q", clipped)
	}
	checkChineseFont(t, b, ".display-top h1")
	checkChineseFont(t, b, "#waiting tbody th")
	checkReadable(t, b, "display")
	checkAxe(t, b, "display page")
	png := get(t, b, "take a screenshot", chromedp.CaptureScreenshot())
	path := filepath.Join(shots, "display.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)

	// The kiosk idle reset (2s here) must not take the TV to the kiosk home.
	if d := 3*time.Second - time.Since(loaded); d > 0 {
		time.Sleep(d)
	}
	if loc := get(t, b, "read the location", chromedp.Location()); loc != h.s.URL+"/display/hm" {
		t.Errorf("the display went to %s by itself", loc)
	}
	if errs := b.pageErrors(); len(errs) > 0 {
		t.Errorf("the display wrote errors to the browser console:\n%s", strings.Join(errs, "\n"))
	}
	t.Logf("display walk took %v", time.Since(started).Round(time.Millisecond))
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
