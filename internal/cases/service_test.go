package cases_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
)

// office is a case service on a real SQLite database with the demo
// catalog, the shipped 2026 calendar, the real e-certificate library and
// staff accounts, and a clock the test moves.
type office struct {
	svc *cases.Service
	// mute is a service on the same stores that queues no messages: a
	// server that dies between storing a change and queuing its message.
	mute    *cases.Service
	cat     *catalog.Service
	ids     *identity.Service
	audit   *audit.Log
	outbox  notify.Store
	keys    *seal.Keyring
	lib     *certificate.Library
	dataDir string
	mu      sync.Mutex
	now     time.Time
}

func (o *office) clock() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now
}

// set moves the clock to a wall-clock time in Beijing, "2026-09-30 10:00".
func (o *office) set(t *testing.T, s string) {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	o.mu.Lock()
	o.now = v
	o.mu.Unlock()
}

func newOffice(t *testing.T) *office {
	t.Helper()
	ctx := context.Background()
	o := &office{dataDir: t.TempDir()}
	o.set(t, "2026-09-28 09:00")
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(o.dataDir, "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.audit = audit.NewLog(sqlite.NewAuditStore(db), o.clock)
	o.cat = catalog.NewService(sqlite.NewCatalogStore(db), o.audit, o.clock, log)
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
	cb, err := os.ReadFile("../../assets/calendar/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.Parse(bytes.NewReader(cb))
	if err != nil {
		t.Fatal(err)
	}
	book, err := calendar.NewBook(cal)
	if err != nil {
		t.Fatal(err)
	}
	o.keys, err = seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	o.lib = certificate.NewLibrary(sqlite.NewCertificateStore(db), o.keys, o.audit, log, o.clock, calendar.Shanghai(), nil)
	if _, err := o.lib.Import(ctx, "test", "test", []certificate.Record{
		{Type: "居民身份证", Number: aliceID, IDNumber: aliceID, Name: "张三丰", Issuer: "惠民县公安局", IssuedOn: "2020-01-01", ValidUntil: "长期"},
		{Type: "结婚证", Number: "J2008-1", IDNumber: aliceID, Name: "张三丰", Issuer: "惠民县民政局", IssuedOn: "2008-10-01"},
		// Expired: must not stand in for anything.
		{Type: "营业执照", Number: "9137-1", IDNumber: aliceID, Name: "张三丰", Issuer: "惠民县行政审批服务局", IssuedOn: "2010-01-01", ValidUntil: "2020-01-01"},
	}); err != nil {
		t.Fatal(err)
	}
	cfg := identity.DefaultConfig()
	cfg.Argon2 = identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1} // fast hashes for tests
	o.ids = identity.NewService(sqlite.NewIdentityStore(db), sqlite.NewIdentityStore(db), o.audit, log, o.clock, cfg)
	o.outbox = sqlite.NewOutboxStore(db)
	ob := notify.NewOutbox(o.outbox, nil, nil, log, o.clock, notify.OutboxConfig{})
	o.svc = cases.NewService(sqlite.NewCaseStore(db), sqlite.NewFileStore(db), o.cat, o.audit, log, o.clock, cases.Config{
		Calendar: func() deadline.Calendar { return book }, MaxFileSize: 64 << 10, Certificates: o.lib, Authorizer: o.ids, Notifier: ob, Issuer: o.lib,
	})
	o.mute = cases.NewService(sqlite.NewCaseStore(db), sqlite.NewFileStore(db), o.cat, o.audit, log, o.clock, cases.Config{
		Calendar: func() deadline.Calendar { return book }, MaxFileSize: 64 << 10, Certificates: o.lib, Authorizer: o.ids, Issuer: o.lib,
	})
	o.staff(t, "chief", "supervisor", "")
	return o
}

const (
	aliceID = "371621198001010012"
	bobID   = "37162119900215002X"
)

func (o *office) person(id string) cases.Person {
	return cases.Person{Holder: identity.HolderOf(o.keys, id), Citizen: "citizen:" + id[len(id)-4:]}
}

// staff creates an account and returns it as the case service sees it.
func (o *office) staff(t *testing.T, username, role, sector string) cases.Staffer {
	t.Helper()
	n := identity.NewStaff{Center: "hm", Username: username, Name: "测试", Roles: []identity.Role{identity.Role(role)}, Password: "correct horse 42"}
	if sector != "" {
		n.Sectors = []string{sector}
	}
	st, err := o.ids.CreateStaff(context.Background(), "test", n, identity.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	return cases.Staffer{ID: st.ID, Center: "hm", Sectors: st.Sectors, Clerk: role == "clerk", Approver: role == "approver", Supervisor: role == "supervisor"}
}

func pngBytes(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	img.Pix[0] = byte(seed)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("error = %v, want code %s", err, code)
	}
	e, _ := apperr.As(err)
	return e
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func materialNamed(t *testing.T, c cases.Case, prefix string) int {
	t.Helper()
	for i, m := range c.Materials {
		if strings.HasPrefix(m.Name, prefix) {
			return i
		}
	}
	t.Fatalf("no material %q in %s", prefix, c.Matter)
	return -1
}

// TestOneMatterFromDraftToConcluded is the issue's "done when": a housing
// fund loan from the mini-program, with two materials from e-certificates,
// one one-time notice, one 容缺 material supplied later, and the deadline
// colours changing on the way.
func TestOneMatterFromDraftToConcluded(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	clerk := o.staff(t, "clerk1", "clerk", "")
	approver := o.staff(t, "fund1", "approver", "housing-fund")

	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-gjj-loan", Channel: catalog.ChannelOnline}))
	id := materialNamed(t, c, "借款人及配偶居民身份证")
	marriage := materialNamed(t, c, "婚姻状况证明")
	contract := materialNamed(t, c, "购房合同")
	income := materialNamed(t, c, "收入证明")
	form := materialNamed(t, c, "借款申请书")
	for _, i := range []int{id, marriage} {
		m := c.Materials[i]
		if m.Source != cases.SourceECert || !m.Locked || m.Status != cases.MaterialProvided || m.ECert == nil || strings.Contains(m.ECert.Number, "1980") {
			t.Fatalf("material %s = %+v, want provided from a masked e-certificate, locked", m.Name, m)
		}
	}
	_, err := o.svc.Upload(ctx, alice, c.ID, id, bytes.NewReader(pngBytes(t, 1)))
	wantCode(t, err, cases.CodeMaterialLocked)

	// The pre-check lists every missing material at once (the pendable
	// income proof is not among them: it may be supplied later).
	_, err = o.svc.Submit(ctx, alice, c.ID)
	e := wantCode(t, err, cases.CodeMaterialsMissing)
	if len(e.Fields) != 2 || e.Fields[0].Field != fmt.Sprintf("materials[%d]", contract) || e.Fields[1].Field != fmt.Sprintf("materials[%d]", form) {
		t.Fatalf("pre-check fields = %+v, want the contract and the application form", e.Fields)
	}
	c = must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, contract, bytes.NewReader(pngBytes(t, 2))))
	c = must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 3))))
	c = must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	if c.State != cases.StateSubmitted {
		t.Fatalf("state = %s", c.State)
	}

	// One-time notice: the contract is unreadable.
	o.set(t, "2026-09-29 10:00")
	c = must[cases.Case](t)(o.svc.Return(ctx, clerk, c.ID, cases.ReturnRequest{Problems: []cases.Problem{{Material: contract, Reason: "购房合同照片模糊，请重新拍摄"}}}))
	if c.State != cases.StateReturned || len(c.Notices) != 1 {
		t.Fatalf("after return: %s, %d notices", c.State, len(c.Notices))
	}
	c = must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, contract, bytes.NewReader(pngBytes(t, 4))))
	c = must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))

	// A second notice may not raise the application form, unchanged since
	// the first: the first notice should have said so.
	o.set(t, "2026-09-30 09:30")
	_, err = o.svc.Return(ctx, clerk, c.ID, cases.ReturnRequest{Problems: []cases.Problem{{Material: form, Reason: "申请书未签字"}}})
	wantCode(t, err, cases.CodeNoticeRepeat)

	// Accept with the income proof pending (容缺) and the citizen's promise.
	_, err = o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{Pending: []int{income}})
	wantCode(t, err, apperr.Invalid) // no commitment
	_, err = o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{Pending: []int{form}, Commitment: "x"})
	wantCode(t, err, apperr.Invalid) // the form is provided: nothing to pend
	c = must[cases.Case](t)(o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{Pending: []int{income}, Commitment: "本人承诺10个工作日内补交收入证明"}))
	if c.State != cases.StateAccepted || c.Materials[income].Status != cases.MaterialPending {
		t.Fatalf("after accept: %s, income %s", c.State, c.Materials[income].Status)
	}
	// 5 working days from Wed 30 Sep 2026: due at the end of Tue 13 Oct.
	clk, ok := o.svc.ClockOf(c, o.clock())
	if !ok || clk.DueDay.String() != "2026-10-13" || clk.Level != deadline.Green {
		t.Fatalf("clock = %+v, want green, due 2026-10-13", clk)
	}
	o.set(t, "2026-10-12 10:00") // 3.4 of 5 days used
	if clk, _ = o.svc.ClockOf(c, o.clock()); clk.Level != deadline.Green {
		t.Fatalf("on 12 Oct level = %s, want green", clk.Level)
	}
	o.set(t, "2026-10-13 08:00") // the last day: over 80 % used
	if clk, _ = o.svc.ClockOf(c, o.clock()); clk.Level != deadline.Yellow {
		t.Fatalf("on 13 Oct level = %s, want yellow", clk.Level)
	}

	// The approver cannot conclude while the income proof is pending.
	_, err = o.svc.Decide(ctx, approver, c.ID, true, "", "")
	wantCode(t, err, cases.CodePendingMaterials)
	c = must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, income, bytes.NewReader(pngBytes(t, 5))))
	if len(c.PendingMaterials()) != 0 {
		t.Fatal("income still pending after supply")
	}
	o.set(t, "2026-10-14 09:00")
	if clk, _ = o.svc.ClockOf(c, o.clock()); clk.Level != deadline.Red || !clk.Overdue {
		t.Fatalf("on 14 Oct level = %s, want red", clk.Level)
	}
	c = must[cases.Case](t)(o.svc.Decide(ctx, approver, c.ID, true, "符合贷款条件", ""))
	if c.State != cases.StateApproved || c.ClosedAt.IsZero() {
		t.Fatalf("after decision: %s", c.State)
	}
	var actions []string
	for _, e := range c.History {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "submit,return,submit,accept,supply,approve" {
		t.Fatalf("timeline = %s", got)
	}

	// Every timeline line was pushed to the citizen through the outbox.
	pushed := 0
	for rev := 1; rev <= c.Rev; rev++ {
		m, err := o.outbox.GetMessage(ctx, fmt.Sprintf("case:%s:%d", c.ID, rev))
		if apperr.Is(err, apperr.NotFound) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != notify.KindCaseStatus || m.To != alice.Citizen || m.Data["number"] != c.Number {
			t.Fatalf("message %s = %+v", m.ID, m)
		}
		pushed++
	}
	if pushed != len(c.History) {
		t.Fatalf("%d case messages queued, want %d (one per timeline line)", pushed, len(c.History))
	}
}

// TestTwoClerksAcceptAtOnce: exactly one 受理 wins.
func TestTwoClerksAcceptAtOnce(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	clerks := []cases.Staffer{o.staff(t, "clerk1", "clerk", ""), o.staff(t, "clerk2", "clerk", "")}
	for round := range 5 {
		c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
		form := materialNamed(t, c, "犯罪记录查询申请表")
		must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, round))))
		must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = o.svc.Accept(ctx, clerks[i], c.ID, cases.AcceptRequest{})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else if !apperr.Is(err, cases.CodeCaseState) {
				t.Fatalf("loser's error = %v, want case_state", err)
			}
		}
		got := must[cases.Case](t)(o.svc.StaffCase(ctx, clerks[0], c.ID))
		accepts := 0
		for _, e := range got.History {
			if e.Action == "accept" {
				accepts++
			}
		}
		if won != 1 || accepts != 1 {
			t.Fatalf("round %d: %d accepts won, %d in history; want 1", round, won, accepts)
		}
	}
}

// TestBadUploads: lying, empty, over-size and scripted files are refused
// and leave the case and the file folder as they were.
func TestBadUploads(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-gjj-loan", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, c, "借款申请书")
	big := append(pngBytes(t, 1), bytes.Repeat([]byte{0}, 70<<10)...)
	pdfJS := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	for _, tc := range []struct {
		name string
		body []byte
		code apperr.Code
	}{
		{"a Windows program named .pdf", append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{1}, 600)...), cases.CodeFileType},
		{"HTML", []byte("<html><script>alert(1)</script></html>"), cases.CodeFileType},
		{"empty", nil, cases.CodeFileEmpty},
		{"over the limit", big, cases.CodeFileTooLarge},
		{"PDF with JavaScript", pdfJS, cases.CodePDFScript},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(tc.body))
			wantCode(t, err, tc.code)
			got := must[cases.Case](t)(o.svc.Case(ctx, alice, c.ID))
			if got.Rev != c.Rev || got.Materials[form].Status != cases.MaterialMissing {
				t.Fatalf("case changed: rev %d→%d, form %s", c.Rev, got.Rev, got.Materials[form].Status)
			}
		})
	}
	files := 0
	_ = filepath.WalkDir(filepath.Join(o.dataDir, "files"), func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files != 0 {
		t.Fatalf("%d files left in the files folder after refused uploads", files)
	}
	_, err := o.svc.Upload(ctx, alice, c.ID, 99, bytes.NewReader(pngBytes(t, 1)))
	wantCode(t, err, apperr.Invalid)
}

// TestAccessMatrix: citizens see only their cases; approvers only their
// sectors'; each refusal is audited.
func TestAccessMatrix(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice, bob := o.person(aliceID), o.person(bobID)
	clerk := o.staff(t, "clerk1", "clerk", "")
	taxman := o.staff(t, "tax1", "approver", "tax")
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, c, "犯罪记录查询申请表")
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 1))))

	_, err := o.svc.Case(ctx, bob, c.ID)
	wantCode(t, err, apperr.NotFound)
	_, _, err = o.svc.OpenMaterial(ctx, bob, c.ID, form)
	wantCode(t, err, apperr.NotFound)
	_, err = o.svc.Upload(ctx, bob, c.ID, form, bytes.NewReader(pngBytes(t, 2)))
	wantCode(t, err, apperr.NotFound)
	// Staff do not see a citizen's unsent draft.
	_, err = o.svc.StaffCase(ctx, clerk, c.ID)
	wantCode(t, err, apperr.NotFound)

	must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	must[cases.Case](t)(o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{}))
	_, err = o.svc.StaffCase(ctx, taxman, c.ID)
	wantCode(t, err, apperr.NotFound)
	_, err = o.svc.Decide(ctx, taxman, c.ID, true, "", "")
	wantCode(t, err, apperr.NotFound)
	_, _, err = o.svc.StaffMaterial(ctx, taxman, c.ID, form)
	wantCode(t, err, apperr.NotFound)

	rc, f, err := o.svc.StaffMaterial(ctx, clerk, c.ID, form)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, pngBytes(t, 1)) || f.ContentType != "image/png" {
		t.Fatalf("download: %d bytes of %s", len(got), f.ContentType)
	}

	recs, err := o.audit.List(ctx, audit.Filter{Subject: alice.Holder, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	denied, downloads := 0, 0
	for _, r := range recs {
		if r.Outcome == audit.OutcomeDenied {
			denied++
		}
		if r.Action == "case.material_download" {
			downloads++
		}
	}
	if denied < 5 || downloads != 1 {
		t.Fatalf("audit: %d denied reads, %d downloads; want ≥5 and 1", denied, downloads)
	}
}

// TestSupervisorOverride: a second notice on unchanged materials needs a
// supervisor's credentials, and is counted.
func TestSupervisorOverride(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	clerk := o.staff(t, "clerk1", "clerk", "")
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, c, "犯罪记录查询申请表")
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 1))))
	must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	must[cases.Case](t)(o.svc.Return(ctx, clerk, c.ID, cases.ReturnRequest{Problems: []cases.Problem{{Material: -1, Reason: "请填写联系电话"}}}))
	must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	second := cases.ReturnRequest{Problems: []cases.Problem{{Material: form, Reason: "申请表缺少签名"}}}
	_, err := o.svc.Return(ctx, clerk, c.ID, second)
	wantCode(t, err, cases.CodeNoticeRepeat)

	second.Override = &cases.OverrideRequest{Username: "chief", Password: "wrong password!", Reason: "首次告知遗漏"}
	_, err = o.svc.Return(ctx, clerk, c.ID, second)
	wantCode(t, err, apperr.Forbidden)
	second.Override = &cases.OverrideRequest{Username: "clerk1", Password: "correct horse 42", Reason: "首次告知遗漏"}
	_, err = o.svc.Return(ctx, clerk, c.ID, second) // a clerk cannot authorise
	wantCode(t, err, apperr.Forbidden)
	second.Override = &cases.OverrideRequest{Username: "chief", Password: "correct horse 42", Reason: "首次告知遗漏"}
	c = must[cases.Case](t)(o.svc.Return(ctx, clerk, c.ID, second))
	if c.Overrides() != 1 || c.State != cases.StateReturned {
		t.Fatalf("overrides = %d, state %s", c.Overrides(), c.State)
	}
}

// TestGuideChangedAndRetired: a draft follows the guide in force.
func TestGuideChangedAndRetired(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, c, "犯罪记录查询申请表")
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 1))))

	ed := catalog.Editor{Actor: "staff:admin", Centers: []string{"hm"}}
	m := must[catalog.Matter](t)(o.cat.Matter(ctx, "hm-ga-no-crime-record"))
	m.Materials = append(m.Materials, catalog.Material{Name: "近期免冠照片", Originals: 1, Required: true})
	m2 := must[catalog.Matter](t)(o.cat.ReviseMatter(ctx, m.Code, m.Version, m, ed))

	_, err := o.svc.Submit(ctx, alice, c.ID)
	wantCode(t, err, cases.CodeGuideChanged)
	c = must[cases.Case](t)(o.svc.Case(ctx, alice, c.ID))
	if c.GuideVersion != m2.Version || len(c.Materials) != len(m2.Materials) || c.Materials[form].Status != cases.MaterialProvided {
		t.Fatalf("draft not moved to version %d keeping its upload: %+v", m2.Version, c.Materials)
	}
	_, err = o.svc.Submit(ctx, alice, c.ID)
	e := wantCode(t, err, cases.CodeMaterialsMissing)
	if len(e.Fields) != 1 {
		t.Fatalf("missing = %+v, want only the new photo", e.Fields)
	}
	must[catalog.Matter](t)(o.cat.RetireMatter(ctx, m.Code, m2.Version, ed))
	_, err = o.svc.Submit(ctx, alice, c.ID)
	wantCode(t, err, cases.CodeMatterRetired)
	_, err = o.svc.Start(ctx, alice, cases.StartRequest{Matter: m.Code, Channel: catalog.ChannelOnline})
	wantCode(t, err, cases.CodeMatterRetired)
	_, err = o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-bdc-first", Channel: catalog.ChannelOnline})
	wantCode(t, err, cases.CodeChannel)
}

// TestClockPausesAndExtends: a suspension and a correction after
// acceptance move the due day; an extension adds days; all in history.
func TestClockPausesAndExtends(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	clerk := o.staff(t, "clerk1", "clerk", "")
	approver := o.staff(t, "police1", "approver", "convenience")
	chief := cases.Staffer{ID: "chief", Center: "hm", Supervisor: true}
	o.set(t, "2026-11-02 09:00") // a Monday
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, c, "犯罪记录查询申请表")
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 1))))
	must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	c = must[cases.Case](t)(o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{}))
	due := func(want string) {
		t.Helper()
		clk, ok := o.svc.ClockOf(c, o.clock())
		if !ok || clk.DueDay.String() != want {
			t.Fatalf("due day = %s, want %s", clk.DueDay, want)
		}
	}
	due("2026-11-03") // 1 working day

	// Suspended on the day of acceptance, resumed on Wednesday: Tuesday
	// and Wednesday do not count.
	o.set(t, "2026-11-02 11:00")
	c = must[cases.Case](t)(o.svc.Suspend(ctx, approver, c.ID, "需核查外地记录"))
	o.set(t, "2026-11-04 10:00")
	c = must[cases.Case](t)(o.svc.Resume(ctx, approver, c.ID))
	due("2026-11-05")

	_, err := o.svc.Extend(ctx, approver, c.ID, 2, "x")
	wantCode(t, err, apperr.Forbidden)
	_, err = o.svc.Extend(ctx, chief, c.ID, 0, "x")
	wantCode(t, err, apperr.Invalid)
	c = must[cases.Case](t)(o.svc.Extend(ctx, chief, c.ID, 2, "涉及跨省核查"))
	due("2026-11-09") // Fri 6 and Mon 9

	// A correction asked for by the back office pauses the clock until
	// the citizen resubmits; the case goes straight back to the approver.
	c = must[cases.Case](t)(o.svc.Return(ctx, approver, c.ID, cases.ReturnRequest{Problems: []cases.Problem{{Material: form, Reason: "请补充户籍地址"}}}))
	o.set(t, "2026-11-09 15:00")
	clk, _ := o.svc.ClockOf(c, o.clock())
	if !clk.Paused {
		t.Fatal("clock not paused while waiting for the correction")
	}
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, form, bytes.NewReader(pngBytes(t, 2))))
	c = must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	if c.State != cases.StateAccepted {
		t.Fatalf("resubmitted correction: state %s, want accepted", c.State)
	}
	due("2026-11-12") // Thu 5 – Mon 9 paused too: three counted days from Tue 10
	var actions []string
	for _, e := range c.History {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); got != "submit,accept,suspend,resume,extend,return,resubmit" {
		t.Fatalf("timeline = %s", got)
	}
}

// TestReuseAndLookup: a material given for an earlier case is reused with
// one tap; anyone with the number and query code follows the case.
func TestReuseAndLookup(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice, bob := o.person(aliceID), o.person(bobID)
	first := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	form := materialNamed(t, first, "犯罪记录查询申请表")
	first = must[cases.Case](t)(o.svc.Upload(ctx, alice, first.ID, form, bytes.NewReader(pngBytes(t, 7))))
	second := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	opts := must[map[int][]cases.Reuse](t)(o.svc.Reusable(ctx, alice, second.ID))
	if len(opts[form]) != 1 || opts[form][0].Case != first.ID {
		t.Fatalf("reusable = %+v", opts)
	}
	second = must[cases.Case](t)(o.svc.ReuseMaterial(ctx, alice, second.ID, form, first.ID))
	m := second.Materials[form]
	if m.Source != cases.SourceReuse || m.ReusedFrom != first.Number || m.File.SHA256 != first.Materials[form].File.SHA256 {
		t.Fatalf("reused material = %+v", m)
	}
	_, err := o.svc.ReuseMaterial(ctx, bob, second.ID, form, first.ID)
	wantCode(t, err, apperr.NotFound)

	second = must[cases.Case](t)(o.svc.Submit(ctx, alice, second.ID))
	got := must[cases.Case](t)(o.svc.Lookup(ctx, strings.ToLower(second.Number), second.QueryCode))
	if got.ID != second.ID {
		t.Fatal("lookup found another case")
	}
	wrong := "000000"
	if second.QueryCode == wrong {
		wrong = "111111"
	}
	_, err = o.svc.Lookup(ctx, second.Number, wrong)
	wantCode(t, err, apperr.NotFound)
	_, err = o.svc.Lookup(ctx, first.Number, first.QueryCode) // a draft is nobody's business
	wantCode(t, err, apperr.NotFound)
}

// TestWorklistViews: a clerk who is also a supervisor chooses between
// the cases to accept and the supervision board; a role one lacks is refused.
func TestWorklistViews(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	both := cases.Staffer{ID: "x", Center: "hm", Clerk: true, Supervisor: true}
	c := must[cases.Case](t)(o.svc.Start(ctx, alice, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
	must[cases.Case](t)(o.svc.Upload(ctx, alice, c.ID, materialNamed(t, c, "犯罪记录查询申请表"), bytes.NewReader(pngBytes(t, 1))))
	must[cases.Case](t)(o.svc.Submit(ctx, alice, c.ID))
	if l := must[[]cases.Case](t)(o.svc.Worklist(ctx, both, "", 0)); len(l) != 0 {
		t.Fatalf("default (board) lists %d cases, want 0 before acceptance", len(l))
	}
	if l := must[[]cases.Case](t)(o.svc.Worklist(ctx, both, cases.ViewAccept, 0)); len(l) != 1 || l[0].ID != c.ID {
		t.Fatalf("accept view = %d cases", len(l))
	}
	_, err := o.svc.Worklist(ctx, both, cases.ViewDecide, 0)
	wantCode(t, err, apperr.Forbidden)
	_, err = o.svc.Worklist(ctx, both, "everything", 0)
	wantCode(t, err, apperr.Invalid)
}

// TestApprovalIssuesCertificate: approving a case of a certificate-issuing
// matter puts the certificate in the holder's library, says on the
// timeline where it comes out, and is retried while the holder's name is
// not known yet.
func TestApprovalIssuesCertificate(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	clerk := o.staff(t, "clerk1", "clerk", "")
	approver := o.staff(t, "police1", "approver", "convenience")
	conclude := func(p cases.Person) cases.Case {
		t.Helper()
		c := must[cases.Case](t)(o.svc.Start(ctx, p, cases.StartRequest{Matter: "hm-ga-no-crime-record", Channel: catalog.ChannelOnline}))
		for i, m := range c.Materials {
			if m.Required && m.Status == cases.MaterialMissing {
				must[cases.Case](t)(o.svc.Upload(ctx, p, c.ID, i, bytes.NewReader(pngBytes(t, i))))
			}
		}
		must[cases.Case](t)(o.svc.SaveForm(ctx, p, c.ID, 0, cases.Form{Delivery: catalog.DeliveryKioskPrint}))
		must[cases.Case](t)(o.svc.Submit(ctx, p, c.ID))
		must[cases.Case](t)(o.svc.Accept(ctx, clerk, c.ID, cases.AcceptRequest{}))
		return must[cases.Case](t)(o.svc.Decide(ctx, approver, c.ID, true, "", ""))
	}
	alice := o.person(aliceID)
	c := conclude(alice)
	if c.CertPending || c.Certificate == nil || c.Certificate.Type != "无犯罪记录证明" {
		t.Fatalf("after approval: pending %v, certificate %+v", c.CertPending, c.Certificate)
	}
	last := c.History[len(c.History)-1]
	if last.Action != "certificate" || !strings.Contains(last.Note, "自助终端") {
		t.Fatalf("last timeline line = %+v", last)
	}
	opened := must[certificate.Opened](t)(o.lib.Open(ctx, c.Certificate.ID))
	if opened.HolderName != "张三丰" || opened.Number != "DZ"+c.Number || opened.Case != c.ID || opened.Holder != alice.Holder {
		t.Fatalf("issued certificate = %+v", opened)
	}
	held := must[[]cases.ECertRef](t)(o.lib.Held(ctx, alice.Holder, o.clock()))
	found := false
	for _, h := range held {
		found = found || h.ID == c.Certificate.ID
	}
	if !found {
		t.Fatal("the issued certificate is not in the holder's library")
	}

	// Bob has no account name and no ID card in the library: the case is
	// concluded, its certificate waits, and the retry issues it once his
	// ID card is imported.
	bob := o.person(bobID)
	c = conclude(bob)
	if c.State != cases.StateApproved || !c.CertPending || c.Certificate != nil {
		t.Fatalf("without a holder name: state %s, pending %v", c.State, c.CertPending)
	}
	if n := must[int](t)(o.svc.IssuePending(ctx)); n != 0 {
		t.Fatalf("IssuePending issued %d without a name", n)
	}
	if _, err := o.lib.Import(ctx, "test", "test", []certificate.Record{{Type: "居民身份证", Number: bobID, IDNumber: bobID, Name: "李四", Issuer: "惠民县公安局", IssuedOn: "2016-03-01", ValidUntil: "2036-03-01"}}); err != nil {
		t.Fatal(err)
	}
	if n := must[int](t)(o.svc.IssuePending(ctx)); n != 1 {
		t.Fatalf("IssuePending issued %d, want 1", n)
	}
	c = must[cases.Case](t)(o.svc.Case(ctx, bob, c.ID))
	if c.CertPending || c.Certificate == nil {
		t.Fatalf("after the retry: pending %v, certificate %+v", c.CertPending, c.Certificate)
	}
	// Revocation: once, audited; the library no longer offers it.
	must[certificate.Certificate](t)(o.lib.Revoke(ctx, "staff:chief", "hm", c.Certificate.ID, "信息有误"))
	_, err := o.lib.Revoke(ctx, "staff:chief", "hm", c.Certificate.ID, "again")
	wantCode(t, err, apperr.Conflict)
	for _, h := range must[[]cases.ECertRef](t)(o.lib.Held(ctx, bob.Holder, o.clock())) {
		if h.ID == c.Certificate.ID {
			t.Fatal("a revoked certificate is still offered for 免提交")
		}
	}
}

// TestReannounceAfterCrash: a submission stored by a server that died
// before queuing its message has none; at the next start Reannounce
// queues the message of every open case's last status change.
func TestReannounceAfterCrash(t *testing.T) {
	o := newOffice(t)
	ctx := context.Background()
	alice := o.person(aliceID)
	c := must[cases.Case](t)(o.mute.Start(ctx, alice, cases.StartRequest{Matter: "hm-gjj-loan", Channel: catalog.ChannelOnline}))
	for i, name := range []string{"购房合同", "借款申请书"} {
		c = must[cases.Case](t)(o.mute.Upload(ctx, alice, c.ID, materialNamed(t, c, name), bytes.NewReader(pngBytes(t, i+1))))
	}
	c = must[cases.Case](t)(o.mute.Submit(ctx, alice, c.ID))
	id := fmt.Sprintf("case:%s:%d", c.ID, c.Rev)
	if _, err := o.outbox.GetMessage(ctx, id); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("message %s before the restart: %v", id, err)
	}
	// A draft has nothing to announce.
	must[cases.Case](t)(o.mute.Start(ctx, alice, cases.StartRequest{Matter: "hm-gjj-loan", Channel: catalog.ChannelOnline}))
	for range 2 {
		if n, err := o.svc.Reannounce(ctx); err != nil || n != 1 {
			t.Fatalf("Reannounce = %d, %v; want the submitted case", n, err)
		}
	}
	m, err := o.outbox.GetMessage(ctx, id)
	if err != nil || m.To != alice.Citizen || m.Kind != notify.KindCaseStatus || m.Data["state"] != cases.StateSubmitted.Label() {
		t.Fatalf("message queued again: %+v, %v", m, err)
	}
	// A case closed just before the crash (withdrawn here) gets its last
	// message too, once.
	c = must[cases.Case](t)(o.mute.Withdraw(ctx, alice, c.ID))
	closed := fmt.Sprintf("case:%s:%d", c.ID, c.Rev)
	for range 2 {
		if n, err := o.svc.Reannounce(ctx); err != nil || n != 1 {
			t.Fatalf("Reannounce = %d, %v; want the withdrawn case", n, err)
		}
	}
	if m, err := o.outbox.GetMessage(ctx, closed); err != nil || m.Data["state"] != cases.StateWithdrawn.Label() {
		t.Fatalf("the closing message: %+v, %v", m, err)
	}
}
