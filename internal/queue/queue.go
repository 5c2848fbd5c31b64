// Package queue is the lobby's queue (取号、排队、叫号): windows, tickets
// numbered per center, sector and day, and calling the next ticket with
// priorities, atomically, so that two windows never call one ticket.
package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
)

// Priority is why a ticket is served before others.
type Priority string

// Priorities, from first served to last.
const (
	PriorityGreen       Priority = "green"       // 绿色通道: major projects
	PriorityAppointment Priority = "appointment" // checked-in appointment within its slot
	PriorityElderly     Priority = "elderly"     // 70 or older, from the ID's birth date
	PriorityDisabled    Priority = "disabled"    // declared, confirmed by staff
	PriorityPregnant    Priority = "pregnant"    // declared, confirmed by staff
	PriorityNone        Priority = ""
)

// Rank orders tickets for calling: lower first.
func (p Priority) Rank() int {
	switch p {
	case PriorityGreen:
		return 0
	case PriorityAppointment:
		return 1
	case PriorityElderly, PriorityDisabled, PriorityPregnant:
		return 2
	case PriorityNone:
		return 3
	}
	return -1
}

// Status is where a ticket is in its life.
type Status string

// Ticket statuses.
const (
	StatusWaiting Status = "waiting"
	StatusCalled  Status = "called"
	StatusDone    Status = "done"
	StatusMissed  Status = "missed"
	// StatusParked is a called ticket set aside (the citizen fetches a
	// missing paper) to be resumed at the same window.
	StatusParked Status = "parked"
)

// Channel is where a ticket was taken.
type Channel string

// Channels.
const (
	ChannelKiosk       Channel = "kiosk"
	ChannelMiniProgram Channel = "mp"
	ChannelAppointment Channel = "appointment"
)

// Ticket is a queue number.
type Ticket struct {
	ID     string
	Center string
	Sector string
	// Day is the center's local date the ticket belongs to, "2026-11-25".
	Day string
	// Seq is the number within center, sector and day: 1, 2, 3 ... with no gaps.
	Seq int
	// Number is what the citizen sees: the sector's letter and Seq, "A023".
	Number  string
	Channel Channel
	// Holder identifies the person, for "one active ticket per person per
	// sector": "citizen:<id>" or "id:<blind index of the ID number>"; empty
	// for a walk-in without a card.
	Holder   string
	Priority Priority
	Status   Status
	TakenAt  time.Time
	CalledAt time.Time
	Window   string
	Calls    int
	// FinishedAt is when the ticket was completed, for learned service times.
	FinishedAt time.Time
	// Reactivated marks a missed ticket put back in line at a kiosk,
	// which may happen once.
	Reactivated bool
	// Declared is a priority the citizen declared when taking the ticket
	// (disabled, pregnant), served as such only once staff confirm it.
	Declared Priority
	// Matters are the codes of the matters served on completion: one
	// visit may settle several.
	Matters []string
}

// Window is a service window of a center.
type Window struct {
	ID     string
	Center string
	// Name is what the lobby display calls it, e.g. "5号窗口".
	Name string
	// Sectors are the sectors the window serves; a comprehensive
	// acceptance window (综合受理) serves many.
	Sectors   []string
	CreatedAt time.Time
	// Staff is the clerk signed in to the window (staff ID); empty while
	// the window is closed.
	Staff string
	// OpenedAt is when Staff signed in.
	OpenedAt time.Time
}

// Open reports whether a clerk is signed in to the window.
func (w Window) Open() bool { return w.Staff != "" }

// Store is what the queue needs from storage.
type Store interface {
	// TakeTicket gives t the next number of its center, sector and day
	// (shown as letter and three digits, see FormatNumber) and
	// stores it, atomically: numbers are unique and have no gaps, and a
	// holder who already has a waiting, called or parked ticket in the sector that
	// day is refused with ErrActiveTicket without using a number.
	TakeTicket(ctx context.Context, t Ticket, letter string) (Ticket, error)
	// GetTicket returns a ticket.
	GetTicket(ctx context.Context, id string) (Ticket, error)
	// TicketByNumber returns the ticket of center and day numbered seq by
	// the counter of sector (the sector it was taken in).
	TicketByNumber(ctx context.Context, center, sector, day string, seq int) (Ticket, error)
	// ClaimNext moves the waiting ticket of center and day, in one of
	// sectors, that should be served next to called at window, atomically:
	// a waiting ticket taken before starveBefore first (oldest first), else
	// the lowest priority rank, then the earliest taken. It returns
	// apperr.NotFound when nobody waits.
	ClaimNext(ctx context.Context, center, day string, sectors []string, window string, at, starveBefore time.Time) (Ticket, error)
	// CountAhead counts the waiting tickets of t's sector and day that would
	// be called before t.
	CountAhead(ctx context.Context, t Ticket) (int, error)
	// MoveTicket applies change to a ticket, atomically, only if its status
	// is one of from and, when window is not empty, it is at that window.
	// Otherwise it returns ErrTicketMoved (or apperr.NotFound for an
	// unknown ID), changing nothing. A transfer (change.Sector) of a
	// holder's ticket into a sector where the holder already has a
	// waiting, called or parked ticket returns ErrActiveTicket, changing
	// nothing; so does a concurrent take there, whichever comes second.
	MoveTicket(ctx context.Context, id string, from []Status, window string, change Change) (Ticket, error)
	// HasActiveTicket reports whether holder has a waiting, called or
	// parked ticket in sector of center on day.
	HasActiveTicket(ctx context.Context, center, sector, day, holder string) (bool, error)
	// RecentCalls returns the center's tickets of day called most
	// recently (status called, parked, done or missed), newest call first.
	RecentCalls(ctx context.Context, center, day string, limit int) ([]Ticket, error)
	// Waiting returns up to limit waiting tickets of center and day in
	// sector, in the order ClaimNext would call them were nobody starving
	// (priority rank, take time, number).
	Waiting(ctx context.Context, center, day, sector string, limit int) ([]Ticket, error)
	// AtWindow returns the tickets of center and day called or parked at
	// window, earliest call first.
	AtWindow(ctx context.Context, center, day, window string) ([]Ticket, error)
	// WaitingCounts returns how many tickets wait per sector of a center and day.
	WaitingCounts(ctx context.Context, center, day string) (map[string]int, error)

	// CreateWindow stores a window.
	CreateWindow(ctx context.Context, w Window) error
	// GetWindow returns a window.
	GetWindow(ctx context.Context, id string) (Window, error)
	// ListWindows returns a center's windows ordered by name.
	ListWindows(ctx context.Context, center string) ([]Window, error)
	// SignWindow sets the clerk signed in to a window to staff (empty
	// closes it) at at, atomically and only if the window's Staff is
	// from; otherwise it returns ErrWindowTaken with nothing changed (or
	// apperr.NotFound for an unknown window).
	SignWindow(ctx context.Context, id, from, staff string, at time.Time) (Window, error)
	// ServiceTimes returns how long the done tickets of a center's sector
	// finished at or after since took from their (last) call to their
	// completion, newest first, at most limit.
	ServiceTimes(ctx context.Context, center, sector string, since time.Time, limit int) ([]time.Duration, error)
	// ServedTickets returns holder's done tickets finished at or after
	// since, in any center, latest finished first, at most limit: the
	// served tickets a citizen may still rate (好差评).
	ServedTickets(ctx context.Context, holder string, since time.Time, limit int) ([]Ticket, error)
}

// Change is what MoveTicket does to a ticket; zero fields stay as they are.
type Change struct {
	Status Status
	// Sector moves the ticket to another sector (a transfer); its take time
	// and number stay, so it keeps its place.
	Sector string
	// Window sets the window; ClearWindow empties it.
	Window      string
	ClearWindow bool
	// CalledAt, if set, records a (re)call, and Call adds one to Calls.
	CalledAt time.Time
	Call     bool
	// FinishedAt, if set, records the completion.
	FinishedAt time.Time
	// Matters, if not nil, records the matters served.
	Matters []string
	// At is when the change is made; a transfer needs it (MongoDB's store
	// reserves the holder's place in the new sector with it).
	At time.Time
	// Priority, if set, changes the ticket's priority (and so its rank);
	// ClearDeclared forgets the declared priority once staff decided.
	Priority      Priority
	ClearDeclared bool
	// Reactivate puts a missed ticket back in line, at the end: TakenAt
	// becomes the given time, Reactivated true and Calls 0 (it is called
	// anew). A ticket already reactivated is refused with ErrTicketMoved.
	Reactivate time.Time
}

// CodeTicketMoved: the ticket is not in a state that allows this (called
// elsewhere, already done ...).
const CodeTicketMoved apperr.Code = "ticket_state"

// ErrTicketMoved is returned when a ticket is not where an action needs it.
var ErrTicketMoved = apperr.New(CodeTicketMoved, "该排队号当前状态不允许此操作，请刷新")

// CodeWindowTaken: another clerk is signed in to the window, or the
// caller is not signed in to it.
const CodeWindowTaken apperr.Code = "window_state"

// ErrWindowTaken is returned when a window is not in the sign-in state an
// action needs.
var ErrWindowTaken = apperr.New(CodeWindowTaken, "窗口的签入状态已变化，请刷新")

// CodeWindowClosed: the caller is not signed in to the window.
const CodeWindowClosed apperr.Code = "window_closed"

// CodeActiveTicket: the person already holds a ticket in this sector today.
const CodeActiveTicket apperr.Code = "active_ticket"

// ErrActiveTicket is returned for a second active ticket of one person in one sector.
var ErrActiveTicket = apperr.New(CodeActiveTicket, "您在该板块已有排队号，请留意叫号")

// SectorLetter is the letter of a sector's numbers: A for the first sector
// in display order, B for the second ...
func SectorLetter(order int) string {
	if order < 1 || order > 26 {
		return "Z"
	}
	return string(rune('A' + order - 1))
}

// FormatNumber is a ticket's displayed number: letter and three digits.
func FormatNumber(letter string, seq int) string { return fmt.Sprintf("%s%03d", letter, seq) }
