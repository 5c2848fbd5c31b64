package console

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

// staffParcelEventView is a line of a parcel's history with who acted.
type staffParcelEventView struct {
	At          time.Time       `json:"at"`
	Action      string          `json:"action"`
	Status      delivery.Status `json:"status"`
	StatusLabel string          `json:"status_label"`
	Note        string          `json:"note,omitempty"`
	Actor       string          `json:"actor,omitempty"`
}

type staffAttemptView struct {
	At      time.Time `json:"at"`
	Courier string    `json:"courier"`
	Reason  string    `json:"reason"`
}

// staffParcelView is a parcel as the 出件 window sees it: the
// recipient's name and phone masked, the address in full (it goes on the
// label), the courier, and the alert raised by locked codes.
type staffParcelView struct {
	ID              string                 `json:"id"`
	Case            string                 `json:"case"`
	CaseNumber      string                 `json:"case_number"`
	MatterName      string                 `json:"matter_name"`
	CertificateType string                 `json:"certificate_type,omitempty"`
	Status          delivery.Status        `json:"status"`
	StatusLabel     string                 `json:"status_label"`
	Company         string                 `json:"company,omitempty"`
	Tracking        string                 `json:"tracking,omitempty"`
	Waiting         string                 `json:"waiting,omitempty"`
	RecipientName   string                 `json:"recipient_name"`
	Phone           string                 `json:"phone"`
	Address         string                 `json:"address"`
	Courier         string                 `json:"courier,omitempty"`
	CourierName     string                 `json:"courier_name,omitempty"`
	Alert           string                 `json:"alert,omitempty"`
	Attempts        []staffAttemptView     `json:"attempts"`
	History         []staffParcelEventView `json:"history"`
	CreatedAt       time.Time              `json:"created_at"`
	UpdatedAt       time.Time              `json:"updated_at"`
}

func viewStaffParcel(ds *delivery.Service, p delivery.Parcel) (staffParcelView, error) {
	addr, err := ds.OpenAddress(p)
	if err != nil {
		return staffParcelView{}, apperr.Wrap(apperr.Internal, "收件地址暂时无法读取", err)
	}
	loc := ds.Location()
	v := staffParcelView{ID: p.ID, Case: p.Case, CaseNumber: p.CaseNumber, MatterName: p.MatterName, CertificateType: p.CertificateType,
		Status: p.Status, StatusLabel: p.Status.Label(), Company: p.Company, Tracking: p.Tracking, Waiting: p.DispatchError,
		RecipientName: p.Recipient.NameMasked, Phone: p.Recipient.PhoneMasked, Address: addr, Courier: p.Courier, CourierName: p.CourierName,
		Alert: p.Alert, Attempts: make([]staffAttemptView, len(p.Attempts)), History: make([]staffParcelEventView, len(p.History)),
		CreatedAt: p.CreatedAt.In(loc), UpdatedAt: p.UpdatedAt.In(loc)}
	for i, a := range p.Attempts {
		v.Attempts[i] = staffAttemptView{At: a.At.In(loc), Courier: a.Courier, Reason: a.Reason}
	}
	for i, e := range p.History {
		v.History[i] = staffParcelEventView{At: e.At.In(loc), Action: e.Action, Status: e.Status, StatusLabel: e.Status.Label(), Note: e.Note, Actor: e.Actor}
	}
	return v, nil
}

// handleParcelList is the 出件 window's list of the center's parcels,
// newest first; ?status=ready,returned and ?alert=true filter it.
func handleParcelList(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		r := delivery.ListRequest{After: c.Query("cursor"), Limit: limit, Alert: c.Query("alert") == "true"}
		for _, s := range strings.Split(c.Query("status"), ",") {
			if s = strings.TrimSpace(s); s != "" && len(r.Statuses) < 10 {
				r.Statuses = append(r.Statuses, delivery.Status(s))
			}
		}
		list, next, err := ds.StaffParcels(c.UserContext(), staffer(c), r)
		if err != nil {
			return err
		}
		items := make([]staffParcelView, len(list))
		for i, p := range list {
			if items[i], err = viewStaffParcel(ds, p); err != nil {
				return err
			}
		}
		return c.JSON(fiber.Map{"items": items, "next": next})
	}
}

type assignRequest struct {
	Courier string `json:"courier"`
}

// handleParcelAssign gives a parcel to a courier of the center.
func handleParcelAssign(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req assignRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		p, err := ds.Assign(c.UserContext(), staffer(c), c.Params("id"), req.Courier)
		if err != nil {
			return err
		}
		v, err := viewStaffParcel(ds, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// handleParcelLabel sends the parcel's shipping label as a PDF.
func handleParcelLabel(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		pdf, err := ds.Label(c.UserContext(), staffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderContentDisposition, `inline; filename="label-`+c.Params("id")+`.pdf"`)
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		c.Set("X-Content-Type-Options", "nosniff")
		return c.Send(pdf)
	}
}

// handleCaseDispatch makes the parcel of an approved case now.
func handleCaseDispatch(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := ds.DispatchCase(c.UserContext(), staffer(c), c.Params("id"))
		if err != nil {
			return err
		}
		v, err := viewStaffParcel(ds, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

type courierItem struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Name     string `json:"name"`
	Company  string `json:"company"`
}

// handleCourierList lists the center's active courier accounts, to
// choose whom to give a parcel.
func handleCourierList(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		all, err := ids.ListStaff(c.UserContext(), staffOf(c).Center)
		if err != nil {
			return err
		}
		items := []courierItem{}
		for _, st := range all {
			if st.HasRole(identity.RoleCourier) && !st.Disabled {
				items = append(items, courierItem{ID: st.ID, Username: st.Username, Name: st.Name, Company: st.Company})
			}
		}
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}
