package delivery

import (
	"bytes"
	"context"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/printing"
)

// staffParcel loads a parcel of the staff member's center; another
// center's is not found, and audited.
func (s *Service) staffParcel(ctx context.Context, st cases.Staffer, id, action string) (Parcel, error) {
	if !validParcelID(id) {
		return Parcel{}, errNoParcel()
	}
	p, err := s.store.GetParcel(ctx, id)
	if err != nil {
		return Parcel{}, err
	}
	if p.Center != st.Center {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: p.Center, Action: action, Subject: p.Holder,
			Target: "parcel:" + p.ID, Outcome: audit.OutcomeDenied})
		return Parcel{}, errNoParcel()
	}
	return p, nil
}

// ListRequest pages a list of parcels.
type ListRequest struct {
	// Statuses limits the list; empty means every status.
	Statuses []Status
	// Alert keeps only parcels the center must act on.
	Alert bool
	// After is the cursor of the previous page; Limit its size (default
	// 50, at most 200).
	After string
	Limit int
}

func (s *Service) list(ctx context.Context, f Filter, r ListRequest) ([]Parcel, string, error) {
	if r.Limit <= 0 || r.Limit > 200 {
		r.Limit = 50
	}
	if r.After != "" && !validParcelID(r.After) {
		return nil, "", apperr.Fields(apperr.FieldError{Field: "cursor", Message: "翻页位置无效，请从第一页重新查看"})
	}
	for i, st := range r.Statuses {
		if !st.Known() {
			return nil, "", apperr.Fields(apperr.FieldError{Field: "status", Message: "没有这种寄送状态：" + string(r.Statuses[i])})
		}
	}
	f.Statuses, f.Alert, f.After, f.Limit = r.Statuses, r.Alert, r.After, r.Limit+1
	list, err := s.store.ListParcels(ctx, f)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > r.Limit {
		list = list[:r.Limit]
		next = list[r.Limit-1].ID
	}
	return list, next, nil
}

// StaffParcels lists the parcels of the staff member's center, newest
// first: the 出件 window's list, with the alerts raised by locked codes.
func (s *Service) StaffParcels(ctx context.Context, st cases.Staffer, r ListRequest) ([]Parcel, string, error) {
	return s.list(ctx, Filter{Center: st.Center}, r)
}

// Assign gives a ready parcel (or one returned to the center) to a
// courier of the center, who picks it up at the 出件 window. Assigning
// again before pick-up moves it to another courier; it clears the
// center's alert. A courier locked out of the parcel by wrong codes
// cannot be given it again.
func (s *Service) Assign(ctx context.Context, st cases.Staffer, id, courierID string) (Parcel, error) {
	if !st.Clerk && !st.Supervisor {
		return Parcel{}, apperr.New(apperr.Forbidden, "您的岗位不能派件")
	}
	if _, err := s.staffParcel(ctx, st, id, "parcel.assign"); err != nil {
		return Parcel{}, err
	}
	noCourier := apperr.Fields(apperr.FieldError{Field: "courier", Message: "本中心没有这个快递员"})
	if courierID == "" || len(courierID) > 64 {
		return Parcel{}, noCourier
	}
	acct, err := s.accounts.GetStaff(ctx, courierID)
	if apperr.Is(err, apperr.NotFound) || err == nil && (!acct.HasRole(identity.RoleCourier) || acct.Center != st.Center || acct.Disabled) {
		return Parcel{}, noCourier
	}
	if err != nil {
		return Parcel{}, err
	}
	p, err := s.change(ctx, id, func(p *Parcel, now time.Time) error {
		if p.Status != StatusReady && p.Status != StatusReturned {
			return errState(*p, "派件")
		}
		if p.TriesOf(acct.ID).Locked() {
			return apperr.New(CodeParcelLocked, "该快递员已因签收码多次输错被锁定，请改派其他快递员")
		}
		if p.Status == StatusReady && p.Courier == acct.ID && p.Alert == "" {
			return errUnchanged
		}
		note := "快递员已接单，将到政务服务中心揽收"
		if p.Status == StatusReturned {
			note = "已重新安排快递员寄送"
		}
		p.Status, p.Courier, p.CourierName, p.Alert, p.CodeHash = StatusReady, acct.ID, acct.Name, "", ""
		s.addEvent(p, now, "assign", note, "staff:"+st.ID)
		return nil
	})
	if err != nil {
		return Parcel{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: p.Center, Action: "parcel.assign", Subject: p.Holder, Target: "parcel:" + p.ID})
	return p, nil
}

// Label draws the parcel's 100×150 mm shipping label as a PDF: the
// recipient's name and phone masked (a label passes through many hands),
// the address in full, the center as sender, and a QR code of the parcel
// ID that the courier scans at pick-up.
func (s *Service) Label(ctx context.Context, st cases.Staffer, id string) ([]byte, error) {
	p, err := s.staffParcel(ctx, st, id, "parcel.label")
	if err != nil {
		return nil, err
	}
	if p.Tracking == "" {
		return nil, errState(p, "打印面单（快递公司尚未下单）")
	}
	labels, err := s.labeler()
	if err != nil {
		return nil, apperr.Wrap(apperr.Internal, "面单打印暂不可用", err)
	}
	addr, err := s.OpenAddress(p)
	if err != nil {
		return nil, err
	}
	from := p.Center
	if ce, err := s.catalog.Center(ctx, p.Center); err == nil {
		from = ce.Name
		if ce.Phone != "" {
			from += "　" + ce.Phone
		}
	}
	var buf bytes.Buffer
	err = labels.Label(&buf, printing.Label{ParcelID: p.ID, Tracking: p.Tracking, Company: p.Company,
		Recipient: p.Recipient.NameMasked, Phone: p.Recipient.PhoneMasked, Address: addr, From: from, QR: p.ID})
	if e, ok := apperr.As(err); ok && (e.Code == printing.CodeGlyphMissing || e.Code == printing.CodeOverflow) {
		return nil, &apperr.Error{Code: CodeLabel, Message: "面单无法打印：" + e.Message, Fields: e.Fields, Err: err}
	}
	if err != nil {
		return nil, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: p.Center, Action: "parcel.label", Subject: p.Holder, Target: "parcel:" + p.ID})
	return buf.Bytes(), nil
}
