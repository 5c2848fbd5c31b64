package kiosk

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

type ticketRequest struct {
	Sector string `json:"sector"`
	// Declared is a priority the citizen declares: disabled or pregnant.
	Declared string `json:"declared"`
}

// ticketView is a ticket as the kiosk shows and prints it.
type ticketView struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	Sector     string `json:"sector"`
	SectorName string `json:"sector_name"`
	Priority   string `json:"priority,omitempty"`
	// Declared is a declared priority waiting for staff to confirm it.
	Declared string    `json:"declared,omitempty"`
	Status   string    `json:"status"`
	TakenAt  time.Time `json:"taken_at"`
	Ahead    int       `json:"ahead"`
	// FollowPath is the mini-program page the printed QR code opens.
	FollowPath string `json:"follow_path"`
	// WaitMinutes is the estimated wait, rounded up; Windows serve the sector.
	WaitMinutes int      `json:"wait_minutes"`
	Windows     []string `json:"windows"`
}

func viewTicket(p queue.Position) ticketView {
	t := p.Ticket
	return ticketView{ID: t.ID, Number: t.Number, Sector: t.Sector, SectorName: p.SectorName, Priority: string(t.Priority), Declared: string(t.Declared),
		Status: string(t.Status), TakenAt: t.TakenAt.In(time.FixedZone("CST", 8*3600)), Ahead: p.Ahead,
		FollowPath: "pages/ticket/index?id=" + t.ID, WaitMinutes: queue.Minutes(p.Wait), Windows: orEmpty(p.Windows)}
}

// handleTicketTake gives out a ticket at the kiosk: with a card session
// the ticket is the card holder's (one per sector, and 70-year-olds served
// first), without one it is a walk-in's.
func handleTicketTake(ks *identity.Kiosks, q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req ticketRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		k := kioskOf(c)
		r := queue.TakeRequest{Center: k.Center, Sector: req.Sector, Channel: queue.ChannelKiosk, Declared: queue.Priority(req.Declared)}
		if tok := c.Get(HeaderCardSession); tok != "" {
			sess, h, err := ks.CardSession(c.UserContext(), k, tok)
			if err != nil {
				return err
			}
			r.Holder = "id:" + sess.Subject
			if id, err := identity.ParseIDNumber("id_number", h.IDNumber, time.Now().AddDate(0, 0, 1)); err == nil {
				r.Birth = id.Birth
			}
		}
		p, err := q.Take(c.UserContext(), r)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewTicket(p))
	}
}

// checkInView is a signed-in appointment and the ticket it gave.
type checkInView struct {
	Appointment string     `json:"appointment"`
	Start       time.Time  `json:"start"`
	Ticket      ticketView `json:"ticket"`
}

// handleCheckIn signs in the card holder's appointment of today at this
// kiosk's center and prints an appointment-priority ticket.
func handleCheckIn(ks *identity.Kiosks, q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k := kioskOf(c)
		tok := c.Get(HeaderCardSession)
		if tok == "" {
			return apperr.New(apperr.Unauthorized, "请先刷身份证")
		}
		sess, _, err := ks.CardSession(c.UserContext(), k, tok)
		if err != nil {
			return err
		}
		a, p, err := q.CheckIn(c.UserContext(), k.Center, "id:"+sess.Subject)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(checkInView{Appointment: a.ID, Start: a.Start.In(time.FixedZone("CST", 8*3600)), Ticket: viewTicket(p)})
	}
}

// orEmpty keeps a list a JSON array when there is nothing in it.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

type reactivateRequest struct {
	Number string `json:"number"`
}

// handleReactivate puts a missed ticket back in line (过号恢复), once; a
// ticket taken by name needs its holder's card in the reader.
func handleReactivate(ks *identity.Kiosks, q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req reactivateRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Number == "" {
			return apperr.Fields(apperr.FieldError{Field: "number", Message: "请输入排队号码，例如 C023"})
		}
		k := kioskOf(c)
		holder := ""
		if tok := c.Get(HeaderCardSession); tok != "" {
			sess, _, err := ks.CardSession(c.UserContext(), k, tok)
			if err != nil {
				return err
			}
			holder = "id:" + sess.Subject
		}
		p, err := q.Reactivate(c.UserContext(), k.Center, req.Number, holder)
		if err != nil {
			return err
		}
		return c.JSON(viewTicket(p))
	}
}
