package mongo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// Collections of appointments. A slot's _id is center|sector|<start in
// Unix milliseconds> and a hold's is center|sector|day|holder; as in the
// queue, none of the parts contains "|".
const (
	appointmentsColl     = "appointments"
	slotsColl            = "slots"
	appointmentHoldsColl = "appointment_holds"
)

func appointmentIndexes() []collectionIndexes {
	return []collectionIndexes{
		{appointmentsColl, []mongodrv.IndexModel{
			{
				// HolderAppointments and NoShows, and the look for a
				// holder's active bookings of a day when a hold is taken
				// over.
				Keys:    bson.D{{Key: "holder", Value: 1}, {Key: "day", Value: 1}, {Key: "start", Value: 1}},
				Options: options.Index().SetName("holder_day_start"),
			},
			{
				// MarkNoShows: the booked appointments that have started.
				Keys:    bson.D{{Key: "status", Value: 1}, {Key: "start", Value: 1}},
				Options: options.Index().SetName("status_start"),
			},
		}},
		{slotsColl, []mongodrv.IndexModel{{
			// SlotUses.
			Keys: bson.D{
				{Key: "center", Value: 1}, {Key: "sector", Value: 1},
				{Key: "day", Value: 1}, {Key: "start", Value: 1},
			},
			Options: options.Index().SetName("center_sector_day_start"),
		}}},
	}
}

// AppointmentStore is queue.AppointmentStore on MongoDB, without
// transactions. What is atomic:
//
//   - A slot's places: a slot document holds booked and the capacity an
//     administrator set; a booking takes a place with one conditional
//     updateOne, {_id, capacity: <as read>, booked: {$lt: <limit>}} with
//     $inc, so concurrent bookings never take more places than the limit
//     (the slot's capacity if set, else the default the caller gives). A
//     capacity changed since it was read makes the update miss, and the
//     booking reads the slot again.
//   - One booking per holder, sector and day: a hold document, _id
//     center|sector|day|holder, naming its appointment, is inserted before
//     a place is taken, so a refused second booking touches no slot. A
//     hold whose appointment is no longer booked or checked in (cancelled,
//     no-show, rescheduled) is taken over by the holder's next booking with
//     a conditional update, so that what moves appointments need not keep
//     holds exact; Cancel and Reschedule delete the holds they end all the
//     same, so the next booking needs no repair.
//   - Every change of an appointment's status is one findOneAndUpdate or
//     updateOne conditional on status booked: of two racing cancels,
//     check-ins or reschedules of one appointment, one wins.
//
// What is not: a booking is three writes (hold, place, appointment), a
// cancel two (status, place) and a reschedule up to six (hold, place,
// new appointment, old status, old place, old hold). A refusal or a
// failed write undoes the steps done before it (gives the place back,
// deletes or restores the hold, deletes the new appointment), so a
// refused call changes nothing. A crash or a lost connection between
// steps can leave:
//
//   - a hold naming an appointment that was never stored: the holder is
//     refused that day and sector for holdGrace, after which the hold is
//     taken over; a booked appointment of the holder found then keeps it;
//   - a place taken by no appointment (a booking that died after taking
//     it, or a cancel or reschedule that died before giving it back): the
//     slot offers one place less. Nothing gives it back by itself; such
//     a slot's booked is above the count of its appointments that keep
//     a place (booked, checked in, no-show). Cancel and Reschedule
//     return an error when they could not give a place back;
//   - after a reschedule died between storing the new appointment and
//     ending the old one: both booked, each with its place.
type AppointmentStore struct {
	appointments *mongodrv.Collection
	slots        *mongodrv.Collection
	holds        *mongodrv.Collection
}

var _ queue.AppointmentStore = (*AppointmentStore)(nil)

// NewAppointmentStore returns the appointment store on db.
func NewAppointmentStore(db *DB) *AppointmentStore {
	return &AppointmentStore{
		appointments: db.db.Collection(appointmentsColl),
		slots:        db.db.Collection(slotsColl),
		holds:        db.db.Collection(appointmentHoldsColl),
	}
}

// appointmentDoc mirrors queue.Appointment field for field. Unset times
// are the zero time, a BSON date in year 1.
type appointmentDoc struct {
	ID          string    `bson:"_id"`
	Center      string    `bson:"center"`
	Sector      string    `bson:"sector"`
	Day         string    `bson:"day"`
	Start       time.Time `bson:"start"`
	End         time.Time `bson:"end"`
	Holder      string    `bson:"holder"`
	Citizen     string    `bson:"citizen"`
	Status      string    `bson:"status"`
	BookedAt    time.Time `bson:"booked_at"`
	CancelledAt time.Time `bson:"cancelled_at"`
	CheckedInAt time.Time `bson:"checked_in_at"`
	Ticket      string    `bson:"ticket"`
	ReplacedBy  string    `bson:"replaced_by"`
}

func toAppointmentDoc(a queue.Appointment) appointmentDoc {
	return appointmentDoc{
		ID: a.ID, Center: a.Center, Sector: a.Sector, Day: a.Day, Start: a.Start, End: a.End,
		Holder: a.Holder, Citizen: a.Citizen, Status: string(a.Status), BookedAt: a.BookedAt,
		CancelledAt: a.CancelledAt, CheckedInAt: a.CheckedInAt, Ticket: a.Ticket, ReplacedBy: a.ReplacedBy,
	}
}

func (d appointmentDoc) appointment() queue.Appointment {
	a := queue.Appointment{
		ID: d.ID, Center: d.Center, Sector: d.Sector, Day: d.Day, Start: d.Start, End: d.End,
		Holder: d.Holder, Citizen: d.Citizen, Status: queue.AppointmentStatus(d.Status), BookedAt: d.BookedAt,
		CancelledAt: d.CancelledAt, CheckedInAt: d.CheckedInAt, Ticket: d.Ticket, ReplacedBy: d.ReplacedBy,
	}
	utcTimes(&a.Start, &a.End, &a.BookedAt, &a.CancelledAt, &a.CheckedInAt)
	return a
}

// storedAppointment is a as it is stored and read back: status booked,
// times in UTC to the millisecond.
func storedAppointment(a queue.Appointment) queue.Appointment {
	a.Status = queue.AppointmentBooked
	storedTimes(&a.Start, &a.End, &a.BookedAt, &a.CancelledAt, &a.CheckedInAt)
	return a
}

// slotDoc is the places taken in one slot and the capacity set for it
// (0: the caller's default applies).
type slotDoc struct {
	ID       string    `bson:"_id"`
	Center   string    `bson:"center"`
	Sector   string    `bson:"sector"`
	Day      string    `bson:"day"`
	Start    time.Time `bson:"start"`
	Booked   int       `bson:"booked"`
	Capacity int       `bson:"capacity"`
}

// appointmentHoldDoc reserves a holder's one booking in a sector and day
// for the appointment it names. At is when that booking was made, to
// tell a booking still in flight from one that died.
type appointmentHoldDoc struct {
	ID          string    `bson:"_id"`
	Appointment string    `bson:"appointment"`
	At          time.Time `bson:"at"`
}

func slotKey(center, sector string, start time.Time) string {
	return strings.Join([]string{center, sector, strconv.FormatInt(start.UnixMilli(), 10)}, "|")
}

func appointmentSlotKey(a queue.Appointment) string { return slotKey(a.Center, a.Sector, a.Start) }

func appointmentHoldKey(a queue.Appointment) string {
	return strings.Join([]string{a.Center, a.Sector, a.Day, a.Holder}, "|")
}

// dayHolding are the statuses of an appointment that hold its holder's
// one booking of the day in its sector.
var dayHolding = []string{string(queue.AppointmentBooked), string(queue.AppointmentCheckedIn)}

// effectiveCapacity is the number of places of a slot with capacity set
// (0: none) when the default is def.
func effectiveCapacity(set, def int) int {
	if set > 0 {
		return set
	}
	return def
}

// undoTimeout bounds a step that undoes part of a failed call. It is
// generous because such a step waits for a connection behind the very
// load that made the call fail (a rush on one slot refuses hundreds of
// bookings at once), and giving up leaves a place lost or a holder
// refused for holdGrace.
const undoTimeout = time.Minute

// undoContext is the context of a step that undoes part of a failed
// call, or finishes one already decided: it runs even when ctx is done,
// which is often why the call failed, but not for ever.
func undoContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
}

// Book implements queue.AppointmentStore: hold, place, appointment; see
// AppointmentStore.
func (s *AppointmentStore) Book(ctx context.Context, a queue.Appointment, capacity int) (queue.Appointment, error) {
	a = storedAppointment(a)
	if _, err := s.hold(ctx, a, "", a.BookedAt); err != nil {
		return queue.Appointment{}, err
	}
	if err := s.takePlace(ctx, a, capacity); err != nil {
		s.unhold(ctx, a, "")
		return queue.Appointment{}, err
	}
	if err := s.insert(ctx, a); err != nil {
		err = joinUndo(err, s.givePlaceBack(ctx, a))
		s.unhold(ctx, a, "")
		return queue.Appointment{}, err
	}
	return a, nil
}

// hold reserves a's holder's one booking in a's center, sector and day
// for a, or returns queue.ErrAlreadyBooked. A hold naming except (the
// appointment a reschedule replaces) is taken over without a look at
// that appointment. now tells a hold left by a booking that died from
// one still in flight. When it takes a hold over, hold returns the
// appointment the hold named.
func (s *AppointmentStore) hold(ctx context.Context, a queue.Appointment, except string, now time.Time) (string, error) {
	key := appointmentHoldKey(a)
	_, err := s.holds.InsertOne(ctx, appointmentHoldDoc{ID: key, Appointment: a.ID, At: now})
	if err == nil {
		return "", nil
	}
	if !isDuplicateKey(err) {
		return "", fmt.Errorf("mongo: book %s: hold %s: %w", a.ID, key, err)
	}
	var old appointmentHoldDoc
	err = s.holds.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&old)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		// Given up between our insert and this read by a booking that
		// failed or a cancel: refusing is safe, the holder may try again.
		return "", queue.ErrAlreadyBooked
	}
	if err != nil {
		return "", fmt.Errorf("mongo: book %s: read hold %s: %w", a.ID, key, err)
	}
	if old.Appointment != except {
		var cur appointmentDoc
		err = s.appointments.FindOne(ctx, bson.D{{Key: "_id", Value: old.Appointment}}).Decode(&cur)
		switch {
		case errors.Is(err, mongodrv.ErrNoDocuments):
			if !old.At.UTC().Add(holdGrace).Before(now) {
				return "", queue.ErrAlreadyBooked // a booking of the holder still in flight
			}
		case err != nil:
			return "", fmt.Errorf("mongo: book %s: read held appointment %s: %w", a.ID, old.Appointment, err)
		case cur.Status == string(queue.AppointmentBooked) || cur.Status == string(queue.AppointmentCheckedIn):
			return "", queue.ErrAlreadyBooked
		}
	}
	// The held appointment is over, was never stored, or is the one being
	// replaced: take the hold over, conditionally, so that of two bookings
	// doing the same only one wins.
	res, err := s.holds.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "appointment", Value: old.Appointment}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "appointment", Value: a.ID}, {Key: "at", Value: now}}}})
	if err != nil {
		return "", fmt.Errorf("mongo: book %s: take over hold %s: %w", a.ID, key, err)
	}
	if res.MatchedCount == 0 {
		return "", queue.ErrAlreadyBooked
	}
	// A hold left by a reschedule that died may name an appointment never
	// stored while the one it replaced is still booked: that one keeps
	// the day, and gets its hold back.
	var other appointmentDoc
	err = s.appointments.FindOne(ctx, bson.D{
		{Key: "holder", Value: a.Holder}, {Key: "day", Value: a.Day},
		{Key: "center", Value: a.Center}, {Key: "sector", Value: a.Sector},
		{Key: "status", Value: bson.D{{Key: "$in", Value: dayHolding}}},
		{Key: "_id", Value: bson.D{{Key: "$nin", Value: bson.A{a.ID, except}}}},
	}).Decode(&other)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return old.Appointment, nil
	}
	uctx, cancel := undoContext(ctx)
	defer cancel()
	_, _ = s.holds.UpdateOne(uctx,
		bson.D{{Key: "_id", Value: key}, {Key: "appointment", Value: a.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "appointment", Value: other.ID}, {Key: "at", Value: other.BookedAt}}}})
	if err != nil {
		return "", fmt.Errorf("mongo: book %s: look for bookings of %s: %w", a.ID, key, err)
	}
	return "", queue.ErrAlreadyBooked
}

// unhold gives up the hold a failed booking of a got: it deletes it, or,
// when restore is set, gives it back to that appointment (the one a
// failed reschedule was to replace). Failing here only delays the
// holder's next booking by holdGrace.
func (s *AppointmentStore) unhold(ctx context.Context, a queue.Appointment, restore string) {
	ctx, cancel := undoContext(ctx)
	defer cancel()
	mine := bson.D{{Key: "_id", Value: appointmentHoldKey(a)}, {Key: "appointment", Value: a.ID}}
	if restore == "" {
		_, _ = s.holds.DeleteOne(ctx, mine)
		return
	}
	_, _ = s.holds.UpdateOne(ctx, mine, bson.D{{Key: "$set", Value: bson.D{{Key: "appointment", Value: restore}}}})
}

// maxPlaceTries bounds how often a booking reads a slot again because
// its capacity or its places changed under it.
const maxPlaceTries = 8

// takePlace takes one place of a's slot, or returns queue.ErrSlotFull.
// The first try assumes the slot exists without a capacity set, which
// is the common case and costs one update.
func (s *AppointmentStore) takePlace(ctx context.Context, a queue.Appointment, def int) error {
	key := appointmentSlotKey(a)
	set, limit := 0, def
	created := false
	for range maxPlaceTries {
		res, err := s.slots.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: key}, {Key: "capacity", Value: set}, {Key: "booked", Value: bson.D{{Key: "$lt", Value: limit}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "booked", Value: 1}}}})
		if err != nil {
			return fmt.Errorf("mongo: book %s: take a place in %s: %w", a.ID, key, err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		var cur slotDoc
		err = s.slots.FindOne(ctx, bson.D{{Key: "_id", Value: key}}).Decode(&cur)
		if errors.Is(err, mongodrv.ErrNoDocuments) && !created {
			if limit <= 0 {
				return queue.ErrSlotFull // no need to create a slot none can book
			}
			if err := s.createSlot(ctx, a.Center, a.Sector, a.Day, a.Start, 0); err != nil {
				return fmt.Errorf("mongo: book %s: create slot %s: %w", a.ID, key, err)
			}
			created = true
			continue
		}
		if err != nil {
			return fmt.Errorf("mongo: book %s: read slot %s: %w", a.ID, key, err)
		}
		set, limit = cur.Capacity, effectiveCapacity(cur.Capacity, def)
		if cur.Booked >= limit {
			return queue.ErrSlotFull
		}
	}
	return fmt.Errorf("mongo: book %s: slot %s changed under %d tries", a.ID, key, maxPlaceTries)
}

// createSlot stores a slot with no place taken and capacity set, unless
// it exists.
func (s *AppointmentStore) createSlot(ctx context.Context, center, sector, day string, start time.Time, capacity int) error {
	d := slotDoc{ID: slotKey(center, sector, start), Center: center, Sector: sector, Day: day, Start: start, Capacity: capacity}
	if _, err := s.slots.InsertOne(ctx, d); err != nil && !isDuplicateKey(err) {
		return err
	}
	return nil
}

// givePlaceBack frees the place a took in its slot.
func (s *AppointmentStore) givePlaceBack(ctx context.Context, a queue.Appointment) error {
	ctx, cancel := undoContext(ctx)
	defer cancel()
	key := appointmentSlotKey(a)
	_, err := s.slots.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: key}, {Key: "booked", Value: bson.D{{Key: "$gt", Value: 0}}}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "booked", Value: -1}}}})
	if err != nil {
		return fmt.Errorf("mongo: appointment %s: give its place in %s back (one place is lost): %w", a.ID, key, err)
	}
	return nil
}

// joinUndo adds to err the failure, if any, of a step that was to undo
// part of what failed.
func joinUndo(err, undoErr error) error {
	if undoErr == nil {
		return err
	}
	return errors.Join(err, undoErr)
}

// insert stores the booked appointment a; a taken ID is a conflict.
func (s *AppointmentStore) insert(ctx context.Context, a queue.Appointment) error {
	_, err := s.appointments.InsertOne(ctx, toAppointmentDoc(a))
	if err == nil {
		return nil
	}
	if isDuplicateKey(err) {
		return apperr.Wrap(apperr.Conflict, "预约编号重复", err)
	}
	// An insert that reported an error may still have stored a: then the
	// booking is made, and undoing its place would overbook the slot.
	uctx, cancel := undoContext(ctx)
	defer cancel()
	ours := bson.D{{Key: "_id", Value: a.ID}, {Key: "holder", Value: a.Holder}, {Key: "start", Value: a.Start}, {Key: "booked_at", Value: a.BookedAt}}
	if s.appointments.FindOne(uctx, ours).Err() == nil {
		return nil
	}
	return fmt.Errorf("mongo: book %s: %w", a.ID, err)
}

// Cancel implements queue.AppointmentStore: the status, then the place,
// then the hold.
func (s *AppointmentStore) Cancel(ctx context.Context, id string, at time.Time) (queue.Appointment, error) {
	storedTimes(&at)
	a, err := s.leaveBooked(ctx, id, bson.D{
		{Key: "status", Value: string(queue.AppointmentCancelled)},
		{Key: "cancelled_at", Value: at},
	})
	if err != nil {
		return queue.Appointment{}, err
	}
	if err := s.givePlaceBack(ctx, a); err != nil {
		return queue.Appointment{}, fmt.Errorf("mongo: cancel %s: cancelled, but: %w", id, err)
	}
	s.unhold(ctx, a, "")
	return a, nil
}

// leaveBooked applies set to the appointment id if it is booked and
// returns it as it then is; otherwise it tells an unknown appointment
// from one that is not booked.
func (s *AppointmentStore) leaveBooked(ctx context.Context, id string, set bson.D) (queue.Appointment, error) {
	// No projection: FerretDB v1 mishandles one in findAndModify.
	opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
	var d appointmentDoc
	err := s.appointments.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "status", Value: string(queue.AppointmentBooked)}},
		bson.D{{Key: "$set", Value: set}}, opts).Decode(&d)
	if err == nil {
		return d.appointment(), nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Appointment{}, fmt.Errorf("mongo: move appointment %s: %w", id, err)
	}
	return queue.Appointment{}, s.notBooked(ctx, id)
}

// notBooked is the error for an appointment found not booked: not found
// or the wrong state.
func (s *AppointmentStore) notBooked(ctx context.Context, id string) error {
	err := s.appointments.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return queue.ErrAppointmentNotFound
	case err != nil:
		return fmt.Errorf("mongo: read appointment %s: %w", id, err)
	}
	return queue.ErrAppointmentState
}

// Reschedule implements queue.AppointmentStore: next is booked as Book
// books (its hold may be the old appointment's, taken over), then the
// old appointment is moved to rescheduled on condition that it is still
// booked, then its place and hold are given up. A refusal of next, or
// losing the old appointment to a concurrent change, undoes what was
// done for next.
func (s *AppointmentStore) Reschedule(ctx context.Context, oldID string, next queue.Appointment, capacity int, at time.Time) (queue.Appointment, error) {
	next = storedAppointment(next)
	storedTimes(&at)
	old, err := s.GetAppointment(ctx, oldID)
	switch {
	case err != nil:
		return queue.Appointment{}, err
	case old.Status != queue.AppointmentBooked:
		return queue.Appointment{}, queue.ErrAppointmentState
	case old.Holder != next.Holder:
		return queue.Appointment{}, apperr.New(apperr.Invalid, "改约只能改本人的预约")
	case old.Center == next.Center && old.Sector == next.Sector && old.Start.Equal(next.Start):
		return queue.Appointment{}, queue.ErrSameSlot
	}
	prev, err := s.hold(ctx, next, oldID, at)
	if err != nil {
		return queue.Appointment{}, err
	}
	restore := ""
	if prev == oldID {
		restore = oldID
	}
	if err := s.takePlace(ctx, next, capacity); err != nil {
		s.unhold(ctx, next, restore)
		return queue.Appointment{}, err
	}
	if err := s.insert(ctx, next); err != nil {
		err = joinUndo(err, s.givePlaceBack(ctx, next))
		s.unhold(ctx, next, restore)
		return queue.Appointment{}, err
	}
	if err := s.replace(ctx, oldID, next.ID, at); err != nil {
		uctx, cancel := undoContext(ctx)
		defer cancel()
		if _, derr := s.appointments.DeleteOne(uctx, bson.D{{Key: "_id", Value: next.ID}, {Key: "status", Value: string(queue.AppointmentBooked)}}); derr != nil {
			err = joinUndo(err, fmt.Errorf("mongo: reschedule %s: delete %s: %w", oldID, next.ID, derr))
		}
		err = joinUndo(err, s.givePlaceBack(ctx, next))
		s.unhold(ctx, next, restore)
		return queue.Appointment{}, err
	}
	if err := s.givePlaceBack(ctx, old); err != nil {
		return queue.Appointment{}, fmt.Errorf("mongo: reschedule %s: moved to %s, but: %w", oldID, next.ID, err)
	}
	if appointmentHoldKey(old) != appointmentHoldKey(next) {
		s.unhold(ctx, old, "")
	}
	return next, nil
}

// replace moves the booked appointment oldID to rescheduled, replaced by
// next, or returns queue.ErrAppointmentState when it is booked no more.
func (s *AppointmentStore) replace(ctx context.Context, oldID, next string, at time.Time) error {
	filter := bson.D{{Key: "_id", Value: oldID}, {Key: "status", Value: string(queue.AppointmentBooked)}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: string(queue.AppointmentRescheduled)},
		{Key: "replaced_by", Value: next},
		{Key: "cancelled_at", Value: at},
	}}}
	res, err := s.appointments.UpdateOne(ctx, filter, update)
	if err == nil && res.MatchedCount == 1 {
		return nil
	}
	if err == nil {
		return queue.ErrAppointmentState
	}
	// The update may have been applied even so: then it stands.
	uctx, cancel := undoContext(ctx)
	defer cancel()
	done := bson.D{{Key: "_id", Value: oldID}, {Key: "replaced_by", Value: next}}
	if s.appointments.FindOne(uctx, done).Err() == nil {
		return nil
	}
	return fmt.Errorf("mongo: reschedule %s: %w", oldID, err)
}

// CheckIn implements queue.AppointmentStore. The appointment keeps its
// place and its hold.
func (s *AppointmentStore) CheckIn(ctx context.Context, id string, at time.Time, ticket string) (queue.Appointment, error) {
	storedTimes(&at)
	return s.leaveBooked(ctx, id, bson.D{
		{Key: "status", Value: string(queue.AppointmentCheckedIn)},
		{Key: "checked_in_at", Value: at},
		{Key: "ticket", Value: ticket},
	})
}

// GetAppointment implements queue.AppointmentStore.
func (s *AppointmentStore) GetAppointment(ctx context.Context, id string) (queue.Appointment, error) {
	var d appointmentDoc
	err := s.appointments.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Appointment{}, queue.ErrAppointmentNotFound
	}
	if err != nil {
		return queue.Appointment{}, fmt.Errorf("mongo: get appointment %s: %w", id, err)
	}
	return d.appointment(), nil
}

// HolderAppointments implements queue.AppointmentStore; appointments of
// one start come in ID order, as on SQLite.
func (s *AppointmentStore) HolderAppointments(ctx context.Context, holder, fromDay string, limit int) ([]queue.Appointment, error) {
	if limit <= 0 {
		return []queue.Appointment{}, nil // a limit of 0 means none to MongoDB
	}
	opts := options.Find().SetSort(bson.D{{Key: "start", Value: 1}, {Key: "_id", Value: 1}}).SetLimit(int64(limit))
	filter := bson.D{{Key: "holder", Value: holder}, {Key: "day", Value: bson.D{{Key: "$gte", Value: fromDay}}}}
	docs, err := findAll[appointmentDoc](ctx, s.appointments, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: appointments of a holder: %w", err)
	}
	out := make([]queue.Appointment, len(docs))
	for i, d := range docs {
		out[i] = d.appointment()
	}
	return out, nil
}

// BookedOn implements queue.AppointmentStore.
func (s *AppointmentStore) BookedOn(ctx context.Context, day string) ([]queue.Appointment, error) {
	opts := options.Find().SetSort(bson.D{{Key: "start", Value: 1}, {Key: "_id", Value: 1}})
	docs, err := findAll[appointmentDoc](ctx, s.appointments, bson.D{
		{Key: "status", Value: string(queue.AppointmentBooked)}, {Key: "day", Value: day},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: booked appointments of %s: %w", day, err)
	}
	out := make([]queue.Appointment, len(docs))
	for i, d := range docs {
		out[i] = d.appointment()
	}
	return out, nil
}

// SlotUses implements queue.AppointmentStore.
func (s *AppointmentStore) SlotUses(ctx context.Context, center, sector, day string) ([]queue.SlotUse, error) {
	filter := bson.D{
		{Key: "center", Value: center}, {Key: "sector", Value: sector}, {Key: "day", Value: day},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "booked", Value: bson.D{{Key: "$gt", Value: 0}}}},
			bson.D{{Key: "capacity", Value: bson.D{{Key: "$gt", Value: 0}}}},
		}},
	}
	docs, err := findAll[slotDoc](ctx, s.slots, filter, options.Find().SetSort(bson.D{{Key: "start", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: slot uses of %s/%s on %s: %w", center, sector, day, err)
	}
	out := make([]queue.SlotUse, len(docs))
	for i, d := range docs {
		out[i] = queue.SlotUse{Start: d.Start.UTC(), Booked: d.Booked, Capacity: d.Capacity}
	}
	return out, nil
}

// SetSlotCapacity implements queue.AppointmentStore. A booking that read
// the old capacity misses its conditional update and reads the new one.
func (s *AppointmentStore) SetSlotCapacity(ctx context.Context, center, sector, day string, start time.Time, capacity int) error {
	if capacity < 0 {
		return apperr.Fields(apperr.FieldError{Field: "capacity", Message: "时段容量不能为负数"})
	}
	storedTimes(&start)
	key := slotKey(center, sector, start)
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "capacity", Value: capacity}}}}
	for range 2 {
		res, err := s.slots.UpdateOne(ctx, bson.D{{Key: "_id", Value: key}}, set)
		if err != nil {
			return fmt.Errorf("mongo: set capacity of slot %s: %w", key, err)
		}
		if res.MatchedCount == 1 {
			return nil
		}
		// No slot yet: create it with the capacity; if a booking created
		// it meanwhile, the update is tried again.
		d := slotDoc{ID: key, Center: center, Sector: sector, Day: day, Start: start, Capacity: capacity}
		_, err = s.slots.InsertOne(ctx, d)
		if err == nil {
			return nil
		}
		if !isDuplicateKey(err) {
			return fmt.Errorf("mongo: set capacity of slot %s: %w", key, err)
		}
	}
	return fmt.Errorf("mongo: set capacity of slot %s: it keeps appearing and vanishing", key)
}

// MarkNoShows implements queue.AppointmentStore with one updateMany. A
// no-show keeps its place (its slot has passed); its hold no longer
// holds the day.
func (s *AppointmentStore) MarkNoShows(ctx context.Context, startedBefore time.Time) (int, error) {
	storedTimes(&startedBefore)
	res, err := s.appointments.UpdateMany(ctx,
		bson.D{{Key: "status", Value: string(queue.AppointmentBooked)}, {Key: "start", Value: bson.D{{Key: "$lt", Value: startedBefore}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: string(queue.AppointmentNoShow)}}}})
	if err != nil {
		return 0, fmt.Errorf("mongo: mark no-shows: %w", err)
	}
	return int(res.ModifiedCount), nil
}

// NoShows implements queue.AppointmentStore.
func (s *AppointmentStore) NoShows(ctx context.Context, holder string, since time.Time) ([]time.Time, error) {
	storedTimes(&since)
	filter := bson.D{
		{Key: "holder", Value: holder},
		{Key: "status", Value: string(queue.AppointmentNoShow)},
		{Key: "start", Value: bson.D{{Key: "$gte", Value: since}}},
	}
	docs, err := findAll[appointmentDoc](ctx, s.appointments, filter, options.Find().SetSort(bson.D{{Key: "start", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: no-shows of a holder: %w", err)
	}
	out := make([]time.Time, len(docs))
	for i, d := range docs {
		out[i] = d.Start.UTC()
	}
	return out, nil
}
