// Package complaint is 投诉: citizens complain from the mini-program or a
// kiosk, optionally about a case, and staff enter the complaints that
// reach the 12345 hotline. Each is routed to a sector (the case's, the
// 12345热线承办 sector for hotline calls, else the one named or the 综合
// desk), answered within a deadline counted by the deadline engine, and
// closed only with the citizen's confirmation or a supervisor's
// decision. Who complained is shown only to the handling staff (the
// handler who took it, and supervisors); a hotline caller's name and
// phone are kept sealed.
package complaint

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/deadline"
)

// Source is where a complaint came from.
type Source string

// Sources.
const (
	SourceMiniProgram Source = "mp"
	SourceKiosk       Source = "kiosk"
	SourceHotline     Source = "hotline_12345"
)

// State is where a complaint is.
type State string

// Complaint states.
const (
	StateReceived State = "received" // 待处理
	StateAnswered State = "answered" // 已答复, waiting for the citizen
	StateClosed   State = "closed"   // 已办结
)

// Label is the state's Chinese name.
func (s State) Label() string {
	switch s {
	case StateReceived:
		return "待处理"
	case StateAnswered:
		return "已答复"
	case StateClosed:
		return "已办结"
	}
	return string(s)
}

// How a complaint was closed.
const (
	ClosedConfirmed  = "confirmed"  // the citizen confirmed the answer
	ClosedSupervisor = "supervisor" // a supervisor decided
)

// MaxTextRunes bounds a complaint, an answer and a decision.
const MaxTextRunes = 1000

// Complaint is one complaint.
type Complaint struct {
	ID string `json:"id"`
	// Holder ("id:<blind index>") and Citizen ("citizen:<id>") are the
	// complainant of a mini-program or kiosk complaint.
	Holder  string `json:"holder,omitempty"`
	Citizen string `json:"citizen,omitempty"`
	// CallerName and CallerPhone are a hotline caller's, sealed.
	CallerName  string `json:"caller_name,omitempty"`
	CallerPhone string `json:"caller_phone,omitempty"`
	Center      string `json:"center"`
	Sector      string `json:"sector"`
	Case        string `json:"case,omitempty"`
	Source      Source `json:"source"`
	Text        string `json:"text"`
	State       State  `json:"state"`
	// Handler is the staff member who took the complaint.
	Handler string `json:"handler,omitempty"`
	// EnteredBy is the staff member who entered a hotline complaint.
	EnteredBy  string         `json:"entered_by,omitempty"`
	Answer     string         `json:"answer,omitempty"`
	AnsweredAt time.Time      `json:"answered_at,omitzero"`
	Clock      deadline.Clock `json:"clock"`
	// DueAt is when the answer is due, for ordering; zero once answered.
	DueAt     time.Time `json:"due_at,omitzero"`
	ClosedBy  string    `json:"closed_by,omitempty"`
	Decision  string    `json:"decision,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Rev       int       `json:"rev"`
}

// Filter selects complaints; empty fields do not filter.
type Filter struct {
	// Holder and Citizen select a citizen's complaints: those with either.
	Holder, Citizen string
	Center          string
	Sectors         []string
	States          []State
	// ByDeadline orders by DueAt (none last), else newest first.
	ByDeadline bool
	Limit      int
}

// Store keeps complaints, one document each.
type Store interface {
	// CreateComplaint stores a new complaint; a duplicate ID is apperr.Conflict.
	CreateComplaint(ctx context.Context, c Complaint) error
	// GetComplaint returns a complaint; an unknown ID is apperr.NotFound.
	GetComplaint(ctx context.Context, id string) (Complaint, error)
	// UpdateComplaint replaces c if the stored revision is c.Rev-1, else
	// apperr.VersionConflict.
	UpdateComplaint(ctx context.Context, c Complaint) error
	// ListComplaints returns the complaints f selects.
	ListComplaints(ctx context.Context, f Filter) ([]Complaint, error)
}
