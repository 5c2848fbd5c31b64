package complaint_test

import (
	"bytes"
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/sqlite"
)

type office struct {
	svc   *complaint.Service
	cases *sqlite.CaseStore
	audit *audit.Log
	now   time.Time
}

func newOffice(t *testing.T) *office {
	t.Helper()
	ctx := t.Context()
	o := &office{}
	var err error
	o.now, err = time.ParseInLocation("2006-01-02 15:04", "2026-11-23 10:00", calendar.Shanghai()) // a Monday
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return o.now }
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o.audit = audit.NewLog(sqlite.NewAuditStore(db), clock)
	cat := catalog.NewService(sqlite.NewCatalogStore(db), o.audit, clock, log)
	b, err := os.ReadFile("../../assets/catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := catalog.ParseSeedBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.LoadSeedIfEmpty(ctx, seed); err != nil {
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
	keys, err := seal.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	o.cases = sqlite.NewCaseStore(db)
	o.svc = complaint.NewService(sqlite.NewComplaintStore(db), cat, o.cases, keys, o.audit, log, clock,
		complaint.Config{Calendar: func() deadline.Calendar { return book }})
	return o
}

var (
	alice    = complaint.Person{Citizen: "citizen:alice", Holder: "id:alice"}
	bob      = complaint.Person{Citizen: "citizen:bob"}
	taxClerk = complaint.Staffer{ID: "st-tax", Center: "hm", Sectors: []string{"tax"}}
	taxOther = complaint.Staffer{ID: "st-tax2", Center: "hm", Sectors: []string{"tax"}}
	hotline  = complaint.Staffer{ID: "st-12345", Center: "hm", Sectors: []string{"hotline-12345"}}
	chief    = complaint.Staffer{ID: "st-chief", Center: "hm", Supervisor: true}
	gjjClerk = complaint.Staffer{ID: "st-gjj", Center: "hm", Sectors: []string{"housing-fund"}}
)

func TestComplaintAboutACaseAnsweredAndConfirmed(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	at := o.now.UTC()
	if err := o.cases.CreateCase(ctx, cases.Case{ID: "cs1", Number: "HM1", Applicant: "id:alice", Citizen: "citizen:alice",
		Center: "hm", Sector: "tax", State: cases.StateAccepted, CreatedAt: at, UpdatedAt: at, Rev: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := o.svc.File(ctx, bob, complaint.SourceMiniProgram, complaint.FileRequest{Case: "cs1", Text: "太慢"}); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("bob complains about alice's case: %v", err)
	}
	c, err := o.svc.File(ctx, alice, complaint.SourceMiniProgram, complaint.FileRequest{Case: "cs1", Text: "窗口态度<script>差</script>"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sector != "tax" || c.Case != "cs1" || c.State != complaint.StateReceived || c.Text != "窗口态度<script>差</script>" {
		t.Fatalf("filed %+v", c)
	}
	// Five working days from Monday 23 November: due at the end of Monday 30 November.
	if st, ok := o.svc.ClockOf(c, o.now); !ok || st.DueDay.String() != "2026-11-30" {
		t.Errorf("due %v", st.DueDay)
	}
	if _, err := o.svc.StaffGet(ctx, gjjClerk, c.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("another sector reads: %v", err)
	}
	if _, err := o.svc.Get(ctx, bob, c.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("bob reads: %v", err)
	}
	if taxClerk.Handles(c) || !chief.Handles(c) {
		t.Error("before claiming, only the supervisor handles it")
	}
	if _, err := o.svc.Confirm(ctx, alice, c.ID); !apperr.Is(err, complaint.CodeComplaintState) {
		t.Errorf("confirm before answer: %v", err)
	}
	c, err = o.svc.Answer(ctx, taxClerk, c.ID, "已约谈窗口人员并整改。")
	if err != nil {
		t.Fatal(err)
	}
	if c.Handler != taxClerk.ID || !taxClerk.Handles(c) || taxOther.Handles(c) {
		t.Errorf("handler %q", c.Handler)
	}
	if _, err := o.svc.Answer(ctx, taxOther, c.ID, "我也答复"); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("second clerk answers: %v", err)
	}
	if _, err := o.svc.Decide(ctx, taxClerk, c.ID, "办结"); !apperr.Is(err, apperr.Forbidden) {
		t.Errorf("clerk decides: %v", err)
	}
	c, err = o.svc.Confirm(ctx, alice, c.ID)
	if err != nil || c.State != complaint.StateClosed || c.ClosedBy != complaint.ClosedConfirmed {
		t.Fatalf("confirm %+v %v", c, err)
	}
	if _, err := o.svc.Decide(ctx, chief, c.ID, "办结"); !apperr.Is(err, complaint.CodeComplaintState) {
		t.Errorf("decide after close: %v", err)
	}
}

func TestHotlineComplaintCallerHidden(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c, err := o.svc.EnterHotline(ctx, hotline, complaint.HotlineRequest{CallerName: "王小明", CallerPhone: "13800138000", Text: "大厅空调不开"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sector != "hotline-12345" || c.Source != complaint.SourceHotline || strings.Contains(c.CallerName, "王") || strings.Contains(c.CallerPhone, "138") {
		t.Fatalf("entered %+v", c)
	}
	masked := o.svc.CallerOf(ctx, hotline, c)
	if !masked.Masked || masked.Name == "王小明" || masked.Phone == "13800138000" || masked.Phone == "" {
		t.Errorf("unclaimed caller shown: %+v", masked)
	}
	if c, err = o.svc.Claim(ctx, hotline, c.ID); err != nil {
		t.Fatal(err)
	}
	if full := o.svc.CallerOf(ctx, hotline, c); full.Masked || full.Name != "王小明" || full.Phone != "13800138000" {
		t.Errorf("handler sees %+v", full)
	}
	if _, err := o.svc.Claim(ctx, complaint.Staffer{ID: "st-x", Center: "hm", Sectors: []string{"hotline-12345"}}, c.ID); !apperr.Is(err, complaint.CodeComplaintState) {
		t.Errorf("second claim: %v", err)
	}
	c, err = o.svc.Decide(ctx, chief, c.ID, "来电人无法联系，已核实空调已修复")
	if err != nil || c.State != complaint.StateClosed || c.ClosedBy != complaint.ClosedSupervisor {
		t.Fatalf("decide %+v %v", c, err)
	}
	for name, req := range map[string]complaint.HotlineRequest{
		"bad phone": {CallerPhone: "<script>", Text: "x"},
		"too long":  {Text: strings.Repeat("长", complaint.MaxTextRunes+1)},
		"blank":     {Text: " "},
		"no sector": {Sector: "astrology", Text: "x"},
		"no case":   {Case: "HM0000000000", Text: "x"},
	} {
		if _, err := o.svc.EnterHotline(ctx, hotline, req); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestGeneralComplaintGoesToTheConvenienceDesk(t *testing.T) {
	o := newOffice(t)
	c, err := o.svc.File(t.Context(), complaint.Person{Holder: "id:carol", Kiosk: "k1"}, complaint.SourceKiosk, complaint.FileRequest{Center: "hm", Text: "排队太久"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Sector != "convenience" || c.Source != complaint.SourceKiosk {
		t.Errorf("routed %+v", c)
	}
	list, err := o.svc.Worklist(t.Context(), chief)
	if err != nil || len(list) != 1 {
		t.Errorf("supervisor worklist %v %v", list, err)
	}
}

func TestHotlineComplaintRouting(t *testing.T) {
	o := newOffice(t)
	ctx := t.Context()
	c, err := o.svc.EnterHotline(ctx, hotline, complaint.HotlineRequest{Sector: "tax", Text: "发票窗口态度差"})
	if err != nil || c.Sector != "tax" || c.Center != "hm" || c.Case != "" {
		t.Fatalf("by sector: %+v %v", c, err)
	}
	k := cases.Case{ID: "cs-hot", Number: "HM2611230001", Center: "hm", Sector: "housing-fund", Matter: "hm-gjj-withdraw-rent",
		Applicant: "id:alice", State: cases.StateAccepted, CreatedAt: o.now, UpdatedAt: o.now, Rev: 1}
	if err := o.cases.CreateCase(ctx, k); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"HM2611230001", "hm2611230001", "cs-hot"} {
		// The case's sector comes before the sector named.
		c, err = o.svc.EnterHotline(ctx, hotline, complaint.HotlineRequest{Case: ref, Sector: "tax", Text: "办件超期"})
		if err != nil || c.Case != "cs-hot" || c.Sector != "housing-fund" {
			t.Fatalf("by case %s: %+v %v", ref, c, err)
		}
	}
}
