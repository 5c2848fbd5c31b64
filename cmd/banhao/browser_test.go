package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core, vendored from npm; see testdata/axe/README.md.
//
//go:embed testdata/axe/axe.min.js
var axeSource string

const chromiumPath = "/usr/bin/chromium"

// The lobby kiosks have portrait 1080×1920 touch screens; the test browser
// gets the same viewport so that layout and screenshots match the lobby.
const kioskWidth, kioskHeight = 1080, 1920

// The kiosk stylesheet promises touch targets of at least 64 CSS px (a
// 70-year-old with an unsteady finger should not need to aim) and text no
// smaller than 0.75rem of the 24px root, that is 18 CSS px.
const (
	minTargetPx = 64
	minFontPx   = 18
)

// cjkFonts are the font families kiosk.css asks for. Chinese text drawn
// with any other font means the kiosk fell back to something that may show
// boxes instead of characters.
var cjkFonts = []string{"WenQuanYi Micro Hei", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"}

// TestBrowserKiosk walks the kiosk the way a citizen does in the lobby: the
// home page with the eleven sectors, typing "gjj" on the on-screen keyboard,
// the search results, and a matter's guide. Every page is checked with
// axe-core; serious and critical violations fail the test.
func TestBrowserKiosk(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		msg := fmt.Sprintf("browser test needs Chromium at %s and a CJK font: apt-get install -y chromium fonts-wqy-microhei (%v)", chromiumPath, err)
		if os.Getenv("BANHAO_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	started := time.Now()
	srv := startServer(t, nil)
	b := newBrowser(t)
	shots := screenshotDir(t)

	steps := []browserStep{
		{"home shows the eleven sectors", func(t *testing.T) {
			b.do(t, "open the kiosk home page", chromedp.Navigate(srv.URL+"/kiosk/"))
			if got := get(t, b, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); got != "您好，请问要办什么事？" {
				t.Errorf("home h1 = %q, want the greeting", got)
			}
			tiles := get(t, b, "read the sector tiles", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("ul.sectors a.tile .tile-name")].filter(e => e.checkVisibility()).map(e => e.innerText.trim())`))
			want := []string{"不动产交易登记", "出入境管理", "住房公积金", "社会综合事务", "商事服务", "投资建设项目",
				"综合便民", "社会保障", "中介服务", "12345热线承办", "税务服务"}
			if strings.Join(tiles, "|") != strings.Join(want, "|") {
				t.Errorf("sector tiles shown:\n  %q\nwant the 1+11 sectors in order:\n  %q", tiles, want)
			}
			checkChineseFont(t, b, "main h1")
			checkChineseFont(t, b, "ul.sectors .tile-name")
			checkReadable(t, b, "home")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-home.png"))
		}},
		{"on-screen keyboard suggests and searches", func(t *testing.T) {
			for _, k := range []string{"g", "j", "j"} {
				b.do(t, "press the "+k+" key", chromedp.Click(chromedp.CSS(`#keyboard button[aria-label="输入 `+k+`"]`)))
			}
			if got := get(t, b, "read the search box", chromedp.Value(chromedp.CSS("#q"))); got != "gjj" {
				t.Fatalf("search box shows %q after pressing G, J, J, want gjj", got)
			}
			// The suggestions come from /api/v1/matters after a short debounce,
			// and the list may first show the matches for "g"; wait for the
			// list a citizen sees once typing stops.
			suggestions := `[...document.querySelectorAll("#suggest a")].filter(a => a.checkVisibility()).map(a => a.innerText.trim())`
			ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
			_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
				suggestions+`.some(n => n.startsWith("住房公积金"))`, chromedp.WithPollingTimeout(0)))
			cancel()
			if err != nil {
				shown := get(t, b, "read the suggestions", chromedp.Evaluate[[]string](suggestions))
				t.Errorf("live suggestions for gjj show no 住房公积金 matter within 5s (%v); shown: %q", err, shown)
			}
			checkAxe(t, b, "home page with suggestions")

			b.do(t, "press the 搜索 key and wait for the results page", waitLoad(
				chromedp.Click(chromedp.CSS(`#keyboard button[aria-label="开始搜索"]`))))
			if loc := get(t, b, "read the location", chromedp.Location()); loc != srv.URL+"/kiosk/search?q=gjj" {
				t.Errorf("搜索 key went to %s, want /kiosk/search?q=gjj", loc)
			}
			if h1 := get(t, b, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); !strings.Contains(h1, "gjj") || !strings.Contains(h1, "搜索结果") {
				t.Errorf("results h1 = %q, want it to name the query gjj", h1)
			}
			names := get(t, b, "read the results", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("main ul.matters a.matter-row .matter-name")].filter(e => e.checkVisibility()).map(e => e.innerText.trim())`))
			if len(names) == 0 {
				t.Fatal("results page lists no matters for gjj")
			}
			// 住房公积金 matters come first: the list starts with one, and no
			// housing-fund matter is ranked below an unrelated one.
			if !strings.HasPrefix(names[0], "住房公积金") {
				t.Errorf("first result for gjj = %q, want a 住房公积金 matter; results: %q", names[0], names)
			}
			for i := 1; i < len(names); i++ {
				if strings.HasPrefix(names[i], "住房公积金") && !strings.HasPrefix(names[i-1], "住房公积金") {
					t.Errorf("住房公积金 matter %q ranked below %q; results: %q", names[i], names[i-1], names)
				}
			}
			// The results, not the keyboard, fill the first screen; the
			// keyboard comes back on demand to change the search.
			if !get(t, b, "check the first result is on screen", chromedp.Evaluate[bool](
				`document.querySelector("main ul.matters a.matter-row").getBoundingClientRect().bottom <= innerHeight`)) {
				t.Error("the first search result is below the first screen")
			}
			checkReadable(t, b, "search results")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-search.png"))
			checkAxe(t, b, "search results page")
			if get(t, b, "check the keyboard waits", chromedp.Evaluate[bool](
				`document.querySelector('#keyboard button[aria-label="输入 g"]').checkVisibility()`)) {
				t.Error("the on-screen keyboard is shown over the search results before 修改搜索 is pressed")
			}
			b.do(t, "press 修改搜索", chromedp.Click(chromedp.CSS("#open-keyboard")))
			if !get(t, b, "check the keyboard is shown", chromedp.Evaluate[bool](
				`document.querySelector('#keyboard button[aria-label="输入 g"]').checkVisibility()`)) {
				t.Error("修改搜索 does not bring the on-screen keyboard back")
			}
		}},
		{"guide shows what a citizen needs", func(t *testing.T) {
			first := get(t, b, "read the first result", chromedp.Text(chromedp.CSS("main ul.matters a.matter-row .matter-name")))
			b.do(t, "open the first result", waitLoad(chromedp.Click(chromedp.CSS("main ul.matters a.matter-row"))))
			if h1 := get(t, b, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); h1 != first {
				t.Errorf("guide h1 = %q, want the matter name %q", h1, first)
			}
			type guide struct {
				Headings  []string `json:"headings"`
				Materials []string `json:"materials"`
				Steps     []string `json:"steps"`
				Main      string   `json:"main"`
			}
			g := get(t, b, "read the guide", chromedp.Evaluate[guide](`(() => {
				const main = document.querySelector("main");
				const visible = sel => [...main.querySelectorAll(sel)].filter(e => e.checkVisibility());
				const after = (title, sel) => {
					const h = visible("h2").find(h => h.innerText.trim() === title);
					const sec = h && h.closest("section");
					return sec ? [...sec.querySelectorAll(sel)].filter(e => e.checkVisibility()).map(e => e.innerText.trim()) : [];
				};
				return {
					headings: visible("h2").map(h => h.innerText.trim()),
					materials: after("申请材料", "tbody tr td:first-child"),
					steps: after("办理流程", "ol li"),
					main: main.innerText,
				};
			})()`))
			for _, h := range []string{"申请材料", "办理流程"} {
				if !slices.Contains(g.Headings, h) {
					t.Errorf("guide has no %s heading; headings: %q", h, g.Headings)
				}
			}
			if len(g.Materials) == 0 || g.Materials[0] == "" {
				t.Errorf("申请材料 lists no material: %q", g.Materials)
			}
			if len(g.Steps) == 0 || g.Steps[0] == "" {
				t.Errorf("办理流程 lists no step: %q", g.Steps)
			}
			for _, want := range []struct{ label, re string }{
				{"承诺时限", `承诺时限\s*(即办|\d+\s*个工作日)`},
				{"咨询电话", `咨询电话：\s*[0-9][0-9-]{4,}`},
				{"投诉监督电话", `投诉监督电话：\s*[0-9][0-9-]{4,}`},
			} {
				if !regexp.MustCompile(want.re).MatchString(g.Main) {
					t.Errorf("guide does not show %s with a value; main text:\n%s", want.label, g.Main)
				}
			}
			checkChineseFont(t, b, "main h1")
			checkChineseFont(t, b, "table.materials tbody td")
			checkReadable(t, b, "guide")
			saveScreenshot(t, b, filepath.Join(shots, "kiosk-guide.png"))
			checkAxe(t, b, "guide page")
		}},
		{"sector page lists its matters", func(t *testing.T) {
			b.do(t, "open the kiosk home page", chromedp.Navigate(srv.URL+"/kiosk/"))
			b.do(t, "touch the 住房公积金 tile", waitLoad(chromedp.Click(chromedp.CSS(`ul.sectors a.tile[href$="/housing-fund"]`))))
			if h1 := get(t, b, "read the h1", chromedp.Text(chromedp.CSS("main h1"))); h1 != "住房公积金" {
				t.Errorf("sector page h1 = %q, want 住房公积金", h1)
			}
			names := get(t, b, "read the matters", chromedp.Evaluate[[]string](
				`[...document.querySelectorAll("main ul.matters a.matter-row .matter-name")].filter(e => e.checkVisibility()).map(e => e.innerText.trim())`))
			if len(names) == 0 {
				t.Error("住房公积金 sector page lists no matters")
			}
			checkReadable(t, b, "sector")
			checkAxe(t, b, "sector page")
		}},
	}
	walk(t, b, "browser walk", nil, started, steps)
}

// TestBrowserKioskIdleReset leaves a guide open and a half-typed search
// untouched, as a citizen walking away would, and expects the kiosk to go
// back to a clean home page for the next person.
func TestBrowserKioskIdleReset(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("BANHAO_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser test needs Chromium at %s: %v", chromiumPath, err)
		}
		t.Skipf("browser test needs Chromium at %s: apt-get install -y chromium fonts-wqy-microhei", chromiumPath)
	}
	srv := startServer(t, map[string]string{"BANHAO_KIOSK_IDLE_RESET": "2s"})
	b := newBrowser(t)
	b.do(t, "open a guide", chromedp.Navigate(srv.URL+"/kiosk/matters/hm-gjj-loan"))
	// The page navigates away by itself, so poll from here: a poll inside
	// the page would be cut off by the navigation it waits for.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		loc, err := chromedp.Run(ctx, chromedp.Location())
		cancel()
		if err == nil && loc == srv.URL+"/kiosk/" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("an untouched guide did not return to the home page within 10s (at %q, %v)", loc, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.do(t, "wait for the home page", chromedp.WaitVisible(chromedp.CSS(`#keyboard button[aria-label="输入 g"]`)))
	b.do(t, "type g", chromedp.Click(chromedp.CSS(`#keyboard button[aria-label="输入 g"]`)))
	deadline = time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("q") ? document.getElementById("q").value : "?"`))
		cancel()
		if err == nil && v == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a half-typed search stayed on screen for 10s (%q, %v)", v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// browser is one headless Chromium tab for a test.
// browserStep is one step of a browser walk, run as a subtest.
type browserStep struct {
	name string
	fn   func(t *testing.T)
}

// walk runs the steps in order, each as a subtest. A step that stopped
// early (t.Fatal) leaves the tab somewhere the next step does not expect,
// so the walk ends there; one that only reported errors does not. Then
// the pages must not have written errors to the browser console, other
// than those matching expected (the refusals the walk provokes on
// purpose; nil expects none).
func walk(t *testing.T, b *browser, what string, expected *regexp.Regexp, started time.Time, steps []browserStep) {
	t.Helper()
	for _, s := range steps {
		finished := false
		t.Run(s.name, func(t *testing.T) {
			s.fn(t)
			finished = true
		})
		if !finished {
			break
		}
	}
	var unexpected []string
	for _, e := range b.pageErrors() {
		if expected == nil || !expected.MatchString(e) {
			unexpected = append(unexpected, e)
		}
	}
	if len(unexpected) > 0 {
		t.Errorf("the pages of the %s wrote errors to the browser console:\n%s", what, strings.Join(unexpected, "\n"))
	}
	t.Logf("%s took %v", what, time.Since(started).Round(time.Millisecond))
}

type browser struct {
	ctx context.Context // the tab; its lifetime is the test's

	mu     sync.Mutex
	errors []string // console errors and uncaught exceptions
}

// newBrowser starts headless Chromium with a fresh profile and closes it at
// cleanup.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	out := &syncBuffer{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // root in a container has no user namespace sandbox
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(filepath.Join(t.TempDir(), "chromium-profile")),
		chromedp.WindowSize(kioskWidth, kioskHeight),
		chromedp.CombinedOutput(out),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
	})
	// The first action starts the browser and ties its life to ctx, so it
	// gets no deadline of its own; a watchdog ends a start that hangs.
	watchdog := time.AfterFunc(60*time.Second, cancelAlloc)
	err := chromedp.Do(ctx, chromedp.EmulateViewport(kioskWidth, kioskHeight))
	if !watchdog.Stop() {
		err = errors.Join(err, errors.New("browser did not start within 60s"))
	}
	if err != nil {
		t.Fatalf("start %s: %v\nbrowser output:\n%s", chromiumPath, err, out.String())
	}
	b := &browser{ctx: ctx}
	console := chromedp.Console(ctx)
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s:%d: %s", m.URL, m.Line+1, m))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) pageErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// stepTimeout bounds every browser step, on a context derived from the tab,
// so that a step that hangs fails with its name instead of stalling go test.
const stepTimeout = 20 * time.Second

// do runs steps that return nothing and fails the test on error.
func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action, fails the test on error, and returns its value.
func get[T any](t *testing.T, b *browser, what string, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitLoad runs trigger and waits for the page it opens to finish loading.
func waitLoad(trigger chromedp.Action[chromedp.Void]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.WaitEvent(page.LoadEventFired, nil, trigger)(ctx, t)
		return err
	})
}

// screenshotDir is where the screenshots go: a test temporary folder, or
// BANHAO_SCREENSHOT_DIR to keep them for a look after the test.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("BANHAO_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// saveScreenshot writes a full-page PNG of the current page. The viewport
// grows to the page's height for the shot, so that the fixed footer is drawn
// at the end of the page and not over the middle of a long guide.
func saveScreenshot(t *testing.T, b *browser, path string) {
	t.Helper()
	h := get(t, b, "measure the page", chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
	b.do(t, "grow the viewport to the page", chromedp.EmulateViewport(kioskWidth, max(h, kioskHeight)))
	png := get(t, b, "take a full-page screenshot", chromedp.FullScreenshot(100))
	b.do(t, "restore the kiosk viewport", chromedp.EmulateViewport(kioskWidth, kioskHeight))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// checkChineseFont fails when the Chinese text of the first element that
// matches sel is not drawn with one of the CJK fonts the stylesheet names,
// which is what a kiosk without a CJK font shows as boxes.
func checkChineseFont(t *testing.T, b *browser, sel string) {
	t.Helper()
	fonts := get(t, b, "read the fonts of "+sel, chromedp.QueryAfter(chromedp.CSS(sel),
		func(ctx context.Context, tg *chromedp.Target, nodes []*chromedp.Node) ([]*css.PlatformFontUsage, error) {
			res, err := cdp.Call(ctx, tg, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: nodes[0].NodeID})
			return res.Fonts, err
		}))
	var used []string
	ok := false
	for _, f := range fonts {
		used = append(used, fmt.Sprintf("%s (%v glyphs)", f.FamilyName, f.GlyphCount))
		for _, want := range cjkFonts {
			if strings.Contains(f.FamilyName, want) && f.GlyphCount > 0 {
				ok = true
			}
		}
	}
	if !ok {
		t.Errorf("%s is drawn with %q, none of the CJK fonts %q; install fonts-wqy-microhei", sel, used, cjkFonts)
	}
}

// checkReadable fails when a visible control is smaller than a finger
// target or visible text is smaller than the kiosk's minimum type size.
func checkReadable(t *testing.T, b *browser, pageName string) {
	t.Helper()
	type problem struct {
		What string  `json:"what"`
		Size float64 `json:"size"`
		Text string  `json:"text"`
	}
	problems := get(t, b, "measure targets and type", chromedp.Evaluate[[]problem](fmt.Sprintf(`(() => {
		const out = [];
		const label = e => (e.getAttribute("aria-label") || e.innerText || e.value || e.outerHTML).trim().slice(0, 40);
		for (const e of document.querySelectorAll("a[href], button, input, select, textarea, [role=button]")) {
			if (!e.checkVisibility()) continue;
			const r = e.getBoundingClientRect();
			const size = Math.min(r.width, r.height);
			if (size < %d) out.push({what: "touch target " + e.tagName.toLowerCase(), size, text: label(e)});
		}
		const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walk.nextNode(); n; n = walk.nextNode()) {
			const e = n.parentElement;
			if (!n.data.trim() || !e || !e.checkVisibility()) continue;
			const size = parseFloat(getComputedStyle(e).fontSize);
			if (size < %d) out.push({what: "text", size, text: n.data.trim().slice(0, 40)});
		}
		return out;
	})()`, minTargetPx, minFontPx)))
	for _, p := range problems {
		if p.What == "text" {
			t.Errorf("%s: text %q is %.1fpx, want at least %dpx", pageName, p.Text, p.Size, minFontPx)
		} else {
			t.Errorf("%s: %s %q is %.1fpx across, want at least %dpx", pageName, p.What, p.Text, p.Size, minTargetPx)
		}
	}
}

// axeViolation is one failed axe rule with the elements that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// axeRun runs axe-core on the document. Beyond the defaults it turns on two
// rules that matter for elderly users at a touch screen: enhanced (AAA)
// contrast and WCAG 2.2 target size.
const axeRun = `axe.run(document, {
	resultTypes: ["violations"],
	rules: {
		"color-contrast-enhanced": { enabled: true },
		"target-size": { enabled: true },
	},
}).then(r => r.violations.map(v => ({
	id: v.id, impact: v.impact || "", help: v.help, helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({ target: JSON.stringify(n.target), summary: n.failureSummary || "" })),
})))`

// checkAxe injects axe-core into the current page and fails on every
// serious or critical violation; lesser ones are logged.
func checkAxe(t *testing.T, b *browser, pageName string) {
	t.Helper()
	b.do(t, "inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	vs := get(t, b, "run axe on the "+pageName, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	for _, v := range vs {
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s: axe %s (%s): %s\n    %s", pageName, v.ID, v.Impact, v.Help, v.URL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n    - %s\n      %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(sb.String())
		} else {
			t.Log(sb.String())
		}
	}
}
