package kiosk

import (
	"fmt"
	"html/template"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/printing"
)

// 证照打印 (kiosk self-print). With the ID card in the reader a citizen
// sees their e-certificates ready for self-print and prints one: the
// kiosk asks for a print job bound to it, fetches the job's PDF once,
// prints it locally and reports printed or failed. The page
// (/kiosk/certificates, certificates.html and kiosk-certificates.js) calls
// these routes with the card session, as the case pages do.

// parseCertificatePages adds the 证照打印 page's template to the kiosk's views.
func (p *pages) parseCertificatePages() error {
	funcs := template.FuncMap{"fee": fee, "channel": channelLabel, "delivery": deliveryLabel, "days": daysLabel, "statusLabel": statusLabel}
	t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets.FS,
		"templates/kiosk/layout.html", "templates/kiosk/partials.html", "templates/kiosk/certificates.html")
	if err != nil {
		return fmt.Errorf("kiosk: parse certificates page: %w", err)
	}
	p.views["certificates"] = t
	return nil
}

// handleCertificatesPage serves 证照打印; the script does the rest.
func (p *pages) handleCertificatesPage() fiber.Handler {
	return func(c *fiber.Ctx) error {
		ce, _, err := p.center(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return p.render(c, "certificates", view{Center: ce, Title: "证照打印"})
	}
}

// handleKioskCertificates lists the card holder's certificates ready for
// self-print.
func handleKioskCertificates(ks *identity.Kiosks, ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		list, err := ps.Printable(c.UserContext(), p.Holder)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.JSON(fiber.Map{"items": list, "next": ""})
	}
}

// printJobView is a print job as the kiosk sees it, with where to fetch
// its PDF.
type printJobView struct {
	ID        string             `json:"id"`
	Copy      bool               `json:"copy"`
	Status    printing.JobStatus `json:"status"`
	Reason    string             `json:"reason,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
	DoneAt    time.Time          `json:"done_at,omitzero"`
	PDF       string             `json:"pdf"`
}

func newPrintJobView(j printing.Job, loc *time.Location) printJobView {
	v := printJobView{ID: j.ID, Copy: j.Copy, Status: j.Status, Reason: j.Reason, CreatedAt: j.Created.In(loc),
		PDF: "/api/v1/kiosk/print-jobs/" + j.ID + "/pdf"}
	if !j.Done.IsZero() {
		v.DoneAt = j.Done.In(loc)
	}
	return v
}

type printJobRequest struct {
	Certificate string `json:"certificate"`
}

// handlePrintJobStart makes a print job at this kiosk for one of the card
// holder's certificates: the original, or a copy a clerk approved.
func handlePrintJobStart(ks *identity.Kiosks, ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		var req printJobRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		req.Certificate = strings.TrimSpace(req.Certificate)
		if req.Certificate == "" || len(req.Certificate) > 64 {
			return apperr.Fields(apperr.FieldError{Field: "certificate", Message: "请选择要打印的证照"})
		}
		k := kioskOf(c)
		if !k.Printer {
			return apperr.New(printing.CodePrintState, "本机没有连接打印机，请到其他自助终端或综合受理窗口办理")
		}
		job, err := ps.StartJob(c.UserContext(), k.ID, k.Center, p.Holder, req.Certificate)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(newPrintJobView(job, ps.Location()))
	}
}

// handlePrintJobPDF hands this kiosk its job's PDF, once, while the
// holder's card is in the reader.
func handlePrintJobPDF(ks *identity.Kiosks, ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, err := cardPerson(c, ks)
		if err != nil {
			return err
		}
		k := kioskOf(c)
		pdf, job, err := ps.Download(c.UserContext(), k.ID, k.Center, p.Holder, c.Params("id"))
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, "application/pdf")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+job.ID+`.pdf"`)
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		c.Set("X-Content-Type-Options", "nosniff")
		return c.Send(pdf)
	}
}

type printResultRequest struct {
	Printed *bool  `json:"printed"`
	Reason  string `json:"reason"`
}

// handlePrintJobResult records what came out of this kiosk's printer. It
// needs no card: the citizen may have taken the card out with the paper.
func handlePrintJobResult(ps *printing.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req printResultRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Printed == nil {
			return apperr.Fields(apperr.FieldError{Field: "printed", Message: "请说明是否已打印出来"})
		}
		if !utf8.ValidString(req.Reason) {
			return apperr.Fields(apperr.FieldError{Field: "reason", Message: "原因不是有效的文字"})
		}
		k := kioskOf(c)
		job, err := ps.Report(c.UserContext(), k.ID, k.Center, c.Params("id"), *req.Printed, req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(newPrintJobView(job, ps.Location()))
	}
}
