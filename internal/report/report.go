// Package report computes the supervisors' reports of a center: the
// daily notice (日通报), the weekly spot check (周抽查) and the monthly
// summary (月汇总). Every figure is aggregated here, in Go, from plain
// range reads of the stores (Source), so that both stores give the same
// figures from the same events.
package report

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
)

// Source is what the reports read: narrow range reads, no aggregation,
// so that the SQLite and the MongoDB store answer alike.
type Source interface {
	// Tickets returns the tickets of center whose Day is in [fromDay, toDay)
	// (ISO dates, "2026-11-01").
	Tickets(ctx context.Context, center, fromDay, toDay string) ([]queue.Ticket, error)
	// Cases returns the cases of center created in [from, to).
	Cases(ctx context.Context, center string, from, to time.Time) ([]cases.Case, error)
	// Evaluations returns the evaluations of center rated in [from, to).
	Evaluations(ctx context.Context, center string, from, to time.Time) ([]review.Evaluation, error)
	// Tasks returns the rectification tasks of center.
	Tasks(ctx context.Context, center string) ([]review.Task, error)
}

// MatterRef names a matter of the catalog for the 零办理 list.
type MatterRef struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Sector string `json:"sector"`
}

// Service builds reports.
type Service struct {
	src Source
	loc *time.Location
	// matters lists the active matters of a center.
	matters func(ctx context.Context, center string) ([]MatterRef, error)
	// Lookback is how long before a period the cases it may count were
	// created: a case accepted or concluded in the period but created
	// before the lookback is not counted. Default 180 days.
	Lookback time.Duration
	// ZeroMonths is N of 零办理: an active matter without a case in the
	// last N months. Default 3.
	ZeroMonths int
	// SamplePerSector is how many concluded cases and how many served
	// tickets the spot check draws per sector. Default 3.
	SamplePerSector int

	// marks, audit, log and now keep the spot-check marks (WithMarks).
	marks MarkStore
	audit *audit.Log
	log   *slog.Logger
	now   func() time.Time
}

// NewService returns a report service reading src, in the center's time
// zone loc; matters lists a center's active matters (may be nil: no
// 零办理 list).
func NewService(src Source, loc *time.Location, matters func(ctx context.Context, center string) ([]MatterRef, error)) *Service {
	return &Service{src: src, loc: loc, matters: matters, Lookback: 180 * 24 * time.Hour, ZeroMonths: 3, SamplePerSector: 3}
}

// Figures are the counts of one sector, one window or the whole center
// in a period. Waits are in whole seconds, from taking a ticket to its
// (last) call; P90 is the nearest-rank 90th percentile.
type Figures struct {
	Key         string `json:"key"`
	Tickets     int    `json:"tickets"`
	Served      int    `json:"served"`
	AvgWaitSec  int64  `json:"avg_wait_sec"`
	P90WaitSec  int64  `json:"p90_wait_sec"`
	Accepted    int    `json:"accepted"`
	Concluded   int    `json:"concluded"`
	Overdue     int    `json:"overdue"`
	Evaluations int    `json:"evaluations"`
	BadReviews  int    `json:"bad_reviews"`
	// RectifyOpen and RectifyClosed are the states of the tasks the
	// period's bad reviews opened; RectifyNone counts bad reviews without one.
	RectifyOpen   int `json:"rectify_open"`
	RectifyClosed int `json:"rectify_closed"`
	RectifyNone   int `json:"rectify_none"`

	// waits collects the waits until finish turns them into the figures.
	waits []int64
}

// Daily is the daily notice (日通报) of a center.
type Daily struct {
	Center   string    `json:"center"`
	Date     string    `json:"date"`
	Total    Figures   `json:"total"`
	BySector []Figures `json:"by_sector"`
	ByWindow []Figures `json:"by_window"`
}

// SatisfactionPoint is the satisfaction of one day or ISO week: the share
// of evaluations rated 满意 or 非常满意 (level ≥ 4), in per mille, and the
// average level ×100, both rounded half up.
type SatisfactionPoint struct {
	Period          string `json:"period"`
	Evaluations     int    `json:"evaluations"`
	SatisfiedPermil int    `json:"satisfied_permil"`
	AvgLevelX100    int    `json:"avg_level_x100"`
	sum, satisfied  int
}

// Monthly is the monthly summary (月汇总) of a center.
type Monthly struct {
	Center   string    `json:"center"`
	Month    string    `json:"month"`
	Total    Figures   `json:"total"`
	BySector []Figures `json:"by_sector"`
	ByWindow []Figures `json:"by_window"`
	// Submitted counts the cases created in the month that were submitted
	// (not drafts); Online those of them submitted from the mini-program.
	// OnlinePermil is 网办率 in per mille.
	Submitted    int `json:"submitted"`
	Online       int `json:"online"`
	OnlinePermil int `json:"online_permil"`
	// OneVisit counts the cases concluded in the month whose applicant
	// came to the center at most once: a window case is one visit plus one
	// more for every one-time notice (一次告知) that sent it back; an online
	// or kiosk case is no visit plus one per notice. OneVisitPermil is its
	// share of the concluded cases.
	OneVisit       int `json:"one_visit"`
	OneVisitPermil int `json:"one_visit_permil"`
	// ECertMaterials and ReusedMaterials count the materials of the
	// month's submitted cases taken from e-certificates (免提交) or reused
	// from an earlier case; NotSubmitted is their sum.
	ECertMaterials  int `json:"ecert_materials"`
	ReusedMaterials int `json:"reused_materials"`
	NotSubmitted    int `json:"not_submitted"`
	// ZeroMatters are the active matters without a case created in the
	// ZeroMonths months up to the month's end (零办理).
	ZeroMonths  int                 `json:"zero_months"`
	ZeroMatters []MatterRef         `json:"zero_matters"`
	DailyTrend  []SatisfactionPoint `json:"daily_trend"`
	WeeklyTrend []SatisfactionPoint `json:"weekly_trend"`
}

// SpotItem is one sampled event for a supervisor to review.
type SpotItem struct {
	Kind   string    `json:"kind"` // "case" or "ticket"
	ID     string    `json:"id"`
	Number string    `json:"number"`
	Sector string    `json:"sector"`
	Window string    `json:"window,omitempty"`
	Matter string    `json:"matter,omitempty"`
	At     time.Time `json:"at"`
	// Mark is the supervisor's last verdict on the item, if any.
	Mark *Mark `json:"mark,omitempty"`
}

// SpotCheck is the weekly spot check (周抽查): a reproducible random
// sample, per sector, of the cases concluded and tickets served in an
// ISO week. The seed is derived from the center and the week, so the same
// week always draws the same sample.
type SpotCheck struct {
	Center string     `json:"center"`
	Week   string     `json:"week"`
	Seed   uint64     `json:"seed"`
	Items  []SpotItem `json:"items"`
}

func badDate(field, msg string) error {
	return apperr.Fields(apperr.FieldError{Field: field, Message: msg})
}

// Daily computes the daily notice of center for date ("2026-11-26").
func (s *Service) Daily(ctx context.Context, center, date string) (Daily, error) {
	day, err := time.ParseInLocation(time.DateOnly, date, s.loc)
	if err != nil {
		return Daily{}, badDate("date", "日期格式应为 2026-11-26")
	}
	end := day.AddDate(0, 0, 1)
	p, err := s.period(ctx, center, day, end)
	if err != nil {
		return Daily{}, err
	}
	return Daily{Center: center, Date: date, Total: p.total, BySector: p.sectors(), ByWindow: p.windows()}, nil
}

// Monthly computes the monthly summary of center for month ("2026-11").
func (s *Service) Monthly(ctx context.Context, center, month string) (Monthly, error) {
	start, err := time.ParseInLocation("2006-01", month, s.loc)
	if err != nil {
		return Monthly{}, badDate("month", "月份格式应为 2026-11")
	}
	end := start.AddDate(0, 1, 0)
	p, err := s.period(ctx, center, start, end)
	if err != nil {
		return Monthly{}, err
	}
	m := Monthly{Center: center, Month: month, Total: p.total, BySector: p.sectors(), ByWindow: p.windows(),
		ZeroMonths: s.ZeroMonths, ZeroMatters: []MatterRef{}}
	concluded := 0
	zeroFrom := end.AddDate(0, -s.ZeroMonths, 0)
	used := map[string]bool{}
	for _, c := range p.cases {
		if !c.CreatedAt.Before(zeroFrom) && c.CreatedAt.Before(end) {
			used[c.Matter] = true
		}
		if in(c.CreatedAt, start, end) && c.State != cases.StateDraft {
			m.Submitted++
			if c.Channel == catalog.ChannelOnline {
				m.Online++
			}
			for _, mat := range c.Materials {
				switch mat.Source {
				case cases.SourceECert:
					m.ECertMaterials++
				case cases.SourceReuse:
					m.ReusedMaterials++
				}
			}
		}
		if concludedIn(c, start, end) {
			concluded++
			visits := len(c.Notices)
			if c.Channel == catalog.ChannelWindow {
				visits++
			}
			if visits <= 1 {
				m.OneVisit++
			}
		}
	}
	m.NotSubmitted = m.ECertMaterials + m.ReusedMaterials
	m.OnlinePermil = permil(m.Online, m.Submitted)
	m.OneVisitPermil = permil(m.OneVisit, concluded)
	if s.matters != nil {
		ms, err := s.matters(ctx, center)
		if err != nil {
			return Monthly{}, fmt.Errorf("report: matters of %s: %w", center, err)
		}
		for _, mr := range ms {
			if !used[mr.Code] {
				m.ZeroMatters = append(m.ZeroMatters, mr)
			}
		}
		sort.Slice(m.ZeroMatters, func(i, j int) bool { return m.ZeroMatters[i].Code < m.ZeroMatters[j].Code })
	}
	daily, weekly := map[string]*SatisfactionPoint{}, map[string]*SatisfactionPoint{}
	for _, e := range p.evals {
		at := e.At.In(s.loc)
		y, w := at.ISOWeek()
		for _, kp := range []struct {
			m   map[string]*SatisfactionPoint
			key string
		}{{daily, at.Format(time.DateOnly)}, {weekly, fmt.Sprintf("%d-W%02d", y, w)}} {
			pt := kp.m[kp.key]
			if pt == nil {
				pt = &SatisfactionPoint{Period: kp.key}
				kp.m[kp.key] = pt
			}
			pt.Evaluations++
			pt.sum += e.Level
			if e.Level >= review.Satisfied {
				pt.satisfied++
			}
		}
	}
	m.DailyTrend, m.WeeklyTrend = trend(daily), trend(weekly)
	return m, nil
}

func trend(pts map[string]*SatisfactionPoint) []SatisfactionPoint {
	out := make([]SatisfactionPoint, 0, len(pts))
	for _, pt := range pts {
		pt.SatisfiedPermil = permil(pt.satisfied, pt.Evaluations)
		pt.AvgLevelX100 = int(math.Floor(float64(pt.sum*100)/float64(pt.Evaluations) + 0.5))
		out = append(out, *pt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	return out
}

// permil is n/total in per mille, rounded half up; 0 when total is 0.
func permil(n, total int) int {
	if total == 0 {
		return 0
	}
	return (n*1000*2 + total) / (total * 2)
}

func in(t, from, to time.Time) bool { return !t.IsZero() && !t.Before(from) && t.Before(to) }

func concluded(c cases.Case) bool {
	return c.State == cases.StateApproved || c.State == cases.StateDenied
}

func concludedIn(c cases.Case, from, to time.Time) bool {
	return concluded(c) && in(c.ClosedAt, from, to)
}

// periodData is what one period's reads hold, sorted by ID so that the
// aggregation does not depend on the order a store returns.
type periodData struct {
	total  Figures
	sector map[string]*Figures
	window map[string]*Figures
	cases  []cases.Case
	evals  []review.Evaluation
}

func (p *periodData) fig(m map[string]*Figures, key string) *Figures {
	f := m[key]
	if f == nil {
		f = &Figures{Key: key}
		m[key] = f
	}
	return f
}

func (s *Service) period(ctx context.Context, center string, from, to time.Time) (*periodData, error) {
	tickets, err := s.src.Tickets(ctx, center, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("report: tickets: %w", err)
	}
	caseFrom := from.Add(-s.Lookback)
	if z := to.AddDate(0, -s.ZeroMonths, 0); z.Before(caseFrom) {
		caseFrom = z
	}
	cs, err := s.src.Cases(ctx, center, caseFrom, to)
	if err != nil {
		return nil, fmt.Errorf("report: cases: %w", err)
	}
	evals, err := s.src.Evaluations(ctx, center, from, to)
	if err != nil {
		return nil, fmt.Errorf("report: evaluations: %w", err)
	}
	tasks, err := s.src.Tasks(ctx, center)
	if err != nil {
		return nil, fmt.Errorf("report: tasks: %w", err)
	}
	slices.SortFunc(tickets, func(a, b queue.Ticket) int { return cmpStr(a.ID, b.ID) })
	slices.SortFunc(cs, func(a, b cases.Case) int { return cmpStr(a.ID, b.ID) })
	slices.SortFunc(evals, func(a, b review.Evaluation) int { return cmpStr(a.ID, b.ID) })
	p := &periodData{total: Figures{Key: "全部"}, sector: map[string]*Figures{}, window: map[string]*Figures{}, cases: cs, evals: evals}
	each := func(sector, window string, do func(f *Figures)) {
		do(&p.total)
		do(p.fig(p.sector, sector))
		if window != "" {
			do(p.fig(p.window, window))
		}
	}
	for _, t := range tickets {
		each(t.Sector, t.Window, func(f *Figures) {
			f.Tickets++
			if t.Status == queue.StatusDone {
				f.Served++
			}
			if !t.CalledAt.IsZero() {
				f.waits = append(f.waits, int64(t.CalledAt.Sub(t.TakenAt)/time.Second))
			}
		})
	}
	for _, c := range cs {
		acc := in(c.AcceptedAt, from, to)
		con := concludedIn(c, from, to)
		// Overdue: concluded in the period after its due time, or still
		// open at the period's end past its due time.
		over := !c.DueAt.IsZero() && ((con && c.ClosedAt.After(c.DueAt)) ||
			(!c.AcceptedAt.IsZero() && c.AcceptedAt.Before(to) && c.DueAt.Before(to) && (c.ClosedAt.IsZero() || !c.ClosedAt.Before(to))))
		if !acc && !con && !over {
			continue
		}
		each(c.Sector, "", func(f *Figures) {
			if acc {
				f.Accepted++
			}
			if con {
				f.Concluded++
			}
			if over {
				f.Overdue++
			}
		})
	}
	taskOf := map[string]review.Task{}
	for _, t := range tasks {
		taskOf[t.Evaluation] = t
	}
	for _, e := range evals {
		each(e.Sector, e.Window, func(f *Figures) {
			f.Evaluations++
			if !review.Bad(e.Level) {
				return
			}
			f.BadReviews++
			t, ok := taskOf[e.ID]
			switch {
			case !ok:
				f.RectifyNone++
			case t.Open():
				f.RectifyOpen++
			default:
				f.RectifyClosed++
			}
		})
	}
	p.total.finish()
	return p, nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (f *Figures) finish() {
	if len(f.waits) == 0 {
		return
	}
	slices.Sort(f.waits)
	var sum int64
	for _, w := range f.waits {
		sum += w
	}
	n := int64(len(f.waits))
	f.AvgWaitSec = (sum*2 + n) / (n * 2)
	rank := int(math.Ceil(0.9 * float64(n)))
	f.P90WaitSec = f.waits[rank-1]
	f.waits = nil
}

func sorted(m map[string]*Figures) []Figures {
	out := make([]Figures, 0, len(m))
	for _, f := range m {
		f.finish()
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (p *periodData) sectors() []Figures { return sorted(p.sector) }
func (p *periodData) windows() []Figures { return sorted(p.window) }

// SpotCheck draws the weekly spot check of center for week ("2026-W48"),
// with the marks given so far.
func (s *Service) SpotCheck(ctx context.Context, center, week string) (SpotCheck, error) {
	sc, err := s.draw(ctx, center, week)
	if err != nil {
		return SpotCheck{}, err
	}
	if err := s.attachMarks(ctx, &sc); err != nil {
		return SpotCheck{}, err
	}
	return sc, nil
}

// draw draws the sample of the spot check, without marks.
func (s *Service) draw(ctx context.Context, center, week string) (SpotCheck, error) {
	var y, w int
	if n, err := fmt.Sscanf(week, "%d-W%d", &y, &w); n != 2 || err != nil || w < 1 || w > 53 {
		return SpotCheck{}, badDate("week", "周的格式应为 2026-W48")
	}
	// Monday of ISO week 1 is the Monday on or before 4 January.
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, s.loc)
	start := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(w-1)*7)
	if yy, ww := start.ISOWeek(); yy != y || ww != w {
		return SpotCheck{}, badDate("week", "没有这一周")
	}
	end := start.AddDate(0, 0, 7)
	tickets, err := s.src.Tickets(ctx, center, start.Format(time.DateOnly), end.Format(time.DateOnly))
	if err != nil {
		return SpotCheck{}, fmt.Errorf("report: spot check tickets: %w", err)
	}
	cs, err := s.src.Cases(ctx, center, start.Add(-s.Lookback), end)
	if err != nil {
		return SpotCheck{}, fmt.Errorf("report: spot check cases: %w", err)
	}
	h := fnv.New64a()
	h.Write([]byte(center + "|" + week))
	sc := SpotCheck{Center: center, Week: week, Seed: h.Sum64(), Items: []SpotItem{}}
	pools := map[string][]SpotItem{}
	for _, c := range cs {
		if concludedIn(c, start, end) {
			pools["case|"+c.Sector] = append(pools["case|"+c.Sector], SpotItem{Kind: "case", ID: c.ID, Number: c.Number, Sector: c.Sector, Matter: c.Matter, At: c.ClosedAt})
		}
	}
	for _, t := range tickets {
		if t.Status == queue.StatusDone {
			pools["ticket|"+t.Sector] = append(pools["ticket|"+t.Sector], SpotItem{Kind: "ticket", ID: t.ID, Number: t.Number, Sector: t.Sector, Window: t.Window, At: t.FinishedAt})
		}
	}
	keys := make([]string, 0, len(pools))
	for k := range pools {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// math/rand on purpose: the sample must be reproducible, not secret.
	rng := rand.New(rand.NewPCG(sc.Seed, 0x6b616e68616f))
	for _, k := range keys {
		pool := pools[k]
		slices.SortFunc(pool, func(a, b SpotItem) int { return cmpStr(a.ID, b.ID) })
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		pool = pool[:min(len(pool), s.SamplePerSector)]
		slices.SortFunc(pool, func(a, b SpotItem) int { return cmpStr(a.ID, b.ID) })
		sc.Items = append(sc.Items, pool...)
	}
	return sc, nil
}
