package calendar_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/sqlite"
)

// deployment is one SQLite database shared by the servers of a test.
type deployment struct {
	db    *sqlite.DB
	store *sqlite.CalendarStore
	audit *audit.Log
	now   time.Time
}

func newDeployment(t *testing.T) *deployment {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := &deployment{db: db, store: sqlite.NewCalendarStore(db), now: at(t, "2026-11-20 10:00")}
	d.audit = audit.NewLog(sqlite.NewAuditStore(db), func() time.Time { return d.now })
	return d
}

// server starts a calendar service on the deployment with the shipped 2026
// calendar, as a server does at start (without its first Refresh).
func (d *deployment) server(t *testing.T) *calendar.Service {
	t.Helper()
	seed, err := os.ReadFile("testdata/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := calendar.NewService(d.store, d.audit, log, func() time.Time { return d.now }, seed)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// started is server after the first Refresh.
func (d *deployment) started(t *testing.T) *calendar.Service {
	t.Helper()
	s := d.server(t)
	if err := s.Refresh(t.Context()); err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	return s
}

// config2026Of is the shipped 2026 calendar as a Config, edited by edit.
func config2026Of(t *testing.T, edit func(m map[string]any)) calendar.Config {
	t.Helper()
	m := config2026(t)
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var cfg calendar.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// closeThursday declares 2026-11-26, a Thursday, a holiday.
func closeThursday(m map[string]any) {
	m["holidays"] = append(m["holidays"].([]any), map[string]any{"name": "临时闭馆", "from": "2026-11-26"})
}

var admin = calendar.Editor{Actor: "staff:a1", Role: "admin", Center: "hm", IP: "10.0.0.9"}

func wantCode(t *testing.T, what string, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code || e.Message == "" {
		t.Fatalf("%s: got %v, want %s with a message", what, err, code)
	}
	return e
}

func TestServiceSeeds(t *testing.T) {
	d := newDeployment(t)
	s := d.server(t)
	// Before the first refresh the shipped calendar is in force.
	if name, ok := s.Book().HolidayName(day(t, "2026-10-01")); !ok || name != "国庆节" {
		t.Fatalf("before refresh, 2026-10-01 = %q, %v", name, ok)
	}
	if s.Location() != calendar.Shanghai() {
		t.Errorf("location %s", s.Location())
	}
	for range 2 { // a second refresh, or a second server, stores nothing more
		if err := s.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	d.started(t)
	revs, err := s.Calendars(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(revs) != 1 || revs[0].Year != 2026 || revs[0].Version != 1 || revs[0].UpdatedBy != calendar.Seed ||
		len(revs[0].Config.Holidays) != 7 || !revs[0].UpdatedAt.Equal(d.now) {
		t.Fatalf("after seeding: %+v", revs)
	}
	if _, err := s.CalendarVersion(t.Context(), 2026, 2); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("version 2 before any edit: %v", err)
	}
	if _, err := s.Calendar(t.Context(), 2027); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("2027: %v", err)
	}
}

func TestServiceRevise(t *testing.T) {
	d := newDeployment(t)
	s := d.started(t)
	other := d.started(t) // another server of the deployment
	ctx := t.Context()
	thu := day(t, "2026-11-26")
	nine := at(t, "2026-11-26 09:00")
	if !s.Book().OpenAt("hm", nine) {
		t.Fatal("open on Thursday 09:00 before the edit")
	}

	d.now = d.now.Add(time.Hour)
	rev, err := s.Revise(ctx, 2026, 1, config2026Of(t, closeThursday), admin)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Version != 2 || rev.UpdatedBy != "staff:a1" || !rev.UpdatedAt.Equal(d.now) || len(rev.Config.Holidays) != 8 {
		t.Fatalf("revision %+v", rev)
	}
	// In force at once on this server ...
	b := s.Book()
	if name, ok := b.HolidayName(thu); !ok || name != "临时闭馆" || b.OpenAt("hm", nine) || len(b.OpenSpans("hm", thu)) != 0 || b.IsWorkingDay(thu) {
		t.Fatalf("after the edit: %q %v, open %v, spans %v", name, ok, b.OpenAt("hm", nine), b.OpenSpans("hm", thu))
	}
	if got, want := b.NextOpening("hm", nine), at(t, "2026-11-27 08:30"); !got.Equal(want) {
		t.Errorf("NextOpening = %s, want %s", got, want)
	}
	// ... and on the other server after its refresh.
	if !other.Book().OpenAt("hm", nine) {
		t.Error("the other server closed before refreshing")
	}
	if err := other.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if other.Book().OpenAt("hm", nine) {
		t.Error("the other server still open after refreshing")
	}

	// A stale edit, from the other server's old view, is refused.
	_, err = other.Revise(ctx, 2026, 1, config2026Of(t, nil), admin)
	wantCode(t, "stale edit", err, apperr.VersionConflict)
	_, err = other.Revise(ctx, 2026, 0, config2026Of(t, nil), admin)
	wantCode(t, "create an existing year", err, apperr.VersionConflict)
	_, err = other.Revise(ctx, 2026, 7, config2026Of(t, nil), admin)
	wantCode(t, "a version from the future", err, apperr.VersionConflict)
	if cur, err := s.Calendar(ctx, 2026); err != nil || cur.Version != 2 {
		t.Fatalf("after refused edits: %+v %v", cur, err)
	}
	old, err := s.CalendarVersion(ctx, 2026, 1)
	if err != nil || len(old.Config.Holidays) != 7 || old.UpdatedBy != calendar.Seed {
		t.Fatalf("version 1: %+v %v", old, err)
	}

	recs, err := d.audit.List(ctx, audit.Filter{Action: "calendar.revise"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Target != "calendar:2026@2" || recs[0].Actor != "staff:a1" || recs[0].Center != "hm" || recs[0].IP != "10.0.0.9" || recs[0].Role != "admin" {
		t.Fatalf("audit: %+v", recs)
	}

	// A restart keeps the edit: the shipped file does not overwrite it.
	if d.started(t).Book().OpenAt("hm", nine) {
		t.Error("a restarted server lost the edit")
	}
}

func TestServiceRefusesBadCalendars(t *testing.T) {
	d := newDeployment(t)
	s := d.started(t)
	type tree = map[string]any
	hol := func(m tree) []any { return m["holidays"].([]any) }
	mk := func(m tree) []any { return m["makeup_days"].([]any) }
	hours := func(m tree) tree { return m["hours"].(tree) }
	for _, tc := range []struct {
		name  string
		year  int
		base  int
		edit  func(m tree)
		field string
	}{
		{"bad date", 2026, 1, func(m tree) { hol(m)[1].(tree)["to"] = "2026-02-30" }, "holidays[1].to"},
		{"date in another year", 2026, 1, func(m tree) { hol(m)[0].(tree)["from"] = "2025-12-31" }, "holidays[0].from"},
		{"to before from", 2026, 1, func(m tree) { hol(m)[2].(tree)["to"] = "2026-04-03" }, "holidays[2].to"},
		{"overlapping holidays", 2026, 1, func(m tree) { hol(m)[4].(tree)["from"] = "2026-05-05" }, "holidays[4]"},
		{"holiday without a name", 2026, 1, func(m tree) { hol(m)[3].(tree)["name"] = " " }, "holidays[3].name"},
		{"make-up day on a weekday", 2026, 1, func(m tree) { mk(m)[0].(tree)["date"] = "2026-01-05" }, "makeup_days[0].date"},
		{"make-up day also a holiday", 2026, 1, func(m tree) { mk(m)[3].(tree)["date"] = "2026-05-02" }, "makeup_days[3].date"},
		{"make-up day twice", 2026, 1, func(m tree) { mk(m)[2].(tree)["date"] = "2026-02-14" }, "makeup_days[2].date"},
		{"lunch before opening", 2026, 1, func(m tree) { hours(m)["tue"].(tree)["lunch_start"] = "08:00" }, "hours.tue.lunch_start"},
		{"close before lunch ends", 2026, 1, func(m tree) { hours(m)["thu"].(tree)["close"] = "13:00" }, "hours.thu.close"},
		{"extended before close", 2026, 1, func(m tree) { hours(m)["fri"].(tree)["extended_until"] = "17:00" }, "hours.fri.extended_until"},
		{"half a lunch break", 2026, 1, func(m tree) { delete(hours(m)["mon"].(tree), "lunch_end") }, "hours.mon.lunch_end"},
		{"clock without zero", 2026, 1, func(m tree) { hours(m)["mon"].(tree)["open"] = "8:30" }, "hours.mon.open"},
		{"no hours at all", 2026, 1, func(m tree) { m["hours"] = tree{} }, "hours"},
		{"make-up weekday closed", 2026, 1, func(m tree) { m["makeup_hours"] = "wed"; hours(m)["wed"] = nil }, "makeup_hours"},
		{"bad center hours", 2026, 1, func(m tree) {
			m["centers"] = tree{"xiang": tree{"mon": tree{"open": "17:00", "close": "09:00"}}}
		}, "centers.xiang.mon.close"},
		{"bad center code", 2026, 1, func(m tree) { m["centers"] = tree{"Bad Code": tree{"mon": tree{"open": "09:00", "close": "17:00"}}} }, "centers.Bad Code"},
		{"bad zone", 2026, 1, func(m tree) { m["time_zone"] = "Asia/Nowhere" }, "time_zone"},
		{"another zone than the other years", 2026, 1, func(m tree) { m["time_zone"] = "Asia/Urumqi" }, "time_zone"},
		{"year of another page", 2026, 1, func(m tree) { m["year"] = 2027 }, "year"},
		{"year out of range", 1999, 0, func(m tree) { m["year"] = 1999 }, "year"},
		{"negative version", 2026, -1, nil, "version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Revise(t.Context(), tc.year, tc.base, config2026Of(t, tc.edit), admin)
			e := wantCode(t, "bad calendar", err, apperr.Invalid)
			if len(e.Fields) != 1 || e.Fields[0].Field != tc.field || e.Fields[0].Message == "" {
				t.Fatalf("fields %+v, want %s", e.Fields, tc.field)
			}
		})
	}
	revs, err := s.Calendars(t.Context())
	if err != nil || len(revs) != 1 || revs[0].Version != 1 {
		t.Fatalf("refused edits changed the store: %+v %v", revs, err)
	}
}

// TestServiceYears adds 2027 and checks that each date follows its own
// year, and a missing year the weekday rule with the nearest year's hours.
func TestServiceYears(t *testing.T) {
	d := newDeployment(t)
	s := d.started(t)
	ctx := t.Context()
	newYear := day(t, "2027-01-01") // a Friday
	if b := s.Book(); !b.IsWorkingDay(newYear) || len(b.OpenSpans("hm", newYear)) != 2 || !slices.Equal(b.Years(), []int{2026}) {
		t.Fatalf("without 2027, New Year's Day follows the weekday rule with 2026's hours: %v %v", b.IsWorkingDay(newYear), b.OpenSpans("hm", newYear))
	}
	// The State Council's notice for 2027, in short.
	cfg := config2026Of(t, func(m map[string]any) {
		m["year"] = 2027
		m["holidays"] = []any{map[string]any{"name": "元旦", "from": "2027-01-01", "to": "2027-01-03"}}
		m["makeup_days"] = []any{}
		m["hours"].(map[string]any)["sat"] = nil
	})
	_, err := s.Revise(ctx, 2027, 1, cfg, admin)
	wantCode(t, "revise a year that has none", err, apperr.NotFound)
	rev, err := s.Revise(ctx, 2027, 0, cfg, admin)
	if err != nil || rev.Version != 1 {
		t.Fatalf("add 2027: %+v %v", rev, err)
	}
	b := s.Book()
	if !slices.Equal(b.Years(), []int{2026, 2027}) {
		t.Errorf("years %v", b.Years())
	}
	if name, ok := b.HolidayName(newYear); !ok || name != "元旦" {
		t.Errorf("2027-01-01: %q %v", name, ok)
	}
	// 2026's Saturday service stays with 2026.
	if len(b.OpenSpans("hm", day(t, "2026-12-26"))) != 1 || len(b.OpenSpans("hm", day(t, "2027-01-09"))) != 0 {
		t.Error("Saturday hours crossed years")
	}
	// The search for the next opening runs on into 2027's calendar.
	if got, want := b.NextOpening("hm", at(t, "2026-12-31 18:00")), at(t, "2027-01-04 08:30"); !got.Equal(want) {
		t.Errorf("NextOpening over New Year = %s, want %s", got, want)
	}
	// So do time limits: 2026-12-31 + 1 working day skips 2027's New Year.
	if got := b.WorkingDaysAfter(day(t, "2026-12-31"), 1); got != day(t, "2027-01-04") {
		t.Errorf("WorkingDaysAfter over New Year = %s", got)
	}
	if got := b.WorkingDaysBetween(day(t, "2026-12-31"), day(t, "2027-01-04")); got != 1 {
		t.Errorf("WorkingDaysBetween over New Year = %d", got)
	}
	// Years the book lacks: after the last, its hours; before the first, the first's.
	if c, ok := b.Year(2030); ok || len(c.OpenSpans(day(t, "2030-01-05"))) != 0 || !c.IsWorkingDay(day(t, "2030-01-01")) {
		t.Error("2030 should follow the weekday rule with 2027's hours (no Saturday)")
	}
	if c, ok := b.Year(2020); ok || len(c.OpenSpans(day(t, "2020-01-04"))) != 1 || !c.IsWorkingDay(day(t, "2020-01-01")) {
		t.Error("2020 should follow the weekday rule with 2026's hours (Saturday morning)")
	}
}

// A stored calendar this program cannot read (a newer server's, say)
// fails the refresh and leaves the calendars in force alone.
func TestServiceRefreshKeepsBookOnBadData(t *testing.T) {
	d := newDeployment(t)
	s := d.started(t)
	before := s.Book()
	bad := calendar.Stored{Year: 2026, Version: 2, Doc: []byte(`{"year":2026,"holidays":[],"opening":{}}`), UpdatedAt: d.now, UpdatedBy: "staff:future"}
	if err := d.store.PutCalendar(t.Context(), bad); err != nil {
		t.Fatal(err)
	}
	if err := s.Refresh(t.Context()); err == nil {
		t.Fatal("refresh accepted an unreadable calendar")
	}
	if s.Book() != before {
		t.Error("a failed refresh replaced the calendars in force")
	}
}
