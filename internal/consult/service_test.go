package consult_test

import (
	"bytes"
	"context"
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
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/internal/wechat"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// desk is a consultation service on real SQLite with the demo catalog,
// the 2026 calendar, WeChat's content check on the fake WeChat server,
// and a clock the test moves.
type desk struct {
	svc *consult.Service
	cat *catalog.Service
	wx  *wechattest.Fake
	mu  sync.Mutex
	now time.Time
}

func (d *desk) clock() time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.now
}

func (d *desk) set(t *testing.T, s string) {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Shanghai())
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	d.now = v
	d.mu.Unlock()
}

// checker asks the fake WeChat about a citizen "citizen:<openid>".
type checker struct{ wx *wechat.Client }

func (c checker) Check(ctx context.Context, citizen, text string) (bool, error) {
	return c.wx.MsgCheck(ctx, strings.TrimPrefix(citizen, "citizen:"), text)
}

func newDesk(t *testing.T) *desk {
	t.Helper()
	ctx := t.Context()
	d := &desk{}
	d.set(t, "2026-09-29 10:00") // a Tuesday; 1-8 October are holidays
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	al := audit.NewLog(sqlite.NewAuditStore(db), d.clock)
	d.cat = catalog.NewService(sqlite.NewCatalogStore(db), al, d.clock, log)
	b, err := os.ReadFile("../../assets/catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := catalog.ParseSeedBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.cat.LoadSeedIfEmpty(ctx, seed); err != nil {
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
	d.wx = wechattest.New(t)
	d.wx.RiskyWords("代开发票")
	wc, err := wechat.New(d.wx.Config())
	if err != nil {
		t.Fatal(err)
	}
	d.svc = consult.NewService(sqlite.NewConsultStore(db), d.cat, al, log, d.clock, consult.Config{
		Calendar: func() deadline.Calendar { return book }, Checker: checker{wc}, Reindexer: d.cat,
	})
	d.cat.SetSearchText(d.svc.SearchText)
	if err := d.cat.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	return d
}

var (
	alice = consult.Person{Citizen: "citizen:openid-alice", Holder: "id:alice"}
	bob   = consult.Person{Citizen: "citizen:openid-bob"}
	gjj   = consult.Staffer{ID: "st-gjj", Center: "hm", Sectors: []string{"housing-fund"}}
	conv  = consult.Staffer{ID: "st-conv", Center: "hm", Sectors: []string{"convenience"}}
	other = consult.Staffer{ID: "st-tax", Center: "hm", Sectors: []string{"tax"}}
)

func search(t *testing.T, d *desk, q string) []string {
	t.Helper()
	page, err := d.cat.Matters(t.Context(), catalog.Query{Center: "hm", Text: q})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range page.Items {
		out = append(out, m.Code)
	}
	return out
}

func TestAskReplyFollowUpConfirm(t *testing.T) {
	d := newDesk(t)
	ctx := t.Context()
	th, err := d.svc.Ask(ctx, alice, consult.AskRequest{Matter: "hm-gjj-withdraw-rent", Text: "租房提取要不要房东签字？", Channel: consult.ChannelMiniProgram})
	if err != nil {
		t.Fatal(err)
	}
	if th.Sector != "housing-fund" || th.State != consult.StateOpen || th.Messages[0].Held {
		t.Fatalf("asked: %+v", th)
	}
	// One working day from Tuesday 29 September: due at the end of Wednesday 30 September.
	st, ok := d.svc.ClockOf(th, d.clock())
	if !ok || st.DueDay.String() != "2026-09-30" {
		t.Errorf("reply due %v %v", st.DueDay, ok)
	}
	// Over the holiday the reply is late: red on 9 October.
	d.set(t, "2026-10-09 09:00")
	if st, _ := d.svc.ClockOf(th, d.clock()); st.Level != deadline.Red {
		t.Errorf("level on 9 October = %s", st.Level)
	}

	// Only the sector's staff see it; another's citizen neither.
	if _, err := d.svc.StaffGet(ctx, other, th.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("tax staff: %v", err)
	}
	if _, err := d.svc.Reply(ctx, other, th.ID, "不用"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("tax staff reply: %v", err)
	}
	if _, err := d.svc.Get(ctx, bob, th.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("bob reads alice's: %v", err)
	}
	list, err := d.svc.Worklist(ctx, gjj, nil)
	if err != nil || len(list) != 1 || list[0].ID != th.ID {
		t.Fatalf("worklist %v %v", list, err)
	}

	th, err = d.svc.Reply(ctx, gjj, th.ID, "不需要房东签字，带租赁合同和<b>发票</b>即可。")
	if err != nil {
		t.Fatal(err)
	}
	if th.State != consult.StateAnswered || th.FirstReplyAt.IsZero() || !th.DueAt.IsZero() {
		t.Errorf("answered: %+v", th)
	}
	if _, ok := d.svc.ClockOf(th, d.clock()); ok {
		t.Error("clock still running after the first reply")
	}
	// HTML is kept as typed: plain text.
	if th.Messages[1].Text != "不需要房东签字，带租赁合同和<b>发票</b>即可。" {
		t.Errorf("reply text %q", th.Messages[1].Text)
	}

	th, err = d.svc.FollowUp(ctx, alice, th.ID, "能帮忙代开发票吗")
	if err != nil {
		t.Fatal(err)
	}
	if th.State != consult.StateOpen || !th.Messages[2].Held {
		t.Errorf("risky follow-up not held: %+v", th.Messages[2])
	}
	if _, err := d.svc.Review(ctx, gjj, th.ID, 0, true); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("release of a message not held: %v", err)
	}
	th, err = d.svc.Review(ctx, gjj, th.ID, 2, true)
	if err != nil || th.Messages[2].Held || th.Messages[2].Rejected {
		t.Fatalf("release: %+v %v", th.Messages[2], err)
	}
	if _, err := d.svc.Confirm(ctx, alice, th.ID); !apperr.Is(err, consult.CodeThreadState) {
		t.Errorf("confirm while open: %v", err)
	}
	if th, err = d.svc.Reply(ctx, gjj, th.ID, "发票请到税务服务窗口代开。"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Confirm(ctx, bob, th.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("bob confirms: %v", err)
	}
	th, err = d.svc.Confirm(ctx, alice, th.ID)
	if err != nil || th.State != consult.StateClosed || th.ClosedBy != consult.ClosedConfirmed {
		t.Fatalf("confirm: %+v %v", th, err)
	}
	if _, err := d.svc.FollowUp(ctx, alice, th.ID, "还有一个问题"); !apperr.Is(err, consult.CodeThreadState) {
		t.Errorf("follow-up after close: %v", err)
	}

	// The citizen's list holds the thread, found by account or by holder.
	for _, p := range []consult.Person{alice, {Holder: "id:alice"}} {
		if mine, err := d.svc.Mine(ctx, p); err != nil || len(mine) != 1 {
			t.Errorf("Mine(%+v) = %d, %v", p, len(mine), err)
		}
	}
}

func TestGeneralQuestionGoesToTheConvenienceDesk(t *testing.T) {
	d := newDesk(t)
	th, err := d.svc.Ask(t.Context(), bob, consult.AskRequest{Center: "hm", Text: "周六上班吗？", Channel: consult.ChannelMiniProgram})
	if err != nil {
		t.Fatal(err)
	}
	if th.Sector != "convenience" || th.Matter != "" {
		t.Errorf("routed to %s", th.Sector)
	}
	if _, err := d.svc.Reply(t.Context(), conv, th.ID, "周六不上班。"); err != nil {
		t.Error(err)
	}
	if _, err := d.svc.PublishFAQ(t.Context(), conv, th.ID, 1, ""); !apperr.Is(err, consult.CodeNoMatter) {
		t.Errorf("FAQ of a general question: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	d := newDesk(t)
	ctx := t.Context()
	for name, req := range map[string]consult.AskRequest{
		"blank":      {Center: "hm", Text: "  "},
		"too long":   {Center: "hm", Text: strings.Repeat("问", consult.MaxTextRunes+1)},
		"control":    {Center: "hm", Text: "问\x00题"},
		"no center":  {Text: "问题"},
		"bad center": {Center: "nowhere", Text: "问题"},
		"bad matter": {Matter: "no-such-matter", Text: "问题"},
	} {
		if _, err := d.svc.Ask(ctx, alice, req); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := d.svc.Ask(ctx, consult.Person{}, consult.AskRequest{Center: "hm", Text: "问题"}); !apperr.Is(err, apperr.Unauthorized) {
		t.Errorf("anonymous: %v", err)
	}
	// Exactly the limit is fine.
	if _, err := d.svc.Ask(ctx, alice, consult.AskRequest{Center: "hm", Text: strings.Repeat("问", consult.MaxTextRunes)}); err != nil {
		t.Errorf("at the limit: %v", err)
	}
}

// A text the check cannot judge (WeChat refuses) is held, not dropped.
func TestCheckFailureHolds(t *testing.T) {
	d := newDesk(t)
	d.wx.FailNext(wechattest.MsgCheck, 1, 45009)
	th, err := d.svc.Ask(t.Context(), alice, consult.AskRequest{Center: "hm", Text: "你好"})
	if err != nil {
		t.Fatal(err)
	}
	if !th.Messages[0].Held {
		t.Error("unchecked text not held")
	}
	// Kiosk text (no mini-program account) is not sent to WeChat.
	n := len(d.wx.Checked())
	th, err = d.svc.Ask(t.Context(), consult.Person{Holder: "id:carol", Kiosk: "k1"}, consult.AskRequest{Center: "hm", Text: "代开发票", Channel: consult.ChannelKiosk})
	if err != nil || th.Messages[0].Held || len(d.wx.Checked()) != n {
		t.Errorf("kiosk question: %+v %v", th.Messages, err)
	}
}

func TestPublishedFAQIsSearchable(t *testing.T) {
	d := newDesk(t)
	ctx := t.Context()
	if got := search(t, d, "房东"); len(got) != 0 {
		t.Fatalf("before the FAQ, 房东 finds %v", got)
	}
	th, err := d.svc.Ask(ctx, alice, consult.AskRequest{Matter: "hm-gjj-withdraw-rent", Text: "要不要房东签字？"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Reply(ctx, gjj, th.ID, "不需要。"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.PublishFAQ(ctx, gjj, th.ID, 0, ""); !apperr.Is(err, apperr.Invalid) {
		t.Errorf("citizen message as FAQ: %v", err)
	}
	if _, err := d.svc.PublishFAQ(ctx, other, th.ID, 1, ""); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("other sector publishes: %v", err)
	}
	q, err := d.svc.PublishFAQ(ctx, gjj, th.ID, 1, "租房提取公积金要不要房东签字？")
	if err != nil {
		t.Fatal(err)
	}
	if q.Matter != "hm-gjj-withdraw-rent" || q.Answer != "不需要。" {
		t.Errorf("faq %+v", q)
	}
	for _, query := range []string{"房东", "fangdong", "fd 签字"} {
		got := search(t, d, query)
		if len(got) == 0 || got[0] != "hm-gjj-withdraw-rent" {
			t.Errorf("search %q = %v", query, got)
		}
	}
	faqs, err := d.svc.FAQs(ctx, "hm-gjj-withdraw-rent")
	if err != nil || len(faqs) != 1 {
		t.Errorf("FAQs %v %v", faqs, err)
	}
}

func TestQuietThreadsClose(t *testing.T) {
	d := newDesk(t)
	ctx := t.Context()
	th, err := d.svc.Ask(ctx, alice, consult.AskRequest{Center: "hm", Text: "问题"})
	if err != nil {
		t.Fatal(err)
	}
	open, err := d.svc.Ask(ctx, bob, consult.AskRequest{Center: "hm", Text: "另一个问题"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.svc.Reply(ctx, conv, th.ID, "答复"); err != nil {
		t.Fatal(err)
	}
	d.set(t, "2026-10-06 10:00")
	if n, err := d.svc.SweepQuiet(ctx); err != nil || n != 0 {
		t.Errorf("sweep after 7 days less a bit: %d %v", n, err)
	}
	d.set(t, "2026-10-06 10:01")
	if n, err := d.svc.SweepQuiet(ctx); err != nil || n != 1 {
		t.Errorf("sweep after 7 days: %d %v", n, err)
	}
	got, _ := d.svc.Get(ctx, alice, th.ID)
	if got.State != consult.StateClosed || got.ClosedBy != consult.ClosedQuiet {
		t.Errorf("quiet thread: %s %s", got.State, got.ClosedBy)
	}
	// An unanswered thread never closes by itself.
	if got, _ := d.svc.Get(ctx, bob, open.ID); got.State != consult.StateOpen {
		t.Errorf("open thread: %s", got.State)
	}
}
