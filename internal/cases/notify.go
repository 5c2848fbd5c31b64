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
	msg := s.statusMessage(c)
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msg.ID, "err", err)
	}
}

// statusMessage is the message of a case's latest timeline line.
func (s *Service) statusMessage(c Case) notify.Message {
	e := c.History[len(c.History)-1]
	return notify.Message{
		ID: fmt.Sprintf("case:%s:%d", c.ID, c.Rev), To: recipient(c), Kind: notify.KindCaseStatus,
		Data: map[string]string{
			"number": c.Number, "matter": truncate(c.MatterName, 20), "state": c.State.Label(),
			"time": e.At.In(s.location()).Format("2006-01-02 15:04"), "note": truncate(e.Note, 20),
		},
		Page: casePage(c),
	}
}

// ReannounceClosed is how far back Reannounce looks for closed cases whose
// last message a crash may have lost: news older than a week is no news.
// (The outbox never forgets a message ID, so what was sent is not sent
// again.)
const ReannounceClosed = 7 * 24 * time.Hour

// reannounceBatch bounds the messages Reannounce queues in one write.
const reannounceBatch = 500

// Reannounce queues again the message of the last change of every open
// case (submitted, returned, accepted, suspended) whose last change added
// to its timeline, and returns how many it passed to the outbox. A change
// is stored before its message is queued, in two writes, so a crash
// between them leaves the change without its message: run at start,
// before serving, Reannounce queues what was lost. The outbox keeps one
// message per ID, so a message already queued (or sent) is not queued
// again. Closed cases are too many to read at every start: those closed
// in the last ReannounceClosed (a week) are read, by their last change.
func (s *Service) Reannounce(ctx context.Context) (int, error) {
	if s.cfg.Notifier == nil {
		return 0, nil
	}
	open, err := s.store.ListCases(ctx, Filter{States: []State{StateSubmitted, StateReturned, StateAccepted, StateSuspended}})
	if err != nil {
		return 0, fmt.Errorf("cases: reannounce: %w", err)
	}
	closed, err := s.store.ListCases(ctx, Filter{States: []State{StateApproved, StateDenied, StateRejected, StateWithdrawn},
		UpdatedAfter: s.now().Add(-ReannounceClosed)})
	if err != nil {
		return 0, fmt.Errorf("cases: reannounce: %w", err)
	}
	var msgs []notify.Message
	for _, c := range append(open, closed...) {
		if n := len(c.History); n > 0 && c.History[n-1].At.Equal(c.UpdatedAt) {
			msgs = append(msgs, s.statusMessage(c))
		}
	}
	for i := 0; i < len(msgs); i += reannounceBatch {
		if err := s.cfg.Notifier.Notify(ctx, msgs[i:min(i+reannounceBatch, len(msgs))]...); err != nil {
			return i, fmt.Errorf("cases: reannounce: %w", err)
		}
	}
	return len(msgs), nil
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
