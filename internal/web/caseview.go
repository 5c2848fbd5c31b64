package web

import (
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
)

// CaseMaterialView is one material of a case as its applicant and staff
// see it, with where it came from.
type CaseMaterialView struct {
	Index       int                  `json:"index"`
	Name        string               `json:"name"`
	Required    bool                 `json:"required"`
	Pendable    bool                 `json:"pendable"`
	Status      cases.MaterialStatus `json:"status"`
	Source      cases.Source         `json:"source,omitempty"`
	SourceLabel string               `json:"source_label,omitempty"`
	File        *CaseFileView        `json:"file,omitempty"`
	ECert       *cases.ECertRef      `json:"ecert,omitempty"`
	ReusedFrom  string               `json:"reused_from,omitempty"`
	Locked      bool                 `json:"locked"`
	Problems    []string             `json:"problems,omitempty"`
	ChangedAt   *time.Time           `json:"changed_at,omitempty"`
}

// CaseFileView describes an uploaded file without its storage ID.
type CaseFileView struct {
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	ContentType string `json:"content_type"`
}

// CaseEventView is one line of the timeline: when, what, which office;
// never which staff member.
type CaseEventView struct {
	At         time.Time   `json:"at"`
	Action     string      `json:"action"`
	State      cases.State `json:"state"`
	StateLabel string      `json:"state_label"`
	Office     string      `json:"office"`
	Note       string      `json:"note,omitempty"`
}

// CaseProblemView is one item of a one-time notice.
type CaseProblemView struct {
	Material int    `json:"material"`
	Name     string `json:"name,omitempty"`
	Reason   string `json:"reason"`
}

// CaseNoticeView is a one-time notice (一次告知书).
type CaseNoticeView struct {
	At       time.Time         `json:"at"`
	Office   string            `json:"office"`
	Problems []CaseProblemView `json:"problems"`
}

// CaseClockView is the deadline as shown: due time, colour and days.
type CaseClockView struct {
	Due          time.Time  `json:"due"`
	DueDay       string     `json:"due_day"`
	Limit        int        `json:"limit"`
	Used         float64    `json:"used"`
	Left         float64    `json:"left"`
	Level        string     `json:"level"`
	LevelLabel   string     `json:"level_label"`
	Paused       bool       `json:"paused"`
	Overdue      bool       `json:"overdue"`
	StatutoryDue *time.Time `json:"statutory_due,omitempty"`
	// SupplyDue is the 容缺 supply deadline while materials are pending.
	SupplyDue *time.Time `json:"supply_due,omitempty"`
}

// CaseDecisionView is a decision or a rejection.
type CaseDecisionView struct {
	At         time.Time `json:"at"`
	Office     string    `json:"office"`
	Reason     string    `json:"reason,omitempty"`
	LegalBasis string    `json:"legal_basis,omitempty"`
}

// CaseView is a case as its applicant sees it (and, with the staff
// fields filled by the console, as staff see it).
type CaseView struct {
	ID           string             `json:"id"`
	Number       string             `json:"number"`
	QueryCode    string             `json:"query_code,omitempty"`
	Center       string             `json:"center"`
	Sector       string             `json:"sector"`
	Matter       string             `json:"matter"`
	MatterName   string             `json:"matter_name"`
	GuideVersion int                `json:"guide_version"`
	Channel      string             `json:"channel"`
	State        cases.State        `json:"state"`
	StateLabel   string             `json:"state_label"`
	Green        bool               `json:"green"`
	Summary      string             `json:"summary"`
	Delivery     string             `json:"delivery,omitempty"`
	Materials    []CaseMaterialView `json:"materials"`
	// Notice is the latest one-time notice, while the case is returned.
	Notice     *CaseNoticeView   `json:"notice,omitempty"`
	Commitment string            `json:"commitment,omitempty"`
	Clock      *CaseClockView    `json:"clock,omitempty"`
	Decision   *CaseDecisionView `json:"decision,omitempty"`
	Rejection  *CaseDecisionView `json:"rejection,omitempty"`
	Timeline   []CaseEventView   `json:"timeline"`
	// Certificate is the e-certificate the approval issued (number masked).
	Certificate *cases.ECertRef `json:"certificate,omitempty"`
	// Saved counts the materials the citizen did not have to hand over
	// (免提交 and reused).
	Saved       int        `json:"saved"`
	CreatedAt   time.Time  `json:"created_at"`
	SubmittedAt *time.Time `json:"submitted_at,omitempty"`
	AcceptedAt  *time.Time `json:"accepted_at,omitempty"`
	ClosedAt    *time.Time `json:"closed_at,omitempty"`
	Rev         int        `json:"rev"`
}

func optTime(t time.Time, loc *time.Location) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.In(loc)
	return &t
}

// NewCaseView renders c in loc with its clock (ok false: none). The
// query code is included only when withCode.
func NewCaseView(c cases.Case, clk cases.Clock, ok bool, loc *time.Location, withCode bool) CaseView {
	v := CaseView{
		ID: c.ID, Number: c.Number, Center: c.Center, Sector: c.Sector, Matter: c.Matter, MatterName: c.MatterName,
		GuideVersion: c.GuideVersion, Channel: string(c.Channel), State: c.State, StateLabel: c.State.Label(), Green: c.Green,
		Summary: c.Form.Summary, Delivery: string(c.Form.Delivery), Materials: make([]CaseMaterialView, len(c.Materials)),
		Timeline: make([]CaseEventView, len(c.History)), CreatedAt: c.CreatedAt.In(loc),
		SubmittedAt: optTime(c.SubmittedAt, loc), AcceptedAt: optTime(c.AcceptedAt, loc), ClosedAt: optTime(c.ClosedAt, loc), Rev: c.Rev,
		Certificate: c.Certificate,
	}
	if withCode {
		v.QueryCode = c.QueryCode
	}
	var notice *cases.Notice
	if c.State == cases.StateReturned && len(c.Notices) > 0 {
		notice = &c.Notices[len(c.Notices)-1]
	}
	for i, m := range c.Materials {
		mv := CaseMaterialView{Index: i, Name: m.Name, Required: m.Required, Pendable: m.Pendable, Status: m.Status,
			Source: m.Source, SourceLabel: m.Source.Label(), ECert: m.ECert, ReusedFrom: m.ReusedFrom, Locked: m.Locked,
			ChangedAt: optTime(m.ChangedAt, loc)}
		if m.File != nil {
			mv.File = &CaseFileView{Size: m.File.Size, SHA256: m.File.SHA256, ContentType: m.File.ContentType}
		}
		if m.Source == cases.SourceECert || m.Source == cases.SourceReuse {
			v.Saved++
		}
		if notice != nil {
			for _, p := range notice.Problems {
				if p.Material == i {
					mv.Problems = append(mv.Problems, p.Reason)
				}
			}
		}
		v.Materials[i] = mv
	}
	if notice != nil {
		nv := &CaseNoticeView{At: notice.At.In(loc), Office: notice.Office, Problems: make([]CaseProblemView, len(notice.Problems))}
		for i, p := range notice.Problems {
			nv.Problems[i] = CaseProblemView{Material: p.Material, Reason: p.Reason}
			if p.Material >= 0 && p.Material < len(c.Materials) {
				nv.Problems[i].Name = c.Materials[p.Material].Name
			}
		}
		v.Notice = nv
	}
	if c.Pending != nil {
		v.Commitment = c.Pending.Commitment
	}
	if ok {
		v.Clock = NewClockView(clk, loc)
	}
	if d := c.Decision; d != nil {
		v.Decision = &CaseDecisionView{At: d.At.In(loc), Office: d.Office, Reason: d.Reason, LegalBasis: d.LegalBasis}
	}
	if d := c.Rejection; d != nil {
		v.Rejection = &CaseDecisionView{At: d.At.In(loc), Office: d.Office, Reason: d.Reason, LegalBasis: d.LegalBasis}
	}
	for i, e := range c.History {
		v.Timeline[i] = CaseEventView{At: e.At.In(loc), Action: e.Action, State: e.State, StateLabel: e.State.Label(), Office: e.Office, Note: e.Note}
	}
	return v
}

// NewClockView renders a case's deadline in loc.
func NewClockView(clk cases.Clock, loc *time.Location) *CaseClockView {
	cv := &CaseClockView{Due: clk.Due.In(loc), DueDay: dayString(clk.DueDay), Limit: clk.Limit, Used: round1(clk.Used),
		Left: round1(clk.Left), Level: string(clk.Level), LevelLabel: clk.Level.Label(), Paused: clk.Paused, Overdue: clk.Overdue,
		StatutoryDue: optTime(clk.StatutoryDue, loc)}
	if clk.Supply != nil {
		cv.SupplyDue = optTime(clk.Supply.Due, loc)
	}
	return cv
}

func dayString(d calendar.Day) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// round1 keeps one decimal: "3.4 working days used" is precise enough.
func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

// SendFile streams a stored material file as a download: its sniffed
// type, its length, no type guessing by the browser, and no caching by
// shared proxies (it is personal data).
func SendFile(c *fiber.Ctx, rc io.ReadCloser, f cases.File) error {
	ext := map[string]string{"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}[f.ContentType]
	c.Set(fiber.HeaderContentType, f.ContentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="material-`+f.SHA256[:min(12, len(f.SHA256))]+ext+`"`)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendStream(rc, int(f.Size))
}
