package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestCalendarStore is the contract of calendar.Store.
func TestCalendarStore(t *testing.T) {
	runContract(t, pickCalendars, calendarScenarios)
}

// pickCalendars builds the calendar store on the backend's database.
func pickCalendars(s stores) calendar.Store {
	if s.sqlite != nil {
		return sqlite.NewCalendarStore(s.sqlite)
	}
	return mongo.NewCalendarStore(s.mongo)
}

var calendarScenarios = []scenario[calendar.Store]{
	{"an empty store lists no calendar; unknown years and versions are not found", testCalEmpty},
	{"a created year reads back equal: document byte for byte, time in UTC to the millisecond", testCalCreate},
	{"revisions: the list shows each year's latest, by year; every version stays readable", testCalRevise},
	{"stale, skipped and duplicate versions are version conflicts and change nothing", testCalStale},
	{"revising a year that does not exist is not found; version 0 is invalid", testCalUnknown},
	{"concurrent edits of one version: exactly one wins", testCalConcurrent},
	{"concurrent creations of one year: exactly one wins", testCalCreateConcurrent},
}

// calDoc is a calendar document, made distinct by note; stores do not read
// it, so any JSON text will do, and the Chinese checks it is kept as is.
func calDoc(year int, note string) []byte {
	return fmt.Appendf(nil, `{"year":%d,"source":"%s 国务院办公厅通知","hours":{"mon":{"open":"08:30","close":"17:30"}}}`, year, note)
}

func calVersion(year, version int, by string) calendar.Stored {
	return calendar.Stored{
		Year: year, Version: version, Doc: calDoc(year, fmt.Sprintf("v%d %s", version, by)),
		UpdatedAt: at.Add(time.Duration(version) * time.Minute), UpdatedBy: by,
	}
}

// calStored is how a store returns what it was given.
func calStored(c calendar.Stored) calendar.Stored {
	c.UpdatedAt = stored(c.UpdatedAt)
	return c
}

func wantCalendars(t *testing.T, s calendar.Store, want ...calendar.Stored) {
	t.Helper()
	got, err := s.Calendars(t.Context())
	must(t, "list calendars", err)
	if got == nil {
		t.Fatal("Calendars returned nil without an error")
	}
	for i := range want {
		want[i] = calStored(want[i])
	}
	if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		t.Fatalf("Calendars:\n got %s\nwant %s", showCals(got), showCals(want))
	}
}

func showCals(cs []calendar.Stored) string {
	out := "["
	for _, c := range cs {
		out += fmt.Sprintf(" %d@%d by %s at %s: %s;", c.Year, c.Version, c.UpdatedBy, c.UpdatedAt.Format(time.RFC3339Nano), c.Doc)
	}
	return out + " ]"
}

func wantCalVersion(t *testing.T, s calendar.Store, want calendar.Stored) {
	t.Helper()
	got, err := s.CalendarVersion(t.Context(), want.Year, want.Version)
	must(t, fmt.Sprintf("get %d version %d", want.Year, want.Version), err)
	if want = calStored(want); !reflect.DeepEqual(got, want) {
		t.Fatalf("CalendarVersion(%d, %d):\n got %s\nwant %s", want.Year, want.Version, showCals([]calendar.Stored{got}), showCals([]calendar.Stored{want}))
	}
	if got.UpdatedAt.Location() != time.UTC {
		t.Errorf("updated_at in %s, want UTC", got.UpdatedAt.Location())
	}
}

func testCalEmpty(t *testing.T, s calendar.Store) {
	wantCalendars(t, s)
	_, err := s.CalendarVersion(t.Context(), 2026, 1)
	wantCode(t, "version of an unknown year", err, apperr.NotFound)
}

func testCalCreate(t *testing.T, s calendar.Store) {
	ctx := t.Context()
	v1 := calVersion(2026, 1, "seed")
	must(t, "create", s.PutCalendar(ctx, v1))
	wantCalendars(t, s, v1)
	wantCalVersion(t, s, v1)
	_, err := s.CalendarVersion(ctx, 2026, 2)
	wantCode(t, "a version not saved yet", err, apperr.NotFound)
	_, err = s.CalendarVersion(ctx, 2027, 1)
	wantCode(t, "another year", err, apperr.NotFound)
}

func testCalRevise(t *testing.T, s calendar.Store) {
	ctx := t.Context()
	// Created out of order: the list is by year all the same.
	y27 := calVersion(2027, 1, "seed")
	must(t, "create 2027", s.PutCalendar(ctx, y27))
	var y26 []calendar.Stored
	for v := 1; v <= 3; v++ {
		c := calVersion(2026, v, fmt.Sprintf("staff:a%d", v))
		must(t, fmt.Sprintf("2026 version %d", v), s.PutCalendar(ctx, c))
		y26 = append(y26, c)
	}
	wantCalendars(t, s, y26[2], y27)
	for _, c := range y26 {
		wantCalVersion(t, s, c)
	}
	wantCalVersion(t, s, y27)
}

func testCalStale(t *testing.T, s calendar.Store) {
	ctx := t.Context()
	v1, v2 := calVersion(2026, 1, "seed"), calVersion(2026, 2, "staff:a")
	must(t, "create", s.PutCalendar(ctx, v1))
	must(t, "revise", s.PutCalendar(ctx, v2))
	for _, c := range []calendar.Stored{
		calVersion(2026, 2, "staff:b"), // an edit of version 1, saved late
		calVersion(2026, 1, "staff:c"), // creating a year that exists
		calVersion(2026, 4, "staff:d"), // an edit of version 3, which nobody saved
	} {
		err := s.PutCalendar(ctx, c)
		wantCode(t, fmt.Sprintf("version %d by %s", c.Version, c.UpdatedBy), err, apperr.VersionConflict)
	}
	wantCalendars(t, s, v2)
	wantCalVersion(t, s, v1)
	wantCalVersion(t, s, v2)
}

func testCalUnknown(t *testing.T, s calendar.Store) {
	ctx := t.Context()
	wantCode(t, "revise an unknown year", s.PutCalendar(ctx, calVersion(2026, 2, "staff:a")), apperr.NotFound)
	wantCode(t, "version 0", s.PutCalendar(ctx, calVersion(2026, 0, "staff:a")), apperr.Invalid)
	wantCalendars(t, s)
}

// calRace runs n puts at once, made by put(i), and returns the index of
// the one that succeeded, failing unless every other one is a version
// conflict.
func calRace(t *testing.T, s calendar.Store, n int, put func(i int) calendar.Stored) int {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.PutCalendar(t.Context(), put(i))
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("editors %d and %d both saved", winner, i)
			}
			winner = i
		case !apperr.Is(err, apperr.VersionConflict):
			t.Errorf("editor %d: got %v, want a version conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no editor saved")
	}
	return winner
}

func testCalConcurrent(t *testing.T, s calendar.Store) {
	v1 := calVersion(2026, 1, "seed")
	must(t, "create", s.PutCalendar(t.Context(), v1))
	edit := func(i int) calendar.Stored { return calVersion(2026, 2, fmt.Sprintf("staff:e%02d", i)) }
	w := calRace(t, s, 20, edit)
	wantCalendars(t, s, edit(w))
	wantCalVersion(t, s, v1)
}

func testCalCreateConcurrent(t *testing.T, s calendar.Store) {
	create := func(i int) calendar.Stored { return calVersion(2027, 1, fmt.Sprintf("server%02d", i)) }
	w := calRace(t, s, 10, create)
	wantCalendars(t, s, create(w))
}
