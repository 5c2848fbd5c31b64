package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

func complaintStaffer(c *fiber.Ctx) complaint.Staffer {
	st := staffOf(c)
	return complaint.Staffer{ID: st.ID, Center: st.Center, Sectors: st.Sectors, Supervisor: st.HasRole(identity.RoleSupervisor)}
}

// staffComplaintView is a complaint as staff see it: the complainant
// only for the handling staff.
type staffComplaintView struct {
	web.ComplaintView
	Handler   string `json:"handler,omitempty"`
	EnteredBy string `json:"entered_by,omitempty"`
	// Complainant is the mini-program account or ID-card holder of the
	// complainant, for the handling staff only.
	Complainant string `json:"complainant,omitempty"`
	// Caller is a hotline caller: in full for the handling staff, masked
	// for others.
	Caller *complaint.Caller `json:"caller,omitempty"`
	// IdentityHidden says the complainant is withheld from this viewer.
	IdentityHidden bool `json:"identity_hidden"`
}

func newStaffComplaintView(c *fiber.Ctx, cs *complaint.Service, k complaint.Complaint) staffComplaintView {
	st := complaintStaffer(c)
	v := staffComplaintView{ComplaintView: web.NewComplaintView(cs, k), Handler: k.Handler, EnteredBy: k.EnteredBy,
		IdentityHidden: !st.Handles(k)}
	if st.Handles(k) {
		v.Complainant = k.Citizen
		if v.Complainant == "" {
			v.Complainant = k.Holder
		}
	}
	if k.CallerName != "" || k.CallerPhone != "" {
		caller := cs.CallerOf(c.UserContext(), st, k)
		v.Caller = &caller
	}
	return v
}

// handleComplaintWorklist lists the open complaints of the staff's
// sectors (every sector for supervisors), by deadline.
func handleComplaintWorklist(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := cs.Worklist(c.UserContext(), complaintStaffer(c))
		if err != nil {
			return err
		}
		items := make([]staffComplaintView, len(list))
		for i, k := range list {
			items[i] = newStaffComplaintView(c, cs, k)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// handleComplaintStaffGet returns one complaint.
func handleComplaintStaffGet(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.StaffGet(c.UserContext(), complaintStaffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(newStaffComplaintView(c, cs, k))
	}
}

type hotlineRequest struct {
	CallerName  string `json:"caller_name"`
	CallerPhone string `json:"caller_phone"`
	Case        string `json:"case"`
	Sector      string `json:"sector"`
	Text        string `json:"text"`
}

// handleComplaintHotline enters a complaint received by the 12345 hotline.
func handleComplaintHotline(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req hotlineRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.EnterHotline(c.UserContext(), complaintStaffer(c), complaint.HotlineRequest{
			CallerName: req.CallerName, CallerPhone: req.CallerPhone, Case: req.Case, Sector: req.Sector, Text: req.Text})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(newStaffComplaintView(c, cs, k))
	}
}

// handleComplaintClaim makes the staff member the complaint's handler.
func handleComplaintClaim(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, err := cs.Claim(c.UserContext(), complaintStaffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(newStaffComplaintView(c, cs, k))
	}
}

type complaintAnswerRequest struct {
	Answer string `json:"answer"`
}

// handleComplaintAnswer answers a complaint.
func handleComplaintAnswer(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req complaintAnswerRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Answer(c.UserContext(), complaintStaffer(c), c.Params("id"), req.Answer)
		if err != nil {
			return err
		}
		return c.JSON(newStaffComplaintView(c, cs, k))
	}
}

type complaintDecideRequest struct {
	Decision string `json:"decision"`
}

// handleComplaintDecide closes a complaint by a supervisor's decision.
func handleComplaintDecide(cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req complaintDecideRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.Decide(c.UserContext(), complaintStaffer(c), c.Params("id"), req.Decision)
		if err != nil {
			return err
		}
		return c.JSON(newStaffComplaintView(c, cs, k))
	}
}
