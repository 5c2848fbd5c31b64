package report

import (
	"fmt"
	"io"

	"github.com/xuri/excelize/v2"
)

// figureHeaders are the Chinese column titles of a Figures row, after the
// first column (板块 or 窗口).
var figureHeaders = []string{"取号数", "已办结号数", "平均等候(秒)", "90%等候(秒)", "受理件数", "办结件数", "超期件数",
	"评价数", "差评数", "整改中", "已整改", "未立整改"}

func (f Figures) row() []any {
	return []any{f.Key, f.Tickets, f.Served, f.AvgWaitSec, f.P90WaitSec, f.Accepted, f.Concluded, f.Overdue,
		f.Evaluations, f.BadReviews, f.RectifyOpen, f.RectifyClosed, f.RectifyNone}
}

// Sheet names of the workbooks.
const (
	SheetSummary = "汇总"
	SheetSector  = "按板块"
	SheetWindow  = "按窗口"
	SheetZero    = "零办理事项"
	SheetTrend   = "满意度趋势"
)

type book struct {
	f   *excelize.File
	err error
}

func newBook() *book {
	f := excelize.NewFile()
	b := &book{f: f}
	b.err = f.SetSheetName("Sheet1", SheetSummary)
	return b
}

func (b *book) sheet(name string, rows [][]any) {
	if b.err != nil {
		return
	}
	if name != SheetSummary {
		if _, b.err = b.f.NewSheet(name); b.err != nil {
			return
		}
	}
	for i, r := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			b.err = err
			return
		}
		if b.err = b.f.SetSheetRow(name, cell, &r); b.err != nil {
			return
		}
	}
}

func figureRows(first string, total *Figures, fs []Figures) [][]any {
	rows := [][]any{append([]any{first}, toAny(figureHeaders)...)}
	for _, f := range fs {
		rows = append(rows, f.row())
	}
	if total != nil {
		rows = append(rows, total.row())
	}
	return rows
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func (b *book) write(w io.Writer) error {
	defer b.f.Close()
	if b.err != nil {
		return fmt.Errorf("report: excel: %w", b.err)
	}
	if err := b.f.Write(w); err != nil {
		return fmt.Errorf("report: excel: %w", err)
	}
	return nil
}

// WriteExcel writes the daily notice as an Excel workbook with Chinese
// sheet names and headers.
func (d Daily) WriteExcel(w io.Writer) error {
	b := newBook()
	b.sheet(SheetSummary, append([][]any{{"日通报", d.Center, d.Date}}, figureRows("范围", nil, []Figures{d.Total})...))
	b.sheet(SheetSector, figureRows("板块", &d.Total, d.BySector))
	b.sheet(SheetWindow, figureRows("窗口", nil, d.ByWindow))
	return b.write(w)
}

// WriteExcel writes the monthly summary as an Excel workbook with Chinese
// sheet names and headers. Shares are in per mille, as in the JSON.
func (m Monthly) WriteExcel(w io.Writer) error {
	b := newBook()
	b.sheet(SheetSummary, [][]any{
		{"月汇总", m.Center, m.Month},
		{"指标", "数值"},
		{"取号数", m.Total.Tickets},
		{"平均等候(秒)", m.Total.AvgWaitSec},
		{"90%等候(秒)", m.Total.P90WaitSec},
		{"受理件数", m.Total.Accepted},
		{"办结件数", m.Total.Concluded},
		{"超期件数", m.Total.Overdue},
		{"评价数", m.Total.Evaluations},
		{"差评数", m.Total.BadReviews},
		{"提交件数", m.Submitted},
		{"网上办理件数", m.Online},
		{"网办率(‰)", m.OnlinePermil},
		{"最多跑一次件数", m.OneVisit},
		{"最多跑一次占比(‰)", m.OneVisitPermil},
		{"电子证照免提交材料数", m.ECertMaterials},
		{"复用材料数", m.ReusedMaterials},
		{"免提交合计", m.NotSubmitted},
		{fmt.Sprintf("零办理事项数(近%d个月)", m.ZeroMonths), len(m.ZeroMatters)},
	})
	b.sheet(SheetSector, figureRows("板块", &m.Total, m.BySector))
	b.sheet(SheetWindow, figureRows("窗口", nil, m.ByWindow))
	zero := [][]any{{"事项编码", "事项名称", "板块"}}
	for _, z := range m.ZeroMatters {
		zero = append(zero, []any{z.Code, z.Name, z.Sector})
	}
	b.sheet(SheetZero, zero)
	trend := [][]any{{"周期", "评价数", "满意率(‰)", "平均分(×100)"}}
	for _, pts := range [][]SatisfactionPoint{m.DailyTrend, m.WeeklyTrend} {
		for _, p := range pts {
			trend = append(trend, []any{p.Period, p.Evaluations, p.SatisfiedPermil, p.AvgLevelX100})
		}
	}
	b.sheet(SheetTrend, trend)
	return b.write(w)
}
