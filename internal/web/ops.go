package web

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/banhao/banhao/internal/apperr"
)

// OpsRoutes registers the operations endpoints: liveness, readiness (the
// store answers), Prometheus metrics and the OpenAPI document.
func OpsRoutes(app *fiber.App, ready func(context.Context) error, gather prometheus.Gatherer, openapi []byte) {
	app.Get("/healthz", handleHealthz())
	app.Get("/readyz", handleReadyz(ready))
	app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(gather, promhttp.HandlerOpts{})))
	app.Get("/openapi.json", handleOpenAPI(openapi))
}

func handleHealthz() fiber.Handler {
	return func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	}
}

// readyTimeout bounds a readiness check: a store that does not answer
// in that time is not ready, and the probe gets its answer quickly.
const readyTimeout = 3 * time.Second

func handleReadyz(ready func(context.Context) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := ready(ctx); err != nil {
			e := apperr.Wrap(apperr.Unavailable, "数据库暂时不可用", err)
			e.RetryAfter = StoreRetryAfter
			return e
		}
		return c.JSON(fiber.Map{"status": "ready"})
	}
}

func handleOpenAPI(doc []byte) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/json; charset=utf-8")
		return c.Send(doc)
	}
}
