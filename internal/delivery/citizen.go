package delivery

import (
	"context"
	"slices"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
)

func actorOf(p cases.Person) string {
	if p.Citizen != "" {
		return p.Citizen
	}
	return p.Holder
}

// ownCase loads a case of the person's, refusing (as not found) and
// auditing anyone else's, as the case service does.
func (s *Service) ownCase(ctx context.Context, pr cases.Person, id string) (cases.Case, error) {
	if !validCaseID(id) {
		return cases.Case{}, apperr.New(apperr.NotFound, "没有这个办件")
	}
	c, err := s.cases.GetCase(ctx, id)
	if err != nil {
		return cases.Case{}, err
	}
	if pr.Holder == "" || c.Applicant != pr.Holder {
		s.record(ctx, audit.Record{Actor: actorOf(pr), Center: c.Center, Action: "parcel.read", Subject: c.Applicant,
			Target: "case:" + c.ID, Outcome: audit.OutcomeDenied})
		return cases.Case{}, apperr.New(apperr.NotFound, "没有这个办件")
	}
	return c, nil
}

// SetAddress records where the citizen wants the certificate of their
// case sent (证照免费寄送): when applying, or after conclusion. The
// matter must offer express delivery and issue a certificate; a case
// that ended without one (denied, rejected, withdrawn) has nothing to
// send, and one whose certificate is printed at a kiosk is not mailed
// too. The address may change until the courier company has the
// parcel. If the case already has its certificate, the parcel is
// dispatched at once (a carrier failure leaves it to the retry).
func (s *Service) SetAddress(ctx context.Context, pr cases.Person, caseID string, a Address) (Parcel, error) {
	c, err := s.ownCase(ctx, pr, caseID)
	if err != nil {
		return Parcel{}, err
	}
	if a, err = a.check(); err != nil {
		return Parcel{}, err
	}
	m, err := s.catalog.MatterVersion(ctx, c.Matter, c.GuideVersion)
	if err != nil {
		return Parcel{}, err
	}
	if m.Certificate == "" || !slices.Contains(m.Delivery, catalog.DeliveryExpress) {
		return Parcel{}, apperr.New(CodeNotDeliverable, "该事项的结果不提供免费寄送，请到统一出件窗口领取")
	}
	switch c.State {
	case cases.StateDenied, cases.StateRejected, cases.StateWithdrawn:
		return Parcel{}, apperr.New(CodeNotDeliverable, "办件未准予办结，没有证照可寄送")
	}
	// A certificate meant for kiosk self-print may already be on paper:
	// mailing another original would make two.
	if c.Form.Delivery == catalog.DeliveryKioskPrint {
		return Parcel{}, apperr.New(CodeNotDeliverable, "该办件选择了在自助终端打印证照，不能再改为寄送；如有需要请到统一出件窗口办理")
	}
	account := pr.Citizen
	if account == "" {
		account = c.Citizen
	}
	p, err := s.store.GetParcelByCase(ctx, c.ID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		p, err = s.createParcel(ctx, c, m, account, a)
		if apperr.Is(err, apperr.Conflict) { // the citizen's other device was quicker
			p, err = s.store.GetParcelByCase(ctx, c.ID)
			if err == nil {
				p, err = s.readdress(ctx, p.ID, account, a)
			}
		}
	case err == nil:
		p, err = s.readdress(ctx, p.ID, account, a)
	}
	if err != nil {
		return Parcel{}, err
	}
	s.record(ctx, audit.Record{Actor: actorOf(pr), Center: c.Center, Action: "parcel.address", Subject: c.Applicant, Target: "parcel:" + p.ID})
	if c.State == cases.StateApproved && c.Certificate != nil {
		if out, err := s.dispatch(ctx, c); err == nil {
			p = out
		} else if q, gerr := s.store.GetParcel(ctx, p.ID); gerr == nil {
			p = q // with the reason it waits
		}
	}
	return p, nil
}

func (s *Service) createParcel(ctx context.Context, c cases.Case, m catalog.Matter, account string, a Address) (Parcel, error) {
	now := s.stamp()
	p := Parcel{
		ID: "pc" + audit.NewID(now), Case: c.ID, CaseNumber: c.Number, Center: c.Center, MatterName: c.MatterName,
		CertificateType: m.Certificate, Holder: c.Applicant, Citizen: account,
		Status: StatusAwaitingCertificate, CreatedAt: now, UpdatedAt: now, Rev: 1,
	}
	if err := s.seal(&p, a); err != nil {
		return Parcel{}, err
	}
	note := "已登记收件地址，证照办结后免费寄出"
	if c.Certificate != nil {
		note = "已登记收件地址，证照即将寄出"
	}
	s.addEvent(&p, now, "address", note, account)
	if err := s.store.CreateParcel(ctx, p); err != nil {
		return Parcel{}, err
	}
	s.announce(ctx, p)
	return p, nil
}

// readdress replaces the address of a parcel not yet booked.
func (s *Service) readdress(ctx context.Context, id, account string, a Address) (Parcel, error) {
	return s.change(ctx, id, func(p *Parcel, now time.Time) error {
		if p.Status != StatusAwaitingCertificate {
			return apperr.New(CodeParcelState, "证照已交快递寄出，收件地址不能再修改；如需改址请联系政务服务中心")
		}
		if err := s.seal(p, a); err != nil {
			return err
		}
		if account != "" {
			p.Citizen = account
		}
		s.addEvent(p, now, "address", "收件地址已修改", account)
		return nil
	})
}

// ParcelOfCase returns the parcel of one of the person's cases.
func (s *Service) ParcelOfCase(ctx context.Context, pr cases.Person, caseID string) (Parcel, error) {
	c, err := s.ownCase(ctx, pr, caseID)
	if err != nil {
		return Parcel{}, err
	}
	p, err := s.store.GetParcelByCase(ctx, c.ID)
	if apperr.Is(err, apperr.NotFound) {
		return Parcel{}, apperr.New(apperr.NotFound, "该办件尚未选择寄送")
	}
	return p, err
}

// Parcel returns one of the person's parcels; anyone else's is not found
// (and audited).
func (s *Service) Parcel(ctx context.Context, pr cases.Person, id string) (Parcel, error) {
	if !validParcelID(id) {
		return Parcel{}, errNoParcel()
	}
	p, err := s.store.GetParcel(ctx, id)
	if err != nil {
		return Parcel{}, err
	}
	if pr.Holder == "" || p.Holder != pr.Holder {
		s.record(ctx, audit.Record{Actor: actorOf(pr), Center: p.Center, Action: "parcel.read", Subject: p.Holder,
			Target: "parcel:" + p.ID, Outcome: audit.OutcomeDenied})
		return Parcel{}, errNoParcel()
	}
	return p, nil
}
