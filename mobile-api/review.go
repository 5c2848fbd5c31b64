package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
)

// rater is the signed-in citizen as the review service knows raters:
// by account and, when bound, by real name (tickets taken with the card).
func rater(c *fiber.Ctx) review.Rater {
	p := person(c)
	return review.Rater{Holders: []string{p.Citizen, p.Holder}}
}

// handleEvaluationCreate rates one of the citizen's finished service events (好差评).
func handleEvaluationCreate(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req web.RatingRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		e, err := rs.Rate(c.UserContext(), rater(c), req.Rating(review.ChannelMP))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(web.NewEvaluationView(e))
	}
}

// handleEvaluationList lists the citizen's own evaluations, newest first.
func handleEvaluationList(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := rs.Mine(c.UserContext(), rater(c), 100)
		if err != nil {
			return err
		}
		items := make([]web.EvaluationView, len(list))
		for i, e := range list {
			items[i] = web.NewEvaluationView(e)
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}
