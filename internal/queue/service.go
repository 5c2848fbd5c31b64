package queue

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
)

// SectorLookup is what the queue needs from the catalog: a center's sectors.
type SectorLookup interface {
	Sectors(ctx context.Context, center string) ([]catalog.Sector, error)
}

// Calendar says when a center's hall is open (working days, hours, lunch
// break, extended service).
type Calendar interface {
	OpenAt(center string, t time.Time) bool
	NextOpening(center string, t time.Time) time.Time
}

// CodeCenterClosed: tickets are given out only while the hall is open.
const CodeCenterClosed apperr.Code = "center_closed"

// Config holds the queue rules a deployment may tune.
type Config struct {
	// Calendar refuses tickets outside opening hours; nil never refuses.
	Calendar Calendar
	// StarveAfter is the longest a ticket waits behind newer priority
	// tickets before it is called first anyway.
	StarveAfter time.Duration
	// Location is the centers' time zone: it decides which day a ticket
	// belongs to.
	Location *time.Location
}

// Service takes tickets and calls them.
type Service struct {
	store   Store
	sectors SectorLookup
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
}

// NewService returns the queue service.
func NewService(store Store, sectors SectorLookup, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.StarveAfter <= 0 {
		cfg.StarveAfter = 30 * time.Minute
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	return &Service{store: store, sectors: sectors, audit: al, log: log, now: now, cfg: cfg}
}

// TakeRequest asks for a ticket.
type TakeRequest struct {
	Center   string
	Sector   string
	Channel  Channel
	Holder   string
	Priority Priority
	// Birth is the holder's date of birth when known from an ID card:
	// from ElderlyAge on, a ticket is served with elderly priority.
	Birth time.Time
}

// ElderlyAge is the age from which citizens are served first.
const ElderlyAge = 70

// ageOn is the age in whole years of someone born on birth, on the date of t.
func ageOn(birth, t time.Time) int {
	y, m, d := t.Date()
	age := y - birth.Year()
	if m < birth.Month() || (m == birth.Month() && d < birth.Day()) {
		age--
	}
	return age
}

// Position is a ticket with how many are called before it.
type Position struct {
	Ticket Ticket
	Ahead  int
	// SectorName is the sector's name, for the printed ticket.
	SectorName string
}

func (s *Service) sector(ctx context.Context, center, code string) (catalog.Sector, error) {
	secs, err := s.sectors.Sectors(ctx, center)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return catalog.Sector{}, apperr.Fields(apperr.FieldError{Field: "center", Message: "没有这个服务中心"})
		}
		return catalog.Sector{}, err
	}
	for _, sec := range secs {
		if sec.Code == code {
			return sec, nil
		}
	}
	return catalog.Sector{}, apperr.Fields(apperr.FieldError{Field: "sector", Message: "该服务中心没有这个板块"})
}

// Take gives out a ticket.
func (s *Service) Take(ctx context.Context, r TakeRequest) (Position, error) {
	if r.Priority.Rank() < 0 {
		return Position{}, apperr.Fields(apperr.FieldError{Field: "priority", Message: "优先类别无效"})
	}
	sec, err := s.sector(ctx, r.Center, r.Sector)
	if err != nil {
		return Position{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if cal := s.cfg.Calendar; cal != nil && !cal.OpenAt(r.Center, now) {
		next := cal.NextOpening(r.Center, now).In(s.cfg.Location)
		return Position{}, apperr.New(CodeCenterClosed, fmt.Sprintf("现在不是办公时间，请于 %d月%d日 %s 之后取号", next.Month(), next.Day(), next.Format("15:04")))
	}
	if r.Priority == PriorityNone && !r.Birth.IsZero() && ageOn(r.Birth, now.In(s.cfg.Location)) >= ElderlyAge {
		r.Priority = PriorityElderly
	}
	t := Ticket{
		ID: "tk" + audit.NewID(now), Center: r.Center, Sector: r.Sector,
		Day: now.In(s.cfg.Location).Format("2006-01-02"), Channel: r.Channel, Holder: r.Holder,
		Priority: r.Priority, Status: StatusWaiting, TakenAt: now,
	}
	t, err = s.store.TakeTicket(ctx, t, SectorLetter(sec.Order))
	if err != nil {
		return Position{}, err
	}
	ahead, err := s.store.CountAhead(ctx, t)
	if err != nil {
		return Position{}, err
	}
	return Position{Ticket: t, Ahead: ahead, SectorName: sec.Name}, nil
}

// Ticket returns a ticket and how many are ahead of it while it waits.
func (s *Service) Ticket(ctx context.Context, id string) (Position, error) {
	if !strings.HasPrefix(id, "tk") || len(id) > 64 {
		return Position{}, apperr.New(apperr.NotFound, "没有这个排队号")
	}
	t, err := s.store.GetTicket(ctx, id)
	if err != nil {
		return Position{}, err
	}
	p := Position{Ticket: t}
	if t.Status == StatusWaiting {
		if p.Ahead, err = s.store.CountAhead(ctx, t); err != nil {
			return Position{}, err
		}
	}
	if sec, err := s.sector(ctx, t.Center, t.Sector); err == nil {
		p.SectorName = sec.Name
	}
	return p, nil
}

// CreateWindow adds a window serving sectors of center.
func (s *Service) CreateWindow(ctx context.Context, actor, center, name string, sectors []string) (Window, error) {
	name = strings.TrimSpace(name)
	if n := utf8.RuneCountInString(name); n == 0 || n > 16 {
		return Window{}, apperr.Fields(apperr.FieldError{Field: "name", Message: "窗口名称须为 1-16 个字"})
	}
	if len(sectors) == 0 {
		return Window{}, apperr.Fields(apperr.FieldError{Field: "sectors", Message: "至少服务一个板块"})
	}
	for i, code := range sectors {
		if _, err := s.sector(ctx, center, code); err != nil {
			return Window{}, apperr.Fields(apperr.FieldError{Field: "sectors[" + strconv.Itoa(i) + "]", Message: "该服务中心没有这个板块"})
		}
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	w := Window{ID: "wn" + audit.NewID(now), Center: center, Name: name, Sectors: slices.Compact(slices.Sorted(slices.Values(sectors))), CreatedAt: now}
	if err := s.store.CreateWindow(ctx, w); err != nil {
		return Window{}, err
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), audit.Record{Actor: actor, Center: center, Action: "window.create", Target: "window:" + w.ID}); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", "window.create", "err", err)
	}
	return w, nil
}

// Windows lists a center's windows.
func (s *Service) Windows(ctx context.Context, center string) ([]Window, error) {
	return s.store.ListWindows(ctx, center)
}

// CallNext calls the next ticket at a window of center: a ticket waiting
// longer than StarveAfter first, else by priority, then by take time.
func (s *Service) CallNext(ctx context.Context, center, windowID string) (Ticket, Window, error) {
	w, err := s.store.GetWindow(ctx, windowID)
	if err != nil || w.Center != center {
		return Ticket{}, Window{}, apperr.New(apperr.NotFound, "没有这个窗口")
	}
	now := s.now()
	day := now.In(s.cfg.Location).Format("2006-01-02")
	t, err := s.store.ClaimNext(ctx, center, day, w.Sectors, w.ID, now.UTC().Truncate(time.Millisecond), now.Add(-s.cfg.StarveAfter))
	if apperr.Is(err, apperr.NotFound) {
		return Ticket{}, w, apperr.New(CodeQueueEmpty, "当前没有等候的群众")
	}
	return t, w, err
}

// CodeQueueEmpty: nobody waits for the window's sectors.
const CodeQueueEmpty apperr.Code = "queue_empty"
