package mobileapi

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
)

// courierPageCSP allows nothing but this server's own script, styles and
// API (no inline script or style, no framing), and the phone's camera
// stream for scanning labels, which the page shows from a MediaStream.
const courierPageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// handleCourierPage serves the courier's phone page (/courier/), a
// static page whose script (/static/courier.js) calls /api/v1/courier/.
func handleCourierPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		b, err := assets.FS.ReadFile("templates/courier/index.html")
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentSecurityPolicy, courierPageCSP)
		c.Set(fiber.HeaderReferrerPolicy, "same-origin")
		c.Set("Permissions-Policy", "camera=(self), microphone=(), geolocation=()")
		return c.Send(b)
	}
}
