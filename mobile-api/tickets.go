package mobileapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

type mpTicketRequest struct {
	Center string `json:"center"`
	Sector string `json:"sector"`
	// Declared is a priority the citizen declares: disabled or pregnant.
	Declared string `json:"declared"`
}

// mpTicketView is a ticket as the mini-program follows it.
type mpTicketView struct {
	ID         string `json:"id"`
	Number     string `json:"number"`
	Center     string `json:"center"`
	Sector     string `json:"sector"`
	SectorName string `json:"sector_name"`
	Status     string `json:"status"`
	Priority   string `json:"priority,omitempty"`
	// Declared is a declared priority waiting for staff to confirm it.
	Declared string     `json:"declared,omitempty"`
	TakenAt  time.Time  `json:"taken_at"`
	Ahead    int        `json:"ahead"`
	CalledAt *time.Time `json:"called_at,omitempty"`
	Window   string     `json:"window,omitempty"`
	// WaitMinutes is the estimated wait, rounded up; Windows serve the sector.
	WaitMinutes int      `json:"wait_minutes"`
	Windows     []string `json:"windows"`
}

func viewMPTicket(p queue.Position) mpTicketView {
	t := p.Ticket
	v := mpTicketView{ID: t.ID, Number: t.Number, Center: t.Center, Sector: t.Sector, SectorName: p.SectorName,
		Status: string(t.Status), TakenAt: inChina(t.TakenAt), Ahead: p.Ahead, Window: t.Window,
		WaitMinutes: queue.Minutes(p.Wait), Windows: p.Windows, Priority: string(t.Priority), Declared: string(t.Declared)}
	if v.Windows == nil {
		v.Windows = []string{}
	}
	if !t.CalledAt.IsZero() {
		c := inChina(t.CalledAt)
		v.CalledAt = &c
	}
	return v
}

// handleMPTicketTake takes a ticket remotely from the mini-program.
func handleMPTicketTake(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req mpTicketRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		p, err := q.Take(c.UserContext(), queue.TakeRequest{
			Center: req.Center, Sector: req.Sector, Channel: queue.ChannelMiniProgram, Holder: holder(citizenOf(c)), Declared: queue.Priority(req.Declared),
		})
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewMPTicket(p))
	}
}

// handleMPTicketGet follows a ticket: the caller's own, or a walk-in ticket
// from a kiosk (which names nobody). Another person's ticket is not found.
func handleMPTicketGet(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ct := citizenOf(c)
		p, err := q.TicketFor(c.UserContext(), c.Params("id"), "citizen:"+ct.ID, holder(ct), "citizen:"+ct.ID)
		if err != nil {
			return err
		}
		return c.JSON(viewMPTicket(p))
	}
}

// holder is who a citizen's tickets belong to. A citizen with a bound real
// name is their ID number's blind index, the same as when their ID card is
// read at a kiosk, so one person holds one active ticket per sector
// whichever way they take it.
func holder(ct identity.Citizen) string {
	if ct.Bound() {
		return "id:" + ct.IDIndex
	}
	return "citizen:" + ct.ID
}
