package console

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

type windowView struct {
	ID      string   `json:"id"`
	Center  string   `json:"center"`
	Name    string   `json:"name"`
	Sectors []string `json:"sectors"`
	Open    bool     `json:"open"`
	// Staff is the ID of the clerk signed in; Mine says it is the caller.
	Staff    string     `json:"staff,omitempty"`
	Mine     bool       `json:"mine"`
	OpenedAt *time.Time `json:"opened_at,omitempty"`
}

func viewWindow(w queue.Window, me string) windowView {
	v := windowView{ID: w.ID, Center: w.Center, Name: w.Name, Sectors: w.Sectors, Open: w.Open(), Staff: w.Staff, Mine: w.Staff != "" && w.Staff == me}
	if !w.OpenedAt.IsZero() {
		t := w.OpenedAt.In(time.FixedZone("CST", 8*3600))
		v.OpenedAt = &t
	}
	return v
}

// handleWindowSignIn signs the clerk in to a window (opens it).
func handleWindowSignIn(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		w, err := q.SignIn(c.UserContext(), st.Center, st.ID, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewWindow(w, st.ID))
	}
}

// handleWindowSignOut signs the clerk out of a window (closes it); a
// supervisor may close a window another clerk left signed in.
func handleWindowSignOut(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		force := st.HasRole(identity.RoleSupervisor) || st.HasRole(identity.RoleAdmin)
		w, err := q.SignOut(c.UserContext(), st.Center, st.ID, c.Params("id"), force)
		if err != nil {
			return err
		}
		return c.JSON(viewWindow(w, st.ID))
	}
}

type createWindowRequest struct {
	Name    string   `json:"name"`
	Sectors []string `json:"sectors"`
}

func handleWindowCreate(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req createWindowRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		st := staffOf(c)
		w, err := q.CreateWindow(c.UserContext(), "staff:"+st.ID, st.Center, req.Name, req.Sectors)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewWindow(w, st.ID))
	}
}

func handleWindowList(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		ws, err := q.Windows(c.UserContext(), st.Center)
		if err != nil {
			return err
		}
		items := make([]windowView, len(ws))
		for i, w := range ws {
			items[i] = viewWindow(w, st.ID)
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

type calledView struct {
	TicketID string    `json:"ticket_id"`
	Number   string    `json:"number"`
	Sector   string    `json:"sector"`
	Priority string    `json:"priority,omitempty"`
	Window   string    `json:"window"`
	Calls    int       `json:"calls"`
	TakenAt  time.Time `json:"taken_at"`
	// Announcement is what the lobby display says.
	Announcement string `json:"announcement"`
}

// handleCallNext calls the next ticket to the clerk's window.
func handleCallNext(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		t, w, err := q.CallNext(c.UserContext(), st.Center, st.ID, c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(calledView{TicketID: t.ID, Number: t.Number, Sector: t.Sector, Priority: string(t.Priority),
			Window: w.Name, Calls: t.Calls, TakenAt: t.TakenAt.In(time.FixedZone("CST", 8*3600)),
			Announcement: "请" + t.Number + "号到" + w.Name + "办理"})
	}
}

type actRequest struct {
	// Sector is a transfer's target.
	Sector string `json:"sector"`
	// Matters are the codes of the matters a completed visit served.
	Matters []string `json:"matters"`
}

type ticketStateView struct {
	TicketID string `json:"ticket_id"`
	Number   string `json:"number"`
	Sector   string `json:"sector"`
	Status   string `json:"status"`
	Calls    int    `json:"calls"`
	// Matters are the matters recorded as served.
	Matters []string `json:"matters"`
}

// orEmptyStrings keeps a list a JSON array when there is nothing in it.
func orEmptyStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleTicketAct applies a clerk's action (recall, no-show, complete,
// park, resume, transfer) to the ticket at their window.
func handleTicketAct(q *queue.Service, a queue.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req actRequest
		// A transfer names its sector; a completion may name the matters
		// served (or send no body).
		if a == queue.ActionTransfer || (a == queue.ActionComplete && len(c.Body()) > 0) {
			if err := web.DecodeJSON(c, &req); err != nil {
				return err
			}
		}
		st := staffOf(c)
		t, err := q.ActWith(c.UserContext(), st.Center, st.ID, c.Params("id"), c.Params("ticket"), a, queue.ActDetails{Sector: req.Sector, Matters: req.Matters})
		if err != nil {
			return err
		}
		return c.JSON(ticketStateView{TicketID: t.ID, Number: t.Number, Sector: t.Sector, Status: string(t.Status), Calls: t.Calls, Matters: orEmptyStrings(t.Matters)})
	}
}

type slotCapacityRequest struct {
	Sector   string    `json:"sector"`
	Start    time.Time `json:"start"`
	Capacity int       `json:"capacity"`
}

type slotCapacityView struct {
	Sector   string    `json:"sector"`
	Start    time.Time `json:"start"`
	Capacity int       `json:"capacity"`
	Booked   int       `json:"booked"`
}

// handleSlotCapacity sets the places of one appointment slot of the
// staff member's center (0 returns it to the default).
func handleSlotCapacity(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req slotCapacityRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Start.IsZero() {
			return apperr.Fields(apperr.FieldError{Field: "start", Message: "请填写时段开始时间"})
		}
		st := staffOf(c)
		if err := q.SetSlotCapacity(c.UserContext(), "staff:"+st.ID, st.Center, req.Sector, req.Start, req.Capacity); err != nil {
			return err
		}
		ds, err := q.Slots(c.UserContext(), st.Center, req.Sector, req.Start.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02"))
		if err != nil {
			return err
		}
		for _, s := range ds.Slots {
			if s.Start.Equal(req.Start) {
				return c.JSON(slotCapacityView{Sector: req.Sector, Start: s.Start.In(time.FixedZone("CST", 8*3600)), Capacity: s.Capacity, Booked: s.Booked})
			}
		}
		return apperr.New(queue.CodeSlotUnavailable, "没有这个时段")
	}
}

// atWindowView is a ticket being served at a window.
type atWindowView struct {
	TicketID string    `json:"ticket_id"`
	Number   string    `json:"number"`
	Sector   string    `json:"sector"`
	Priority string    `json:"priority,omitempty"`
	Status   string    `json:"status"`
	Calls    int       `json:"calls"`
	CalledAt time.Time `json:"called_at"`
}

// handleAtWindow lists the tickets called or parked at a window today.
func handleAtWindow(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ts, err := q.AtWindow(c.UserContext(), staffOf(c).Center, c.Params("id"))
		if err != nil {
			return err
		}
		items := make([]atWindowView, len(ts))
		for i, t := range ts {
			items[i] = atWindowView{TicketID: t.ID, Number: t.Number, Sector: t.Sector, Priority: string(t.Priority),
				Status: string(t.Status), Calls: t.Calls, CalledAt: t.CalledAt.In(time.FixedZone("CST", 8*3600))}
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

type priorityRequest struct {
	Number   string `json:"number"`
	Priority string `json:"priority"`
}

// handleTicketPriority is a clerk or supervisor confirming a declared
// priority (disabled, pregnant), granting the green channel, or turning a
// declaration down (priority empty), for a waiting ticket by its number.
func handleTicketPriority(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req priorityRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Number == "" {
			return apperr.Fields(apperr.FieldError{Field: "number", Message: "请输入排队号码"})
		}
		st := staffOf(c)
		p, err := q.SetPriority(c.UserContext(), "staff:"+st.ID, st.Center, req.Number, queue.Priority(req.Priority))
		if err != nil {
			return err
		}
		t := p.Ticket
		return c.JSON(fiber.Map{"ticket_id": t.ID, "number": t.Number, "sector": t.Sector, "priority": string(t.Priority), "ahead": p.Ahead})
	}
}
