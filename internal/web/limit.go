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
