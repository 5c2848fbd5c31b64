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

// SectorLookup is what the queue needs from the catalog: a center's
// sectors, and a matter (to record the matters a visit served).
type SectorLookup interface {
	Sectors(ctx context.Context, center string) ([]catalog.Sector, error)
	Matter(ctx context.Context, code string) (catalog.Matter, error)
}

// Calendar says when a center's hall is open (working days, hours, lunch
// break, extended service).
type Calendar interface {
	OpenAt(center string, t time.Time) bool
	NextOpening(center string, t time.Time) time.Time
	// OpenSpans lists the stretches of the day starting at midnight day
	// in which the hall is open, in order.
	OpenSpans(center string, day time.Time) []Span
	// ClosedReason says why a day without spans is closed: the holiday's
	// name, or "休息日".
	ClosedReason(center string, day time.Time) string
}

// Span is a stretch of time in which a hall is open, [From, To).
type Span struct{ From, To time.Time }

// CodeCenterClosed: tickets are given out only while the hall is open.
const CodeCenterClosed apperr.Code = "center_closed"

// Config holds the queue rules a deployment may tune.
type Config struct {
	// Calendar refuses tickets outside opening hours; nil never refuses.
	Calendar Calendar
	// StarveAfter is the longest a ticket waits behind newer priority
	// tickets before it is called first anyway.
	StarveAfter time.Duration
	// MaxCalls is how many calls a ticket gets before a recall marks it
	// missed (过号); 0 means MaxCalls.
	MaxCalls int
	// Location is the centers' time zone: it decides which day a ticket
	// belongs to.
	Location *time.Location
	// Appointments stores bookings; nil serves no appointments.
	Appointments AppointmentStore
	// Notifier queues call messages and appointment reminders; nil sends none.
	Notifier Notifier
	// Booking holds the appointment rules.
	Booking BookingConfig
}

// Service takes tickets and calls them.
type Service struct {
	store   Store
	sectors SectorLookup
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
	// appts, notifier and booking are cfg's, for short.
	appts    AppointmentStore
	notifier Notifier
	booking  BookingConfig
	// lineups know who is ahead of whom; see lineup.go.
	lineups lineups
	// windows and services cache what wait estimates read on every ticket.
	windows  windowCache
	services cache[time.Duration]
}

// NewService returns the queue service.
func NewService(store Store, sectors SectorLookup, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.StarveAfter <= 0 {
		cfg.StarveAfter = 30 * time.Minute
	}
	if cfg.MaxCalls <= 0 {
		cfg.MaxCalls = MaxCalls
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	cfg.Booking.fill()
	return &Service{store: store, sectors: sectors, audit: al, log: log, now: now, cfg: cfg,
		appts: cfg.Appointments, notifier: cfg.Notifier, booking: cfg.Booking}
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
	// Declared is a priority the citizen declares (disabled, pregnant):
	// staff confirm it before it counts (ConfirmPriority).
	Declared Priority
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
	// Wait is the estimated wait of a waiting ticket.
	Wait time.Duration
	// Windows are the names of the windows that serve the ticket's sector.
	Windows []string
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
	if r.Declared != PriorityNone && r.Declared != PriorityDisabled && r.Declared != PriorityPregnant {
		return Position{}, apperr.Fields(apperr.FieldError{Field: "declared", Message: "可申报的优先类别为残疾人（disabled）或孕妇（pregnant）"})
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
	if r.Declared.Rank() < r.Priority.Rank() { // an elderly holder needs no declaration
		t.Declared = r.Declared
	}
	t, err = s.store.TakeTicket(ctx, t, SectorLetter(sec.Order))
	if err != nil {
		return Position{}, err
	}
	s.lineups.change(t, true)
	ahead, err := s.ahead(ctx, t)
	if err != nil {
		return Position{}, err
	}
	p := Position{Ticket: t, Ahead: ahead, SectorName: sec.Name}
	if err := s.estimate(ctx, &p); err != nil {
		return Position{}, err
	}
	return p, nil
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
		if p.Ahead, err = s.ahead(ctx, t); err != nil {
			return Position{}, err
		}
	}
	if sec, err := s.sector(ctx, t.Center, t.Sector); err == nil {
		p.SectorName = sec.Name
	}
	if err := s.estimate(ctx, &p); err != nil {
		return Position{}, err
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
	s.record(ctx, audit.Record{Actor: actor, Center: center, Action: "window.create", Target: "window:" + w.ID})
	return w, nil
}

// Windows lists a center's windows.
func (s *Service) Windows(ctx context.Context, center string) ([]Window, error) {
	return s.store.ListWindows(ctx, center)
}

// CallNext calls the next ticket at a window of center that staff is
// signed in to: a ticket waiting longer than StarveAfter first, else by
// priority, then by take time.
func (s *Service) CallNext(ctx context.Context, center, staff, windowID string) (Ticket, Window, error) {
	w, err := s.signedIn(ctx, center, staff, windowID)
	if err != nil {
		return Ticket{}, Window{}, err
	}
	now := s.now()
	day := now.In(s.cfg.Location).Format("2006-01-02")
	t, err := s.store.ClaimNext(ctx, center, day, w.Sectors, w.ID, now.UTC().Truncate(time.Millisecond), now.Add(-s.cfg.StarveAfter))
	if apperr.Is(err, apperr.NotFound) {
		return Ticket{}, w, apperr.New(CodeQueueEmpty, "当前没有等候的群众")
	}
	if err != nil {
		return Ticket{}, w, err
	}
	s.lineups.change(t, false)
	s.announce(ctx, t, w)
	s.alertNext(ctx, t)
	return t, w, nil
}

// CodeQueueEmpty: nobody waits for the window's sectors.
const CodeQueueEmpty apperr.Code = "queue_empty"

// Action is what a clerk does with the ticket called to their window.
type Action string

// Actions at a window.
const (
	ActionRecall   Action = "recall"   // call again; after Config.MaxCalls calls the ticket is missed
	ActionNoShow   Action = "no-show"  // 过号: the citizen did not come
	ActionComplete Action = "complete" // served
	ActionPark     Action = "park"     // set aside, e.g. to fetch a missing paper
	ActionResume   Action = "resume"   // back from parked
	ActionTransfer Action = "transfer" // to another sector, keeping the take time
)

// MaxCalls is how many times a ticket is called, by default, before a
// recall marks it missed.
const MaxCalls = 3

// Act applies a clerk's action to a ticket at the window of center that
// staff is signed in to. toSector names the sector of a transfer.
func (s *Service) Act(ctx context.Context, center, staff, windowID, ticketID string, a Action, toSector string) (Ticket, error) {
	return s.ActWith(ctx, center, staff, windowID, ticketID, a, ActDetails{Sector: toSector})
}

// ActDetails are what some actions need: the sector of a transfer, the
// matters a completed visit served (catalog codes of the center's
// matters, up to MaxMattersServed).
type ActDetails struct {
	Sector  string
	Matters []string
}

// MaxMattersServed caps the matters one visit records.
const MaxMattersServed = 20

// ActWith is Act with the details of the action.
func (s *Service) ActWith(ctx context.Context, center, staff, windowID, ticketID string, a Action, d ActDetails) (Ticket, error) {
	if a == ActionComplete {
		var err error
		if d.Matters, err = s.servedMatters(ctx, center, d.Matters); err != nil {
			return Ticket{}, err
		}
	}
	toSector := d.Sector
	t, err := s.act(ctx, center, staff, windowID, ticketID, a, toSector, d.Matters)
	if err != nil {
		return Ticket{}, err
	}
	switch a {
	case ActionRecall, ActionResume:
		if t.Status == StatusCalled {
			if w, err := s.store.GetWindow(ctx, windowID); err == nil {
				s.announce(ctx, t, w)
			}
		}
	case ActionTransfer:
		s.lineups.change(t, true)
		s.announceTransfer(ctx, t)
	}
	return t, nil
}

func (s *Service) act(ctx context.Context, center, staff, windowID, ticketID string, a Action, toSector string, matters []string) (Ticket, error) {
	w, err := s.signedIn(ctx, center, staff, windowID)
	if err != nil {
		return Ticket{}, err
	}
	t, err := s.store.GetTicket(ctx, ticketID)
	if err != nil || t.Center != center {
		return Ticket{}, apperr.New(apperr.NotFound, "没有这个排队号")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	called := []Status{StatusCalled}
	switch a {
	case ActionRecall:
		if t.Calls >= s.cfg.MaxCalls {
			return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{Status: StatusMissed})
		}
		return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{CalledAt: now, Call: true})
	case ActionNoShow:
		return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{Status: StatusMissed})
	case ActionComplete:
		return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{Status: StatusDone, FinishedAt: now, Matters: matters})
	case ActionPark:
		return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{Status: StatusParked})
	case ActionResume:
		return s.store.MoveTicket(ctx, t.ID, []Status{StatusParked}, w.ID, Change{Status: StatusCalled, CalledAt: now, Call: true})
	case ActionTransfer:
		if toSector == t.Sector {
			return Ticket{}, apperr.Fields(apperr.FieldError{Field: "sector", Message: "请转到其他板块"})
		}
		if _, err := s.sector(ctx, center, toSector); err != nil {
			return Ticket{}, err
		}
		// One active ticket per person and sector holds for transfers too.
		// (A take racing this check in the target sector could still slip
		// in; transfers are rare clerk actions, and the next take is refused.)
		if t.Holder != "" {
			has, err := s.store.HasActiveTicket(ctx, center, toSector, t.Day, t.Holder)
			if err != nil {
				return Ticket{}, err
			}
			if has {
				return Ticket{}, apperr.New(CodeActiveTicket, "该群众在目标板块已有排队号，无需转办")
			}
		}
		return s.store.MoveTicket(ctx, t.ID, called, w.ID, Change{Status: StatusWaiting, Sector: toSector, ClearWindow: true, At: now})
	}
	return Ticket{}, apperr.Fields(apperr.FieldError{Field: "action", Message: "操作无效"})
}

// Board is what the lobby display shows.
type Board struct {
	Day     string
	Calls   []Call
	Waiting []SectorWaiting
}

// Call is one recent call on the lobby display.
type Call struct {
	TicketID string
	Number   string
	Window   string // the window's name
	Status   Status
	CalledAt time.Time
	Calls    int
}

// SectorWaiting is a sector's queue length.
type SectorWaiting struct {
	Sector  string
	Name    string
	Waiting int
}

// Board returns the lobby display's content for a center now.
func (s *Service) Board(ctx context.Context, center string, recent int) (Board, error) {
	secs, err := s.sectors.Sectors(ctx, center)
	if err != nil {
		return Board{}, err
	}
	day := s.now().In(s.cfg.Location).Format("2006-01-02")
	calls, err := s.store.RecentCalls(ctx, center, day, recent)
	if err != nil {
		return Board{}, err
	}
	counts, err := s.store.WaitingCounts(ctx, center, day)
	if err != nil {
		return Board{}, err
	}
	windows, err := s.store.ListWindows(ctx, center)
	if err != nil {
		return Board{}, err
	}
	names := map[string]string{}
	for _, w := range windows {
		names[w.ID] = w.Name
	}
	b := Board{Day: day, Calls: make([]Call, len(calls))}
	for i, t := range calls {
		b.Calls[i] = Call{TicketID: t.ID, Number: t.Number, Window: names[t.Window], Status: t.Status, CalledAt: t.CalledAt, Calls: t.Calls}
	}
	for _, sec := range secs {
		b.Waiting = append(b.Waiting, SectorWaiting{Sector: sec.Code, Name: sec.Name, Waiting: counts[sec.Code]})
	}
	return b, nil
}

// CodeReactivated: a missed ticket is put back in line once only.
const CodeReactivated apperr.Code = "already_reactivated"

// Reactivate puts today's missed ticket number (e.g. "C023") of center
// back in line at a kiosk, at the end of its sector's line and keeping its
// number, once. A ticket taken with an ID card (or in the mini-program)
// needs its holder: holder is the card's "id:…" key, empty without a card.
func (s *Service) Reactivate(ctx context.Context, center, number, holder string) (Position, error) {
	t, sec, err := s.byNumber(ctx, center, number)
	if err != nil {
		return Position{}, err
	}
	now := s.now()
	day := now.In(s.cfg.Location).Format("2006-01-02")
	if t.Holder != "" && t.Holder != holder {
		return Position{}, apperr.New(apperr.Forbidden, "该号码是实名取的号，请刷本人身份证后恢复")
	}
	switch {
	case t.Reactivated:
		return Position{}, apperr.New(CodeReactivated, "过号只能恢复一次，请重新取号")
	case t.Status != StatusMissed:
		return Position{}, apperr.New(CodeTicketMoved, "该号码不是过号状态，无需恢复")
	}
	if cal := s.cfg.Calendar; cal != nil && !cal.OpenAt(center, now) {
		return Position{}, apperr.New(CodeCenterClosed, "现在不是办公时间")
	}
	if t.Holder != "" {
		has, err := s.store.HasActiveTicket(ctx, center, t.Sector, day, t.Holder)
		if err != nil {
			return Position{}, err
		}
		if has {
			return Position{}, ErrActiveTicket
		}
	}
	t, err = s.store.MoveTicket(ctx, t.ID, []Status{StatusMissed}, "", Change{Status: StatusWaiting, ClearWindow: true, Reactivate: now})
	if apperr.Is(err, CodeTicketMoved) {
		return Position{}, apperr.New(CodeReactivated, "过号只能恢复一次，请重新取号")
	}
	if err != nil {
		return Position{}, err
	}
	s.lineups.change(t, true)
	p := Position{Ticket: t, SectorName: sec.Name}
	if p.Ahead, err = s.ahead(ctx, t); err != nil {
		return Position{}, err
	}
	if err := s.estimate(ctx, &p); err != nil {
		return Position{}, err
	}
	return p, nil
}

// byNumber finds today's ticket of center by its displayed number ("C023").
func (s *Service) byNumber(ctx context.Context, center, number string) (Ticket, catalog.Sector, error) {
	notFound := apperr.New(apperr.NotFound, "没有查到今天的这个号码，请核对号码")
	number = strings.ToUpper(strings.TrimSpace(number))
	if len(number) < 2 || len(number) > 8 {
		return Ticket{}, catalog.Sector{}, notFound
	}
	seq, err := strconv.Atoi(number[1:])
	if err != nil || seq < 1 {
		return Ticket{}, catalog.Sector{}, notFound
	}
	secs, err := s.sectors.Sectors(ctx, center)
	if err != nil {
		return Ticket{}, catalog.Sector{}, err
	}
	var sec catalog.Sector
	for _, c := range secs {
		if SectorLetter(c.Order) == number[:1] {
			sec = c
		}
	}
	if sec.Code == "" {
		return Ticket{}, catalog.Sector{}, notFound
	}
	t, err := s.store.TicketByNumber(ctx, center, sec.Code, s.now().In(s.cfg.Location).Format("2006-01-02"), seq)
	if apperr.Is(err, apperr.NotFound) {
		return Ticket{}, catalog.Sector{}, notFound
	}
	return t, sec, err
}

// SetPriority is staff deciding a waiting ticket's priority: confirming
// what the citizen declared (disabled, pregnant), giving the green
// channel (绿色通道) to a major project, or (p empty) turning a
// declaration down. The ticket moves in its line at once.
func (s *Service) SetPriority(ctx context.Context, actor, center, number string, p Priority) (Position, error) {
	if p.Rank() < 0 || p == PriorityAppointment || p == PriorityElderly {
		return Position{}, apperr.Fields(apperr.FieldError{Field: "priority", Message: "可设置的优先类别：disabled、pregnant、green，或留空驳回申报"})
	}
	t, sec, err := s.byNumber(ctx, center, number)
	if err != nil {
		return Position{}, err
	}
	if t.Status != StatusWaiting {
		return Position{}, apperr.New(CodeTicketMoved, "该号码不在等候中")
	}
	c := Change{Priority: p, ClearDeclared: true}
	if p != PriorityNone && t.Priority.Rank() <= p.Rank() {
		c.Priority = "" // already served as soon: keep it
	}
	moved, err := s.store.MoveTicket(ctx, t.ID, []Status{StatusWaiting}, "", c)
	if err != nil {
		return Position{}, err
	}
	s.lineups.change(t, false)
	s.lineups.change(moved, true)
	s.record(ctx, audit.Record{Actor: actor, Center: center, Action: "ticket.priority", Target: "ticket:" + t.Number,
		Purpose: fmt.Sprintf("declared=%s set=%s", t.Declared, p)})
	pos := Position{Ticket: moved, SectorName: sec.Name}
	if pos.Ahead, err = s.ahead(ctx, moved); err != nil {
		return Position{}, err
	}
	return pos, s.estimate(ctx, &pos)
}

// TicketFor returns a ticket to a caller who may follow it: a walk-in
// ticket (it names nobody), or one held by one of holders, the caller's
// own names. Another person's ticket is not found, and the attempt is
// audited.
func (s *Service) TicketFor(ctx context.Context, id, actor string, holders ...string) (Position, error) {
	p, err := s.Ticket(ctx, id)
	if err != nil {
		return Position{}, err
	}
	if h := p.Ticket.Holder; h != "" && !slices.Contains(holders, h) {
		s.record(ctx, audit.Record{Actor: actor, Center: p.Ticket.Center, Action: "ticket.read", Subject: h,
			Target: "ticket:" + p.Ticket.ID, Outcome: audit.OutcomeDenied})
		return Position{}, apperr.New(apperr.NotFound, "没有这个排队号")
	}
	return p, nil
}

// servedMatters checks the matters a visit served: known matters of the
// center, each once, at most MaxMattersServed.
func (s *Service) servedMatters(ctx context.Context, center string, codes []string) ([]string, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	if len(codes) > MaxMattersServed {
		return nil, apperr.Fields(apperr.FieldError{Field: "matters", Message: fmt.Sprintf("一次最多记录 %d 个事项", MaxMattersServed)})
	}
	out := make([]string, 0, len(codes))
	for i, code := range codes {
		if slices.Contains(out, code) {
			continue
		}
		m, err := s.sectors.Matter(ctx, code)
		if apperr.Is(err, apperr.NotFound) || (err == nil && m.Center != center) {
			return nil, apperr.Fields(apperr.FieldError{Field: fmt.Sprintf("matters[%d]", i), Message: "本中心没有这个事项"})
		}
		if err != nil {
			return nil, err
		}
		out = append(out, code)
	}
	return out, nil
}
