package kiosk

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
)

type pages struct {
	d     Deps
	views map[string]*template.Template
}

var pageNames = []string{"home", "search", "sector", "matter", "demo", "setup", "ticket", "checkin", "reactivate", "queue"}

func newPages(d Deps) (*pages, error) {
	funcs := template.FuncMap{
		"fee":      fee,
		"channel":  channelLabel,
		"delivery": deliveryLabel,
		"days":     daysLabel,
		// statusLabel names a call's state on the 排队情况 page as on the
		// lobby screen.
		"statusLabel": statusLabel,
	}
	p := &pages{d: d, views: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
			"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("kiosk: parse %s page: %w", name, err)
		}
		p.views[name] = t
	}
	return p, nil
}

// view is what every page template gets.
type view struct {
	Center  catalog.Center
	Title   string
	Query   string
	Sectors []catalog.Sector
	Sector  catalog.Sector
	Matters []catalog.Matter
	Matter  catalog.Matter
	Next    string
	// IdleSeconds is how long a page waits without a touch before it
	// returns to the home page, clearing what the last citizen entered.
	IdleSeconds int
	// Queues are the sectors with their waiting counts, and Board the
	// center's public board, as they were when a queue page was served;
	// the page's script keeps them current.
	Queues []sectorQueue
	Board  boardView
	// Letters are the keys of 过号恢复: the letters that start the
	// center's ticket numbers.
	Letters []sectorLetter
	// Print is "1" or "0" when the address asks the ticket pages to print
	// or not to print (?print=1), whatever the kiosk's own setting says;
	// empty leaves it to that setting.
	Print string
}

// kioskCSP is the policy of the kiosk pages, the demo page and the lobby
// screen: only this server's scripts, styles, images and API; nothing
// inline; no framing. The setup and demo pages hold a kiosk secret in the
// page, which this policy keeps from any script not served by us.
const kioskCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (p *pages) render(c *fiber.Ctx, name string, v view) error {
	v.IdleSeconds = int(p.d.IdleReset.Seconds())
	var buf bytes.Buffer
	if err := p.views[name].Execute(&buf, v); err != nil {
		return fmt.Errorf("kiosk: render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderContentSecurityPolicy, kioskCSP)
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	return c.Send(buf.Bytes())
}

// center returns the kiosk's center and its sectors.
func (p *pages) center(ctx context.Context) (catalog.Center, []catalog.Sector, error) {
	var ce catalog.Center
	if p.d.Center != "" {
		var err error
		if ce, err = p.d.Catalog.Center(ctx, p.d.Center); err != nil {
			return ce, nil, err
		}
	} else {
		centers, err := p.d.Catalog.Centers(ctx)
		if err != nil {
			return ce, nil, err
		}
		for _, c := range centers {
			if c.Kind == catalog.CenterCounty {
				ce = c
				break
			}
		}
		if ce.Code == "" {
			return ce, nil, apperr.New(apperr.Unavailable, "服务目录尚未配置，请联系工作人员")
		}
	}
	sectors, err := p.d.Catalog.Sectors(ctx, ce.Code)
	return ce, sectors, err
}

func (p *pages) handleHome() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		return p.render(c, "home", view{Center: ce, Title: ce.Name, Sectors: sectors})
	}
}

func (p *pages) handleSearch() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		q := strings.TrimSpace(c.Query("q"))
		v := view{Center: ce, Title: "搜索事项", Query: q, Sectors: sectors}
		if q != "" {
			page, err := p.d.Catalog.Matters(c.UserContext(), catalog.Query{Center: ce.Code, Text: q, Limit: 30, Cursor: c.Query("cursor")})
			if err != nil {
				return err
			}
			v.Matters, v.Next = page.Items, page.Next
		}
		return p.render(c, "search", v)
	}
}

func (p *pages) handleSector() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		v := view{Center: ce, Sectors: sectors}
		for _, s := range sectors {
			if s.Code == c.Params("code") {
				v.Sector = s
			}
		}
		if v.Sector.Code == "" {
			return apperr.New(apperr.NotFound, "本中心没有这个板块")
		}
		v.Title = v.Sector.Name
		page, err := p.d.Catalog.Matters(c.UserContext(), catalog.Query{Center: ce.Code, Sector: v.Sector.Code, Limit: catalog.MaxPageSize, Cursor: c.Query("cursor")})
		if err != nil {
			return err
		}
		v.Matters, v.Next = page.Items, page.Next
		return p.render(c, "sector", v)
	}
}

func (p *pages) handleMatter() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, sectors, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		m, err := p.d.Catalog.Matter(c.UserContext(), c.Params("code"))
		if err != nil {
			return err
		}
		v := view{Center: ce, Sectors: sectors, Matter: m, Title: m.Name}
		for _, s := range sectors {
			if s.Code == m.Sector {
				v.Sector = s
			}
		}
		return p.render(c, "matter", v)
	}
}

// fee says what a matter costs in a few words. A zero fee whose standard
// is not "free" (a notary's scale, say) must not read as free.
func fee(m catalog.Matter) string {
	if m.FeeFen > 0 {
		return yuan(m.FeeFen)
	}
	if strings.Contains(m.FeeStandard, "不收费") || strings.Contains(m.FeeStandard, "免费") || m.FeeStandard == "" {
		return "免费"
	}
	return "按标准收费"
}

func yuan(fen int64) string {
	if fen%100 == 0 {
		return fmt.Sprintf("%d 元", fen/100)
	}
	return fmt.Sprintf("%d.%02d 元", fen/100, fen%100)
}

func daysLabel(n int) string {
	if n == 0 {
		return "即办"
	}
	return fmt.Sprintf("%d 个工作日", n)
}

func channelLabel(ch catalog.Channel) string {
	switch ch {
	case catalog.ChannelOnline:
		return "网上办（小程序）"
	case catalog.ChannelKiosk:
		return "自助终端办"
	case catalog.ChannelWindow:
		return "窗口办"
	}
	return string(ch)
}

func deliveryLabel(d catalog.Delivery) string {
	switch d {
	case catalog.DeliveryWindow:
		return "窗口领取"
	case catalog.DeliveryKioskPrint:
		return "自助终端打印"
	case catalog.DeliveryExpress:
		return "免费邮寄"
	}
	return string(d)
}
