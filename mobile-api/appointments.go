package mobileapi

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

// slotView is one slot of the booking calendar.
type slotView struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Capacity  int       `json:"capacity"`
	Booked    int       `json:"booked"`
	Available int       `json:"available"`
	Open      bool      `json:"open"`
}

type slotsView struct {
	Center string     `json:"center"`
	Sector string     `json:"sector"`
	Date   string     `json:"date"`
	Closed string     `json:"closed,omitempty"`
	Items  []slotView `json:"items"`
}

// handleSlots lists a sector's slots on a day with the places left.
func handleSlots(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		center, sector, date := c.Query("center"), c.Query("sector"), c.Query("date")
		var missing []apperr.FieldError
		for _, f := range []struct{ name, v string }{{"center", center}, {"sector", sector}, {"date", date}} {
			if f.v == "" {
				missing = append(missing, apperr.FieldError{Field: f.name, Message: "必填"})
			}
		}
		if len(missing) > 0 {
			return apperr.Fields(missing...)
		}
		ds, err := q.Slots(c.UserContext(), center, sector, date)
		if err != nil {
			return err
		}
		v := slotsView{Center: center, Sector: sector, Date: ds.Day, Closed: ds.Closed, Items: []slotView{}}
		for _, s := range ds.Slots {
			v.Items = append(v.Items, slotView{Start: inChina(s.Start), End: inChina(s.End), Capacity: s.Capacity,
				Booked: s.Booked, Available: s.Available(), Open: s.Open})
		}
		return c.JSON(v)
	}
}

// appointmentView is an appointment as its owner sees it.
type appointmentView struct {
	ID          string     `json:"id"`
	Center      string     `json:"center"`
	Sector      string     `json:"sector"`
	Date        string     `json:"date"`
	Start       time.Time  `json:"start"`
	End         time.Time  `json:"end"`
	Status      string     `json:"status"`
	BookedAt    time.Time  `json:"booked_at"`
	CheckedInAt *time.Time `json:"checked_in_at,omitempty"`
	Ticket      string     `json:"ticket,omitempty"`
	ReplacedBy  string     `json:"replaced_by,omitempty"`
}

func viewAppointment(a queue.Appointment) appointmentView {
	v := appointmentView{ID: a.ID, Center: a.Center, Sector: a.Sector, Date: a.Day, Start: inChina(a.Start), End: inChina(a.End),
		Status: string(a.Status), BookedAt: inChina(a.BookedAt), Ticket: a.Ticket, ReplacedBy: a.ReplacedBy}
	if !a.CheckedInAt.IsZero() {
		t := inChina(a.CheckedInAt)
		v.CheckedInAt = &t
	}
	return v
}

func booker(c *fiber.Ctx) queue.Booker {
	ct := citizenOf(c)
	b := queue.Booker{Citizen: ct.ID}
	if ct.Bound() {
		b.IDIndex = ct.IDIndex
	}
	return b
}

type bookRequest struct {
	Center string    `json:"center"`
	Sector string    `json:"sector"`
	Start  time.Time `json:"start"`
}

// handleBook books a place in a slot, by real name.
func handleBook(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req bookRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Start.IsZero() {
			return apperr.Fields(apperr.FieldError{Field: "start", Message: "请选择时段"})
		}
		a, err := q.Book(c.UserContext(), booker(c), req.Center, req.Sector, req.Start)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewAppointment(a))
	}
}

// handleAppointmentList lists the citizen's appointments from today on.
func handleAppointmentList(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		list, err := q.Appointments(c.UserContext(), booker(c))
		if err != nil {
			return err
		}
		items := make([]appointmentView, len(list))
		for i, a := range list {
			items[i] = viewAppointment(a)
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

// handleAppointmentGet returns one of the citizen's appointments.
func handleAppointmentGet(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := q.Appointment(c.UserContext(), booker(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewAppointment(a))
	}
}

// handleAppointmentCancel cancels an appointment before the cut-off.
func handleAppointmentCancel(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, err := q.Cancel(c.UserContext(), booker(c), c.Params("id"))
		if err != nil {
			return err
		}
		return c.JSON(viewAppointment(a))
	}
}

type rescheduleRequest struct {
	Start time.Time `json:"start"`
}

// handleAppointmentReschedule moves an appointment to another slot of the
// same sector; the old booking stays if the new slot is refused.
func handleAppointmentReschedule(q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req rescheduleRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Start.IsZero() {
			return apperr.Fields(apperr.FieldError{Field: "start", Message: "请选择新时段"})
		}
		a, err := q.Reschedule(c.UserContext(), booker(c), c.Params("id"), req.Start)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(viewAppointment(a))
	}
}
