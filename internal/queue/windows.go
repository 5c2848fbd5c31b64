package queue

import (
	"context"
	"fmt"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/notify"
)

// signedIn returns the window of center that staff is signed in to.
func (s *Service) signedIn(ctx context.Context, center, staff, windowID string) (Window, error) {
	w, err := s.store.GetWindow(ctx, windowID)
	if err != nil || w.Center != center {
		return Window{}, apperr.New(apperr.NotFound, "没有这个窗口")
	}
	switch w.Staff {
	case staff:
		return w, nil
	case "":
		return Window{}, apperr.New(CodeWindowClosed, "请先签入"+w.Name+"，再叫号")
	}
	return Window{}, apperr.New(CodeWindowClosed, w.Name+"已由其他工作人员签入")
}

// SignIn signs staff in to a window of center, opening it. Signing in
// again to one's own window is not an error; a window another clerk is
// signed in to is refused until they sign out (or a supervisor closes it).
func (s *Service) SignIn(ctx context.Context, center, staff, windowID string) (Window, error) {
	w, err := s.store.GetWindow(ctx, windowID)
	if err != nil || w.Center != center {
		return Window{}, apperr.New(apperr.NotFound, "没有这个窗口")
	}
	if w.Staff == staff {
		return w, nil
	}
	if w.Staff != "" {
		return Window{}, apperr.New(CodeWindowTaken, w.Name+"已由其他工作人员签入，请对方签出或请值班长关闭")
	}
	w, err = s.store.SignWindow(ctx, windowID, "", staff, s.now())
	if err != nil {
		if apperr.Is(err, CodeWindowTaken) {
			return Window{}, apperr.New(CodeWindowTaken, "窗口刚被其他工作人员签入")
		}
		return Window{}, err
	}
	s.windows.forget(center)
	s.record(ctx, audit.Record{Actor: "staff:" + staff, Center: center, Action: "window.open", Target: "window:" + w.ID})
	return w, nil
}

// SignOut closes a window: its own clerk may, and so may a supervisor
// (force) whoever is signed in. Tickets called to it stay as they are.
func (s *Service) SignOut(ctx context.Context, center, staff, windowID string, force bool) (Window, error) {
	w, err := s.store.GetWindow(ctx, windowID)
	if err != nil || w.Center != center {
		return Window{}, apperr.New(apperr.NotFound, "没有这个窗口")
	}
	if w.Staff == "" {
		return w, nil
	}
	if w.Staff != staff && !force {
		return Window{}, apperr.New(CodeWindowTaken, w.Name+"由其他工作人员签入，只有本人或值班长可以签出")
	}
	w, err = s.store.SignWindow(ctx, windowID, w.Staff, "", s.now())
	if err != nil {
		return Window{}, err
	}
	s.windows.forget(center)
	s.record(ctx, audit.Record{Actor: "staff:" + staff, Center: center, Action: "window.close", Target: "window:" + w.ID})
	return w, nil
}

func (s *Service) record(ctx context.Context, r audit.Record) {
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
	}
}

// notify queues messages; a lost message is logged, never a failed call.
func (s *Service) notify(ctx context.Context, msgs ...notify.Message) {
	if s.notifier == nil || len(msgs) == 0 {
		return
	}
	if err := s.notifier.Notify(context.WithoutCancel(ctx), msgs...); err != nil {
		s.log.ErrorContext(ctx, "notification lost", "id", msgs[0].ID, "err", err)
	}
}

// announce tells the holder of a called ticket where to go: "请 A023 号到
// 5号窗口办理". The message ID counts the calls, so a recall is a new
// message and a retried call is not.
func (s *Service) announce(ctx context.Context, t Ticket, w Window) {
	if t.Holder == "" {
		return
	}
	s.notify(ctx, callMessage(t, w))
}

// callMessage is the message of a ticket's latest call to window w.
func callMessage(t Ticket, w Window) notify.Message {
	return notify.Message{
		ID: fmt.Sprintf("call:%s:%d", t.ID, t.Calls), To: t.Holder, Kind: notify.KindCall,
		Data: map[string]string{"number": t.Number, "window": w.Name, "text": "请" + t.Number + "号到" + w.Name + "办理"},
		Page: "pages/ticket/index?id=" + t.ID,
	}
}

// Reannounce queues again the call messages of the tickets called to
// center's windows today, and returns how many it passed to the outbox.
// A call is stored before its message is queued, in two writes, so a
// crash between them leaves a called ticket without its message: run at
// start, before serving, Reannounce queues what was lost. The outbox
// keeps one message per ID, so a message already queued (or sent) is not
// queued again.
func (s *Service) Reannounce(ctx context.Context, center string) (int, error) {
	if s.notifier == nil {
		return 0, nil
	}
	ws, err := s.store.ListWindows(ctx, center)
	if err != nil {
		return 0, fmt.Errorf("queue: reannounce calls at %s: %w", center, err)
	}
	day := s.now().In(s.cfg.Location).Format("2006-01-02")
	var msgs []notify.Message
	for _, w := range ws {
		ts, err := s.store.AtWindow(ctx, center, day, w.ID)
		if err != nil {
			return 0, fmt.Errorf("queue: reannounce calls at window %s: %w", w.ID, err)
		}
		for _, t := range ts {
			if t.Status == StatusCalled && t.Holder != "" {
				msgs = append(msgs, callMessage(t, w))
			}
		}
	}
	if len(msgs) == 0 {
		return 0, nil
	}
	if err := s.notifier.Notify(ctx, msgs...); err != nil {
		return 0, fmt.Errorf("queue: reannounce calls at %s: %w", center, err)
	}
	return len(msgs), nil
}

// announceTransfer tells the holder their ticket now waits in another sector.
func (s *Service) announceTransfer(ctx context.Context, t Ticket) {
	if t.Holder == "" {
		return
	}
	name := t.Sector
	if sec, err := s.sector(ctx, t.Center, t.Sector); err == nil {
		name = sec.Name
	}
	s.notify(ctx, notify.Message{
		ID: fmt.Sprintf("transfer:%s:%s", t.ID, t.Sector), To: t.Holder, Kind: notify.KindCall,
		Data: map[string]string{"number": t.Number, "window": name, "text": t.Number + "号已转至" + name + "，请留意叫号"},
		Page: "pages/ticket/index?id=" + t.ID,
	})
}

// SoonAhead is how many people ahead make a ticket's holder get "your
// turn is near": with 2 ahead they are 3rd.
const SoonAhead = 2

// alertNext tells the holder who has just become 3rd in the called
// ticket's sector that their turn is near, once per ticket.
func (s *Service) alertNext(ctx context.Context, called Ticket) {
	if s.notifier == nil {
		return
	}
	next, err := s.store.Waiting(ctx, called.Center, called.Day, called.Sector, SoonAhead+1)
	if err != nil || len(next) <= SoonAhead {
		return
	}
	t := next[SoonAhead]
	if t.Holder == "" {
		return
	}
	s.notify(ctx, notify.Message{
		ID: "soon:" + t.ID, To: t.Holder, Kind: notify.KindTurnSoon,
		Data: map[string]string{"number": t.Number, "ahead": fmt.Sprint(SoonAhead), "text": fmt.Sprintf("%s号前面还有 %d 人，请到大厅等候", t.Number, SoonAhead)},
		Page: "pages/ticket/index?id=" + t.ID,
	})
}

// windowCache keeps each center's windows for a moment, for wait
// estimates on every ticket read; a sign-in or out here forgets them at
// once, one on another server shows within the cache's age.
type windowCache struct {
	cache[[]Window]
}

func (c *windowCache) forget(center string) { c.drop(center) }

// WindowsFor returns the names of the windows of center serving sector
// and how many of them are open.
func windowsFor(ws []Window, sector string) (names []string, open, all int) {
	for _, w := range ws {
		for _, sec := range w.Sectors {
			if sec == sector {
				names = append(names, w.Name)
				all++
				if w.Open() {
					open++
				}
			}
		}
	}
	return names, open, all
}

// AtWindow returns the tickets called or parked at a window of center
// today, so that a clerk's screen can pick up where it was (after a
// reload, or on another computer).
func (s *Service) AtWindow(ctx context.Context, center, windowID string) ([]Ticket, error) {
	w, err := s.store.GetWindow(ctx, windowID)
	if err != nil || w.Center != center {
		return nil, apperr.New(apperr.NotFound, "没有这个窗口")
	}
	return s.store.AtWindow(ctx, center, s.now().In(s.cfg.Location).Format("2006-01-02"), w.ID)
}
