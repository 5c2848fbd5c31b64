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

// pendingView is one event of the 待评价 list.
type pendingView struct {
	EventKind  review.EventKind `json:"event_kind"`
	EventID    string           `json:"event_id"`
	KindLabel  string           `json:"kind_label"`
	Title      string           `json:"title"`
	FinishedAt string           `json:"finished_at"`
}

func newPendingViews(list []review.Event) []pendingView {
	out := make([]pendingView, len(list))
	for i, ev := range list {
		out[i] = pendingView{EventKind: ev.Kind, EventID: ev.ID, KindLabel: ev.Kind.Label(), Title: ev.Title,
			FinishedAt: web.RFC3339China(ev.FinishedAt)}
	}
	return out
}

// handleEvaluationPending lists 待评价: the citizen's finished service
// events of the last 30 days not rated yet, latest first.
func handleEvaluationPending(rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := rs.Pending(c.UserContext(), rater(c))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"items": newPendingViews(list), "next": ""})
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

// inviteAfter runs the rest of the chain and, when it succeeded, invites
// the citizen to rate the event named by the route parameter param (a
// delivered parcel): the invitation and its one reminder three days later
// go through the outbox, once per event. Review.Invite skips events not
// finished, so a wrong delivery code invites nobody.
func inviteAfter(rs *review.Service, kind review.EventKind, param string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id := c.Params(param)
		if err := c.Next(); err != nil {
			return err
		}
		if rs != nil && c.Response().StatusCode() < 300 {
			rs.InviteAfter(c.UserContext(), kind, id)
		}
		return nil
	}
}
