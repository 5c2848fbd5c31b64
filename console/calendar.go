package console

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
)

// calendarView is one version of a year's working-day calendar: the
// calendar's own fields (as in assets/calendar) beside its version and
// who saved it, so that an editor sends back what it read.
type calendarView struct {
	calendar.Config
	Version   int       `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
	UpdatedBy string    `json:"updated_by"`
}

func viewCalendar(r calendar.Revision) calendarView {
	v := calendarView{Config: r.Config, Version: r.Version, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy}
	if v.Holidays == nil {
		v.Holidays = []calendar.Holiday{}
	}
	if v.MakeupDays == nil {
		v.MakeupDays = []calendar.MakeupDay{}
	}
	return v
}

type calendarList struct {
	Items []calendarView `json:"items"`
}

// handleCalendarList lists every year's calendar at its current version.
func handleCalendarList(svc *calendar.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		revs, err := svc.Calendars(c.UserContext())
		if err != nil {
			return err
		}
		out := calendarList{Items: make([]calendarView, len(revs))}
		for i, r := range revs {
			out.Items[i] = viewCalendar(r)
		}
		return c.JSON(out)
	}
}

// yearParam reads the year of the path; anything else names no calendar.
func yearParam(c *fiber.Ctx) (int, error) {
	y, err := strconv.Atoi(c.Params("year"))
	if err != nil || y < 1 || y > 9999 {
		return 0, apperr.New(apperr.NotFound, "没有这个年度的日历")
	}
	return y, nil
}

// handleCalendarGet returns the current version of a year's calendar.
func handleCalendarGet(svc *calendar.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		year, err := yearParam(c)
		if err != nil {
			return err
		}
		r, err := svc.Calendar(c.UserContext(), year)
		if err != nil {
			return err
		}
		return c.JSON(viewCalendar(r))
	}
}

// handleCalendarVersion returns one past or current version of a year's
// calendar.
func handleCalendarVersion(svc *calendar.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		year, err := yearParam(c)
		if err != nil {
			return err
		}
		v, err := strconv.Atoi(c.Params("version"))
		if err != nil || v < 1 {
			return apperr.New(apperr.NotFound, "没有这个日历版本")
		}
		r, err := svc.CalendarVersion(c.UserContext(), year, v)
		if err != nil {
			return err
		}
		return c.JSON(viewCalendar(r))
	}
}

// calendarEdit is the body of a calendar edit: the calendar's fields and
// the version the editor loaded, as with a matter's guide.
type calendarEdit struct {
	calendar.Config
	// Version is the version the editor loaded; 0 adds a year that has
	// no calendar yet. It must be given.
	Version *int `json:"version"`
	// UpdatedAt and UpdatedBy are set by the server; they are accepted
	// and ignored so that a calendar read can be sent back as it is.
	UpdatedAt json.RawMessage `json:"updated_at,omitempty"`
	UpdatedBy json.RawMessage `json:"updated_by,omitempty"`
}

// withoutConfigPrefix drops the embedded Config's name from the field
// paths of a decoding error: encoding/json puts it in the path of a value
// of the wrong type ("Config.hours.mon.open"), but clients never see it.
func withoutConfigPrefix(err error) error {
	if e, ok := apperr.As(err); ok {
		for i := range e.Fields {
			e.Fields[i].Field = strings.TrimPrefix(e.Fields[i].Field, "Config.")
		}
	}
	return err
}

// handleCalendarRevise saves an edited calendar of the path's year as a
// new version and puts it in force at once; appointments on days it
// closes are cancelled and their bookers told.
func handleCalendarRevise(svc *calendar.Service, q *queue.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		year, err := yearParam(c)
		if err != nil {
			return err
		}
		var req calendarEdit
		if err := web.DecodeJSON(c, &req); err != nil {
			return withoutConfigPrefix(err)
		}
		if req.Version == nil {
			return apperr.Fields(apperr.FieldError{Field: "version", Message: "请填写所修改的版本号（新增年度填 0）"})
		}
		st := staffOf(c)
		ed := calendar.Editor{Actor: "staff:" + st.ID, Role: string(identity.RoleAdmin), Center: st.Center, IP: c.IP()}
		r, err := svc.Revise(c.UserContext(), year, *req.Version, req.Config, ed)
		if err != nil {
			return err
		}
		// The calendar is saved: a failure here is logged by the queue
		// and retried by the server's periodic sweep, so the edit still
		// answers 200.
		_, _ = q.CancelClosedBookings(c.UserContext())
		return c.JSON(viewCalendar(r))
	}
}
