package consult

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/notify"
)

// Matters is what consultation needs of the catalog.
type Matters interface {
	Matter(ctx context.Context, code string) (catalog.Matter, error)
	Sectors(ctx context.Context, center string) ([]catalog.Sector, error)
	Center(ctx context.Context, code string) (catalog.Center, error)
}

// ContentChecker is WeChat's text content check (msgSecCheck). citizen is
// the mini-program account ("citizen:<id>") whose text it is; risky
// means the text must be reviewed by staff before it counts.
type ContentChecker interface {
	Check(ctx context.Context, citizen, text string) (risky bool, err error)
}

// Reindexer rebuilds the catalog's search index (catalog.Service), so
// that a published FAQ is found at once.
type Reindexer interface {
	Refresh(ctx context.Context) error
}

// Notifier queues WeChat messages (notify.Outbox).
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
}

// Config holds what a deployment may tune.
type Config struct {
	// Calendar returns the working-day calendar in force.
	Calendar func() deadline.Calendar
	// ReplyDays is the first-reply limit in working days; 0 means 1.
	ReplyDays int
	// QuietDays closes an answered thread the citizen leaves alone this
	// many calendar days; 0 means 7.
	QuietDays int
	// GeneralSector is the sector code of the 综合 desk for questions
	// about no matter; empty picks the center's 综合便民 sector.
	GeneralSector string
	// Checker checks mini-program text; nil holds nothing.
	Checker ContentChecker
	// Reindexer makes published FAQs searchable; nil leaves it to the
	// periodic catalog refresh.
	Reindexer Reindexer
	// Notifier tells the citizen of a reply; nil sends nothing.
	Notifier Notifier
}

// Service runs consultations.
type Service struct {
	store   Store
	matters Matters
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
	engine  deadline.Engine
}

// NewService returns the consultation service.
func NewService(store Store, matters Matters, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.ReplyDays <= 0 {
		cfg.ReplyDays = 1
	}
	if cfg.QuietDays <= 0 {
		cfg.QuietDays = 7
	}
	return &Service{store: store, matters: matters, audit: al, log: log, now: now, cfg: cfg}
}

// Codes of refused consultation actions.
const (
	// CodeThreadState: the thread's state does not allow this.
	CodeThreadState apperr.Code = "consultation_state"
	// CodeNoMatter: an FAQ needs a thread about a matter.
	CodeNoMatter apperr.Code = "consultation_no_matter"
)

// Channels a question comes from.
const (
	ChannelMiniProgram = "mp"
	ChannelKiosk       = "kiosk"
)

// Person is a citizen acting on their own threads.
type Person struct {
	Holder  string
	Citizen string
	Kiosk   string
}

func (p Person) actor() string {
	if p.Citizen != "" {
		return p.Citizen
	}
	return p.Holder
}

func (p Person) owns(t Thread) bool {
	return (p.Citizen != "" && t.Citizen == p.Citizen) || (p.Holder != "" && t.Holder == p.Holder)
}

// Staffer is a staff member answering consultations.
type Staffer struct {
	ID         string
	Center     string
	Supervisor bool
	// Sectors limits where they act; empty means every sector.
	Sectors []string
}

func (st Staffer) may(t Thread) bool {
	if t.Center != st.Center {
		return false
	}
	if len(st.Sectors) == 0 {
		return true
	}
	for _, s := range st.Sectors {
		if s == t.Sector {
			return true
		}
	}
	return false
}

func errNoThread() error { return apperr.New(apperr.NotFound, "没有这个咨询") }

func errState(t Thread, doing string) error {
	return apperr.New(CodeThreadState, fmt.Sprintf("咨询当前状态为“%s”，不能%s", t.State.Label(), doing))
}

// CheckText validates a message: valid UTF-8, not blank, at most
// MaxTextRunes runes, no control characters but newlines and tabs.
func CheckText(field, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有无效字符"})
	case v == "":
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "不能为空"})
	case utf8.RuneCountInString(v) > MaxTextRunes:
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("最多 %d 个字", MaxTextRunes)})
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有控制字符"})
		}
	}
	return v, nil
}

func newID(prefix string) string {
	b := make([]byte, 14)
	rand.Read(b) // never fails since Go 1.24
	return prefix + hex.EncodeToString(b)
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) record(ctx context.Context, r audit.Record) {
	if s.audit == nil {
		return
	}
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
	}
}

// Location is the centers' time zone.
func (s *Service) Location() *time.Location { return s.cfg.Calendar().Location() }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// AskRequest is a new question.
type AskRequest struct {
	// Center is required unless Matter is given (the matter's center).
	Center  string
	Matter  string
	Text    string
	Channel string
}

// GeneralSectorOf returns the 综合 desk of a center: the configured
// code, else the sector named 综合便民 (or, failing that, any 综合 one).
func (s *Service) GeneralSectorOf(ctx context.Context, center string) (string, error) {
	if s.cfg.GeneralSector != "" {
		return s.cfg.GeneralSector, nil
	}
	secs, err := s.matters.Sectors(ctx, center)
	if err != nil {
		return "", err
	}
	for _, want := range []string{"综合便民", "综合"} {
		for _, sec := range secs {
			if strings.Contains(sec.Name, want) {
				return sec.Code, nil
			}
		}
	}
	return "", apperr.New(apperr.NotFound, "该中心没有综合咨询窗口")
}

// Ask opens a thread with the citizen's question. Text from the
// mini-program passes the content check first; a risky text (or one the
// check could not judge) is held for staff review.
func (s *Service) Ask(ctx context.Context, p Person, req AskRequest) (Thread, error) {
	if p.Citizen == "" && p.Holder == "" {
		return Thread{}, apperr.New(apperr.Unauthorized, "请先登录")
	}
	text, err := CheckText("text", req.Text)
	if err != nil {
		return Thread{}, err
	}
	now := s.stamp()
	t := Thread{ID: newID("qa"), Holder: p.Holder, Citizen: p.Citizen, Channel: req.Channel, State: StateOpen,
		CreatedAt: now, UpdatedAt: now, Rev: 1}
	if req.Matter != "" {
		m, err := s.matters.Matter(ctx, req.Matter)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return Thread{}, apperr.Fields(apperr.FieldError{Field: "matter", Message: "没有这个事项"})
			}
			return Thread{}, err
		}
		t.Center, t.Sector, t.Matter, t.MatterName = m.Center, m.Sector, m.Code, m.Name
	} else {
		if req.Center == "" {
			return Thread{}, apperr.Fields(apperr.FieldError{Field: "center", Message: "请选择服务中心"})
		}
		if _, err := s.matters.Center(ctx, req.Center); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return Thread{}, apperr.Fields(apperr.FieldError{Field: "center", Message: "没有这个服务中心"})
			}
			return Thread{}, err
		}
		sec, err := s.GeneralSectorOf(ctx, req.Center)
		if err != nil {
			return Thread{}, err
		}
		t.Center, t.Sector = req.Center, sec
	}
	t.Messages = []Message{{From: FromCitizen, Text: text, At: now, Held: s.held(ctx, p, text)}}
	t.Clock = deadline.Clock{Start: now, Days: s.cfg.ReplyDays}
	s.setDue(&t, now)
	if err := s.store.CreateThread(ctx, t); err != nil {
		return Thread{}, err
	}
	s.record(ctx, audit.Record{Actor: p.actor(), Action: "consult.ask", Target: t.ID, Center: t.Center})
	return t, nil
}

// held runs the content check on mini-program text.
func (s *Service) held(ctx context.Context, p Person, text string) bool {
	if s.cfg.Checker == nil || p.Citizen == "" {
		return false
	}
	risky, err := s.cfg.Checker.Check(ctx, p.Citizen, text)
	if err != nil {
		// Not dropped, not passed unchecked: a person reads it first.
		s.log.WarnContext(ctx, "content check failed; text held for review", "err", err)
		return true
	}
	return risky
}

func (s *Service) setDue(t *Thread, now time.Time) {
	if !t.FirstReplyAt.IsZero() || t.State == StateClosed {
		t.DueAt = time.Time{}
		return
	}
	st, err := s.engine.Status(s.cfg.Calendar(), t.Clock, now)
	if err != nil {
		s.log.Error("consultation clock unusable", "thread", t.ID, "err", err)
		t.DueAt = time.Time{}
		return
	}
	t.DueAt = st.Due.UTC()
}

// ClockOf is the first-reply deadline as seen now; ok is false once
// replied or closed.
func (s *Service) ClockOf(t Thread, now time.Time) (deadline.Status, bool) {
	if !t.FirstReplyAt.IsZero() || t.State == StateClosed {
		return deadline.Status{}, false
	}
	st, err := s.engine.Status(s.cfg.Calendar(), t.Clock, now)
	if err != nil {
		return deadline.Status{}, false
	}
	return st, true
}

// change applies fn to the stored thread and writes it back
// conditionally, retrying a lost race with fn deciding again.
func (s *Service) change(ctx context.Context, id string, fn func(t *Thread, now time.Time) error) (Thread, error) {
	for attempt := 0; ; attempt++ {
		t, err := s.store.GetThread(ctx, id)
		if err != nil {
			return Thread{}, err
		}
		now := s.stamp()
		if err := fn(&t, now); err != nil {
			return Thread{}, err
		}
		t.Rev++
		t.UpdatedAt = now
		s.setDue(&t, now)
		err = s.store.UpdateThread(ctx, t)
		if apperr.Is(err, apperr.VersionConflict) && attempt < 8 {
			continue
		}
		if err != nil {
			return Thread{}, err
		}
		return t, nil
	}
}

// Get returns a citizen's own thread; another's is not found.
func (s *Service) Get(ctx context.Context, p Person, id string) (Thread, error) {
	t, err := s.store.GetThread(ctx, id)
	if err != nil {
		return Thread{}, err
	}
	if !p.owns(t) {
		return Thread{}, errNoThread()
	}
	return t, nil
}

// Mine lists a citizen's threads, newest first.
func (s *Service) Mine(ctx context.Context, p Person) ([]Thread, error) {
	if p.Citizen == "" && p.Holder == "" {
		return nil, nil
	}
	return s.store.ListThreads(ctx, Filter{Holder: p.Holder, Citizen: p.Citizen, Order: NewestFirst, Limit: 100})
}

// FollowUp adds a citizen's message to their open or answered thread,
// which then waits for staff again.
func (s *Service) FollowUp(ctx context.Context, p Person, id, text string) (Thread, error) {
	text, err := CheckText("text", text)
	if err != nil {
		return Thread{}, err
	}
	if _, err := s.Get(ctx, p, id); err != nil {
		return Thread{}, err
	}
	held := s.held(ctx, p, text)
	t, err := s.change(ctx, id, func(t *Thread, now time.Time) error {
		if t.State == StateClosed {
			return errState(*t, "追问")
		}
		t.Messages = append(t.Messages, Message{From: FromCitizen, Text: text, At: now, Held: held})
		t.State = StateOpen
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: p.actor(), Action: "consult.follow_up", Target: id, Center: t.Center})
	}
	return t, err
}

// Confirm closes an answered thread at the citizen's word.
func (s *Service) Confirm(ctx context.Context, p Person, id string) (Thread, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return Thread{}, err
	}
	t, err := s.change(ctx, id, func(t *Thread, now time.Time) error {
		if t.State != StateAnswered {
			return errState(*t, "确认结束")
		}
		t.State, t.ClosedBy = StateClosed, ClosedConfirmed
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: p.actor(), Action: "consult.confirm", Target: id, Center: t.Center})
	}
	return t, err
}

// StaffGet returns a thread of the staff member's center and sectors.
func (s *Service) StaffGet(ctx context.Context, st Staffer, id string) (Thread, error) {
	t, err := s.store.GetThread(ctx, id)
	if err != nil {
		return Thread{}, err
	}
	if !st.may(t) {
		return Thread{}, errNoThread()
	}
	return t, nil
}

// Worklist lists the open and answered threads of the staff member's
// center and sectors, those whose first reply is due soonest first.
func (s *Service) Worklist(ctx context.Context, st Staffer, states []State) ([]Thread, error) {
	if len(states) == 0 {
		states = []State{StateOpen, StateAnswered}
	}
	return s.store.ListThreads(ctx, Filter{Center: st.Center, Sectors: st.Sectors, States: states, Order: ByDeadline, Limit: 200})
}

// Reply adds a staff answer; the thread then waits for the citizen.
func (s *Service) Reply(ctx context.Context, st Staffer, id, text string) (Thread, error) {
	text, err := CheckText("text", text)
	if err != nil {
		return Thread{}, err
	}
	if _, err := s.StaffGet(ctx, st, id); err != nil {
		return Thread{}, err
	}
	t, err := s.change(ctx, id, func(t *Thread, now time.Time) error {
		if t.State == StateClosed {
			return errState(*t, "答复")
		}
		t.Messages = append(t.Messages, Message{From: FromStaff, Text: text, At: now, StaffID: st.ID})
		t.State = StateAnswered
		if t.FirstReplyAt.IsZero() {
			t.FirstReplyAt = now
		}
		return nil
	})
	if err != nil {
		return Thread{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "consult.reply", Target: id, Center: t.Center})
	s.announce(ctx, t)
	return t, nil
}

// Review releases (ok) or rejects a held citizen message n.
func (s *Service) Review(ctx context.Context, st Staffer, id string, n int, ok bool) (Thread, error) {
	if _, err := s.StaffGet(ctx, st, id); err != nil {
		return Thread{}, err
	}
	t, err := s.change(ctx, id, func(t *Thread, now time.Time) error {
		if n < 0 || n >= len(t.Messages) || !t.Messages[n].Held {
			return apperr.New(apperr.NotFound, "没有待审核的这条留言")
		}
		t.Messages[n].Held = false
		t.Messages[n].Rejected = !ok
		return nil
	})
	if err == nil {
		action := "consult.release"
		if !ok {
			action = "consult.reject"
		}
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: action, Target: fmt.Sprintf("%s#%d", id, n), Center: t.Center})
	}
	return t, err
}

// SweepQuiet closes answered threads left alone for the quiet period and
// returns how many it closed.
func (s *Service) SweepQuiet(ctx context.Context) (int, error) {
	before := s.now().Add(-time.Duration(s.cfg.QuietDays) * 24 * time.Hour)
	list, err := s.store.ListThreads(ctx, Filter{States: []State{StateAnswered}, UpdatedBefore: before, Order: ByDeadline, Limit: 500})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, t := range list {
		_, err := s.change(ctx, t.ID, func(t *Thread, now time.Time) error {
			if t.State != StateAnswered || !t.UpdatedAt.Before(before) {
				return errState(*t, "自动结束")
			}
			t.State, t.ClosedBy = StateClosed, ClosedQuiet
			return nil
		})
		if apperr.Is(err, CodeThreadState) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// PublishFAQ makes staff message n of a thread about a matter an FAQ of
// that matter; question defaults to the thread's first question.
func (s *Service) PublishFAQ(ctx context.Context, st Staffer, id string, n int, question string) (FAQ, error) {
	t, err := s.StaffGet(ctx, st, id)
	if err != nil {
		return FAQ{}, err
	}
	if t.Matter == "" {
		return FAQ{}, apperr.New(CodeNoMatter, "只有关于具体事项的咨询才能发布为常见问题")
	}
	if n < 0 || n >= len(t.Messages) || t.Messages[n].From != FromStaff {
		return FAQ{}, apperr.Fields(apperr.FieldError{Field: "message", Message: "请选择一条工作人员的答复"})
	}
	if strings.TrimSpace(question) == "" {
		question = t.Messages[0].Text
		if t.Messages[0].Held || t.Messages[0].Rejected {
			return FAQ{}, apperr.Fields(apperr.FieldError{Field: "question", Message: "原问题未通过审核，请填写问题"})
		}
	}
	if question, err = CheckText("question", question); err != nil {
		return FAQ{}, err
	}
	q := FAQ{ID: newID("faq"), Center: t.Center, Matter: t.Matter, Question: question, Answer: t.Messages[n].Text,
		Thread: t.ID, StaffID: st.ID, At: s.stamp()}
	if err := s.store.CreateFAQ(ctx, q); err != nil {
		return FAQ{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "consult.faq", Target: q.ID, Center: t.Center})
	if s.cfg.Reindexer != nil {
		if err := s.cfg.Reindexer.Refresh(ctx); err != nil {
			s.log.WarnContext(ctx, "search index not refreshed after FAQ", "err", err)
		}
	}
	return q, nil
}

// FAQs returns the FAQs of a matter.
func (s *Service) FAQs(ctx context.Context, matter string) ([]FAQ, error) {
	return s.store.ListFAQs(ctx, matter)
}

// SearchText returns, by matter code, the FAQ questions and answers the
// catalog's search index includes.
func (s *Service) SearchText(ctx context.Context) (map[string][]string, error) {
	list, err := s.store.ListFAQs(ctx, "")
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for _, q := range list {
		out[q.Matter] = append(out[q.Matter], q.Question)
	}
	return out, nil
}

// announce tells the citizen of a reply through the outbox.
func (s *Service) announce(ctx context.Context, t Thread) {
	if s.cfg.Notifier == nil {
		return
	}
	to := t.Citizen
	if to == "" {
		to = t.Holder
	}
	subject := t.MatterName
	if subject == "" {
		subject = "综合咨询"
	}
	msg := notify.Message{ID: fmt.Sprintf("consult:%s:%d", t.ID, t.Rev), To: to, Kind: notify.KindConsultReply,
		Data: map[string]string{"subject": truncate(subject, 20), "state": t.State.Label(),
			"time": t.UpdatedAt.In(s.Location()).Format("2006-01-02 15:04")},
		Page: "pages/consult/index?id=" + t.ID}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}

func truncate(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return v
	}
	return string(r[:n-1]) + "…"
}
