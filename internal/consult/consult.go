// Package consult is online consultation (网上咨询): a citizen asks a
// question from the mini-program or a kiosk, about a matter or in
// general; it goes to the matter's sector (or the 综合便民 desk); the
// sector's staff reply, the citizen may follow up in the same thread, and
// the thread closes when the citizen confirms the answer or after a quiet
// period. The first reply is due within a number of working days counted
// by the deadline engine, like a case. Text from the mini-program passes
// WeChat's content check; a risky text is held for staff review, never
// dropped. Staff may publish a good answer as an FAQ of the matter, which
// the catalog's search then finds.
//
// A thread is one document; every change is a conditional update on its
// revision, as with cases.
package consult

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/deadline"
)

// State is where a thread is.
type State string

// Thread states.
const (
	StateOpen     State = "open"     // 待答复: waiting for staff
	StateAnswered State = "answered" // 已答复: waiting for the citizen
	StateClosed   State = "closed"   // 已结束
)

// Label is the state's Chinese name.
func (s State) Label() string {
	switch s {
	case StateOpen:
		return "待答复"
	case StateAnswered:
		return "已答复"
	case StateClosed:
		return "已结束"
	}
	return string(s)
}

// Who wrote a message.
const (
	FromCitizen = "citizen"
	FromStaff   = "staff"
)

// How a thread was closed.
const (
	ClosedConfirmed = "confirmed" // the citizen confirmed the answer
	ClosedQuiet     = "quiet"     // nothing happened for the quiet period
)

// MaxTextRunes bounds one message.
const MaxTextRunes = 1000

// Message is one message of a thread. Text is plain text: HTML in it is
// kept as typed and shown escaped, never interpreted.
type Message struct {
	From string    `json:"from"`
	Text string    `json:"text"`
	At   time.Time `json:"at"`
	// Held: WeChat's content check found the text risky (or could not
	// check it); staff review it before it counts.
	Held bool `json:"held,omitempty"`
	// Rejected: staff reviewed a held text and refused it.
	Rejected bool   `json:"rejected,omitempty"`
	StaffID  string `json:"staff_id,omitempty"`
}

// Thread is one consultation.
type Thread struct {
	ID string `json:"id"`
	// Holder is "id:<blind index>" of a citizen with a real name (at a
	// kiosk always); Citizen the mini-program account "citizen:<id>".
	Holder     string    `json:"holder,omitempty"`
	Citizen    string    `json:"citizen,omitempty"`
	Center     string    `json:"center"`
	Sector     string    `json:"sector"`
	Matter     string    `json:"matter,omitempty"`
	MatterName string    `json:"matter_name,omitempty"`
	Channel    string    `json:"channel"`
	Messages   []Message `json:"messages"`
	State      State     `json:"state"`
	// Clock is the first-reply limit, from the question.
	Clock deadline.Clock `json:"clock"`
	// DueAt is when the first reply is due, kept for ordering worklists;
	// zero once replied.
	DueAt        time.Time `json:"due_at,omitzero"`
	FirstReplyAt time.Time `json:"first_reply_at,omitzero"`
	ClosedBy     string    `json:"closed_by,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	Rev          int       `json:"rev"`
}

// FAQ is a published question and answer of a matter (常见问题).
type FAQ struct {
	ID       string    `json:"id"`
	Center   string    `json:"center"`
	Matter   string    `json:"matter"`
	Question string    `json:"question"`
	Answer   string    `json:"answer"`
	Thread   string    `json:"thread"`
	StaffID  string    `json:"staff_id"`
	At       time.Time `json:"at"`
}

// Order is how ListThreads sorts.
type Order int

// Orders of thread lists.
const (
	// NewestFirst: by creation, newest first (a citizen's list).
	NewestFirst Order = iota
	// ByDeadline: by DueAt (threads without one last), then by ID.
	ByDeadline
)

// Filter selects threads; empty fields do not filter.
type Filter struct {
	// Holder and Citizen select a citizen's threads: those with either.
	Holder, Citizen string
	Center          string
	Sectors         []string
	States          []State
	// UpdatedBefore keeps threads last changed before it.
	UpdatedBefore time.Time
	Order         Order
	Limit         int
}

// Store keeps threads (one document each) and FAQs. The SQLite and the
// MongoDB packages implement it.
type Store interface {
	// CreateThread stores a new thread (Rev 1); a duplicate ID is apperr.Conflict.
	CreateThread(ctx context.Context, t Thread) error
	// GetThread returns a thread; an unknown ID is apperr.NotFound.
	GetThread(ctx context.Context, id string) (Thread, error)
	// UpdateThread replaces t if the stored revision is t.Rev-1, else
	// apperr.VersionConflict.
	UpdateThread(ctx context.Context, t Thread) error
	// ListThreads returns the threads f selects.
	ListThreads(ctx context.Context, f Filter) ([]Thread, error)
	// CreateFAQ stores an FAQ; a duplicate ID is apperr.Conflict.
	CreateFAQ(ctx context.Context, q FAQ) error
	// ListFAQs returns the FAQs of a matter, oldest first; "" lists all.
	ListFAQs(ctx context.Context, matter string) ([]FAQ, error)
}
