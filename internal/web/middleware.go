package web

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
)

// RequestID returns the request's ID, set by the requestid middleware from
// the X-Request-ID header or generated.
func RequestID(c *fiber.Ctx) string {
	if v, ok := c.Locals(requestid.ConfigDefault.ContextKey).(string); ok {
		return v
	}
	return ""
}

// Timeout gives each request a context that ends after d, so that store
// calls made with c.UserContext() stop when the request's time is up.
func Timeout(d time.Duration) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), d)
		defer cancel()
		c.SetUserContext(ctx)
		return c.Next()
	}
}

func routePath(c *fiber.Ctx) string {
	if r := c.Route(); r != nil && r.Path != "" && r.Path != "/" {
		return r.Path
	}
	return c.Path()
}

// responseStatus is the status a request ends with: the error handler,
// which sets it for a failed request, runs only after the middleware.
func responseStatus(c *fiber.Ctx, err error) int {
	if err != nil {
		return StatusOf(problemOf(c, err).Code)
	}
	return c.Response().StatusCode()
}

// AccessLog logs one line per request with its request ID, route pattern
// (never the query string, which may hold personal data), status and time.
func AccessLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := responseStatus(c, err)
		log.LogAttrs(c.UserContext(), slog.LevelInfo, "request",
			slog.String("request_id", RequestID(c)),
			slog.String("method", c.Method()),
			slog.String("route", routePath(c)),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		)
		return err
	}
}

// Metrics counts requests and their durations per route and status.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "banhao_http_requests_total",
			Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "banhao_http_request_duration_seconds",
			Help:    "HTTP request durations by method and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Handler is the middleware that records each request.
func (m *Metrics) Handler() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := responseStatus(c, err)
		// Label by route pattern, never by raw path, so that scans of
		// unknown addresses cannot grow the label set without bound.
		route := "unmatched"
		if r := c.Route(); r != nil && (r.Path != "/" || c.Path() == "/") {
			route = r.Path
		}
		m.requests.WithLabelValues(c.Method(), route, strconv.Itoa(status)).Inc()
		m.duration.WithLabelValues(c.Method(), route).Observe(time.Since(start).Seconds())
		return err
	}
}
