// Package cases is 一次办好 itself: applications (办件) from draft to
// conclusion. A citizen starts a case for a matter online, at a kiosk, or a
// clerk starts it at a window from a ticket; materials are uploaded, taken
// from the citizen's e-certificates (免提交) or reused from an earlier case;
// a clerk accepts it (受理), accepts it with non-essential materials pending
// (容缺受理), returns it with a one-time notice (一次告知) or rejects it
// (不予受理); the sector's back office decides it (按责转办); one deadline
// clock (package deadline) runs from acceptance to conclusion, paused while
// the case waits for the citizen or is suspended (中止) and extended by an
// approved extension (延长); supervisors watch the clocks (督办).
//
// A case is one document. Every change is a conditional update on its
// revision, so two clerks clicking 受理 at once cannot both succeed, on
// the embedded store and on a sharded MongoDB alike.
package cases

import (
	"time"

	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/deadline"
)

// State is where a case is in its life.
type State string

// Case states.
const (
	StateDraft     State = "draft"     // 草稿: the citizen is filling it in
	StateSubmitted State = "submitted" // 待受理: waiting for a clerk
	StateReturned  State = "returned"  // 待补正: a one-time notice asks for corrections
	StateAccepted  State = "accepted"  // 审批中: accepted, with the sector's back office
	StateSuspended State = "suspended" // 中止: the clock is stopped by a decision
	StateApproved  State = "approved"  // 办结（准予）
	StateDenied    State = "denied"    // 办结（不予批准）
	StateRejected  State = "rejected"  // 不予受理
	StateWithdrawn State = "withdrawn" // 已撤回 by the citizen
)

// Label is the state's name for citizens and staff.
func (s State) Label() string {
	switch s {
	case StateDraft:
		return "草稿"
	case StateSubmitted:
		return "待受理"
	case StateReturned:
		return "待补正"
	case StateAccepted:
		return "审批中"
	case StateSuspended:
		return "已中止"
	case StateApproved:
		return "已办结"
	case StateDenied:
		return "不予批准"
	case StateRejected:
		return "不予受理"
	case StateWithdrawn:
		return "已撤回"
	}
	return string(s)
}

// Closed reports whether nothing more happens to a case in state s.
func (s State) Closed() bool {
	switch s {
	case StateApproved, StateDenied, StateRejected, StateWithdrawn:
		return true
	}
	return false
}

// Known reports whether s is one of the states above.
func (s State) Known() bool { return s.Label() != string(s) }

// MaterialStatus says whether a material is in hand.
type MaterialStatus string

// Material statuses.
const (
	MaterialMissing  MaterialStatus = "missing"  // not provided yet
	MaterialProvided MaterialStatus = "provided" // uploaded, reused, from an e-certificate or seen on paper
	MaterialPending  MaterialStatus = "pending"  // 容缺: accepted without it, to be supplied by a date
	MaterialWaived   MaterialStatus = "waived"   // a supervisor waived a pending material
)

// Source says where a provided material came from.
type Source string

// Material sources.
const (
	SourceUpload Source = "upload" // the citizen uploaded it for this case
	SourceECert  Source = "ecert"  // 免提交: taken from the citizen's e-certificate library
	SourceReuse  Source = "reuse"  // reused from an earlier case of the same citizen
	SourcePaper  Source = "paper"  // a clerk saw the paper original at the window
)

// Label is the source's name as shown beside the material.
func (s Source) Label() string {
	switch s {
	case SourceUpload:
		return "本次上传"
	case SourceECert:
		return "电子证照（免提交）"
	case SourceReuse:
		return "历史材料复用"
	case SourcePaper:
		return "窗口核验纸质原件"
	}
	return ""
}

// ECertRef is the e-certificate that stands in for a material.
type ECertRef struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Number string `json:"number"`
	Issuer string `json:"issuer"`
	// ValidUntil is the last day of validity; zero for no expiry.
	ValidUntil time.Time `json:"valid_until,omitzero"`
}

// Material is one of the guide's required or optional materials, and what
// the case holds for it.
type Material struct {
	// Name, Required, Pendable and ECertType come from the guide version
	// the case follows.
	Name      string `json:"name"`
	Required  bool   `json:"required"`
	Pendable  bool   `json:"pendable"`
	ECertType string `json:"ecert_type,omitempty"`

	Status MaterialStatus `json:"status"`
	Source Source         `json:"source,omitempty"`
	// File is the stored upload (also for a reused material).
	File *File `json:"file,omitempty"`
	// ECert is set for SourceECert.
	ECert *ECertRef `json:"ecert,omitempty"`
	// ReusedFrom is the number of the case a reused file came from.
	ReusedFrom string `json:"reused_from,omitempty"`
	// Locked materials (from an e-certificate) cannot be replaced by the citizen.
	Locked bool `json:"locked,omitempty"`
	// ChangedAt is when the material last changed: the one-time notice
	// rule compares it with the last return.
	ChangedAt time.Time `json:"changed_at,omitzero"`
}

// Problem is one item of a one-time notice.
type Problem struct {
	// Material is the index of the material concerned, or -1 for the
	// application as a whole.
	Material int    `json:"material"`
	Reason   string `json:"reason"`
}

// Override is a supervisor's authorisation to return a case a second
// time with problems the first notice should have listed.
type Override struct {
	// Supervisor is the staff ID of the supervisor who authorised it.
	Supervisor string `json:"supervisor"`
	Reason     string `json:"reason"`
}

// Notice is a one-time notice (一次告知书): every problem at once.
type Notice struct {
	At       time.Time `json:"at"`
	Staff    string    `json:"staff"`
	Office   string    `json:"office"`
	Problems []Problem `json:"problems"`
	Override *Override `json:"override,omitempty"`
}

// Pending is the 容缺受理 part of an accepted case: the materials to be
// supplied later, the citizen's commitment, and the supply deadline.
type Pending struct {
	// Commitment is the citizen's written promise to supply the materials.
	Commitment string    `json:"commitment"`
	At         time.Time `json:"at"`
	// Clock counts the working days allowed to supply them.
	Clock deadline.Clock `json:"clock"`
}

// Decision is the back office's approval or denial, or a rejection.
type Decision struct {
	At     time.Time `json:"at"`
	Staff  string    `json:"staff"`
	Office string    `json:"office"`
	Reason string    `json:"reason"`
	// LegalBasis is the provision a rejection or denial rests on.
	LegalBasis string `json:"legal_basis,omitempty"`
}

// Escalation is one supervision (督办) of a late case.
type Escalation struct {
	At    time.Time `json:"at"`
	Staff string    `json:"staff"`
	Note  string    `json:"note"`
}

// Event is one line of a case's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	State  State     `json:"state"`
	// Office is the office that acted, e.g. "综合受理窗口" or the sector's
	// name; citizens see it, never the staff member.
	Office string `json:"office"`
	// Note is shown to the citizen.
	Note string `json:"note,omitempty"`
	// Staff is who acted, for staff and auditors only.
	Staff string `json:"staff,omitempty"`
}

// Form holds what the applicant fills in besides the materials.
type Form struct {
	// Summary is the application's reason or content (申请事由).
	Summary string `json:"summary"`
	// Delivery is how the result reaches the citizen.
	Delivery catalog.Delivery `json:"delivery,omitempty"`
}

// Case is one application.
type Case struct {
	ID string `json:"id"`
	// Number is the case number on every notice, e.g. "HM2611260042".
	Number string `json:"number"`
	// QueryCode, with Number, lets anyone follow the case; it is printed
	// on the acceptance notice.
	QueryCode string `json:"query_code"`

	Center     string `json:"center"`
	Sector     string `json:"sector"`
	Matter     string `json:"matter"`
	MatterName string `json:"matter_name"`
	// GuideVersion is the version of the matter's guide the case follows.
	GuideVersion int `json:"guide_version"`

	// Applicant is the person by real name: "id:<blind index of the ID
	// number>", the same at a kiosk and in the mini-program.
	Applicant string `json:"applicant"`
	// Citizen is the mini-program account that started the case,
	// "citizen:<id>", if any.
	Citizen string          `json:"citizen,omitempty"`
	Channel catalog.Channel `json:"channel"`
	// Ticket is the queue ticket a window case was started from.
	Ticket string `json:"ticket,omitempty"`

	State     State      `json:"state"`
	Form      Form       `json:"form"`
	Materials []Material `json:"materials"`
	Notices   []Notice   `json:"notices,omitempty"`

	// Green marks a major project in the green channel (绿色通道).
	Green bool `json:"green,omitempty"`

	// Clock is the promised limit, running from acceptance.
	Clock deadline.Clock `json:"clock"`
	// StatutoryDays is the legal limit shown beside the promise.
	StatutoryDays int `json:"statutory_days"`
	// DueAt is when the promised limit ends, kept for ordering worklists;
	// zero before acceptance.
	DueAt time.Time `json:"due_at,omitzero"`

	Pending *Pending `json:"pending,omitempty"`
	// Certificate is the e-certificate the approval issued; CertPending
	// says it is still to be issued (the issuing failed and is retried).
	Certificate *ECertRef    `json:"certificate,omitempty"`
	CertPending bool         `json:"cert_pending,omitempty"`
	Rejection   *Decision    `json:"rejection,omitempty"`
	Decision    *Decision    `json:"decision,omitempty"`
	Escalations []Escalation `json:"escalations,omitempty"`
	History     []Event      `json:"history"`

	CreatedAt   time.Time `json:"created_at"`
	SubmittedAt time.Time `json:"submitted_at,omitzero"`
	AcceptedAt  time.Time `json:"accepted_at,omitzero"`
	ClosedAt    time.Time `json:"closed_at,omitzero"`
	UpdatedAt   time.Time `json:"updated_at"`
	// Rev counts the stored changes; an update succeeds only on the
	// revision it read.
	Rev int `json:"rev"`
}

// PendingMaterials lists the indexes of materials still pending (容缺).
func (c *Case) PendingMaterials() []int {
	var out []int
	for i, m := range c.Materials {
		if m.Status == MaterialPending {
			out = append(out, i)
		}
	}
	return out
}

// lastReturn is the last one-time notice, if any.
func (c *Case) lastReturn() *Notice {
	if len(c.Notices) == 0 {
		return nil
	}
	return &c.Notices[len(c.Notices)-1]
}

// Overrides counts the returns a supervisor had to authorise.
func (c *Case) Overrides() int {
	n := 0
	for _, nt := range c.Notices {
		if nt.Override != nil {
			n++
		}
	}
	return n
}
