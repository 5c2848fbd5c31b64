// Package kiosk serves the lobby self-service kiosk: its pages (browse the
// eleven sectors, read a matter's guide, search with the on-screen
// keyboard, take a queue ticket, check in for an appointment, put a
// missed ticket back in line, see the queues) and the kiosk API under
// /api/v1/kiosk/, where every request is signed by a registered kiosk and
// a citizen's session starts from their ID card.
package kiosk

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/printing"
)

// Deps are the services and settings the kiosk calls.
type Deps struct {
	Catalog *catalog.Service
	// Center is the code of the center the kiosk pages show; empty means
	// the first county center in the catalog.
	Center string
	// Kiosks checks kiosk request signatures and runs card sessions.
	Kiosks *identity.Kiosks
	// Queue gives out tickets.
	Queue *queue.Service
	// Cases shows the card holder's cases and takes kiosk applications.
	Cases *cases.Service
	// IdleReset is how long a kiosk page stays without a touch before it
	// goes back to the home page; 0 never resets.
	IdleReset time.Duration
	// Dev serves /kiosk/demo, a page that plays a kiosk's ID-card reader
	// with a kiosk's secret pasted into the browser: never in production.
	Dev bool
	Log *slog.Logger
	// Printing prints the card holder's e-certificates at the kiosk and
	// verifies printed ones (the public /verify page and API).
	Printing *printing.Service
	// VerificationsPerMinute caps certificate verifications per address.
	VerificationsPerMinute int
	// Keys makes POSTs retryable with an Idempotency-Key; nil leaves them not.
	Keys *idempotency.Service
	// Review takes ratings (好差评) at kiosks and on the windows' evaluation pads.
	Review *review.Service
	// Consult takes questions (网上咨询) from the card holder.
	Consult *consult.Service
	// Complaints takes complaints (投诉) from the card holder.
	Complaints *complaint.Service
}

// Routes registers the kiosk pages, the lobby calling screen and the static
// files they use.
func Routes(app *fiber.App, d Deps) error {
	p, err := newPages(d)
	if err != nil {
		return err
	}
	static, err := fs.Sub(assets.FS, "static")
	if err != nil {
		return fmt.Errorf("kiosk: static files: %w", err)
	}
	app.Use("/static", filesystem.New(filesystem.Config{Root: http.FS(static), MaxAge: 3600}))
	app.Get("/kiosk/", p.handleHome())
	app.Get("/kiosk/search", p.handleSearch())
	app.Get("/kiosk/sectors/:code", p.handleSector())
	app.Get("/kiosk/matters/:code", p.handleMatter())
	// The queue pages: 取号, 预约签到, 过号恢复, 排队情况, the kiosk's setup
	// and the QR code printed on a ticket.
	app.Get("/kiosk/ticket", p.handleTicketPage())
	app.Get("/kiosk/check-in", p.handleCheckInPage())
	app.Get("/kiosk/reactivate", p.handleReactivatePage())
	app.Get("/kiosk/queue", p.handleQueuePage())
	app.Get("/kiosk/setup", p.handleSetup())
	app.Get("/kiosk/qr.png", handleTicketQR())
	// The case pages: 我的办件 and 自助申请.
	if err := p.parseCasePages(); err != nil {
		return err
	}
	app.Get("/kiosk/cases", p.handleCasesPage())
	app.Get("/kiosk/apply/:code", p.handleApplyPage())
	// 证照打印: the card holder's certificates ready for self-print.
	if err := p.parseCertificatePages(); err != nil {
		return err
	}
	app.Get("/kiosk/certificates", p.handleCertificatesPage())
	// 评价器: the evaluation pad beside a window (好差评).
	if err := p.parsePadPage(); err != nil {
		return err
	}
	app.Get("/kiosk/pad", p.handlePadPage())
	// 我要咨询 and 我要投诉, with the ID card.
	if err := p.parseServicePages(); err != nil {
		return err
	}
	app.Get("/kiosk/consult", p.handleConsultPage())
	app.Get("/kiosk/complain", p.handleComplainPage())
	app.Get("/kiosk/rate", p.handleRatePage())
	if d.Dev {
		app.Get("/kiosk/demo", p.handleDemo())
	}

	// The lobby calling screen (叫号大屏) and its public board.
	dp, err := newDisplay(d)
	if err != nil {
		return err
	}
	app.Get("/display/:center", dp.handlePage())
	app.Get("/api/v1/display/:center/board", dp.handleBoard())
	app.Get("/api/v1/display/:center/events", dp.handleEvents())

	// 电子证照核验: the published keys, and the check of a printed
	// certificate's QR code as API and page, limited per address together.
	vp, err := newVerifyPage(d.Printing)
	if err != nil {
		return err
	}
	verifyLimit := web.RateLimiter(max(d.VerificationsPerMinute, 1), "核验过于频繁，请稍后再试")
	app.Get("/.well-known/banhao-keys.json", handleKeys(d.Printing))
	app.Get("/api/v1/certificates/verify", verifyLimit, handleVerify(d.Printing))
	app.Get("/verify", verifyLimit, vp.handle())

	api := app.Group("/api/v1/kiosk", requireKiosk(d.Kiosks))
	// A retried POST with the same Idempotency-Key gets the first answer;
	// keys are the kiosk's and, with a card in, the card session's.
	api.Use(web.Idempotent(d.Keys, func(c *fiber.Ctx) string { return c.Get(HeaderCardSession) }))
	api.Post("/heartbeat", handleHeartbeat(d.Kiosks))
	api.Post("/card-sessions", handleCardSessionStart(d.Kiosks))
	api.Get("/card-sessions/current", handleCardSessionGet(d.Kiosks))
	api.Delete("/card-sessions/current", handleCardSessionEnd(d.Kiosks))
	api.Post("/tickets", handleTicketTake(d.Kiosks, d.Queue))
	api.Post("/check-in", handleCheckIn(d.Kiosks, d.Queue))
	api.Post("/tickets/reactivate", handleReactivate(d.Kiosks, d.Queue))
	api.Get("/cases", handleKioskCaseList(d.Kiosks, d.Cases))
	api.Post("/cases", handleKioskCaseStart(d.Kiosks, d.Cases))
	api.Get("/consultations", handleKioskConsultList(d.Kiosks, d.Consult))
	api.Post("/consultations", handleKioskConsultAsk(d.Kiosks, d.Consult))
	api.Post("/complaints", handleKioskComplaintFile(d.Kiosks, d.Complaints))
	api.Get("/cases/:id", handleKioskCaseGet(d.Kiosks, d.Cases))
	api.Post("/cases/:id/submit", handleKioskCaseSubmit(d.Kiosks, d.Cases))
	api.Get("/certificates", handleKioskCertificates(d.Kiosks, d.Printing))
	api.Post("/print-jobs", handlePrintJobStart(d.Kiosks, d.Printing))
	api.Get("/print-jobs/:id/pdf", handlePrintJobPDF(d.Kiosks, d.Printing))
	api.Post("/print-jobs/:id/result", handlePrintJobResult(d.Printing))
	api.Post("/evaluations", handleKioskEvaluation(d.Kiosks, d.Review))
	api.Get("/evaluations/pending", handleKioskEvaluationPending(d.Kiosks, d.Review))
	return nil
}
