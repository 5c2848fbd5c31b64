package web

import (
	"github.com/gofiber/fiber/v2"
)

// LocalsActor is the fiber locals key under which auth middleware stores
// the authenticated actor's name, for audit fields such as updated_by.
const LocalsActor = "banhao.actor"

// Actor returns the authenticated actor set by auth middleware, or "".
func Actor(c *fiber.Ctx) string {
	s, _ := c.Locals(LocalsActor).(string)
	return s
}
