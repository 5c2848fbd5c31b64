package calendar

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// Service keeps the calendars in force and lets an administrator edit
// them. It answers from a Book held in memory, swapped whole on every
// change, so that the queue's checks of opening hours on each ticket cost
// one atomic load. Edits are versioned in the store; Refresh picks up
// those made through other servers of a deployment.
type Service struct {
	store Store
	audit *audit.Log
	log   *slog.Logger
	now   func() time.Time
	seeds []seed
	loc   *time.Location

	book atomic.Pointer[Book]
	// reload serialises Refresh so that a slow one cannot swap in a book
	// older than a newer one's.
	reload sync.Mutex
}

// seed is a calendar shipped with the program, stored for its year when
// the store has none.
type seed struct {
	year int
	doc  []byte
}

// Seed names the version-1 author of a shipped calendar.
const Seed = "seed"

// NewService returns the calendar service on store. seeds are the yearly
// calendars shipped with the program (assets/calendar), in the form Parse
// reads; there must be at least one, and they are the calendars in force
// until the first Refresh. Their zone is the zone of every later edit.
func NewService(store Store, al *audit.Log, log *slog.Logger, now func() time.Time, seeds ...[]byte) (*Service, error) {
	s := &Service{store: store, audit: al, log: log, now: now}
	var cals []*Calendar
	for _, doc := range seeds {
		c, err := Parse(bytes.NewReader(doc))
		if err != nil {
			return nil, err
		}
		cals = append(cals, c)
		s.seeds = append(s.seeds, seed{year: c.year, doc: bytes.Clone(doc)})
	}
	b, err := NewBook(cals...)
	if err != nil {
		return nil, err
	}
	s.loc = b.loc
	s.book.Store(b)
	return s, nil
}

// Book returns the calendars in force now. Callers keep it for one
// answer, not across requests: an edit swaps in a new Book.
func (s *Service) Book() *Book { return s.book.Load() }

// Location returns the zone of the centers, which edits cannot change.
func (s *Service) Location() *time.Location { return s.loc }

// Refresh rebuilds the calendars in force from the store, first storing
// any shipped calendar whose year the store lacks. Servers call it at
// start, after their own edits, and periodically so that edits made
// through other servers apply here too. On an error the calendars in
// force stay as they were.
func (s *Service) Refresh(ctx context.Context) error {
	s.reload.Lock()
	defer s.reload.Unlock()
	stored, err := s.store.Calendars(ctx)
	if err != nil {
		return err
	}
	have := map[int]bool{}
	for _, c := range stored {
		have[c.Year] = true
	}
	seeded := false
	for _, sd := range s.seeds {
		if have[sd.year] {
			continue
		}
		err := s.store.PutCalendar(ctx, Stored{Year: sd.year, Version: 1, Doc: sd.doc, UpdatedAt: s.stamp(), UpdatedBy: Seed})
		// A conflict means another server stored the year first; either
		// way the store now has it.
		if err != nil && !apperr.Is(err, apperr.VersionConflict) {
			return fmt.Errorf("calendar: store the shipped calendar of %d: %w", sd.year, err)
		}
		seeded = true
		s.log.InfoContext(ctx, "shipped calendar stored", "year", sd.year)
	}
	if seeded {
		if stored, err = s.store.Calendars(ctx); err != nil {
			return err
		}
	}
	cals := make([]*Calendar, 0, len(stored))
	for _, st := range stored {
		c, err := Parse(bytes.NewReader(st.Doc))
		if err != nil {
			return fmt.Errorf("calendar: stored calendar of %d, version %d: %w", st.Year, st.Version, err)
		}
		if c.year != st.Year {
			return fmt.Errorf("calendar: stored calendar of %d, version %d, is for %d", st.Year, st.Version, c.year)
		}
		cals = append(cals, c)
	}
	b, err := NewBook(cals...)
	if err != nil {
		return err
	}
	if b.loc.String() != s.loc.String() {
		return fmt.Errorf("calendar: stored calendars are in zone %s, the server's in %s", b.loc, s.loc)
	}
	s.book.Store(b)
	return nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Revision is one version of a year's calendar, as administrators see it.
type Revision struct {
	Year    int
	Version int
	// Config is the calendar's data.
	Config    Config
	UpdatedAt time.Time
	UpdatedBy string
}

func revisionOf(st Stored) (Revision, error) {
	dec := json.NewDecoder(bytes.NewReader(st.Doc))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return Revision{}, fmt.Errorf("calendar: decode stored calendar of %d, version %d: %w", st.Year, st.Version, err)
	}
	return Revision{Year: st.Year, Version: st.Version, Config: cfg, UpdatedAt: st.UpdatedAt, UpdatedBy: st.UpdatedBy}, nil
}

// Calendars returns the current version of every year's calendar, by year.
func (s *Service) Calendars(ctx context.Context) ([]Revision, error) {
	stored, err := s.store.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Revision, 0, len(stored))
	for _, st := range stored {
		r, err := revisionOf(st)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Calendar returns the current version of a year's calendar.
func (s *Service) Calendar(ctx context.Context, year int) (Revision, error) {
	st, err := s.current(ctx, year)
	if err != nil {
		return Revision{}, err
	}
	return revisionOf(st)
}

// CalendarVersion returns one version of a year's calendar, current or past.
func (s *Service) CalendarVersion(ctx context.Context, year, version int) (Revision, error) {
	if version < 1 {
		return Revision{}, apperr.New(apperr.NotFound, "没有这个日历版本")
	}
	st, err := s.store.CalendarVersion(ctx, year, version)
	if err != nil {
		return Revision{}, err
	}
	return revisionOf(st)
}

// current returns the stored current version of year.
func (s *Service) current(ctx context.Context, year int) (Stored, error) {
	stored, err := s.store.Calendars(ctx)
	if err != nil {
		return Stored{}, err
	}
	for _, st := range stored {
		if st.Year == year {
			return st, nil
		}
	}
	return Stored{}, apperr.New(apperr.NotFound, fmt.Sprintf("没有 %d 年的日历", year))
}

// Editor is who edits the calendar.
type Editor struct {
	// Actor names the editor for updated_by and the audit log, e.g.
	// "staff:<id>".
	Actor string
	// Role and Center are the editor's, for the audit log.
	Role   string
	Center string
	// IP is where the edit came from, for the audit log.
	IP string
}

// Revise stores cfg as the new version of year's calendar and puts it in
// force at once. base is the version the editor started from, 0 to add a
// year that has none; if someone else saved a newer version meanwhile
// the edit is refused with apperr.VersionConflict rather than silently
// lost. cfg is checked as Parse checks a file, and a mistake is an
// apperr.Invalid error naming the field; its year, if set, must be year,
// and its zone that of the other years.
func (s *Service) Revise(ctx context.Context, year, base int, cfg Config, ed Editor) (Revision, error) {
	if base < 0 {
		return Revision{}, apperr.Fields(apperr.FieldError{Field: "version", Message: "版本号不能为负数"})
	}
	if cfg.Year == 0 {
		cfg.Year = year
	}
	if cfg.Year != year {
		return Revision{}, apperr.Fields(apperr.FieldError{Field: "year", Message: fmt.Sprintf("年份须与所修改的 %d 年一致", year)})
	}
	cal, err := New(cfg)
	if err != nil {
		if ce, ok := errors.AsType[*ConfigError](err); ok {
			return Revision{}, apperr.Fields(apperr.FieldError{Field: ce.Field, Message: ce.Reason})
		}
		return Revision{}, apperr.Wrap(apperr.Invalid, "日历数据有误", err)
	}
	if cal.loc.String() != s.loc.String() {
		return Revision{}, apperr.Fields(apperr.FieldError{Field: "time_zone", Message: fmt.Sprintf("时区须与其他年度一致（%s）", s.loc)})
	}
	// Spare a doomed write; the store decides atomically in the end.
	switch cur, err := s.current(ctx, year); {
	case apperr.Is(err, apperr.NotFound):
		if base > 0 {
			return Revision{}, err
		}
	case err != nil:
		return Revision{}, err
	case cur.Version != base:
		return Revision{}, VersionConflict(cur.Version)
	}
	if cfg.Holidays == nil {
		cfg.Holidays = []Holiday{}
	}
	if cfg.MakeupDays == nil {
		cfg.MakeupDays = []MakeupDay{}
	}
	doc, err := json.Marshal(cfg)
	if err != nil {
		return Revision{}, fmt.Errorf("calendar: encode %d: %w", year, err)
	}
	st := Stored{Year: year, Version: base + 1, Doc: doc, UpdatedAt: s.stamp(), UpdatedBy: ed.Actor}
	if err := s.store.PutCalendar(ctx, st); err != nil {
		return Revision{}, err
	}
	err = s.audit.Record(context.WithoutCancel(ctx), audit.Record{
		Actor: ed.Actor, Role: ed.Role, Center: ed.Center, Action: "calendar.revise",
		Target: fmt.Sprintf("calendar:%d@%d", year, st.Version), IP: ed.IP,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", "calendar.revise", "year", year, "err", err)
	}
	if err := s.Refresh(ctx); err != nil {
		s.log.WarnContext(ctx, "calendar: edit saved but not in force until the next refresh", "year", year, "err", err)
	}
	return Revision{Year: year, Version: st.Version, Config: cfg, UpdatedAt: st.UpdatedAt, UpdatedBy: st.UpdatedBy}, nil
}

// VersionConflict is the error of an edit of a calendar that is no longer
// at the version the editor loaded; current is the version now stored.
// Stores return it too, so that the message is the same however the
// conflict is found.
func VersionConflict(current int) error {
	return apperr.New(apperr.VersionConflict, fmt.Sprintf("该年度日历已被他人修改（当前为第 %d 版），请刷新后再改", current))
}
