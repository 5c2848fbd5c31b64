package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// Collections of the queue. A counter's _id is center|sector|day and a
// hold's is center|sector|day|holder: center and sector codes, ISO days
// and holder keys ("citizen:…", "id:…") never contain "|", so no two
// tuples spell one key.
const (
	windowsColl        = "windows"
	ticketsColl        = "tickets"
	ticketCountersColl = "ticket_counters"
	ticketHoldsColl    = "ticket_holds"
)

// holdGrace is how long a hold whose ticket was never stored protects a
// take that may still be in flight; after it, the hold is taken to be
// left by a take that died, and a new take of the holder replaces it.
const holdGrace = 2 * time.Minute

func queueIndexes() []collectionIndexes {
	return []collectionIndexes{
		{windowsColl, []mongodrv.IndexModel{{
			Keys:    bson.D{{Key: "center", Value: 1}, {Key: "name", Value: 1}},
			Options: options.Index().SetName("center_name").SetUnique(true),
		}}},
		{ticketsColl, []mongodrv.IndexModel{
			{
				// The last line of defence for "numbers are unique": even a
				// counter restored from an old backup cannot hand out a
				// number twice.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "taken_sector", Value: 1},
					{Key: "day", Value: 1}, {Key: "seq", Value: 1},
				},
				Options: options.Index().SetName("center_taken_sector_day_seq").SetUnique(true),
			},
			{
				// ClaimNext: equality on center, day and status, then the
				// calling order.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "day", Value: 1}, {Key: "status", Value: 1},
					{Key: "rank", Value: 1}, {Key: "taken_at", Value: 1},
				},
				Options: options.Index().SetName("waiting"),
			},
			{
				// CountAhead: the waiting tickets of one sector before a ticket.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "sector", Value: 1}, {Key: "day", Value: 1},
					{Key: "status", Value: 1}, {Key: "rank", Value: 1}, {Key: "taken_at", Value: 1},
				},
				Options: options.Index().SetName("ahead"),
			},
			{
				// RecentCalls: the lobby display's newest calls.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "day", Value: 1},
					{Key: "called_at", Value: -1}, {Key: "seq", Value: -1},
				},
				Options: options.Index().SetName("recent_calls"),
			},
			{
				// ClaimNext's starvation check: the oldest waiting ticket.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "day", Value: 1}, {Key: "status", Value: 1},
					{Key: "taken_at", Value: 1}, {Key: "seq", Value: 1},
				},
				Options: options.Index().SetName("oldest"),
			},
			{
				// ServiceTimes: a sector's latest completions.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "sector", Value: 1}, {Key: "status", Value: 1},
					{Key: "finished_at", Value: -1},
				},
				Options: options.Index().SetName("finished"),
			},
			{
				// ServedTickets: a holder's latest completions.
				Keys: bson.D{
					{Key: "holder", Value: 1}, {Key: "status", Value: 1}, {Key: "finished_at", Value: -1},
				},
				Options: options.Index().SetName("holder_finished"),
			},
		}},
	}
}

// QueueStore is queue.Store on MongoDB, without transactions:
//
//   - A ticket's number comes from a per-(center, sector, day) counter
//     document that findOneAndUpdate increments, so two takes never get
//     one number; the unique center_sector_day_seq index backs it up.
//   - "One active ticket per holder and sector" is a hold document,
//     _id center|sector|day|holder, inserted before the counter is
//     touched: the _id refuses a second hold, so a refused take uses no
//     number. The hold names its ticket; once that ticket is no longer
//     waiting, called or parked, or was transferred to another sector,
//     the holder's next take replaces the hold, so moving a ticket to done
//     or missed need not touch holds. A transfer takes a hold in the new
//     sector before it moves the ticket (marked as a transfer's, so that
//     while it is recent a take there is refused even though the ticket
//     is still active in its old sector), and gives it back if the move
//     fails: of a transfer and a take racing into one sector, one wins.
//     A ticket transferred in by an earlier version holds nothing there,
//     so a take also looks for one before it goes on.
//   - Numbers are gapless except after a take that dies between the
//     counter increment and the ticket insert (a crash, a lost
//     connection): its number stays unused. That is the only way a gap
//     appears; a hold such a take leaves behind is replaced after
//     holdGrace.
//   - ClaimNext is one findOneAndUpdate on a waiting ticket, so two
//     windows never call one ticket.
type QueueStore struct {
	windows *mongodrv.Collection
	tickets *mongodrv.Collection
	// board reads tickets for the status polls, with DB.status.
	board    *mongodrv.Collection
	counters *mongodrv.Collection
	holds    *mongodrv.Collection
}

var _ queue.Store = (*QueueStore)(nil)

// NewQueueStore returns the queue store on db.
func NewQueueStore(db *DB) *QueueStore {
	return &QueueStore{
		windows:  db.db.Collection(windowsColl),
		tickets:  db.db.Collection(ticketsColl),
		board:    db.db.Collection(ticketsColl, options.Collection().SetReadPreference(db.statusPref())),
		counters: db.db.Collection(ticketCountersColl),
		holds:    db.db.Collection(ticketHoldsColl),
	}
}

// ticketDoc mirrors queue.Ticket, plus Rank, which ClaimNext sorts on.
// Times are stored in UTC truncated to milliseconds; an uncalled
// ticket's CalledAt is the zero time, a BSON date in year 1.
type ticketDoc struct {
	ID     string `bson:"_id"`
	Center string `bson:"center"`
	Sector string `bson:"sector"`
	// TakenSector is the sector whose counter gave Seq; a transfer
	// changes Sector only.
	TakenSector string    `bson:"taken_sector"`
	Day         string    `bson:"day"`
	Seq         int       `bson:"seq"`
	Number      string    `bson:"number"`
	Channel     string    `bson:"channel"`
	Holder      string    `bson:"holder"`
	Priority    string    `bson:"priority"`
	Rank        int       `bson:"rank"`
	Status      string    `bson:"status"`
	TakenAt     time.Time `bson:"taken_at"`
	CalledAt    time.Time `bson:"called_at"`
	Window      string    `bson:"window"`
	Calls       int       `bson:"calls"`
	FinishedAt  time.Time `bson:"finished_at"`
	Reactivated bool      `bson:"reactivated"`
	Declared    string    `bson:"declared"`
	Matters     []string  `bson:"matters,omitempty"`
}

func toTicketDoc(t queue.Ticket) ticketDoc {
	d := ticketDoc{
		ID: t.ID, Center: t.Center, Sector: t.Sector, TakenSector: t.Sector, Day: t.Day, Seq: t.Seq, Number: t.Number,
		Channel: string(t.Channel), Holder: t.Holder, Priority: string(t.Priority), Rank: t.Priority.Rank(),
		Status: string(t.Status), TakenAt: t.TakenAt, CalledAt: t.CalledAt, Window: t.Window, Calls: t.Calls,
		FinishedAt: t.FinishedAt, Reactivated: t.Reactivated, Declared: string(t.Declared), Matters: t.Matters,
	}
	storedTimes(&d.TakenAt, &d.CalledAt, &d.FinishedAt)
	return d
}

func (d ticketDoc) ticket() queue.Ticket {
	t := queue.Ticket{
		ID: d.ID, Center: d.Center, Sector: d.Sector, Day: d.Day, Seq: d.Seq, Number: d.Number,
		Channel: queue.Channel(d.Channel), Holder: d.Holder, Priority: queue.Priority(d.Priority),
		Status: queue.Status(d.Status), TakenAt: d.TakenAt, CalledAt: d.CalledAt, Window: d.Window, Calls: d.Calls,
		FinishedAt: d.FinishedAt, Reactivated: d.Reactivated, Declared: queue.Priority(d.Declared),
	}
	if len(d.Matters) > 0 {
		t.Matters = d.Matters
	}
	utcTimes(&t.TakenAt, &t.CalledAt, &t.FinishedAt)
	if t.FinishedAt.Year() <= 1 {
		t.FinishedAt = time.Time{} // stored by a version without it, or never finished
	}
	return t
}

// counterDoc is the last number given out in one center, sector and day.
type counterDoc struct {
	ID  string `bson:"_id"`
	Seq int    `bson:"seq"`
}

// holdDoc reserves a holder's one active ticket in a sector and day.
type holdDoc struct {
	ID     string    `bson:"_id"`
	Ticket string    `bson:"ticket"`
	At     time.Time `bson:"at"`
	// Transfer marks a hold taken for a ticket being transferred into the
	// sector: while it is recent, the ticket (still active in its old
	// sector) keeps the place.
	Transfer bool `bson:"transfer,omitempty"`
}

// windowDoc mirrors queue.Window field for field.
type windowDoc struct {
	ID        string    `bson:"_id"`
	Center    string    `bson:"center"`
	Name      string    `bson:"name"`
	Sectors   []string  `bson:"sectors"`
	CreatedAt time.Time `bson:"created_at"`
	Staff     string    `bson:"staff"`
	OpenedAt  time.Time `bson:"opened_at"`
}

func errNoTicket() error  { return apperr.New(apperr.NotFound, "没有这个排队号") }
func errNoWaiting() error { return apperr.New(apperr.NotFound, "没有等候的排队号") }
func errNoWindow() error  { return apperr.New(apperr.NotFound, "没有这个窗口") }

func counterKey(t queue.Ticket) string { return strings.Join([]string{t.Center, t.Sector, t.Day}, "|") }

func holdKey(t queue.Ticket) string {
	return strings.Join([]string{t.Center, t.Sector, t.Day, t.Holder}, "|")
}

// TakeTicket implements queue.Store: hold (for a known holder), then
// number, then ticket; see QueueStore for why in that order.
func (s *QueueStore) TakeTicket(ctx context.Context, t queue.Ticket, letter string) (queue.Ticket, error) {
	storedTimes(&t.TakenAt, &t.CalledAt)
	if t.Holder != "" {
		if err := s.hold(ctx, t); err != nil {
			return queue.Ticket{}, err
		}
	}
	seq, err := s.nextSeq(ctx, counterKey(t))
	if err != nil {
		s.release(ctx, t)
		return queue.Ticket{}, fmt.Errorf("mongo: take ticket in %s: %w", counterKey(t), err)
	}
	t.Seq = seq
	t.Number = queue.FormatNumber(letter, seq)
	if _, err := s.tickets.InsertOne(ctx, toTicketDoc(t)); err != nil {
		s.release(ctx, t)
		return queue.Ticket{}, fmt.Errorf("mongo: take ticket %s (number %s left unused): %w", t.ID, t.Number, err)
	}
	return t, nil
}

// hold reserves t's holder's one active ticket in the sector and day, or
// returns queue.ErrActiveTicket.
func (s *QueueStore) hold(ctx context.Context, t queue.Ticket) error {
	return s.holdAs(ctx, t, holdDoc{ID: holdKey(t), Ticket: t.ID, At: t.TakenAt})
}

// holdAs is hold with the hold document given: a take's, or a transfer's
// (At the time of the transfer, Transfer set).
func (s *QueueStore) holdAs(ctx context.Context, t queue.Ticket, h holdDoc) error {
	_, err := s.holds.InsertOne(ctx, h)
	if err == nil {
		return s.noTransferredIn(ctx, t)
	}
	if !isDuplicateKey(err) {
		return fmt.Errorf("mongo: take ticket: hold %s: %w", h.ID, err)
	}
	var old holdDoc
	err = s.holds.FindOne(ctx, bson.D{{Key: "_id", Value: h.ID}}).Decode(&old)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		// Released between our insert and this read: the take that held
		// it failed. Refusing is safe; the holder can simply try again.
		return queue.ErrActiveTicket
	}
	if err != nil {
		return fmt.Errorf("mongo: take ticket: read hold %s: %w", h.ID, err)
	}
	var cur ticketDoc
	err = s.tickets.FindOne(ctx, bson.D{{Key: "_id", Value: old.Ticket}}).Decode(&cur)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		if !old.At.UTC().Add(holdGrace).Before(h.At) {
			return queue.ErrActiveTicket // a take of the holder still in flight
		}
	case err != nil:
		return fmt.Errorf("mongo: take ticket: read held ticket %s: %w", old.Ticket, err)
	case isActive(cur.Status) && cur.Sector == t.Sector:
		return queue.ErrActiveTicket
	case isActive(cur.Status) && old.Transfer && !old.At.UTC().Add(holdGrace).Before(h.At):
		return queue.ErrActiveTicket // a transfer into this sector in flight
	}
	// The held ticket is finished, was transferred to another sector, or
	// was never stored: take the hold over, conditionally, so of two takes
	// doing the same only one wins.
	res, err := s.holds.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: h.ID}, {Key: "ticket", Value: old.Ticket}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "ticket", Value: h.Ticket}, {Key: "at", Value: h.At}, {Key: "transfer", Value: h.Transfer}}}})
	if err != nil {
		return fmt.Errorf("mongo: take ticket: take over hold %s: %w", h.ID, err)
	}
	if res.MatchedCount == 0 {
		return queue.ErrActiveTicket
	}
	return s.noTransferredIn(ctx, t)
}

// activeStatuses are the statuses of a ticket that holds its holder's one
// place in a sector.
var activeStatuses = []string{string(queue.StatusWaiting), string(queue.StatusCalled), string(queue.StatusParked)}

func isActive(status string) bool {
	for _, a := range activeStatuses {
		if status == a {
			return true
		}
	}
	return false
}

// noTransferredIn refuses t, and gives up the hold just got for it, when
// the holder already has an active ticket in t's sector that holds
// nothing there: one transferred in from another sector, since
// MoveTicket leaves holds alone.
func (s *QueueStore) noTransferredIn(ctx context.Context, t queue.Ticket) error {
	filter := bson.D{
		{Key: "center", Value: t.Center}, {Key: "sector", Value: t.Sector}, {Key: "day", Value: t.Day},
		{Key: "holder", Value: t.Holder},
		{Key: "status", Value: bson.D{{Key: "$in", Value: activeStatuses}}},
	}
	err := s.tickets.FindOne(ctx, filter).Err()
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil
	}
	s.release(ctx, t)
	if err != nil {
		return fmt.Errorf("mongo: take ticket: look for held tickets of %s: %w", holdKey(t), err)
	}
	return queue.ErrActiveTicket
}

// release gives up t's hold after a take failed before storing t, so
// the holder can try again at once instead of after holdGrace. It runs
// even when ctx is done, which is often why the take failed, and a
// failure here only means waiting for holdGrace.
func (s *QueueStore) release(ctx context.Context, t queue.Ticket) {
	if t.Holder == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	// An insert that reported an error may still have stored the ticket;
	// then the hold must stay. The number tells ours from another
	// ticket with the same ID, which a duplicate ID error is about.
	ours := bson.D{
		{Key: "_id", Value: t.ID}, {Key: "center", Value: t.Center}, {Key: "sector", Value: t.Sector},
		{Key: "day", Value: t.Day}, {Key: "seq", Value: t.Seq},
	}
	if err := s.tickets.FindOne(ctx, ours).Err(); !errors.Is(err, mongodrv.ErrNoDocuments) {
		return
	}
	_, _ = s.holds.DeleteOne(ctx, bson.D{{Key: "_id", Value: holdKey(t)}, {Key: "ticket", Value: t.ID}})
}

// nextSeq increments the counter named key, creating it at 1.
func (s *QueueStore) nextSeq(ctx context.Context, key string) (int, error) {
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	update := bson.D{{Key: "$inc", Value: bson.D{{Key: "seq", Value: 1}}}}
	var err error
	// Two first takes of a day may both try to insert the counter; the
	// loser's upsert fails on _id and, tried again, finds the counter.
	for range 3 {
		var c counterDoc
		err = s.counters.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}}, update, opts).Decode(&c)
		if err == nil {
			return c.Seq, nil
		}
		if !isDuplicateKey(err) {
			return 0, err
		}
	}
	return 0, err
}

// GetTicket implements queue.Store.
func (s *QueueStore) GetTicket(ctx context.Context, id string) (queue.Ticket, error) {
	var d ticketDoc
	err := s.tickets.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Ticket{}, errNoTicket()
	}
	if err != nil {
		return queue.Ticket{}, fmt.Errorf("mongo: get ticket %s: %w", id, err)
	}
	return d.ticket(), nil
}

// TicketByNumber implements queue.Store, on the unique index of numbers.
func (s *QueueStore) TicketByNumber(ctx context.Context, center, sector, day string, seq int) (queue.Ticket, error) {
	var d ticketDoc
	err := s.tickets.FindOne(ctx, bson.D{
		{Key: "center", Value: center}, {Key: "taken_sector", Value: sector}, {Key: "day", Value: day}, {Key: "seq", Value: seq},
	}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Ticket{}, errNoTicket()
	}
	if err != nil {
		return queue.Ticket{}, fmt.Errorf("mongo: ticket %s/%s/%s/%d: %w", center, sector, day, seq, err)
	}
	return d.ticket(), nil
}

// ClaimNext implements queue.Store with at most two findOneAndUpdates:
// the oldest starved ticket if any, else the first in calling order.
// Each matches only a waiting ticket, so of two windows racing for one
// ticket the second finds the next.
func (s *QueueStore) ClaimNext(ctx context.Context, center, day string, sectors []string, window string, at, starveBefore time.Time) (queue.Ticket, error) {
	if len(sectors) == 0 {
		return queue.Ticket{}, errNoWaiting()
	}
	filter := bson.D{
		{Key: "center", Value: center},
		{Key: "day", Value: day},
		{Key: "status", Value: string(queue.StatusWaiting)},
		{Key: "sector", Value: bson.D{{Key: "$in", Value: sectors}}},
	}
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "status", Value: string(queue.StatusCalled)},
			{Key: "window", Value: window},
			{Key: "called_at", Value: at.UTC().Truncate(time.Millisecond)},
		}},
		{Key: "$inc", Value: bson.D{{Key: "calls", Value: 1}}},
	}
	if !starveBefore.IsZero() {
		starved := append(filter[:len(filter):len(filter)],
			bson.E{Key: "taken_at", Value: bson.D{{Key: "$lt", Value: starveBefore.UTC().Truncate(time.Millisecond)}}})
		order := bson.D{{Key: "taken_at", Value: 1}, {Key: "seq", Value: 1}}
		t, err := s.claim(ctx, starved, order, update)
		if !apperr.Is(err, apperr.NotFound) {
			return t, err
		}
	}
	order := bson.D{{Key: "rank", Value: 1}, {Key: "taken_at", Value: 1}, {Key: "seq", Value: 1}}
	return s.claim(ctx, filter, order, update)
}

func (s *QueueStore) claim(ctx context.Context, filter, sort, update bson.D) (queue.Ticket, error) {
	// No projection: FerretDB v1 mishandles one in findAndModify.
	opts := options.FindOneAndUpdate().SetSort(sort).SetReturnDocument(options.After)
	var d ticketDoc
	err := s.tickets.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Ticket{}, errNoWaiting()
	}
	if err != nil {
		return queue.Ticket{}, fmt.Errorf("mongo: call next: %w", err)
	}
	return d.ticket(), nil
}

// CountAhead implements queue.Store: the waiting tickets of t's sector
// and day before t in calling order (rank, taken at, seq).
func (s *QueueStore) CountAhead(ctx context.Context, t queue.Ticket) (int, error) {
	r, taken := t.Priority.Rank(), t.TakenAt.UTC().Truncate(time.Millisecond)
	filter := bson.D{
		{Key: "center", Value: t.Center},
		{Key: "sector", Value: t.Sector},
		{Key: "day", Value: t.Day},
		{Key: "status", Value: string(queue.StatusWaiting)},
		{Key: "$or", Value: bson.A{
			bson.D{{Key: "rank", Value: bson.D{{Key: "$lt", Value: r}}}},
			bson.D{{Key: "rank", Value: r}, {Key: "taken_at", Value: bson.D{{Key: "$lt", Value: taken}}}},
			bson.D{{Key: "rank", Value: r}, {Key: "taken_at", Value: taken}, {Key: "seq", Value: bson.D{{Key: "$lt", Value: t.Seq}}}},
		}},
	}
	n, err := s.board.CountDocuments(ctx, filter)
	if err != nil {
		return 0, fmt.Errorf("mongo: count ahead of %s: %w", t.ID, err)
	}
	return int(n), nil
}

// MoveTicket implements queue.Store with one findOneAndUpdate whose
// filter is the condition, so of two clerks acting on one ticket only
// the first finds it where it expects; a miss reads the ticket only to
// tell an unknown ID from a moved ticket.
func (s *QueueStore) MoveTicket(ctx context.Context, id string, from []queue.Status, window string, c queue.Change) (queue.Ticket, error) {
	if c.Sector == "" {
		return s.moveTicket(ctx, id, from, window, c)
	}
	// A transfer first reserves the holder's place in the new sector, as
	// a take does, so that of a transfer and a take racing into one
	// sector only one gets it; a failed move gives the place back.
	var d ticketDoc
	err := s.tickets.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if err != nil || d.Holder == "" || d.Sector == c.Sector {
		return s.moveTicket(ctx, id, from, window, c)
	}
	moved := d.ticket()
	moved.Sector = c.Sector
	at := c.At
	if at.IsZero() {
		at = time.Now()
	}
	if err := s.holdAs(ctx, moved, holdDoc{ID: holdKey(moved), Ticket: id, At: at.UTC().Truncate(time.Millisecond), Transfer: true}); err != nil {
		return queue.Ticket{}, err
	}
	t, err := s.moveTicket(ctx, id, from, window, c)
	if err != nil {
		s.release(ctx, moved)
	}
	return t, err
}

func (s *QueueStore) moveTicket(ctx context.Context, id string, from []queue.Status, window string, c queue.Change) (queue.Ticket, error) {
	statuses := make([]string, len(from)) // never nil: $in needs an array
	for i, st := range from {
		statuses[i] = string(st)
	}
	filter := bson.D{{Key: "_id", Value: id}, {Key: "status", Value: bson.D{{Key: "$in", Value: statuses}}}}
	if window != "" {
		filter = append(filter, bson.E{Key: "window", Value: window})
	}
	var set bson.D
	if c.Status != "" {
		set = append(set, bson.E{Key: "status", Value: string(c.Status)})
	}
	if c.Sector != "" {
		set = append(set, bson.E{Key: "sector", Value: c.Sector})
	}
	switch {
	case c.ClearWindow:
		set = append(set, bson.E{Key: "window", Value: ""})
	case c.Window != "":
		set = append(set, bson.E{Key: "window", Value: c.Window})
	}
	if !c.CalledAt.IsZero() {
		set = append(set, bson.E{Key: "called_at", Value: c.CalledAt.UTC().Truncate(time.Millisecond)})
	}
	if !c.FinishedAt.IsZero() {
		set = append(set, bson.E{Key: "finished_at", Value: c.FinishedAt.UTC().Truncate(time.Millisecond)})
	}
	if c.Priority != "" {
		set = append(set, bson.E{Key: "priority", Value: string(c.Priority)}, bson.E{Key: "rank", Value: c.Priority.Rank()})
	}
	if c.ClearDeclared {
		set = append(set, bson.E{Key: "declared", Value: ""})
	}
	if c.Matters != nil {
		set = append(set, bson.E{Key: "matters", Value: c.Matters})
	}
	if !c.Reactivate.IsZero() {
		// Once only: a ticket stored before the field existed has none.
		filter = append(filter, bson.E{Key: "reactivated", Value: bson.D{{Key: "$ne", Value: true}}})
		set = append(set, bson.E{Key: "reactivated", Value: true}, bson.E{Key: "calls", Value: 0},
			bson.E{Key: "taken_at", Value: c.Reactivate.UTC().Truncate(time.Millisecond)})
	}
	var update bson.D
	if len(set) > 0 {
		update = append(update, bson.E{Key: "$set", Value: set})
	}
	if c.Call {
		update = append(update, bson.E{Key: "$inc", Value: bson.D{{Key: "calls", Value: 1}}})
	}

	var d ticketDoc
	var err error
	if len(update) == 0 {
		// Nothing to change (an empty update is an error): only the check.
		err = s.tickets.FindOne(ctx, filter).Decode(&d)
	} else {
		// No projection: FerretDB v1 mishandles one in findAndModify.
		opts := options.FindOneAndUpdate().SetReturnDocument(options.After)
		err = s.tickets.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
	}
	if err == nil {
		return d.ticket(), nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Ticket{}, fmt.Errorf("mongo: move ticket %s: %w", id, err)
	}
	err = s.tickets.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return queue.Ticket{}, errNoTicket()
	case err != nil:
		return queue.Ticket{}, fmt.Errorf("mongo: move ticket %s: %w", id, err)
	}
	return queue.Ticket{}, queue.ErrTicketMoved
}

// RecentCalls implements queue.Store. An uncalled ticket's called_at is
// the zero time, so "called_at after it" means "ever called".
func (s *QueueStore) RecentCalls(ctx context.Context, center, day string, limit int) ([]queue.Ticket, error) {
	filter := bson.D{
		{Key: "center", Value: center},
		{Key: "day", Value: day},
		{Key: "status", Value: bson.D{{Key: "$ne", Value: string(queue.StatusWaiting)}}},
		{Key: "called_at", Value: bson.D{{Key: "$gt", Value: time.Time{}}}},
	}
	opts := options.Find().SetSort(bson.D{{Key: "called_at", Value: -1}, {Key: "seq", Value: -1}}).SetLimit(int64(limit))
	docs, err := findAll[ticketDoc](ctx, s.board, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: recent calls of %s on %s: %w", center, day, err)
	}
	out := make([]queue.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// WaitingCounts implements queue.Store by reading the sector of every
// waiting ticket (a lobby holds hundreds at most) and counting in Go: one
// consistent read, no $group (which FerretDB v1 supports only in part) and
// no distinct (which FerretDB v1 refuses once the request's deadline adds
// maxTimeMS to it).
func (s *QueueStore) WaitingCounts(ctx context.Context, center, day string) (map[string]int, error) {
	waiting := bson.D{
		{Key: "center", Value: center},
		{Key: "day", Value: day},
		{Key: "status", Value: string(queue.StatusWaiting)},
	}
	type sectorOnly struct {
		Sector string `bson:"sector"`
	}
	docs, err := findAll[sectorOnly](ctx, s.board, waiting, options.Find().SetProjection(bson.D{{Key: "sector", Value: 1}, {Key: "_id", Value: 0}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: waiting counts of %s on %s: %w", center, day, err)
	}
	out := map[string]int{}
	for _, d := range docs {
		out[d.Sector]++
	}
	return out, nil
}

// CreateWindow implements queue.Store; a name the center already uses,
// or a taken ID, is a conflict.
func (s *QueueStore) CreateWindow(ctx context.Context, w queue.Window) error {
	d := windowDoc(w)
	if d.Sectors == nil {
		d.Sectors = []string{} // an array, as SQLite keeps it, never null
	}
	storedTimes(&d.CreatedAt, &d.OpenedAt)
	if _, err := s.windows.InsertOne(ctx, d); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "该窗口名称已存在", err)
		}
		return fmt.Errorf("mongo: create window %s: %w", w.ID, err)
	}
	return nil
}

func (d windowDoc) window() queue.Window {
	w := queue.Window(d)
	if w.Sectors == nil {
		w.Sectors = []string{}
	}
	utcTimes(&w.CreatedAt, &w.OpenedAt)
	if w.OpenedAt.Year() <= 1 {
		w.OpenedAt = time.Time{}
	}
	return w
}

// GetWindow implements queue.Store.
func (s *QueueStore) GetWindow(ctx context.Context, id string) (queue.Window, error) {
	var d windowDoc
	err := s.windows.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Window{}, errNoWindow()
	}
	if err != nil {
		return queue.Window{}, fmt.Errorf("mongo: get window %s: %w", id, err)
	}
	return d.window(), nil
}

// ListWindows implements queue.Store. Names sort by code point, as
// SQLite's default collation sorts them.
func (s *QueueStore) ListWindows(ctx context.Context, center string) ([]queue.Window, error) {
	opts := options.Find().SetSort(bson.D{{Key: "name", Value: 1}})
	docs, err := findAll[windowDoc](ctx, s.windows, bson.D{{Key: "center", Value: center}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list windows of %q: %w", center, err)
	}
	out := make([]queue.Window, len(docs))
	for i, d := range docs {
		out[i] = d.window()
	}
	return out, nil
}

// SignWindow implements queue.Store with one conditional findOneAndUpdate.
func (s *QueueStore) SignWindow(ctx context.Context, id, from, staff string, at time.Time) (queue.Window, error) {
	var cur any = from
	if from == "" {
		cur = bson.D{{Key: "$in", Value: bson.A{"", nil}}} // closed, or stored before sign-in existed
	}
	opened := at.UTC().Truncate(time.Millisecond)
	if staff == "" {
		opened = time.Time{}
	}
	var d windowDoc
	err := s.windows.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "staff", Value: cur}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "staff", Value: staff}, {Key: "opened_at", Value: opened}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err == nil {
		return d.window(), nil
	}
	if !errors.Is(err, mongodrv.ErrNoDocuments) {
		return queue.Window{}, fmt.Errorf("mongo: sign window %s: %w", id, err)
	}
	if _, err := s.GetWindow(ctx, id); err != nil {
		return queue.Window{}, err
	}
	return queue.Window{}, queue.ErrWindowTaken
}

// ServiceTimes implements queue.Store.
func (s *QueueStore) ServiceTimes(ctx context.Context, center, sector string, since time.Time, limit int) ([]time.Duration, error) {
	opts := options.Find().SetSort(bson.D{{Key: "finished_at", Value: -1}}).SetLimit(int64(limit))
	docs, err := findAll[ticketDoc](ctx, s.tickets, bson.D{
		{Key: "center", Value: center}, {Key: "sector", Value: sector}, {Key: "status", Value: string(queue.StatusDone)},
		{Key: "finished_at", Value: bson.D{{Key: "$gte", Value: since.UTC().Truncate(time.Millisecond)}}},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: service times of %s/%s: %w", center, sector, err)
	}
	out := make([]time.Duration, 0, len(docs))
	for _, d := range docs {
		if t := d.ticket(); !t.CalledAt.IsZero() {
			out = append(out, t.FinishedAt.Sub(t.CalledAt))
		}
	}
	return out, nil
}

// ServedTickets implements queue.Store.
func (s *QueueStore) ServedTickets(ctx context.Context, holder string, since time.Time, limit int) ([]queue.Ticket, error) {
	if holder == "" {
		return []queue.Ticket{}, nil
	}
	opts := options.Find().SetSort(bson.D{{Key: "finished_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit))
	docs, err := findAll[ticketDoc](ctx, s.tickets, bson.D{
		{Key: "holder", Value: holder}, {Key: "status", Value: string(queue.StatusDone)},
		{Key: "finished_at", Value: bson.D{{Key: "$gte", Value: since.UTC().Truncate(time.Millisecond)}}},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: served tickets: %w", err)
	}
	out := make([]queue.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// Waiting implements queue.Store.
func (s *QueueStore) Waiting(ctx context.Context, center, day, sector string, limit int) ([]queue.Ticket, error) {
	opts := options.Find().SetSort(bson.D{{Key: "rank", Value: 1}, {Key: "taken_at", Value: 1}, {Key: "seq", Value: 1}}).SetLimit(int64(limit))
	docs, err := findAll[ticketDoc](ctx, s.tickets, bson.D{
		{Key: "center", Value: center}, {Key: "sector", Value: sector}, {Key: "day", Value: day},
		{Key: "status", Value: string(queue.StatusWaiting)},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: waiting in %s/%s: %w", center, sector, err)
	}
	out := make([]queue.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// AtWindow implements queue.Store.
func (s *QueueStore) AtWindow(ctx context.Context, center, day, window string) ([]queue.Ticket, error) {
	opts := options.Find().SetSort(bson.D{{Key: "called_at", Value: 1}, {Key: "seq", Value: 1}})
	docs, err := findAll[ticketDoc](ctx, s.tickets, bson.D{
		{Key: "center", Value: center}, {Key: "day", Value: day},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(queue.StatusCalled), string(queue.StatusParked)}}}},
		{Key: "window", Value: window},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: tickets at window %s: %w", window, err)
	}
	out := make([]queue.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// HasActiveTicket implements queue.Store.
func (s *QueueStore) HasActiveTicket(ctx context.Context, center, sector, day, holder string) (bool, error) {
	n, err := s.tickets.CountDocuments(ctx, bson.D{
		{Key: "center", Value: center}, {Key: "sector", Value: sector}, {Key: "day", Value: day},
		{Key: "holder", Value: holder},
		{Key: "status", Value: bson.D{{Key: "$in", Value: activeStatuses}}},
	})
	if err != nil {
		return false, fmt.Errorf("mongo: active ticket of %s in %s: %w", holder, sector, err)
	}
	return n > 0, nil
}
