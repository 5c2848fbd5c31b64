package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"
)

// reportRefusals are the browser's log lines for the refusal the walk
// provokes on purpose: a clerk opening 报表 (403), and the favicon the
// browser may ask for on that refusal page, which names no icon.
var reportRefusals = regexp.MustCompile(`Failed to load resource: the server responded with a status of 403|/favicon\.ico:\d+: error: Failed to load resource: the server responded with a status of 404`)

// chartDrawn is a script that tells whether the canvas in the chart box
// (the id is appended as its argument) has anything painted on it.
const chartDrawn = `(box => { const c = box && box.querySelector("canvas"); if (!c || !c.width || !c.height) return false;
	const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
	for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true;
	return false; })`

// waitXLSX waits for a finished workbook in dir and returns its path.
func waitXLSX(t *testing.T, dir string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".xlsx") {
				continue
			}
			if fi, err := e.Info(); err == nil && fi.Size() > 0 {
				return filepath.Join(dir, e.Name())
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no workbook was downloaded to %s within 15s", dir)
	return ""
}

// TestBrowserConsoleReports walks 报表: a clerk has no link to it and is
// refused the page; a supervisor follows the home page's link and sees
// the day's figures of two served tax tickets with two bad reviews, the
// sector chart and the satisfaction trend drawn, downloads the daily
// workbook, marks a spot-check item 有问题 with a note, and finds the
// mark again after reloading. Every state is checked with axe.
func TestBrowserConsoleReports(t *testing.T) {
	requireChromium(t)
	started := time.Now()
	env, skew := devClock(t, atWednesday9)
	srv := startServer(t, env)
	badTicketReviews(t, srv, skew)
	srv.createStaff(t, "boss", "supervisor")

	b := newDeskBrowser(t)
	d := deskTab{b: b, srv: srv}
	shots := screenshotDir(t)
	downloads := t.TempDir()
	downloadsTo(t, b, downloads)
	logIn := func(t *testing.T, username string) {
		t.Helper()
		d.b.do(t, "open the login page", chromedp.Navigate(d.srv.URL+"/console/login"))
		d.fill(t, "#login-username", username)
		d.b.do(t, "type the password and press Enter", waitLoad(chromedp.SendKeys(chromedp.CSS("#login-password"), testPassword+kb.Enter)))
	}
	var marked string
	steps := []browserStep{
		{"a clerk has no 报表 and is refused the page", func(t *testing.T) {
			logIn(t, "clerk")
			if d.visible(t, `.reports-link a`) {
				t.Error("a clerk's home links to 报表")
			}
			d.b.do(t, "open 报表", chromedp.Navigate(srv.URL+"/console/reports"))
			if s := d.text(t, "body"); !strings.Contains(s, "报表仅供督办人员和管理员查看") {
				t.Errorf("a clerk on 报表 reads %q", s)
			}
			if d.visible(t, "#spot-list") || d.visible(t, "#daily-form") {
				t.Error("a clerk is shown the reports")
			}
			d.b.do(t, "go back to the console", chromedp.Navigate(srv.URL+"/console/"))
			d.logOut(t)
		}},
		{"the supervisor sees the day's figures and the sector chart", func(t *testing.T) {
			logIn(t, "boss")
			d.b.do(t, "follow the 报表 link", waitLoad(chromedp.Click(chromedp.CSS(`.reports-link a[href="/console/reports"]`))))
			d.waitFor(t, "the daily notice loads", `!document.getElementById("daily-body").hidden`)
			if s := d.text(t, "#daily-status"); !strings.Contains(s, "2026-11-25") {
				t.Errorf("daily status = %q", s)
			}
			cells := get(t, b, "read the sector row", chromedp.Evaluate[[]string](
				`[...document.querySelector("#daily-sector tbody tr").cells].map(c => c.innerText.trim())`))
			// 板块, 取号数, 已办结号数, 平均等候, 90% 等候, 受理, 办结, 超期, 评价数, 差评数, 整改中.
			if len(cells) != 13 || cells[0] != "税务服务" || cells[1] != "2" || cells[2] != "2" || cells[8] != "2" || cells[9] != "2" || cells[10] != "2" {
				t.Errorf("daily sector row = %q", cells)
			}
			if s := d.text(t, "#daily-window"); !strings.Contains(s, "3号窗口") {
				t.Errorf("daily windows = %q", s)
			}
			d.waitFor(t, "the sector chart is drawn", chartDrawn+`(document.getElementById("daily-chart"))`)
			name := get(t, b, "read the chart's name", chromedp.Evaluate[string](
				`(b => document.getElementById(b.getAttribute("aria-labelledby")).innerText)(document.getElementById("daily-chart"))`))
			if name != "各板块取号数与平均等候时间" || get(t, b, "read the chart's role", chromedp.Evaluate[string](`document.getElementById("daily-chart").getAttribute("role")`)) != "img" {
				t.Errorf("the sector chart is named %q", name)
			}
			checkChineseFont(t, b, "main h1")
			checkAxe(t, b, "reports page")
		}},
		{"the monthly summary draws the satisfaction trend", func(t *testing.T) {
			d.waitFor(t, "the monthly summary loads", `!document.getElementById("monthly-body").hidden`)
			d.waitFor(t, "the daily trend is drawn", chartDrawn+`(document.getElementById("trend-daily-chart"))`)
			d.waitFor(t, "the weekly trend is drawn", chartDrawn+`(document.getElementById("trend-weekly-chart"))`)
			cells := get(t, b, "read the trend table", chromedp.Evaluate[[]string](
				`[...document.querySelector("#trend-daily tbody tr").cells].map(c => c.innerText.trim())`))
			if len(cells) != 4 || cells[0] != "2026-11-25" || cells[1] != "2" || cells[2] != "0.0%" || cells[3] != "1.50" {
				t.Errorf("daily trend row = %q", cells)
			}
			if s := d.text(t, "#monthly-total"); !strings.Contains(s, "网办率") || !strings.Contains(s, "免提交合计") {
				t.Errorf("monthly facts = %q", s)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-reports.png"))
			checkAxe(t, b, "monthly summary")
		}},
		{"the daily Excel link downloads the workbook", func(t *testing.T) {
			if href := get(t, b, "read the link", chromedp.Evaluate[string](`document.getElementById("daily-xlsx").getAttribute("href")`)); href != "/api/v1/staff/reports/daily.xlsx?date=2026-11-25" {
				t.Errorf("daily Excel link = %q", href)
			}
			d.click(t, "#daily-xlsx")
			f, err := excelize.OpenFile(waitXLSX(t, downloads))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rows, err := f.GetRows("按板块")
			if err != nil || len(rows) < 2 || rows[1][0] != "tax" || rows[1][1] != "2" {
				t.Errorf("按板块 = %q (%v)", rows, err)
			}
		}},
		{"a spot-check item is marked 有问题 with a note", func(t *testing.T) {
			d.waitFor(t, "the spot check lists the tickets", `document.querySelectorAll("#spot-list tbody tr").length === 2`)
			marked = get(t, b, "read the first item", chromedp.Evaluate[string](`document.querySelector("#spot-list tbody tr").dataset.id`))
			row := `#spot-list tbody tr[data-id="` + marked + `"]`
			if s := d.text(t, row+" td.mark"); s != "未标记" {
				t.Errorf("an unmarked item reads %q", s)
			}
			d.fill(t, row+" input", "未一次告知所需材料")
			d.click(t, row+` button[data-verdict="problem"]`)
			d.panelSays(t, "spot-done", "有问题")
			if s := d.text(t, row+" td.mark"); !strings.Contains(s, "有问题") || !strings.Contains(s, "未一次告知所需材料") || !strings.Contains(s, "测试boss") {
				t.Errorf("the marked item reads %q", s)
			}
			if s := d.text(t, "#spot-status"); !strings.Contains(s, "已标记 1 项") {
				t.Errorf("spot status after marking = %q", s)
			}
			saveDeskScreenshot(t, b, filepath.Join(shots, "console-reports-marked.png"))
			checkAxe(t, b, "marked spot check")
		}},
		{"the mark is there after a reload", func(t *testing.T) {
			d.b.do(t, "reload", waitLoad(chromedp.Reload()))
			row := `#spot-list tbody tr[data-id="` + marked + `"]`
			d.waitFor(t, "the spot check lists the item", `!!document.querySelector(`+jsString(row)+`)`)
			if s := d.text(t, row+" td.mark"); !strings.Contains(s, "有问题") || !strings.Contains(s, "未一次告知所需材料") {
				t.Errorf("after a reload the item reads %q", s)
			}
			if v := get(t, b, "read the note", chromedp.Evaluate[string](`document.querySelector(`+jsString(row+" input")+`).value`)); v != "未一次告知所需材料" {
				t.Errorf("note field after a reload = %q", v)
			}
			if s := d.text(t, "#spot-status"); !strings.Contains(s, "已标记 1 项") {
				t.Errorf("spot status = %q", s)
			}
		}},
	}
	walk(t, b, "报表 page", reportRefusals, started, steps)
}
