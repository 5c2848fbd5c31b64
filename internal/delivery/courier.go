package delivery

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
)

// MaxReasonRunes caps the reason of a failed attempt.
const MaxReasonRunes = 100

// CourierParcels lists the parcels assigned to the courier, newest first;
// without statuses, those still to be picked up or delivered.
func (s *Service) CourierParcels(ctx context.Context, courier identity.Staff, r ListRequest) ([]Parcel, string, error) {
	if len(r.Statuses) == 0 {
		r.Statuses = []Status{StatusReady, StatusPickedUp, StatusFailedAttempt}
	}
	r.Alert = false
	return s.list(ctx, Filter{Courier: courier.ID}, r)
}

func courierActor(st identity.Staff) string { return "courier:" + st.ID }

// courierParcel loads a parcel assigned to the courier. Another's is
// refused with CodeWrongCourier, audited: a courier may hold a label of
// a parcel given to a colleague, and must be told to hand it back.
func (s *Service) courierParcel(ctx context.Context, courier identity.Staff, id, action string) (Parcel, error) {
	if !validParcelID(id) {
		return Parcel{}, errNoParcel()
	}
	p, err := s.store.GetParcel(ctx, id)
	if err != nil {
		return Parcel{}, err
	}
	if p.Courier != courier.ID {
		s.record(ctx, audit.Record{Actor: courierActor(courier), Role: string(identity.RoleCourier), Center: p.Center, Action: action,
			Subject: p.Holder, Target: "parcel:" + p.ID, Outcome: audit.OutcomeDenied})
		return Parcel{}, errWrongCourier()
	}
	return p, nil
}

// codeHash is the keyed hash of a delivery code, bound to the parcel and
// the trip, so that a code of another parcel or an earlier trip never
// matches.
func (s *Service) codeHash(parcelID string, trip int, code string) string {
	return s.keys.BlindIndex("delivery_code", fmt.Sprintf("%s/%d/%s", parcelID, trip, code))
}

// Pickup is the courier scanning the parcel's label at the center: the
// scan must be this parcel's QR code (its ID), and the parcel assigned to
// them and ready. A new 6-digit delivery code is drawn, only its keyed
// hash kept, and the code sent to the citizen by subscribe message.
func (s *Service) Pickup(ctx context.Context, courier identity.Staff, id, scan string) (Parcel, error) {
	scan = strings.ToLower(strings.TrimSpace(scan))
	if scan == "" || len(scan) > 200 {
		return Parcel{}, apperr.Fields(apperr.FieldError{Field: "scan", Message: "请扫描面单二维码，或输入面单上的件号"})
	}
	if scan != id {
		return Parcel{}, apperr.New(CodeScanMismatch, "扫描的面单不是这一件，请核对后重扫")
	}
	if _, err := s.courierParcel(ctx, courier, id, "parcel.pickup"); err != nil {
		return Parcel{}, err
	}
	var code string
	p, err := s.change(ctx, id, func(p *Parcel, now time.Time) error {
		if p.Courier != courier.ID {
			return errWrongCourier()
		}
		if p.Status != StatusReady {
			return errState(*p, "揽收")
		}
		code = randomDigits(6)
		p.Trips++
		p.CodeHash = s.codeHash(p.ID, p.Trips, code)
		p.Status = StatusPickedUp
		s.addEvent(p, now, "pickup", "快递员已揽收，正在派送；签收码已发送，请在收件时告知快递员", courierActor(courier))
		return nil
	})
	if err != nil {
		return Parcel{}, err
	}
	s.notify(ctx, notify.Message{
		ID: CodeMessageID(p.ID, p.Trips), To: recipient(p), Kind: notify.KindDeliveryCode,
		Data: map[string]string{
			"code": code, "number": numberOf(p), "company": truncate(p.Company, 20),
			"time": p.UpdatedAt.In(s.cfg.Location).Format("2006-01-02 15:04"),
			"note": "收件时请将签收码告知快递员，勿提前告诉他人",
		},
		Page: ParcelPage(p.ID),
	})
	s.record(ctx, audit.Record{Actor: courierActor(courier), Role: string(identity.RoleCourier), Center: p.Center, Action: "parcel.pickup",
		Subject: p.Holder, Target: "parcel:" + p.ID})
	return p, nil
}

// onTheWay reports whether the parcel is with its courier.
func onTheWay(p Parcel) bool { return p.Status == StatusPickedUp || p.Status == StatusFailedAttempt }

func validCode(code string) bool {
	if len(code) != 6 {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Deliver is the courier handing the parcel over: the recipient tells
// them the delivery code. A wrong code is counted for this courier and
// refused with the tries left; the last allowed wrong code locks the
// parcel for them, audits it and alerts the center.
func (s *Service) Deliver(ctx context.Context, courier identity.Staff, id, code string) (Parcel, error) {
	code = strings.TrimSpace(code)
	if !validCode(code) {
		return Parcel{}, apperr.Fields(apperr.FieldError{Field: "code", Message: "签收码为 6 位数字"})
	}
	if _, err := s.courierParcel(ctx, courier, id, "parcel.deliver"); err != nil {
		return Parcel{}, err
	}
	limit := s.cfg.MaxWrongCodes
	var wrong, locked bool
	p, err := s.change(ctx, id, func(p *Parcel, now time.Time) error {
		wrong, locked = false, false
		if p.Courier != courier.ID {
			return errWrongCourier()
		}
		if !onTheWay(*p) {
			return errState(*p, "签收")
		}
		t := p.TriesOf(courier.ID)
		if t.Locked() {
			return apperr.New(CodeParcelLocked, "签收码输错次数过多，此件已锁定，请联系政务服务中心")
		}
		if subtle.ConstantTimeCompare([]byte(s.codeHash(p.ID, p.Trips, code)), []byte(p.CodeHash)) == 1 {
			p.Status, p.CodeHash, p.DeliveredAt = StatusDelivered, "", now
			s.addEvent(p, now, "deliver", "已签收，感谢使用证照免费寄送", courierActor(courier))
			return nil
		}
		wrong = true
		t.Wrong++
		if left := limit - t.Wrong; left > 0 {
			p.setTries(t)
			return &keepError{&apperr.Error{Code: CodeDeliveryCodeWrong, Message: fmt.Sprintf("签收码不正确，还可尝试 %d 次", left),
				Fields: []apperr.FieldError{{Field: "code", Message: fmt.Sprintf("签收码不正确，还可尝试 %d 次", left)}}}}
		}
		locked = true
		t.LockedAt = now
		p.setTries(t)
		p.Alert = fmt.Sprintf("快递员%s签收码连续输错 %d 次，已锁定，请核实并改派", courier.Name, limit)
		s.addEvent(p, now, "code_locked", "", courierActor(courier))
		return &keepError{apperr.New(CodeParcelLocked, fmt.Sprintf("签收码已输错 %d 次，此件已锁定，已通知政务服务中心", limit))}
	})
	if err != nil && (!wrong || p.ID == "") { // a wrong code comes back with the parcel that counted it
		return Parcel{}, err
	}
	rec := audit.Record{Actor: courierActor(courier), Role: string(identity.RoleCourier), Center: p.Center, Action: "parcel.deliver",
		Subject: p.Holder, Target: "parcel:" + p.ID}
	switch {
	case locked:
		rec.Action, rec.Outcome = "parcel.code_locked", audit.OutcomeDenied
		s.log.WarnContext(ctx, "parcel locked after wrong delivery codes", "parcel", p.ID, "courier", courier.ID)
	case wrong:
		rec.Outcome = audit.OutcomeFailed
	}
	s.record(ctx, rec)
	if err != nil {
		return Parcel{}, err
	}
	return p, nil
}

// Fail records a failed delivery attempt with its reason (nobody home,
// wrong address ...); the courier tries again or brings it back.
func (s *Service) Fail(ctx context.Context, courier identity.Staff, id, reason string) (Parcel, error) {
	reason, err := checkText("reason", reason, 2, MaxReasonRunes, "投递未成功的原因")
	if err != nil {
		return Parcel{}, err
	}
	if _, err := s.courierParcel(ctx, courier, id, "parcel.fail"); err != nil {
		return Parcel{}, err
	}
	p, err := s.change(ctx, id, func(p *Parcel, now time.Time) error {
		if p.Courier != courier.ID {
			return errWrongCourier()
		}
		if !onTheWay(*p) {
			return errState(*p, "登记投递未成功")
		}
		p.Status = StatusFailedAttempt
		p.Attempts = append(p.Attempts, Attempt{At: now, Courier: courier.ID, Reason: reason})
		s.addEvent(p, now, "fail", "投递未成功："+reason, courierActor(courier))
		return nil
	})
	if err != nil {
		return Parcel{}, err
	}
	s.record(ctx, audit.Record{Actor: courierActor(courier), Role: string(identity.RoleCourier), Center: p.Center, Action: "parcel.fail",
		Subject: p.Holder, Target: "parcel:" + p.ID})
	return p, nil
}

// Return is the courier bringing the parcel back to the center (退回):
// the code of the trip no longer works; staff assign it again or hand it
// over at the window.
func (s *Service) Return(ctx context.Context, courier identity.Staff, id string) (Parcel, error) {
	if _, err := s.courierParcel(ctx, courier, id, "parcel.return"); err != nil {
		return Parcel{}, err
	}
	p, err := s.change(ctx, id, func(p *Parcel, now time.Time) error {
		if p.Courier != courier.ID {
			return errWrongCourier()
		}
		if !onTheWay(*p) {
			return errState(*p, "退回中心")
		}
		p.Status, p.CodeHash = StatusReturned, ""
		s.addEvent(p, now, "return", "证照已退回政务服务中心，中心将与您联系重新寄送或到窗口领取", courierActor(courier))
		return nil
	})
	if err != nil {
		return Parcel{}, err
	}
	s.record(ctx, audit.Record{Actor: courierActor(courier), Role: string(identity.RoleCourier), Center: p.Center, Action: "parcel.return",
		Subject: p.Holder, Target: "parcel:" + p.ID})
	return p, nil
}
