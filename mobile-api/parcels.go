package mobileapi

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

// parcelEventView is one line of a parcel's timeline as the citizen sees
// it: no courier or staff member named.
type parcelEventView struct {
	At          time.Time       `json:"at"`
	Action      string          `json:"action"`
	Status      delivery.Status `json:"status"`
	StatusLabel string          `json:"status_label"`
	Note        string          `json:"note"`
}

type attemptView struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

type recipientView struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

// citizenParcelView is the citizen's own parcel: the recipient in full
// (they gave it and may correct it), never the delivery code.
type citizenParcelView struct {
	ID              string            `json:"id"`
	Case            string            `json:"case"`
	CaseNumber      string            `json:"case_number"`
	MatterName      string            `json:"matter_name"`
	CertificateType string            `json:"certificate_type,omitempty"`
	Status          delivery.Status   `json:"status"`
	StatusLabel     string            `json:"status_label"`
	Company         string            `json:"company,omitempty"`
	Tracking        string            `json:"tracking,omitempty"`
	Waiting         string            `json:"waiting,omitempty"`
	Recipient       recipientView     `json:"recipient"`
	CodeSent        bool              `json:"code_sent"`
	Attempts        []attemptView     `json:"attempts"`
	Timeline        []parcelEventView `json:"timeline"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	DeliveredAt     *time.Time        `json:"delivered_at,omitempty"`
}

func attemptsOf(p delivery.Parcel, loc *time.Location) []attemptView {
	out := make([]attemptView, len(p.Attempts))
	for i, a := range p.Attempts {
		out[i] = attemptView{At: a.At.In(loc), Reason: a.Reason}
	}
	return out
}

func viewCitizenParcel(ds *delivery.Service, p delivery.Parcel) (citizenParcelView, error) {
	a, err := ds.Recipient(p)
	if err != nil {
		return citizenParcelView{}, apperr.Wrap(apperr.Internal, "收件信息暂时无法读取", err)
	}
	loc := ds.Location()
	v := citizenParcelView{ID: p.ID, Case: p.Case, CaseNumber: p.CaseNumber, MatterName: p.MatterName, CertificateType: p.CertificateType,
		Status: p.Status, StatusLabel: p.Status.Label(), Company: p.Company, Tracking: p.Tracking, Waiting: p.DispatchError,
		Recipient: recipientView{Name: a.Name, Phone: a.Phone, Address: a.Address},
		CodeSent:  p.Status == delivery.StatusPickedUp || p.Status == delivery.StatusFailedAttempt,
		Attempts:  attemptsOf(p, loc), Timeline: []parcelEventView{},
		CreatedAt: p.CreatedAt.In(loc), UpdatedAt: p.UpdatedAt.In(loc)}
	if !p.DeliveredAt.IsZero() {
		t := p.DeliveredAt.In(loc)
		v.DeliveredAt = &t
	}
	for _, e := range p.History {
		if e.Note != "" {
			v.Timeline = append(v.Timeline, parcelEventView{At: e.At.In(loc), Action: e.Action, Status: e.Status, StatusLabel: e.Status.Label(), Note: e.Note})
		}
	}
	return v, nil
}

type deliveryRequest struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

// handleDeliverySet records the address the citizen's certificate is
// sent to (证照免费寄送), when applying or after conclusion.
func handleDeliverySet(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req deliveryRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		p, err := ds.SetAddress(c.UserContext(), person(c), c.Params("id"), delivery.Address{Name: req.Name, Phone: req.Phone, Address: req.Address})
		if err != nil {
			return err
		}
		v, err := viewCitizenParcel(ds, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// handleDeliveryGet returns the parcel of one of the citizen's cases.
func handleDeliveryGet(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := ds.ParcelOfCase(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		v, err := viewCitizenParcel(ds, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// handleMPParcel returns one of the citizen's parcels (the page a parcel
// message opens).
func handleMPParcel(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := ds.Parcel(c.UserContext(), person(c), c.Params("id"))
		if err != nil {
			return err
		}
		v, err := viewCitizenParcel(ds, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// courierParcelView is a parcel as its courier sees it: the recipient's
// name and phone masked, the address in full (they deliver there); never
// the ID number or the code.
type courierParcelView struct {
	ID              string          `json:"id"`
	CaseNumber      string          `json:"case_number"`
	CertificateType string          `json:"certificate_type,omitempty"`
	Status          delivery.Status `json:"status"`
	StatusLabel     string          `json:"status_label"`
	Company         string          `json:"company"`
	Tracking        string          `json:"tracking"`
	RecipientName   string          `json:"recipient_name"`
	Phone           string          `json:"phone"`
	Address         string          `json:"address"`
	Attempts        []attemptView   `json:"attempts"`
	// TriesLeft are the delivery codes this courier may still try.
	TriesLeft int       `json:"tries_left"`
	Locked    bool      `json:"locked"`
	UpdatedAt time.Time `json:"updated_at"`
}

func viewCourierParcel(ds *delivery.Service, st identity.Staff, p delivery.Parcel) (courierParcelView, error) {
	addr, err := ds.OpenAddress(p)
	if err != nil {
		return courierParcelView{}, apperr.Wrap(apperr.Internal, "收件地址暂时无法读取", err)
	}
	loc := ds.Location()
	t := p.TriesOf(st.ID)
	return courierParcelView{ID: p.ID, CaseNumber: p.CaseNumber, CertificateType: p.CertificateType, Status: p.Status, StatusLabel: p.Status.Label(),
		Company: p.Company, Tracking: p.Tracking, RecipientName: p.Recipient.NameMasked, Phone: p.Recipient.PhoneMasked, Address: addr,
		Attempts: attemptsOf(p, loc), TriesLeft: max(ds.MaxWrongCodes()-t.Wrong, 0), Locked: t.Locked(), UpdatedAt: p.UpdatedAt.In(loc)}, nil
}

func courierOf(c *fiber.Ctx) identity.Staff {
	st, _ := c.Locals(localsCourier).(identity.Staff)
	return st
}

// statusesParam reads ?status=ready,picked_up.
func statusesParam(c *fiber.Ctx) []delivery.Status {
	var out []delivery.Status
	for _, s := range strings.Split(c.Query("status"), ",") {
		if s = strings.TrimSpace(s); s != "" && len(out) < 10 {
			out = append(out, delivery.Status(s))
		}
	}
	return out
}

// handleCourierParcels lists the courier's parcels; by default those
// still to pick up or deliver.
func handleCourierParcels(ds *delivery.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		limit, err := web.QueryInt(c, "limit")
		if err != nil {
			return err
		}
		st := courierOf(c)
		list, next, err := ds.CourierParcels(c.UserContext(), st, delivery.ListRequest{Statuses: statusesParam(c), After: c.Query("cursor"), Limit: limit})
		if err != nil {
			return err
		}
		items := make([]courierParcelView, len(list))
		for i, p := range list {
			if items[i], err = viewCourierParcel(ds, st, p); err != nil {
				return err
			}
		}
		return c.JSON(fiber.Map{"items": items, "next": next})
	}
}

// courierAction runs one of the courier's parcel actions and answers with
// the parcel as they now see it.
func courierAction(ds *delivery.Service, act func(c *fiber.Ctx, st identity.Staff) (delivery.Parcel, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := courierOf(c)
		p, err := act(c, st)
		if err != nil {
			return err
		}
		v, err := viewCourierParcel(ds, st, p)
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

type pickupRequest struct {
	Scan string `json:"scan"`
}

// handleCourierPickup is the scan of the parcel's label at the center.
func handleCourierPickup(ds *delivery.Service) fiber.Handler {
	return courierAction(ds, func(c *fiber.Ctx, st identity.Staff) (delivery.Parcel, error) {
		var req pickupRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return delivery.Parcel{}, err
		}
		return ds.Pickup(c.UserContext(), st, c.Params("id"), req.Scan)
	})
}

type deliverRequest struct {
	Code string `json:"code"`
}

// handleCourierDeliver hands the parcel over with the recipient's code.
func handleCourierDeliver(ds *delivery.Service) fiber.Handler {
	return courierAction(ds, func(c *fiber.Ctx, st identity.Staff) (delivery.Parcel, error) {
		var req deliverRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return delivery.Parcel{}, err
		}
		return ds.Deliver(c.UserContext(), st, c.Params("id"), req.Code)
	})
}

type failRequest struct {
	Reason string `json:"reason"`
}

// handleCourierFail records a failed delivery attempt.
func handleCourierFail(ds *delivery.Service) fiber.Handler {
	return courierAction(ds, func(c *fiber.Ctx, st identity.Staff) (delivery.Parcel, error) {
		var req failRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return delivery.Parcel{}, err
		}
		return ds.Fail(c.UserContext(), st, c.Params("id"), req.Reason)
	})
}

// handleCourierReturn brings the parcel back to the center.
func handleCourierReturn(ds *delivery.Service) fiber.Handler {
	return courierAction(ds, func(c *fiber.Ctx, st identity.Staff) (delivery.Parcel, error) {
		return ds.Return(c.UserContext(), st, c.Params("id"))
	})
}
