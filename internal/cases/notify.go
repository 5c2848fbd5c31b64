package cases

import (
	"context"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/notify"
)

// casePage is the mini-program page of a case.
func casePage(c Case) string { return "pages/case/index?id=" + c.ID }

// recipient is whom a case's messages go to: the mini-program account
// that applied, else the applicant by ID number (their bound account, if
// any).
func recipient(c Case) string {
	if c.Citizen != "" {
		return c.Citizen
	}
	return c.Applicant
}

// announce pushes the case's latest timeline line as a WeChat subscribe
// message. The ID is the case and its revision, so a retried change is
// one message; a lost message is logged and never fails the change.
func (s *Service) announce(ctx context.Context, c Case) {
	if s.cfg.Notifier == nil || len(c.History) == 0 {
		return
	}
	e := c.History[len(c.History)-1]
	msg := notify.Message{
		ID: fmt.Sprintf("case:%s:%d", c.ID, c.Rev), To: recipient(c), Kind: notify.KindCaseStatus,
		Data: map[string]string{
			"number": c.Number, "matter": truncate(c.MatterName, 20), "state": c.State.Label(),
			"time": e.At.In(s.location()).Format("2006-01-02 15:04"), "note": truncate(e.Note, 20),
		},
		Page: casePage(c),
	}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}

// truncate keeps at most n runes (WeChat's thing fields hold 20).
func truncate(v string, n int) string {
	r := []rune(v)
	if len(r) <= n {
		return v
	}
	return string(r[:n-1]) + "…"
}

func supplyReminderID(caseID string) string { return "case-supply:" + caseID }

// remindSupply queues a reminder on the morning of the last working day
// to supply 容缺 materials; supplying or waiving them withdraws it.
func (s *Service) remindSupply(ctx context.Context, c Case) {
	if s.cfg.Notifier == nil || c.Pending == nil {
		return
	}
	st, err := s.engine.Status(s.cfg.Calendar(), c.Pending.Clock, c.Pending.At)
	if err != nil {
		s.log.ErrorContext(ctx, "supply clock unusable", "case", c.ID, "err", err)
		return
	}
	loc := s.location()
	at := st.DueDay.Time(loc).Add(9 * time.Hour)
	msg := notify.Message{
		ID: supplyReminderID(c.ID), To: recipient(c), Kind: notify.KindCaseStatus, NotBefore: at,
		Data: map[string]string{
			"number": c.Number, "matter": truncate(c.MatterName, 20), "state": "容缺材料待补",
			"time": at.Format("2006-01-02 15:04"), "note": "今天是容缺材料补齐的最后一天",
		},
		Page: casePage(c),
	}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}

func (s *Service) withdraw(ctx context.Context, ids ...string) {
	if s.cfg.Notifier == nil {
		return
	}
	if err := s.cfg.Notifier.Withdraw(context.WithoutCancel(ctx), ids...); err != nil {
		s.log.ErrorContext(ctx, "withdraw notification", "id", ids[0], "err", err)
	}
}

// location is the centers' time zone, from the calendar.
func (s *Service) location() *time.Location { return s.cfg.Calendar().Location() }

// Location is the centers' time zone, in which case times are shown.
func (s *Service) Location() *time.Location { return s.location() }

// Now is the service's clock, for rendering deadlines as of now.
func (s *Service) Now() time.Time { return s.now() }
