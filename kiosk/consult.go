package kiosk

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

type kioskAskRequest struct {
	Center string `json:"center"`
	Matter string `json:"matter"`
	Text   string `json:"text"`
}

// handleKioskConsultAsk opens a consultation for the card holder; the
// answer reaches them in the mini-program or at a kiosk with their card.
func handleKioskConsultAsk(ks *identity.Kiosks, cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		var req kioskAskRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		t, err := cs.Ask(c.UserContext(), consult.Person{Holder: p.Holder, Kiosk: p.Kiosk},
			consult.AskRequest{Center: req.Center, Matter: req.Matter, Text: req.Text, Channel: consult.ChannelKiosk})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(web.NewThreadView(cs, t, false))
	}
}

type kioskComplaintRequest struct {
	Center string `json:"center"`
	Case   string `json:"case"`
	Matter string `json:"matter"`
	Sector string `json:"sector"`
	Text   string `json:"text"`
}

// handleKioskComplaintFile files a complaint for the card holder.
func handleKioskComplaintFile(ks *identity.Kiosks, cs *complaint.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		var req kioskComplaintRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k, err := cs.File(c.UserContext(), complaint.Person{Holder: p.Holder, Kiosk: p.Kiosk}, complaint.SourceKiosk,
			complaint.FileRequest{Center: req.Center, Case: req.Case, Matter: req.Matter, Sector: req.Sector, Text: req.Text})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(web.NewComplaintView(cs, k))
	}
}

// handleKioskConsultList lists the card holder's consultations, newest
// first, with the center's replies: the answer to a question asked at a
// kiosk or in the mini-program is read at any kiosk with the card.
func handleKioskConsultList(ks *identity.Kiosks, cs *consult.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		list, err := cs.Mine(c.UserContext(), consult.Person{Holder: p.Holder, Kiosk: p.Kiosk})
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
