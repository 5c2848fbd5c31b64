package complaint

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
)

// Matters is what complaints need of the catalog.
type Matters interface {
	Matter(ctx context.Context, code string) (catalog.Matter, error)
	Sectors(ctx context.Context, center string) ([]catalog.Sector, error)
	Center(ctx context.Context, code string) (catalog.Center, error)
}

// Cases finds the case a complaint is about: by ID, or by the number on
// its notices, which is what a hotline caller reads out.
type Cases interface {
	GetCase(ctx context.Context, id string) (cases.Case, error)
	GetCaseByNumber(ctx context.Context, number string) (cases.Case, error)
}

// Sealer seals personal data at rest (*seal.Keyring).
type Sealer interface {
	Seal(plaintext, context string) (string, error)
	Open(sealed, context string) (string, error)
}

// Notifier queues WeChat messages (notify.Outbox).
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
}

// Config holds what a deployment may tune.
type Config struct {
	Calendar func() deadline.Calendar
	// Days is the answer limit in working days; 0 means 5.
	Days int
	// Notifier tells the citizen of an answer; nil sends nothing.
	Notifier Notifier
}

// Service runs complaints.
type Service struct {
	store   Store
	matters Matters
	cases   Cases
	seal    Sealer
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
	engine  deadline.Engine
}

// NewService returns the complaint service.
func NewService(store Store, matters Matters, cs Cases, sealer Sealer, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.Days <= 0 {
		cfg.Days = 5
	}
	return &Service{store: store, matters: matters, cases: cs, seal: sealer, audit: al, log: log, now: now, cfg: cfg}
}

// CodeComplaintState: the complaint's state does not allow this.
const CodeComplaintState apperr.Code = "complaint_state"

// Person is a citizen acting on their own complaints.
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

func (p Person) owns(c Complaint) bool {
	return (p.Citizen != "" && c.Citizen == p.Citizen) || (p.Holder != "" && c.Holder == p.Holder)
}

// Staffer is a staff member handling complaints.
type Staffer struct {
	ID         string
	Center     string
	Supervisor bool
	Sectors    []string
}

func (st Staffer) may(c Complaint) bool {
	if c.Center != st.Center {
		return false
	}
	if len(st.Sectors) == 0 || st.Supervisor {
		return true
	}
	for _, s := range st.Sectors {
		if s == c.Sector {
			return true
		}
	}
	return false
}

// Handles reports whether st sees who complained: the handler and
// supervisors of the center.
func (st Staffer) Handles(c Complaint) bool {
	return c.Center == st.Center && (st.Supervisor || (c.Handler != "" && c.Handler == st.ID))
}

func errNoComplaint() error { return apperr.New(apperr.NotFound, "没有这个投诉") }

func errState(c Complaint, doing string) error {
	return apperr.New(CodeComplaintState, fmt.Sprintf("投诉当前状态为“%s”，不能%s", c.State.Label(), doing))
}

func checkText(field, v string, required bool, maxRunes int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有无效字符"})
	case required && v == "":
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "不能为空"})
	case utf8.RuneCountInString(v) > maxRunes:
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("最多 %d 个字", maxRunes)})
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有控制字符"})
		}
	}
	return v, nil
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

// FileRequest is a new complaint.
type FileRequest struct {
	Center string
	// Case is the case complained about, if any: the complaint goes to
	// its sector.
	Case string
	// Matter or Sector route it otherwise; neither means the 综合 desk.
	Matter string
	Sector string
	Text   string
}

// sectorLike returns the center's first sector whose name holds one of
// the words, in their order.
func (s *Service) sectorLike(ctx context.Context, center string, words ...string) (string, error) {
	secs, err := s.matters.Sectors(ctx, center)
	if err != nil {
		return "", err
	}
	for _, w := range words {
		for _, sec := range secs {
			if strings.Contains(sec.Name, w) || sec.Code == w {
				return sec.Code, nil
			}
		}
	}
	return "", apperr.New(apperr.NotFound, "该中心没有受理此类投诉的板块")
}

// route fills c.Center and c.Sector from the request.
func (s *Service) route(ctx context.Context, c *Complaint, req FileRequest, own func(cases.Case) bool) error {
	switch {
	case req.Case != "":
		k, err := s.cases.GetCase(ctx, req.Case)
		if err != nil || (own != nil && !own(k)) {
			if err == nil || apperr.Is(err, apperr.NotFound) {
				return apperr.Fields(apperr.FieldError{Field: "case", Message: "没有这个办件"})
			}
			return err
		}
		c.Center, c.Sector, c.Case = k.Center, k.Sector, k.ID
		return nil
	case req.Matter != "":
		m, err := s.matters.Matter(ctx, req.Matter)
		if err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return apperr.Fields(apperr.FieldError{Field: "matter", Message: "没有这个事项"})
			}
			return err
		}
		c.Center, c.Sector = m.Center, m.Sector
		return nil
	}
	if req.Center == "" {
		return apperr.Fields(apperr.FieldError{Field: "center", Message: "请选择服务中心"})
	}
	if _, err := s.matters.Center(ctx, req.Center); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Fields(apperr.FieldError{Field: "center", Message: "没有这个服务中心"})
		}
		return err
	}
	c.Center = req.Center
	if req.Sector != "" {
		sec, err := s.sectorLike(ctx, req.Center, req.Sector)
		if err != nil {
			return apperr.Fields(apperr.FieldError{Field: "sector", Message: "没有这个板块"})
		}
		c.Sector = sec
		return nil
	}
	sec, err := s.sectorLike(ctx, req.Center, "综合便民", "综合")
	c.Sector = sec
	return err
}

func (s *Service) start(c *Complaint, now time.Time) {
	c.ID = newID()
	c.State = StateReceived
	c.CreatedAt, c.UpdatedAt, c.Rev = now, now, 1
	c.Clock = deadline.Clock{Start: now, Days: s.cfg.Days}
	s.setDue(c, now)
}

func newID() string {
	b := make([]byte, 14)
	rand.Read(b) // never fails since Go 1.24
	return "cp" + hex.EncodeToString(b)
}

// File stores a citizen's complaint from the mini-program or a kiosk.
func (s *Service) File(ctx context.Context, p Person, source Source, req FileRequest) (Complaint, error) {
	if p.Citizen == "" && p.Holder == "" {
		return Complaint{}, apperr.New(apperr.Unauthorized, "请先登录")
	}
	text, err := checkText("text", req.Text, true, MaxTextRunes)
	if err != nil {
		return Complaint{}, err
	}
	c := Complaint{Holder: p.Holder, Citizen: p.Citizen, Source: source, Text: text}
	own := func(k cases.Case) bool {
		return (p.Holder != "" && k.Applicant == p.Holder) || (p.Citizen != "" && k.Citizen == p.Citizen)
	}
	if err := s.route(ctx, &c, req, own); err != nil {
		return Complaint{}, err
	}
	s.start(&c, s.stamp())
	if err := s.store.CreateComplaint(ctx, c); err != nil {
		return Complaint{}, err
	}
	s.record(ctx, audit.Record{Actor: p.actor(), Action: "complaint.file", Target: "complaint:" + c.ID, Center: c.Center, Kiosk: p.Kiosk})
	return c, nil
}

// HotlineRequest is a complaint received by the 12345 hotline.
type HotlineRequest struct {
	CallerName  string
	CallerPhone string
	// Case is the case's ID or number (办件编号), optional.
	Case string
	// Sector is the sector code the complaint is about, optional; the
	// case's sector comes first.
	Sector string
	Text   string
}

var phonePattern = regexp.MustCompile(`^[0-9-]{5,20}$`)

// EnterHotline stores a 12345 hotline complaint entered by staff of the
// center; it goes to the case's sector, else the 12345热线承办 sector.
// The caller's name and phone are sealed.
func (s *Service) EnterHotline(ctx context.Context, st Staffer, req HotlineRequest) (Complaint, error) {
	text, err := checkText("text", req.Text, true, MaxTextRunes)
	if err != nil {
		return Complaint{}, err
	}
	name, err := checkText("caller_name", req.CallerName, false, 30)
	if err != nil {
		return Complaint{}, err
	}
	phone := strings.TrimSpace(req.CallerPhone)
	if phone != "" && !phonePattern.MatchString(phone) {
		return Complaint{}, apperr.Fields(apperr.FieldError{Field: "caller_phone", Message: "电话号码格式不正确"})
	}
	c := Complaint{Source: SourceHotline, Text: text, EnteredBy: st.ID}
	caseRef := strings.TrimSpace(req.Case)
	if len(caseRef) > 100 {
		return Complaint{}, apperr.Fields(apperr.FieldError{Field: "case", Message: "没有这个办件"})
	}
	if caseRef != "" {
		if k, err := s.cases.GetCaseByNumber(ctx, strings.ToUpper(caseRef)); err == nil {
			caseRef = k.ID
		} else if !apperr.Is(err, apperr.NotFound) {
			return Complaint{}, err
		}
	}
	switch {
	case caseRef != "":
		if err := s.route(ctx, &c, FileRequest{Case: caseRef}, nil); err != nil {
			return Complaint{}, err
		}
		if c.Center != st.Center {
			return Complaint{}, apperr.Fields(apperr.FieldError{Field: "case", Message: "没有这个办件"})
		}
	case strings.TrimSpace(req.Sector) != "":
		c.Center = st.Center
		if err := s.route(ctx, &c, FileRequest{Center: st.Center, Sector: strings.TrimSpace(req.Sector)}, nil); err != nil {
			return Complaint{}, err
		}
	default:
		c.Center = st.Center
		if c.Sector, err = s.sectorLike(ctx, st.Center, "12345", "综合便民"); err != nil {
			return Complaint{}, err
		}
	}
	s.start(&c, s.stamp())
	if name != "" {
		if c.CallerName, err = s.seal.Seal(name, "complaint:"+c.ID+":caller_name"); err != nil {
			return Complaint{}, err
		}
	}
	if phone != "" {
		if c.CallerPhone, err = s.seal.Seal(phone, "complaint:"+c.ID+":caller_phone"); err != nil {
			return Complaint{}, err
		}
	}
	if err := s.store.CreateComplaint(ctx, c); err != nil {
		return Complaint{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "complaint.hotline", Target: "complaint:" + c.ID, Center: c.Center})
	return c, nil
}

// Caller is a hotline caller as staff see them.
type Caller struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	// Masked says whether Name and Phone are masked.
	Masked bool `json:"masked"`
}

// CallerOf opens a hotline caller's name and phone: in full for the
// handling staff (the reading is audited), masked for anyone else.
func (s *Service) CallerOf(ctx context.Context, st Staffer, c Complaint) Caller {
	if c.CallerName == "" && c.CallerPhone == "" {
		return Caller{}
	}
	var out Caller
	if v, err := s.seal.Open(c.CallerName, "complaint:"+c.ID+":caller_name"); err == nil && c.CallerName != "" {
		out.Name = v
	}
	if v, err := s.seal.Open(c.CallerPhone, "complaint:"+c.ID+":caller_phone"); err == nil && c.CallerPhone != "" {
		out.Phone = v
	}
	if st.Handles(c) {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "complaint.caller_read", Target: "complaint:" + c.ID,
			Center: c.Center, Purpose: "处理投诉"})
		return out
	}
	out.Name, out.Phone, out.Masked = identity.MaskName(out.Name), identity.MaskMobile(out.Phone), true
	if out.Name == "" && out.Phone == "" {
		out.Masked = true
	}
	return out
}

func (s *Service) setDue(c *Complaint, now time.Time) {
	if !c.AnsweredAt.IsZero() || c.State == StateClosed {
		c.DueAt = time.Time{}
		return
	}
	st, err := s.engine.Status(s.cfg.Calendar(), c.Clock, now)
	if err != nil {
		s.log.Error("complaint clock unusable", "complaint", c.ID, "err", err)
		c.DueAt = time.Time{}
		return
	}
	c.DueAt = st.Due.UTC()
}

// ClockOf is the answer deadline as seen now; ok is false once answered.
func (s *Service) ClockOf(c Complaint, now time.Time) (deadline.Status, bool) {
	if !c.AnsweredAt.IsZero() || c.State == StateClosed {
		return deadline.Status{}, false
	}
	st, err := s.engine.Status(s.cfg.Calendar(), c.Clock, now)
	if err != nil {
		return deadline.Status{}, false
	}
	return st, true
}

func (s *Service) change(ctx context.Context, id string, fn func(c *Complaint, now time.Time) error) (Complaint, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.store.GetComplaint(ctx, id)
		if err != nil {
			return Complaint{}, err
		}
		now := s.stamp()
		if err := fn(&c, now); err != nil {
			return Complaint{}, err
		}
		c.Rev++
		c.UpdatedAt = now
		s.setDue(&c, now)
		err = s.store.UpdateComplaint(ctx, c)
		if apperr.Is(err, apperr.VersionConflict) && attempt < 8 {
			continue
		}
		if err != nil {
			return Complaint{}, err
		}
		return c, nil
	}
}

// Get returns a citizen's own complaint; another's is not found.
func (s *Service) Get(ctx context.Context, p Person, id string) (Complaint, error) {
	c, err := s.store.GetComplaint(ctx, id)
	if err != nil {
		return Complaint{}, err
	}
	if !p.owns(c) {
		return Complaint{}, errNoComplaint()
	}
	return c, nil
}

// Mine lists a citizen's complaints, newest first.
func (s *Service) Mine(ctx context.Context, p Person) ([]Complaint, error) {
	if p.Citizen == "" && p.Holder == "" {
		return nil, nil
	}
	return s.store.ListComplaints(ctx, Filter{Holder: p.Holder, Citizen: p.Citizen, Limit: 100})
}

// Confirm closes an answered complaint at the citizen's word.
func (s *Service) Confirm(ctx context.Context, p Person, id string) (Complaint, error) {
	if _, err := s.Get(ctx, p, id); err != nil {
		return Complaint{}, err
	}
	c, err := s.change(ctx, id, func(c *Complaint, now time.Time) error {
		if c.State != StateAnswered {
			return errState(*c, "确认办结")
		}
		c.State, c.ClosedBy = StateClosed, ClosedConfirmed
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: p.actor(), Action: "complaint.confirm", Target: "complaint:" + id, Center: c.Center})
	}
	return c, err
}

// StaffGet returns a complaint of the staff member's center and sectors.
func (s *Service) StaffGet(ctx context.Context, st Staffer, id string) (Complaint, error) {
	c, err := s.store.GetComplaint(ctx, id)
	if err != nil {
		return Complaint{}, err
	}
	if !st.may(c) {
		return Complaint{}, errNoComplaint()
	}
	return c, nil
}

// Worklist lists the open complaints of the staff member's sectors by deadline.
func (s *Service) Worklist(ctx context.Context, st Staffer) ([]Complaint, error) {
	f := Filter{Center: st.Center, Sectors: st.Sectors, States: []State{StateReceived, StateAnswered}, ByDeadline: true, Limit: 200}
	if st.Supervisor {
		f.Sectors = nil
	}
	return s.store.ListComplaints(ctx, f)
}

// Claim makes st the complaint's handler, who then sees the complainant.
func (s *Service) Claim(ctx context.Context, st Staffer, id string) (Complaint, error) {
	if _, err := s.StaffGet(ctx, st, id); err != nil {
		return Complaint{}, err
	}
	c, err := s.change(ctx, id, func(c *Complaint, now time.Time) error {
		if c.State == StateClosed {
			return errState(*c, "承办")
		}
		if c.Handler != "" && c.Handler != st.ID {
			return apperr.New(CodeComplaintState, "该投诉已由其他工作人员承办")
		}
		c.Handler = st.ID
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "complaint.claim", Target: "complaint:" + id, Center: c.Center})
	}
	return c, err
}

// Answer records the handling staff's answer (claiming an unclaimed
// complaint); the complaint then waits for the citizen's confirmation.
func (s *Service) Answer(ctx context.Context, st Staffer, id, text string) (Complaint, error) {
	text, err := checkText("answer", text, true, MaxTextRunes)
	if err != nil {
		return Complaint{}, err
	}
	if _, err := s.StaffGet(ctx, st, id); err != nil {
		return Complaint{}, err
	}
	c, err := s.change(ctx, id, func(c *Complaint, now time.Time) error {
		if c.State == StateClosed {
			return errState(*c, "答复")
		}
		if c.Handler != "" && c.Handler != st.ID && !st.Supervisor {
			return apperr.New(apperr.Forbidden, "该投诉已由其他工作人员承办")
		}
		if c.Handler == "" {
			c.Handler = st.ID
		}
		c.Answer, c.State = text, StateAnswered
		if c.AnsweredAt.IsZero() {
			c.AnsweredAt = now
		}
		return nil
	})
	if err != nil {
		return Complaint{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "complaint.answer", Target: "complaint:" + id, Center: c.Center})
	s.announce(ctx, c)
	return c, nil
}

// Decide closes a complaint by a supervisor's decision (e.g. the citizen
// cannot be reached, or disputes an answer the center stands by).
func (s *Service) Decide(ctx context.Context, st Staffer, id, decision string) (Complaint, error) {
	if !st.Supervisor {
		return Complaint{}, apperr.New(apperr.Forbidden, "只有督办人员可以决定办结投诉")
	}
	decision, err := checkText("decision", decision, true, MaxTextRunes)
	if err != nil {
		return Complaint{}, err
	}
	if _, err := s.StaffGet(ctx, st, id); err != nil {
		return Complaint{}, err
	}
	c, err := s.change(ctx, id, func(c *Complaint, now time.Time) error {
		if c.State == StateClosed {
			return errState(*c, "办结")
		}
		c.State, c.ClosedBy, c.Decision = StateClosed, ClosedSupervisor, decision
		return nil
	})
	if err != nil {
		return Complaint{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Action: "complaint.decide", Target: "complaint:" + id, Center: c.Center})
	s.announce(ctx, c)
	return c, nil
}

func (s *Service) announce(ctx context.Context, c Complaint) {
	to := c.Citizen
	if to == "" {
		to = c.Holder
	}
	if s.cfg.Notifier == nil || to == "" {
		return
	}
	msg := notify.Message{ID: fmt.Sprintf("complaint:%s:%d", c.ID, c.Rev), To: to, Kind: notify.KindComplaintStatus,
		Data: map[string]string{"state": c.State.Label(), "time": c.UpdatedAt.In(s.Location()).Format("2006-01-02 15:04")},
		Page: "pages/complaint/index?id=" + c.ID}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}
