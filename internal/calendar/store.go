package calendar

import (
	"context"
	"time"
)

// Store keeps the calendars an administrator edits, one versioned
// document per year. Both the SQLite and the MongoDB packages implement
// it; internal/storetest holds its contract.
//
// Not-found reads return an apperr.NotFound error, never a zero value.
type Store interface {
	// Calendars returns the current version of every stored year,
	// ordered by year; none is an empty list.
	Calendars(ctx context.Context) ([]Stored, error)
	// CalendarVersion returns one version of a year's calendar, current
	// or past.
	CalendarVersion(ctx context.Context, year, version int) (Stored, error)
	// PutCalendar stores c as the new current version of its year.
	// Version 1 creates the year; any other version succeeds only if the
	// current one is c.Version-1, so that of two edits of the same
	// version one wins and the other gets apperr.VersionConflict (as
	// does creating a year that exists). Revising a year that does not
	// exist is apperr.NotFound. Earlier versions stay readable through
	// CalendarVersion.
	PutCalendar(ctx context.Context, c Stored) error
}

// Stored is one version of a year's calendar as the store keeps it.
type Stored struct {
	// Year is the calendar's year, the key of the document.
	Year int
	// Version counts the edits of the year from 1.
	Version int
	// Doc is the calendar in the JSON form Parse reads (UTF-8 text);
	// stores return it exactly as written.
	Doc []byte
	// UpdatedAt is when this version was saved; stores keep it in UTC to
	// the millisecond.
	UpdatedAt time.Time
	// UpdatedBy is who saved it: "staff:<id>", or "seed" for the file
	// shipped with the program.
	UpdatedBy string
}
