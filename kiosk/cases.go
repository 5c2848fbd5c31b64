package kiosk

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

// cardPerson is the citizen whose ID card is on the kiosk's reader; every
// case route needs the card.
func cardPerson(c *fiber.Ctx, ks *identity.Kiosks) (cases.Person, error) {
	k := kioskOf(c)
	tok := c.Get(HeaderCardSession)
	if tok == "" {
		return cases.Person{}, apperr.New(apperr.Unauthorized, "请先在读卡器上放置身份证")
	}
	sess, _, err := ks.CardSession(c.UserContext(), k, tok)
	if err != nil {
		return cases.Person{}, err
	}
	return cases.Person{Holder: "id:" + sess.Subject, Kiosk: k.ID}, nil
}

func kioskCaseView(cs *cases.Service, k cases.Case) web.CaseView {
	clk, ok := cs.ClockOf(k, cs.Now())
	return web.NewCaseView(k, clk, ok, cs.Location(), true)
}

// handleKioskCaseList lists the card holder's cases with their timelines.
func handleKioskCaseList(ks *identity.Kiosks, cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		list, next, err := cs.Mine(c.UserContext(), p, c.Query("cursor"), 20)
		if err != nil {
			return err
		}
		items := make([]web.CaseView, len(list))
		for i, k := range list {
			items[i] = kioskCaseView(cs, k)
		}
		return c.JSON(fiber.Map{"items": items, "next": next})
	}
}

// handleKioskCaseGet returns one of the card holder's cases.
func handleKioskCaseGet(ks *identity.Kiosks, cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		k, err := cs.Case(c.UserContext(), p, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(kioskCaseView(cs, k))
	}
}

type kioskCaseRequest struct {
	Matter string `json:"matter"`
}

// handleKioskCaseStart starts a kiosk application for a kiosk-enabled
// matter; the materials the card holder's e-certificates cover are
// attached at once.
func handleKioskCaseStart(ks *identity.Kiosks, cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		var req kioskCaseRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Matter == "" {
			return apperr.Fields(apperr.FieldError{Field: "matter", Message: "请选择事项"})
		}
		m, err := cs.MatterForKiosk(c.UserContext(), req.Matter, kioskOf(c).Center)
		if err != nil {
			return err
		}
		k, err := cs.Start(c.UserContext(), p, cases.StartRequest{Matter: m, Channel: catalog.ChannelKiosk})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(kioskCaseView(cs, k))
	}
}

// handleKioskCaseSubmit submits a kiosk application.
func handleKioskCaseSubmit(ks *identity.Kiosks, cs *cases.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		k, err := cs.Submit(c.UserContext(), p, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(kioskCaseView(cs, k))
	}
}
