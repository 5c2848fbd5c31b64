package kiosk

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

const localsKiosk = "kiosk.device"

// Header names of the kiosk API.
const (
	HeaderKioskID   = "X-Kiosk-Id"
	HeaderTimestamp = "X-Kiosk-Timestamp"
	HeaderNonce     = "X-Kiosk-Nonce"
	HeaderSignature = "X-Kiosk-Signature"
	// HeaderCardSession carries the token of the citizen's card session.
	HeaderCardSession = "X-Kiosk-Session"
)

func origin(c *fiber.Ctx) identity.Origin {
	return identity.Origin{IP: c.IP(), Kiosk: c.Get(HeaderKioskID)}
}

// requireKiosk admits requests signed by a registered, unrevoked kiosk.
func requireKiosk(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := identity.ParseProof(c.Get(HeaderKioskID), c.Get(HeaderTimestamp), c.Get(HeaderNonce), c.Get(HeaderSignature))
		if err != nil {
			return err
		}
		k, err := ks.Verify(c.UserContext(), p, c.Method(), c.OriginalURL(), c.Body(), origin(c))
		if err != nil {
			return err
		}
		c.Locals(localsKiosk, k)
		c.Locals(web.LocalsActor, "kiosk:"+k.ID)
		return c.Next()
	}
}

func kioskOf(c *fiber.Ctx) identity.Kiosk {
	k, _ := c.Locals(localsKiosk).(identity.Kiosk)
	return k
}

type heartbeatRequest struct {
	Printer string `json:"printer"`
	Reader  string `json:"reader"`
}

func handleHeartbeat(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req heartbeatRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if err := ks.Heartbeat(c.UserContext(), kioskOf(c), req.Printer, req.Reader); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}

type cardRequest struct {
	Name       string `json:"name"`
	IDNumber   string `json:"id_number"`
	ValidFrom  string `json:"valid_from"`
	ValidUntil string `json:"valid_until"`
}

type holderView struct {
	NameMasked     string `json:"name_masked"`
	IDNumberMasked string `json:"id_number_masked"`
}

type cardSessionResponse struct {
	SessionToken string     `json:"session_token"`
	ExpiresAt    time.Time  `json:"expires_at"`
	Holder       holderView `json:"holder"`
}

// parseCardDate reads a date printed on an ID card; "长期" (for life) and
// an empty valid_until mean no end.
func parseCardDate(field, s string, optional bool) (time.Time, *apperr.FieldError) {
	s = strings.TrimSpace(s)
	if optional && (s == "" || s == "长期") {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", s, time.FixedZone("CST", 8*3600))
	if err != nil {
		return time.Time{}, &apperr.FieldError{Field: field, Message: "日期格式应为 YYYY-MM-DD"}
	}
	return t, nil
}

// handleCardSessionStart opens a citizen session from what the kiosk's ID
// card reader read.
func handleCardSessionStart(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req cardRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		from, fe1 := parseCardDate("valid_from", req.ValidFrom, false)
		until, fe2 := parseCardDate("valid_until", req.ValidUntil, true)
		var errs []apperr.FieldError
		for _, fe := range []*apperr.FieldError{fe1, fe2} {
			if fe != nil {
				errs = append(errs, *fe)
			}
		}
		if len(errs) > 0 {
			return apperr.Fields(errs...)
		}
		token, sess, err := ks.StartCardSession(c.UserContext(), kioskOf(c), identity.Card{
			Name: req.Name, IDNumber: req.IDNumber, ValidFrom: from, ValidUntil: until,
		}, origin(c))
		if err != nil {
			return err
		}
		_, h, err := ks.CardSession(c.UserContext(), kioskOf(c), token)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(cardSessionResponse{
			SessionToken: token, ExpiresAt: sess.ExpiresAt.In(time.FixedZone("CST", 8*3600)),
			Holder: holderView{NameMasked: identity.MaskName(h.Name), IDNumberMasked: identity.MaskIDNumber(h.IDNumber)},
		})
	}
}

func handleCardSessionGet(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sess, h, err := ks.CardSession(c.UserContext(), kioskOf(c), c.Get(HeaderCardSession))
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{
			"expires_at": sess.ExpiresAt.In(time.FixedZone("CST", 8*3600)),
			"holder":     holderView{NameMasked: identity.MaskName(h.Name), IDNumberMasked: identity.MaskIDNumber(h.IDNumber)},
		})
	}
}

func handleCardSessionEnd(ks *identity.Kiosks) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := ks.EndCardSession(c.UserContext(), kioskOf(c), c.Get(HeaderCardSession)); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	}
}
