package web

import (
	"time"

	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
)

// DeadlineView is a reply or answer deadline as seen now.
type DeadlineView struct {
	Due        time.Time `json:"due"`
	DueDay     string    `json:"due_day"`
	Level      string    `json:"level"`
	LevelLabel string    `json:"level_label"`
	Overdue    bool      `json:"overdue"`
}

func newDeadlineView(st deadline.Status, ok bool, loc *time.Location) *DeadlineView {
	if !ok {
		return nil
	}
	return &DeadlineView{Due: st.Due.In(loc), DueDay: st.DueDay.String(), Level: string(st.Level), LevelLabel: st.Level.Label(), Overdue: st.Overdue}
}

// MessageView is one message of a consultation. Text is plain text, sent
// as a JSON string: pages show it as text, never as HTML.
type MessageView struct {
	N        int       `json:"n"`
	From     string    `json:"from"`
	Text     string    `json:"text"`
	At       time.Time `json:"at"`
	Held     bool      `json:"held,omitempty"`
	Rejected bool      `json:"rejected,omitempty"`
	StaffID  string    `json:"staff_id,omitempty"`
}

// ThreadView is a consultation thread.
type ThreadView struct {
	ID         string        `json:"id"`
	Center     string        `json:"center"`
	Sector     string        `json:"sector"`
	Matter     string        `json:"matter,omitempty"`
	MatterName string        `json:"matter_name,omitempty"`
	Channel    string        `json:"channel"`
	State      consult.State `json:"state"`
	StateLabel string        `json:"state_label"`
	Messages   []MessageView `json:"messages"`
	ReplyDue   *DeadlineView `json:"reply_due,omitempty"`
	ClosedBy   string        `json:"closed_by,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
	Rev        int           `json:"rev"`
}

// NewThreadView renders a thread; staff see who replied, citizens see
// "the center".
func NewThreadView(cs *consult.Service, t consult.Thread, staff bool) ThreadView {
	loc := cs.Location()
	st, ok := cs.ClockOf(t, cs.Now())
	v := ThreadView{ID: t.ID, Center: t.Center, Sector: t.Sector, Matter: t.Matter, MatterName: t.MatterName, Channel: t.Channel,
		State: t.State, StateLabel: t.State.Label(), ReplyDue: newDeadlineView(st, ok, loc), ClosedBy: t.ClosedBy,
		CreatedAt: t.CreatedAt.In(loc), UpdatedAt: t.UpdatedAt.In(loc), Rev: t.Rev, Messages: make([]MessageView, len(t.Messages))}
	for i, m := range t.Messages {
		v.Messages[i] = MessageView{N: i, From: m.From, Text: m.Text, At: m.At.In(loc), Held: m.Held, Rejected: m.Rejected}
		if staff {
			v.Messages[i].StaffID = m.StaffID
		}
	}
	return v
}

// ComplaintView is a complaint as its complainant sees it.
type ComplaintView struct {
	ID         string           `json:"id"`
	Center     string           `json:"center"`
	Sector     string           `json:"sector"`
	Case       string           `json:"case,omitempty"`
	Source     complaint.Source `json:"source"`
	Text       string           `json:"text"`
	State      complaint.State  `json:"state"`
	StateLabel string           `json:"state_label"`
	Answer     string           `json:"answer,omitempty"`
	AnsweredAt *time.Time       `json:"answered_at,omitempty"`
	AnswerDue  *DeadlineView    `json:"answer_due,omitempty"`
	ClosedBy   string           `json:"closed_by,omitempty"`
	Decision   string           `json:"decision,omitempty"`
	CreatedAt  time.Time        `json:"created_at"`
	Rev        int              `json:"rev"`
}

// NewComplaintView renders a complaint without its complainant.
func NewComplaintView(cs *complaint.Service, c complaint.Complaint) ComplaintView {
	loc := cs.Location()
	st, ok := cs.ClockOf(c, cs.Now())
	v := ComplaintView{ID: c.ID, Center: c.Center, Sector: c.Sector, Case: c.Case, Source: c.Source, Text: c.Text,
		State: c.State, StateLabel: c.State.Label(), Answer: c.Answer, AnswerDue: newDeadlineView(st, ok, loc),
		ClosedBy: c.ClosedBy, Decision: c.Decision, CreatedAt: c.CreatedAt.In(loc), Rev: c.Rev}
	if !c.AnsweredAt.IsZero() {
		at := c.AnsweredAt.In(loc)
		v.AnsweredAt = &at
	}
	return v
}
