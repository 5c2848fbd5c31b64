package cases

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
)

// Limits of what a case holds.
const (
	MaxSummaryRunes = 500
	MaxReasonRunes  = 300
	MaxProblems     = 50
)

// StartRequest opens a draft.
type StartRequest struct {
	Matter  string
	Channel catalog.Channel
	// Ticket is the ticket a window case is started from.
	Ticket string
}

// Start opens a draft case for a matter in force that offers the channel.
// The guide's materials are listed, and those the citizen's valid
// e-certificates can replace are attached at once, marked 免提交.
func (s *Service) Start(ctx context.Context, p Person, r StartRequest) (Case, error) {
	if p.Holder == "" {
		return Case{}, apperr.New(CodeRealName, "请先完成实名认证再申请")
	}
	m, err := s.matters.Matter(ctx, r.Matter)
	if apperr.Is(err, apperr.NotFound) {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "matter", Message: "没有这个事项"})
	}
	if err != nil {
		return Case{}, err
	}
	if m.Status != catalog.StatusActive {
		return Case{}, apperr.New(CodeMatterRetired, "该事项已停止办理")
	}
	if !m.HasChannel(r.Channel) {
		return Case{}, apperr.New(CodeChannel, channelMessage(r.Channel))
	}
	now := s.stamp()
	c := Case{
		ID:     "cs" + audit.NewID(now),
		Number: numberPrefix(m.Center) + now.In(s.location()).Format("060102") + randomDigits(6), QueryCode: randomDigits(6),
		Center: m.Center, Sector: m.Sector, Matter: m.Code, MatterName: m.Name, GuideVersion: m.Version,
		Applicant: p.Holder, Citizen: p.Citizen, Channel: r.Channel, Ticket: r.Ticket,
		State: StateDraft, StatutoryDays: m.StatutoryDays,
		CreatedAt: now, UpdatedAt: now, Rev: 1, History: []Event{},
	}
	if len(m.Delivery) > 0 {
		c.Form.Delivery = m.Delivery[0]
	}
	c.Materials = materialsOf(m, nil)
	s.attachCertificates(ctx, &c, now)
	for attempt := 0; ; attempt++ {
		err := s.store.CreateCase(ctx, c)
		if apperr.Is(err, apperr.Conflict) && attempt < 3 { // a number drawn twice
			c.Number = c.Number[:len(c.Number)-6] + randomDigits(6)
			continue
		}
		if err != nil {
			return Case{}, err
		}
		break
	}
	s.record(ctx, audit.Record{Actor: p.actor(), Center: c.Center, Action: "case.start", Subject: p.Holder, Target: "case:" + c.ID, Kiosk: p.Kiosk})
	return c, nil
}

// CodeRealName: applying needs a real-name identity.
const CodeRealName apperr.Code = "real_name_required"

func channelMessage(ch catalog.Channel) string {
	switch ch {
	case catalog.ChannelOnline:
		return "该事项暂不支持网上申请，请到窗口办理"
	case catalog.ChannelKiosk:
		return "该事项暂不支持自助终端申请，请到窗口或在小程序办理"
	}
	return "该事项不在窗口受理"
}

// materialsOf lists the guide's materials, keeping what the case already
// holds for materials of the same name (when a draft moves to a newer
// guide version).
func materialsOf(m catalog.Matter, held []Material) []Material {
	out := make([]Material, len(m.Materials))
	for i, g := range m.Materials {
		out[i] = Material{Name: g.Name, Required: g.Required, Pendable: g.Pendable, ECertType: g.ECertType, Status: MaterialMissing}
		for _, h := range held {
			if h.Name == g.Name && h.Status == MaterialProvided && (h.Source != SourceECert || h.ECert.Type == g.ECertType) {
				out[i].Status, out[i].Source, out[i].File, out[i].ECert = h.Status, h.Source, h.File, h.ECert
				out[i].ReusedFrom, out[i].Locked, out[i].ChangedAt = h.ReusedFrom, h.Locked, h.ChangedAt
				break
			}
		}
	}
	return out
}

// attachCertificates fills every missing material an e-certificate the
// applicant holds can replace (一次录入、大家共用). A library that cannot
// answer leaves the materials to be uploaded, never fails the case.
func (s *Service) attachCertificates(ctx context.Context, c *Case, now time.Time) {
	if s.cfg.Certificates == nil {
		return
	}
	want := false
	for _, m := range c.Materials {
		want = want || (m.ECertType != "" && m.Status == MaterialMissing)
	}
	if !want {
		return
	}
	held, err := s.cfg.Certificates.Held(ctx, c.Applicant, now)
	if err != nil {
		s.log.WarnContext(ctx, "e-certificate library unavailable; materials left to upload", "case", c.ID, "err", err)
		return
	}
	for i := range c.Materials {
		m := &c.Materials[i]
		if m.ECertType == "" || m.Status != MaterialMissing {
			continue
		}
		for _, e := range held {
			if e.Type == m.ECertType {
				e := e
				m.Status, m.Source, m.ECert, m.Locked, m.ChangedAt = MaterialProvided, SourceECert, &e, true, now
				break
			}
		}
	}
}

// own loads a case of p's, refusing (as not found) and auditing anyone
// else's.
func (s *Service) own(ctx context.Context, p Person, id string) (Case, error) {
	if !validID(id) {
		return Case{}, errNoCase()
	}
	c, err := s.store.GetCase(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if c.Applicant != p.Holder || p.Holder == "" {
		s.record(ctx, audit.Record{Actor: p.actor(), Center: c.Center, Action: "case.read", Subject: c.Applicant,
			Target: "case:" + c.ID, Outcome: audit.OutcomeDenied, Kiosk: p.Kiosk})
		return Case{}, errNoCase()
	}
	return c, nil
}

func validID(id string) bool { return strings.HasPrefix(id, "cs") && len(id) <= 64 }

// Case returns one of p's cases.
func (s *Service) Case(ctx context.Context, p Person, id string) (Case, error) {
	return s.own(ctx, p, id)
}

// Mine lists p's cases, newest first, limit per page, after the ID cursor.
func (s *Service) Mine(ctx context.Context, p Person, after string, limit int) ([]Case, string, error) {
	if p.Holder == "" {
		return nil, "", nil
	}
	if limit <= 0 || limit > 100 {
		limit = 20
	}
	cs, err := s.store.ListCases(ctx, Filter{Applicant: p.Holder, Order: NewestFirst, After: after, Limit: limit + 1})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(cs) > limit {
		cs = cs[:limit]
		next = cs[limit-1].ID
	}
	return cs, next, nil
}

// editable says whether the citizen may change the case's form and
// materials: while a draft or returned for correction.
func editable(c Case) bool { return c.State == StateDraft || c.State == StateReturned }

// SaveForm stores the form of a draft (or a returned case). rev, if not
// 0, is the revision the citizen edited: a save over a newer revision
// (made on another device) is a version conflict, not a silent loss.
func (s *Service) SaveForm(ctx context.Context, p Person, id string, rev int, f Form) (Case, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Case{}, err
	}
	summary, err := checkText("summary", f.Summary, false, MaxSummaryRunes)
	if err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if rev != 0 && rev != c.Rev {
			return apperr.New(apperr.VersionConflict, "办件已在其他设备上修改，请刷新后再保存")
		}
		if !editable(*c) {
			return errState(*c, "修改")
		}
		m, err := s.rebase(ctx, c)
		if err != nil {
			return err
		}
		if f.Delivery != "" && !slices.Contains(m.Delivery, f.Delivery) {
			return apperr.Fields(apperr.FieldError{Field: "delivery", Message: "该事项不提供这种出件方式"})
		}
		c.Form.Summary = summary
		if f.Delivery != "" {
			c.Form.Delivery = f.Delivery
		}
		return nil
	})
}

// rebase moves a draft onto the guide version in force (keeping the
// materials by name) and returns that version; a returned case stays on
// its version. A retired matter is refused.
func (s *Service) rebase(ctx context.Context, c *Case) (catalog.Matter, error) {
	m, err := s.matters.Matter(ctx, c.Matter)
	if err != nil {
		return catalog.Matter{}, err
	}
	if m.Status != catalog.StatusActive {
		return catalog.Matter{}, apperr.New(CodeMatterRetired, "该事项已停止办理，草稿无法提交")
	}
	if c.State == StateDraft && m.Version != c.GuideVersion {
		c.Materials = materialsOf(m, c.Materials)
		c.GuideVersion = m.Version
		c.StatutoryDays = m.StatutoryDays
		s.attachCertificates(ctx, c, s.stamp())
	}
	if c.State != StateDraft && m.Version != c.GuideVersion {
		return s.matters.MatterVersion(ctx, c.Matter, c.GuideVersion)
	}
	return m, nil
}

func materialIndex(c *Case, idx int) (*Material, error) {
	if idx < 0 || idx >= len(c.Materials) {
		return nil, apperr.Fields(apperr.FieldError{Field: "material", Message: "没有这项材料"})
	}
	return &c.Materials[idx], nil
}

// Upload stores a file for one material of p's editable case (or a
// pending 容缺 material of an accepted one: that supplies it). The type is
// sniffed from the content; a PDF with scripts, an empty or over-size
// file is refused and nothing is kept.
func (s *Service) Upload(ctx context.Context, p Person, id string, idx int, r io.Reader) (Case, error) {
	c, err := s.own(ctx, p, id)
	if err != nil {
		return Case{}, err
	}
	if err := canUpload(&c, idx); err != nil {
		return Case{}, err
	}
	f, err := s.storeFile(ctx, r)
	if err != nil {
		return Case{}, err
	}
	out, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if err := canUpload(c, idx); err != nil {
			return err
		}
		m := &c.Materials[idx]
		supplied := m.Status == MaterialPending
		m.Status, m.Source, m.File, m.ECert, m.ReusedFrom, m.ChangedAt = MaterialProvided, SourceUpload, &f, nil, "", now
		if supplied {
			s.supplied(c, now, m.Name, p)
		}
		return nil
	})
	if err != nil {
		_ = s.files.DeleteFile(context.WithoutCancel(ctx), f.ID)
		return Case{}, err
	}
	s.record(ctx, audit.Record{Actor: p.actor(), Center: out.Center, Action: "case.upload", Subject: p.Holder,
		Target: fmt.Sprintf("case:%s/material:%d", out.ID, idx), Kiosk: p.Kiosk})
	return out, nil
}

// canUpload says whether material idx of c may get a new file.
func canUpload(c *Case, idx int) error {
	m, err := materialIndex(c, idx)
	if err != nil {
		return err
	}
	switch {
	case m.Locked:
		return apperr.New(CodeMaterialLocked, "这项材料已由电子证照提供（免提交），无需上传")
	case editable(*c):
		return nil
	case (c.State == StateAccepted || c.State == StateSuspended) && m.Status == MaterialPending:
		return nil
	}
	return errState(*c, "上传材料")
}

// storeFile sniffs the content and streams it into the file store.
func (s *Service) storeFile(ctx context.Context, r io.Reader) (File, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return File{}, apperr.Wrap(apperr.Invalid, "上传中断，请重新上传", err)
	}
	head = head[:n]
	if n == 0 {
		return File{}, ErrFileEmpty()
	}
	ct, err := Sniff(head)
	if err != nil {
		return File{}, err
	}
	body := CheckedReader(io.MultiReader(bytes.NewReader(head), r), ct)
	return s.files.PutFile(ctx, ct, body, s.cfg.MaxFileSize)
}

// supplied records that a 容缺 material came in.
func (s *Service) supplied(c *Case, now time.Time, name string, p Person) {
	s.addEvent(c, now, "supply", OfficeOnline, "已补齐容缺材料："+name, "")
	if len(c.PendingMaterials()) == 0 {
		s.withdraw(context.Background(), supplyReminderID(c.ID))
	}
}

// Reusable lists, for each material of p's case, the files p gave for a
// material of the same name in earlier cases (newest first).
func (s *Service) Reusable(ctx context.Context, p Person, id string) (map[int][]Reuse, error) {
	c, err := s.own(ctx, p, id)
	if err != nil {
		return nil, err
	}
	earlier, err := s.store.ListCases(ctx, Filter{Applicant: p.Holder, Order: NewestFirst, Limit: 200})
	if err != nil {
		return nil, err
	}
	out := map[int][]Reuse{}
	for i, m := range c.Materials {
		if m.Locked {
			continue
		}
		for _, e := range earlier {
			if e.ID == c.ID {
				continue
			}
			for _, em := range e.Materials {
				if em.Name == m.Name && em.File != nil && !slices.ContainsFunc(out[i], func(r Reuse) bool { return r.File.SHA256 == em.File.SHA256 }) {
					out[i] = append(out[i], Reuse{Case: e.ID, Number: e.Number, File: *em.File})
				}
			}
		}
	}
	return out, nil
}

// Reuse is an earlier case's file that can be attached again.
type Reuse struct {
	Case   string `json:"case"`
	Number string `json:"number"`
	File   File   `json:"file"`
}

// ReuseMaterial attaches, with one tap, the file p gave for a material
// of the same name in an earlier case.
func (s *Service) ReuseMaterial(ctx context.Context, p Person, id string, idx int, from string) (Case, error) {
	c, err := s.own(ctx, p, id)
	if err != nil {
		return Case{}, err
	}
	if err := canUpload(&c, idx); err != nil {
		return Case{}, err
	}
	if from == id {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "from", Message: "不能复用本办件的材料"})
	}
	src, err := s.own(ctx, p, from)
	if err != nil {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "from", Message: "没有可复用的办件"})
	}
	var file *File
	for _, m := range src.Materials {
		if m.Name == c.Materials[idx].Name && m.File != nil {
			f := *m.File
			file = &f
		}
	}
	if file == nil {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "from", Message: "该办件没有这项材料可复用"})
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if err := canUpload(c, idx); err != nil {
			return err
		}
		m := &c.Materials[idx]
		supplied := m.Status == MaterialPending
		m.Status, m.Source, m.File, m.ECert, m.ReusedFrom, m.ChangedAt = MaterialProvided, SourceReuse, file, nil, src.Number, now
		if supplied {
			s.supplied(c, now, m.Name, p)
		}
		return nil
	})
}

// RemoveMaterial clears a material of an editable case.
func (s *Service) RemoveMaterial(ctx context.Context, p Person, id string, idx int) (Case, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		m, err := materialIndex(c, idx)
		if err != nil {
			return err
		}
		if m.Locked {
			return apperr.New(CodeMaterialLocked, "这项材料由电子证照提供（免提交），不能删除")
		}
		if !editable(*c) {
			return errState(*c, "修改材料")
		}
		*m = Material{Name: m.Name, Required: m.Required, Pendable: m.Pendable, ECertType: m.ECertType, Status: MaterialMissing, ChangedAt: now}
		return nil
	})
}

// missing lists every required material not in hand, as field errors,
// leaving out those the guide lets be supplied later when allowPending.
func missing(c *Case, allowPending bool) []apperr.FieldError {
	var out []apperr.FieldError
	for i, m := range c.Materials {
		if m.Required && m.Status == MaterialMissing && !(allowPending && m.Pendable) {
			out = append(out, apperr.FieldError{Field: fmt.Sprintf("materials[%d]", i), Message: "缺少必需材料：" + m.Name})
		}
	}
	return out
}

// errMissing is the pre-check's answer: every missing material at once.
func errMissing(fields []apperr.FieldError) error {
	return &apperr.Error{Code: CodeMaterialsMissing, Message: fmt.Sprintf("还缺少 %d 项必需材料，请一次补齐后再提交", len(fields)), Fields: fields}
}

// Submit sends a draft (or a corrected returned case) to the center. The
// pre-check lists every missing required material at once; materials
// the guide lets be supplied later (容缺) may be missing. A draft on an
// outdated guide version is moved to the version in force and refused
// once, so the citizen checks it.
func (s *Service) Submit(ctx context.Context, p Person, id string) (Case, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Case{}, err
	}
	return s.submit(ctx, id, OfficeOnline, "", p.actor())
}

func (s *Service) submit(ctx context.Context, id, office, staff, actor string) (Case, error) {
	var guideChanged bool
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if !editable(*c) {
			return errState(*c, "提交")
		}
		before := c.GuideVersion
		if _, err := s.rebase(ctx, c); err != nil {
			return err
		}
		if c.GuideVersion != before {
			guideChanged = true
			return nil // keep the moved draft, then refuse below
		}
		if fs := missing(c, true); len(fs) > 0 {
			return errMissing(fs)
		}
		if c.State == StateReturned && !c.AcceptedAt.IsZero() {
			// A correction asked for after acceptance: the clock resumes.
			c.State = StateAccepted
			resume(c, now)
			s.addEvent(c, now, "resubmit", office, "已补正材料，恢复审批计时", staff)
			return nil
		}
		c.State = StateSubmitted
		c.SubmittedAt = now
		note := "申请已提交，等待受理"
		if len(c.Notices) > 0 {
			note = "已按一次告知补正，重新提交"
		}
		s.addEvent(c, now, "submit", office, note, staff)
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	if guideChanged {
		return Case{}, apperr.New(CodeGuideChanged, "办事指南已更新，草稿已按新版指南调整，请核对材料后再提交")
	}
	s.record(ctx, audit.Record{Actor: actor, Center: c.Center, Action: "case.submit", Subject: c.Applicant, Target: "case:" + c.ID})
	return c, nil
}

// Withdraw lets the citizen withdraw a case not yet accepted.
func (s *Service) Withdraw(ctx context.Context, p Person, id string) (Case, error) {
	if _, err := s.own(ctx, p, id); err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateDraft && c.State != StateSubmitted && !(c.State == StateReturned && c.AcceptedAt.IsZero()) {
			return errState(*c, "撤回")
		}
		c.State = StateWithdrawn
		c.ClosedAt = now
		s.addEvent(c, now, "withdraw", OfficeOnline, "申请人已撤回申请", "")
		return nil
	})
}

// Lookup finds a case by its number and query code, for anyone holding
// the acceptance notice. A wrong code is the same "not found" as a wrong
// number.
func (s *Service) Lookup(ctx context.Context, number, code string) (Case, error) {
	if number == "" || len(number) > 32 || len(code) != 6 {
		return Case{}, errNoCase()
	}
	c, err := s.store.GetCaseByNumber(ctx, strings.ToUpper(number))
	if err != nil {
		return Case{}, err
	}
	if subtle.ConstantTimeCompare([]byte(c.QueryCode), []byte(code)) != 1 || c.State == StateDraft {
		return Case{}, errNoCase()
	}
	return c, nil
}

// MatterForKiosk checks that a matter belongs to the kiosk's center
// (kiosks serve their own hall only) and returns its code.
func (s *Service) MatterForKiosk(ctx context.Context, code, center string) (string, error) {
	m, err := s.matters.Matter(ctx, code)
	if err == nil && m.Center != center {
		err = apperr.New(apperr.NotFound, "")
	}
	if apperr.Is(err, apperr.NotFound) {
		return "", apperr.Fields(apperr.FieldError{Field: "matter", Message: "本中心没有这个事项"})
	}
	return m.Code, err
}
