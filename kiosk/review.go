package kiosk

import (
	"bytes"
	"fmt"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
)

// handleKioskEvaluation rates a service event (好差评) at a kiosk. When
// the body names a window, it comes from that window's evaluation pad (a
// kiosk-type device, no card needed) and the ticket just completed there
// is rated for its holder; otherwise the card holder's session rates the
// holder's event named in the body.
func handleKioskEvaluation(ks *identity.Kiosks, rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req web.RatingRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		var e review.Evaluation
		var err error
		if req.Window != "" {
			if req.EventKind != "" || req.EventID != "" {
				return apperr.Fields(apperr.FieldError{Field: "event_id", Message: "评价器按窗口评价，不能指定办事记录"})
			}
			e, err = rs.RateAtWindow(c.UserContext(), req.Window, req.Rating(review.ChannelPad))
		} else {
			p, perr := cardPerson(c, ks)
			if perr != nil {
				return perr
			}
			e, err = rs.Rate(c.UserContext(), review.Rater{Holders: []string{p.Holder}}, req.Rating(review.ChannelKiosk))
		}
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

// handleKioskEvaluationPending lists 待评价 for the card holder: their
// finished service events of the last 30 days not rated yet, latest first.
func handleKioskEvaluationPending(ks *identity.Kiosks, rs *review.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		list, err := rs.Pending(c.UserContext(), review.Rater{Holders: []string{p.Holder}})
		if err != nil {
			return err
		}
		items := make([]pendingView, len(list))
		for i, ev := range list {
			items[i] = pendingView{EventKind: ev.Kind, EventID: ev.ID, KindLabel: ev.Kind.Label(), Title: ev.Title,
				FinishedAt: web.RFC3339China(ev.FinishedAt)}
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(fiber.Map{"items": items, "next": ""})
	}
}

// padView is the evaluation pad's page: the kiosk view and its window.
type padView struct {
	view
	Window     string
	WindowName string
}

// parsePadPage adds the evaluation pad's template to the kiosk's views.
func (p *pages) parsePadPage() error {
	funcs := template.FuncMap{"fee": fee, "channel": channelLabel, "delivery": deliveryLabel, "days": daysLabel, "statusLabel": statusLabel}
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
		"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/pad.html")
	if err != nil {
		return fmt.Errorf("kiosk: parse pad page: %w", err)
	}
	p.views["pad"] = t
	return nil
}

// handlePadPage serves 评价器 (/kiosk/pad?window=<id>), the evaluation
// pad beside a window's clerk: five large faces with their words. It
// never resets to the home page when idle: it belongs to its window.
func (p *pages) handlePadPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		windows, err := p.d.Queue.Windows(c.UserContext(), ce.Code)
		if err != nil {
			return err
		}
		v := padView{view: view{Center: ce, Title: "服务评价"}, Window: c.Query("window")}
		for _, w := range windows {
			if w.ID == v.Window {
				v.WindowName = w.Name
			}
		}
		if v.WindowName == "" {
			return apperr.New(apperr.NotFound, "没有这个窗口")
		}
		var buf bytes.Buffer
		if err := p.views["pad"].Execute(&buf, v); err != nil {
			return fmt.Errorf("kiosk: render pad: %w", err)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderContentSecurityPolicy, kioskCSP)
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		return c.Send(buf.Bytes())
	}
}
