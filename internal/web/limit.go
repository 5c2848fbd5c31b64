package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"

	"github.com/banhao/banhao/internal/apperr"
)

// LoginLimiter slows password guessing from one address: beyond perMinute
// attempts it answers 429 with Retry-After, before any password is hashed.
func LoginLimiter(perMinute int) fiber.Handler {
	if perMinute <= 0 {
		perMinute = 10
	}
	return RateLimiter(perMinute, "登录尝试过于频繁，请稍后再试")
}

// RateLimiter admits perMinute requests a minute from one address and
// answers the rest 429 with Retry-After and message.
func RateLimiter(perMinute int, message string) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        perMinute,
		Expiration: time.Minute,
		LimitReached: func(c *fiber.Ctx) error {
			e := apperr.New(apperr.TooManyRequests, message)
			e.RetryAfter = time.Minute
			return e
		},
	})
}

// CallerLimiter admits perMinute changes (POST, PUT, PATCH, DELETE) a
// minute from one authenticated caller (Actor) and answers the rest 429
// with Retry-After and message; reads pass. Mount it after the
// authentication of a route group.
func CallerLimiter(perMinute int, message string) fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        perMinute,
		Expiration: time.Minute,
		Next: func(c *fiber.Ctx) bool {
			m := c.Method()
			return Actor(c) == "" || m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
		},
		KeyGenerator: func(c *fiber.Ctx) string { return Actor(c) },
		LimitReached: func(c *fiber.Ctx) error {
			e := apperr.New(apperr.TooManyRequests, message)
			e.RetryAfter = time.Minute
			return e
		},
	})
}
