package kiosk

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// demoCard is one of the ID cards the demo page offers to its pretend
// card reader. The dates are as printed on the card; ValidUntil "长期" is
// a card valid for life.
type demoCard struct {
	Name       string
	IDNumber   string
	ValidFrom  string
	ValidUntil string
	// Expired marks the card that shows how a kiosk refuses an out-of-date
	// card; the server decides, this only labels the card face.
	Expired bool
}

// demoCards are made-up people with well-formed numbers (GB 11643 check
// digit, real region and birth date), so that the server's own checks pass
// and only the validity dates decide.
var demoCards = []demoCard{
	{Name: "张三丰", IDNumber: "371621198001010012", ValidFrom: "2020-01-01", ValidUntil: "长期"},
	{Name: "李四", IDNumber: "37162119900215002X", ValidFrom: "2016-03-01", ValidUntil: "2036-03-01"},
	{Name: "王五", IDNumber: "11010519491231002X", ValidFrom: "2004-01-01", ValidUntil: "2024-01-01", Expired: true},
}

type demoView struct {
	view
	Cards []demoCard
}

// handleDemo serves the page that plays a kiosk's ID-card reader, so that
// someone without the hardware can start, look at and end a card session
// and send heartbeats. The browser signs every request with the secret
// pasted into the page; the server sees only the signatures. It is
// registered in development mode only.
func (p *pages) handleDemo() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		// IdleSeconds stays 0: going back to the home page would throw away
		// the session the tester is looking at.
		v := demoView{view: view{Center: ce, Title: "自助终端演示"}, Cards: demoCards}
		var buf bytes.Buffer
		if err := p.views["demo"].Execute(&buf, v); err != nil {
			return fmt.Errorf("kiosk: render demo: %w", err)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentSecurityPolicy, kioskCSP)
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		return c.Send(buf.Bytes())
	}
}
