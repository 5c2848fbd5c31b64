package delivery_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/express"
	"github.com/banhao/banhao/internal/express/expresstest"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
)

// office is a delivery service on a real SQLite database with the demo
// catalog, a fake courier company on 127.0.0.1, two couriers of the
// county center and one of a township center, and a clock the test moves.
type office struct {
	svc     *delivery.Service
	cases   cases.Store
	parcels delivery.Store
	outbox  notify.Store
	audit   audit.Store
	cat     *catalog.Service
	carrier *expresstest.Fake
	// zhao and qian are couriers of hm, sun of a township center.
	zhao, qian, sun identity.Staff
	clerk           cases.Staffer

	mu  sync.Mutex
	now time.Time
}

func (o *office) clock() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now
}

func (o *office) later(d time.Duration) {
	o.mu.Lock()
	o.now = o.now.Add(d)
	o.mu.Unlock()
}

// alice is the applicant of the test cases.
var alice = cases.Person{Holder: "id:alice", Citizen: "citizen:ct01"}

func newOffice(t *testing.T) *office {
	t.Helper()
	ctx := context.Background()
	o := &office{now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.audit = sqlite.NewAuditStore(db)
	al := audit.NewLog(o.audit, o.clock)
	o.cat = catalog.NewService(sqlite.NewCatalogStore(db), al, o.clock, log)
	b, err := os.ReadFile("../../assets/catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := catalog.ParseSeedBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.cat.LoadSeedIfEmpty(ctx, seed); err != nil {
		t.Fatal(err)
	}
	keys, err := seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	staff := sqlite.NewIdentityStore(db)
	for i, st := range []*identity.Staff{&o.zhao, &o.qian, &o.sun} {
		*st = identity.Staff{ID: fmt.Sprintf("st0%d", i+1), Center: "hm", Username: fmt.Sprintf("courier%d", i+1), Name: []string{"赵师傅", "钱师傅", "孙师傅"}[i],
			Roles: []identity.Role{identity.RoleCourier}, Company: "测试快递", PasswordHash: "x", CreatedAt: o.now}
		if i == 2 {
			st.Center = "lz"
		}
		if err := staff.CreateStaff(ctx, *st); err != nil {
			t.Fatal(err)
		}
	}
	if err := staff.CreateStaff(ctx, identity.Staff{ID: "st09", Center: "hm", Username: "clerk1", Name: "窗口一", Roles: []identity.Role{identity.RoleClerk}, PasswordHash: "x", CreatedAt: o.now}); err != nil {
		t.Fatal(err)
	}
	o.clerk = cases.Staffer{ID: "st09", Center: "hm", Clerk: true}
	o.carrier = expresstest.New(t)
	carrier, err := express.New(express.Config{BaseURL: o.carrier.URL(), Company: "测试快递", Key: expresstest.Key})
	if err != nil {
		t.Fatal(err)
	}
	o.cases = sqlite.NewCaseStore(db)
	o.parcels = sqlite.NewParcelStore(db)
	o.outbox = sqlite.NewOutboxStore(db)
	ob := notify.NewOutbox(o.outbox, nil, nil, log, o.clock, notify.OutboxConfig{})
	o.svc = delivery.NewService(o.parcels, o.cases, o.cat, staff, keys, al, log, o.clock, delivery.Config{Carrier: carrier, Notifier: ob})
	return o
}

// newCase stores a case of alice's for a matter, in a state; an approved
// one has its certificate.
func (o *office) newCase(t *testing.T, n int, matter string, state cases.State, d catalog.Delivery) cases.Case {
	t.Helper()
	m, err := o.cat.Matter(t.Context(), matter)
	if err != nil {
		t.Fatal(err)
	}
	now := o.clock().UTC().Truncate(time.Millisecond)
	c := cases.Case{
		ID: fmt.Sprintf("cs019ab%023d", n), Number: fmt.Sprintf("HM261125%06d", n), QueryCode: "123456",
		Center: m.Center, Sector: m.Sector, Matter: m.Code, MatterName: m.Name, GuideVersion: m.Version,
		Applicant: alice.Holder, Citizen: alice.Citizen, Channel: catalog.ChannelOnline, State: state,
		Form: cases.Form{Delivery: d}, History: []cases.Event{}, CreatedAt: now, UpdatedAt: now, Rev: 1,
	}
	if state == cases.StateApproved {
		c.Certificate = &cases.ECertRef{ID: fmt.Sprintf("ec%d", n), Type: m.Certificate, Number: "DZ**", Issuer: m.Authority}
	}
	if err := o.cases.CreateCase(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

// approve concludes a stored case with its certificate.
func (o *office) approve(t *testing.T, c cases.Case) cases.Case {
	t.Helper()
	m, err := o.cat.Matter(t.Context(), c.Matter)
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.Rev = cases.StateApproved, c.Rev+1
	c.Certificate = &cases.ECertRef{ID: "ec-" + c.ID, Type: m.Certificate, Number: "DZ**", Issuer: m.Authority}
	if err := o.cases.UpdateCase(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	return c
}

var home = delivery.Address{Name: "张三丰", Phone: "13800138000", Address: "山东省滨州市惠民县孙武街道乐安大街1号3单元201室"}

func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func must[T any](t *testing.T, what string) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return v
	}
}

// code reads the delivery code of the parcel's trip from the outbox, as
// the citizen reads it in WeChat.
func (o *office) code(t *testing.T, p delivery.Parcel) string {
	t.Helper()
	m, err := o.outbox.GetMessage(t.Context(), delivery.CodeMessageID(p.ID, p.Trips))
	if err != nil {
		t.Fatalf("delivery code message of trip %d: %v", p.Trips, err)
	}
	if m.Kind != notify.KindDeliveryCode || m.To != alice.Citizen || len(m.Data["code"]) != 6 {
		t.Fatalf("delivery code message = %+v", m)
	}
	return m.Data["code"]
}

// statusMessages lists the statuses announced to the citizen, in order.
func (o *office) statusMessages(t *testing.T, p delivery.Parcel) []string {
	t.Helper()
	var out []string
	for rev := 1; rev <= p.Rev; rev++ {
		m, err := o.outbox.GetMessage(t.Context(), fmt.Sprintf("parcel:%s:%d", p.ID, rev))
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != notify.KindParcelStatus || m.To != alice.Citizen || m.Page != delivery.ParcelPage(p.ID) {
			t.Fatalf("status message = %+v", m)
		}
		out = append(out, m.Data["status"])
	}
	return out
}

func (o *office) audited(t *testing.T, action string, outcome audit.Outcome) int {
	t.Helper()
	recs, err := o.audit.ListAudit(t.Context(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Outcome == outcome {
			n++
		}
	}
	return n
}

// TestParcelFromAddressToDelivery follows a parcel through its life: the
// address given while the case is being decided, the booking once the
// certificate is issued, the courier's pick-up and a failed attempt, the
// delivery with the code; with the refusals on the way.
func TestParcelFromAddressToDelivery(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c := o.newCase(t, 1, "hm-sc-individual", cases.StateAccepted, catalog.DeliveryExpress)

	p := must[delivery.Parcel](t, "set address")(o.svc.SetAddress(ctx, alice, c.ID, home))
	if p.Status != delivery.StatusAwaitingCertificate || p.Recipient.NameMasked != "张**" || p.Recipient.PhoneMasked != "138****8000" {
		t.Fatalf("parcel = %+v", p)
	}
	if strings.Contains(p.Recipient.NameSealed+p.Recipient.PhoneSealed+p.Recipient.AddressSealed, "13800138000") {
		t.Fatal("the phone is stored in the clear")
	}
	wantCode(t, "dispatch before the certificate", o.svc.Dispatch(ctx, c), delivery.CodeNoCertificate)
	// A correction before the booking is taken.
	fixed := home
	fixed.Address = "山东省滨州市惠民县孙武街道乐安大街1号3单元202室"
	p = must[delivery.Parcel](t, "correct the address")(o.svc.SetAddress(ctx, alice, c.ID, fixed))
	if a := must[delivery.Address](t, "open")(o.svc.Recipient(p)); a != fixed {
		t.Fatalf("recipient = %+v", a)
	}

	// Approval issues the certificate; the case service calls Dispatch
	// (twice here: it must be idempotent).
	c = o.approve(t, c)
	for range 2 {
		if err := o.svc.Dispatch(ctx, c); err != nil {
			t.Fatalf("dispatch: %v", err)
		}
	}
	p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID))
	ships := o.carrier.Shipments()
	if p.Status != delivery.StatusReady || p.Tracking == "" || len(ships) != 1 || ships[0].Tracking != p.Tracking ||
		ships[0].Recipient != "张三丰" || ships[0].Address != fixed.Address || ships[0].Sender != "惠民县政务服务中心" || ships[0].Contents != "营业执照（纸质证照）" {
		t.Fatalf("after dispatch: parcel %+v, shipments %+v", p, ships)
	}
	_, err := o.svc.SetAddress(ctx, alice, c.ID, home)
	wantCode(t, "address after booking", err, delivery.CodeParcelState)

	// The label: a one-page PDF.
	pdf := must[[]byte](t, "label")(o.svc.Label(ctx, o.clerk, p.ID))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("label is not a PDF: %q", pdf[:min(20, len(pdf))])
	}
	_, err = o.svc.Label(ctx, cases.Staffer{ID: "stx", Center: "lz", Clerk: true}, p.ID)
	wantCode(t, "another center's label", err, apperr.NotFound)

	// Assignment: only a courier of the center.
	_, err = o.svc.Assign(ctx, o.clerk, p.ID, o.sun.ID)
	wantCode(t, "a township courier", err, apperr.Invalid)
	_, err = o.svc.Assign(ctx, o.clerk, p.ID, "st09")
	wantCode(t, "a clerk as courier", err, apperr.Invalid)
	p = must[delivery.Parcel](t, "assign")(o.svc.Assign(ctx, o.clerk, p.ID, o.zhao.ID))

	// The wrong courier's scan is refused and audited; a scan of another
	// label too; nothing changes.
	before := p.Rev
	_, err = o.svc.Pickup(ctx, o.qian, p.ID, p.ID)
	wantCode(t, "pick-up by the wrong courier", err, delivery.CodeWrongCourier)
	_, err = o.svc.Pickup(ctx, o.zhao, p.ID, "pc019ab0000000000000000000000000")
	wantCode(t, "scan of another label", err, delivery.CodeScanMismatch)
	_, err = o.svc.Deliver(ctx, o.zhao, p.ID, "123456")
	wantCode(t, "deliver before pick-up", err, delivery.CodeParcelState)
	if p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID)); p.Rev != before {
		t.Fatalf("refusals changed the parcel: rev %d → %d", before, p.Rev)
	}
	if n := o.audited(t, "parcel.pickup", audit.OutcomeDenied); n != 1 {
		t.Fatalf("%d denied pick-ups audited, want 1", n)
	}

	o.later(time.Hour)
	p = must[delivery.Parcel](t, "pick up")(o.svc.Pickup(ctx, o.zhao, p.ID, " "+strings.ToUpper(p.ID)+" "))
	code := o.code(t, p)
	if p.Status != delivery.StatusPickedUp || p.CodeHash == "" || strings.Contains(p.CodeHash, code) {
		t.Fatalf("picked up: %+v", p)
	}
	wrong := fmt.Sprintf("%06d", (mustAtoi(code)+1)%1_000_000)
	_, err = o.svc.Deliver(ctx, o.zhao, p.ID, wrong)
	wantCode(t, "wrong code", err, delivery.CodeDeliveryCodeWrong)
	if e, _ := apperr.As(err); !strings.Contains(e.Message, "还可尝试 4 次") {
		t.Fatalf("wrong code message %q", e.Message)
	}
	_, err = o.svc.Deliver(ctx, o.qian, p.ID, code)
	wantCode(t, "the right code from the wrong courier", err, delivery.CodeWrongCourier)
	_, err = o.svc.Deliver(ctx, o.zhao, p.ID, "12345")
	wantCode(t, "a five-digit code", err, apperr.Invalid)

	p = must[delivery.Parcel](t, "fail")(o.svc.Fail(ctx, o.zhao, p.ID, "收件人不在家"))
	if p.Status != delivery.StatusFailedAttempt || len(p.Attempts) != 1 || p.Attempts[0].Reason != "收件人不在家" {
		t.Fatalf("failed attempt: %+v", p)
	}
	_, err = o.svc.Fail(ctx, o.zhao, p.ID, "")
	wantCode(t, "fail without a reason", err, apperr.Invalid)
	o.later(24 * time.Hour)
	p = must[delivery.Parcel](t, "deliver")(o.svc.Deliver(ctx, o.zhao, p.ID, code))
	if p.Status != delivery.StatusDelivered || p.CodeHash != "" || p.DeliveredAt.IsZero() {
		t.Fatalf("delivered: %+v", p)
	}
	_, err = o.svc.Deliver(ctx, o.zhao, p.ID, code)
	wantCode(t, "deliver twice", err, delivery.CodeParcelState)
	_, err = o.svc.Return(ctx, o.zhao, p.ID)
	wantCode(t, "return a delivered parcel", err, delivery.CodeParcelState)

	// The citizen was told every step.
	got := strings.Join(o.statusMessages(t, p), ",")
	if want := "待出证,待出证,待揽收,待揽收,派送中,投递未成功,已签收"; got != want {
		t.Fatalf("messages to the citizen: %s, want %s", got, want)
	}
	// And the courier's list no longer has it.
	list, _, err := o.svc.CourierParcels(ctx, o.zhao, delivery.ListRequest{})
	if err != nil || len(list) != 0 {
		t.Fatalf("courier list after delivery: %d, %v", len(list), err)
	}
}

func mustAtoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// TestWrongCodesLockTheParcel: five wrong codes lock the parcel for that
// courier and alert the center; the courier brings it back, a clerk gives
// it to another courier, whose trip has a new code.
func TestWrongCodesLockTheParcel(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c := o.newCase(t, 2, "hm-sc-food-license", cases.StateApproved, catalog.DeliveryExpress)
	p := must[delivery.Parcel](t, "set address")(o.svc.SetAddress(ctx, alice, c.ID, home))
	if p.Status != delivery.StatusReady {
		t.Fatalf("an approved case's parcel is booked at once: %+v", p)
	}
	p = must[delivery.Parcel](t, "assign")(o.svc.Assign(ctx, o.clerk, p.ID, o.zhao.ID))
	p = must[delivery.Parcel](t, "pick up")(o.svc.Pickup(ctx, o.zhao, p.ID, p.ID))
	code := o.code(t, p)
	wrong := fmt.Sprintf("%06d", (mustAtoi(code)+7)%1_000_000)
	for i := 1; i <= 4; i++ {
		_, err := o.svc.Deliver(ctx, o.zhao, p.ID, wrong)
		wantCode(t, fmt.Sprintf("wrong code %d", i), err, delivery.CodeDeliveryCodeWrong)
	}
	_, err := o.svc.Deliver(ctx, o.zhao, p.ID, wrong)
	wantCode(t, "fifth wrong code", err, delivery.CodeParcelLocked)
	_, err = o.svc.Deliver(ctx, o.zhao, p.ID, code)
	wantCode(t, "the right code after the lock", err, delivery.CodeParcelLocked)
	p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID))
	if p.Status != delivery.StatusPickedUp || !p.TriesOf(o.zhao.ID).Locked() || p.Alert == "" {
		t.Fatalf("locked parcel: %+v", p)
	}
	alerts, _, err := o.svc.StaffParcels(ctx, o.clerk, delivery.ListRequest{Alert: true})
	if err != nil || len(alerts) != 1 || alerts[0].ID != p.ID {
		t.Fatalf("the center's alerts: %v %v", alerts, err)
	}
	if n := o.audited(t, "parcel.code_locked", audit.OutcomeDenied); n != 1 {
		t.Fatalf("%d locks audited, want 1", n)
	}

	p = must[delivery.Parcel](t, "return")(o.svc.Return(ctx, o.zhao, p.ID))
	_, err = o.svc.Assign(ctx, o.clerk, p.ID, o.zhao.ID)
	wantCode(t, "give it back to the locked courier", err, delivery.CodeParcelLocked)
	p = must[delivery.Parcel](t, "reassign")(o.svc.Assign(ctx, o.clerk, p.ID, o.qian.ID))
	if p.Status != delivery.StatusReady || p.Alert != "" {
		t.Fatalf("reassigned: %+v", p)
	}
	_, err = o.svc.Pickup(ctx, o.zhao, p.ID, p.ID)
	wantCode(t, "pick-up by the former courier", err, delivery.CodeWrongCourier)
	p = must[delivery.Parcel](t, "second pick-up")(o.svc.Pickup(ctx, o.qian, p.ID, p.ID))
	second := o.code(t, p)
	if p.Trips != 2 {
		t.Fatalf("trips = %d", p.Trips)
	}
	if second != code {
		_, err = o.svc.Deliver(ctx, o.qian, p.ID, code)
		wantCode(t, "the first trip's code", err, delivery.CodeDeliveryCodeWrong)
	}
	must[delivery.Parcel](t, "deliver")(o.svc.Deliver(ctx, o.qian, p.ID, second))
}

// TestCourierCompanyDown: a 5xx from the courier company leaves the
// parcel waiting, with the reason, and the retry books it.
func TestCourierCompanyDown(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c := o.newCase(t, 3, "hm-sc-individual", cases.StateApproved, catalog.DeliveryWindow)
	o.carrier.FailNext(1, http.StatusServiceUnavailable)
	p := must[delivery.Parcel](t, "set address after conclusion")(o.svc.SetAddress(ctx, alice, c.ID, home))
	if p.Status != delivery.StatusAwaitingCertificate || p.DispatchError == "" || p.Tracking != "" {
		t.Fatalf("after a failed booking: %+v", p)
	}
	o.carrier.FailNext(1, http.StatusBadGateway)
	_, err := o.svc.DispatchCase(ctx, o.clerk, c.ID)
	wantCode(t, "staff dispatch while the company is down", err, apperr.Unavailable)
	n, err := o.svc.DispatchPending(ctx)
	if err != nil || n != 1 {
		t.Fatalf("retry booked %d, %v", n, err)
	}
	p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID))
	if p.Status != delivery.StatusReady || p.DispatchError != "" || len(o.carrier.Shipments()) != 1 {
		t.Fatalf("after the retry: %+v", p)
	}
	again := must[delivery.Parcel](t, "staff dispatch again")(o.svc.DispatchCase(ctx, o.clerk, c.ID))
	if again.Rev != p.Rev {
		t.Fatal("a second dispatch changed the parcel")
	}
	// A refusal (4xx) is not passing.
	c2 := o.newCase(t, 4, "hm-sc-individual", cases.StateApproved, catalog.DeliveryExpress)
	o.carrier.FailNext(1, http.StatusBadRequest)
	p2 := must[delivery.Parcel](t, "set address")(o.svc.SetAddress(ctx, alice, c2.ID, home))
	if p2.Status != delivery.StatusAwaitingCertificate || !strings.Contains(p2.DispatchError, "未接受") {
		t.Fatalf("after a refusal: %+v", p2)
	}
}

// TestCourierCompanyHangsOrLosesTheAnswer: a booking the company API
// never answers (the request's time runs out) and one it made but whose
// answer was lost both leave the parcel waiting, never lost; the retry
// books each, the lost one under the waybill number the company already
// gave it (bookings are idempotent by parcel), so nothing is booked twice.
func TestCourierCompanyHangsOrLosesTheAnswer(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()

	c := o.newCase(t, 5, "hm-sc-individual", cases.StateApproved, catalog.DeliveryWindow)
	o.carrier.Stall(true)
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	// The address is kept whatever became of the booking; what the call
	// answers after its time ran out does not matter here.
	_, _ = o.svc.SetAddress(short, alice, c.ID, home)
	cancel()
	o.carrier.Stall(false)
	p := must[delivery.Parcel](t, "read the parcel")(o.parcels.GetParcelByCase(ctx, c.ID))
	if p.Status != delivery.StatusAwaitingCertificate || p.Tracking != "" {
		t.Fatalf("after a booking the company never answered: %+v", p)
	}

	c2 := o.newCase(t, 6, "hm-sc-individual", cases.StateApproved, catalog.DeliveryWindow)
	o.carrier.LoseNext(1)
	p2 := must[delivery.Parcel](t, "set address, answer lost")(o.svc.SetAddress(ctx, alice, c2.ID, home))
	if p2.Status != delivery.StatusAwaitingCertificate || p2.DispatchError == "" || p2.Tracking != "" {
		t.Fatalf("after a lost answer: %+v", p2)
	}
	lost := o.carrier.Shipments()
	if len(lost) != 1 || lost[0].Reference != p2.ID {
		t.Fatalf("the company booked %+v", lost)
	}

	n, err := o.svc.DispatchPending(ctx)
	if err != nil || n != 2 {
		t.Fatalf("retry booked %d, %v; want both", n, err)
	}
	p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID))
	p2 = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p2.ID))
	if p.Status != delivery.StatusReady || p.Tracking == "" || p2.Status != delivery.StatusReady || p2.Tracking != lost[0].Tracking {
		t.Fatalf("after the retry: %+v\n%+v", p, p2)
	}
	if got := o.carrier.Shipments(); len(got) != 2 {
		t.Errorf("the company has %d bookings, want 2 (none twice)", len(got))
	}
}

// TestAddressRules: bad input names its fields; another person's case,
// a matter without express delivery, a case without a certificate to
// come are refused.
func TestAddressRules(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c := o.newCase(t, 5, "hm-sc-individual", cases.StateSubmitted, catalog.DeliveryExpress)
	_, err := o.svc.SetAddress(ctx, alice, c.ID, delivery.Address{Name: "张", Phone: "12345", Address: "惠民"})
	e, ok := apperr.As(err)
	if !ok || e.Code != apperr.Invalid || len(e.Fields) != 3 {
		t.Fatalf("bad address: %v", err)
	}
	_, err = o.svc.SetAddress(ctx, alice, c.ID, delivery.Address{Name: "张三丰", Phone: "13800138000", Address: strings.Repeat("长", delivery.MaxAddressRunes+1)})
	wantCode(t, "address too long for a label", err, apperr.Invalid)
	_, err = o.svc.SetAddress(ctx, cases.Person{Holder: "id:bob", Citizen: "citizen:ct02"}, c.ID, home)
	wantCode(t, "someone else's case", err, apperr.NotFound)
	_, err = o.svc.SetAddress(ctx, cases.Person{Citizen: "citizen:ct03"}, c.ID, home)
	wantCode(t, "no real name", err, apperr.NotFound)
	loan := o.newCase(t, 6, "hm-gjj-loan", cases.StateSubmitted, catalog.DeliveryWindow)
	_, err = o.svc.SetAddress(ctx, alice, loan.ID, home)
	wantCode(t, "a matter without express delivery", err, delivery.CodeNotDeliverable)
	denied := o.newCase(t, 7, "hm-sc-individual", cases.StateDenied, catalog.DeliveryExpress)
	_, err = o.svc.SetAddress(ctx, alice, denied.ID, home)
	wantCode(t, "a denied case", err, delivery.CodeNotDeliverable)
	kiosk := o.newCase(t, 8, "hm-sc-individual", cases.StateApproved, catalog.DeliveryKioskPrint)
	_, err = o.svc.SetAddress(ctx, alice, kiosk.ID, home)
	wantCode(t, "a certificate printed at a kiosk", err, delivery.CodeNotDeliverable)

	p := must[delivery.Parcel](t, "set address")(o.svc.SetAddress(ctx, alice, c.ID, home))
	if _, err := o.svc.Parcel(ctx, cases.Person{Holder: "id:bob"}, p.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("bob reads alice's parcel: %v", err)
	}
	if got := must[delivery.Parcel](t, "of case")(o.svc.ParcelOfCase(ctx, alice, c.ID)); got.ID != p.ID {
		t.Fatalf("parcel of case = %s", got.ID)
	}
	_, err = o.svc.ParcelOfCase(ctx, alice, loan.ID)
	wantCode(t, "a case without a parcel", err, apperr.NotFound)
	// A case without an address has nothing to dispatch yet.
	other := o.newCase(t, 9, "hm-sc-individual", cases.StateApproved, catalog.DeliveryExpress)
	wantCode(t, "dispatch without an address", o.svc.Dispatch(ctx, other), delivery.CodeNoAddress)
}

// TestSimultaneousCourierActions: two pick-ups, or two deliveries with the
// right code, at the same instant: exactly one applies, one code is sent.
func TestSimultaneousCourierActions(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	for round := range 5 {
		c := o.newCase(t, 10+round, "hm-sc-individual", cases.StateApproved, catalog.DeliveryExpress)
		p := must[delivery.Parcel](t, "set address")(o.svc.SetAddress(ctx, alice, c.ID, home))
		p = must[delivery.Parcel](t, "assign")(o.svc.Assign(ctx, o.clerk, p.ID, o.zhao.ID))
		race := func(what string, fn func() (delivery.Parcel, error)) {
			t.Helper()
			errs := make([]error, 2)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range errs {
				wg.Go(func() {
					<-start
					_, errs[i] = fn()
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !apperr.Is(err, delivery.CodeParcelState):
					t.Fatalf("round %d: %s: %v", round, what, err)
				}
			}
			if ok != 1 {
				t.Fatalf("round %d: %s: %d succeeded, want 1 (%v)", round, what, ok, errs)
			}
		}
		race("two pick-ups", func() (delivery.Parcel, error) { return o.svc.Pickup(ctx, o.zhao, p.ID, p.ID) })
		p = must[delivery.Parcel](t, "read")(o.parcels.GetParcel(ctx, p.ID))
		if p.Trips != 1 {
			t.Fatalf("round %d: %d trips after two pick-ups", round, p.Trips)
		}
		if _, err := o.outbox.GetMessage(ctx, delivery.CodeMessageID(p.ID, 2)); !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("round %d: a second code was sent: %v", round, err)
		}
		code := o.code(t, p)
		race("two deliveries", func() (delivery.Parcel, error) { return o.svc.Deliver(ctx, o.zhao, p.ID, code) })
	}
}
