package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/express/expresstest"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/sqlite"
)

// parcelBody is the part of a parcel response (citizen, courier or staff
// view) the tests read.
type parcelBody struct {
	ID            string `json:"id"`
	CaseNumber    string `json:"case_number"`
	Status        string `json:"status"`
	StatusLabel   string `json:"status_label"`
	Company       string `json:"company"`
	Tracking      string `json:"tracking"`
	Waiting       string `json:"waiting"`
	RecipientName string `json:"recipient_name"`
	Phone         string `json:"phone"`
	Address       string `json:"address"`
	Courier       string `json:"courier"`
	Alert         string `json:"alert"`
	TriesLeft     int    `json:"tries_left"`
	Locked        bool   `json:"locked"`
	CodeSent      bool   `json:"code_sent"`
	Recipient     struct {
		Name    string `json:"name"`
		Phone   string `json:"phone"`
		Address string `json:"address"`
	} `json:"recipient"`
	Timeline []struct {
		Status string `json:"status"`
		Note   string `json:"note"`
	} `json:"timeline"`
}

func decodeParcel(t *testing.T, code int, body string, want int) parcelBody {
	t.Helper()
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	var p parcelBody
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("parcel body: %v: %s", err, body)
	}
	return p
}

// The recipient of the delivery tests, as the citizen types it.
const (
	dlName    = "张三丰"
	dlPhone   = "13800138000"
	dlAddress = "山东省滨州市惠民县孙武街道乐安大街1号3单元201室"
)

// dlCourier opens a courier account of center hm and logs it in.
func (s *server) dlCourier(t *testing.T, username, name string) (id, token string) {
	t.Helper()
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/couriers", s.admin(t),
		strings.NewReader(fmt.Sprintf(`{"username":%q,"name":%q,"company":"测试快递","password":%q}`, username, name, testPassword)))
	if code != http.StatusCreated {
		t.Fatalf("create courier %s: %d %s", username, code, body)
	}
	var st struct{ ID string }
	json.Unmarshal([]byte(body), &st)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/login", "", loginBody(username, testPassword))
	if code != http.StatusOK {
		t.Fatalf("courier login %s: %d %s", username, code, body)
	}
	var l struct{ Token string }
	json.Unmarshal([]byte(body), &l)
	return st.ID, l.Token
}

// dlExpressCase takes a 个体工商户设立登记 of the citizen from draft to
// approved with express delivery chosen and the address given before
// submitting, and returns the case.
func (s *server) dlExpressCase(t *testing.T, citizen, clerk, approver string) caseBody {
	t.Helper()
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", citizen, strings.NewReader(`{"matter":"hm-sc-individual"}`))
	c := decodeCase(t, code, body, http.StatusCreated)
	path := "/api/v1/mp/cases/" + c.ID
	code, _, body = s.do(t, http.MethodPut, path+"/form", citizen, strings.NewReader(`{"summary":"开一家小吃店","delivery":"express"}`))
	decodeCase(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPut, path+"/delivery", citizen,
		strings.NewReader(fmt.Sprintf(`{"name":%q,"phone":%q,"address":%q}`, dlName, dlPhone, dlAddress)))
	if p := decodeParcel(t, code, body, http.StatusOK); p.Status != "awaiting_certificate" || p.Recipient.Phone != dlPhone {
		t.Fatalf("address while applying: %s", body)
	}
	for i, name := range []string{"个体工商户登记", "经营场所使用证明"} {
		code, _, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, c.material(t, name)), citizen, testPNG(t, byte(10+i)))
		decodeCase(t, code, body, http.StatusCreated)
	}
	code, _, body = s.do(t, http.MethodPost, path+"/submit", citizen, strings.NewReader(`{}`))
	decodeCase(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", clerk, strings.NewReader(`{}`))
	decodeCase(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/decide", approver, strings.NewReader(`{"approve":true}`))
	if c = decodeCase(t, code, body, http.StatusOK); c.State != "approved" {
		t.Fatalf("decision: %s", body)
	}
	return c
}

// dlOutbox reads the server's outbox from its SQLite file, as the sender
// would: the test's window on the WeChat messages the citizen gets.
func (s *server) dlOutbox(t *testing.T) notify.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(s.getenv("BANHAO_DATA_DIR"), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return sqlite.NewOutboxStore(db)
}

// dlCode is the delivery code the citizen received for the parcel's trip.
func dlCode(t *testing.T, outbox notify.Store, parcelID string, trip int) string {
	t.Helper()
	m, err := outbox.GetMessage(t.Context(), delivery.CodeMessageID(parcelID, trip))
	if err != nil {
		t.Fatalf("the delivery code of %s trip %d is not in the outbox: %v", parcelID, trip, err)
	}
	if m.Kind != notify.KindDeliveryCode || !strings.HasPrefix(m.To, "citizen:") || len(m.Data["code"]) != 6 {
		t.Fatalf("delivery code message: %+v", m)
	}
	return m.Data["code"]
}

// otherCode is a six-digit code that is not code.
func otherCode(code string, k int) string {
	n := 0
	fmt.Sscanf(code, "%d", &n)
	return fmt.Sprintf("%06d", (n+k)%1_000_000)
}

// TestDeliveryFromLabelToCode is the delivery issue's "done when" over
// the real server and a fake courier company: a citizen applies for a
// business licence with express delivery and an address; on approval the
// parcel is booked (tracking number from the company); the clerk prints
// the label and assigns a courier; another courier's pick-up is refused;
// the courier scans and picks up, the code reaches the citizen through
// the outbox; a wrong code counts down, a failed attempt is recorded, the
// right code delivers; the citizen sees every state. A second parcel is
// locked by five wrong codes (the first of them the other parcel's code),
// which alerts the center.
func TestDeliveryFromLabelToCode(t *testing.T) {
	fake := expresstest.New(t)
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_EXPRESS_URL"] = fake.URL()
	env["BANHAO_EXPRESS_COMPANY"] = "测试快递"
	env["BANHAO_EXPRESS_KEY"] = expresstest.Key
	s := startServer(t, env)
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	s.bindRealName(t, alice, "张三丰", aliceID)
	s.bindRealName(t, bob, "李四", bobID)
	s.createStaff(t, "clerk1", "clerk")
	s.createStaff(t, "approver1", "approver")
	clerk, approver := s.login(t, "clerk1", testPassword), s.login(t, "approver1", testPassword)
	zhaoID, zhao := s.dlCourier(t, "courier1", "赵师傅")
	_, qian := s.dlCourier(t, "courier2", "钱师傅")
	outbox := s.dlOutbox(t)

	// Bad input names its field; another citizen cannot touch the case.
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-sc-individual"}`))
	draft := decodeCase(t, code, body, http.StatusCreated)
	code, ctype, body := s.do(t, http.MethodPut, "/api/v1/mp/cases/"+draft.ID+"/delivery", alice,
		strings.NewReader(`{"name":"张三丰","phone":"1380013800","address":"`+dlAddress+`"}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "phone")
	code, ctype, body = s.do(t, http.MethodPut, "/api/v1/mp/cases/"+draft.ID+"/delivery", bob,
		strings.NewReader(`{"name":"李四","phone":"13900139000","address":"`+dlAddress+`"}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	c := s.dlExpressCase(t, alice, clerk, approver)
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/cases/"+c.ID+"/delivery", alice, nil)
	p := decodeParcel(t, code, body, http.StatusOK)
	ships := fake.Shipments()
	if p.Status != "ready" || p.Company != "测试快递" || len(ships) != 1 || p.Tracking != ships[0].Tracking ||
		ships[0].Recipient != dlName || ships[0].Phone != dlPhone || ships[0].Address != dlAddress {
		t.Fatalf("after approval the parcel is booked: %s; shipments %+v", body, ships)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/mp/parcels/"+p.ID, bob, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	// Dispatching again from the console changes nothing.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/dispatch", clerk, strings.NewReader(`{}`))
	if again := decodeParcel(t, code, body, http.StatusOK); again.Tracking != p.Tracking || len(fake.Shipments()) != 1 {
		t.Fatalf("dispatch again: %s", body)
	}

	// The 出件 window: the list (masked), the label, the assignment.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/parcels?status=ready", clerk, nil)
	if code != 200 || !strings.Contains(body, p.ID) || !strings.Contains(body, "138****8000") || !strings.Contains(body, "张**") ||
		strings.Contains(body, dlPhone) || strings.Contains(body, aliceID) || strings.Contains(body, "张三丰") {
		t.Fatalf("staff parcel list: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodGet, "/api/v1/staff/parcels/"+p.ID+"/label", clerk, nil)
	if code != 200 || ctype != "application/pdf" || !strings.HasPrefix(body, "%PDF-") {
		t.Fatalf("label: %d %s %.40q", code, ctype, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/couriers", clerk, nil)
	if code != 200 || !strings.Contains(body, zhaoID) || !strings.Contains(body, "钱师傅") {
		t.Fatalf("couriers: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/parcels/"+p.ID+"/assign", clerk, strings.NewReader(`{"courier":"`+zhaoID+`"}`))
	if a := decodeParcel(t, code, body, http.StatusOK); a.Courier != zhaoID {
		t.Fatalf("assign: %s", body)
	}

	// The couriers: only their own parcels, masked; the wrong one's scan
	// is refused, so is a scan of another label; nothing changes.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/courier/parcels", qian, nil)
	if code != 200 || strings.Contains(body, p.ID) {
		t.Fatalf("another courier's list: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/pickup", qian, strings.NewReader(`{"scan":"`+p.ID+`"}`))
	wantProblem(t, code, ctype, body, 403, "wrong_courier", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/pickup", zhao, strings.NewReader(`{"scan":"pc0000"}`))
	wantProblem(t, code, ctype, body, 422, "scan_mismatch", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/courier/parcels", zhao, nil)
	var mine struct{ Items []parcelBody }
	json.Unmarshal([]byte(body), &mine)
	if code != 200 || len(mine.Items) != 1 || mine.Items[0].Status != "ready" || mine.Items[0].RecipientName != "张**" ||
		mine.Items[0].Phone != "138****8000" || mine.Items[0].Address != dlAddress || strings.Contains(body, dlPhone) || strings.Contains(body, aliceID) {
		t.Fatalf("courier's list: %d %s", code, body)
	}

	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/pickup", zhao, strings.NewReader(`{"scan":"`+p.ID+`"}`))
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "picked_up" || got.TriesLeft != 5 {
		t.Fatalf("pick-up: %s", body)
	}
	deliveryCode := dlCode(t, outbox, p.ID, 1)
	if strings.Contains(body, deliveryCode) {
		t.Fatalf("the courier's answer holds the code: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/deliver", zhao, strings.NewReader(`{"code":"`+otherCode(deliveryCode, 1)+`"}`))
	if pr := wantProblem(t, code, ctype, body, 422, "delivery_code_wrong", "code"); !strings.Contains(pr.Detail, "还可尝试 4 次") {
		t.Fatalf("wrong code: %s", body)
	}
	wantNotInvited(t, outbox, review.EventParcel, p.ID)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/fail", zhao, strings.NewReader(`{"reason":"收件人不在家"}`))
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "failed_attempt" || got.TriesLeft != 4 {
		t.Fatalf("failed attempt: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/deliver", qian, strings.NewReader(`{"code":"`+deliveryCode+`"}`))
	wantProblem(t, code, ctype, body, 403, "wrong_courier", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/deliver", zhao, strings.NewReader(`{"code":"`+deliveryCode+`"}`))
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "delivered" {
		t.Fatalf("delivery: %s", body)
	}
	// Delivered: the citizen is invited to rate the delivery, once; a
	// second delivery of the same parcel is refused and invites nobody.
	if inv := wantInvitedOnce(t, s, outbox, review.EventParcel, p.ID); !strings.HasPrefix(inv.To, "citizen:") {
		t.Fatalf("invitation to rate the delivery goes to %q", inv.To)
	}
	if code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p.ID+"/deliver", zhao, strings.NewReader(`{"code":"`+deliveryCode+`"}`)); code < 400 {
		t.Fatalf("second delivery: %d %s", code, body)
	}
	wantInvitedOnce(t, s, outbox, review.EventParcel, p.ID)
	// 待评价: the delivery, then the case, with the tracking number; not Bob's.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/evaluations/pending", alice, nil)
	if pl := decodePending(t, code, body); pl.keys() != "parcel:"+p.ID+",case:"+c.ID || !strings.Contains(pl.Items[0].Title, p.Tracking) ||
		pl.Items[0].KindLabel != "证照寄送" || !strings.Contains(pl.Items[1].Title, c.Number) {
		t.Fatalf("alice's pending after delivery: %s", body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/evaluations/pending", bob, nil)
	if pl := decodePending(t, code, body); pl.keys() != "" {
		t.Fatalf("bob's pending: %s", body)
	}

	// The citizen saw every state: in the parcel's timeline and in WeChat.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/parcels/"+p.ID, alice, nil)
	p = decodeParcel(t, code, body, http.StatusOK)
	var states []string
	for _, e := range p.Timeline {
		states = append(states, e.Status)
	}
	if got, want := strings.Join(states, ","), "awaiting_certificate,ready,ready,picked_up,failed_attempt,delivered"; got != want || p.Status != "delivered" {
		t.Fatalf("citizen's timeline %s, want %s: %s", got, want, body)
	}
	var told []string
	for rev := 1; rev <= 10; rev++ {
		if m, err := outbox.GetMessage(t.Context(), fmt.Sprintf("parcel:%s:%d", p.ID, rev)); err == nil {
			told = append(told, m.Data["status"])
		}
	}
	if got, want := strings.Join(told, ","), "待出证,待揽收,待揽收,派送中,投递未成功,已签收"; got != want {
		t.Fatalf("WeChat messages %s, want %s", got, want)
	}

	// A second parcel: the first parcel's code, then four more wrong
	// codes, lock it for the courier and alert the center.
	c2 := s.dlExpressCase(t, alice, clerk, approver)
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/cases/"+c2.ID+"/delivery", alice, nil)
	p2 := decodeParcel(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/parcels/"+p2.ID+"/assign", clerk, strings.NewReader(`{"courier":"`+zhaoID+`"}`))
	decodeParcel(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p2.ID+"/pickup", zhao, strings.NewReader(`{"scan":"`+p2.ID+`"}`))
	decodeParcel(t, code, body, http.StatusOK)
	second := dlCode(t, outbox, p2.ID, 1)
	wrong := []string{deliveryCode}
	if deliveryCode == second {
		wrong[0] = otherCode(second, 2)
	}
	for i := 1; len(wrong) < 5; i++ {
		if w := otherCode(second, 10+i); w != deliveryCode {
			wrong = append(wrong, w)
		}
	}
	for i, w := range wrong {
		code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p2.ID+"/deliver", zhao, strings.NewReader(`{"code":"`+w+`"}`))
		if i < 4 {
			wantProblem(t, code, ctype, body, 422, "delivery_code_wrong", "code")
		} else {
			wantProblem(t, code, ctype, body, 423, "parcel_locked", "")
		}
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p2.ID+"/deliver", zhao, strings.NewReader(`{"code":"`+second+`"}`))
	wantProblem(t, code, ctype, body, 423, "parcel_locked", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/parcels?alert=true", clerk, nil)
	var alerts struct{ Items []parcelBody }
	json.Unmarshal([]byte(body), &alerts)
	if code != 200 || len(alerts.Items) != 1 || alerts.Items[0].ID != p2.ID || !strings.Contains(alerts.Items[0].Alert, "赵师傅") {
		t.Fatalf("the center's alerts: %d %s", code, body)
	}
	if actions := auditActions(t, s, s.admin(t)); !strings.Contains(actions, "parcel.code_locked") || !strings.Contains(actions, "parcel.pickup") {
		t.Fatalf("audit log lacks the lock or the refused pick-up: %s", actions)
	}
	// The courier brings it back; the clerk gives it to the other courier.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/courier/parcels/"+p2.ID+"/return", zhao, nil)
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "returned" {
		t.Fatalf("return: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/parcels/"+p2.ID+"/assign", clerk, strings.NewReader(`{"courier":"`+zhaoID+`"}`))
	wantProblem(t, code, ctype, body, 423, "parcel_locked", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/parcels/"+p2.ID, alice, nil)
	if got := decodeParcel(t, code, body, http.StatusOK); got.Status != "returned" || bytes.Contains([]byte(body), []byte(second)) {
		t.Fatalf("the citizen's returned parcel: %s", body)
	}
}

// TestDeliveryAfterConclusion: a citizen who chose the window changes
// their mind after conclusion; the courier company is down at first, so
// the parcel waits with the reason, and the clerk's dispatch books it.
func TestDeliveryAfterConclusion(t *testing.T) {
	fake := expresstest.New(t)
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_EXPRESS_URL"] = fake.URL()
	env["BANHAO_EXPRESS_KEY"] = expresstest.Key
	s := startServer(t, env)
	alice := s.mpLogin(t, "alice")
	s.bindRealName(t, alice, "张三丰", aliceID)
	s.createStaff(t, "clerk1", "clerk")
	s.createStaff(t, "approver1", "approver")
	clerk, approver := s.login(t, "clerk1", testPassword), s.login(t, "approver1", testPassword)

	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-sc-food-license"}`))
	c := decodeCase(t, code, body, http.StatusCreated)
	path := "/api/v1/mp/cases/" + c.ID
	for i, m := range c.Materials {
		if m.Status == "missing" {
			code, _, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, i), alice, testPNG(t, byte(20+i)))
			decodeCase(t, code, body, http.StatusCreated)
		}
	}
	code, _, body = s.do(t, http.MethodPost, path+"/submit", alice, strings.NewReader(`{}`))
	decodeCase(t, code, body, http.StatusOK)
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/dispatch", clerk, strings.NewReader(`{}`))
	wantProblem(t, code, ctype, body, 409, "no_certificate", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", clerk, strings.NewReader(`{}`))
	decodeCase(t, code, body, http.StatusOK)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/decide", approver, strings.NewReader(`{"approve":true}`))
	decodeCase(t, code, body, http.StatusOK)

	fake.FailNext(1, http.StatusServiceUnavailable)
	code, _, body = s.do(t, http.MethodPut, path+"/delivery", alice,
		strings.NewReader(fmt.Sprintf(`{"name":%q,"phone":%q,"address":%q}`, "张三丰", dlPhone, dlAddress)))
	if p := decodeParcel(t, code, body, http.StatusOK); p.Status != "awaiting_certificate" || p.Waiting == "" || p.Tracking != "" {
		t.Fatalf("address after conclusion while the company is down: %s", body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/dispatch", clerk, strings.NewReader(`{}`))
	if p := decodeParcel(t, code, body, http.StatusOK); p.Status != "ready" || p.Tracking == "" || p.Company != "中国邮政EMS" {
		t.Fatalf("dispatch once the company is back: %s", body)
	}
}
