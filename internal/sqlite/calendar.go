package sqlite

import (
	"context"
	"fmt"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
)

// CalendarStore implements calendar.Store: one row per version of a
// year's calendar, the current version being the highest.
type CalendarStore struct {
	db *DB
}

var _ calendar.Store = (*CalendarStore)(nil)

// NewCalendarStore returns the calendar store on db.
func NewCalendarStore(db *DB) *CalendarStore { return &CalendarStore{db: db} }

func scanCalendar(sc scanner) (calendar.Stored, error) {
	var c calendar.Stored
	var at int64
	err := sc.Scan(&c.Year, &c.Version, &c.Doc, &at, &c.UpdatedBy)
	c.UpdatedAt = fromMS(at)
	return c, err
}

// Calendars implements calendar.Store.
func (s *CalendarStore) Calendars(ctx context.Context) ([]calendar.Stored, error) {
	out, err := queryAll(ctx, s.db, scanCalendar, `SELECT year, version, doc, updated_at, updated_by
		FROM calendar_versions c
		WHERE version = (SELECT max(version) FROM calendar_versions WHERE year = c.year)
		ORDER BY year`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list calendars: %w", err)
	}
	return out, nil
}

// CalendarVersion implements calendar.Store.
func (s *CalendarStore) CalendarVersion(ctx context.Context, year, version int) (calendar.Stored, error) {
	c, err := queryOne(ctx, s.db, scanCalendar, apperr.New(apperr.NotFound, "没有这个日历版本"),
		`SELECT year, version, doc, updated_at, updated_by FROM calendar_versions WHERE year = ? AND version = ?`, year, version)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return c, fmt.Errorf("sqlite: get calendar %d version %d: %w", year, version, err)
	}
	return c, err
}

// PutCalendar implements calendar.Store. The check of the current version
// and the insert run in one write transaction, so they cannot interleave
// with another edit.
func (s *CalendarStore) PutCalendar(ctx context.Context, c calendar.Stored) error {
	if c.Version < 1 {
		return apperr.New(apperr.Invalid, "日历的版本号从 1 开始")
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		var cur int
		err := tx.QueryRow(`SELECT coalesce(max(version), 0) FROM calendar_versions WHERE year = ?`, c.Year).Scan(&cur)
		if err != nil {
			return fmt.Errorf("sqlite: put calendar %d: %w", c.Year, err)
		}
		switch {
		case cur == 0 && c.Version > 1:
			return apperr.New(apperr.NotFound, fmt.Sprintf("没有 %d 年的日历", c.Year))
		case cur != c.Version-1:
			return calendar.VersionConflict(cur)
		}
		_, err = tx.Exec(`INSERT INTO calendar_versions (year, version, doc, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)`,
			c.Year, c.Version, string(c.Doc), ms(c.UpdatedAt), c.UpdatedBy)
		if isUnique(err) { // unreachable after the check; kept as the last word
			return calendar.VersionConflict(c.Version)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put calendar %d version %d: %w", c.Year, c.Version, err)
		}
		return nil
	})
}
