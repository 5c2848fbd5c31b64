package web

import (
	"encoding/json"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/valyala/fasthttp"
)

// AppConfig configures the fiber application shared by every HTTP package.
type AppConfig struct {
	Log *slog.Logger
	// BodyLimit caps request bodies in bytes; larger ones get a 413 problem.
	BodyLimit int
	// UploadLimit is the larger cap for file uploads (a PDF, JPEG or PNG
	// body, or a multipart form); 0 means BodyLimit.
	UploadLimit int
	// RequestTimeout ends each request's context.
	RequestTimeout time.Duration
	// Metrics records request counts and durations; nil records nothing.
	Metrics *Metrics
	// StoreDown recognises the store's own failures (sqlite.IsUnavailable
	// or mongo.IsUnavailable): a handler's error it accepts is answered
	// 503 unavailable with Retry-After instead of 500. Nil recognises none.
	StoreDown func(error) bool
}

// NewApp returns a fiber app with banhao's error handler and middleware:
// panic recovery, request IDs, security headers, metrics, access log and
// request timeout.
func NewApp(cfg AppConfig) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName: "banhao",
		// Immutable: handlers may keep strings from the request after it
		// returns (into the store, logs, goroutines) without aliasing
		// fasthttp's reused buffers.
		Immutable: true,
		BodyLimit: cfg.BodyLimit,
		// Room for long query strings, so that an over-long search is
		// refused by validation with a clear message, not by the parser.
		ReadBufferSize:        16 << 10,
		ErrorHandler:          ErrorHandler(cfg.Log),
		DisableStartupMessage: true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		JSONEncoder:           json.Marshal,
		JSONDecoder:           json.Unmarshal,
	})
	app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		cfg.Log.Error("panic in handler", "request_id", RequestID(c), "route", routePath(c), "panic", e)
	}}))
	app.Use(requestid.New())
	if cfg.StoreDown != nil {
		app.Use(storeFaults(cfg.StoreDown))
	}
	// Security headers on every answer (pages set their own CSP): no
	// sniffing, no framing by other sites, no referrer, cross-origin
	// isolation, and only the courier page's camera.
	app.Use(helmet.New(helmet.Config{XFrameOptions: "DENY", PermissionPolicy: "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"}))
	if cfg.Metrics != nil {
		app.Use(cfg.Metrics.Handler())
	}
	app.Use(AccessLog(cfg.Log))
	if cfg.UploadLimit > cfg.BodyLimit {
		app.Server().HeaderReceived = uploadLimit(cfg.UploadLimit)
	}
	app.Use(Timeout(cfg.RequestTimeout))
	return app
}

// uploadLimit raises the body limit, decided from the headers before
// any of the body is read, for uploads only: a multipart form, or a PDF,
// JPEG, PNG or octet-stream body. Every other body keeps the ordinary
// limit, so an over-long JSON body is refused at once, unread.
func uploadLimit(limit int) func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
	uploadTypes := []string{fiber.MIMEMultipartForm, "application/pdf", "image/jpeg", "image/png", fiber.MIMEOctetStream}
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		ct := strings.ToLower(string(h.ContentType()))
		for _, t := range uploadTypes {
			if strings.HasPrefix(ct, t) {
				return fasthttp.RequestConfig{MaxRequestBodySize: limit}
			}
		}
		return fasthttp.RequestConfig{}
	}
}
