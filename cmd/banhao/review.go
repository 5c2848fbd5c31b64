package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
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
	// catalog names sectors and matters in event titles; nil leaves codes out.
	catalog *catalog.Service
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
		return caseEvent(c), nil
	case review.EventConsultation:
		if r.consult == nil {
			break
		}
		th, err := r.consult.GetThread(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		return threadEvent(th), nil
	case review.EventParcel:
		p, err := r.parcels.GetParcel(ctx, id)
		if err != nil {
			return review.Event{}, err
		}
		var c *cases.Case
		if got, err := r.cases.GetCase(ctx, p.Case); err == nil {
			c = &got
		}
		return parcelEvent(p, c), nil
	}
	return review.Event{}, apperr.New(apperr.NotFound, "没有这条办事记录")
}

// Finished implements review.Events: the holders' served tickets,
// concluded cases (the holder as applicant), delivered parcels of those
// cases, and answered consultations.
func (r reviewEvents) Finished(ctx context.Context, holders []string, since time.Time, limit int) ([]review.Event, error) {
	var out []review.Event
	seen := map[string]bool{}
	add := func(ev review.Event) {
		key := string(ev.Kind) + ":" + ev.ID
		if !seen[key] && ev.Finished && !ev.FinishedAt.Before(since) {
			seen[key] = true
			out = append(out, ev)
		}
	}
	for _, h := range holders {
		if h == "" {
			continue
		}
		tickets, err := r.queue.ServedTickets(ctx, h, since, limit)
		if err != nil {
			return nil, fmt.Errorf("served tickets: %w", err)
		}
		for _, t := range tickets {
			add(r.ticketEvent(ctx, t))
		}
		if r.consult != nil {
			f := consult.Filter{Holder: h, States: []consult.State{consult.StateAnswered, consult.StateClosed}, Order: consult.NewestFirst, Limit: limit}
			if strings.HasPrefix(h, "citizen:") {
				f.Holder, f.Citizen = "", h
			}
			threads, err := r.consult.ListThreads(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("answered consultations: %w", err)
			}
			for _, th := range threads {
				add(threadEvent(th))
			}
		}
		if !strings.HasPrefix(h, "id:") {
			// Cases and their parcels are the applicant's by real name.
			continue
		}
		// Concluded cases newest first; a parcel may arrive well after
		// its case concluded, so older cases are looked at for parcels.
		list, err := r.cases.ListCases(ctx, cases.Filter{Applicant: h, States: []cases.State{cases.StateApproved, cases.StateDenied},
			Order: cases.NewestFirst, Limit: 2 * limit})
		if err != nil {
			return nil, fmt.Errorf("concluded cases: %w", err)
		}
		for _, c := range list {
			add(caseEvent(c))
			if c.State != cases.StateApproved {
				continue
			}
			p, err := r.parcels.GetParcelByCase(ctx, c.ID)
			switch {
			case err == nil:
				add(parcelEvent(p, &c))
			case !apperr.Is(err, apperr.NotFound):
				return nil, fmt.Errorf("parcel of case %s: %w", c.ID, err)
			}
		}
	}
	if r.catalog != nil {
		names := map[string]string{}
		for i, ev := range out {
			if ev.Kind != review.EventTicket {
				continue
			}
			if _, ok := names[ev.Center+"/"]; !ok {
				names[ev.Center+"/"] = ""
				if sectors, err := r.catalog.Sectors(ctx, ev.Center); err == nil {
					for _, s := range sectors {
						names[ev.Center+"/"+s.Code] = s.Name
					}
				}
			}
			name := names[ev.Center+"/"+ev.Sector]
			if ev.Matter != "" {
				if m, err := r.catalog.Matter(ctx, ev.Matter); err == nil {
					name = m.Name
				}
			}
			if name != "" {
				out[i].Title = name + " · " + ev.Title
			}
		}
	}
	return out, nil
}

func caseEvent(c cases.Case) review.Event {
	ev := review.Event{Kind: review.EventCase, ID: c.ID, Holders: []string{c.Applicant, c.Citizen}, Center: c.Center,
		Sector: c.Sector, Matter: c.Matter, Finished: c.State == cases.StateApproved || c.State == cases.StateDenied,
		FinishedAt: c.ClosedAt, Title: c.MatterName + " · 办件编号 " + c.Number}
	if c.Decision != nil {
		ev.Staff = c.Decision.Staff
		if ev.FinishedAt.IsZero() {
			ev.FinishedAt = c.Decision.At
		}
	}
	return ev
}

func threadEvent(th consult.Thread) review.Event {
	ev := review.Event{Kind: review.EventConsultation, ID: th.ID, Holders: []string{th.Holder, th.Citizen}, Center: th.Center,
		Sector: th.Sector, Matter: th.Matter, FinishedAt: th.FirstReplyAt,
		Finished: th.State == consult.StateAnswered || (th.State == consult.StateClosed && !th.FirstReplyAt.IsZero())}
	for _, m := range th.Messages {
		if m.From == consult.FromStaff && m.StaffID != "" {
			ev.Staff = m.StaffID
		}
	}
	subject := "咨询"
	if th.MatterName != "" {
		subject = th.MatterName + "咨询"
	}
	if len(th.Messages) > 0 {
		q := []rune(strings.Join(strings.Fields(th.Messages[0].Text), " "))
		if len(q) > 20 {
			q = append(q[:20], '…')
		}
		subject += " · " + string(q)
	}
	ev.Title = subject
	return ev
}

// parcelEvent is a parcel as a service event; c is its case, if found.
func parcelEvent(p delivery.Parcel, c *cases.Case) review.Event {
	ev := review.Event{Kind: review.EventParcel, ID: p.ID, Holders: []string{p.Holder, p.Citizen}, Center: p.Center,
		Finished: p.Status == delivery.StatusDelivered, FinishedAt: p.DeliveredAt}
	if c != nil {
		ev.Sector, ev.Matter = c.Sector, c.Matter
	}
	ev.Title = p.MatterName + " 证照寄送"
	if p.Tracking != "" {
		ev.Title += " · 快递单号 " + p.Tracking
	} else {
		ev.Title += " · 办件编号 " + p.CaseNumber
	}
	return ev
}

func (r reviewEvents) ticketEvent(ctx context.Context, t queue.Ticket) review.Event {
	ev := review.Event{Kind: review.EventTicket, ID: t.ID, Center: t.Center, Sector: t.Sector, Window: t.Window,
		Finished: t.Status == queue.StatusDone, FinishedAt: t.FinishedAt, Title: "排队号 " + t.Number}
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
