package kiosk

import (
	"fmt"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
)

// The kiosk's case pages: 我的办件 (/kiosk/cases), the card holder's cases
// with their timelines, and 自助申请 (/kiosk/apply/:code), an application
// for a kiosk-enabled matter whose materials the citizen's e-certificates
// partly cover (免提交). Both are one template, cases.html, and one script,
// kiosk-cases.js, which calls the signed kiosk case API with the card
// session, as the queue pages do; the server only serves the pages.

// parseCasePages adds the case pages' template to the kiosk's views.
func (p *pages) parseCasePages() error {
	funcs := template.FuncMap{"fee": fee, "channel": channelLabel, "delivery": deliveryLabel, "days": daysLabel, "statusLabel": statusLabel}
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
		"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/cases.html")
	if err != nil {
		return fmt.Errorf("kiosk: parse cases page: %w", err)
	}
	p.views["cases"] = t
	return nil
}

// handleCasesPage serves 我的办件: after the ID card is read, the card
// holder's cases, each with its state, deadline and timeline.
func (p *pages) handleCasesPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "cases", view{Center: ce, Title: "我的办件"})
	}
}

// handleApplyPage serves 自助申请 for a matter of the kiosk's center that
// is in force and offers the kiosk channel; ?case= continues a draft.
func (p *pages) handleApplyPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		m, err := p.d.Catalog.Matter(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		if m.Center != ce.Code {
			return apperr.New(apperr.NotFound, "本中心没有这个事项")
		}
		if m.Status != catalog.StatusActive || !m.HasChannel(catalog.ChannelKiosk) {
			return apperr.New(apperr.NotFound, "该事项不能在自助终端申请，请到窗口或在小程序办理")
		}
		v := view{Center: ce, Sectors: sectors, Matter: m, Title: "自助申请 · " + m.Name}
		for _, s := range sectors {
			if s.Code == m.Sector {
				v.Sector = s
			}
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "cases", v)
	}
}
