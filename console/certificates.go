package console

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/web"
	"github.com/banhao/banhao/printing"
)

// certDeps are what the certificate handlers call: the library (revoke),
// the printing service (copies, print history), and the cases, whose
// access rules decide which staff may act on a certificate issued for one.
type certDeps struct {
	lib *certificate.Library
	ps  *printing.Service
	cs  *cases.Service
	// q and printers serve the hand-over print at a window.
	q        *queue.Service
	printers printing.Printers
}

// certificateFor returns a certificate the signed-in staff member may act
// on: one issued for a case they may see (their center; approvers in
// their sectors), refused as not found otherwise (the case service audits
// the refusal). Certificates imported from other offices belong to no
// center's case; only supervisors and administrators reach them.
func (d certDeps) certificateFor(c *fiber.Ctx, id string) (certificate.Certificate, error) {
	cert, err := d.lib.Get(c.UserContext(), id)
	if err != nil {
		return certificate.Certificate{}, err
	}
	st := staffOf(c)
	if cert.Case == "" {
		if st.HasRole(identity.RoleSupervisor) || st.HasRole(identity.RoleAdmin) {
			return cert, nil
		}
		return certificate.Certificate{}, apperr.New(apperr.NotFound, "没有这个电子证照")
	}
	if _, err := d.cs.StaffCase(c.UserContext(), staffer(c), cert.Case); apperr.Is(err, apperr.NotFound) {
		return certificate.Certificate{}, apperr.New(apperr.NotFound, "没有这个电子证照")
	} else if err != nil {
		return certificate.Certificate{}, err
	}
	return cert, nil
}

// certificateView is a certificate as staff see it: the number masked, no
// holder name.
type certificateView struct {
	ID           string             `json:"id"`
	Type         string             `json:"type"`
	Title        string             `json:"title,omitempty"`
	Number       string             `json:"number"`
	Issuer       string             `json:"issuer"`
	IssuedOn     string             `json:"issued_on"`
	Status       certificate.Status `json:"status"`
	RevokedAt    time.Time          `json:"revoked_at,omitzero"`
	RevokeReason string             `json:"revoke_reason,omitempty"`
	Case         string             `json:"case,omitempty"`
	CaseNumber   string             `json:"case_number,omitempty"`
}

func newCertificateView(c certificate.Certificate, loc *time.Location) certificateView {
	v := certificateView{ID: c.ID, Type: c.Type, Title: c.Title, Number: c.NumberMasked, Issuer: c.Issuer,
		IssuedOn: c.IssuedOn.In(loc).Format("2006-01-02"), Status: c.Status, RevokeReason: c.RevokeReason,
		Case: c.Case, CaseNumber: c.CaseNumber}
	if !c.RevokedAt.IsZero() {
		v.RevokedAt = c.RevokedAt.In(loc)
	}
	return v
}

type certReasonRequest struct {
	Reason string `json:"reason"`
}

// handleCertificateRevoke revokes a certificate (supervisor or
// administrator), audited: verifying its QR code then says 已注销, and
// kiosks no longer print it.
func handleCertificateRevoke(d certDeps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req certReasonRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if _, err := d.certificateFor(c, c.Params("id")); err != nil {
			return err
		}
		st := staffOf(c)
		cert, err := d.lib.Revoke(c.UserContext(), "staff:"+st.ID, st.Center, c.Params("id"), req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(newCertificateView(cert, d.ps.Location()))
	}
}

// printRecordView is a certificate's print history for staff: every job
// (kiosk, original or copy, outcome), the copies approved and by whom.
type printRecordView struct {
	Certificate string             `json:"certificate"`
	Original    bool               `json:"original_printed"`
	Jobs        []printJobView     `json:"jobs"`
	Approvals   []approvalView     `json:"approvals"`
	Status      certificate.Status `json:"status"`
}

type printJobView struct {
	ID        string             `json:"id"`
	Kiosk     string             `json:"kiosk,omitempty"`
	Window    string             `json:"window,omitempty"`
	Copy      bool               `json:"copy"`
	Status    printing.JobStatus `json:"status"`
	Reason    string             `json:"reason,omitempty"`
	CreatedAt time.Time          `json:"created_at"`
	DoneAt    time.Time          `json:"done_at,omitzero"`
}

type approvalView struct {
	Staff     string    `json:"staff"`
	StaffName string    `json:"staff_name,omitempty"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
	Used      string    `json:"used,omitempty"`
}

func newPrintRecordView(c *fiber.Ctx, ids *identity.Service, cert certificate.Certificate, r printing.Record, loc *time.Location) printRecordView {
	v := printRecordView{Certificate: cert.ID, Original: r.Original, Status: cert.Status,
		Jobs: make([]printJobView, len(r.Jobs)), Approvals: make([]approvalView, len(r.Approvals))}
	for i, j := range r.Jobs {
		v.Jobs[i] = printJobView{ID: j.ID, Kiosk: j.Kiosk, Window: j.Window, Copy: j.Copy, Status: j.Status, Reason: j.Reason, CreatedAt: j.Created.In(loc)}
		if !j.Done.IsZero() {
			v.Jobs[i].DoneAt = j.Done.In(loc)
		}
	}
	names := caseDeps{ids: ids}
	for i, a := range r.Approvals {
		v.Approvals[i] = approvalView{Staff: a.Staff, StaffName: names.staffName(c, a.Staff), Reason: a.Reason, At: a.At.In(loc), Used: a.Used}
	}
	return v
}

// handleCertificateCopy is a clerk's approval of one copy (副本) of a
// certificate whose original is out; the holder then prints it at a kiosk.
func handleCertificateCopy(d certDeps, ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req certReasonRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		cert, err := d.certificateFor(c, c.Params("id"))
		if err != nil {
			return err
		}
		st := staffOf(c)
		r, err := d.ps.ApproveCopy(c.UserContext(), st.ID, st.Center, cert.ID, req.Reason)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(newPrintRecordView(c, ids, cert, r, d.ps.Location()))
	}
}

// handleCertificatePrints is a certificate's print history.
func handleCertificatePrints(d certDeps, ids *identity.Service) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cert, err := d.certificateFor(c, c.Params("id"))
		if err != nil {
			return err
		}
		r, err := d.ps.History(c.UserContext(), cert.ID)
		if err != nil {
			return err
		}
		return c.JSON(newPrintRecordView(c, ids, cert, r, d.ps.Location()))
	}
}

type windowPrintRequest struct {
	Window string `json:"window"`
}

// windowPrintView is a print job sent to a window's printer.
type windowPrintView struct {
	Job       string             `json:"job"`
	Window    string             `json:"window"`
	Copy      bool               `json:"copy"`
	Status    printing.JobStatus `json:"status"`
	PrintedAt time.Time          `json:"printed_at,omitzero"`
}

// handleCertificateWindowPrint prints a certificate on the printer of the
// window the clerk is signed in to, for the hand-over there (统一窗口出件):
// the original once, later only an approved copy. A printer fault is a
// 503 problem and the certificate stays printable.
func handleCertificateWindowPrint(d certDeps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var req windowPrintRequest
		if err := web.DecodeJSON(c, &req); err != nil {
			return err
		}
		if req.Window == "" {
			return apperr.Fields(apperr.FieldError{Field: "window", Message: "请选择窗口"})
		}
		cert, err := d.certificateFor(c, c.Params("id"))
		if err != nil {
			return err
		}
		st := staffOf(c)
		ws, err := d.q.Windows(c.UserContext(), st.Center)
		if err != nil {
			return err
		}
		var printer printing.Printer
		signed := false
		for _, w := range ws {
			if w.ID == req.Window && w.Staff == st.ID {
				signed = true
				if p, ok := d.printers[w.Name]; ok {
					printer = p
				}
			}
		}
		if !signed {
			return apperr.New(queue.CodeWindowClosed, "请先签入这个窗口，再用它的打印机出件")
		}
		job, err := d.ps.WindowPrint(c.UserContext(), printer, st.ID, st.Center, req.Window, cert.ID)
		if err != nil {
			return err
		}
		return c.Status(fiber.StatusCreated).JSON(windowPrintView{Job: job.ID, Window: job.Window, Copy: job.Copy, Status: job.Status, PrintedAt: job.Done})
	}
}
