package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestAppointmentStore is the contract of queue.AppointmentStore.
func TestAppointmentStore(t *testing.T) {
	runContract(t, pickAppointments, appointmentScenarios)
}

// pickAppointments builds the appointment store on the backend's database.
func pickAppointments(s stores) queue.AppointmentStore {
	if s.sqlite != nil {
		return sqlite.NewAppointmentStore(s.sqlite)
	}
	return mongo.NewAppointmentStore(s.mongo)
}

var appointmentScenarios = []scenario[queue.AppointmentStore]{
	{"a booking reads back equal: status booked, times in UTC to the millisecond, one place taken", testApptBookGet},
	{"unknown appointments are not found, by any method", testApptNotFound},
	{"a full slot refuses with slot_full and changes nothing", testApptSlotFull},
	{"one booking per holder, sector and day; other sectors, days, centers and holders are free", testApptOnePerDay},
	{"a checked-in appointment holds the day; cancelled and no-show ones do not", testApptDayHeld},
	{"a taken appointment ID is a conflict and takes no place", testApptDuplicateID},
	{"cancel frees the place; cancelling a cancelled or checked-in appointment is refused and changes nothing", testApptCancel},
	{"check-in keeps the place and records time and ticket, once", testApptCheckIn},
	{"reschedule to another slot of the day: the old one is rescheduled and frees its place", testApptReschedule},
	{"reschedule to another day or sector frees the old day", testApptRescheduleOtherDay},
	{"a refused reschedule leaves the old appointment booked and every slot as it was", testApptRescheduleRefused},
	{"a slot's capacity overrides the default; below its bookings it keeps them and refuses new ones", testApptCapacity},
	{"slot uses: the day's slots with bookings or a capacity, by start, of that center and sector", testApptSlotUses},
	{"a holder's appointments from a day on, earliest first, limited, in every status", testApptHolderList},
	{"booked on: every center's booked appointments of a day, earliest first", testApptBookedOn},
	{"mark no-shows moves the booked appointments started before the time, once", testApptMarkNoShows},
	{"no-shows: the holder's no-show starts since a time, earliest first", testApptNoShows},
	{"2,000 concurrent bookings of a slot with 50 places: exactly 50 succeed", testApptBookRace},
	{"concurrent bookings of a slot with a capacity set never go beyond it", testApptCapacityRace},
	{"one holder's 20 concurrent bookings of one day and sector: one succeeds, no place leaks", testApptHolderRace},
	{"concurrent reschedules of one appointment: one wins, the others change nothing", testApptRescheduleRace},
	{"concurrent cancels of one appointment free one place", testApptCancelRace},
}

// apFerretInFlight is how many racing attempts run at once on the
// embedded FerretDB; see apRace.
const apFerretInFlight = 100

// apZone is the centers' time zone.
var apZone = time.FixedZone("CST", 8*3600)

const apDay = "2025-03-20"

// apSlot is the start of a slot of apDay, at h:m in the centers' zone.
func apSlot(h, m int) time.Time { return apSlotOn(20, h, m) }

// apSlotOn is the start of a slot on a day of March 2025.
func apSlotOn(day, h, m int) time.Time { return time.Date(2025, 3, day, h, m, 0, 0, apZone) }

// appt is holder's booking of a 30-minute slot of center c1, sector tax,
// starting at start, made at at.
func appt(id, holder string, start time.Time) queue.Appointment {
	return queue.Appointment{
		ID: id, Center: "c1", Sector: "tax", Day: start.In(apZone).Format(time.DateOnly),
		Start: start, End: start.Add(30 * time.Minute), Holder: holder, Citizen: "cz-" + holder,
		Status: queue.AppointmentBooked, BookedAt: at,
	}
}

// apptIn is appt in another sector.
func apptIn(sector, id, holder string, start time.Time) queue.Appointment {
	a := appt(id, holder, start)
	a.Sector = sector
	return a
}

// storedAppt is how a store returns a booking it was given.
func storedAppt(a queue.Appointment) queue.Appointment {
	a.Status = queue.AppointmentBooked
	a.Start, a.End, a.BookedAt = stored(a.Start), stored(a.End), stored(a.BookedAt)
	a.CancelledAt, a.CheckedInAt = stored(a.CancelledAt), stored(a.CheckedInAt)
	return a
}

// book books a and checks that what it returns is what is stored.
func book(t *testing.T, s queue.AppointmentStore, a queue.Appointment, capacity int) queue.Appointment {
	t.Helper()
	got, err := s.Book(t.Context(), a, capacity)
	must(t, "book "+a.ID, err)
	if want := storedAppt(a); !reflect.DeepEqual(got, want) {
		t.Errorf("book %s returned\n %+v\nwant\n %+v", a.ID, got, want)
	}
	if read := getAppt(t, s, a.ID); !reflect.DeepEqual(read, got) {
		t.Errorf("book %s returned\n %+v\nstored\n %+v", a.ID, got, read)
	}
	return got
}

func getAppt(t *testing.T, s queue.AppointmentStore, id string) queue.Appointment {
	t.Helper()
	got, err := s.GetAppointment(t.Context(), id)
	must(t, "get appointment "+id, err)
	return got
}

func wantNoAppt(t *testing.T, s queue.AppointmentStore, what, id string) {
	t.Helper()
	if got, err := s.GetAppointment(t.Context(), id); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("%s: appointment %s stored anyway: %+v, %v", what, id, got, err)
	}
}

func slotUses(t *testing.T, s queue.AppointmentStore, center, sector, day string) []queue.SlotUse {
	t.Helper()
	got, err := s.SlotUses(t.Context(), center, sector, day)
	must(t, "slot uses of "+center+"/"+sector+" on "+day, err)
	for _, u := range got {
		if u.Start.Location() != time.UTC {
			t.Errorf("slot use start %v not in UTC", u.Start)
		}
	}
	return got
}

// taxUses are the slot uses of c1, tax on apDay.
func taxUses(t *testing.T, s queue.AppointmentStore) []queue.SlotUse {
	t.Helper()
	return slotUses(t, s, "c1", "tax", apDay)
}

// booked is how many places of a's slot are taken.
func booked(t *testing.T, s queue.AppointmentStore, a queue.Appointment) int {
	t.Helper()
	for _, u := range slotUses(t, s, a.Center, a.Sector, a.Day) {
		if u.Start.Equal(a.Start) {
			return u.Booked
		}
	}
	return 0
}

// use is a slot use as SlotUses returns it.
func use(start time.Time, booked, capacity int) queue.SlotUse {
	return queue.SlotUse{Start: stored(start), Booked: booked, Capacity: capacity}
}

func wantUses(t *testing.T, what string, got []queue.SlotUse, want ...queue.SlotUse) {
	t.Helper()
	if want == nil {
		want = []queue.SlotUse{}
	}
	if got == nil {
		got = []queue.SlotUse{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: slot uses\n %+v\nwant\n %+v", what, got, want)
	}
}

// wantBookRefused checks that booking a is refused with code and changes
// neither a's day in its sector nor, if a's ID is taken, that appointment.
func wantBookRefused(t *testing.T, s queue.AppointmentStore, what string, a queue.Appointment, capacity int, code apperr.Code) {
	t.Helper()
	before := slotUses(t, s, a.Center, a.Sector, a.Day)
	prev, prevErr := s.GetAppointment(t.Context(), a.ID)
	_, err := s.Book(t.Context(), a, capacity)
	wantCode(t, what, err, code)
	wantUses(t, what+": refused booking changed the slots", slotUses(t, s, a.Center, a.Sector, a.Day), before...)
	if prevErr != nil {
		wantNoAppt(t, s, what, a.ID)
	} else if now := getAppt(t, s, a.ID); !reflect.DeepEqual(now, prev) {
		t.Errorf("%s: refused booking changed %s:\n was %+v\n now %+v", what, a.ID, prev, now)
	}
}

func testApptBookGet(t *testing.T, s queue.AppointmentStore) {
	a := appt("ap1", "id:h1", apSlot(9, 0))
	a.Status = "" // Book stores it booked whatever it says
	got := book(t, s, a, 5)
	if got.Status != queue.AppointmentBooked || !got.BookedAt.Equal(stored(at)) || got.Day != apDay {
		t.Errorf("booked %+v, want status booked, booked at %v, day %s", got, stored(at), apDay)
	}
	read := getAppt(t, s, "ap1")
	for _, tm := range []time.Time{read.Start, read.End, read.BookedAt, read.CancelledAt, read.CheckedInAt} {
		if tm.Location() != time.UTC {
			t.Errorf("time %v not in UTC", tm)
		}
	}
	if !read.CancelledAt.IsZero() || !read.CheckedInAt.IsZero() || read.Ticket != "" || read.ReplacedBy != "" {
		t.Errorf("new booking has cancel, check-in or replacement set: %+v", read)
	}
	wantUses(t, "one booking", taxUses(t, s), use(apSlot(9, 0), 1, 0))
	book(t, s, appt("ap2", "id:h2", apSlot(9, 0)), 5)
	wantUses(t, "two bookings", taxUses(t, s), use(apSlot(9, 0), 2, 0))
}

func testApptNotFound(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	_, err := s.GetAppointment(ctx, "no-such-appointment")
	wantCode(t, "get unknown appointment", err, apperr.NotFound)
	_, err = s.Cancel(ctx, "no-such-appointment", at)
	wantCode(t, "cancel unknown appointment", err, apperr.NotFound)
	_, err = s.CheckIn(ctx, "no-such-appointment", at, "tk1")
	wantCode(t, "check in unknown appointment", err, apperr.NotFound)
	_, err = s.Reschedule(ctx, "no-such-appointment", appt("ap2", "id:h1", apSlot(10, 0)), 5, at)
	wantCode(t, "reschedule unknown appointment", err, apperr.NotFound)
	wantNoAppt(t, s, "reschedule of an unknown appointment", "ap2")
	wantUses(t, "after the unknown reschedule", taxUses(t, s))

	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 5)
	_, err = s.GetAppointment(ctx, "ap")
	wantCode(t, "get by a prefix of an ID", err, apperr.NotFound)
	_, err = s.Cancel(ctx, "ap", at)
	wantCode(t, "cancel by a prefix of an ID", err, apperr.NotFound)
	if got := getAppt(t, s, "ap1"); got.Status != queue.AppointmentBooked {
		t.Errorf("ap1 is %s after actions on other IDs, want booked", got.Status)
	}
}

func testApptSlotFull(t *testing.T, s queue.AppointmentStore) {
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 2)
	book(t, s, appt("ap2", "id:h2", apSlot(9, 0)), 2)
	wantBookRefused(t, s, "third booking of a 2-place slot", appt("ap3", "id:h3", apSlot(9, 0)), 2, queue.CodeSlotFull)
	_, err := s.Book(t.Context(), appt("ap3", "id:h3", apSlot(9, 0)), 2)
	if !errors.Is(err, queue.ErrSlotFull) {
		t.Errorf("full slot: %v, want ErrSlotFull", err)
	}
	wantUses(t, "full slot", taxUses(t, s), use(apSlot(9, 0), 2, 0))
	// The refusals held nothing for h3: another slot of the day is free to it.
	book(t, s, appt("ap4", "id:h3", apSlot(9, 30)), 2)
	// A default of no places refuses, and leaves no slot behind.
	wantBookRefused(t, s, "booking with no places", appt("ap5", "id:h5", apSlot(10, 0)), 0, queue.CodeSlotFull)
	wantUses(t, "after all", taxUses(t, s), use(apSlot(9, 0), 2, 0), use(apSlot(9, 30), 1, 0))
}

func testApptOnePerDay(t *testing.T, s queue.AppointmentStore) {
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 5)
	wantBookRefused(t, s, "second booking of the day, another slot", appt("ap2", "id:h1", apSlot(9, 30)), 5, queue.CodeAlreadyBooked)
	wantBookRefused(t, s, "second booking of the day, same slot", appt("ap3", "id:h1", apSlot(9, 0)), 5, queue.CodeAlreadyBooked)
	_, err := s.Book(t.Context(), appt("ap3", "id:h1", apSlot(9, 0)), 5)
	if !errors.Is(err, queue.ErrAlreadyBooked) {
		t.Errorf("second booking: %v, want ErrAlreadyBooked", err)
	}
	// A full slot says first that the holder has a booking that day.
	book(t, s, appt("ap4", "id:h2", apSlot(10, 0)), 1)
	wantBookRefused(t, s, "second booking of the day in a full slot", appt("ap5", "id:h1", apSlot(10, 0)), 1, queue.CodeAlreadyBooked)
	wantUses(t, "after the refusals", taxUses(t, s), use(apSlot(9, 0), 1, 0), use(apSlot(10, 0), 1, 0))

	book(t, s, apptIn("social", "ap6", "id:h1", apSlot(9, 30)), 5)
	book(t, s, appt("ap7", "id:h1", apSlotOn(21, 9, 30)), 5)
	other := appt("ap8", "id:h1", apSlot(9, 30))
	other.Center = "c2"
	book(t, s, other, 5)
	book(t, s, appt("ap9", "id:h3", apSlot(9, 0)), 5)
	wantUses(t, "tax of c1 on the day", taxUses(t, s), use(apSlot(9, 0), 2, 0), use(apSlot(10, 0), 1, 0))
	wantBookRefused(t, s, "second booking in social", apptIn("social", "ap10", "id:h1", apSlot(11, 0)), 5, queue.CodeAlreadyBooked)
}

func testApptDayHeld(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 5)
	_, err := s.CheckIn(ctx, "ap1", apSlot(8, 45), "tk1")
	must(t, "check in ap1", err)
	wantBookRefused(t, s, "booking of a holder checked in that day", appt("ap2", "id:h1", apSlot(9, 30)), 5, queue.CodeAlreadyBooked)

	book(t, s, appt("ap3", "id:h2", apSlot(9, 0)), 5)
	_, err = s.Cancel(ctx, "ap3", at.Add(time.Hour))
	must(t, "cancel ap3", err)
	book(t, s, appt("ap4", "id:h2", apSlot(9, 30)), 5)
	wantBookRefused(t, s, "third booking after a cancel and a rebooking", appt("ap5", "id:h2", apSlot(9, 0)), 5, queue.CodeAlreadyBooked)
	// Cancelled again, the same slot can be booked again.
	_, err = s.Cancel(ctx, "ap4", at.Add(time.Hour))
	must(t, "cancel ap4", err)
	book(t, s, appt("ap6", "id:h2", apSlot(9, 0)), 5)

	book(t, s, appt("ap7", "id:h3", apSlot(8, 0)), 5)
	n, err := s.MarkNoShows(ctx, apSlot(8, 30))
	must(t, "mark no-shows", err)
	if n != 1 {
		t.Fatalf("%d no-shows marked, want 1 (ap7)", n)
	}
	book(t, s, appt("ap8", "id:h3", apSlot(11, 0)), 5)
	wantUses(t, "after it all", taxUses(t, s),
		use(apSlot(8, 0), 1, 0), use(apSlot(9, 0), 2, 0), use(apSlot(11, 0), 1, 0))
}

func testApptDuplicateID(t *testing.T, s queue.AppointmentStore) {
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 5)
	wantBookRefused(t, s, "a taken ID, another holder and slot", appt("ap1", "id:h2", apSlot(9, 30)), 5, apperr.Conflict)
	wantUses(t, "after the conflict", taxUses(t, s), use(apSlot(9, 0), 1, 0))
	// The refusal held nothing for h2.
	book(t, s, appt("ap2", "id:h2", apSlot(9, 30)), 5)
}

func testApptCancel(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	first := book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 1)
	wantBookRefused(t, s, "booking of a taken 1-place slot", appt("ap2", "id:h2", apSlot(9, 0)), 1, queue.CodeSlotFull)

	when := at.Add(time.Hour + 999)
	got, err := s.Cancel(ctx, "ap1", when)
	must(t, "cancel ap1", err)
	want := first
	want.Status, want.CancelledAt = queue.AppointmentCancelled, stored(when)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cancel:\n got %+v\nwant %+v", got, want)
	}
	if read := getAppt(t, s, "ap1"); !reflect.DeepEqual(read, want) {
		t.Errorf("cancelled appointment reads\n %+v\nwant %+v", read, want)
	}
	wantUses(t, "after the cancel", taxUses(t, s))
	book(t, s, appt("ap2", "id:h2", apSlot(9, 0)), 1)

	_, err = s.Cancel(ctx, "ap1", at.Add(2*time.Hour))
	wantCode(t, "cancel a cancelled appointment", err, queue.CodeAppointmentState)
	if !errors.Is(err, queue.ErrAppointmentState) {
		t.Errorf("cancel a cancelled appointment: %v, want ErrAppointmentState", err)
	}
	if read := getAppt(t, s, "ap1"); !reflect.DeepEqual(read, want) {
		t.Errorf("refused cancel changed ap1:\n %+v\nwant %+v", read, want)
	}
	wantUses(t, "after the refused cancel", taxUses(t, s), use(apSlot(9, 0), 1, 0))

	checkedIn, err := s.CheckIn(ctx, "ap2", apSlot(8, 50), "tk1")
	must(t, "check in ap2", err)
	_, err = s.Cancel(ctx, "ap2", at.Add(2*time.Hour))
	wantCode(t, "cancel a checked-in appointment", err, queue.CodeAppointmentState)
	if read := getAppt(t, s, "ap2"); !reflect.DeepEqual(read, checkedIn) {
		t.Errorf("refused cancel changed ap2:\n %+v\nwant %+v", read, checkedIn)
	}
	wantUses(t, "after the refused cancel of a checked-in appointment", taxUses(t, s), use(apSlot(9, 0), 1, 0))
}

func testApptCheckIn(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	first := book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 1)
	when := apSlot(8, 40).Add(999)
	got, err := s.CheckIn(ctx, "ap1", when, "tk-A001")
	must(t, "check in", err)
	want := first
	want.Status, want.CheckedInAt, want.Ticket = queue.AppointmentCheckedIn, stored(when), "tk-A001"
	if !reflect.DeepEqual(got, want) {
		t.Errorf("check in:\n got %+v\nwant %+v", got, want)
	}
	if read := getAppt(t, s, "ap1"); !reflect.DeepEqual(read, want) {
		t.Errorf("checked-in appointment reads\n %+v\nwant %+v", read, want)
	}
	if got.CheckedInAt.Location() != time.UTC {
		t.Errorf("checked in at %v, not in UTC", got.CheckedInAt)
	}
	wantUses(t, "a checked-in appointment keeps its place", taxUses(t, s), use(apSlot(9, 0), 1, 0))
	wantBookRefused(t, s, "the checked-in appointment's place", appt("ap2", "id:h2", apSlot(9, 0)), 1, queue.CodeSlotFull)

	_, err = s.CheckIn(ctx, "ap1", when.Add(time.Minute), "tk-A002")
	wantCode(t, "check in twice", err, queue.CodeAppointmentState)
	if read := getAppt(t, s, "ap1"); !reflect.DeepEqual(read, want) {
		t.Errorf("refused check-in changed ap1:\n %+v\nwant %+v", read, want)
	}

	book(t, s, appt("ap3", "id:h3", apSlot(9, 30)), 1)
	cancelled, err := s.Cancel(ctx, "ap3", at)
	must(t, "cancel ap3", err)
	_, err = s.CheckIn(ctx, "ap3", when, "tk-A003")
	wantCode(t, "check in a cancelled appointment", err, queue.CodeAppointmentState)
	if read := getAppt(t, s, "ap3"); !reflect.DeepEqual(read, cancelled) {
		t.Errorf("refused check-in changed ap3:\n %+v\nwant %+v", read, cancelled)
	}
}

func testApptReschedule(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	old := book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 1)
	next := appt("ap2", "id:h1", apSlot(9, 30))
	when := at.Add(time.Hour + 999)
	next.BookedAt = when
	got, err := s.Reschedule(ctx, "ap1", next, 1, when)
	must(t, "reschedule", err)
	if want := storedAppt(next); !reflect.DeepEqual(got, want) {
		t.Errorf("reschedule returned\n %+v\nwant\n %+v", got, want)
	}
	if read := getAppt(t, s, "ap2"); !reflect.DeepEqual(read, got) {
		t.Errorf("new appointment reads\n %+v\nreschedule returned\n %+v", read, got)
	}
	want := old
	want.Status, want.ReplacedBy, want.CancelledAt = queue.AppointmentRescheduled, "ap2", stored(when)
	if read := getAppt(t, s, "ap1"); !reflect.DeepEqual(read, want) {
		t.Errorf("old appointment reads\n %+v\nwant\n %+v", read, want)
	}
	wantUses(t, "after the reschedule", taxUses(t, s), use(apSlot(9, 30), 1, 0))

	// The old place is free, the new appointment holds the day.
	book(t, s, appt("ap3", "id:h2", apSlot(9, 0)), 1)
	wantBookRefused(t, s, "another booking of the day", appt("ap4", "id:h1", apSlot(10, 0)), 1, queue.CodeAlreadyBooked)
	_, err = s.Reschedule(ctx, "ap1", appt("ap5", "id:h1", apSlot(10, 0)), 1, when)
	wantCode(t, "reschedule the rescheduled appointment", err, queue.CodeAppointmentState)
	wantNoAppt(t, s, "reschedule of a rescheduled appointment", "ap5")

	// The new appointment can be moved again, back to a free slot.
	again, err := s.Reschedule(ctx, "ap2", appt("ap6", "id:h1", apSlot(10, 0)), 1, when)
	must(t, "reschedule again", err)
	if again.ID != "ap6" || again.Status != queue.AppointmentBooked {
		t.Errorf("second reschedule returned %+v", again)
	}
	wantUses(t, "after the second reschedule", taxUses(t, s), use(apSlot(9, 0), 1, 0), use(apSlot(10, 0), 1, 0))
}

func testApptRescheduleOtherDay(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 5)
	_, err := s.Reschedule(ctx, "ap1", appt("ap2", "id:h1", apSlotOn(21, 9, 0)), 5, at)
	must(t, "reschedule to the next day", err)
	wantUses(t, "the old day", taxUses(t, s))
	wantUses(t, "the new day", slotUses(t, s, "c1", "tax", "2025-03-21"), use(apSlotOn(21, 9, 0), 1, 0))
	book(t, s, appt("ap3", "id:h1", apSlot(10, 0)), 5)
	wantBookRefused(t, s, "a second booking of the new day", appt("ap4", "id:h1", apSlotOn(21, 10, 0)), 5, queue.CodeAlreadyBooked)

	_, err = s.Reschedule(ctx, "ap3", apptIn("social", "ap5", "id:h1", apSlot(10, 0)), 5, at)
	must(t, "reschedule to another sector, same start", err)
	wantUses(t, "tax after the move to social", taxUses(t, s))
	wantUses(t, "social", slotUses(t, s, "c1", "social", apDay), use(apSlot(10, 0), 1, 0))
	book(t, s, appt("ap6", "id:h1", apSlot(11, 0)), 5)
}

// apptState is what a refused call must leave as it was.
type apptState struct {
	appointments map[string]queue.Appointment
	uses         map[string][]queue.SlotUse
}

func snapshotAppts(t *testing.T, s queue.AppointmentStore, ids []string, sectorDays [][2]string) apptState {
	t.Helper()
	st := apptState{appointments: map[string]queue.Appointment{}, uses: map[string][]queue.SlotUse{}}
	for _, id := range ids {
		if a, err := s.GetAppointment(t.Context(), id); err == nil {
			st.appointments[id] = a
		} else if !apperr.Is(err, apperr.NotFound) {
			t.Fatalf("get %s: %v", id, err)
		}
	}
	for _, sd := range sectorDays {
		st.uses[sd[0]+" "+sd[1]] = slotUses(t, s, "c1", sd[0], sd[1])
	}
	return st
}

func testApptRescheduleRefused(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 2)
	book(t, s, appt("full", "id:h2", apSlot(9, 30)), 1)
	book(t, s, apptIn("social", "soc", "id:h1", apSlot(10, 0)), 5)
	book(t, s, appt("next-day", "id:h1", apSlotOn(21, 9, 0)), 5)
	ids := []string{"ap1", "full", "soc", "next-day", "new"}
	where := [][2]string{{"tax", apDay}, {"social", apDay}, {"tax", "2025-03-21"}}
	before := snapshotAppts(t, s, ids, where)

	refused := []struct {
		what string
		next queue.Appointment
		code apperr.Code
		is   error
	}{
		{"to a full slot", appt("new", "id:h1", apSlot(9, 30)), queue.CodeSlotFull, queue.ErrSlotFull},
		{"to the same slot", appt("new", "id:h1", apSlot(9, 0)), queue.CodeSlotUnavailable, queue.ErrSameSlot},
		{"to a sector the holder has a booking in that day", apptIn("social", "new", "id:h1", apSlot(11, 0)), queue.CodeAlreadyBooked, queue.ErrAlreadyBooked},
		{"to a day the holder has a booking in that sector", appt("new", "id:h1", apSlotOn(21, 10, 0)), queue.CodeAlreadyBooked, queue.ErrAlreadyBooked},
		{"to another person", appt("new", "id:h9", apSlot(10, 0)), apperr.Invalid, nil},
		{"under a taken ID", appt("full", "id:h1", apSlot(10, 0)), apperr.Conflict, nil},
	}
	for _, r := range refused {
		_, err := s.Reschedule(ctx, "ap1", r.next, 1, at)
		wantCode(t, "reschedule "+r.what, err, r.code)
		if r.is != nil && !errors.Is(err, r.is) {
			t.Errorf("reschedule %s: %v, want %v", r.what, err, r.is)
		}
		if after := snapshotAppts(t, s, ids, where); !reflect.DeepEqual(after, before) {
			t.Errorf("refused reschedule %s changed the store:\n was %+v\n now %+v", r.what, before, after)
		}
	}

	// Nothing of the refusals stays in the way.
	got, err := s.Reschedule(ctx, "ap1", appt("new", "id:h1", apSlot(10, 0)), 5, at)
	must(t, "reschedule after the refusals", err)
	if got.ID != "new" {
		t.Errorf("reschedule returned %+v", got)
	}
	wantUses(t, "tax after the reschedule", taxUses(t, s), use(apSlot(9, 30), 1, 0), use(apSlot(10, 0), 1, 0))

	_, err = s.Cancel(ctx, "soc", at)
	must(t, "cancel soc", err)
	_, err = s.Reschedule(ctx, "soc", apptIn("social", "soc2", "id:h1", apSlot(11, 0)), 5, at)
	wantCode(t, "reschedule a cancelled appointment", err, queue.CodeAppointmentState)
	wantNoAppt(t, s, "reschedule of a cancelled appointment", "soc2")
	wantUses(t, "social after it all", slotUses(t, s, "c1", "social", apDay))
}

func testApptCapacity(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	ten := apSlot(10, 0)
	must(t, "set capacity 3", s.SetSlotCapacity(ctx, "c1", "tax", apDay, ten, 3))
	wantUses(t, "a capacity set, nothing booked", taxUses(t, s), use(ten, 0, 3))
	for i := range 3 {
		book(t, s, appt(fmt.Sprint("ap", i), fmt.Sprint("id:h", i), ten), 1)
	}
	wantBookRefused(t, s, "beyond the capacity set", appt("ap3", "id:h3", ten), 10, queue.CodeSlotFull)

	must(t, "lower the capacity to 1", s.SetSlotCapacity(ctx, "c1", "tax", apDay, ten, 1))
	wantUses(t, "capacity lowered below the bookings", taxUses(t, s), use(ten, 3, 1))
	for i := range 3 {
		if got := getAppt(t, s, fmt.Sprint("ap", i)); got.Status != queue.AppointmentBooked {
			t.Errorf("ap%d is %s after the capacity was lowered, want booked", i, got.Status)
		}
	}
	wantBookRefused(t, s, "booking of a slot over its lowered capacity", appt("ap3", "id:h3", ten), 10, queue.CodeSlotFull)
	_, err := s.Cancel(ctx, "ap0", at)
	must(t, "cancel ap0", err)
	wantBookRefused(t, s, "booking of a slot still at its lowered capacity", appt("ap3", "id:h3", ten), 10, queue.CodeSlotFull)

	must(t, "return to the default", s.SetSlotCapacity(ctx, "c1", "tax", apDay, ten, 0))
	wantUses(t, "back to the default", taxUses(t, s), use(ten, 2, 0))
	book(t, s, appt("ap3", "id:h3", ten), 3)
	wantBookRefused(t, s, "booking beyond the default", appt("ap4", "id:h4", ten), 3, queue.CodeSlotFull)

	// A capacity set and unset on an empty slot leaves it out of the uses.
	must(t, "set capacity of an empty slot", s.SetSlotCapacity(ctx, "c1", "tax", apDay, apSlot(11, 0), 2))
	must(t, "unset it", s.SetSlotCapacity(ctx, "c1", "tax", apDay, apSlot(11, 0), 0))
	wantUses(t, "after the empty slot's capacity was unset", taxUses(t, s), use(ten, 3, 0))

	err = s.SetSlotCapacity(ctx, "c1", "tax", apDay, ten, -1)
	wantCode(t, "negative capacity", err, apperr.Invalid)
	wantUses(t, "after the negative capacity", taxUses(t, s), use(ten, 3, 0))
}

func testApptSlotUses(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	wantUses(t, "nothing booked", taxUses(t, s))
	book(t, s, appt("ap1", "id:h1", apSlot(11, 0)), 5)
	book(t, s, appt("ap2", "id:h2", apSlot(9, 0)), 5)
	book(t, s, appt("ap3", "id:h3", apSlot(9, 0)), 5)
	must(t, "set a capacity", s.SetSlotCapacity(ctx, "c1", "tax", apDay, apSlot(10, 0), 4))
	book(t, s, appt("ap4", "id:h4", apSlot(8, 0)), 5)
	_, err := s.Cancel(ctx, "ap4", at)
	must(t, "cancel ap4", err)
	book(t, s, apptIn("social", "ap5", "id:h5", apSlot(9, 30)), 5)
	other := appt("ap6", "id:h6", apSlot(9, 30))
	other.Center = "c2"
	book(t, s, other, 5)
	book(t, s, appt("ap7", "id:h7", apSlotOn(21, 9, 30)), 5)

	wantUses(t, "c1 tax", taxUses(t, s), use(apSlot(9, 0), 2, 0), use(apSlot(10, 0), 0, 4), use(apSlot(11, 0), 1, 0))
	wantUses(t, "c1 social", slotUses(t, s, "c1", "social", apDay), use(apSlot(9, 30), 1, 0))
	wantUses(t, "c2 tax", slotUses(t, s, "c2", "tax", apDay), use(apSlot(9, 30), 1, 0))
	wantUses(t, "c1 tax next day", slotUses(t, s, "c1", "tax", "2025-03-21"), use(apSlotOn(21, 9, 30), 1, 0))
	wantUses(t, "a sector without bookings", slotUses(t, s, "c1", "housing", apDay))
}

func testApptHolderList(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("before", "id:h1", apSlotOn(19, 9, 0)), 5)
	book(t, s, appt("cancelled", "id:h1", apSlot(9, 0)), 5)
	_, err := s.Cancel(ctx, "cancelled", at)
	must(t, "cancel", err)
	book(t, s, appt("rebooked", "id:h1", apSlot(10, 0)), 5)
	book(t, s, appt("later", "id:h1", apSlotOn(22, 8, 0)), 5)
	book(t, s, apptIn("social", "social", "id:h1", apSlotOn(21, 15, 0)), 5)
	_, err = s.CheckIn(ctx, "social", apSlotOn(21, 14, 50), "tk1")
	must(t, "check in", err)
	book(t, s, appt("same-start-b", "id:h1", apSlotOn(23, 9, 0)), 5)
	book(t, s, apptIn("social", "same-start-a", "id:h1", apSlotOn(23, 9, 0)), 5)
	book(t, s, appt("other", "id:h2", apSlot(9, 0)), 5)

	ids := func(as []queue.Appointment) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = a.ID
			if read := getAppt(t, s, a.ID); !reflect.DeepEqual(read, a) {
				t.Errorf("listed appointment differs from the stored one:\n got %+v\nwant %+v", a, read)
			}
		}
		return out
	}
	list := func(holder, from string, limit int) []string {
		t.Helper()
		got, err := s.HolderAppointments(ctx, holder, from, limit)
		must(t, "holder appointments", err)
		return ids(got)
	}
	if got, want := list("id:h1", apDay, 10), []string{"cancelled", "rebooked", "social", "later", "same-start-a", "same-start-b"}; !slices.Equal(got, want) {
		t.Errorf("from %s: %v, want %v", apDay, got, want)
	}
	if got, want := list("id:h1", apDay, 2), []string{"cancelled", "rebooked"}; !slices.Equal(got, want) {
		t.Errorf("from %s, limit 2: %v, want %v", apDay, got, want)
	}
	if got, want := list("id:h1", "2025-03-19", 1), []string{"before"}; !slices.Equal(got, want) {
		t.Errorf("from 2025-03-19, limit 1: %v, want %v", got, want)
	}
	if got, want := list("id:h1", "2025-03-22", 10), []string{"later", "same-start-a", "same-start-b"}; !slices.Equal(got, want) {
		t.Errorf("from 2025-03-22: %v, want %v", got, want)
	}
	if got := list("id:h1", apDay, 0); len(got) != 0 {
		t.Errorf("limit 0: %v", got)
	}
	if got := list("id:h1", "2025-03-24", 10); len(got) != 0 {
		t.Errorf("from a day after all: %v", got)
	}
	if got := list("id:nobody", "2025-01-01", 10); len(got) != 0 {
		t.Errorf("a holder without appointments: %v", got)
	}
}

func testApptMarkNoShows(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("late", "id:h1", apSlot(8, 0)), 5)
	book(t, s, apptIn("social", "late-social", "id:h1", apSlot(8, 30)), 5)
	book(t, s, appt("came", "id:h2", apSlot(8, 0)), 5)
	_, err := s.CheckIn(ctx, "came", apSlot(7, 50), "tk1")
	must(t, "check in", err)
	book(t, s, appt("cancelled", "id:h3", apSlot(8, 0)), 5)
	_, err = s.Cancel(ctx, "cancelled", at)
	must(t, "cancel", err)
	book(t, s, appt("at-the-time", "id:h4", apSlot(9, 0)), 5)
	book(t, s, appt("future", "id:h5", apSlot(10, 0)), 5)
	book(t, s, appt("yesterday", "id:h6", apSlotOn(19, 16, 0)), 5)

	n, err := s.MarkNoShows(ctx, apSlot(9, 0))
	must(t, "mark no-shows", err)
	if n != 3 {
		t.Errorf("%d no-shows marked, want 3", n)
	}
	want := map[string]queue.AppointmentStatus{
		"late": queue.AppointmentNoShow, "late-social": queue.AppointmentNoShow, "yesterday": queue.AppointmentNoShow,
		"came": queue.AppointmentCheckedIn, "cancelled": queue.AppointmentCancelled,
		"at-the-time": queue.AppointmentBooked, "future": queue.AppointmentBooked,
	}
	for id, st := range want {
		if got := getAppt(t, s, id); got.Status != st {
			t.Errorf("%s is %s, want %s", id, got.Status, st)
		}
	}
	// A no-show keeps its place: the slot has passed.
	wantUses(t, "after marking", taxUses(t, s), use(apSlot(8, 0), 2, 0), use(apSlot(9, 0), 1, 0), use(apSlot(10, 0), 1, 0))
	n, err = s.MarkNoShows(ctx, apSlot(9, 0))
	must(t, "mark no-shows again", err)
	if n != 0 {
		t.Errorf("marking again moved %d, want 0", n)
	}
	_, err = s.Cancel(ctx, "late", at)
	wantCode(t, "cancel a no-show", err, queue.CodeAppointmentState)
	_, err = s.CheckIn(ctx, "late", at, "tk2")
	wantCode(t, "check in a no-show", err, queue.CodeAppointmentState)
}

func testApptNoShows(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	for i, day := range []int{15, 10, 20} {
		book(t, s, appt(fmt.Sprint("h1-", day), "id:h1", apSlotOn(day, 9+i, 0)), 5)
	}
	book(t, s, apptIn("social", "h1-social", "id:h1", apSlotOn(15, 9, 0).Add(123*time.Millisecond)), 5)
	book(t, s, appt("h1-cancelled", "id:h1", apSlotOn(18, 9, 0)), 5)
	_, err := s.Cancel(ctx, "h1-cancelled", at)
	must(t, "cancel", err)
	book(t, s, appt("h1-came", "id:h1", apSlotOn(19, 9, 0)), 5)
	_, err = s.CheckIn(ctx, "h1-came", apSlotOn(19, 8, 50), "tk1")
	must(t, "check in", err)
	book(t, s, appt("h2-16", "id:h2", apSlotOn(16, 9, 0)), 5)
	book(t, s, appt("h1-future", "id:h1", apSlotOn(25, 9, 0)), 5)
	n, err := s.MarkNoShows(ctx, apSlotOn(21, 0, 0))
	must(t, "mark no-shows", err)
	if n != 5 {
		t.Fatalf("%d no-shows marked, want 5", n)
	}

	noShows := func(holder string, since time.Time) []time.Time {
		t.Helper()
		got, err := s.NoShows(ctx, holder, since)
		must(t, "no-shows of "+holder, err)
		for _, tm := range got {
			if tm.Location() != time.UTC {
				t.Errorf("no-show start %v not in UTC", tm)
			}
		}
		return got
	}
	all := []time.Time{stored(apSlotOn(10, 10, 0)), stored(apSlotOn(15, 9, 0)), stored(apSlotOn(15, 9, 0).Add(123 * time.Millisecond)), stored(apSlotOn(20, 11, 0))}
	if got := noShows("id:h1", time.Time{}); !slices.EqualFunc(got, all, time.Time.Equal) {
		t.Errorf("all no-shows of h1: %v, want %v", got, all)
	}
	if got := noShows("id:h1", apSlotOn(15, 9, 0)); !slices.EqualFunc(got, all[1:], time.Time.Equal) {
		t.Errorf("no-shows of h1 since one of their starts: %v, want %v", got, all[1:])
	}
	if got := noShows("id:h1", apSlotOn(15, 9, 0).Add(time.Millisecond)); !slices.EqualFunc(got, all[2:], time.Time.Equal) {
		t.Errorf("no-shows of h1 since a millisecond later: %v, want %v", got, all[2:])
	}
	if got := noShows("id:h1", apSlotOn(21, 0, 0)); len(got) != 0 {
		t.Errorf("no-shows of h1 since after all: %v", got)
	}
	if got := noShows("id:h2", time.Time{}); !slices.EqualFunc(got, []time.Time{stored(apSlotOn(16, 9, 0))}, time.Time.Equal) {
		t.Errorf("no-shows of h2: %v", got)
	}
	if got := noShows("id:nobody", time.Time{}); len(got) != 0 {
		t.Errorf("no-shows of nobody: %v", got)
	}
}

// apRace runs n attempts at once, each with its index, and returns how
// long they took. On the embedded FerretDB at most apFerretInFlight run
// at a time: its one connection serves one command after another, so
// more would only wait, and an attempt's undo steps would wait behind
// the whole race and might run out of time on a slow machine.
func apRace(t *testing.T, n int, attempt func(i int)) time.Duration {
	t.Helper()
	inFlight := make(chan struct{}, ferretScale(t, n, apFerretInFlight))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			inFlight <- struct{}{}
			defer func() { <-inFlight }()
			attempt(i)
		})
	}
	began := time.Now()
	close(start)
	wg.Wait()
	return time.Since(began)
}

func testApptBookRace(t *testing.T, s queue.AppointmentStore) {
	const attempts, places = 2000, 50
	slot := apSlot(9, 0)
	errs := make([]error, attempts)
	got := make([]queue.Appointment, attempts)
	took := apRace(t, attempts, func(i int) {
		got[i], errs[i] = s.Book(t.Context(), appt(fmt.Sprintf("ap%04d", i), fmt.Sprintf("id:h%04d", i), slot), places)
	})
	t.Logf("%d concurrent bookings of %d places took %v", attempts, places, took)

	var won, lost []int
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, i)
		case errors.Is(err, queue.ErrSlotFull):
			lost = append(lost, i)
		default:
			t.Errorf("booking %d: %v, want a booking or ErrSlotFull", i, err)
		}
	}
	if len(won) != places || len(lost) != attempts-places {
		t.Fatalf("%d bookings succeeded and %d were refused as full, want %d and %d", len(won), len(lost), places, attempts-places)
	}
	wantUses(t, "after the race", taxUses(t, s), use(slot, places, 0))
	kept := 0
	for i := range attempts {
		a, err := s.GetAppointment(t.Context(), fmt.Sprintf("ap%04d", i))
		switch {
		case err == nil && a.Status == queue.AppointmentBooked && errs[i] == nil && reflect.DeepEqual(a, got[i]):
			kept++
		case apperr.Is(err, apperr.NotFound) && errs[i] != nil:
		default:
			t.Errorf("appointment %d: stored %+v, %v; booking returned %v", i, a, err, errs[i])
		}
	}
	if kept != places {
		t.Errorf("%d appointments stored, want %d", kept, places)
	}
	wantBookRefused(t, s, "booking after the race", appt("late", "id:late", slot), places, queue.CodeSlotFull)
	// The refused holders hold nothing: they may book another slot that day.
	for _, i := range lost[:5] {
		book(t, s, appt(fmt.Sprintf("again%04d", i), fmt.Sprintf("id:h%04d", i), apSlot(10, 0)), places)
	}
}

func testApptCapacityRace(t *testing.T, s queue.AppointmentStore) {
	const attempts, capacity, before = 200, 30, 10
	slot := apSlot(9, 0)
	for i := range before {
		book(t, s, appt(fmt.Sprintf("pre%02d", i), fmt.Sprintf("id:pre%02d", i), slot), 100)
	}
	must(t, "set capacity", s.SetSlotCapacity(t.Context(), "c1", "tax", apDay, slot, capacity))
	errs := make([]error, attempts)
	took := apRace(t, attempts, func(i int) {
		_, errs[i] = s.Book(t.Context(), appt(fmt.Sprintf("ap%03d", i), fmt.Sprintf("id:h%03d", i), slot), 100)
	})
	t.Logf("%d concurrent bookings took %v", attempts, took)
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, queue.ErrSlotFull):
		default:
			t.Errorf("booking %d: %v, want a booking or ErrSlotFull", i, err)
		}
	}
	if won != capacity-before {
		t.Errorf("%d bookings succeeded, want %d", won, capacity-before)
	}
	wantUses(t, "after the race", taxUses(t, s), use(slot, capacity, capacity))
}

func testApptHolderRace(t *testing.T, s queue.AppointmentStore) {
	const attempts = 20
	slot := func(i int) time.Time { return apSlot(8, 0).Add(time.Duration(i) * 15 * time.Minute) }
	errs := make([]error, attempts)
	got := make([]queue.Appointment, attempts)
	took := apRace(t, attempts, func(i int) {
		got[i], errs[i] = s.Book(t.Context(), appt(fmt.Sprintf("ap%02d", i), "id:h1", slot(i)), 1)
	})
	t.Logf("%d concurrent bookings by one holder took %v", attempts, took)

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("bookings %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case errors.Is(err, queue.ErrAlreadyBooked):
			wantNoAppt(t, s, fmt.Sprint("refused booking ", i), fmt.Sprintf("ap%02d", i))
		default:
			t.Errorf("booking %d: %v, want a booking or ErrAlreadyBooked", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d racing bookings by one holder succeeded", attempts)
	}
	wantUses(t, "after the race", taxUses(t, s), use(slot(winner), 1, 0))
	list, err := s.HolderAppointments(t.Context(), "id:h1", apDay, 100)
	must(t, "holder appointments", err)
	if len(list) != 1 || list[0].ID != got[winner].ID {
		t.Errorf("holder's appointments after the race: %+v, want only %s", list, got[winner].ID)
	}
	// No place leaked: every other 1-place slot is still free.
	for i := range attempts {
		if i != winner {
			book(t, s, appt(fmt.Sprintf("other%02d", i), fmt.Sprintf("id:o%02d", i), slot(i)), 1)
		}
	}
}

func testApptRescheduleRace(t *testing.T, s queue.AppointmentStore) {
	const attempts = 10
	book(t, s, appt("old", "id:h1", apSlot(9, 0)), 1)
	// Even attempts move to another slot of the day, odd ones to other days.
	next := func(i int) queue.Appointment {
		start := apSlot(10, 0).Add(time.Duration(i) * time.Hour / 2)
		if i%2 == 1 {
			start = apSlotOn(21+i, 9, 0)
		}
		return appt(fmt.Sprintf("new%02d", i), "id:h1", start)
	}
	errs := make([]error, attempts)
	took := apRace(t, attempts, func(i int) {
		_, errs[i] = s.Reschedule(t.Context(), "old", next(i), 1, at.Add(time.Hour))
	})
	t.Logf("%d concurrent reschedules took %v", attempts, took)

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("reschedules %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case errors.Is(err, queue.ErrAppointmentState), errors.Is(err, queue.ErrAlreadyBooked):
		default:
			t.Errorf("reschedule %d: %v, want the new appointment, ErrAppointmentState or ErrAlreadyBooked", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("none of %d racing reschedules succeeded", attempts)
	}
	w := next(winner)
	if old := getAppt(t, s, "old"); old.Status != queue.AppointmentRescheduled || old.ReplacedBy != w.ID {
		t.Errorf("old appointment after the race: %+v, want rescheduled to %s", old, w.ID)
	}
	if got := getAppt(t, s, w.ID); got.Status != queue.AppointmentBooked {
		t.Errorf("winner %s is %s, want booked", w.ID, got.Status)
	}
	total := 0
	for i := range attempts {
		n := next(i)
		if i != winner {
			wantNoAppt(t, s, fmt.Sprint("losing reschedule ", i), n.ID)
		}
		b := booked(t, s, n)
		if b != 0 && i != winner {
			t.Errorf("the slot of losing reschedule %d has %d places taken", i, b)
		}
		total += b
	}
	if total != 1 {
		t.Errorf("%d places taken in the new slots, want 1", total)
	}
	if b := booked(t, s, appt("", "", apSlot(9, 0))); b != 0 {
		t.Errorf("the old slot has %d places taken, want 0", b)
	}
	// The losers held nothing: the holder may book a day a loser tried.
	for i := 1; i < attempts; i += 2 {
		if i != winner {
			book(t, s, appt("again", "id:h1", next(i).Start.Add(time.Hour)), 1)
			break
		}
	}
}

func testApptCancelRace(t *testing.T, s queue.AppointmentStore) {
	const attempts = 10
	book(t, s, appt("ap1", "id:h1", apSlot(9, 0)), 2)
	book(t, s, appt("ap2", "id:h2", apSlot(9, 0)), 2)
	errs := make([]error, attempts)
	apRace(t, attempts, func(i int) {
		_, errs[i] = s.Cancel(t.Context(), "ap1", at.Add(time.Duration(i)*time.Minute))
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case errors.Is(err, queue.ErrAppointmentState):
		default:
			t.Errorf("cancel %d: %v, want the appointment or ErrAppointmentState", i, err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d racing cancels succeeded, want 1", won, attempts)
	}
	wantUses(t, "after the race", taxUses(t, s), use(apSlot(9, 0), 1, 0))
}

func testApptBookedOn(t *testing.T, s queue.AppointmentStore) {
	ctx := t.Context()
	book(t, s, appt("late", "id:h1", apSlot(15, 0)), 5)
	early := appt("early", "id:h2", apSlot(9, 0))
	early.Center = "c2"
	book(t, s, early, 5)
	book(t, s, appt("gone", "id:h3", apSlot(10, 0)), 5)
	_, err := s.Cancel(ctx, "gone", at)
	must(t, "cancel", err)
	book(t, s, appt("in", "id:h4", apSlot(11, 0)), 5)
	_, err = s.CheckIn(ctx, "in", apSlot(10, 50), "tk1")
	must(t, "check in", err)
	book(t, s, appt("tomorrow", "id:h5", apSlotOn(21, 9, 0)), 5)
	got, err := s.BookedOn(ctx, apDay)
	must(t, "booked on", err)
	var ids []string
	for _, a := range got {
		ids = append(ids, a.ID)
		if read := getAppt(t, s, a.ID); !reflect.DeepEqual(read, a) {
			t.Errorf("listed appointment differs from the stored one:\n got %+v\nwant %+v", a, read)
		}
	}
	if want := []string{"early", "late"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("booked on %s: %v, want %v", apDay, ids, want)
	}
	if got, err := s.BookedOn(ctx, "2025-03-25"); err != nil || len(got) != 0 {
		t.Errorf("booked on an empty day: %v %v", got, err)
	}
}
