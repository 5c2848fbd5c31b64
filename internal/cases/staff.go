package cases

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/deadline"
)

func errRole(doing string) error {
	return apperr.New(apperr.Forbidden, "您的岗位不能"+doing)
}

// staffCase loads a case a staff member may see: their center, and for
// approvers without the clerk or supervisor role, their sectors. Anything
// else is refused as not found, and audited.
func (s *Service) staffCase(ctx context.Context, st Staffer, id string) (Case, error) {
	if !validID(id) {
		return Case{}, errNoCase()
	}
	c, err := s.store.GetCase(ctx, id)
	if err != nil {
		return Case{}, err
	}
	if !s.maysee(st, c) {
		s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.read", Subject: c.Applicant,
			Target: "case:" + c.ID, Outcome: audit.OutcomeDenied})
		return Case{}, errNoCase()
	}
	return c, nil
}

// maysee is the staff side of the access matrix: a case of their center
// (not a citizen's unsent draft); approvers without another role only in
// their sectors.
func (s *Service) maysee(st Staffer, c Case) bool {
	if c.Center != st.Center || c.State == StateDraft && c.Channel != catalog.ChannelWindow {
		return false
	}
	if st.Supervisor || st.Admin {
		return true
	}
	if st.Clerk {
		return true
	}
	return st.Approver && st.inSector(c.Sector)
}

// StaffCase returns a case to a staff member allowed to see it.
func (s *Service) StaffCase(ctx context.Context, st Staffer, id string) (Case, error) {
	return s.staffCase(ctx, st, id)
}

// StartAtWindow opens a case for the person at the clerk's window, from
// their ticket's holder. The clerk then records the materials seen on
// paper and submits and accepts in one sitting.
func (s *Service) StartAtWindow(ctx context.Context, st Staffer, holder, ticket, matter string) (Case, error) {
	if !st.Clerk {
		return Case{}, errRole("在窗口发起申请")
	}
	if holder == "" {
		return Case{}, apperr.New(CodeRealName, "该排队号未实名，请申请人在自助终端刷身份证后取号，或在窗口读取身份证")
	}
	m, err := s.matters.Matter(ctx, matter)
	if err == nil && m.Center != st.Center {
		err = apperr.New(apperr.NotFound, "")
	}
	if apperr.Is(err, apperr.NotFound) {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "matter", Message: "本中心没有这个事项"})
	}
	if err != nil {
		return Case{}, err
	}
	c, err := s.Start(ctx, Person{Holder: holder}, StartRequest{Matter: matter, Channel: catalog.ChannelWindow, Ticket: ticket})
	if err != nil {
		return Case{}, err
	}
	s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.start_window", Subject: holder, Target: "case:" + c.ID})
	return c, nil
}

// MarkPaper records that the clerk saw a material's paper original at
// the window (or clears that mark with seen false).
func (s *Service) MarkPaper(ctx context.Context, st Staffer, id string, idx int, seen bool) (Case, error) {
	if !st.Clerk {
		return Case{}, errRole("核验材料")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		m, err := materialIndex(c, idx)
		if err != nil {
			return err
		}
		if m.Locked {
			return apperr.New(CodeMaterialLocked, "这项材料已由电子证照提供（免提交）")
		}
		if c.State != StateDraft && c.State != StateSubmitted && c.State != StateReturned {
			return errState(*c, "核验材料")
		}
		if seen {
			m.Status, m.Source, m.File, m.ECert, m.ReusedFrom, m.ChangedAt = MaterialProvided, SourcePaper, nil, nil, "", now
		} else if m.Source == SourcePaper {
			*m = Material{Name: m.Name, Required: m.Required, Pendable: m.Pendable, ECertType: m.ECertType, Status: MaterialMissing, ChangedAt: now}
		}
		return nil
	})
}

// SubmitAtWindow submits a window case the clerk filled in.
func (s *Service) SubmitAtWindow(ctx context.Context, st Staffer, id string) (Case, error) {
	if !st.Clerk {
		return Case{}, errRole("提交申请")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	return s.submit(ctx, id, OfficeWindow, st.ID, st.actor())
}

// AcceptRequest is a clerk's 受理, possibly 容缺.
type AcceptRequest struct {
	// Pending lists materials accepted as missing (容缺), each of which the
	// guide must allow to be supplied later.
	Pending []int
	// Commitment is the citizen's promise to supply them (required with Pending).
	Commitment string
}

// Accept accepts a submitted case (受理): the deadline clock starts, and
// the case goes to the back office of the matter's sector (按责转办).
// Every required material must be in hand, except those accepted as
// pending, which the guide must allow and the citizen must promise.
func (s *Service) Accept(ctx context.Context, st Staffer, id string, r AcceptRequest) (Case, error) {
	if !st.Clerk {
		return Case{}, errRole("受理办件")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	commitment, err := checkText("commitment", r.Commitment, len(r.Pending) > 0, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	var office string
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateSubmitted {
			return errState(*c, "受理")
		}
		pending := map[int]bool{}
		for i, idx := range r.Pending {
			m, err := materialIndex(c, idx)
			if err != nil {
				return apperr.Fields(apperr.FieldError{Field: fmt.Sprintf("pending[%d]", i), Message: "没有这项材料"})
			}
			if m.Status == MaterialProvided {
				return apperr.Fields(apperr.FieldError{Field: fmt.Sprintf("pending[%d]", i), Message: m.Name + "已提供，无需容缺"})
			}
			if !m.Pendable {
				return apperr.New(CodeNotPendable, "“"+m.Name+"”不是可容缺的材料，不能容缺受理")
			}
			pending[idx] = true
		}
		var fs []apperr.FieldError
		for i, m := range c.Materials {
			if m.Required && m.Status == MaterialMissing && !pending[i] {
				fs = append(fs, apperr.FieldError{Field: fmt.Sprintf("materials[%d]", i), Message: "缺少必需材料：" + m.Name})
			}
		}
		if len(fs) > 0 {
			return errMissing(fs)
		}
		m, err := s.matters.MatterVersion(ctx, c.Matter, c.GuideVersion)
		if err != nil {
			return err
		}
		c.State = StateAccepted
		c.AcceptedAt = now
		c.Clock = deadline.Clock{Start: now, Days: promisedDays(m, c.Green)}
		note := fmt.Sprintf("已受理，承诺 %d 个工作日内办结，转%s审批", c.Clock.Days, s.officeOf(ctx, c.Center, c.Sector))
		if len(pending) > 0 {
			names := []string{}
			for idx := range c.Materials {
				if pending[idx] {
					c.Materials[idx].Status = MaterialPending
					c.Materials[idx].ChangedAt = now
					names = append(names, c.Materials[idx].Name)
				}
			}
			c.Pending = &Pending{Commitment: commitment, At: now, Clock: deadline.Clock{Start: now, Days: s.cfg.SupplyDays}}
			note += fmt.Sprintf("；容缺受理，请于 %d 个工作日内补齐：%s", s.cfg.SupplyDays, joinNames(names))
		}
		office = OfficeWindow
		s.addEvent(c, now, "accept", office, note, st.ID)
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	if c.Pending != nil {
		s.remindSupply(ctx, c)
	}
	s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.accept", Subject: c.Applicant, Target: "case:" + c.ID})
	return c, nil
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += "、"
		}
		out += n
	}
	return out
}

// promisedDays is the promised limit, or the green channel's own limit
// when the case is in it and the matter has one. A matter done on the
// spot (即办, 0 days) is due by the end of the next working day at the
// latest: the clock counts whole working days after acceptance.
func promisedDays(m catalog.Matter, green bool) int {
	days := m.PromisedDays
	if green && m.GreenDays > 0 && m.GreenDays < m.PromisedDays {
		days = m.GreenDays
	}
	return max(days, 1)
}

// ReturnRequest is a one-time notice.
type ReturnRequest struct {
	Problems []Problem
	// Override authorises a second notice with problems about materials
	// that did not change since the first: the supervisor's credentials
	// and why.
	Override *OverrideRequest
}

// OverrideRequest carries a supervisor's authorisation.
type OverrideRequest struct {
	Username, Password, Reason string
}

// Return sends a case back with a one-time notice (一次告知): every
// problem at once. It is enforced: once a case has been returned, a
// further notice may only name materials that changed since the last
// one; anything else needs a supervisor's override, which is recorded
// and counted. Returning an accepted case (a correction the back office
// needs) pauses its clock until the citizen resubmits.
func (s *Service) Return(ctx context.Context, st Staffer, id string, r ReturnRequest) (Case, error) {
	if !st.Clerk && !st.Approver {
		return Case{}, errRole("退回办件")
	}
	c0, err := s.staffCase(ctx, st, id)
	if err != nil {
		return Case{}, err
	}
	if c0.State == StateAccepted && !(st.Approver && st.inSector(c0.Sector)) {
		return Case{}, errRole("退回其他板块审批中的办件")
	}
	if len(r.Problems) == 0 {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "problems", Message: "请列出需要补正的全部问题"})
	}
	if len(r.Problems) > MaxProblems {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "problems", Message: fmt.Sprintf("最多 %d 项", MaxProblems)})
	}
	problems := make([]Problem, len(r.Problems))
	for i, p := range r.Problems {
		reason, err := checkText(fmt.Sprintf("problems[%d].reason", i), p.Reason, true, MaxReasonRunes)
		if err != nil {
			return Case{}, err
		}
		if p.Material < -1 || p.Material >= len(c0.Materials) {
			return Case{}, apperr.Fields(apperr.FieldError{Field: fmt.Sprintf("problems[%d].material", i), Message: "没有这项材料"})
		}
		problems[i] = Problem{Material: p.Material, Reason: reason}
	}
	var override *Override
	if r.Override != nil {
		if s.cfg.Authorizer == nil {
			return Case{}, apperr.New(apperr.Forbidden, "本系统未开通督办授权")
		}
		reason, err := checkText("override.reason", r.Override.Reason, true, MaxReasonRunes)
		if err != nil {
			return Case{}, err
		}
		sup, err := s.cfg.Authorizer.AuthorizeSupervisor(ctx, st.Center, r.Override.Username, r.Override.Password)
		if err != nil {
			s.record(ctx, audit.Record{Actor: st.actor(), Center: st.Center, Action: "case.notice_override", Target: "case:" + id, Outcome: audit.OutcomeDenied})
			return Case{}, err
		}
		override = &Override{Supervisor: sup, Reason: reason}
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateSubmitted && c.State != StateAccepted {
			return errState(*c, "退回")
		}
		if last := c.lastReturn(); last != nil && override == nil {
			var stale []apperr.FieldError
			for i, p := range problems {
				if p.Material < 0 || !c.Materials[p.Material].ChangedAt.After(last.At) {
					stale = append(stale, apperr.FieldError{Field: fmt.Sprintf("problems[%d]", i), Message: "上次一次告知后未变动，不能再次提出"})
				}
			}
			if len(stale) > 0 {
				return &apperr.Error{Code: CodeNoticeRepeat, Fields: stale,
					Message: "一次告知制：再次退回只能针对上次告知后新变动的材料；其他问题须经督办人员授权"}
			}
		}
		office := OfficeWindow
		if c.State == StateAccepted {
			office = s.officeOf(ctx, c.Center, c.Sector)
			c.Clock.Pauses = append(c.Clock.Pauses, deadline.Pause{From: now, Reason: "等待申请人补正"})
		}
		c.Notices = append(c.Notices, Notice{At: now, Staff: st.ID, Office: office, Problems: problems, Override: override})
		c.State = StateReturned
		s.addEvent(c, now, "return", office, fmt.Sprintf("一次告知：需补正 %d 项，请一次补齐后重新提交", len(problems)), st.ID)
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	action := "case.return"
	if override != nil {
		action = "case.return_override"
	}
	s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: action, Subject: c.Applicant, Target: "case:" + c.ID})
	return c, nil
}

// resume ends the open pause of a case's clock.
func resume(c *Case, now time.Time) {
	for i := range c.Clock.Pauses {
		if c.Clock.Pauses[i].To.IsZero() {
			c.Clock.Pauses[i].To = now
		}
	}
}

// Reject refuses to accept a submitted case (不予受理), with the reason
// and its legal basis.
func (s *Service) Reject(ctx context.Context, st Staffer, id, reason, basis string) (Case, error) {
	if !st.Clerk {
		return Case{}, errRole("作出不予受理决定")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	reason, err := checkText("reason", reason, true, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	if basis, err = checkText("legal_basis", basis, true, MaxReasonRunes); err != nil {
		return Case{}, err
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateSubmitted {
			return errState(*c, "作出不予受理决定")
		}
		c.State = StateRejected
		c.ClosedAt = now
		c.Rejection = &Decision{At: now, Staff: st.ID, Office: OfficeWindow, Reason: reason, LegalBasis: basis}
		s.addEvent(c, now, "reject", OfficeWindow, "不予受理："+reason+"（依据："+basis+"）", st.ID)
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.reject", Subject: c.Applicant, Target: "case:" + c.ID})
	}
	return c, err
}

// approverCase checks that st decides cases of c's sector.
func (s *Service) approverCase(ctx context.Context, st Staffer, id, doing string) error {
	if !st.Approver {
		return errRole(doing)
	}
	c, err := s.staffCase(ctx, st, id)
	if err != nil {
		return err
	}
	if !st.inSector(c.Sector) {
		s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.decide", Subject: c.Applicant,
			Target: "case:" + c.ID, Outcome: audit.OutcomeDenied})
		return apperr.New(apperr.Forbidden, "该办件不属于您所在板块")
	}
	return nil
}

// Decide is the back office's decision on an accepted case: approval
// concludes it (办结), denial too, with the reason. A case with 容缺
// materials outstanding cannot conclude until they are supplied or waived.
func (s *Service) Decide(ctx context.Context, st Staffer, id string, approve bool, reason, basis string) (Case, error) {
	if err := s.approverCase(ctx, st, id, "审批办件"); err != nil {
		return Case{}, err
	}
	reason, err := checkText("reason", reason, !approve, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	if basis, err = checkText("legal_basis", basis, !approve, MaxReasonRunes); err != nil {
		return Case{}, err
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateAccepted {
			return errState(*c, "审批")
		}
		if approve {
			if p := c.PendingMaterials(); len(p) > 0 {
				names := []string{}
				for _, i := range p {
					names = append(names, c.Materials[i].Name)
				}
				return apperr.New(CodePendingMaterials, "容缺材料尚未补齐（"+joinNames(names)+"），补齐或经督办豁免后方可办结")
			}
		}
		office := s.officeOf(ctx, c.Center, c.Sector)
		c.Decision = &Decision{At: now, Staff: st.ID, Office: office, Reason: reason, LegalBasis: basis}
		c.ClosedAt = now
		if approve {
			c.State = StateApproved
			if m, err := s.matters.MatterVersion(ctx, c.Matter, c.GuideVersion); err == nil && m.Certificate != "" {
				c.CertPending = true
			}
			note := "审批通过，已办结"
			if reason != "" {
				note += "：" + reason
			}
			s.addEvent(c, now, "approve", office, note, st.ID)
		} else {
			c.State = StateDenied
			s.addEvent(c, now, "deny", office, "不予批准："+reason+"（依据："+basis+"）", st.ID)
		}
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	s.withdraw(ctx, supplyReminderID(c.ID))
	s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case." + string(c.State), Subject: c.Applicant, Target: "case:" + c.ID})
	if c.CertPending {
		if issued, err := s.issue(ctx, c); err == nil {
			c = issued
		}
	}
	return c, nil
}

// issue has the approved case's certificate issued and records it, with
// the hand-over the citizen chose, on the timeline. A failure leaves the
// case marked CertPending for IssuePending to retry; it never undoes the
// approval.
func (s *Service) issue(ctx context.Context, c Case) (Case, error) {
	if s.cfg.Issuer == nil {
		return c, apperr.New(apperr.Unavailable, "证照签发服务未配置")
	}
	m, err := s.matters.MatterVersion(ctx, c.Matter, c.GuideVersion)
	if err != nil {
		return c, err
	}
	ref, err := s.cfg.Issuer.IssueForCase(ctx, c, m)
	if err != nil {
		s.log.WarnContext(ctx, "certificate not issued yet; will retry", "case", c.ID, "err", err)
		return c, err
	}
	out, err := s.change(ctx, c.ID, func(c *Case, now time.Time) error {
		if !c.CertPending {
			return nil
		}
		c.Certificate, c.CertPending = &ref, false
		s.addEvent(c, now, "certificate", s.officeOf(ctx, c.Center, c.Sector), handoverNote(m.Certificate, c.Form.Delivery), "")
		return nil
	})
	if err != nil {
		return c, err
	}
	if out.Form.Delivery == catalog.DeliveryExpress && s.cfg.Dispatcher != nil {
		if err := s.cfg.Dispatcher.Dispatch(ctx, out); err != nil {
			// The parcel can be made later (the citizen gives an address,
			// or staff dispatch it from the console); the certificate stands.
			s.log.WarnContext(ctx, "express delivery not arranged yet", "case", out.ID, "err", err)
		}
	}
	return out, nil
}

// handoverNote tells the citizen where the certificate comes out.
func handoverNote(title string, d catalog.Delivery) string {
	switch d {
	case catalog.DeliveryKioskPrint:
		return "电子证照“" + title + "”已生成，可刷身份证在大厅自助终端打印"
	case catalog.DeliveryExpress:
		return "电子证照“" + title + "”已生成，纸质证照将免费寄送"
	}
	return "电子证照“" + title + "”已生成，请到统一出件窗口领取"
}

// IssuePending retries the certificates of approved cases whose issuing
// failed (the library was unavailable, the server stopped in between);
// it returns how many it issued.
func (s *Service) IssuePending(ctx context.Context) (int, error) {
	list, err := s.store.ListCases(ctx, Filter{CertPending: true, Order: NewestFirst, Limit: 100})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range list {
		if _, err := s.issue(ctx, c); err == nil {
			n++
		}
	}
	return n, nil
}

// Suspend stops the clock of an accepted case (中止), e.g. for an
// expert review or a hearing, with the reason shown to the citizen.
func (s *Service) Suspend(ctx context.Context, st Staffer, id, reason string) (Case, error) {
	if err := s.approverCase(ctx, st, id, "中止办件"); err != nil {
		return Case{}, err
	}
	reason, err := checkText("reason", reason, true, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateAccepted {
			return errState(*c, "中止")
		}
		c.State = StateSuspended
		c.Clock.Pauses = append(c.Clock.Pauses, deadline.Pause{From: now, Reason: reason})
		s.addEvent(c, now, "suspend", s.officeOf(ctx, c.Center, c.Sector), "办件中止，暂停计时："+reason, st.ID)
		return nil
	})
}

// Resume restarts a suspended case's clock.
func (s *Service) Resume(ctx context.Context, st Staffer, id string) (Case, error) {
	if err := s.approverCase(ctx, st, id, "恢复办件"); err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateSuspended {
			return errState(*c, "恢复")
		}
		c.State = StateAccepted
		resume(c, now)
		s.addEvent(c, now, "resume", s.officeOf(ctx, c.Center, c.Sector), "办件恢复，继续计时", st.ID)
		return nil
	})
}

// MaxExtensionDays caps one extension (延长).
const MaxExtensionDays = 30

// Extend approves an extension of an accepted case's limit (延长): a
// supervisor's decision, in the case's history.
func (s *Service) Extend(ctx context.Context, st Staffer, id string, days int, reason string) (Case, error) {
	if !st.Supervisor {
		return Case{}, errRole("批准延期")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	if days < 1 || days > MaxExtensionDays {
		return Case{}, apperr.Fields(apperr.FieldError{Field: "days", Message: fmt.Sprintf("延长 1 至 %d 个工作日", MaxExtensionDays)})
	}
	reason, err := checkText("reason", reason, true, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	return s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State != StateAccepted && c.State != StateSuspended && !(c.State == StateReturned && !c.AcceptedAt.IsZero()) {
			return errState(*c, "延期")
		}
		c.Clock.Extensions = append(c.Clock.Extensions, deadline.Extension{Days: days, At: now, Reason: reason})
		s.addEvent(c, now, "extend", s.officeOf(ctx, c.Center, c.Sector), fmt.Sprintf("经批准延长 %d 个工作日：%s", days, reason), st.ID)
		return nil
	})
}

// Waive lets a supervisor waive a pending 容缺 material, so the case can
// conclude without it.
func (s *Service) Waive(ctx context.Context, st Staffer, id string, idx int, reason string) (Case, error) {
	if !st.Supervisor {
		return Case{}, errRole("豁免容缺材料")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	reason, err := checkText("reason", reason, true, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		m, err := materialIndex(c, idx)
		if err != nil {
			return err
		}
		if m.Status != MaterialPending || c.State.Closed() {
			return apperr.New(CodeCaseState, "这项材料不在容缺待补状态")
		}
		m.Status, m.ChangedAt = MaterialWaived, now
		s.addEvent(c, now, "waive", s.officeOf(ctx, c.Center, c.Sector), "容缺材料“"+m.Name+"”经督办豁免："+reason, st.ID)
		return nil
	})
	if err != nil {
		return Case{}, err
	}
	if len(c.PendingMaterials()) == 0 {
		s.withdraw(ctx, supplyReminderID(c.ID))
	}
	s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.waive", Subject: c.Applicant, Target: "case:" + c.ID})
	return c, nil
}

// SetGreen puts a case of a green-channel matter in the green channel
// (绿色通道) or takes it out: served first in worklists, with the
// matter's green limit when it has one.
func (s *Service) SetGreen(ctx context.Context, st Staffer, id string, on bool, reason string) (Case, error) {
	if !st.Clerk && !st.Supervisor {
		return Case{}, errRole("设置绿色通道")
	}
	c0, err := s.staffCase(ctx, st, id)
	if err != nil {
		return Case{}, err
	}
	reason, err = checkText("reason", reason, on, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	m, err := s.matters.MatterVersion(ctx, c0.Matter, c0.GuideVersion)
	if err != nil {
		return Case{}, err
	}
	if on && !m.GreenChannel {
		return Case{}, apperr.New(CodeCaseState, "该事项不适用绿色通道")
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		if c.State.Closed() {
			return errState(*c, "设置绿色通道")
		}
		if c.Green == on {
			return nil
		}
		c.Green = on
		if !c.AcceptedAt.IsZero() {
			c.Clock.Days = promisedDays(m, on)
		}
		note := "已取消绿色通道"
		if on {
			note = "列入绿色通道（重大项目优先办理）：" + reason
		}
		s.addEvent(c, now, "green", OfficeWindow, note, st.ID)
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.green", Target: "case:" + c.ID})
	}
	return c, err
}

// Escalate records a supervision (督办) of a case in warning or overdue,
// escalated to the head of its sector.
func (s *Service) Escalate(ctx context.Context, st Staffer, id, note string) (Case, error) {
	if !st.Supervisor {
		return Case{}, errRole("督办")
	}
	if _, err := s.staffCase(ctx, st, id); err != nil {
		return Case{}, err
	}
	note, err := checkText("note", note, true, MaxReasonRunes)
	if err != nil {
		return Case{}, err
	}
	c, err := s.change(ctx, id, func(c *Case, now time.Time) error {
		clk, ok := s.ClockOf(*c, now)
		if !ok || clk.Level == deadline.Green {
			return apperr.New(CodeNotLate, "该办件未进入预警或超期，无需督办")
		}
		c.Escalations = append(c.Escalations, Escalation{At: now, Staff: st.ID, Note: note})
		return nil
	})
	if err == nil {
		s.record(ctx, audit.Record{Actor: st.actor(), Center: c.Center, Action: "case.escalate", Target: "case:" + c.ID})
	}
	return c, err
}

// Worklist views.
const (
	ViewAccept = "accept" // cases waiting for acceptance (clerks)
	ViewDecide = "decide" // accepted cases of the approver's sectors
	ViewBoard  = "board"  // every running clock: the supervision board (督办)
)

// Worklist is what a staff member works through: view names which list
// (a clerk who is also a supervisor has both); empty picks the list of
// their highest role. Green-channel cases come first, then by deadline.
func (s *Service) Worklist(ctx context.Context, st Staffer, view string, limit int) ([]Case, error) {
	if limit <= 0 || limit > 500 {
		limit = 200
	}
	if view == "" {
		switch {
		case st.Supervisor:
			view = ViewBoard
		case st.Approver:
			view = ViewDecide
		default:
			view = ViewAccept
		}
	}
	f := Filter{Center: st.Center, Order: ByDeadline, Limit: limit}
	switch {
	case view == ViewBoard && st.Supervisor:
		f.States = []State{StateAccepted, StateSuspended, StateReturned}
	case view == ViewDecide && st.Approver:
		f.States = []State{StateAccepted, StateSuspended}
		f.Sectors = st.Sectors
	case view == ViewAccept && st.Clerk:
		f.States = []State{StateSubmitted}
		f.Sectors = st.Sectors
	case view != ViewBoard && view != ViewDecide && view != ViewAccept:
		return nil, apperr.Fields(apperr.FieldError{Field: "view", Message: "工作台只有 accept、decide、board 三种"})
	default:
		return nil, errRole("查看这个工作台")
	}
	cs, err := s.store.ListCases(ctx, f)
	if err != nil {
		return nil, err
	}
	if view == ViewBoard {
		// Returned cases count only while a correction pauses a clock.
		cs = slices.DeleteFunc(cs, func(c Case) bool { return c.AcceptedAt.IsZero() })
	}
	return cs, nil
}

// OpenMaterial returns a material's file to its owner.
func (s *Service) OpenMaterial(ctx context.Context, p Person, id string, idx int) (io.ReadCloser, File, error) {
	c, err := s.own(ctx, p, id)
	if err != nil {
		return nil, File{}, err
	}
	return s.open(ctx, c, idx, p.actor(), p.Kiosk)
}

// StaffMaterial returns a material's file to staff allowed to see the
// case; every download is audited.
func (s *Service) StaffMaterial(ctx context.Context, st Staffer, id string, idx int) (io.ReadCloser, File, error) {
	c, err := s.staffCase(ctx, st, id)
	if err != nil {
		return nil, File{}, err
	}
	return s.open(ctx, c, idx, st.actor(), "")
}

func (s *Service) open(ctx context.Context, c Case, idx int, actor, kiosk string) (io.ReadCloser, File, error) {
	m, err := materialIndex(&c, idx)
	if err != nil {
		return nil, File{}, err
	}
	if m.File == nil {
		return nil, File{}, apperr.New(apperr.NotFound, "这项材料没有上传的文件")
	}
	rc, f, err := s.files.OpenFile(ctx, m.File.ID)
	if err != nil {
		return nil, File{}, err
	}
	s.record(ctx, audit.Record{Actor: actor, Center: c.Center, Action: "case.material_download", Subject: c.Applicant,
		Target: fmt.Sprintf("case:%s/material:%d", c.ID, idx), Purpose: "办件材料查阅", Kiosk: kiosk})
	return rc, f, nil
}
