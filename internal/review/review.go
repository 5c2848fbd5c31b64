// Package review is 好差评: citizens rate a finished service event (a
// served ticket, a concluded case, an answered consultation, a delivered
// parcel) once, on five levels from 非常满意 to 非常不满意; a bad review
// (不满意 or 非常不满意) opens a rectification task (差评整改) for the
// responsible sector, which verifies it, rectifies, follows up with the
// citizen (回访), who may then rate once more. Tasks run on the one
// deadline engine and escalate to the supervisor when overdue. Unfounded
// bad reviews need a supervisor's confirmation and stay counted in the
// satisfaction rates.
package review

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/deadline"
)

// EventKind is the kind of service event rated.
type EventKind string

// Event kinds.
const (
	EventTicket       EventKind = "ticket"
	EventCase         EventKind = "case"
	EventConsultation EventKind = "consultation"
	EventParcel       EventKind = "parcel"
)

// Valid reports whether k is one of the kinds above.
func (k EventKind) Valid() bool {
	switch k {
	case EventTicket, EventCase, EventConsultation, EventParcel:
		return true
	}
	return false
}

// Label is the kind's Chinese word, as the 待评价 list shows it.
func (k EventKind) Label() string {
	switch k {
	case EventTicket:
		return "窗口办理"
	case EventCase:
		return "办件"
	case EventConsultation:
		return "咨询"
	case EventParcel:
		return "证照寄送"
	}
	return ""
}

// Levels, 1 to 5; 1 and 2 are bad reviews (差评).
const (
	VeryDissatisfied = 1 // 非常不满意
	Dissatisfied     = 2 // 不满意
	Fair             = 3 // 基本满意
	Satisfied        = 4 // 满意
	VerySatisfied    = 5 // 非常满意
)

// LevelLabel returns the Chinese word of a level, or "" for none.
func LevelLabel(level int) string {
	switch level {
	case VeryDissatisfied:
		return "非常不满意"
	case Dissatisfied:
		return "不满意"
	case Fair:
		return "基本满意"
	case Satisfied:
		return "满意"
	case VerySatisfied:
		return "非常满意"
	}
	return ""
}

// Bad reports whether level is a bad review.
func Bad(level int) bool { return level == VeryDissatisfied || level == Dissatisfied }

// Channel is where a rating was given.
type Channel string

// Channels.
const (
	ChannelPad   Channel = "pad"   // the window's evaluation pad
	ChannelKiosk Channel = "kiosk" // a lobby kiosk with the ID card
	ChannelMP    Channel = "mp"    // the mini-program
)

// Event is a service event as the area that owns it describes it.
type Event struct {
	Kind EventKind
	ID   string
	// Holders are whose event it is: "citizen:<id>" and/or "id:<blind
	// index>"; empty for a walk-in without a card.
	Holders []string
	Center  string
	Sector  string
	Window  string
	// Staff served the citizen, if known.
	Staff  string
	Matter string
	// Finished: the ticket is served, the case concluded, the
	// consultation answered, the parcel delivered.
	Finished bool
	// FinishedAt is when it finished, if known.
	FinishedAt time.Time
	// Title names the event for the citizen: the matter or sector, with
	// the ticket number, case number, tracking number or question.
	Title string
}

// Events finds service events; cmd/banhao implements it over the queue,
// cases, consultation and delivery stores. An unknown event is
// apperr.NotFound.
type Events interface {
	Event(ctx context.Context, kind EventKind, id string) (Event, error)
	// Finished returns the events of any of holders (the forms one
	// citizen is known by) that finished at or after since, of every
	// kind, at most limit of each kind; order does not matter. An
	// event held by several of the holders comes once.
	Finished(ctx context.Context, holders []string, since time.Time, limit int) ([]Event, error)
}

// Evaluation is one rating of one event; Kind and EventID are unique together.
type Evaluation struct {
	ID        string    `json:"id"`
	EventKind EventKind `json:"event_kind"`
	EventID   string    `json:"event_id"`
	// Holder is the rater: "citizen:<id>" or "id:<blind index>".
	Holder  string    `json:"holder"`
	Center  string    `json:"center"`
	Sector  string    `json:"sector"`
	Window  string    `json:"window,omitempty"`
	Staff   string    `json:"staff,omitempty"`
	Matter  string    `json:"matter,omitempty"`
	Level   int       `json:"level"`
	Comment string    `json:"comment,omitempty"`
	Tags    []string  `json:"tags,omitempty"`
	Channel Channel   `json:"channel"`
	At      time.Time `json:"at"`
	// ReRatedFrom is the first level when the citizen rated again after
	// the follow-up (回访); 0 if not re-rated.
	ReRatedFrom int       `json:"re_rated_from,omitempty"`
	ReRatedAt   time.Time `json:"re_rated_at,omitzero"`
	// Task is the rectification task a bad review opened.
	Task string `json:"task,omitempty"`
	Rev  int    `json:"rev"`
}

// TaskState is where a rectification task stands.
type TaskState string

// Task states: verify → rectify → follow_up → closed when the review was
// founded; verify → confirm → closed when not (a supervisor confirms).
const (
	TaskVerify   TaskState = "verify"
	TaskRectify  TaskState = "rectify"
	TaskFollowUp TaskState = "follow_up"
	TaskConfirm  TaskState = "confirm"
	TaskClosed   TaskState = "closed"
)

// Step is one recorded step of a task.
type Step struct {
	At     time.Time `json:"at"`
	Staff  string    `json:"staff"`
	Action string    `json:"action"`
	Note   string    `json:"note,omitempty"`
}

// Task is the rectification (差评整改) of one bad review.
type Task struct {
	ID         string    `json:"id"`
	Evaluation string    `json:"evaluation"`
	Center     string    `json:"center"`
	Sector     string    `json:"sector"`
	State      TaskState `json:"state"`
	// Founded is set at verification.
	Founded *bool          `json:"founded,omitempty"`
	Steps   []Step         `json:"steps"`
	Clock   deadline.Clock `json:"clock"`
	DueAt   time.Time      `json:"due_at"`
	// Escalated is set when the task was found overdue and handed to the
	// supervisor (督办).
	Escalated   bool      `json:"escalated,omitempty"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
	// ReRate is the citizen's level after the follow-up; 0 until then.
	ReRate    int       `json:"re_rate,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Rev       int       `json:"rev"`
}

// Open reports whether the task is still being worked.
func (t Task) Open() bool { return t.State != TaskClosed }

// Store keeps evaluations and tasks, one document each; both the SQLite
// and MongoDB packages implement it, internal/storetest holds its contract.
type Store interface {
	// CreateEvaluation stores a new evaluation (Rev 1). One with the same
	// ID, or the same EventKind and EventID, is apperr.Conflict, so of two
	// concurrent ratings of one event exactly one is stored.
	CreateEvaluation(ctx context.Context, e Evaluation) error
	// GetEvaluation returns an evaluation by ID (apperr.NotFound if none).
	GetEvaluation(ctx context.Context, id string) (Evaluation, error)
	// EvaluationOf returns the evaluation of an event (apperr.NotFound if none).
	EvaluationOf(ctx context.Context, kind EventKind, eventID string) (Evaluation, error)
	// UpdateEvaluation replaces e if the stored revision is e.Rev-1;
	// otherwise apperr.VersionConflict, changing nothing.
	UpdateEvaluation(ctx context.Context, e Evaluation) error
	// ListEvaluations returns the evaluations f selects, newest first.
	ListEvaluations(ctx context.Context, f Filter) ([]Evaluation, error)

	// CreateTask stores a new task; a second task of one evaluation is
	// apperr.Conflict.
	CreateTask(ctx context.Context, t Task) error
	// GetTask returns a task by ID.
	GetTask(ctx context.Context, id string) (Task, error)
	// UpdateTask replaces t if the stored revision is t.Rev-1.
	UpdateTask(ctx context.Context, t Task) error
	// ListTasks returns the tasks f selects, by due time.
	ListTasks(ctx context.Context, f TaskFilter) ([]Task, error)
}

// Filter selects evaluations; empty fields do not filter.
type Filter struct {
	// Holders keeps the evaluations of any of these raters.
	Holders []string
	Center  string
	// Sectors keeps these sectors; empty means any.
	Sectors []string
	// Limit caps the result; 0 means no cap.
	Limit int
}

// TaskFilter selects tasks; empty fields do not filter.
type TaskFilter struct {
	Center  string
	Sectors []string
	// Open keeps tasks not yet closed.
	Open  bool
	Limit int
}
