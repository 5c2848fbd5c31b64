package console

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
)

// Cookie names of the console session. The session cookie is HttpOnly; the
// CSRF cookie is readable by the console's script, which echoes it in the
// X-CSRF-Token header of every change (double submit).
const (
	sessionCookie = "banhao_staff"
	csrfCookie    = "banhao_csrf"
	csrfHeader    = "X-CSRF-Token"
)

const (
	localsStaff = "console.staff"
	// localsStaffNames caches the center's staff names for one request.
	localsStaffNames = "console.staff_names"
	localsSession    = "console.session"
)

func origin(c *fiber.Ctx) identity.Origin { return identity.Origin{IP: c.IP()} }

// requireStaff admits requests with a valid staff session, from a bearer
// token or the session cookie. A cookie-authenticated change must carry
// the session's CSRF token, so another site cannot make a logged-in
// browser act.
func requireStaff(ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		token, bearer := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !bearer {
			token = c.Cookies(sessionCookie)
		}
		sess, st, err := ids.AuthenticateStaff(c.UserContext(), strings.TrimSpace(token))
		if err != nil {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return err
		}
		if !bearer && !safeMethod(c.Method()) && c.Get(csrfHeader) != sess.CSRF {
			ids.RecordDenied(c.UserContext(), st, "csrf", c.Path(), origin(c))
			return apperr.New(apperr.Forbidden, "页面已过期，请刷新后重试")
		}
		c.Locals(localsStaff, st)
		c.Locals(localsSession, sess)
		c.Locals(web.LocalsActor, "staff:"+st.ID)
		return c.Next()
	}
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// requireRole admits staff with any of roles and audits every refusal.
func requireRole(ids *identity.Service, roles ...identity.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		st := staffOf(c)
		for _, r := range roles {
			if st.HasRole(r) {
				return c.Next()
			}
		}
		ids.RecordDenied(c.UserContext(), st, "permission_denied", c.Method()+" "+c.Route().Path, origin(c))
		return apperr.New(apperr.Forbidden, "您的角色无权进行此操作")
	}
}

func staffOf(c *fiber.Ctx) identity.Staff {
	st, _ := c.Locals(localsStaff).(identity.Staff)
	return st
}

func sessionOf(c *fiber.Ctx) identity.Session {
	s, _ := c.Locals(localsSession).(identity.Session)
	return s
}
