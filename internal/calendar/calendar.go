// Package calendar knows when a center works. It answers two questions
// that must not be confused:
//
//   - which days are statutory working days (工作日): Monday to Friday,
//     less the public holidays, plus the weekend days that the State
//     Council's yearly notice turns into working days (调休上班). Time
//     limits in working days — statutory (法定时限) and promised
//     (承诺时限) — are counted on these.
//   - when a center's hall is open: its weekly opening hours with the
//     lunch break and the extended service (延时服务), such as a Saturday
//     morning, which is opening time but not a working day.
//
// A Calendar is built from data (Parse reads the yearly files in
// assets/calendar) and holds no clock and no storage: callers pass the
// instant or the date they mean. A Calendar never changes once built and
// is safe for concurrent use.
//
// A Book puts the years together, answering each date with its own
// year's Calendar. The Service keeps the Book in force: it starts from the
// shipped files, lets an administrator edit a year as a new version in
// the Store (refusing stale edits and bad data), and swaps in a new Book
// on every change, its own or, on Refresh, another server's.
package calendar

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the centers' zone must load on hosts without zoneinfo files
)

// Day is a civil date, with no time of day and no zone: a holiday, a
// working day, a deadline. It is comparable and usable as a map key.
// Build one with ParseDay or DayOf, or as a literal holding a valid date;
// methods treat an out-of-range literal such as 2026-02-30 the way
// time.Date does (as 2026-03-02).
type Day struct {
	Year  int        // e.g. 2026
	Month time.Month // January is 1
	Day   int        // day of the month, from 1
}

// ParseDay reads a date in the form "2026-02-14".
func ParseDay(s string) (Day, error) {
	d, err := parseDay(s)
	if err != nil {
		return Day{}, fmt.Errorf("calendar: %w", err)
	}
	return d, nil
}

func parseDay(s string) (Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Day{}, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}

// DayOf returns the date of t in t's own location. To get the date at a
// center, use Calendar.DayOf, which converts to the center's zone first.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day{Year: y, Month: m, Day: d}
}

// String formats d as "2026-02-14", the form ParseDay reads.
func (d Day) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Day, which is no date at all.
func (d Day) IsZero() bool { return d == Day{} }

// Time returns the midnight that starts d in loc.
func (d Day) Time(loc *time.Location) time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
}

// Weekday returns the day of the week of d.
func (d Day) Weekday() time.Weekday { return d.Time(time.UTC).Weekday() }

// AddDays returns the date n calendar days after d (before, if n < 0).
func (d Day) AddDays(n int) Day {
	return DayOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Compare returns -1, 0 or +1 as d is before, the same as, or after e.
func (d Day) Compare(e Day) int { return cmp.Compare(d.ordinal(), e.ordinal()) }

// Before reports whether d is before e.
func (d Day) Before(e Day) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Day) After(e Day) bool { return d.Compare(e) > 0 }

// MarshalText implements encoding.TextMarshaler; the zero Day is empty
// text, so that an unset date in JSON reads "" rather than a false date.
func (d Day) MarshalText() ([]byte, error) {
	if d.IsZero() {
		return []byte{}, nil
	}
	return []byte(d.norm().String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseDay's form;
// empty text is the zero Day.
func (d *Day) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Day{}
		return nil
	}
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ordinal counts days since 1970-01-01; midnight UTC is a whole number of
// days from the epoch, so the division is exact on both sides of it.
func (d Day) ordinal() int64 { return d.Time(time.UTC).Unix() / (24 * 60 * 60) }

func (d Day) norm() Day { return d.AddDays(0) }

// Shanghai returns the Asia/Shanghai zone, which every center in China
// uses. The zone database is linked into the binary, so loading cannot
// fail in practice; if it ever did, a fixed UTC+8 zone stands in, which
// is the same clock since China has had no daylight saving time since 1991.
func Shanghai() *time.Location { return shanghai() }

var shanghai = sync.OnceValue(func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*60*60)
	}
	return loc
})

// Hours are one day's opening hours at a center, as wall-clock times
// "HH:MM" in the center's zone. Each period is half-open: a hall with
// Close "17:30" is open at 17:29:59 and closed at 17:30:00. The times must
// rise: Open < LunchStart < LunchEnd < Close <= ExtendedUntil.
type Hours struct {
	// Open is when the doors open, e.g. "08:30".
	Open string `json:"open"`
	// LunchStart is when the lunch break (午休) begins, e.g. "12:00";
	// LunchStart and LunchEnd are set both or neither.
	LunchStart string `json:"lunch_start,omitempty"`
	// LunchEnd is when service resumes after lunch, e.g. "13:30".
	LunchEnd string `json:"lunch_end,omitempty"`
	// Close is when regular service ends, e.g. "17:30".
	Close string `json:"close"`
	// ExtendedUntil, if set, continues service after Close as 延时服务,
	// e.g. "19:00" on a Thursday evening.
	ExtendedUntil string `json:"extended_until,omitempty"`
	// Extended marks the whole day's service as 延时服务, as on a Saturday
	// morning that is not a working day.
	Extended bool `json:"extended,omitempty"`
}

// Week is a center's opening hours for each day of the week; a nil day is
// closed. A holiday is closed whatever its weekday, and a make-up working
// day (调休上班) keeps the hours of the weekday named by
// Config.MakeupHours, not the weekend's own hours.
type Week struct {
	// Mon to Sun are the hours of each weekday, nil when closed.
	Mon *Hours `json:"mon,omitempty"`
	Tue *Hours `json:"tue,omitempty"`
	Wed *Hours `json:"wed,omitempty"`
	Thu *Hours `json:"thu,omitempty"`
	Fri *Hours `json:"fri,omitempty"`
	Sat *Hours `json:"sat,omitempty"`
	Sun *Hours `json:"sun,omitempty"`
}

// On returns the hours for weekday wd, nil if closed.
func (w *Week) On(wd time.Weekday) *Hours {
	switch wd {
	case time.Monday:
		return w.Mon
	case time.Tuesday:
		return w.Tue
	case time.Wednesday:
		return w.Wed
	case time.Thursday:
		return w.Thu
	case time.Friday:
		return w.Fri
	case time.Saturday:
		return w.Sat
	case time.Sunday:
		return w.Sun
	}
	return nil
}

// weekdayKeys are the JSON names of the days, indexed by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// weekdayNames are the days' Chinese names, for error reasons.
var weekdayNames = [7]string{"星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"}

// Holiday is a run of public holiday days (放假), such as 春节 from
// 2026-02-15 to 2026-02-23. The weekend days inside the run are listed
// too, as the State Council's notice counts them.
type Holiday struct {
	// Name is the festival, e.g. "春节".
	Name string `json:"name"`
	// From is the first day off, "YYYY-MM-DD".
	From string `json:"from"`
	// To is the last day off, inclusive; empty means From alone.
	To string `json:"to,omitempty"`
}

// MakeupDay is a Saturday or Sunday that is a working day (调休上班) to
// make up for a weekday given off next to a holiday.
type MakeupDay struct {
	// Name says why, e.g. "春节调休上班".
	Name string `json:"name"`
	// Date is the day, "YYYY-MM-DD"; it must fall on a weekend.
	Date string `json:"date"`
}

// Config is the data a Calendar is built from, in the JSON form of the
// yearly files in assets/calendar.
type Config struct {
	// Year is the year of the holidays and make-up days; every date in the
	// file must fall in it. Days of other years follow the weekday rule
	// alone, so a deployment needs the next year's file before deadlines
	// reach into that year.
	Year int `json:"year"`
	// Source names the official notice the dates come from.
	Source string `json:"source,omitempty"`
	// TimeZone is the IANA zone of the centers; empty means Asia/Shanghai.
	TimeZone string `json:"time_zone,omitempty"`
	// Holidays lists the public holiday runs of the year.
	Holidays []Holiday `json:"holidays"`
	// MakeupDays lists the weekend days that are working days.
	MakeupDays []MakeupDay `json:"makeup_days"`
	// MakeupHours names the weekday ("mon" ... "fri") whose hours a
	// make-up day keeps; empty means "mon".
	MakeupHours string `json:"makeup_hours,omitempty"`
	// Hours are the opening hours of every center not listed in Centers.
	Hours Week `json:"hours"`
	// Centers gives a center, by catalog code, hours of its own.
	Centers map[string]Week `json:"centers,omitempty"`
}

// Period says what a center is doing at an instant.
type Period uint8

// The periods of a center's day.
const (
	// Closed is outside the day's hours, or a day without hours.
	Closed Period = iota
	// Regular is regular service hours.
	Regular
	// Lunch is the lunch break (午休): the hall is closed.
	Lunch
	// Extended is extended service (延时服务): open, outside regular hours.
	Extended
)

// String returns the period's name, for logs and test messages.
func (p Period) String() string {
	switch p {
	case Closed:
		return "closed"
	case Regular:
		return "regular"
	case Lunch:
		return "lunch"
	case Extended:
		return "extended"
	}
	return fmt.Sprintf("Period(%d)", uint8(p))
}

// Calendar holds one year's holidays and make-up working days, and the
// opening hours of a center. Build one with Parse or New; the zero
// Calendar has no zone and is not usable.
type Calendar struct {
	year     int
	loc      *time.Location
	holidays map[Day]string
	makeup   map[Day]string
	makeupAs time.Weekday
	hours    Week
	periods  [7][]span            // compiled from hours, by weekday
	centers  map[string]*Calendar // shared by the default and every center calendar
	base     *Calendar            // the calendar with the default hours
}

// span is one period of a day in minutes after midnight, [from, to).
type span struct {
	from, to int
	period   Period
}

// Parse reads a calendar file (see Config) strictly: unknown fields,
// malformed or misplaced dates, a day that is both a holiday and a
// make-up day, and hours out of order are errors that name the entry.
func Parse(r io.Reader) (*Calendar, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("calendar: decode: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("calendar: trailing data after the calendar")
	}
	return New(cfg)
}

// centerCode has the shape of a catalog center code.
var centerCode = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,63}$`)

// ConfigError is a mistake in a calendar's data that New found. Its
// Field and Reason let an editing screen point at the wrong entry; its
// Error text, in English, is for logs and start-up failures.
type ConfigError struct {
	// Field is the JSON path of the wrong value, e.g. "holidays[1].to" or
	// "hours.tue.lunch_start"; a whole entry, e.g. "holidays[4]", when the
	// entry as a whole is wrong.
	Field string
	// Reason says in Chinese what is wrong, for the administrator who
	// edits the calendar.
	Reason string
	msg    string
}

// Error implements error.
func (e *ConfigError) Error() string { return "calendar: " + e.msg }

func configErr(field, reason, format string, args ...any) *ConfigError {
	return &ConfigError{Field: field, Reason: reason, msg: fmt.Sprintf(format, args...)}
}

// New checks cfg as Parse does and builds its Calendar. A mistake in cfg
// is reported as a *ConfigError.
func New(cfg Config) (*Calendar, error) {
	if cfg.Year < 2000 || cfg.Year > 2100 {
		return nil, configErr("year", "年份须在 2000 到 2100 之间", "year %d: want a year from 2000 to 2100", cfg.Year)
	}
	loc, err := location(cfg.TimeZone)
	if err != nil {
		reason := "不认识的时区，请填写 IANA 时区名，例如 Asia/Shanghai"
		if cfg.TimeZone == "Local" {
			reason = "请写明服务中心所在的时区，例如 Asia/Shanghai"
		}
		return nil, configErr("time_zone", reason, "time_zone: %v", err)
	}
	c := &Calendar{
		year:     cfg.Year,
		loc:      loc,
		holidays: map[Day]string{},
		makeup:   map[Day]string{},
	}
	// date reads the value s of field (its JSON path) of entry where.
	date := func(field, where, s string) (Day, error) {
		name := field[strings.LastIndexByte(field, '.')+1:]
		d, err := parseDay(s)
		if err != nil {
			return Day{}, configErr(field, "日期须为 YYYY-MM-DD 格式的有效日期，例如 2026-10-01", "%s: %s: %v", where, name, err)
		}
		if d.Year != cfg.Year {
			return Day{}, configErr(field, fmt.Sprintf("日期不在 %d 年内", cfg.Year), "%s: %s: %s is not in %d", where, name, d, cfg.Year)
		}
		return d, nil
	}
	for i, h := range cfg.Holidays {
		path := fmt.Sprintf("holidays[%d]", i)
		where := fmt.Sprintf("%s %q", path, h.Name)
		if strings.TrimSpace(h.Name) == "" {
			return nil, configErr(path+".name", "请填写节日名称", "%s: name is empty", where)
		}
		from, err := date(path+".from", where, h.From)
		if err != nil {
			return nil, err
		}
		to := from
		if h.To != "" {
			if to, err = date(path+".to", where, h.To); err != nil {
				return nil, err
			}
		}
		if to.Before(from) {
			return nil, configErr(path+".to", "结束日期早于开始日期", "%s: to %s is before from %s", where, to, from)
		}
		for d := from; !d.After(to); d = d.AddDays(1) {
			if other, dup := c.holidays[d]; dup {
				return nil, configErr(path, fmt.Sprintf("%s 已是“%s”的假日，假期不能重叠", d, other), "%s: %s is already a holiday of %q", where, d, other)
			}
			c.holidays[d] = h.Name
		}
	}
	for i, m := range cfg.MakeupDays {
		path := fmt.Sprintf("makeup_days[%d]", i)
		where := fmt.Sprintf("%s %q", path, m.Name)
		if strings.TrimSpace(m.Name) == "" {
			return nil, configErr(path+".name", "请填写调休上班的原因，例如“春节调休上班”", "%s: name is empty", where)
		}
		d, err := date(path+".date", where, m.Date)
		if err != nil {
			return nil, err
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return nil, configErr(path+".date", fmt.Sprintf("%s 是%s，本来就是工作日；调休上班日须为星期六或星期日", d, weekdayNames[wd]),
				"%s: %s is a %s, a working day already", where, d, wd)
		}
		if h, ok := c.holidays[d]; ok {
			return nil, configErr(path+".date", fmt.Sprintf("%s 同时是“%s”的假日", d, h), "%s: %s is also a holiday of %q", where, d, h)
		}
		if _, dup := c.makeup[d]; dup {
			return nil, configErr(path+".date", fmt.Sprintf("%s 重复列出", d), "%s: %s is listed twice", where, d)
		}
		c.makeup[d] = m.Name
	}
	c.makeupAs = time.Monday
	if cfg.MakeupHours != "" {
		i := slices.Index(weekdayKeys[:], cfg.MakeupHours)
		if i < int(time.Monday) || i > int(time.Friday) {
			return nil, configErr("makeup_hours", "须为 mon、tue、wed、thu、fri 之一", "makeup_hours %q: want one of mon, tue, wed, thu, fri", cfg.MakeupHours)
		}
		c.makeupAs = time.Weekday(i)
	}
	if err := c.setHours("hours", cfg.Hours); err != nil {
		return nil, err
	}
	if c.hours.On(c.makeupAs) == nil {
		wd := weekdayKeys[c.makeupAs]
		return nil, configErr("makeup_hours", fmt.Sprintf("调休上班日沿用%s的办公时间，但%s不办公", weekdayNames[c.makeupAs], weekdayNames[c.makeupAs]),
			"hours: %s is closed, but make-up days keep its hours", wd)
	}
	c.centers = map[string]*Calendar{}
	c.base = c
	codes := make([]string, 0, len(cfg.Centers))
	for code := range cfg.Centers {
		codes = append(codes, code)
	}
	slices.Sort(codes) // report the first bad center the same way every time
	for _, code := range codes {
		if !centerCode.MatchString(code) {
			return nil, configErr("centers."+code, "不是服务中心编码", "centers %q: not a center code", code)
		}
		cc := *c
		if err := cc.setHours("centers."+code, cfg.Centers[code]); err != nil {
			return nil, err
		}
		c.centers[code] = &cc
	}
	return c, nil
}

// location loads the centers' zone. "Local" is refused: the server's own
// zone says nothing about where the center is.
func location(name string) (*time.Location, error) {
	switch name {
	case "", "Asia/Shanghai":
		return Shanghai(), nil
	case "Local":
		return nil, errors.New(`"Local" is not a center's zone; name it, e.g. "Asia/Shanghai"`)
	}
	return time.LoadLocation(name)
}

// setHours validates w and compiles it into c.periods; where prefixes errors.
func (c *Calendar) setHours(where string, w Week) error {
	// Keep a copy, so that the caller's later edits to w change neither
	// HoursOn nor, out of step with it, the compiled periods.
	for _, p := range []**Hours{&w.Mon, &w.Tue, &w.Wed, &w.Thu, &w.Fri, &w.Sat, &w.Sun} {
		if *p != nil {
			h := **p
			*p = &h
		}
	}
	open := false
	for wd := range 7 {
		h := w.On(time.Weekday(wd))
		if h == nil {
			c.periods[wd] = nil
			continue
		}
		spans, err := h.spans()
		if err != nil {
			day := where + "." + weekdayKeys[wd]
			err.Field = day + "." + err.Field
			err.msg = day + ": " + err.msg
			return err
		}
		c.periods[wd] = spans
		open = true
	}
	if !open {
		return configErr(where, "每周至少要有一天办公", "%s: no day has opening hours", where)
	}
	c.hours = w
	return nil
}

// clockNames are the Chinese names of the times of Hours, for error reasons.
var clockNames = map[string]string{
	"open": "开始办公时间", "lunch_start": "午休开始时间", "lunch_end": "午休结束时间",
	"close": "结束办公时间", "extended_until": "延时服务结束时间",
}

// spans checks the order of h's times and lists its periods. An error's
// Field is the name of the wrong time, for the caller to prefix.
func (h *Hours) spans() ([]span, *ConfigError) {
	type field struct{ name, value string }
	fields := []field{{"open", h.Open}}
	switch {
	case h.LunchStart != "" && h.LunchEnd != "":
		fields = append(fields, field{"lunch_start", h.LunchStart}, field{"lunch_end", h.LunchEnd})
	case h.LunchStart != "" || h.LunchEnd != "":
		missing := "lunch_end"
		if h.LunchStart == "" {
			missing = "lunch_start"
		}
		return nil, configErr(missing, "午休开始时间和结束时间须同时填写", "lunch_start and lunch_end go together")
	}
	fields = append(fields, field{"close", h.Close})
	if h.ExtendedUntil != "" {
		fields = append(fields, field{"extended_until", h.ExtendedUntil})
	}
	mins := make([]int, len(fields))
	for i, f := range fields {
		m, ok := parseClock(f.value)
		if !ok {
			return nil, configErr(f.name, "须为 HH:MM 格式的时刻，例如 08:30", "%s %q: want a time of day HH:MM", f.name, f.value)
		}
		mins[i] = m
		if i == 0 {
			continue
		}
		prev := fields[i-1]
		if f.name == "extended_until" {
			if m < mins[i-1] {
				return nil, configErr(f.name, fmt.Sprintf("%s %s 早于%s %s", clockNames[f.name], f.value, clockNames[prev.name], prev.value),
					"extended_until %s is before close %s", f.value, prev.value)
			}
		} else if m <= mins[i-1] {
			return nil, configErr(f.name, fmt.Sprintf("%s %s 须晚于%s %s", clockNames[f.name], f.value, clockNames[prev.name], prev.value),
				"%s %s is not after %s %s", f.name, f.value, prev.name, prev.value)
		}
	}
	service := Regular
	if h.Extended {
		service = Extended
	}
	var spans []span
	if len(fields) >= 4 && fields[1].name == "lunch_start" {
		spans = append(spans,
			span{mins[0], mins[1], service},
			span{mins[1], mins[2], Lunch},
			span{mins[2], mins[3], service})
	} else {
		spans = append(spans, span{mins[0], mins[1], service})
	}
	if last := mins[len(mins)-1]; h.ExtendedUntil != "" && last > spans[len(spans)-1].to {
		spans = append(spans, span{spans[len(spans)-1].to, last, Extended})
	}
	return spans, nil
}

// parseClock reads "HH:MM" (00:00 to 23:59) as minutes after midnight.
func parseClock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	digits := func(a, b byte) int {
		if a < '0' || a > '9' || b < '0' || b > '9' {
			return -1
		}
		return int(a-'0')*10 + int(b-'0')
	}
	h, m := digits(s[0], s[1]), digits(s[3], s[4])
	if h < 0 || h > 23 || m < 0 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// ForCenter returns the calendar of the center with the given catalog
// code: the same days, with the center's own hours if the file gives it
// some, else the default hours.
func (c *Calendar) ForCenter(code string) *Calendar {
	if cc, ok := c.centers[code]; ok {
		return cc
	}
	return c.base
}

// Year returns the year whose holidays and make-up days c holds.
func (c *Calendar) Year() int { return c.year }

// Location returns the zone of c's centers.
func (c *Calendar) Location() *time.Location { return c.loc }

// DayOf returns the date at the center at instant t.
func (c *Calendar) DayOf(t time.Time) Day { return DayOf(t.In(c.loc)) }

// IsWorkingDay reports whether d is a statutory working day: Monday to
// Friday unless a holiday, Saturday or Sunday only as a make-up day.
// Opening hours play no part: a Saturday of 延时服务 is not a working day.
func (c *Calendar) IsWorkingDay(d Day) bool {
	d = d.norm()
	if _, ok := c.holidays[d]; ok {
		return false
	}
	if _, ok := c.makeup[d]; ok {
		return true
	}
	wd := d.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// HolidayName returns the name of the holiday d falls in, if it does.
func (c *Calendar) HolidayName(d Day) (string, bool) {
	name, ok := c.holidays[d.norm()]
	return name, ok
}

// HoursOn returns the center's hours on d, and false if it is closed all
// day: a holiday, or a weekday without hours.
func (c *Calendar) HoursOn(d Day) (Hours, bool) {
	h := c.hours.On(c.hoursWeekday(d.norm()))
	if h == nil || c.isHoliday(d.norm()) {
		return Hours{}, false
	}
	return *h, true
}

// PeriodAt says what the center is doing at instant t, read on the
// center's wall clock whatever t's location.
func (c *Calendar) PeriodAt(t time.Time) Period {
	t = t.In(c.loc)
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	for _, s := range c.spansOn(DayOf(t)) {
		if s.from*60 <= sec && sec < s.to*60 {
			return s.period
		}
	}
	return Closed
}

// OpenAt reports whether the hall serves citizens at instant t: in
// regular hours or extended service, not in the lunch break.
func (c *Calendar) OpenAt(t time.Time) bool {
	p := c.PeriodAt(t)
	return p == Regular || p == Extended
}

// NextOpening returns the first instant at or after t at which the hall
// is open — t itself if it is open then — in the center's zone. It
// returns the zero Time if the hall never opens within two years.
func (c *Calendar) NextOpening(t time.Time) time.Time {
	return nextOpening(c.loc, t, func(Day) *Calendar { return c })
}

// nextOpening is NextOpening on the calendar that cal gives for each day,
// so that a search may run on into the next year's calendar.
func nextOpening(loc *time.Location, t time.Time, cal func(Day) *Calendar) time.Time {
	t = t.In(loc)
	today := DayOf(t)
	if cal(today).OpenAt(t) {
		return t
	}
	sec := t.Hour()*3600 + t.Minute()*60 + t.Second()
	for i := range 2*366 + 7 {
		d := today.AddDays(i)
		for _, s := range cal(d).spansOn(d) {
			if s.period == Lunch || (i == 0 && s.from*60 <= sec) {
				continue
			}
			return time.Date(d.Year, d.Month, d.Day, s.from/60, s.from%60, 0, 0, loc)
		}
	}
	return time.Time{}
}

// WorkingDaysAfter returns the day n working days after d, counting from
// the day after d as the law counts time limits (期间开始之日不计算在内):
// a matter promised in 5 working days and accepted on d is due on
// WorkingDaysAfter(d, 5). Zero returns d. A negative n returns the
// |n|th working day before d, for reminders ahead of a deadline;
// WorkingDaysBetween undoes it exactly only when d is a working day.
func (c *Calendar) WorkingDaysAfter(d Day, n int) Day {
	return workingDaysAfter(c.IsWorkingDay, d, n)
}

func workingDaysAfter(isWorking func(Day) bool, d Day, n int) Day {
	d = d.norm()
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if isWorking(d) {
			n--
		}
	}
	return d
}

// WorkingDaysBetween counts the working days after a up to and including
// b, the inverse of WorkingDaysAfter; it is negative if b is before a.
func (c *Calendar) WorkingDaysBetween(a, b Day) int {
	return workingDaysBetween(c.IsWorkingDay, a, b)
}

func workingDaysBetween(isWorking func(Day) bool, a, b Day) int {
	a, b = a.norm(), b.norm()
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	n := 0
	for d := a.AddDays(1); !d.After(b); d = d.AddDays(1) {
		if isWorking(d) {
			n++
		}
	}
	return sign * n
}

func (c *Calendar) isHoliday(d Day) bool {
	_, ok := c.holidays[d]
	return ok
}

// hoursWeekday is the weekday whose hours apply on d: a make-up day
// keeps a weekday's hours, not its weekend's.
func (c *Calendar) hoursWeekday(d Day) time.Weekday {
	if _, ok := c.makeup[d]; ok {
		return c.makeupAs
	}
	return d.Weekday()
}

// spansOn lists the periods of d, which must be normalized.
func (c *Calendar) spansOn(d Day) []span {
	if c.isHoliday(d) {
		return nil
	}
	return c.periods[c.hoursWeekday(d)]
}

// Span is a stretch of time in which a center serves citizens, [From, To).
type Span struct {
	From, To time.Time
	// Extended marks 延时服务 rather than regular hours.
	Extended bool
}

// OpenSpans lists the stretches of d in which the hall is open (regular
// hours and extended service, without the lunch break), in order, as
// instants in the center's zone; none on a holiday or a closed weekday.
func (c *Calendar) OpenSpans(d Day) []Span {
	var out []Span
	d = d.norm()
	for _, s := range c.spansOn(d) {
		if s.period != Regular && s.period != Extended {
			continue
		}
		from := time.Date(d.Year, d.Month, d.Day, s.from/60, s.from%60, 0, 0, c.loc)
		to := time.Date(d.Year, d.Month, d.Day, s.to/60, s.to%60, 0, 0, c.loc)
		if n := len(out); n > 0 && out[n-1].To.Equal(from) && out[n-1].Extended == (s.period == Extended) {
			out[n-1].To = to
			continue
		}
		out = append(out, Span{From: from, To: to, Extended: s.period == Extended})
	}
	return out
}
