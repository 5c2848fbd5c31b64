package web

import (
	"crypto/subtle"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
)

// LocalsActor is the fiber locals key under which auth middleware stores
// the authenticated actor's name, for audit fields such as updated_by.
const LocalsActor = "banhao.actor"

// Actor returns the authenticated actor set by auth middleware, or "".
func Actor(c *fiber.Ctx) string {
	s, _ := c.Locals(LocalsActor).(string)
	return s
}

// RequireAdminToken admits requests bearing the bootstrap administrator
// token ("Authorization: Bearer <token>"). It stands in for staff accounts
// until the identity capability lands. With an empty token every request
// is refused: administration stays closed until a token is configured.
func RequireAdminToken(token string) fiber.Handler {
	want := []byte(token)
	return func(c *fiber.Ctx) error {
		got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if !ok || len(want) == 0 || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="banhao"`)
			return apperr.New(apperr.Unauthorized, "需要管理员凭证")
		}
		c.Locals(LocalsActor, "admin")
		return c.Next()
	}
}
