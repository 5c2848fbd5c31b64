package delivery

import (
	"context"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
)

// BookingTimeout bounds one booking with the courier company: an
// approval waits for it, and a parcel not booked in time is booked by the
// retry.
const BookingTimeout = 5 * time.Second

// Dispatch implements cases.Dispatcher: once the case has its
// certificate and the citizen an address, the courier company books the
// parcel and it becomes ready for a courier. Calling it again for the
// same case changes nothing; a case without an address yet is
// CodeNoAddress (the parcel is made when the citizen gives one).
func (s *Service) Dispatch(ctx context.Context, c cases.Case) error {
	_, err := s.dispatch(ctx, c)
	return err
}

func (s *Service) dispatch(ctx context.Context, c cases.Case) (Parcel, error) {
	if c.State != cases.StateApproved || c.Certificate == nil {
		return Parcel{}, apperr.New(CodeNoCertificate, "证照尚未签发，签发后即寄出")
	}
	p, err := s.store.GetParcelByCase(ctx, c.ID)
	if apperr.Is(err, apperr.NotFound) {
		return Parcel{}, apperr.New(CodeNoAddress, "申请人尚未填写收件地址，填写后即寄出")
	}
	if err != nil {
		return Parcel{}, err
	}
	if p.Status != StatusAwaitingCertificate {
		return p, nil
	}
	if c.Form.Delivery == catalog.DeliveryKioskPrint { // changed back to kiosk print while a draft
		return Parcel{}, apperr.New(CodeNotDeliverable, "该办件选择了在自助终端打印证照，不寄送")
	}
	sh, err := s.shipment(ctx, c, p)
	if err != nil {
		return Parcel{}, err
	}
	// The booking is idempotent by parcel ID: if two dispatches race, or
	// this one dies after the company answered, the next gets the same
	// waybill number.
	carrier := s.cfg.Carrier
	bctx, cancel := context.WithTimeout(ctx, BookingTimeout)
	tracking, cerr := carrier.CreateShipment(bctx, sh)
	cancel()
	if cerr == nil && (tracking == "" || len(tracking) > 64) {
		cerr = fmt.Errorf("delivery: carrier %s answered waybill number %q", carrier.Company(), tracking)
	}
	if cerr != nil {
		reason := "快递公司系统暂时无法下单，将自动重试"
		out := apperr.Wrap(apperr.Unavailable, reason, cerr)
		if !apperr.Is(cerr, apperr.Unavailable) {
			reason = "快递公司未接受下单，请核对收件信息或联系快递公司"
			out = apperr.Wrap(CodeCarrierRefused, reason, cerr)
		}
		s.log.WarnContext(ctx, "parcel not booked with the courier company", "parcel", p.ID, "company", carrier.Company(), "err", cerr)
		_, _ = s.change(ctx, p.ID, func(p *Parcel, now time.Time) error {
			if p.Status != StatusAwaitingCertificate || p.DispatchError == reason {
				return errUnchanged
			}
			p.DispatchError = reason
			return nil
		})
		return Parcel{}, out
	}
	out, err := s.change(ctx, p.ID, func(p *Parcel, now time.Time) error {
		if p.Status != StatusAwaitingCertificate {
			return errUnchanged
		}
		p.Status = StatusReady
		p.Company, p.Tracking, p.DispatchError = carrier.Company(), tracking, ""
		p.Certificate, p.CertificateType = c.Certificate.ID, c.Certificate.Type
		s.addEvent(p, now, "dispatch", fmt.Sprintf("证照已交%s寄送，运单号 %s", carrier.Company(), tracking), "system")
		return nil
	})
	if err != nil {
		return Parcel{}, err
	}
	s.record(ctx, audit.Record{Actor: "system", Center: out.Center, Action: "parcel.dispatch", Subject: out.Holder, Target: "parcel:" + out.ID})
	return out, nil
}

// shipment is the booking of a parcel: its recipient opened, the center
// as sender.
func (s *Service) shipment(ctx context.Context, c cases.Case, p Parcel) (Shipment, error) {
	a, err := s.Recipient(p)
	if err != nil {
		return Shipment{}, err
	}
	sh := Shipment{Reference: p.ID, Recipient: a.Name, Phone: a.Phone, Address: a.Address, Sender: c.Center,
		Contents: c.Certificate.Type + "（纸质证照）"}
	if ce, err := s.catalog.Center(ctx, c.Center); err == nil {
		sh.Sender, sh.SenderPhone, sh.SenderAddress = ce.Name, ce.Phone, ce.Address
	}
	return sh, nil
}

// DispatchCase is staff making the parcel of an approved case of their
// center now (after the courier company was down, or once the address
// came): idempotent, it returns the parcel as it stands.
func (s *Service) DispatchCase(ctx context.Context, st cases.Staffer, caseID string) (Parcel, error) {
	if !st.Clerk && !st.Supervisor {
		return Parcel{}, apperr.New(apperr.Forbidden, "您的岗位不能安排寄送")
	}
	if !validCaseID(caseID) {
		return Parcel{}, apperr.New(apperr.NotFound, "没有这个办件")
	}
	c, err := s.cases.GetCase(ctx, caseID)
	if err != nil {
		return Parcel{}, err
	}
	if c.Center != st.Center {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: c.Center, Action: "parcel.dispatch", Subject: c.Applicant,
			Target: "case:" + c.ID, Outcome: audit.OutcomeDenied})
		return Parcel{}, apperr.New(apperr.NotFound, "没有这个办件")
	}
	return s.dispatch(ctx, c)
}

// DispatchPending books the parcels whose case has its certificate but
// that are still waiting: the company was down, the citizen chose
// delivery after the case was submitted, or the server stopped in
// between. It returns how many it booked.
func (s *Service) DispatchPending(ctx context.Context) (int, error) {
	n := 0
	for after := ""; ; {
		list, err := s.store.ListParcels(ctx, Filter{Statuses: []Status{StatusAwaitingCertificate}, After: after, Limit: 100})
		if err != nil {
			return n, err
		}
		for _, p := range list {
			c, err := s.cases.GetCase(ctx, p.Case)
			if err != nil {
				s.log.WarnContext(ctx, "parcel's case unreadable", "parcel", p.ID, "err", err)
				continue
			}
			if c.State != cases.StateApproved || c.Certificate == nil {
				continue
			}
			if _, err := s.dispatch(ctx, c); err == nil {
				n++
			}
		}
		if len(list) < 100 {
			return n, nil
		}
		after = list[len(list)-1].ID
	}
}
