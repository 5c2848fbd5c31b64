package printing

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/certificate"
)

// Printer prints a PDF; IPPPrinter is the one banhao ships.
type Printer interface {
	Print(ctx context.Context, jobName string, pdf []byte) (int, error)
}

// outcomeTimeout bounds the recording of a window print's outcome, which
// runs on after the request's own time is up.
const outcomeTimeout = 10 * time.Second

// Printers maps windows, by name ("1号窗口"), to their printers (windows
// without one hand certificates over from the kiosk or another window).
type Printers map[string]Printer

// WindowPrint prints a certificate on the printer of a window, for the
// hand-over at the window (统一窗口出件): the original while it has never
// been printed, else a copy a clerk approved. A printer failure leaves
// the job failed and the certificate printable again.
func (s *Service) WindowPrint(ctx context.Context, p Printer, staff, center, window, cert string) (Job, error) {
	if p == nil {
		// Not an outage to retry (CodePrinter, 503): the window has no
		// printer until it is configured, so the request conflicts with
		// the window's state.
		return Job{}, apperr.New(CodePrintState, "这个窗口没有配置打印机，请到有打印机的窗口或自助终端打印")
	}
	c, err := s.lib.Get(ctx, cert)
	if err != nil {
		return Job{}, err
	}
	if c.Status != certificate.StatusValid {
		return Job{}, apperr.New(CodeRevoked, "该电子证照已注销，不能打印")
	}
	var job Job
	_, err = s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		r.Holder = c.Holder
		if i := active(*r); i >= 0 {
			j := &r.Jobs[i]
			if now.Sub(j.Created) < JobTimeout {
				return apperr.New(CodePrintState, "这份证照正在打印中")
			}
			// A job whose outcome was never recorded (the server stopped
			// mid-print) no longer holds the certificate.
			j.Status, j.Reason, j.Done = JobFailed, "超时未完成", now
		}
		isCopy := r.Original
		if isCopy && unusedApproval(*r) < 0 {
			return apperr.New(CodeReprintApproval, "原件已打印过；补打副本须先核准")
		}
		job = Job{ID: jobID(cert, len(r.Jobs)+1), Window: window, Copy: isCopy, Status: JobDownloaded, Created: now}
		r.Jobs = append(r.Jobs, job)
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	pdf, perr := s.PDF(ctx, cert, job.Copy)
	if perr == nil {
		_, perr = p.Print(ctx, job.ID, pdf)
	}
	// The outcome is recorded even when the request's time ran out while
	// the printer hung: a job left open would hold the certificate, and
	// the clerk could not print it again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	_, err = s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		for i := range r.Jobs {
			j := &r.Jobs[i]
			if j.ID != job.ID {
				continue
			}
			j.Done = now
			if perr != nil {
				j.Status, j.Reason = JobFailed, "打印机故障"
			} else {
				j.Status = JobPrinted
				if j.Copy {
					if k := unusedApproval(*r); k >= 0 {
						r.Approvals[k].Used = j.ID
					}
				} else {
					r.Original = true
				}
			}
			job = *j
		}
		return nil
	})
	outcome := audit.OutcomeOK
	if perr != nil {
		outcome = audit.OutcomeFailed
	}
	s.record(ctx, audit.Record{Actor: "staff:" + staff, Center: center, Action: "print.window", Subject: c.Holder, Target: "print:" + job.ID, Outcome: outcome})
	if perr != nil {
		return job, perr
	}
	return job, err
}
