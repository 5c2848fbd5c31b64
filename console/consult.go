package console

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

func consultStaffer(c *fiber.Ctx) consult.Staffer {
	st := staffOf(c)
	return consult.Staffer{ID: st.ID, Center: st.Center, Sectors: st.Sectors, Supervisor: st.HasRole(identity.RoleSupervisor)}
}

// handleConsultWorklist lists the sector's open and answered
// consultations, the first reply due soonest first.
func handleConsultWorklist(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var states []consult.State
		if s := c.Query("state"); s != "" {
			st := consult.State(s)
			if st.Label() == s {
				return apperr.Fields(apperr.FieldError{Field: "state", Message: "没有这个状态"})
			}
			states = []consult.State{st}
		}
		list, err := cs.Worklist(c.UserContext(), consultStaffer(c), states)
		if err != nil {
			return err
		}
		items := make([]web.ThreadView, len(list))
		for i, t := range list {
			items[i] = web.NewThreadView(cs, t, true)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// handleConsultStaffGet returns one consultation of the staff's sectors.
func handleConsultStaffGet(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := cs.StaffGet(c.UserContext(), consultStaffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, true))
	}
}

type consultTextRequest struct {
	Text string `json:"text"`
}

// handleConsultReply answers a consultation.
func handleConsultReply(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req consultTextRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := cs.Reply(c.UserContext(), consultStaffer(c), c.Params("id"), req.Text)
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, true))
	}
}

func messageParam(c *fiber.Ctx) (int, error) {
	n, err := strconv.Atoi(c.Params("n"))
	if err != nil || n < 0 || n > 10000 {
		return 0, apperr.Fields(apperr.FieldError{Field: "message", Message: "没有这条留言"})
	}
	return n, nil
}

// handleConsultReview releases (ok) or rejects a held message.
func handleConsultReview(cs *consult.Service, ok bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		n, err := messageParam(c)
		if err != nil {
			return err
		}
		t, err := cs.Review(c.UserContext(), consultStaffer(c), c.Params("id"), n, ok)
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, true))
	}
}

type faqRequest struct {
	// Message is the staff reply to publish.
	Message int `json:"message"`
	// Question, if set, replaces the citizen's wording.
	Question string `json:"question"`
}

// handleConsultFAQ publishes a reply as an FAQ of the thread's matter.
func handleConsultFAQ(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req faqRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		q, err := cs.PublishFAQ(c.UserContext(), consultStaffer(c), c.Params("id"), req.Message, req.Question)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": q.ID, "matter": q.Matter, "question": q.Question, "answer": q.Answer})
	}
}
