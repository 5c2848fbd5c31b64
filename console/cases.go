package console

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

// staffer is the signed-in staff member as the case service knows them.
func staffer(c *fiber.Ctx) cases.Staffer {
	st := staffOf(c)
	return cases.Staffer{ID: st.ID, Center: st.Center, Sectors: st.Sectors,
		Clerk: st.HasRole(identity.RoleClerk), Approver: st.HasRole(identity.RoleApprover),
		Supervisor: st.HasRole(identity.RoleSupervisor), Admin: st.HasRole(identity.RoleAdmin)}
}

// staffEventView is a timeline line with the staff member who acted.
type staffEventView struct {
	web.CaseEventView
	Staff string `json:"staff,omitempty"`
	// StaffName is the name on the staff member's badge (亮牌办公).
	StaffName string `json:"staff_name,omitempty"`
}

// caseDeps are what the case handlers call: the case service, and the
// staff accounts to name who acted.
type caseDeps struct {
	cs  *cases.Service
	ids *identity.Service
}

// staffName names a staff member of the signed-in user's center, listing
// the center's accounts once per request.
func (d caseDeps) staffName(c *fiber.Ctx, id string) string {
	if id == "" || d.ids == nil {
		return ""
	}
	names, ok := c.Locals(localsStaffNames).(map[string]string)
	if !ok {
		names = map[string]string{}
		if list, err := d.ids.ListStaff(c.UserContext(), staffOf(c).Center); err == nil {
			for _, st := range list {
				names[st.ID] = st.Name
			}
		}
		c.Locals(localsStaffNames, names)
	}
	return names[id]
}

// staffCaseView is a case as staff see it: the citizen's view plus who
// acted, the notices in full, overrides and supervision.
type staffCaseView struct {
	web.CaseView
	Ticket      string             `json:"ticket,omitempty"`
	Timeline    []staffEventView   `json:"timeline"`
	Notices     []cases.Notice     `json:"notices"`
	Overrides   int                `json:"overrides"`
	Escalations []cases.Escalation `json:"escalations"`
}

func viewStaffCase(c *fiber.Ctx, d caseDeps, k cases.Case) staffCaseView {
	cs := d.cs
	clk, ok := cs.ClockOf(k, cs.Now())
	v := staffCaseView{CaseView: web.NewCaseView(k, clk, ok, cs.Location(), false), Ticket: k.Ticket,
		Notices: k.Notices, Overrides: k.Overrides(), Escalations: k.Escalations}
	v.Timeline = make([]staffEventView, len(k.History))
	for i, e := range k.History {
		v.Timeline[i] = staffEventView{CaseEventView: v.CaseView.Timeline[i], Staff: e.Staff, StaffName: d.staffName(c, e.Staff)}
	}
	if v.Notices == nil {
		v.Notices = []cases.Notice{}
	}
	if v.Escalations == nil {
		v.Escalations = []cases.Escalation{}
	}
	return v
}

// worklistItem is one line of a worklist or the supervision board.
type worklistItem struct {
	ID          string             `json:"id"`
	Number      string             `json:"number"`
	Matter      string             `json:"matter"`
	MatterName  string             `json:"matter_name"`
	Sector      string             `json:"sector"`
	State       cases.State        `json:"state"`
	StateLabel  string             `json:"state_label"`
	Green       bool               `json:"green"`
	Channel     string             `json:"channel"`
	Pending     int                `json:"pending"`
	Escalations int                `json:"escalations"`
	Clock       *web.CaseClockView `json:"clock,omitempty"`
	SubmittedAt string             `json:"submitted_at,omitempty"`
}

// handleWorklist is the signed-in staff member's worklist: cases waiting
// for acceptance (clerks), the sector's accepted cases by deadline
// (approvers), or every running clock (supervisors: the 督办 board);
// ?view=accept|decide|board picks one for staff with several roles, and
// ?level=late keeps only cases in warning or overdue.
func handleWorklist(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		list, err := cs.Worklist(c.UserContext(), staffer(c), c.Query("view"), 0)
		if err != nil {
			return err
		}
		onlyLate := c.Query("level") == "late"
		items := []worklistItem{}
		counts := map[string]int{"green": 0, "yellow": 0, "red": 0}
		for _, k := range list {
			it := worklistItem{ID: k.ID, Number: k.Number, Matter: k.Matter, MatterName: k.MatterName, Sector: k.Sector,
				State: k.State, StateLabel: k.State.Label(), Green: k.Green, Channel: string(k.Channel),
				Pending: len(k.PendingMaterials()), Escalations: len(k.Escalations)}
			if !k.SubmittedAt.IsZero() {
				it.SubmittedAt = k.SubmittedAt.In(cs.Location()).Format("2006-01-02 15:04")
			}
			if clk, ok := cs.ClockOf(k, cs.Now()); ok {
				it.Clock = web.NewClockView(clk, cs.Location())
				counts[string(clk.Level)]++
				if onlyLate && clk.Level == "green" {
					continue
				}
			} else if onlyLate {
				continue
			}
			items = append(items, it)
		}
		return c.JSON(fiber.Map{"items": items, "levels": counts, "next": ""})
	}
}

// handleStaffCaseGet returns a case to staff allowed to see it.
func handleStaffCaseGet(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		k, err := cs.StaffCase(c.UserContext(), staffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type windowCaseRequest struct {
	Matter string `json:"matter"`
}

// handleWindowCaseStart opens a case at the window for the holder of a
// ticket of the clerk's center.
func handleWindowCaseStart(d caseDeps, q *queue.Service) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req windowCaseRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		st := staffer(c)
		p, err := q.Ticket(c.UserContext(), c.Params("ticket"))
		if err != nil {
			return err
		}
		if p.Ticket.Center != st.Center {
			return apperr.New(apperr.NotFound, "没有这个排队号")
		}
		k, err := cs.StartAtWindow(c.UserContext(), st, p.Ticket.Holder, p.Ticket.ID, req.Matter)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewStaffCase(c, d, k))
	}
}

func materialParam(c *fiber.Ctx) (int, error) {
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 0 || n > 1000 {
		return 0, apperr.Fields(apperr.FieldError{Field: "material", Message: "没有这项材料"})
	}
	return n, nil
}

type paperRequest struct {
	Seen bool `json:"seen"`
}

// handleCasePaper records that the clerk saw a material's paper original.
func handleCasePaper(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		var req paperRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.MarkPaper(c.UserContext(), staffer(c), c.Params("id"), n, req.Seen)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

// handleStaffCaseSubmit submits a case filled in at the window.
func handleStaffCaseSubmit(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		k, err := cs.SubmitAtWindow(c.UserContext(), staffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type acceptRequest struct {
	Pending    []int  `json:"pending"`
	Commitment string `json:"commitment"`
}

// handleCaseAccept accepts a case (受理), possibly with pending materials (容缺).
func handleCaseAccept(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req acceptRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if len(req.Pending) > 100 {
			return apperr.Fields(apperr.FieldError{Field: "pending", Message: "容缺材料过多"})
		}
		k, err := cs.Accept(c.UserContext(), staffer(c), c.Params("id"), cases.AcceptRequest{Pending: req.Pending, Commitment: req.Commitment})
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type overrideRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Reason   string `json:"reason"`
}

type returnRequest struct {
	Problems []cases.Problem  `json:"problems"`
	Override *overrideRequest `json:"override"`
}

// handleCaseReturn returns a case with a one-time notice (一次告知).
func handleCaseReturn(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req returnRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		r := cases.ReturnRequest{Problems: req.Problems}
		if o := req.Override; o != nil {
			r.Override = &cases.OverrideRequest{Username: o.Username, Password: o.Password, Reason: o.Reason}
		}
		k, err := cs.Return(c.UserContext(), staffer(c), c.Params("id"), r)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type reasonRequest struct {
	Reason     string `json:"reason"`
	LegalBasis string `json:"legal_basis"`
}

// handleCaseReject refuses to accept a case (不予受理).
func handleCaseReject(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req reasonRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Reject(c.UserContext(), staffer(c), c.Params("id"), req.Reason, req.LegalBasis)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type decideRequest struct {
	Approve    *bool  `json:"approve"`
	Reason     string `json:"reason"`
	LegalBasis string `json:"legal_basis"`
}

// handleCaseDecide is the back office's approval or denial.
func handleCaseDecide(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req decideRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Approve == nil {
			return apperr.Fields(apperr.FieldError{Field: "approve", Message: "请选择准予或不予批准"})
		}
		k, err := cs.Decide(c.UserContext(), staffer(c), c.Params("id"), *req.Approve, req.Reason, req.LegalBasis)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

// handleCaseSuspend suspends a case (中止), stopping its clock.
func handleCaseSuspend(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req reasonRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Suspend(c.UserContext(), staffer(c), c.Params("id"), req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

// handleCaseResume restarts a suspended case's clock.
func handleCaseResume(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		k, err := cs.Resume(c.UserContext(), staffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type extendRequest struct {
	Days   int    `json:"days"`
	Reason string `json:"reason"`
}

// handleCaseExtend approves an extension (延长).
func handleCaseExtend(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req extendRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Extend(c.UserContext(), staffer(c), c.Params("id"), req.Days, req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

// handleCaseWaive waives a pending 容缺 material.
func handleCaseWaive(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		var req reasonRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Waive(c.UserContext(), staffer(c), c.Params("id"), n, req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type greenRequest struct {
	On     bool   `json:"on"`
	Reason string `json:"reason"`
}

// handleCaseGreen puts a case in the green channel or takes it out.
func handleCaseGreen(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req greenRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.SetGreen(c.UserContext(), staffer(c), c.Params("id"), req.On, req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

type escalateRequest struct {
	Note string `json:"note"`
}

// handleCaseEscalate records a supervision (督办).
func handleCaseEscalate(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		var req escalateRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Escalate(c.UserContext(), staffer(c), c.Params("id"), req.Note)
		if err != nil {
			return err
		}
		return c.JSON(viewStaffCase(c, d, k))
	}
}

// handleStaffCaseFile sends a material's file to staff who may see the
// case; the download is audited.
func handleStaffCaseFile(d caseDeps) fiber.Handler {
	cs := d.cs
	return func(c *fiber.Ctx) error {
		n, err := materialParam(c)
		if err != nil {
			return err
		}
		rc, f, err := cs.StaffMaterial(c.UserContext(), staffer(c), c.Params("id"), n)
		if err != nil {
			return err
		}
		return web.SendFile(c, rc, f)
	}
}
