package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/notify"
)

// BookingConfig holds the appointment rules a deployment may tune; zero
// fields take the defaults of DefaultBookingConfig.
type BookingConfig struct {
	// SlotLength is the length of a slot (half an hour by default).
	SlotLength time.Duration
	// DaysAhead is how many days after today can be booked.
	DaysAhead int
	// CancelCutoff is how long before the slot's start cancelling and
	// rescheduling close.
	CancelCutoff time.Duration
	// CheckInBefore and CheckInAfter bound check-in around the slot's start.
	CheckInBefore, CheckInAfter time.Duration
	// NoShowLimit no-shows within NoShowWindow suspend booking for Suspension.
	NoShowLimit  int
	NoShowWindow time.Duration
	Suspension   time.Duration
	// SlotCapacity is the places of a slot without a capacity of its
	// own; 0 derives it from the windows serving the sector × slot length
	// ÷ ServiceTime.
	SlotCapacity int
	// ServiceTime is the expected time to serve one person, for the
	// derived capacity.
	ServiceTime time.Duration
}

// DefaultBookingConfig returns the rules of the issue: half-hour slots,
// a week ahead, cancel until an hour before, check in from 30 minutes
// before to 15 after, 3 no-shows in 30 days suspend booking for 30 days.
func DefaultBookingConfig() BookingConfig {
	return BookingConfig{
		SlotLength: 30 * time.Minute, DaysAhead: 7, CancelCutoff: time.Hour,
		CheckInBefore: 30 * time.Minute, CheckInAfter: 15 * time.Minute,
		NoShowLimit: 3, NoShowWindow: 30 * 24 * time.Hour, Suspension: 30 * 24 * time.Hour,
		ServiceTime: 15 * time.Minute,
	}
}

func (c *BookingConfig) fill() {
	d := DefaultBookingConfig()
	for _, f := range []struct{ v, d *time.Duration }{
		{&c.SlotLength, &d.SlotLength}, {&c.CancelCutoff, &d.CancelCutoff}, {&c.CheckInBefore, &d.CheckInBefore},
		{&c.CheckInAfter, &d.CheckInAfter}, {&c.NoShowWindow, &d.NoShowWindow}, {&c.Suspension, &d.Suspension},
		{&c.ServiceTime, &d.ServiceTime},
	} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	for _, f := range []struct{ v, d *int }{{&c.DaysAhead, &d.DaysAhead}, {&c.NoShowLimit, &d.NoShowLimit}} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
}

// Notifier queues messages to citizens in the notification outbox.
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
	Withdraw(ctx context.Context, ids ...string) error
}

// Slot is a bookable stretch of a sector's day.
type Slot struct {
	Start, End time.Time
	Capacity   int
	Booked     int
	// Open reports whether the slot can be booked now: not started, and
	// places left.
	Open bool
}

// Available is how many places are left.
func (s Slot) Available() int { return max(0, s.Capacity-s.Booked) }

// DaySlots are a sector's slots on a day, or why there are none.
type DaySlots struct {
	Day   string
	Slots []Slot
	// Closed says why the day has no slots ("国庆节", "休息日"); empty
	// when it has.
	Closed string
}

// Booker is who books: a citizen's account and, once they bound their
// real name, the blind index of their ID number.
type Booker struct {
	Citizen string
	IDIndex string // empty if the citizen has not bound a real name
}

func (b Booker) holder() string { return "id:" + b.IDIndex }

// parseDay reads "2026-11-26" as the center's date.
func (s *Service) parseDay(day string) (time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", day, s.cfg.Location)
	if err != nil {
		return time.Time{}, apperr.Fields(apperr.FieldError{Field: "date", Message: "日期格式应为 YYYY-MM-DD"})
	}
	return d, nil
}

func (s *Service) today() time.Time {
	y, m, d := s.now().In(s.cfg.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, s.cfg.Location)
}

// capacity is the default places of a slot of a sector.
func (s *Service) capacity(ctx context.Context, center, sector string) (int, error) {
	if s.booking.SlotCapacity > 0 {
		return s.booking.SlotCapacity, nil
	}
	windows, err := s.store.ListWindows(ctx, center)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, w := range windows {
		for _, sec := range w.Sectors {
			if sec == sector {
				n++
			}
		}
	}
	return max(1, n) * max(1, int(s.booking.SlotLength/s.booking.ServiceTime)), nil
}

// errNoAppointments answers when the deployment has no appointment store.
var errNoAppointments = apperr.New(apperr.Unavailable, "本中心暂未开通预约")

// Slots lists a sector's slots on a day with the places left.
func (s *Service) Slots(ctx context.Context, center, sector, day string) (DaySlots, error) {
	if s.appts == nil || s.cfg.Calendar == nil {
		return DaySlots{}, errNoAppointments
	}
	if _, err := s.sector(ctx, center, sector); err != nil {
		return DaySlots{}, err
	}
	d, err := s.parseDay(day)
	if err != nil {
		return DaySlots{}, err
	}
	today := s.today()
	if d.Before(today) {
		return DaySlots{}, apperr.New(CodeSlotUnavailable, "不能预约过去的日期")
	}
	if d.After(today.AddDate(0, 0, s.booking.DaysAhead)) {
		return DaySlots{}, apperr.New(CodeSlotUnavailable, fmt.Sprintf("只能预约 %d 天之内的时段", s.booking.DaysAhead))
	}
	out := DaySlots{Day: day}
	spans := s.cfg.Calendar.OpenSpans(center, d)
	if len(spans) == 0 {
		out.Closed = s.cfg.Calendar.ClosedReason(center, d)
		return out, nil
	}
	def, err := s.capacity(ctx, center, sector)
	if err != nil {
		return DaySlots{}, err
	}
	uses, err := s.appts.SlotUses(ctx, center, sector, day)
	if err != nil {
		return DaySlots{}, err
	}
	byStart := map[int64]SlotUse{}
	for _, u := range uses {
		byStart[u.Start.UnixMilli()] = u
	}
	now := s.now()
	for _, sp := range spans {
		for st := sp.From; !st.Add(s.booking.SlotLength).After(sp.To); st = st.Add(s.booking.SlotLength) {
			sl := Slot{Start: st.UTC(), End: st.Add(s.booking.SlotLength).UTC(), Capacity: def}
			if u, ok := byStart[sl.Start.UnixMilli()]; ok {
				sl.Booked = u.Booked
				if u.Capacity > 0 {
					sl.Capacity = u.Capacity
				}
			}
			sl.Open = st.After(now) && sl.Booked < sl.Capacity
			out.Slots = append(out.Slots, sl)
		}
	}
	return out, nil
}

// slotAt checks that start begins a slot that can be booked now and
// returns it with its capacity.
func (s *Service) slotAt(ctx context.Context, center, sector string, start time.Time) (Slot, string, error) {
	day := start.In(s.cfg.Location).Format("2006-01-02")
	ds, err := s.Slots(ctx, center, sector, day)
	if err != nil {
		return Slot{}, "", err
	}
	if ds.Closed != "" {
		return Slot{}, "", apperr.New(CodeSlotUnavailable, "该日不办公（"+ds.Closed+"），请选择其他日期")
	}
	for _, sl := range ds.Slots {
		if !sl.Start.Equal(start) {
			continue
		}
		if !sl.Start.After(s.now()) {
			return Slot{}, "", apperr.New(CodeSlotUnavailable, "该时段已开始，请选择其他时段")
		}
		return sl, day, nil
	}
	return Slot{}, "", apperr.New(CodeSlotUnavailable, "没有这个时段，请从可预约时段中选择")
}

// suspendedUntil returns the end of the booker's suspension for no-shows,
// or the zero time.
func (s *Service) suspendedUntil(ctx context.Context, holder string) (time.Time, error) {
	now := s.now()
	starts, err := s.appts.NoShows(ctx, holder, now.Add(-s.booking.NoShowWindow-s.booking.Suspension))
	if err != nil {
		return time.Time{}, err
	}
	var until time.Time
	n := s.booking.NoShowLimit
	// Any NoShowLimit no-shows within NoShowWindow suspend from the last of them.
	for i := n - 1; i < len(starts); i++ {
		if starts[i].Sub(starts[i-n+1]) <= s.booking.NoShowWindow {
			if end := starts[i].Add(s.booking.Suspension); end.After(until) {
				until = end
			}
		}
	}
	if until.After(now) {
		return until, nil
	}
	return time.Time{}, nil
}

func (s *Service) checkBooker(ctx context.Context, b Booker) error {
	if b.IDIndex == "" {
		return apperr.New(CodeRealNameRequired, "预约需先完成实名认证")
	}
	until, err := s.suspendedUntil(ctx, b.holder())
	if err != nil {
		return err
	}
	if !until.IsZero() {
		u := until.In(s.cfg.Location)
		return apperr.New(CodeBookingSuspended, fmt.Sprintf("您近 30 天内多次预约未到，%d月%d日前暂停预约，可现场取号办理", u.Month(), u.Day()))
	}
	return nil
}

// Book books a place in the slot of center and sector that starts at start.
func (s *Service) Book(ctx context.Context, b Booker, center, sector string, start time.Time) (Appointment, error) {
	if err := s.checkBooker(ctx, b); err != nil {
		return Appointment{}, err
	}
	sl, day, err := s.slotAt(ctx, center, sector, start)
	if err != nil {
		return Appointment{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	a := Appointment{
		ID: "ap" + audit.NewID(now), Center: center, Sector: sector, Day: day, Start: sl.Start, End: sl.End,
		Holder: b.holder(), Citizen: b.Citizen, Status: AppointmentBooked, BookedAt: now,
	}
	a, err = s.appts.Book(ctx, a, sl.Capacity)
	if err != nil {
		return Appointment{}, err
	}
	s.remind(ctx, a)
	return a, nil
}

// reminderIDs are the outbox IDs of an appointment's reminders.
func reminderIDs(id string) []string { return []string{"remind-day:" + id, "remind-hour:" + id} }

// remind queues the reminders the day before and an hour before; a lost
// reminder is logged, not a failed booking.
func (s *Service) remind(ctx context.Context, a Appointment) {
	if s.notifier == nil {
		return
	}
	s.notify(ctx, s.reminders(a)...)
}

// RemindAgain queues again the reminders of the appointments booked from
// today on, and returns how many it passed to the outbox. A booking is
// stored before its reminders are queued, in two writes, so a crash
// between them leaves a booking without reminders: run at start, before
// serving, RemindAgain queues what was lost. The outbox keeps one
// message per ID, so reminders already queued (or sent) are not queued
// again.
func (s *Service) RemindAgain(ctx context.Context) (int, error) {
	if s.notifier == nil || s.appts == nil {
		return 0, nil
	}
	today := s.today()
	n := 0
	for i := 0; i <= s.booking.DaysAhead; i++ {
		booked, err := s.appts.BookedOn(ctx, today.AddDate(0, 0, i).Format("2006-01-02"))
		if err != nil {
			return n, fmt.Errorf("queue: remind again: %w", err)
		}
		var msgs []notify.Message
		for _, a := range booked {
			if a.Citizen != "" { // booked in the mini-program, whose account is told
				msgs = append(msgs, s.reminders(a)...)
			}
		}
		if len(msgs) == 0 {
			continue
		}
		if err := s.notifier.Notify(ctx, msgs...); err != nil {
			return n, fmt.Errorf("queue: remind again: %w", err)
		}
		n += len(msgs)
	}
	return n, nil
}

// reminders are an appointment's reminders still to come.
func (s *Service) reminders(a Appointment) []notify.Message {
	ids := reminderIDs(a.ID)
	start := a.Start.In(s.cfg.Location)
	data := map[string]string{"time": start.Format("2006-01-02 15:04"), "sector": a.Sector, "center": a.Center}
	var msgs []notify.Message
	for i, before := range []time.Duration{24 * time.Hour, time.Hour} {
		at := a.Start.Add(-before)
		if !at.After(s.now()) {
			continue
		}
		msgs = append(msgs, notify.Message{ID: ids[i], To: "citizen:" + a.Citizen, Kind: notify.KindAppointmentReminder,
			Data: data, Page: "pages/appointment/index?id=" + a.ID, NotBefore: at})
	}
	return msgs
}

func (s *Service) unremind(ctx context.Context, id string) {
	if s.notifier == nil {
		return
	}
	if err := s.notifier.Withdraw(context.WithoutCancel(ctx), reminderIDs(id)...); err != nil {
		s.log.ErrorContext(ctx, "appointment reminders not withdrawn", "appointment", id, "err", err)
	}
}

// own returns the booker's appointment; another person's is not found,
// and the attempt is audited.
func (s *Service) own(ctx context.Context, b Booker, id string) (Appointment, error) {
	if s.appts == nil {
		return Appointment{}, errNoAppointments
	}
	if len(id) > 64 {
		return Appointment{}, ErrAppointmentNotFound
	}
	a, err := s.appts.GetAppointment(ctx, id)
	if err != nil {
		return Appointment{}, err
	}
	if a.Citizen != b.Citizen && (b.IDIndex == "" || a.Holder != b.holder()) {
		s.record(ctx, audit.Record{Actor: "citizen:" + b.Citizen, Center: a.Center,
			Action: "appointment.read", Subject: a.Holder, Target: "appointment:" + a.ID, Outcome: audit.OutcomeDenied})
		return Appointment{}, ErrAppointmentNotFound
	}
	return a, nil
}

// Appointment returns one of the booker's appointments.
func (s *Service) Appointment(ctx context.Context, b Booker, id string) (Appointment, error) {
	return s.own(ctx, b, id)
}

// Appointments lists the booker's appointments from today on.
func (s *Service) Appointments(ctx context.Context, b Booker) ([]Appointment, error) {
	if s.appts == nil || b.IDIndex == "" {
		return nil, nil
	}
	return s.appts.HolderAppointments(ctx, b.holder(), s.today().Format("2006-01-02"), 50)
}

func (s *Service) beforeCutoff(a Appointment) error {
	if a.Status != AppointmentBooked {
		return ErrAppointmentState
	}
	if !s.now().Before(a.Start.Add(-s.booking.CancelCutoff)) {
		return apperr.New(CodeAppointmentState, fmt.Sprintf("预约开始前 %d 分钟内不能取消或改约", int(s.booking.CancelCutoff.Minutes())))
	}
	return nil
}

// Cancel cancels one of the booker's appointments before the cut-off.
func (s *Service) Cancel(ctx context.Context, b Booker, id string) (Appointment, error) {
	a, err := s.own(ctx, b, id)
	if err != nil {
		return Appointment{}, err
	}
	if err := s.beforeCutoff(a); err != nil {
		return Appointment{}, err
	}
	a, err = s.appts.Cancel(ctx, a.ID, s.now().UTC().Truncate(time.Millisecond))
	if err != nil {
		return Appointment{}, err
	}
	s.unremind(ctx, a.ID)
	return a, nil
}

// Reschedule moves one of the booker's appointments to the slot starting
// at start (same center and sector), atomically: if the new slot is
// refused the old booking stays.
func (s *Service) Reschedule(ctx context.Context, b Booker, id string, start time.Time) (Appointment, error) {
	old, err := s.own(ctx, b, id)
	if err != nil {
		return Appointment{}, err
	}
	if err := s.beforeCutoff(old); err != nil {
		return Appointment{}, err
	}
	if err := s.checkBooker(ctx, b); err != nil {
		return Appointment{}, err
	}
	sl, day, err := s.slotAt(ctx, old.Center, old.Sector, start)
	if err != nil {
		return Appointment{}, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	next := Appointment{
		ID: "ap" + audit.NewID(now), Center: old.Center, Sector: old.Sector, Day: day, Start: sl.Start, End: sl.End,
		Holder: old.Holder, Citizen: b.Citizen, Status: AppointmentBooked, BookedAt: now,
	}
	next, err = s.appts.Reschedule(ctx, old.ID, next, sl.Capacity, now)
	if err != nil {
		return Appointment{}, err
	}
	s.unremind(ctx, old.ID)
	s.remind(ctx, next)
	return next, nil
}

// CheckIn signs in the holder's appointment at center for now (from
// CheckInBefore before its start to CheckInAfter after) and gives them an
// appointment-priority ticket.
func (s *Service) CheckIn(ctx context.Context, center, holder string) (Appointment, Position, error) {
	if s.appts == nil {
		return Appointment{}, Position{}, errNoAppointments
	}
	now := s.now()
	list, err := s.appts.HolderAppointments(ctx, holder, now.In(s.cfg.Location).Format("2006-01-02"), 50)
	if err != nil {
		return Appointment{}, Position{}, err
	}
	var early, late *Appointment
	for i := range list {
		a := list[i]
		if a.Center != center || a.Status != AppointmentBooked || a.Day != now.In(s.cfg.Location).Format("2006-01-02") {
			continue
		}
		switch {
		case now.Before(a.Start.Add(-s.booking.CheckInBefore)):
			if early == nil {
				early = &list[i]
			}
		case now.After(a.Start.Add(s.booking.CheckInAfter)):
			late = &list[i]
		default:
			return s.checkIn(ctx, a)
		}
	}
	if early != nil {
		from := early.Start.Add(-s.booking.CheckInBefore).In(s.cfg.Location)
		return Appointment{}, Position{}, apperr.New(CodeCheckInEarly, fmt.Sprintf("您预约的是 %s，请于 %s 之后签到", early.Start.In(s.cfg.Location).Format("15:04"), from.Format("15:04")))
	}
	if late != nil {
		return Appointment{}, Position{}, apperr.New(CodeCheckInLate, fmt.Sprintf("您预约的 %s 已超过签到时间，请取普通号排队", late.Start.In(s.cfg.Location).Format("15:04")))
	}
	return Appointment{}, Position{}, apperr.New(apperr.NotFound, "没有查到您今天在本中心的预约")
}

func (s *Service) checkIn(ctx context.Context, a Appointment) (Appointment, Position, error) {
	p, err := s.Take(ctx, TakeRequest{Center: a.Center, Sector: a.Sector, Channel: ChannelAppointment, Holder: a.Holder, Priority: PriorityAppointment})
	if err != nil {
		return Appointment{}, Position{}, err
	}
	a, err = s.appts.CheckIn(ctx, a.ID, s.now().UTC().Truncate(time.Millisecond), p.Ticket.ID)
	if err != nil {
		// Cancelled between the read and now: the ticket stands, as the
		// person is in the hall, but with no appointment behind it.
		s.log.WarnContext(ctx, "check-in lost its appointment", "appointment", a.ID, "ticket", p.Ticket.ID, "err", err)
		return Appointment{}, Position{}, err
	}
	s.unremind(ctx, a.ID)
	return a, p, nil
}

// SetSlotCapacity sets the places of one slot, by a supervisor or admin.
func (s *Service) SetSlotCapacity(ctx context.Context, actor, center, sector string, start time.Time, capacity int) error {
	if capacity < 0 || capacity > 1000 {
		return apperr.Fields(apperr.FieldError{Field: "capacity", Message: "名额须在 0-1000 之间（0 为默认）"})
	}
	day := start.In(s.cfg.Location).Format("2006-01-02")
	ds, err := s.Slots(ctx, center, sector, day)
	if err != nil {
		return err
	}
	found := false
	for _, sl := range ds.Slots {
		found = found || sl.Start.Equal(start)
	}
	if !found {
		return apperr.New(CodeSlotUnavailable, "没有这个时段")
	}
	if err := s.appts.SetSlotCapacity(ctx, center, sector, day, start.UTC(), capacity); err != nil {
		return err
	}
	s.record(ctx, audit.Record{Actor: actor, Center: center, Action: "slot.capacity",
		Target: fmt.Sprintf("slot:%s/%s/%s", center, sector, start.In(s.cfg.Location).Format(time.RFC3339)), Purpose: fmt.Sprintf("capacity=%d", capacity)})
	return nil
}

// SweepNoShows marks the appointments whose check-in closed unsigned as
// no-shows; the server runs it every minute or so.
func (s *Service) SweepNoShows(ctx context.Context) (int, error) {
	if s.appts == nil {
		return 0, nil
	}
	return s.appts.MarkNoShows(ctx, s.now().Add(-s.booking.CheckInAfter))
}

// CancelClosedBookings cancels the booked appointments from today to the
// booking horizon whose slot is no longer open (an administrator made the
// day a holiday, or shortened its hours), frees their places and tells
// each booker, through the outbox, that the center cancelled it. The
// server runs it after every calendar change it sees; it returns how
// many it cancelled, and logs a failure as well as returning it.
func (s *Service) CancelClosedBookings(ctx context.Context) (n int, err error) {
	defer func() {
		if err != nil {
			s.log.ErrorContext(ctx, "appointments on closed days not all cancelled", "cancelled", n, "err", err)
		}
	}()
	if s.appts == nil || s.cfg.Calendar == nil {
		return 0, nil
	}
	today := s.today()
	for i := 0; i <= s.booking.DaysAhead; i++ {
		day := today.AddDate(0, 0, i)
		list, err := s.appts.BookedOn(ctx, day.Format("2006-01-02"))
		if err != nil {
			return n, err
		}
		for _, a := range list {
			if s.slotOpen(a, day) {
				continue
			}
			reason := "办公时间调整"
			if len(s.cfg.Calendar.OpenSpans(a.Center, day)) == 0 {
				reason = s.cfg.Calendar.ClosedReason(a.Center, day)
			}
			c, err := s.appts.Cancel(ctx, a.ID, s.now().UTC().Truncate(time.Millisecond))
			if apperr.Is(err, CodeAppointmentState) {
				continue // checked in or cancelled meanwhile
			}
			if err != nil {
				return n, err
			}
			n++
			s.unremind(ctx, c.ID)
			start := c.Start.In(s.cfg.Location)
			s.notify(ctx, notify.Message{ID: "closed:" + c.ID, To: "citizen:" + c.Citizen, Kind: notify.KindAppointmentCancelled,
				Data: map[string]string{"time": start.Format("2006-01-02 15:04"), "sector": c.Sector, "center": c.Center, "reason": reason,
					"text": fmt.Sprintf("因%s，您 %d月%d日 %s 的预约已取消，请重新预约", reason, start.Month(), start.Day(), start.Format("15:04"))},
				Page: "pages/appointment/index?id=" + c.ID})
			s.record(ctx, audit.Record{Actor: "system", Center: c.Center, Action: "appointment.cancel", Subject: c.Holder,
				Target: "appointment:" + c.ID, Purpose: "center closed: " + reason})
		}
	}
	return n, nil
}

// slotOpen reports whether a's slot still lies within the hall's open
// hours of day.
func (s *Service) slotOpen(a Appointment, day time.Time) bool {
	for _, sp := range s.cfg.Calendar.OpenSpans(a.Center, day) {
		if !a.Start.Before(sp.From) && !a.End.After(sp.To) {
			return true
		}
	}
	return false
}
