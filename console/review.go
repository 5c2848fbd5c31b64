package console

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
)

// reviewStaffer is the signed-in staff member as the review service
// knows staff: center, sectors, and whether a supervisor (督办).
func reviewStaffer(c *fiber.Ctx) review.Staffer {
	st := staffOf(c)
	return review.Staffer{ID: st.ID, Center: st.Center, Sectors: st.Sectors, Supervisor: st.HasRole(identity.RoleSupervisor)}
}

type stepView struct {
	At     string `json:"at"`
	Staff  string `json:"staff,omitempty"`
	Action string `json:"action"`
	Note   string `json:"note,omitempty"`
}

// rectificationView is a rectification task (差评整改) with its review.
type rectificationView struct {
	ID          string              `json:"id"`
	Sector      string              `json:"sector"`
	State       string              `json:"state"`
	Founded     *bool               `json:"founded,omitempty"`
	DueAt       string              `json:"due_at"`
	Escalated   bool                `json:"escalated"`
	ReRate      int                 `json:"re_rate,omitempty"`
	Steps       []stepView          `json:"steps"`
	Evaluation  *web.EvaluationView `json:"evaluation,omitempty"`
	CreatedAt   string              `json:"created_at"`
	EscalatedAt string              `json:"escalated_at,omitempty"`
}

func newRectificationView(t review.Task, e *review.Evaluation) rectificationView {
	v := rectificationView{ID: t.ID, Sector: t.Sector, State: string(t.State), Founded: t.Founded,
		DueAt: web.RFC3339China(t.DueAt), Escalated: t.Escalated, ReRate: t.ReRate, Steps: make([]stepView, len(t.Steps)),
		CreatedAt: web.RFC3339China(t.CreatedAt), EscalatedAt: web.RFC3339China(t.EscalatedAt)}
	for i, s := range t.Steps {
		v.Steps[i] = stepView{At: web.RFC3339China(s.At), Staff: s.Staff, Action: s.Action, Note: s.Note}
	}
	if e != nil {
		ev := web.NewEvaluationView(*e)
		v.Evaluation = &ev
	}
	return v
}

// handleRectificationList lists the rectification tasks of the staff
// member's sectors (open ones unless ?all=true), by due time.
func handleRectificationList(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := rs.Tasks(c.UserContext(), reviewStaffer(c), c.Query("all") != "true")
		if err != nil {
			return err
		}
		items := make([]rectificationView, len(list))
		for i, t := range list {
			items[i] = newRectificationView(t, nil)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// handleRectificationGet returns one task with the review it answers.
func handleRectificationGet(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, e, err := rs.Task(c.UserContext(), reviewStaffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(newRectificationView(t, &e))
	}
}

type rectificationStepRequest struct {
	Founded *bool  `json:"founded"`
	Note    string `json:"note"`
}

// handleRectificationStep runs one step of a task: verify, rectify,
// follow-up (回访) or the supervisor's confirmation of an unfounded review.
func handleRectificationStep(rs *review.Service, step string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req rectificationStepRequest
		if len(c.Body()) > 0 {
			if err := web.DecodeJSON(c, &req); err != nil {
				return err
			}
		}
		ctx, st, id := c.UserContext(), reviewStaffer(c), c.Params("id")
		var t review.Task
		var err error
		switch step {
		case "verify":
			if req.Founded == nil {
				return apperr.Fields(apperr.FieldError{Field: "founded", Message: "请说明差评是否属实"})
			}
			t, err = rs.Verify(ctx, st, id, *req.Founded, req.Note)
		case "rectify":
			t, err = rs.Rectify(ctx, st, id, req.Note)
		case "follow-up":
			t, err = rs.FollowUp(ctx, st, id, req.Note)
		default:
			t, err = rs.Confirm(ctx, st, id, req.Note)
		}
		if err != nil {
			return err
		}
		return c.JSON(newRectificationView(t, nil))
	}
}

// handleSatisfaction returns satisfaction rates of the staff member's
// center grouped by ?by=center|sector|window|staff|matter.
func handleSatisfaction(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		by := c.Query("by", "sector")
		lines, err := rs.Satisfaction(c.UserContext(), reviewStaffer(c), by)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"by": by, "items": lines})
	}
}

// inviteAfter runs the rest of the chain and, when it succeeded, invites
// the citizen to rate the event named by the route parameter param (a
// completed ticket, a concluded case, an answered consultation): the invitation and its reminder
// three days later go through the outbox. Review.Invite skips events not
// finished, so it may follow any action on them.
func inviteAfter(rs *review.Service, kind review.EventKind, param string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Params(param)
		if err := c.Next(); err != nil {
			return err
		}
		if c.Response().StatusCode() < 300 {
			rs.InviteAfter(c.UserContext(), kind, id)
		}
		return nil
	}
}
