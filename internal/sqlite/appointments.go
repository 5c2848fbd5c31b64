package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// AppointmentStore implements queue.AppointmentStore. Every change runs in
// the one writer's transaction, inside its own savepoint: a booking's
// appointment row and the place it takes in its slot row are stored
// together or not at all, and a refusal (a full slot, a second booking of
// the day) rolls back whatever the write had done. The partial unique
// index appointments_one_per_day makes "one booked or checked-in
// appointment per holder, sector and day" the database's own rule.
type AppointmentStore struct {
	db *DB
}

var _ queue.AppointmentStore = (*AppointmentStore)(nil)

// NewAppointmentStore returns the appointment store on db.
func NewAppointmentStore(db *DB) *AppointmentStore { return &AppointmentStore{db: db} }

const appointmentColumns = `id, center, sector, day, start_at, end_at, holder, citizen, status, booked_at, cancelled_at, checked_in_at, ticket, replaced_by`

func scanAppointment(sc scanner) (queue.Appointment, error) {
	var a queue.Appointment
	var start, end, booked, cancelled, checkedIn int64
	err := sc.Scan(&a.ID, &a.Center, &a.Sector, &a.Day, &start, &end, &a.Holder, &a.Citizen, &a.Status,
		&booked, &cancelled, &checkedIn, &a.Ticket, &a.ReplacedBy)
	a.Start, a.End, a.BookedAt = fromMS(start), fromMS(end), fromMS(booked)
	a.CancelledAt, a.CheckedInAt = fromMS(cancelled), fromMS(checkedIn)
	return a, err
}

// storedAppointment is a as it reads back: status booked, times in UTC
// to the millisecond.
func storedAppointment(a queue.Appointment) queue.Appointment {
	a.Status = queue.AppointmentBooked
	for _, t := range []*time.Time{&a.Start, &a.End, &a.BookedAt, &a.CancelledAt, &a.CheckedInAt} {
		*t = fromMS(ms(*t))
	}
	return a
}

// Book implements queue.AppointmentStore.
func (s *AppointmentStore) Book(ctx context.Context, a queue.Appointment, capacity int) (queue.Appointment, error) {
	a = storedAppointment(a)
	err := s.db.Write(ctx, func(tx *Tx) error { return bookAppointment(tx, a, capacity) })
	if err != nil {
		return queue.Appointment{}, err
	}
	return a, nil
}

// bookAppointment stores a and takes a place in its slot, or returns the refusal,
// which rolls back the caller's savepoint and so the half it did. The
// appointment goes first so that a holder who already has a booking that
// day hears so rather than that the slot is full, as on MongoDB.
func bookAppointment(tx *Tx, a queue.Appointment, capacity int) error {
	_, err := tx.Exec(`INSERT INTO appointments (`+appointmentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Center, a.Sector, a.Day, ms(a.Start), ms(a.End), a.Holder, a.Citizen, a.Status,
		ms(a.BookedAt), ms(a.CancelledAt), ms(a.CheckedInAt), a.Ticket, a.ReplacedBy)
	switch {
	case isUnique(err) && strings.Contains(err.Error(), "appointments.holder"):
		return queue.ErrAlreadyBooked
	case isUnique(err):
		return apperr.Wrap(apperr.Conflict, "预约编号重复", err)
	case err != nil:
		return fmt.Errorf("sqlite: book %s: %w", a.ID, err)
	}
	_, err = tx.Exec(`INSERT INTO slots (center, sector, day, start_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (center, sector, start_at) DO NOTHING`, a.Center, a.Sector, a.Day, ms(a.Start))
	if err != nil {
		return fmt.Errorf("sqlite: book %s: slot: %w", a.ID, err)
	}
	// A capacity set on the slot overrides the default the caller gives.
	res, err := tx.Exec(`UPDATE slots SET booked = booked + 1
		WHERE center = ? AND sector = ? AND start_at = ? AND booked < CASE WHEN capacity > 0 THEN capacity ELSE ? END`,
		a.Center, a.Sector, ms(a.Start), capacity)
	if err != nil {
		return fmt.Errorf("sqlite: book %s: take a place: %w", a.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: book %s: take a place: %w", a.ID, err)
	}
	if n != 1 {
		return queue.ErrSlotFull
	}
	return nil
}

// freeSlotPlace gives back the place a took in its slot.
func freeSlotPlace(tx *Tx, a queue.Appointment) error {
	_, err := tx.Exec(`UPDATE slots SET booked = booked - 1 WHERE center = ? AND sector = ? AND start_at = ? AND booked > 0`,
		a.Center, a.Sector, ms(a.Start))
	return err
}

// moveBookedAppointment moves the booked appointment id with set (an UPDATE's SET
// list, whose arguments are args) and returns it as it now is, or the
// error that tells an unknown appointment from one that is not booked.
func moveBookedAppointment(tx *Tx, id, set string, args ...any) (queue.Appointment, error) {
	a, err := scanAppointment(tx.QueryRow(`UPDATE appointments SET `+set+` WHERE id = ? AND status = 'booked' RETURNING `+appointmentColumns,
		append(args, id)...))
	if err == nil {
		return a, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return a, err
	}
	var one int
	err = tx.QueryRow(`SELECT 1 FROM appointments WHERE id = ?`, id).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return a, queue.ErrAppointmentNotFound
	case err != nil:
		return a, err
	}
	return a, queue.ErrAppointmentState
}

// Cancel implements queue.AppointmentStore.
func (s *AppointmentStore) Cancel(ctx context.Context, id string, at time.Time) (queue.Appointment, error) {
	var out queue.Appointment
	err := s.db.Write(ctx, func(tx *Tx) error {
		a, err := moveBookedAppointment(tx, id, `status = 'cancelled', cancelled_at = ?`, ms(at))
		if err != nil {
			return appointmentError(err, "cancel", id)
		}
		if err := freeSlotPlace(tx, a); err != nil {
			return fmt.Errorf("sqlite: cancel appointment %s: free its place: %w", id, err)
		}
		out = a
		return nil
	})
	return out, err
}

// appointmentError adds what was done to which appointment to a
// database error; refusals, which are for the user, pass as they are.
func appointmentError(err error, action, id string) error {
	if _, ok := apperr.As(err); ok {
		return err
	}
	return fmt.Errorf("sqlite: %s appointment %s: %w", action, id, err)
}

// Reschedule implements queue.AppointmentStore in one transaction: the old
// appointment is moved and its place freed first, so that next, booked
// after it, is refused only by the holder's other bookings; any refusal
// rolls all of it back.
func (s *AppointmentStore) Reschedule(ctx context.Context, oldID string, next queue.Appointment, capacity int, at time.Time) (queue.Appointment, error) {
	next = storedAppointment(next)
	err := s.db.Write(ctx, func(tx *Tx) error {
		old, err := scanAppointment(tx.QueryRow(`SELECT `+appointmentColumns+` FROM appointments WHERE id = ?`, oldID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return queue.ErrAppointmentNotFound
		case err != nil:
			return fmt.Errorf("sqlite: reschedule appointment %s: %w", oldID, err)
		case old.Status != queue.AppointmentBooked:
			return queue.ErrAppointmentState
		case old.Holder != next.Holder:
			return errOtherHolder()
		case sameAppointmentSlot(old, next):
			return queue.ErrSameSlot
		}
		_, err = tx.Exec(`UPDATE appointments SET status = 'rescheduled', replaced_by = ?, cancelled_at = ? WHERE id = ?`,
			next.ID, ms(at), oldID)
		if err != nil {
			return fmt.Errorf("sqlite: reschedule appointment %s: %w", oldID, err)
		}
		if err := freeSlotPlace(tx, old); err != nil {
			return fmt.Errorf("sqlite: reschedule appointment %s: free its place: %w", oldID, err)
		}
		return bookAppointment(tx, next, capacity)
	})
	if err != nil {
		return queue.Appointment{}, err
	}
	return next, nil
}

// errOtherHolder refuses a reschedule that would give the booking to
// another person.
func errOtherHolder() error {
	return apperr.New(apperr.Invalid, "改约只能改本人的预约")
}

// sameSlot reports whether a and b are bookings of one slot.
func sameAppointmentSlot(a, b queue.Appointment) bool {
	return a.Center == b.Center && a.Sector == b.Sector && ms(a.Start) == ms(b.Start)
}

// CheckIn implements queue.AppointmentStore. The appointment keeps its
// place and its holder's day.
func (s *AppointmentStore) CheckIn(ctx context.Context, id string, at time.Time, ticket string) (queue.Appointment, error) {
	var out queue.Appointment
	err := s.db.Write(ctx, func(tx *Tx) error {
		a, err := moveBookedAppointment(tx, id, `status = 'checked_in', checked_in_at = ?, ticket = ?`, ms(at), ticket)
		if err != nil {
			return appointmentError(err, "check in", id)
		}
		out = a
		return nil
	})
	return out, err
}

// GetAppointment implements queue.AppointmentStore.
func (s *AppointmentStore) GetAppointment(ctx context.Context, id string) (queue.Appointment, error) {
	a, err := queryOne(ctx, s.db, scanAppointment, queue.ErrAppointmentNotFound, `SELECT `+appointmentColumns+` FROM appointments WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return a, fmt.Errorf("sqlite: get appointment %s: %w", id, err)
	}
	return a, err
}

// HolderAppointments implements queue.AppointmentStore; appointments of
// one start come in ID order.
func (s *AppointmentStore) HolderAppointments(ctx context.Context, holder, fromDay string, limit int) ([]queue.Appointment, error) {
	if limit <= 0 {
		return []queue.Appointment{}, nil // a negative LIMIT means none to SQLite
	}
	out, err := queryAll(ctx, s.db, scanAppointment, `SELECT `+appointmentColumns+` FROM appointments
		WHERE holder = ? AND day >= ? ORDER BY start_at, id LIMIT ?`, holder, fromDay, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: appointments of a holder: %w", err)
	}
	return out, nil
}

// BookedOn implements queue.AppointmentStore.
func (s *AppointmentStore) BookedOn(ctx context.Context, day string) ([]queue.Appointment, error) {
	out, err := queryAll(ctx, s.db, scanAppointment, `SELECT `+appointmentColumns+` FROM appointments
		WHERE status = 'booked' AND day = ? ORDER BY start_at, id`, day)
	if err != nil {
		return nil, fmt.Errorf("sqlite: booked appointments of a day: %w", err)
	}
	return out, nil
}

// SlotUses implements queue.AppointmentStore.
func (s *AppointmentStore) SlotUses(ctx context.Context, center, sector, day string) ([]queue.SlotUse, error) {
	scan := func(sc scanner) (queue.SlotUse, error) {
		var u queue.SlotUse
		var start int64
		err := sc.Scan(&start, &u.Booked, &u.Capacity)
		u.Start = fromMS(start)
		return u, err
	}
	out, err := queryAll(ctx, s.db, scan, `SELECT start_at, booked, capacity FROM slots
		WHERE center = ? AND sector = ? AND day = ? AND (booked > 0 OR capacity > 0) ORDER BY start_at`, center, sector, day)
	if err != nil {
		return nil, fmt.Errorf("sqlite: slot uses of %s/%s on %s: %w", center, sector, day, err)
	}
	return out, nil
}

// SetSlotCapacity implements queue.AppointmentStore.
func (s *AppointmentStore) SetSlotCapacity(ctx context.Context, center, sector, day string, start time.Time, capacity int) error {
	if capacity < 0 {
		return errNegativeCapacity()
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO slots (center, sector, day, start_at, capacity) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (center, sector, start_at) DO UPDATE SET capacity = excluded.capacity`,
			center, sector, day, ms(start), capacity)
		if err != nil {
			return fmt.Errorf("sqlite: set slot capacity of %s/%s at %d: %w", center, sector, ms(start), err)
		}
		return nil
	})
}

func errNegativeCapacity() error {
	return apperr.Fields(apperr.FieldError{Field: "capacity", Message: "时段容量不能为负数"})
}

// MarkNoShows implements queue.AppointmentStore. A no-show keeps its
// place: its slot has passed.
func (s *AppointmentStore) MarkNoShows(ctx context.Context, startedBefore time.Time) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE appointments SET status = 'no_show' WHERE status = 'booked' AND start_at < ?`, ms(startedBefore))
		if err != nil {
			return fmt.Errorf("sqlite: mark no-shows: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// NoShows implements queue.AppointmentStore.
func (s *AppointmentStore) NoShows(ctx context.Context, holder string, since time.Time) ([]time.Time, error) {
	scan := func(sc scanner) (time.Time, error) {
		var start int64
		err := sc.Scan(&start)
		return fromMS(start), err
	}
	out, err := queryAll(ctx, s.db, scan, `SELECT start_at FROM appointments
		WHERE holder = ? AND status = 'no_show' AND start_at >= ? ORDER BY start_at`, holder, ms(since))
	if err != nil {
		return nil, fmt.Errorf("sqlite: no-shows of a holder: %w", err)
	}
	return out, nil
}
