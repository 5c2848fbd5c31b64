package calendar

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Book is the set of yearly calendars in force at one moment: each date
// is answered by the calendar of its own year. A year the book has no
// calendar for follows the weekday rule alone (Monday to Friday are
// working days) with the opening hours of the nearest year it has, the
// latest earlier one if any, so a deployment keeps working into a year
// whose official notice is not published yet. Like a Calendar, a Book
// never changes once built and is safe for concurrent use; Service swaps
// in a new one when an administrator edits the calendar.
type Book struct {
	loc   *time.Location
	years map[int]*Calendar
	// bare holds, by year, the calendar of that year without its
	// holidays and make-up days: the stand-in for missing years.
	bare map[int]*Calendar
	// order lists the years, ascending.
	order []int
}

// NewBook returns the book of cals: at least one, no year twice, and all
// in one time zone (the queue files a ticket under its center's day once
// and for all).
func NewBook(cals ...*Calendar) (*Book, error) {
	if len(cals) == 0 {
		return nil, errors.New("calendar: a book needs at least one year's calendar")
	}
	b := &Book{loc: cals[0].loc, years: map[int]*Calendar{}, bare: map[int]*Calendar{}}
	for _, c := range cals {
		if _, dup := b.years[c.year]; dup {
			return nil, fmt.Errorf("calendar: %d is in the book twice", c.year)
		}
		if c.loc.String() != b.loc.String() {
			return nil, fmt.Errorf("calendar: %d is in zone %s, the book in %s", c.year, c.loc, b.loc)
		}
		c = c.base
		b.years[c.year] = c
		b.bare[c.year] = c.withoutDays()
	}
	b.order = slices.Sorted(maps.Keys(b.years))
	return b, nil
}

// withoutDays returns c's default and center hours with no holidays and
// no make-up days.
func (c *Calendar) withoutDays() *Calendar {
	base := *c.base
	base.holidays, base.makeup = map[Day]string{}, map[Day]string{}
	base.base = &base
	base.centers = make(map[string]*Calendar, len(c.base.centers))
	for code, cc := range c.base.centers {
		v := *cc
		v.holidays, v.makeup, v.base, v.centers = base.holidays, base.makeup, &base, base.centers
		base.centers[code] = &v
	}
	return &base
}

// Location returns the zone of the book's centers.
func (b *Book) Location() *time.Location { return b.loc }

// Years lists the years the book holds a calendar for, ascending.
func (b *Book) Years() []int { return slices.Clone(b.order) }

// Year returns the calendar of year y, and false if the book has none:
// then the calendar returned is the weekday-rule stand-in described at
// Book, which knows no holidays.
func (b *Book) Year(y int) (*Calendar, bool) {
	if c, ok := b.years[y]; ok {
		return c, true
	}
	i, _ := slices.BinarySearch(b.order, y)
	if i > 0 {
		i-- // the latest earlier year
	}
	return b.bare[b.order[i]], false
}

// On returns the calendar that answers for date d: its year's.
func (b *Book) On(d Day) *Calendar {
	c, _ := b.Year(d.norm().Year)
	return c
}

// At returns the calendar that answers at instant t: that of the year of
// the center's date at t.
func (b *Book) At(t time.Time) *Calendar { return b.On(DayOf(t.In(b.loc))) }

// OpenAt reports whether the hall of center serves citizens at instant t;
// see Calendar.OpenAt.
func (b *Book) OpenAt(center string, t time.Time) bool {
	return b.At(t).ForCenter(center).OpenAt(t)
}

// NextOpening returns the first instant at or after t at which the hall of
// center is open, crossing into the next year's calendar when the search
// runs past New Year; see Calendar.NextOpening.
func (b *Book) NextOpening(center string, t time.Time) time.Time {
	return nextOpening(b.loc, t, func(d Day) *Calendar { return b.On(d).ForCenter(center) })
}

// OpenSpans lists the stretches of d in which the hall of center is open;
// see Calendar.OpenSpans.
func (b *Book) OpenSpans(center string, d Day) []Span {
	return b.On(d).ForCenter(center).OpenSpans(d)
}

// HolidayName returns the name of the holiday d falls in, if it does.
func (b *Book) HolidayName(d Day) (string, bool) { return b.On(d).HolidayName(d) }

// IsWorkingDay reports whether d is a statutory working day by its
// year's calendar; see Calendar.IsWorkingDay.
func (b *Book) IsWorkingDay(d Day) bool { return b.On(d).IsWorkingDay(d) }

// WorkingDaysAfter is Calendar.WorkingDaysAfter counted on each day's own
// year, so a time limit that runs over New Year skips the next year's
// holidays too.
func (b *Book) WorkingDaysAfter(d Day, n int) Day {
	return workingDaysAfter(b.IsWorkingDay, d, n)
}

// WorkingDaysBetween is Calendar.WorkingDaysBetween counted on each day's
// own year; it undoes WorkingDaysAfter as that one does.
func (b *Book) WorkingDaysBetween(a, c Day) int {
	return workingDaysBetween(b.IsWorkingDay, a, c)
}
