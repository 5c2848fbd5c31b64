package kiosk

import (
	"fmt"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
)

// The kiosk's 我要咨询 (/kiosk/consult) and 我要投诉 (/kiosk/complain): after
// the ID card is read, the citizen asks a question (typed or chosen from
// large buttons; ?matter= asks about one matter, otherwise it is a general
// question for the 综合便民 desk) or files a complaint. One template,
// service.html, and one script, kiosk-service.js, which calls the signed
// kiosk API with the card session; the server only serves the pages.

// parseServicePages adds the consultation and complaint pages' template.
func (p *pages) parseServicePages() error {
	funcs := template.FuncMap{"fee": fee, "channel": channelLabel, "delivery": deliveryLabel, "days": daysLabel, "statusLabel": statusLabel}
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
		"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/service.html")
	if err != nil {
		return fmt.Errorf("kiosk: parse service pages: %w", err)
	}
	p.views["service"] = t
	r, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
		"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/rate.html")
	if err != nil {
		return fmt.Errorf("kiosk: parse rate page: %w", err)
	}
	p.views["rate"] = r
	return nil
}

// handleRatePage serves 服务评价: the card holder's services not rated yet
// (待评价: served tickets, concluded cases, answered questions, delivered
// certificates), each rated with the evaluation pad's five faces and
// their words.
func (p *pages) handleRatePage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "rate", view{Center: ce, Title: "服务评价"})
	}
}

// handleConsultPage serves 我要咨询, about ?matter= if it names a matter of
// the kiosk's center in force.
func (p *pages) handleConsultPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		v := view{Center: ce, Title: "我要咨询", Query: "consult"}
		if code := c.Query("matter"); code != "" {
			m, err := p.d.Catalog.Matter(c.UserContext(), code)
			if err != nil {
				return err
			}
			if m.Center != ce.Code || m.Status != catalog.StatusActive {
				return apperr.New(apperr.NotFound, "本中心没有这个事项")
			}
			v.Matter, v.Title = m, "我要咨询 · "+m.Name
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "service", v)
	}
}

// handleComplainPage serves 我要投诉.
func (p *pages) handleComplainPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "service", view{Center: ce, Title: "我要投诉", Query: "complain"})
	}
}
