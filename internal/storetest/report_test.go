package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/sqlite"
)

// reportStores are a backend's report source and the bulk loaders that
// fill it with fixture events.
type reportStores struct {
	src     report.Source
	tickets func(context.Context, []queue.Ticket) error
	cases   func(context.Context, []cases.Case) error
	evals   func(context.Context, []review.Evaluation) error
	review  review.Store
	marks   report.MarkStore
}

func pickReport(s stores) reportStores {
	if s.sqlite != nil {
		rv, rs := sqlite.NewReviewStore(s.sqlite), sqlite.NewReportStore(s.sqlite)
		return reportStores{src: rs, tickets: sqlite.NewQueueStore(s.sqlite).BulkInsertTickets,
			cases: sqlite.NewCaseStore(s.sqlite).BulkInsertCases, evals: rv.BulkInsertEvaluations, review: rv, marks: rs}
	}
	rv, rs := mongo.NewReviewStore(s.mongo), mongo.NewReportStore(s.mongo)
	return reportStores{src: rs, tickets: mongo.NewQueueStore(s.mongo).BulkInsertTickets,
		cases: mongo.NewCaseStore(s.mongo).BulkInsertCases, evals: rv.BulkInsertEvaluations, review: rv, marks: rs}
}

func TestReportContract(t *testing.T) {
	runContract(t, pickReport, []scenario[reportStores]{
		{"the daily notice and the monthly summary give the expected figures", testReportFigures},
		{"the weekly spot check draws the same sample every time", testReportSpotCheck},
		{"a spot-check mark is kept per center, week and item, the last one winning", testReportMarks},
	})
}

var reportZone = time.FixedZone("CST", 8*3600)

func nov(day, hour, minute, second int) time.Time {
	return time.Date(2026, 11, day, hour, minute, second, 0, reportZone)
}

// loadReportFixture stores the events the expected figures below are
// worked out from, by hand.
func loadReportFixture(t *testing.T, s reportStores) {
	t.Helper()
	ctx := t.Context()
	tk := func(id, sector, window string, day int, status queue.Status, wait int) queue.Ticket {
		taken := nov(day, 9, 0, 0)
		t := queue.Ticket{ID: id, Center: "C1", Sector: sector, Day: taken.Format(time.DateOnly), Number: id,
			Channel: queue.ChannelKiosk, Priority: queue.PriorityNone, Status: status, TakenAt: taken, Window: window}
		if wait >= 0 {
			t.CalledAt = taken.Add(time.Duration(wait) * time.Second)
			t.Calls = 1
		}
		if status == queue.StatusDone {
			t.FinishedAt = t.CalledAt.Add(5 * time.Minute)
		}
		return t
	}
	tickets := []queue.Ticket{
		tk("t1", "S1", "W1", 2, queue.StatusDone, 60),
		tk("t2", "S1", "W1", 2, queue.StatusDone, 120),
		tk("t3", "S1", "W2", 2, queue.StatusDone, 180),
		tk("t4", "S1", "W1", 2, queue.StatusMissed, 600),
		tk("t5", "S1", "", 2, queue.StatusWaiting, -1),
		tk("t6", "S2", "W2", 2, queue.StatusDone, 30),
		tk("t7", "S2", "W2", 2, queue.StatusDone, 90),
		tk("t8", "S1", "W1", 3, queue.StatusDone, 300),
		tk("other", "S1", "W1", 2, queue.StatusDone, 9999), // another center, below
	}
	tickets[8].Center = "C2"
	for i := range tickets {
		tickets[i].Seq = i + 1
	}
	if err := s.tickets(ctx, tickets); err != nil {
		t.Fatal(err)
	}
	oct := func(day, hour int) time.Time { return time.Date(2026, 10, day, hour, 0, 0, 0, reportZone) }
	cs := []cases.Case{
		{ID: "c1", Number: "N1", Center: "C1", Sector: "S1", Matter: "M1", Channel: catalog.ChannelWindow, State: cases.StateApproved,
			CreatedAt: nov(1, 10, 0, 0), AcceptedAt: nov(2, 9, 0, 0), ClosedAt: nov(2, 15, 0, 0), DueAt: nov(5, 17, 0, 0),
			Materials: []cases.Material{{Name: "身份证", Status: cases.MaterialProvided, Source: cases.SourceECert},
				{Name: "申请表", Status: cases.MaterialProvided, Source: cases.SourceReuse},
				{Name: "照片", Status: cases.MaterialProvided, Source: cases.SourceUpload}}},
		{ID: "c2", Number: "N2", Center: "C1", Sector: "S1", Matter: "M1", Channel: catalog.ChannelOnline, State: cases.StateAccepted,
			CreatedAt: nov(2, 8, 0, 0), AcceptedAt: nov(2, 10, 0, 0), DueAt: nov(2, 12, 0, 0)},
		{ID: "c3", Number: "N3", Center: "C1", Sector: "S2", Matter: "M2", Channel: catalog.ChannelKiosk, State: cases.StateDenied,
			CreatedAt: oct(20, 9), AcceptedAt: oct(21, 9), ClosedAt: nov(2, 11, 0, 0), DueAt: oct(30, 17),
			Notices: []cases.Notice{{At: oct(20, 10)}, {At: oct(20, 15)}}},
		{ID: "c4", Number: "N4", Center: "C1", Sector: "S2", Matter: "M3", Channel: catalog.ChannelOnline, State: cases.StateDraft,
			CreatedAt: nov(2, 9, 0, 0)},
		{ID: "c5", Number: "N5", Center: "C1", Sector: "S1", Matter: "M1", Channel: catalog.ChannelOnline, State: cases.StateSubmitted,
			CreatedAt: nov(10, 9, 0, 0)},
		{ID: "c6", Number: "N6", Center: "C2", Sector: "S1", Matter: "M4", Channel: catalog.ChannelWindow, State: cases.StateApproved,
			CreatedAt: nov(2, 9, 0, 0), AcceptedAt: nov(2, 9, 0, 0), ClosedAt: nov(2, 10, 0, 0)},
	}
	for i := range cs {
		cs[i].Applicant = "id:" + cs[i].ID
		cs[i].UpdatedAt = cs[i].CreatedAt
	}
	if err := s.cases(ctx, cs); err != nil {
		t.Fatal(err)
	}
	ev := func(id, sector, window string, level int, when time.Time) review.Evaluation {
		return review.Evaluation{ID: id, EventKind: review.EventTicket, EventID: "ev-" + id, Holder: "id:x", Center: "C1",
			Sector: sector, Window: window, Level: level, Channel: "kiosk", At: when}
	}
	evals := []review.Evaluation{
		ev("e1", "S1", "W1", 5, nov(2, 10, 0, 0)),
		ev("e2", "S1", "W1", 1, nov(2, 11, 0, 0)),
		ev("e3", "S2", "W2", 2, nov(2, 12, 0, 0)),
		ev("e4", "S2", "", 4, nov(3, 10, 0, 0)),
		ev("e5", "S1", "", 2, nov(9, 10, 0, 0)),
	}
	if err := s.evals(ctx, evals); err != nil {
		t.Fatal(err)
	}
	for _, task := range []review.Task{
		{ID: "k1", Evaluation: "e2", Center: "C1", Sector: "S1", State: review.TaskRectify, DueAt: nov(9, 17, 0, 0), CreatedAt: nov(2, 11, 0, 0), Rev: 1},
		{ID: "k3", Evaluation: "e3", Center: "C1", Sector: "S2", State: review.TaskClosed, DueAt: nov(9, 17, 0, 0), CreatedAt: nov(2, 12, 0, 0), Rev: 1},
	} {
		if err := s.review.CreateTask(ctx, task); err != nil {
			t.Fatal(err)
		}
	}
}

func fixtureMatters(context.Context, string) ([]report.MatterRef, error) {
	return []report.MatterRef{{Code: "M4", Name: "四", Sector: "S2"}, {Code: "M1", Name: "一", Sector: "S1"},
		{Code: "M2", Name: "二", Sector: "S2"}, {Code: "M3", Name: "三", Sector: "S2"}}, nil
}

func testReportFigures(t *testing.T, s reportStores) {
	loadReportFixture(t, s)
	svc := report.NewService(s.src, reportZone, fixtureMatters)
	d, err := svc.Daily(t.Context(), "C1", "2026-11-02")
	if err != nil {
		t.Fatal(err)
	}
	wantDaily := report.Daily{Center: "C1", Date: "2026-11-02",
		Total: report.Figures{Key: "全部", Tickets: 7, Served: 5, AvgWaitSec: 180, P90WaitSec: 600, Accepted: 2, Concluded: 2, Overdue: 2,
			Evaluations: 3, BadReviews: 2, RectifyOpen: 1, RectifyClosed: 1},
		BySector: []report.Figures{
			{Key: "S1", Tickets: 5, Served: 3, AvgWaitSec: 240, P90WaitSec: 600, Accepted: 2, Concluded: 1, Overdue: 1,
				Evaluations: 2, BadReviews: 1, RectifyOpen: 1},
			{Key: "S2", Tickets: 2, Served: 2, AvgWaitSec: 60, P90WaitSec: 90, Concluded: 1, Overdue: 1,
				Evaluations: 1, BadReviews: 1, RectifyClosed: 1},
		},
		ByWindow: []report.Figures{
			{Key: "W1", Tickets: 3, Served: 2, AvgWaitSec: 260, P90WaitSec: 600, Evaluations: 2, BadReviews: 1, RectifyOpen: 1},
			{Key: "W2", Tickets: 3, Served: 3, AvgWaitSec: 100, P90WaitSec: 180, Evaluations: 1, BadReviews: 1, RectifyClosed: 1},
		},
	}
	same(t, "daily", d, wantDaily)

	m, err := svc.Monthly(t.Context(), "C1", "2026-11")
	if err != nil {
		t.Fatal(err)
	}
	wantMonthly := report.Monthly{Center: "C1", Month: "2026-11",
		Total: report.Figures{Key: "全部", Tickets: 8, Served: 6, AvgWaitSec: 197, P90WaitSec: 600, Accepted: 2, Concluded: 2, Overdue: 2,
			Evaluations: 5, BadReviews: 3, RectifyOpen: 1, RectifyClosed: 1, RectifyNone: 1},
		BySector: []report.Figures{
			{Key: "S1", Tickets: 6, Served: 4, AvgWaitSec: 252, P90WaitSec: 600, Accepted: 2, Concluded: 1, Overdue: 1,
				Evaluations: 3, BadReviews: 2, RectifyOpen: 1, RectifyNone: 1},
			{Key: "S2", Tickets: 2, Served: 2, AvgWaitSec: 60, P90WaitSec: 90, Concluded: 1, Overdue: 1,
				Evaluations: 2, BadReviews: 1, RectifyClosed: 1},
		},
		ByWindow: []report.Figures{
			{Key: "W1", Tickets: 4, Served: 3, AvgWaitSec: 270, P90WaitSec: 600, Evaluations: 2, BadReviews: 1, RectifyOpen: 1},
			{Key: "W2", Tickets: 3, Served: 3, AvgWaitSec: 100, P90WaitSec: 180, Evaluations: 1, BadReviews: 1, RectifyClosed: 1},
		},
		Submitted: 3, Online: 2, OnlinePermil: 667,
		OneVisit: 1, OneVisitPermil: 500,
		ECertMaterials: 1, ReusedMaterials: 1, NotSubmitted: 2,
		ZeroMonths: 3, ZeroMatters: []report.MatterRef{{Code: "M4", Name: "四", Sector: "S2"}},
		DailyTrend: []report.SatisfactionPoint{
			{Period: "2026-11-02", Evaluations: 3, SatisfiedPermil: 333, AvgLevelX100: 267},
			{Period: "2026-11-03", Evaluations: 1, SatisfiedPermil: 1000, AvgLevelX100: 400},
			{Period: "2026-11-09", Evaluations: 1, SatisfiedPermil: 0, AvgLevelX100: 200},
		},
		WeeklyTrend: []report.SatisfactionPoint{
			{Period: "2026-W45", Evaluations: 4, SatisfiedPermil: 500, AvgLevelX100: 300},
			{Period: "2026-W46", Evaluations: 1, SatisfiedPermil: 0, AvgLevelX100: 200},
		},
	}
	same(t, "monthly", m, wantMonthly)
}

// same compares by JSON, the figures a supervisor sees.
func same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testReportSpotCheck(t *testing.T, s reportStores) {
	loadReportFixture(t, s)
	svc := report.NewService(s.src, reportZone, nil)
	svc.SamplePerSector = 2
	a, err := svc.SpotCheck(t.Context(), "C1", "2026-W45")
	if err != nil {
		t.Fatal(err)
	}
	b, err := svc.SpotCheck(t.Context(), "C1", "2026-W45")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("two draws differ:\n%v\n%v", a, b)
	}
	count := map[string]int{}
	for _, it := range a.Items {
		count[it.Kind+"|"+it.Sector]++
	}
	// S1 served t1, t2, t3, t8 (4, two drawn); S2 t6, t7; cases c1 (S1), c3 (S2).
	want := map[string]int{"ticket|S1": 2, "ticket|S2": 2, "case|S1": 1, "case|S2": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("sample per kind and sector = %v, want %v", count, want)
	}
	if _, err := svc.SpotCheck(t.Context(), "C1", "2026-W99"); err == nil {
		t.Error("week 99 accepted")
	}
}

// TestReportMonthlyExcel reads the monthly workbook of the fixture back
// with excelize, on every backend.
func TestReportMonthlyExcel(t *testing.T) {
	runContract(t, pickReport, []scenario[reportStores]{{"the monthly workbook holds the month's figures", func(t *testing.T, s reportStores) {
		loadReportFixture(t, s)
		m, err := report.NewService(s.src, reportZone, fixtureMatters).Monthly(t.Context(), "C1", "2026-11")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := m.WriteExcel(&buf); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, want := f.GetSheetList(), []string{report.SheetSummary, report.SheetSector, report.SheetWindow, report.SheetZero, report.SheetTrend}; !reflect.DeepEqual(got, want) {
			t.Errorf("sheets %v, want %v", got, want)
		}
		for _, c := range []struct{ sheet, cell, want string }{
			{report.SheetSummary, "A3", "取号数"}, {report.SheetSummary, "B3", "8"},
			{report.SheetSummary, "A13", "网办率(‰)"}, {report.SheetSummary, "B13", "667"},
			{report.SheetSummary, "B15", "500"}, {report.SheetSummary, "B18", "2"},
			{report.SheetSector, "A1", "板块"}, {report.SheetSector, "E1", "90%等候(秒)"},
			{report.SheetSector, "A2", "S1"}, {report.SheetSector, "D2", "252"}, {report.SheetSector, "A4", "全部"}, {report.SheetSector, "B4", "8"},
			{report.SheetWindow, "A2", "W1"}, {report.SheetWindow, "B2", "4"},
			{report.SheetZero, "A2", "M4"}, {report.SheetZero, "B2", "四"},
			{report.SheetTrend, "A2", "2026-11-02"}, {report.SheetTrend, "C2", "333"}, {report.SheetTrend, "A5", "2026-W45"},
		} {
			got, err := f.GetCellValue(c.sheet, c.cell)
			if err != nil || got != c.want {
				t.Errorf("%s!%s = %q (%v), want %q", c.sheet, c.cell, got, err, c.want)
			}
		}
	}}})
}

func testReportMarks(t *testing.T, s reportStores) {
	ctx := t.Context()
	at := time.Date(2026, 11, 12, 8, 0, 0, 123e6, time.UTC)
	for _, m := range []report.Mark{
		{Center: "C1", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: report.VerdictProblem, Note: "未一次告知", By: "s1", At: at},
		{Center: "C1", Week: "2026-W45", Kind: "case", ID: "t1", Verdict: report.VerdictOK, By: "s1", At: at},
		{Center: "C1", Week: "2026-W46", Kind: "ticket", ID: "t1", Verdict: report.VerdictOK, By: "s1", At: at},
		{Center: "C2", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: report.VerdictOK, By: "s9", At: at},
		// The same item again: replaces the first mark.
		{Center: "C1", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: report.VerdictOK, Note: "已核实", By: "s2", At: at.Add(time.Hour)},
	} {
		if err := s.marks.SaveMark(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.marks.Marks(ctx, "C1", "2026-W45")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(got, func(i, j int) bool { return got[i].Kind < got[j].Kind })
	same(t, "marks", got, []report.Mark{
		{Center: "C1", Week: "2026-W45", Kind: "case", ID: "t1", Verdict: report.VerdictOK, By: "s1", At: at},
		{Center: "C1", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: report.VerdictOK, Note: "已核实", By: "s2", At: at.Add(time.Hour)},
	})
	if !got[0].At.Equal(at) || got[0].At.Location() != time.UTC {
		t.Errorf("time read back as %v, want %v in UTC", got[0].At, at)
	}
	none, err := s.marks.Marks(ctx, "C1", "2026-W47")
	if err != nil || len(none) != 0 {
		t.Errorf("marks of an unmarked week: %v, %v", none, err)
	}
}
