package delivery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/printing"
)

// CaseReader reads cases (the case store).
type CaseReader interface {
	GetCase(ctx context.Context, id string) (cases.Case, error)
}

// Catalog is what delivery needs from the catalog: whether a case's
// matter offers express delivery, and the center that sends.
type Catalog interface {
	MatterVersion(ctx context.Context, code string, version int) (catalog.Matter, error)
	Center(ctx context.Context, code string) (catalog.Center, error)
}

// Accounts finds courier accounts (the staff store).
type Accounts interface {
	GetStaff(ctx context.Context, id string) (identity.Staff, error)
}

// Notifier queues WeChat messages (package notify's Outbox).
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
}

// Labeler draws shipping labels (printing.Renderer).
type Labeler interface {
	Label(w io.Writer, l printing.Label) error
}

// Config holds what a deployment chooses.
type Config struct {
	// Carrier books shipments with the courier company; nil means the
	// center's own couriers, OwnCourier{Name: DefaultCompany}.
	Carrier Carrier
	// Notifier pushes the parcel's changes and the delivery code to the
	// citizen; nil sends none (and couriers could never deliver).
	Notifier Notifier
	// Labels draws labels; nil means a printing.Renderer, made at the
	// first label (parsing the fonts takes a moment).
	Labels Labeler
	// Location is the zone times are shown in; nil means UTC+8.
	Location *time.Location
	// MaxWrongCodes is how many wrong delivery codes lock a parcel for a
	// courier; 0 means 5.
	MaxWrongCodes int
}

// DefaultCompany names the center's own delivery when no courier company
// is configured.
const DefaultCompany = "政务服务中心寄递"

// Service runs parcels.
type Service struct {
	store    Store
	cases    CaseReader
	catalog  Catalog
	accounts Accounts
	keys     *seal.Keyring
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time
	cfg      Config

	labelsOnce sync.Once
	labels     Labeler
	labelsErr  error
}

var _ cases.Dispatcher = (*Service)(nil)

// NewService returns the delivery service.
func NewService(store Store, cs CaseReader, cat Catalog, accounts Accounts, keys *seal.Keyring, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.Carrier == nil {
		cfg.Carrier = OwnCourier{Name: DefaultCompany}
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.MaxWrongCodes <= 0 {
		cfg.MaxWrongCodes = 5
	}
	return &Service{store: store, cases: cs, catalog: cat, accounts: accounts, keys: keys, audit: al, log: log, now: now, cfg: cfg}
}

// Codes of refused parcel actions.
const (
	// CodeParcelState: the parcel is not in a status that allows this.
	CodeParcelState apperr.Code = "parcel_state"
	// CodeWrongCourier: the parcel is assigned to another courier.
	CodeWrongCourier apperr.Code = "wrong_courier"
	// CodeDeliveryCodeWrong: the delivery code does not match; the
	// message says how many tries are left.
	CodeDeliveryCodeWrong apperr.Code = "delivery_code_wrong"
	// CodeParcelLocked: too many wrong codes locked the parcel for this
	// courier; the center was alerted.
	CodeParcelLocked apperr.Code = "parcel_locked"
	// CodeScanMismatch: the scanned label is not this parcel's.
	CodeScanMismatch apperr.Code = "scan_mismatch"
	// CodeNoAddress: the citizen has not given an address yet.
	CodeNoAddress apperr.Code = "no_address"
	// CodeNoCertificate: the case has no certificate (yet) to send.
	CodeNoCertificate apperr.Code = "no_certificate"
	// CodeNotDeliverable: the matter's certificate is not sent by
	// express, or the case ended without one.
	CodeNotDeliverable apperr.Code = "not_deliverable"
	// CodeCarrierRefused: the courier company refused the shipment.
	CodeCarrierRefused apperr.Code = "carrier_refused"
	// CodeLabel: the label cannot be printed (a character the font lacks,
	// an address too long for it).
	CodeLabel apperr.Code = "label_unprintable"
)

func errNoParcel() error { return apperr.New(apperr.NotFound, "没有这个寄送件") }

func errState(p Parcel, doing string) error {
	return apperr.New(CodeParcelState, fmt.Sprintf("该件当前状态为“%s”，不能%s", p.Status.Label(), doing))
}

func errWrongCourier() error {
	return apperr.New(CodeWrongCourier, "该件没有派给您，请交还中心出件窗口")
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) record(ctx context.Context, r audit.Record) {
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
	}
}

// errUnchanged, returned by a change function, leaves the parcel as it is
// stored and makes change succeed without writing.
var errUnchanged = errors.New("delivery: unchanged")

// keepError, returned by a change function, stores the change and then
// fails with err: a wrong delivery code is counted and still refused.
type keepError struct{ err error }

func (k *keepError) Error() string { return k.err.Error() }

// change applies fn to the stored parcel and writes it back conditionally,
// re-reading and re-applying when another change won the race: fn sees
// the parcel as stored and decides again, so of two simultaneous
// deliveries the second finds the parcel delivered and is refused.
func (s *Service) change(ctx context.Context, id string, fn func(p *Parcel, now time.Time) error) (Parcel, error) {
	for attempt := 0; ; attempt++ {
		p, err := s.store.GetParcel(ctx, id)
		if err != nil {
			return Parcel{}, err
		}
		events := len(p.History)
		now := s.stamp()
		var kept error
		if err := fn(&p, now); errors.Is(err, errUnchanged) {
			return s.store.GetParcel(ctx, id)
		} else if k := (*keepError)(nil); errors.As(err, &k) {
			kept = k.err
		} else if err != nil {
			return Parcel{}, err
		}
		p.Rev++
		p.UpdatedAt = now
		err = s.store.UpdateParcel(ctx, p)
		if apperr.Is(err, apperr.VersionConflict) && attempt < 8 {
			continue
		}
		if err != nil {
			return Parcel{}, err
		}
		if len(p.History) > events {
			s.announce(ctx, p)
		}
		return p, kept
	}
}

func (s *Service) addEvent(p *Parcel, now time.Time, action, note, actor string) {
	p.History = append(p.History, Event{At: now, Action: action, Status: p.Status, Note: note, Actor: actor})
}

// recipient is whom a parcel's messages go to: the account that gave the
// address, else the applicant by ID number.
func recipient(p Parcel) string {
	if p.Citizen != "" {
		return p.Citizen
	}
	return p.Holder
}

// ParcelPage is the mini-program page of a parcel.
func ParcelPage(id string) string { return "pages/parcel/index?id=" + id }

// CodeMessageID is the outbox ID of the delivery code sent at the
// parcel's trip-th pick-up.
func CodeMessageID(parcelID string, trip int) string {
	return fmt.Sprintf("parcel-code:%s:%d", parcelID, trip)
}

// announce pushes the parcel's latest history line to the citizen, if it
// is one they see (it has a note). The ID is the parcel and its revision,
// so a retried change is one message; a lost message is logged and never
// fails the change.
func (s *Service) announce(ctx context.Context, p Parcel) {
	e := p.History[len(p.History)-1]
	if s.cfg.Notifier == nil || e.Note == "" {
		return
	}
	s.notify(ctx, notify.Message{
		ID: fmt.Sprintf("parcel:%s:%d", p.ID, p.Rev), To: recipient(p), Kind: notify.KindParcelStatus,
		Data: map[string]string{
			"number": numberOf(p), "company": truncate(p.Company, 20), "status": p.Status.Label(),
			"time": e.At.In(s.cfg.Location).Format("2006-01-02 15:04"), "note": truncate(e.Note, 20),
		},
		Page: ParcelPage(p.ID),
	})
}

func (s *Service) notify(ctx context.Context, msg notify.Message) {
	if s.cfg.Notifier == nil {
		return
	}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}

// numberOf is the number a citizen knows the parcel by: the waybill
// number once there is one, else the case number.
func numberOf(p Parcel) string {
	if p.Tracking != "" {
		return p.Tracking
	}
	return p.CaseNumber
}

// truncate keeps at most n runes (WeChat's thing fields hold 20).
func truncate(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return v
	}
	return string(r[:n-1]) + "…"
}

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	var b strings.Builder
	for range n {
		d, _ := rand.Int(rand.Reader, big.NewInt(10)) // crypto/rand never fails since Go 1.24
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// checkText validates free text: valid UTF-8, no control characters,
// between min and max runes.
func checkText(field, v string, min, max int, what string) (string, error) {
	v = strings.TrimSpace(v)
	n := utf8.RuneCountInString(v)
	if !utf8.ValidString(v) || n < min || n > max || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("请填写%s（%d-%d 个字，不含控制字符）", what, min, max)})
	}
	return v, nil
}

var namePattern = regexp.MustCompile(`^[\p{Han}·•A-Za-z ]{2,30}$`)

// MaxAddressRunes caps an address: three lines of a 100×150 mm label.
const MaxAddressRunes = 50

// Address is where and to whom the citizen wants the certificate sent.
type Address struct {
	Name    string
	Phone   string
	Address string
}

// check validates and normalises an address.
func (a Address) check() (Address, error) {
	var errs []apperr.FieldError
	name := strings.TrimSpace(a.Name)
	if !utf8.ValidString(name) || !namePattern.MatchString(name) {
		errs = append(errs, apperr.FieldError{Field: "name", Message: "请填写收件人姓名（2-30 个汉字或字母）"})
	}
	phone, err := identity.ParseMobile("phone", a.Phone)
	if e, ok := apperr.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	addr, err := checkText("address", a.Address, 5, MaxAddressRunes, "详细收件地址")
	if e, ok := apperr.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	if len(errs) > 0 {
		return Address{}, apperr.Fields(errs...)
	}
	return Address{Name: name, Phone: phone, Address: addr}, nil
}

func sealContext(parcelID, field string) string { return "parcel/" + parcelID + "/" + field }

// seal fills the parcel's recipient from a checked address.
func (s *Service) seal(p *Parcel, a Address) error {
	var err error
	r := Recipient{NameMasked: identity.MaskName(a.Name), PhoneMasked: identity.MaskMobile(a.Phone)}
	if r.NameSealed, err = s.keys.Seal(a.Name, sealContext(p.ID, "name")); err != nil {
		return fmt.Errorf("delivery: seal name of %s: %w", p.ID, err)
	}
	if r.PhoneSealed, err = s.keys.Seal(a.Phone, sealContext(p.ID, "phone")); err != nil {
		return fmt.Errorf("delivery: seal phone of %s: %w", p.ID, err)
	}
	if r.AddressSealed, err = s.keys.Seal(a.Address, sealContext(p.ID, "address")); err != nil {
		return fmt.Errorf("delivery: seal address of %s: %w", p.ID, err)
	}
	p.Recipient = r
	return nil
}

// Recipient opens a parcel's recipient in full, for its owner (who gave
// it) and for the courier company's booking. It must never reach a log
// or a courier.
func (s *Service) Recipient(p Parcel) (Address, error) {
	var a Address
	var err error
	if a.Name, err = s.keys.Open(p.Recipient.NameSealed, sealContext(p.ID, "name")); err != nil {
		return Address{}, fmt.Errorf("delivery: open name of %s: %w", p.ID, err)
	}
	if a.Phone, err = s.keys.Open(p.Recipient.PhoneSealed, sealContext(p.ID, "phone")); err != nil {
		return Address{}, fmt.Errorf("delivery: open phone of %s: %w", p.ID, err)
	}
	if a.Address, err = s.OpenAddress(p); err != nil {
		return Address{}, err
	}
	return a, nil
}

// OpenAddress opens a parcel's address: couriers and the 出件 window see
// it in full, since the parcel must get there.
func (s *Service) OpenAddress(p Parcel) (string, error) {
	a, err := s.keys.Open(p.Recipient.AddressSealed, sealContext(p.ID, "address"))
	if err != nil {
		return "", fmt.Errorf("delivery: open address of %s: %w", p.ID, err)
	}
	return a, nil
}

// Location is the zone parcel times are shown in.
func (s *Service) Location() *time.Location { return s.cfg.Location }

// MaxWrongCodes is how many wrong codes lock a parcel for a courier.
func (s *Service) MaxWrongCodes() int { return s.cfg.MaxWrongCodes }

func validCaseID(id string) bool   { return strings.HasPrefix(id, "cs") && len(id) <= 64 }
func validParcelID(id string) bool { return strings.HasPrefix(id, "pc") && len(id) <= 64 }

// labeler returns the configured Labeler, or makes the default renderer.
func (s *Service) labeler() (Labeler, error) {
	s.labelsOnce.Do(func() {
		if s.cfg.Labels != nil {
			s.labels = s.cfg.Labels
			return
		}
		s.labels = &printing.Lazy{}
	})
	return s.labels, s.labelsErr
}
