package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/web"
)

// consultPerson is the mini-program citizen as consultation knows them.
func consultPerson(c *fiber.Ctx) consult.Person {
	p := person(c)
	return consult.Person{Holder: p.Holder, Citizen: p.Citizen}
}

type askRequest struct {
	Center string `json:"center"`
	Matter string `json:"matter"`
	Text   string `json:"text"`
}

// handleConsultAsk opens a consultation; its text passes WeChat's content
// check, and a risky text is held for staff review.
func handleConsultAsk(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req askRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := cs.Ask(c.UserContext(), consultPerson(c), consult.AskRequest{Center: req.Center, Matter: req.Matter, Text: req.Text,
			Channel: consult.ChannelMiniProgram})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(web.NewThreadView(cs, t, false))
	}
}

// handleConsultList lists the citizen's consultations, newest first.
func handleConsultList(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := cs.Mine(c.UserContext(), consultPerson(c))
		if err != nil {
			return err
		}
		items := make([]web.ThreadView, len(list))
		for i, t := range list {
			items[i] = web.NewThreadView(cs, t, false)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// handleConsultGet returns one of the citizen's consultations.
func handleConsultGet(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := cs.Get(c.UserContext(), consultPerson(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, false))
	}
}

type textRequest struct {
	Text string `json:"text"`
}

// handleConsultFollowUp adds the citizen's follow-up question.
func handleConsultFollowUp(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req textRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := cs.FollowUp(c.UserContext(), consultPerson(c), c.Params("id"), req.Text)
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, false))
	}
}

// handleConsultConfirm closes an answered consultation.
func handleConsultConfirm(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		t, err := cs.Confirm(c.UserContext(), consultPerson(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(web.NewThreadView(cs, t, false))
	}
}

// handleMatterFAQs lists a matter's published FAQs (public).
func handleMatterFAQs(cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := cs.FAQs(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		type faqView struct {
			ID       string `json:"id"`
			Question string `json:"question"`
			Answer   string `json:"answer"`
			At       string `json:"at"`
		}
		items := make([]faqView, len(list))
		for i, q := range list {
			items[i] = faqView{ID: q.ID, Question: q.Question, Answer: q.Answer, At: inChina(q.At).Format("2006-01-02T15:04:05-07:00")}
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}
