package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
)

// StoreRetryAfter is the wait a client is told (Retry-After) when the
// store cannot serve: long enough for a lock to clear or a MongoDB
// primary to be elected, short enough for a kiosk to try again soon.
const StoreRetryAfter = 5 * time.Second

// storeDownKey is the Locals key of the store's fault classifier.
const storeDownKey = "banhao.storeDown"

// storeFaults lets the error handler, the access log and the metrics
// recognise the store's own failures (down says which: sqlite's or
// mongo's IsUnavailable), so that every handler's store error becomes a
// 503 unavailable problem with Retry-After in one place.
func storeFaults(down func(error) bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(storeDownKey, down)
		return c.Next()
	}
}

// problemOf is toAppErr with the store's faults recognised: an error that
// would be internal, or a timeout, whose cause is the store failing is
// unavailable, with Retry-After.
func problemOf(c *fiber.Ctx, err error) *apperr.Error {
	e := toAppErr(err)
	if e.Code != apperr.Internal && e.Code != apperr.Timeout {
		return e
	}
	down, _ := c.Locals(storeDownKey).(func(error) bool)
	if down == nil || !down(err) {
		return e
	}
	return &apperr.Error{Code: apperr.Unavailable, Message: "数据库暂时不可用，请稍后再试", Err: err, RetryAfter: StoreRetryAfter}
}
