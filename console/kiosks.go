package console

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

type kioskView struct {
	ID            string     `json:"id"`
	Center        string     `json:"center"`
	Location      string     `json:"location"`
	CardReader    bool       `json:"card_reader"`
	Printer       bool       `json:"printer"`
	Revoked       bool       `json:"revoked"`
	CreatedAt     time.Time  `json:"created_at"`
	LastSeen      *time.Time `json:"last_seen,omitempty"`
	PrinterStatus string     `json:"printer_status,omitempty"`
	ReaderStatus  string     `json:"reader_status,omitempty"`
}

func viewKiosk(k identity.Kiosk) kioskView {
	v := kioskView{ID: k.ID, Center: k.Center, Location: k.Location, CardReader: k.CardReader, Printer: k.Printer,
		Revoked: !k.RevokedAt.IsZero(), CreatedAt: k.CreatedAt, PrinterStatus: k.PrinterStatus, ReaderStatus: k.ReaderStatus}
	if !k.LastSeen.IsZero() {
		t := k.LastSeen
		v.LastSeen = &t
	}
	return v
}

type registerKioskRequest struct {
	Location   string `json:"location"`
	CardReader bool   `json:"card_reader"`
	Printer    bool   `json:"printer"`
}

// handleKioskRegister registers a kiosk at the administrator's center and
// returns its provisioning secret, this once.
func handleKioskRegister(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req registerKioskRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		st := staffOf(c)
		k, secret, err := ks.Register(c.UserContext(), "staff:"+st.ID, st.Center, req.Location, req.CardReader, req.Printer, origin(c))
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"kiosk": viewKiosk(k), "secret": secret})
	}
}

func handleKioskList(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		all, err := ks.List(c.UserContext(), staffOf(c).Center)
		if err != nil {
			return err
		}
		items := make([]kioskView, len(all))
		for i, k := range all {
			items[i] = viewKiosk(k)
		}
		return c.JSON(fiber.Map{"items": items})
	}
}

func handleKioskRevoke(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		if err := ks.Revoke(c.UserContext(), "staff:"+st.ID, st.Center, c.Params("id"), origin(c)); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
