package printing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
)

// JobStatus is where a print job is.
type JobStatus string

// Print job statuses.
const (
	JobCreated    JobStatus = "created"    // bound to a kiosk, PDF not fetched yet
	JobDownloaded JobStatus = "downloaded" // the kiosk fetched the PDF (once)
	JobPrinted    JobStatus = "printed"    // the kiosk reported the paper out
	JobFailed     JobStatus = "failed"     // paper jam, out of paper...: may be retried
)

// Job is one attempt to print a certificate at a kiosk or a window.
type Job struct {
	ID      string    `json:"id"`
	Kiosk   string    `json:"kiosk,omitempty"`
	Window  string    `json:"window,omitempty"`
	Copy    bool      `json:"copy"`
	Status  JobStatus `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Created time.Time `json:"created_at"`
	Done    time.Time `json:"done_at,omitzero"`
}

// Approval is a clerk's permission to print one copy (副本).
type Approval struct {
	Staff  string    `json:"staff"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
	// Used is the job that printed it, once printed.
	Used string `json:"used,omitempty"`
}

// Record is the print history of one certificate: every job, whether the
// original is out, and the copies approved. It is one document, changed
// by conditional updates on Rev, so two kiosks cannot both print the
// original.
type Record struct {
	Certificate string     `json:"certificate"`
	Holder      string     `json:"holder"`
	Original    bool       `json:"original_printed"`
	Jobs        []Job      `json:"jobs"`
	Approvals   []Approval `json:"approvals"`
	Rev         int        `json:"rev"`
}

// PrintStore keeps print records. Both stores implement it;
// internal/storetest holds its contract.
type PrintStore interface {
	// GetPrintRecord returns a certificate's record; a certificate never
	// printed is apperr.NotFound.
	GetPrintRecord(ctx context.Context, cert string) (Record, error)
	// PutPrintRecord stores r if the stored revision is r.Rev-1 (Rev 1
	// creates it), else apperr.VersionConflict and nothing changes.
	PutPrintRecord(ctx context.Context, r Record) error
}

// Print job error codes.
const (
	// CodePrintState: the job or certificate is not in a state for this.
	CodePrintState apperr.Code = "print_state"
	// CodeReprintApproval: the original is out; a copy needs a clerk's approval.
	CodeReprintApproval apperr.Code = "reprint_needs_approval"
)

func errNoJob() error { return apperr.New(apperr.NotFound, "没有这个打印任务") }

func errNoCert() error { return apperr.New(apperr.NotFound, "没有这个电子证照") }

// JobTimeout is how long a job may stay open (created or downloaded)
// before it counts as abandoned: a kiosk that crashed or lost its network
// mid-print must not keep the certificate from being printed for ever.
// Printing one page takes well under a minute.
const JobTimeout = 10 * time.Minute

// errNoChange ends a change that has nothing to write.
var errNoChange = errors.New("printing: nothing to change")

// jobID names job n of a certificate: the certificate can be read back
// from it, so a job needs no index of its own.
func jobID(cert string, n int) string { return "pj-" + cert + "-" + strconv.Itoa(n) }

func certOfJob(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "pj-")
	i := strings.LastIndexByte(rest, '-')
	if !ok || i <= 0 || len(id) > 128 {
		return "", false
	}
	if _, err := strconv.Atoi(rest[i+1:]); err != nil {
		return "", false
	}
	return rest[:i], true
}

func (s *Service) record0(ctx context.Context, cert string) (Record, error) {
	r, err := s.prints.GetPrintRecord(ctx, cert)
	if apperr.Is(err, apperr.NotFound) {
		return Record{Certificate: cert, Jobs: []Job{}, Approvals: []Approval{}}, nil
	}
	return r, err
}

// changeRecord applies fn to a certificate's record and stores it
// conditionally, re-reading and re-deciding when another change won.
func (s *Service) changeRecord(ctx context.Context, cert string, fn func(r *Record, now time.Time) error) (Record, error) {
	for attempt := 0; ; attempt++ {
		r, err := s.record0(ctx, cert)
		if err != nil {
			return Record{}, err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if err := fn(&r, now); errors.Is(err, errNoChange) {
			return r, nil
		} else if err != nil {
			return Record{}, err
		}
		r.Rev++
		err = s.prints.PutPrintRecord(ctx, r)
		if apperr.Is(err, apperr.VersionConflict) && attempt < 8 {
			continue
		}
		return r, err
	}
}

// Printable is a certificate the holder can print at a kiosk.
type Printable struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Type   string `json:"type"`
	Number string `json:"number"`
	Issuer string `json:"issuer"`
	Issued string `json:"issued"`
	// Original says the original is still to be printed; otherwise only
	// an approved copy can be.
	Original bool `json:"original"`
	// CopyApproved says a clerk approved a copy not printed yet.
	CopyApproved bool `json:"copy_approved"`
}

// selfPrintable refuses, with CodePrintState, a certificate that does
// not come out of a kiosk: one imported from another office (printed by
// that office), or one whose case chose another hand-over (mailed, or
// handed over at the window), which would otherwise exist twice on paper.
func (s *Service) selfPrintable(ctx context.Context, c certificate.Certificate) error {
	if c.Case == "" {
		return apperr.New(CodePrintState, "这份电子证照由发证机关出具，不能在自助终端打印；如需纸质证照，请向发证机关申请")
	}
	if s.handovers == nil {
		return nil
	}
	d, err := s.handovers.Handover(ctx, c.Case)
	if err != nil {
		return err
	}
	switch d {
	case catalog.DeliveryKioskPrint:
		return nil
	case catalog.DeliveryExpress:
		return apperr.New(CodePrintState, "这份证照您选择了免费寄送，纸质证照将寄到您手中，不能在自助终端打印")
	}
	return apperr.New(CodePrintState, "这份证照您选择了窗口领取，请到统一出件窗口领取")
}

// Printable lists the certificates banhao issued to holder that are
// valid and meant for kiosk self-print, with whether the original or an
// approved copy can be printed.
func (s *Service) Printable(ctx context.Context, holder string) ([]Printable, error) {
	held, err := s.lib.HeldBy(ctx, holder)
	if err != nil {
		return nil, err
	}
	out := []Printable{}
	for _, c := range held {
		if c.Status != certificate.StatusValid {
			continue
		}
		if err := s.selfPrintable(ctx, c); apperr.Is(err, CodePrintState) {
			continue
		} else if err != nil {
			return nil, err
		}
		r, err := s.record0(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		title := c.Title
		if title == "" {
			title = c.Type
		}
		out = append(out, Printable{ID: c.ID, Title: title, Type: c.Type, Number: c.NumberMasked, Issuer: c.Issuer,
			Issued: c.IssuedOn.In(s.loc).Format("2006-01-02"), Original: !r.Original, CopyApproved: unusedApproval(r) >= 0})
	}
	return out, nil
}

func unusedApproval(r Record) int {
	for i, a := range r.Approvals {
		if a.Used == "" {
			return i
		}
	}
	return -1
}

// active is the job of r still open (created or downloaded), if any.
func active(r Record) int {
	for i, j := range r.Jobs {
		if j.Status == JobCreated || j.Status == JobDownloaded {
			return i
		}
	}
	return -1
}

// StartJob makes a print job at kiosk for a certificate of holder: the
// original while it has never been printed, else a copy if a clerk
// approved one. One job at a time per certificate; a job left open for
// JobTimeout is closed as failed, so that the certificate can be printed
// again. The same kiosk asking again for a job it has not fetched yet
// (its first answer was lost) gets that job.
func (s *Service) StartJob(ctx context.Context, kiosk, center, holder, cert string) (Job, error) {
	c, err := s.lib.Get(ctx, cert)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return Job{}, errNoCert()
	case err != nil:
		return Job{}, err
	case holder == "" || c.Holder != holder:
		s.record(ctx, audit.Record{Actor: "kiosk:" + kiosk, Kiosk: kiosk, Center: center, Action: "print.start", Subject: c.Holder,
			Target: "ecert:" + cert, Outcome: audit.OutcomeDenied})
		return Job{}, errNoCert()
	case c.Status != certificate.StatusValid:
		return Job{}, apperr.New(CodeRevoked, "该电子证照已注销，不能打印")
	}
	if err := s.selfPrintable(ctx, c); err != nil {
		return Job{}, err
	}
	var job Job
	_, err = s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		r.Holder = holder
		if i := active(*r); i >= 0 {
			j := &r.Jobs[i]
			switch {
			case j.Kiosk == kiosk && j.Status == JobCreated && now.Sub(j.Created) < JobTimeout:
				job = *j
				return errNoChange
			case now.Sub(j.Created) < JobTimeout:
				return apperr.New(CodePrintState, "这份证照正在打印中，请稍候或到窗口咨询")
			}
			j.Status, j.Reason, j.Done = JobFailed, "超时未完成", now
		}
		isCopy := r.Original
		if isCopy && unusedApproval(*r) < 0 {
			return apperr.New(CodeReprintApproval, "原件已打印过；如需补打，请到窗口由工作人员核准后打印副本")
		}
		job = Job{ID: jobID(cert, len(r.Jobs)+1), Kiosk: kiosk, Copy: isCopy, Status: JobCreated, Created: now}
		r.Jobs = append(r.Jobs, job)
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	s.record(ctx, audit.Record{Actor: "kiosk:" + kiosk, Kiosk: kiosk, Center: center, Action: "print.start", Subject: holder, Target: "print:" + job.ID})
	return job, nil
}

// kioskJob finds the job in r, which must belong to kiosk.
func kioskJob(r *Record, id, kiosk string) (*Job, error) {
	for i := range r.Jobs {
		if r.Jobs[i].ID == id {
			if r.Jobs[i].Kiosk != kiosk {
				return nil, errNoJob()
			}
			return &r.Jobs[i], nil
		}
	}
	return nil, errNoJob()
}

// downloadable refuses a job whose PDF may not be fetched (now): only a
// job just created, once.
func downloadable(j Job, now time.Time) error {
	switch {
	case j.Status != JobCreated:
		return apperr.New(CodePrintState, "打印文件只能下载一次；如打印失败，请重新发起打印")
	case now.Sub(j.Created) >= JobTimeout:
		return apperr.New(CodePrintState, "打印任务已超时，请重新发起打印")
	}
	return nil
}

// Download hands the kiosk its job's PDF, once, while the holder's card
// is in its reader: a second download, a download by another kiosk or
// for another card is refused. The PDF is rendered before the job is
// marked downloaded, so a rendering failure (or a certificate revoked
// meanwhile) leaves the job as it was.
func (s *Service) Download(ctx context.Context, kiosk, center, holder, id string) ([]byte, Job, error) {
	cert, ok := certOfJob(id)
	if !ok {
		return nil, Job{}, errNoJob()
	}
	denied := func(err error) ([]byte, Job, error) {
		if apperr.Is(err, apperr.NotFound) {
			s.record(ctx, audit.Record{Actor: "kiosk:" + kiosk, Kiosk: kiosk, Center: center, Action: "print.download", Target: "print:" + id, Outcome: audit.OutcomeDenied})
		}
		return nil, Job{}, err
	}
	r, err := s.record0(ctx, cert)
	if err != nil {
		return nil, Job{}, err
	}
	if holder == "" || r.Holder != holder {
		return denied(errNoJob())
	}
	j, err := kioskJob(&r, id, kiosk)
	if err != nil {
		return denied(err)
	}
	if err := downloadable(*j, s.now()); err != nil {
		return nil, Job{}, err
	}
	pdf, err := s.PDF(ctx, cert, j.Copy)
	if err != nil {
		return nil, Job{}, err
	}
	var job Job
	_, err = s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		j, err := kioskJob(r, id, kiosk)
		if err != nil {
			return err
		}
		if err := downloadable(*j, now); err != nil {
			return err
		}
		j.Status = JobDownloaded
		job = *j
		return nil
	})
	if err != nil {
		return denied(err)
	}
	s.record(ctx, audit.Record{Actor: "kiosk:" + kiosk, Kiosk: kiosk, Center: center, Action: "print.download", Subject: holder, Target: "print:" + id})
	return pdf, job, nil
}

// MaxReasonRunes caps a failure or approval reason.
const MaxReasonRunes = 200

func checkReason(field, v string, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) || utf8.RuneCountInString(v) > MaxReasonRunes || required && v == "" {
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("请填写原因，最多 %d 字", MaxReasonRunes)})
	}
	return v, nil
}

// Report records the kiosk's outcome of a downloaded job: printed (the
// original is then out, or the approved copy used) or failed with a
// reason (the certificate can be printed again, at this or another kiosk).
func (s *Service) Report(ctx context.Context, kiosk, center, id string, printed bool, reason string) (Job, error) {
	cert, ok := certOfJob(id)
	if !ok {
		return Job{}, errNoJob()
	}
	reason, err := checkReason("reason", reason, !printed)
	if err != nil {
		return Job{}, err
	}
	var job Job
	_, err = s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		j, err := kioskJob(r, id, kiosk)
		if err != nil {
			return err
		}
		if j.Status != JobDownloaded {
			return apperr.New(CodePrintState, "这个打印任务已结束")
		}
		j.Done, j.Reason = now, reason
		if printed {
			j.Status = JobPrinted
			if j.Copy {
				if i := unusedApproval(*r); i >= 0 {
					r.Approvals[i].Used = j.ID
				}
			} else {
				r.Original = true
			}
		} else {
			j.Status = JobFailed
		}
		job = *j
		return nil
	})
	if err != nil {
		return Job{}, err
	}
	s.record(ctx, audit.Record{Actor: "kiosk:" + kiosk, Kiosk: kiosk, Center: center, Action: "print." + string(job.Status), Target: "print:" + id})
	return job, nil
}

// ApproveCopy is a clerk's approval of one copy (副本) of a certificate
// whose original is out.
func (s *Service) ApproveCopy(ctx context.Context, staff, center, cert, reason string) (Record, error) {
	reason, err := checkReason("reason", reason, true)
	if err != nil {
		return Record{}, err
	}
	c, err := s.lib.Get(ctx, cert)
	if err != nil {
		return Record{}, err
	}
	if c.Status != certificate.StatusValid {
		return Record{}, apperr.New(CodeRevoked, "该电子证照已注销，不能补打")
	}
	r, err := s.changeRecord(ctx, cert, func(r *Record, now time.Time) error {
		r.Holder = c.Holder
		if !r.Original {
			return apperr.New(CodePrintState, "原件尚未打印，无需核准副本")
		}
		if unusedApproval(*r) >= 0 {
			return apperr.New(CodePrintState, "已有一份核准的副本尚未打印")
		}
		r.Approvals = append(r.Approvals, Approval{Staff: staff, Reason: reason, At: now})
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: "staff:" + staff, Center: center, Action: "print.approve_copy", Subject: c.Holder, Target: "ecert:" + cert})
	}
	return r, err
}

// History is a certificate's print record for staff (every job, copies
// approved); a certificate never printed has an empty one.
func (s *Service) History(ctx context.Context, cert string) (Record, error) {
	if _, err := s.lib.Get(ctx, cert); err != nil {
		return Record{}, err
	}
	return s.record0(ctx, cert)
}
