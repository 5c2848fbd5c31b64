package cases

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"math/big"
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

// Matters is what cases need from the catalog.
type Matters interface {
	Matter(ctx context.Context, code string) (catalog.Matter, error)
	MatterVersion(ctx context.Context, code string, version int) (catalog.Matter, error)
	Sectors(ctx context.Context, center string) ([]catalog.Sector, error)
}

// Certificates is the citizen's e-certificate library (电子证照库).
type Certificates interface {
	// Held returns the e-certificates a person ("id:<blind index>") holds
	// that are valid on day at (not revoked, not expired).
	Held(ctx context.Context, holder string, at time.Time) ([]ECertRef, error)
}

// Issuer issues the e-certificate of an approved case of a matter that
// issues one (the certificate library); issuing the same case again
// returns the same certificate.
type Issuer interface {
	IssueForCase(ctx context.Context, c Case, m catalog.Matter) (ECertRef, error)
}

// Dispatcher hands the certificate of an approved case whose citizen
// chose express delivery (证照免费寄送) to the delivery service. It must be
// idempotent by case: it may be called again for the same case.
type Dispatcher interface {
	Dispatch(ctx context.Context, c Case) error
}

// Authorizer checks a supervisor's credentials for an override (the
// supervisor types their password at the clerk's screen).
type Authorizer interface {
	// AuthorizeSupervisor returns the staff ID of the supervisor of center
	// with these credentials; wrong credentials are apperr.Unauthorized.
	AuthorizeSupervisor(ctx context.Context, center, username, password string) (string, error)
}

// Notifier queues WeChat messages (package notify's Outbox).
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
	Withdraw(ctx context.Context, ids ...string) error
}

// Config holds the case rules a deployment may tune.
type Config struct {
	// Calendar returns the current working-day calendar (administrators
	// edit it, so it is read anew each time).
	Calendar func() deadline.Calendar
	// WarnAt is the share of the time limit after which a case turns
	// yellow; 0 means 0.8.
	WarnAt float64
	// SupplyDays is the working days given to supply 容缺 materials; 0 means 10.
	SupplyDays int
	// MaxFileSize caps one upload; 0 means 20 MiB.
	MaxFileSize int64
	// Certificates is the e-certificate library; nil attaches none.
	Certificates Certificates
	// Authorizer checks supervisor overrides; nil refuses every override.
	Authorizer Authorizer
	// Notifier pushes status changes; nil sends none.
	Notifier Notifier
	// Issuer issues certificates on approval; nil issues none (the case
	// stays marked as waiting for its certificate).
	Issuer Issuer
	// Dispatcher receives certificates to be sent by express; nil sends none.
	Dispatcher Dispatcher
}

// Service runs cases.
type Service struct {
	store   Store
	files   FileStore
	matters Matters
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	cfg     Config
	engine  deadline.Engine
}

// NewService returns the case service.
func NewService(store Store, files FileStore, matters Matters, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.SupplyDays <= 0 {
		cfg.SupplyDays = 10
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 20 << 20
	}
	return &Service{store: store, files: files, matters: matters, audit: al, log: log, now: now, cfg: cfg,
		engine: deadline.Engine{WarnAt: cfg.WarnAt}}
}

// MaxFileSize is the configured upload limit in bytes.
func (s *Service) MaxFileSize() int64 { return s.cfg.MaxFileSize }

// Codes of refused case actions.
const (
	// CodeCaseState: the case is not in a state that allows this.
	CodeCaseState apperr.Code = "case_state"
	// CodeMaterialsMissing: required materials are missing; every one is
	// listed in the problem's errors at once.
	CodeMaterialsMissing apperr.Code = "materials_missing"
	// CodeGuideChanged: the matter's guide changed since the draft was
	// started; the draft now follows the new version, to be checked.
	CodeGuideChanged apperr.Code = "guide_changed"
	// CodeMatterRetired: the matter is no longer handled.
	CodeMatterRetired apperr.Code = "matter_retired"
	// CodeChannel: the matter cannot be applied for on this channel.
	CodeChannel apperr.Code = "channel_not_offered"
	// CodeMaterialLocked: the material comes from an e-certificate.
	CodeMaterialLocked apperr.Code = "material_locked"
	// CodeNoticeRepeat: a second one-time notice lists problems the first
	// should have listed, without a supervisor's override.
	CodeNoticeRepeat apperr.Code = "notice_repeat"
	// CodeNotPendable: a material that the guide does not allow to be
	// supplied later was left out at acceptance.
	CodeNotPendable apperr.Code = "not_pendable"
	// CodePendingMaterials: the case cannot conclude while 容缺
	// materials are outstanding.
	CodePendingMaterials apperr.Code = "pending_materials"
	// CodeNotLate: supervision is for cases in warning or overdue.
	CodeNotLate apperr.Code = "not_late"
)

func errState(c Case, doing string) error {
	return apperr.New(CodeCaseState, fmt.Sprintf("办件当前状态为“%s”，不能%s", c.State.Label(), doing))
}

func errNoCase() error { return apperr.New(apperr.NotFound, "没有这个办件") }

// Person is a citizen acting on their own cases.
type Person struct {
	// Holder is "id:<blind index of the ID number>": their cases are
	// those with this Applicant.
	Holder string
	// Citizen is the mini-program account, "citizen:<id>", if acting there.
	Citizen string
	// Kiosk is the kiosk ID when acting at a kiosk.
	Kiosk string
}

func (p Person) actor() string {
	if p.Citizen != "" {
		return p.Citizen
	}
	return p.Holder
}

// Staffer is a staff member acting on cases.
type Staffer struct {
	ID     string
	Center string
	// Clerk, Approver, Supervisor and Admin are the roles held.
	Clerk, Approver, Supervisor, Admin bool
	// Sectors limits where they act; empty means every sector.
	Sectors []string
}

func (st Staffer) actor() string { return "staff:" + st.ID }

func (st Staffer) inSector(sector string) bool {
	if len(st.Sectors) == 0 {
		return true
	}
	for _, s := range st.Sectors {
		if s == sector {
			return true
		}
	}
	return false
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func (s *Service) record(ctx context.Context, r audit.Record) {
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
	}
}

// change applies fn to the stored case and writes it back conditionally,
// re-reading and re-applying when another change won the race; fn sees
// the case as stored and decides again, so a second clerk's 受理 finds
// the case accepted and is refused.
func (s *Service) change(ctx context.Context, id string, fn func(c *Case, now time.Time) error) (Case, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.store.GetCase(ctx, id)
		if err != nil {
			return Case{}, err
		}
		events := len(c.History)
		now := s.stamp()
		if err := fn(&c, now); err != nil {
			return Case{}, err
		}
		c.Rev++
		c.UpdatedAt = now
		s.setDue(&c, now)
		err = s.store.UpdateCase(ctx, c)
		if apperr.Is(err, apperr.VersionConflict) && attempt < 8 {
			continue
		}
		if err != nil {
			return Case{}, err
		}
		if len(c.History) > events {
			s.announce(ctx, c)
		}
		return c, nil
	}
}

// setDue keeps DueAt, the worklists' sort key, in step with the clock.
func (s *Service) setDue(c *Case, now time.Time) {
	if c.AcceptedAt.IsZero() || c.State.Closed() {
		c.DueAt = time.Time{}
		return
	}
	st, err := s.engine.Status(s.cfg.Calendar(), c.Clock, now)
	if err != nil {
		s.log.Error("case clock unusable", "case", c.ID, "err", err)
		c.DueAt = time.Time{}
		return
	}
	c.DueAt = st.Due.UTC()
}

// Clock is a case's deadline as seen now.
type Clock struct {
	deadline.Status
	// StatutoryDue is the end of the legal limit, if the matter has one.
	StatutoryDue time.Time `json:"statutory_due,omitzero"`
	// Supply is the 容缺 supply deadline, while materials are pending.
	Supply *deadline.Status `json:"supply,omitempty"`
}

// ClockOf returns the case's deadline status at now; ok is false before
// acceptance and after conclusion.
func (s *Service) ClockOf(c Case, now time.Time) (Clock, bool) {
	if c.AcceptedAt.IsZero() || c.State.Closed() {
		return Clock{}, false
	}
	cal := s.cfg.Calendar()
	st, err := s.engine.Status(cal, c.Clock, now)
	if err != nil {
		s.log.Error("case clock unusable", "case", c.ID, "err", err)
		return Clock{}, false
	}
	out := Clock{Status: st}
	if c.StatutoryDays > 0 {
		legal := c.Clock
		legal.Days = c.StatutoryDays
		if st, err := s.engine.Status(cal, legal, now); err == nil {
			out.StatutoryDue = st.Due
		}
	}
	if c.Pending != nil && len(c.PendingMaterials()) > 0 {
		if st, err := s.engine.Status(cal, c.Pending.Clock, now); err == nil {
			out.Supply = &st
		}
	}
	return out, true
}

func (s *Service) addEvent(c *Case, now time.Time, action, office, note, staff string) {
	c.History = append(c.History, Event{At: now, Action: action, State: c.State, Office: office, Note: note, Staff: staff})
}

// officeOf names the sector's office for timelines.
func (s *Service) officeOf(ctx context.Context, center, sector string) string {
	secs, err := s.matters.Sectors(ctx, center)
	if err == nil {
		for _, sec := range secs {
			if sec.Code == sector {
				return sec.Name
			}
		}
	}
	return sector
}

// OfficeWindow names the comprehensive acceptance window in timelines.
const OfficeWindow = "综合受理窗口"

// OfficeOnline names the citizen's own online actions in timelines.
const OfficeOnline = "申请人"

// checkText validates free text: valid UTF-8, no control characters
// except newlines, at most max runes, not blank if required.
func checkText(field, v string, required bool, max int) (string, error) {
	v = strings.TrimSpace(v)
	if !utf8.ValidString(v) {
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有无效字符"})
	}
	if required && v == "" {
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: "不能为空"})
	}
	if n := utf8.RuneCountInString(v); n > max {
		return "", apperr.Fields(apperr.FieldError{Field: field, Message: fmt.Sprintf("最多 %d 个字", max)})
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", apperr.Fields(apperr.FieldError{Field: field, Message: "含有控制字符"})
		}
	}
	return v, nil
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

// numberPrefix is the center's letters in case numbers: "hm" → "HM",
// "hm-lizhuang" → "HML".
func numberPrefix(center string) string {
	var b strings.Builder
	for i, part := range strings.Split(center, "-") {
		for j, r := range part {
			if r > unicode.MaxASCII || !unicode.IsLetter(r) {
				continue
			}
			if i == 0 || j == 0 {
				b.WriteRune(unicode.ToUpper(r))
			}
			if i > 0 {
				break
			}
		}
	}
	if b.Len() == 0 {
		return "BJ"
	}
	return b.String()
}
