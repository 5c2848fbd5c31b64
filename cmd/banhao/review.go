package main

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
)

// padWindow is how long after a ticket's completion the window's
// evaluation pad still rates it.
const padWindow = 15 * time.Minute

// reviewEvents finds the service events 好差评 rates, in the stores of the
// areas that own them.
type reviewEvents struct {
	queue   queue.Store
	cases   cases.Store
	parcels delivery.Store
	// consult is nil where consultations are not kept; they are then unknown.
	consult consult.Store
	loc     *time.Location
	now     func() time.Time
}

var _ review.Events = reviewEvents{}

// Event implements review.Events.
func (r reviewEvents) Event(ctx context.Context, kind review.EventKind, id string) (review.Event, error) {
	switch kind {
	case review.EventTicket:
		t, err := r.queue.GetTicket(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		return r.ticketEvent(ctx, t), nil
	case review.EventCase:
		c, err := r.cases.GetCase(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		staff := ""
		if c.Decision != nil {
			staff = c.Decision.Staff
		}
		return review.Event{Kind: kind, ID: c.ID, Holders: []string{c.Applicant, c.Citizen}, Center: c.Center,
			Sector: c.Sector, Staff: staff, Matter: c.Matter,
			Finished: c.State == cases.StateApproved || c.State == cases.StateDenied}, nil
	case review.EventConsultation:
		if r.consult == nil {
			break
		}
		th, err := r.consult.GetThread(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		ev := review.Event{Kind: kind, ID: th.ID, Holders: []string{th.Holder, th.Citizen}, Center: th.Center,
			Sector: th.Sector, Matter: th.Matter,
			Finished: th.State == consult.StateAnswered || (th.State == consult.StateClosed && !th.FirstReplyAt.IsZero())}
		for _, m := range th.Messages {
			if m.From == consult.FromStaff && m.StaffID != "" {
				ev.Staff = m.StaffID
			}
		}
		return ev, nil
	case review.EventParcel:
		p, err := r.parcels.GetParcel(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		ev := review.Event{Kind: kind, ID: p.ID, Holders: []string{p.Holder, p.Citizen}, Center: p.Center,
			Finished: p.Status == delivery.StatusDelivered}
		if c, err := r.cases.GetCase(ctx, p.Case); err == nil {
			ev.Sector, ev.Matter = c.Sector, c.Matter
		}
		return ev, nil
	}
	return review.Event{}, apperr.New(apperr.NotFound, "没有这条办事记录")
}

func (r reviewEvents) ticketEvent(ctx context.Context, t queue.Ticket) review.Event {
	ev := review.Event{Kind: review.EventTicket, ID: t.ID, Center: t.Center, Sector: t.Sector, Window: t.Window,
		Finished: t.Status == queue.StatusDone}
	if t.Holder != "" {
		ev.Holders = []string{t.Holder}
	}
	if len(t.Matters) > 0 {
		ev.Matter = t.Matters[0]
	}
	if t.Window != "" {
		// The clerk signed in at the window served the ticket; a rating
		// comes right after, so the window's clerk is still the one.
		if w, err := r.queue.GetWindow(ctx, t.Window); err == nil {
			ev.Staff = w.Staff
		}
	}
	return ev
}

// LastServed returns the ticket completed most recently at a window, in
// the last padWindow, for the window's evaluation pad.
func (r reviewEvents) LastServed(ctx context.Context, window string) (review.Event, error) {
	w, err := r.queue.GetWindow(ctx, window)
	if err != nil {
		return review.Event{}, err
	}
	now := r.now()
	recent, err := r.queue.RecentCalls(ctx, w.Center, now.In(r.loc).Format("2006-01-02"), 50)
	if err != nil {
		return review.Event{}, err
	}
	var last *queue.Ticket
	for i, t := range recent {
		if t.Window == window && t.Status == queue.StatusDone && now.Sub(t.FinishedAt) <= padWindow &&
			(last == nil || t.FinishedAt.After(last.FinishedAt)) {
			last = &recent[i]
		}
	}
	if last == nil {
		return review.Event{}, apperr.New(apperr.NotFound, "这个窗口暂无可评价的办理")
	}
	return r.ticketEvent(ctx, *last), nil
}
