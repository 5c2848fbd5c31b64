// Package deadline is the one time-limit engine (时限计算) that cases
// (办件), consultation replies, review rectifications and deliveries
// share. A limit is a number of working days (工作日) on the center's
// working-day calendar, so holidays (放假) are skipped and make-up working
// days (调休上班) count. The engine holds no clock and no storage: callers
// pass the Clock of a matter and the instant they ask about, and get a
// Status back.
//
// The rules, in the order the engine applies them:
//
//  1. Counting starts on the first working day after the acceptance day
//     (期间开始之日不计算在内), whatever the acceptance day is: a matter
//     accepted on a holiday or a weekend starts on the next working day
//     after it. A limit of n days is due at the end of the nth counted
//     day, that is at 00:00 of the following calendar day in the
//     calendar's zone. A 5-working-day matter accepted on Wednesday
//     30 September 2026 is due at the end of Tuesday 13 October: 1–7
//     October are holidays and Saturday 10 October is a make-up day.
//  2. A pause (暂停计时: waiting for the citizen's correction 补正, or a
//     suspension 中止) stops the count for the working days D with
//     day(From) < D <= day(To): the day a pause begins still counts, the
//     day it ends does not. The due day moves later by the number of
//     working days paused, so a pause begun and ended on the same day
//     moves nothing, and a day covered by two overlapping pauses is
//     skipped once. An open pause (To zero) runs to the day of the
//     instant asked about, so the due day keeps moving while it stays
//     open.
//  3. An approved extension (延长) adds its days to the limit.
//  4. Used is the number of counted days before the day of the instant,
//     plus the elapsed fraction of that day (time since local midnight
//     over 24 hours) if it is itself counted. Left is the limit less Used,
//     never below zero. Used keeps growing past the due day, so that
//     Used − Limit says how late a matter is.
//  5. The level is red (超期) from the due instant on, yellow (预警) once
//     Used reaches Engine.WarnAt of the limit, green (正常) before that.
//
// A Clock is read as it stood at the instant asked about: a pause that
// begins after it is ignored and one that ends after it is still open,
// and an extension approved after it adds nothing yet. So a supervisor's
// question "how did this case stand last Friday" has a true answer.
//
// A Clock that fails Validate has no deadline; Status returns the error
// rather than a guess. A calendar that shows no working day for three
// years (a broken holiday file) makes Status return ErrNoWorkingDay
// instead of searching forever. The cost of Status is linear in the days
// from acceptance to the later of the due day and the instant asked about,
// and it allocates nothing for clocks of up to 16 pauses. Most of that
// cost is the calendar's: a worklist that colours many cases at once
// should build a Table for the request and count on it.
package deadline

import (
	"fmt"
	"math"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
)

// Calendar is what the engine needs of the working-day calendar;
// *calendar.Book implements it. Location must not return nil.
type Calendar interface {
	IsWorkingDay(d calendar.Day) bool
	Location() *time.Location
}

var _ Calendar = (*calendar.Book)(nil)

// MaxDays bounds a limit, extensions included, in working days. It is far
// above any statutory or promised limit (the longest run to tens of
// days) and keeps a mistyped limit from walking the calendar for ages.
const MaxDays = 1000

// noWorkingDaySpan is how many consecutive calendar days without a working
// day make the engine give up on the calendar: three years, longer than
// any real run of holidays by two orders of magnitude.
const noWorkingDaySpan = 3 * 366

// DefaultWarnAt is the share of the limit used at which a matter turns
// yellow when Engine.WarnAt is not set.
const DefaultWarnAt = 0.8

// CodeNoWorkingDay is the error code of ErrNoWorkingDay.
const CodeNoWorkingDay apperr.Code = "no_working_day"

// ErrNoWorkingDay means the calendar shows no working day for three years
// on end, so no deadline can be counted on it; the holiday data is wrong.
var ErrNoWorkingDay = apperr.New(CodeNoWorkingDay, "工作日历连续三年没有工作日，无法计算办理期限，请检查节假日设置")

// Pause stops the count from From to To; see the package doc for which
// days it covers.
type Pause struct {
	// From is the instant the count stopped.
	From time.Time `json:"from"`
	// To is the instant the count resumed; zero while the pause is open,
	// as while waiting for a correction (补正) or during a suspension (中止).
	To time.Time `json:"to,omitzero"`
	// Reason says why, for the record, e.g. "补正材料".
	Reason string `json:"reason,omitempty"`
}

// Extension is an approved extension (延长) of a limit.
type Extension struct {
	// Days is the number of working days added, at least 1.
	Days int `json:"days"`
	// At is the instant the extension was approved; it counts from then.
	At time.Time `json:"at"`
	// Reason says why, for the record.
	Reason string `json:"reason,omitempty"`
}

// Clock is the time limit of one matter: when it was accepted, how many
// working days it has, and what stopped or extended the count since.
type Clock struct {
	// Start is the acceptance instant (受理时间).
	Start time.Time `json:"start"`
	// Days is the limit in working days, from 1 to MaxDays.
	Days int `json:"days"`
	// Pauses lists the pauses, in any order; they may overlap.
	Pauses []Pause `json:"pauses,omitempty"`
	// Extensions lists the approved extensions.
	Extensions []Extension `json:"extensions,omitempty"`
}

// Validate reports what makes c unusable, as an apperr Invalid error
// naming each wrong field: no start, a limit below 1 day or (with its
// extensions) above MaxDays, a pause that begins before acceptance or
// ends before it begins, an extension of less than a day or approved
// before acceptance.
func (c Clock) Validate() error {
	var errs []apperr.FieldError
	add := func(field, msg string) {
		errs = append(errs, apperr.FieldError{Field: field, Message: msg})
	}
	if c.Start.IsZero() {
		add("start", "缺少受理时间")
	}
	switch {
	case c.Days < 1:
		add("days", "办理时限至少为 1 个工作日")
	case c.Days > MaxDays:
		add("days", fmt.Sprintf("办理时限不能超过 %d 个工作日", MaxDays))
	}
	for i, p := range c.Pauses {
		switch {
		case p.From.IsZero():
			add(fmt.Sprintf("pauses[%d].from", i), "缺少暂停计时的开始时间")
		case !c.Start.IsZero() && p.From.Before(c.Start):
			add(fmt.Sprintf("pauses[%d].from", i), "暂停计时不能早于受理时间")
		case !p.To.IsZero() && p.To.Before(p.From):
			add(fmt.Sprintf("pauses[%d].to", i), "恢复计时的时间早于暂停的时间")
		}
	}
	total := max(c.Days, 0)
	for i, x := range c.Extensions {
		if x.Days < 1 || x.Days > MaxDays {
			add(fmt.Sprintf("extensions[%d].days", i), fmt.Sprintf("延长的时限须为 1 到 %d 个工作日", MaxDays))
		} else {
			total += x.Days
		}
		switch {
		case x.At.IsZero():
			add(fmt.Sprintf("extensions[%d].at", i), "缺少延长的批准时间")
		case !c.Start.IsZero() && x.At.Before(c.Start):
			add(fmt.Sprintf("extensions[%d].at", i), "延长的批准时间不能早于受理时间")
		}
	}
	if c.Days <= MaxDays && total > MaxDays {
		add("extensions", fmt.Sprintf("延长后的时限不能超过 %d 个工作日", MaxDays))
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// Level is how a matter stands against its limit, the colour of the
// supervision board (督办).
type Level string

// The levels, from best to worst.
const (
	// Green is within the limit and short of the warning share (正常).
	Green Level = "green"
	// Yellow is within the limit, with the warning share used (预警).
	Yellow Level = "yellow"
	// Red is past the due instant (超期).
	Red Level = "red"
)

// Label returns the level's Chinese name, as staff and citizens see it.
func (l Level) Label() string {
	switch l {
	case Green:
		return "正常"
	case Yellow:
		return "预警"
	case Red:
		return "超期"
	}
	return string(l)
}

// Status is how a Clock stands at one instant.
type Status struct {
	// DueDay is the last working day of the limit.
	DueDay calendar.Day `json:"due_day"`
	// Due is the instant the limit runs out: 00:00 of the day after
	// DueDay in the calendar's zone.
	Due time.Time `json:"due"`
	// Limit is the limit in working days, approved extensions included.
	Limit int `json:"limit"`
	// Used is the working days used, with the fraction of the current day.
	Used float64 `json:"used"`
	// Left is Limit − Used, never below zero.
	Left float64 `json:"left"`
	// Level is the colour: green, yellow or red.
	Level Level `json:"level"`
	// Paused reports whether a pause is open at the instant.
	Paused bool `json:"paused"`
	// Overdue reports whether the instant is at or after Due.
	Overdue bool `json:"overdue"`
}

// Engine computes deadlines. The zero Engine warns at DefaultWarnAt.
type Engine struct {
	// WarnAt is the share of the limit used at which a matter turns
	// yellow, e.g. 0.8; zero, negative or NaN means DefaultWarnAt, and a
	// value above 1 never warns before the matter is overdue.
	WarnAt float64
}

func (e Engine) warnAt() float64 {
	if e.WarnAt > 0 { // false for NaN too
		return e.WarnAt
	}
	return DefaultWarnAt
}

// warnSlack absorbs float rounding in the warning comparison, so that 0.8
// of 5 days warns at exactly 4 days used; it is about 86 microseconds.
const warnSlack = 1e-9

// span is the working days a pause covers, as day numbers counted from the
// acceptance day: from < i <= to.
type span struct{ from, to int }

// Status returns how c stands at instant now on cal: the due day and
// instant, the days used and left, and the level. It returns c's
// Validate error if c is invalid, and ErrNoWorkingDay if cal shows no
// working day for three years.
func (e Engine) Status(cal Calendar, c Clock, now time.Time) (Status, error) {
	if err := c.Validate(); err != nil {
		return Status{}, err
	}
	loc := cal.Location()
	now = now.In(loc)
	acc := calendar.DayOf(c.Start.In(loc))
	accOrd := ordinal(acc)
	today := calendar.DayOf(now)
	todayIdx := int(ordinal(today) - accOrd)

	limit := c.Days
	for _, x := range c.Extensions {
		if !x.At.After(now) {
			limit += x.Days
		}
	}

	// The pauses as they stood at now, in day numbers; the array keeps
	// them off the heap for all but unusual clocks.
	var buf [16]span
	spans := buf[:0]
	paused := false
	for _, p := range c.Pauses {
		if p.From.After(now) {
			continue
		}
		to := todayIdx
		if p.To.IsZero() || p.To.After(now) {
			paused = true
		} else {
			to = int(ordinal(calendar.DayOf(p.To.In(loc))) - accOrd)
		}
		from := int(ordinal(calendar.DayOf(p.From.In(loc))) - accOrd)
		if from < to {
			spans = append(spans, span{from, to})
		}
	}

	var (
		due     calendar.Day
		found   bool
		counted int     // counted days so far
		used    float64 // counted days before today, then today's share
		idle    int     // consecutive days that are not working days
	)
	d := acc
	for i := 1; !found || i <= todayIdx; i++ {
		d = next(d)
		if !cal.IsWorkingDay(d) {
			if idle++; idle >= noWorkingDaySpan {
				return Status{}, ErrNoWorkingDay
			}
			continue
		}
		idle = 0
		if inSpans(spans, i) {
			continue
		}
		counted++
		switch {
		case i < todayIdx:
			used++
		case i == todayIdx:
			used += dayShare(now, today.Time(loc))
		}
		if counted == limit {
			due, found = d, true
		}
	}

	s := Status{
		DueDay: due,
		Due:    due.AddDays(1).Time(loc),
		Limit:  limit,
		Used:   used,
		Left:   max(float64(limit)-used, 0),
		Paused: paused,
	}
	switch {
	case !now.Before(s.Due):
		s.Level, s.Overdue = Red, true
	case used+warnSlack >= e.warnAt()*float64(limit):
		s.Level = Yellow
	default:
		s.Level = Green
	}
	return s, nil
}

// Due returns the due day of c at instant now and the instant it ends;
// see Status.
func (e Engine) Due(cal Calendar, c Clock, now time.Time) (calendar.Day, time.Time, error) {
	s, err := e.Status(cal, c, now)
	if err != nil {
		return calendar.Day{}, time.Time{}, err
	}
	return s.DueDay, s.Due, nil
}

func inSpans(spans []span, i int) bool {
	for _, s := range spans {
		if s.from < i && i <= s.to {
			return true
		}
	}
	return false
}

// dayShare is the share of the day begun at midnight that has passed at
// now, below 1 even on a 25-hour day where a zone has daylight saving.
func dayShare(now, midnight time.Time) float64 {
	f := float64(now.Sub(midnight)) / float64(24*time.Hour)
	return math.Min(math.Max(f, 0), math.Nextafter(1, 0))
}

// next returns the day after d, which must be a valid date. It is
// d.AddDays(1) without the trip through time.Date, which the day-by-day
// walk of Status would otherwise spend a fifth of its time in.
func next(d calendar.Day) calendar.Day {
	if d.Day < 28 || d.Day < daysIn(d.Year, d.Month) {
		d.Day++
		return d
	}
	d.Day = 1
	if d.Month == time.December {
		d.Year++
		d.Month = time.January
		return d
	}
	d.Month++
	return d
}

func daysIn(year int, m time.Month) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// valid reports whether d is a real date, not a literal such as
// 2026-02-30 that time.Date would carry into March.
func valid(d calendar.Day) bool {
	return d.Month >= time.January && d.Month <= time.December && d.Day >= 1 && d.Day <= daysIn(d.Year, d.Month)
}

// ordinal numbers the valid date d from 1970-01-01 (day 0) by arithmetic
// on the proleptic Gregorian calendar, as time.Date would but several
// times faster.
func ordinal(d calendar.Day) int64 {
	y, m, dd := int64(d.Year), int64(d.Month), int64(d.Day)
	if m <= 2 {
		y-- // count the year from March, so that a leap day ends it
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400                     // year of the era, 0 to 399
	doy := (153*((m+9)%12)+2)/5 + dd - 1   // day of the year from 1 March
	doe := yoe*365 + yoe/4 - yoe/100 + doy // day of the era
	return era*146097 + doe - 719468       // 719468 days from 0000-03-01 to 1970-01-01
}

// maxTableDays bounds the days a Table keeps: ten years.
const maxTableDays = 10 * 366

// Table is a Calendar that answers the working days of a range of dates
// from a table built once, and asks the calendar it was built from about
// the others. Status walks its calendar day by day, so a worklist that
// colours thousands of cases at once (a supervision board) runs many
// times faster on a Table built for the request than on a calendar.Book
// directly. Like a Book, a Table never changes and is safe for
// concurrent use; build a new one when the Book in force changes.
type Table struct {
	cal       Calendar
	firstYear int
	// months holds, for each month from January of firstYear, the index
	// in work of its first day (negative for days before the range), so
	// that a lookup needs no date arithmetic.
	months []int
	work   []bool // from the first day of the range
}

var _ Calendar = (*Table)(nil)

// NewTable returns the Table of cal for the days from through to,
// inclusive; at most ten years are kept, and a to before from keeps none.
func NewTable(cal Calendar, from, to calendar.Day) *Table {
	from, to = from.AddDays(0), to.AddDays(0) // make them valid dates
	t := &Table{cal: cal, firstYear: from.Year}
	n := min(ordinal(to)-ordinal(from)+1, maxTableDays)
	if n <= 0 {
		return t
	}
	t.work = make([]bool, n)
	d := from
	for i := range t.work {
		t.work[i] = cal.IsWorkingDay(d)
		d = next(d)
	}
	t.months = make([]int, (d.Year-from.Year)*12+int(d.Month))
	start := int(ordinal(calendar.Day{Year: from.Year, Month: time.January, Day: 1}) - ordinal(from))
	for i := range t.months {
		t.months[i] = start
		start += daysIn(from.Year+i/12, time.Month(i%12+1))
	}
	return t
}

// IsWorkingDay reports whether d is a working day of the calendar the
// table was built from.
func (t *Table) IsWorkingDay(d calendar.Day) bool {
	if valid(d) {
		if m := (d.Year-t.firstYear)*12 + int(d.Month) - 1; m >= 0 && m < len(t.months) {
			if i := t.months[m] + d.Day - 1; i >= 0 && i < len(t.work) {
				return t.work[i]
			}
		}
	}
	return t.cal.IsWorkingDay(d)
}

// Location returns the zone of the calendar the table was built from.
func (t *Table) Location() *time.Location { return t.cal.Location() }
