package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/idempotency"
)

// HeaderIdempotencyKey is the request header naming a retryable request.
const HeaderIdempotencyKey = "Idempotency-Key"

// HeaderIdempotentReplayed marks a response replayed for a retry.
const HeaderIdempotentReplayed = "Idempotent-Replayed"

// Idempotent makes the POST requests of a route group retryable with an
// Idempotency-Key header. Mount it in the group after the group's
// authentication, so that the key is scoped to the authenticated caller
// (Actor, plus whatever scope adds, such as the kiosk's card session) and
// a stored response is only ever replayed to the caller who made it.
// Requests without the header, other methods and unauthenticated
// requests pass through untouched.
//
// The response is captured after the error handler ran, so a refusal
// (a problem+json) is replayed like a success; server faults are not
// kept, and their retry runs again.
func Idempotent(keys *idempotency.Service, scope func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		key := c.Get(HeaderIdempotencyKey)
		if keys == nil || key == "" || c.Method() != fiber.MethodPost {
			return c.Next()
		}
		caller := Actor(c)
		if caller == "" {
			return c.Next()
		}
		if scope != nil {
			caller += "|" + idempotency.Hash([]byte(scope(c)))
		}
		fp := idempotency.Hash([]byte(c.Method()), []byte(c.OriginalURL()), c.Request().Header.ContentType(), c.Body())
		claim, err := keys.Begin(c.UserContext(), caller, key, fp)
		if err != nil {
			return err
		}
		if r := claim.Replay; r != nil {
			c.Set(HeaderIdempotentReplayed, "true")
			if r.ContentType != "" {
				c.Set(fiber.HeaderContentType, r.ContentType)
			}
			return c.Status(r.Status).Send(r.Body)
		}
		// A panic (answered 500 by the recover middleware) releases the
		// key on its way out, so that a retry runs again at once.
		finished := false
		defer func() {
			if !finished {
				keys.Release(c.UserContext(), claim)
			}
		}()
		if err := c.Next(); err != nil {
			if herr := c.App().Config().ErrorHandler(c, err); herr != nil {
				return herr
			}
		}
		resp := c.Response()
		keys.Finish(c.UserContext(), claim, resp.StatusCode(), string(resp.Header.ContentType()), resp.Body())
		finished = true
		return nil
	}
}
