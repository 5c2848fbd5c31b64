package queue

import (
	"context"
	"time"

	"github.com/banhao/banhao/internal/apperr"
)

// AppointmentStatus is where an appointment (预约) is in its life.
type AppointmentStatus string

// Appointment statuses.
const (
	AppointmentBooked    AppointmentStatus = "booked"
	AppointmentCancelled AppointmentStatus = "cancelled"
	// AppointmentCheckedIn: signed in at a kiosk in time; Ticket names the
	// appointment-priority ticket it gave.
	AppointmentCheckedIn AppointmentStatus = "checked_in"
	// AppointmentNoShow (爽约): still booked when the check-in window closed.
	AppointmentNoShow AppointmentStatus = "no_show"
	// AppointmentRescheduled: replaced by another appointment (改约).
	AppointmentRescheduled AppointmentStatus = "rescheduled"
)

// Appointment is a booked place in a slot.
type Appointment struct {
	ID     string
	Center string
	Sector string
	// Day is the center's local date of the slot, "2026-11-26".
	Day string
	// Start and End bound the slot, in UTC to the millisecond.
	Start time.Time
	End   time.Time
	// Holder is the person by real name, "id:<blind index of the ID
	// number>": one booking per ID number, sector and day.
	Holder string
	// Citizen is the mini-program account that booked, for its list and
	// its reminders.
	Citizen     string
	Status      AppointmentStatus
	BookedAt    time.Time
	CancelledAt time.Time
	CheckedInAt time.Time
	// Ticket is the ticket the check-in gave.
	Ticket string
	// ReplacedBy is the appointment a reschedule moved this one to.
	ReplacedBy string
}

// SlotUse is what the store knows of one slot: its bookings and the
// capacity an administrator set for it (0: none set, the default applies).
type SlotUse struct {
	Start    time.Time
	Booked   int
	Capacity int
}

// AppointmentStore is what appointments need from storage. Every method
// that changes a slot's bookings does it atomically: a single-document
// conditional update on MongoDB, a statement in the writer's transaction
// on SQLite, so that concurrent bookings never exceed a slot's capacity.
type AppointmentStore interface {
	// Book stores a (status booked) and takes one place of its slot
	// (Center, Sector, Start), atomically and only if: the slot has fewer
	// than capacity places taken, else ErrSlotFull; and a.Holder has no
	// booked or checked-in appointment in a.Center and a.Sector on a.Day,
	// else ErrAlreadyBooked. A refused booking changes nothing.
	Book(ctx context.Context, a Appointment, capacity int) (Appointment, error)
	// Cancel moves a booked appointment to cancelled at at and frees its
	// place; ErrAppointmentState if it is not booked, apperr.NotFound if
	// there is no such appointment.
	Cancel(ctx context.Context, id string, at time.Time) (Appointment, error)
	// Reschedule replaces the booked appointment oldID with next, which
	// must have the same Holder, atomically: next is booked as Book would
	// (a place in its slot within capacity; the holder's other bookings
	// that day in that sector, except oldID, refuse it), oldID becomes
	// rescheduled with ReplacedBy = next.ID and frees its place. If next
	// is refused, oldID stays booked. A reschedule within the same slot
	// is refused with ErrSameSlot.
	Reschedule(ctx context.Context, oldID string, next Appointment, capacity int, at time.Time) (Appointment, error)
	// CheckIn moves a booked appointment to checked_in at at with the
	// ticket it gave; ErrAppointmentState if it is not booked.
	CheckIn(ctx context.Context, id string, at time.Time, ticket string) (Appointment, error)
	// GetAppointment returns an appointment (apperr.NotFound if none).
	GetAppointment(ctx context.Context, id string) (Appointment, error)
	// HolderAppointments returns holder's appointments whose Day is on or
	// after fromDay, earliest Start first, at most limit.
	HolderAppointments(ctx context.Context, holder, fromDay string, limit int) ([]Appointment, error)
	// BookedOn returns the booked appointments of every center on day,
	// earliest Start first.
	BookedOn(ctx context.Context, day string) ([]Appointment, error)
	// SlotUses returns the slots of center, sector and day that have
	// bookings or a capacity set, by Start.
	SlotUses(ctx context.Context, center, sector, day string) ([]SlotUse, error)
	// SetSlotCapacity sets a slot's capacity (0 returns it to the
	// default). Places already booked beyond it stay booked.
	SetSlotCapacity(ctx context.Context, center, sector, day string, start time.Time, capacity int) error
	// MarkNoShows moves every booked appointment whose Start is before
	// startedBefore to no_show and returns how many it moved.
	MarkNoShows(ctx context.Context, startedBefore time.Time) (int, error)
	// NoShows returns the Starts of holder's no_show appointments whose
	// Start is at or after since, earliest first.
	NoShows(ctx context.Context, holder string, since time.Time) ([]time.Time, error)
}

// Appointment error codes.
const (
	// CodeSlotFull: no place left in the slot.
	CodeSlotFull apperr.Code = "slot_full"
	// CodeAlreadyBooked: the person has a booking in the sector that day.
	CodeAlreadyBooked apperr.Code = "already_booked"
	// CodeSlotUnavailable: the slot is past, on a holiday, outside hours,
	// beyond the booking horizon, or not a slot at all.
	CodeSlotUnavailable apperr.Code = "slot_unavailable"
	// CodeAppointmentState: the appointment is not booked any more
	// (cancelled, checked in, no-show), or it is too late to cancel it.
	CodeAppointmentState apperr.Code = "appointment_state"
	// CodeBookingSuspended: three no-shows in 30 days suspend booking.
	CodeBookingSuspended apperr.Code = "booking_suspended"
	// CodeCheckInEarly and CodeCheckInLate: check-in is open from 30
	// minutes before to 15 minutes after the slot's start.
	CodeCheckInEarly apperr.Code = "checkin_too_early"
	CodeCheckInLate  apperr.Code = "checkin_too_late"
	// CodeRealNameRequired: booking is by real name.
	CodeRealNameRequired apperr.Code = "real_name_required"
)

// Errors the appointment store returns.
var (
	ErrSlotFull            = apperr.New(CodeSlotFull, "该时段已约满，请选择其他时段")
	ErrAlreadyBooked       = apperr.New(CodeAlreadyBooked, "您当天在该板块已有预约")
	ErrAppointmentState    = apperr.New(CodeAppointmentState, "该预约当前状态不允许此操作，请刷新")
	ErrSameSlot            = apperr.New(CodeSlotUnavailable, "新时段与原预约相同")
	ErrAppointmentNotFound = apperr.New(apperr.NotFound, "没有这个预约")
)
