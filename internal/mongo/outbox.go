package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/notify"
)

// outboxColl holds one document per message, _id the message ID.
const outboxColl = "outbox"

func outboxIndexes() []collectionIndexes {
	return []collectionIndexes{
		{outboxColl, []mongodrv.IndexModel{{
			// Claim: the pending messages that are due, oldest first;
			// CountByStatus counts on its prefix.
			Keys: bson.D{
				{Key: "status", Value: 1}, {Key: "next_attempt", Value: 1}, {Key: "_id", Value: 1},
			},
			Options: options.Index().SetName("due"),
		}}},
	}
}

// OutboxStore is notify.Store on MongoDB, without transactions:
//
//   - Enqueue inserts each message on its _id and ignores a duplicate
//     key, so the first message with an ID stays.
//   - Claim is a loop of findOneAndUpdate, each taking the oldest due
//     pending message and moving its next_attempt to the end of the
//     lease. Each is atomic, so two senders never get one message; the
//     batch as a whole is not, which the contract does not ask for.
//   - MarkSent, MarkFailed and Withdraw are updates whose filter holds
//     the status they start from.
type OutboxStore struct {
	msgs *mongodrv.Collection
}

var _ notify.Store = (*OutboxStore)(nil)

// NewOutboxStore returns the outbox store on db.
func NewOutboxStore(db *DB) *OutboxStore {
	return &OutboxStore{msgs: db.db.Collection(outboxColl)}
}

// messageDoc mirrors notify.Message field for field. Times are stored in
// UTC truncated to milliseconds; an unset time is the zero time, a BSON
// date in year 1, so it sorts before every real one.
type messageDoc struct {
	ID          string            `bson:"_id"`
	To          string            `bson:"to"`
	Kind        string            `bson:"kind"`
	Data        map[string]string `bson:"data"`
	Page        string            `bson:"page"`
	NotBefore   time.Time         `bson:"not_before"`
	CreatedAt   time.Time         `bson:"created_at"`
	Status      string            `bson:"status"`
	Attempts    int               `bson:"attempts"`
	NextAttempt time.Time         `bson:"next_attempt"`
	LastError   string            `bson:"last_error"`
	SentAt      time.Time         `bson:"sent_at"`
}

// newMessageDoc is m as Enqueue stores it: pending, not yet tried.
func newMessageDoc(m notify.Message) messageDoc {
	d := messageDoc{
		ID: m.ID, To: m.To, Kind: string(m.Kind), Data: m.Data, Page: m.Page,
		NotBefore: m.NotBefore, CreatedAt: m.CreatedAt,
		Status: string(notify.StatusPending), NextAttempt: m.NotBefore,
	}
	if d.NextAttempt.IsZero() {
		d.NextAttempt = m.CreatedAt
	}
	if d.Data == nil {
		d.Data = map[string]string{} // a document, as SQLite keeps it, never null
	}
	storedTimes(&d.NotBefore, &d.CreatedAt, &d.NextAttempt, &d.SentAt)
	return d
}

func (d messageDoc) message() notify.Message {
	m := notify.Message{
		ID: d.ID, To: d.To, Kind: notify.Kind(d.Kind), Data: d.Data, Page: d.Page,
		NotBefore: d.NotBefore, CreatedAt: d.CreatedAt,
		Status: notify.Status(d.Status), Attempts: d.Attempts, NextAttempt: d.NextAttempt,
		LastError: d.LastError, SentAt: d.SentAt,
	}
	if len(m.Data) == 0 {
		m.Data = nil
	}
	utcTimes(&m.NotBefore, &m.CreatedAt, &m.NextAttempt, &m.SentAt)
	return m
}

func errNoMessage() error { return apperr.New(apperr.NotFound, "没有这条通知") }

// Enqueue implements notify.Store, one insert per message: a batch of
// messages is one or two, and an unordered insertMany that hits a
// duplicate reports it differently on every server.
func (s *OutboxStore) Enqueue(ctx context.Context, msgs ...notify.Message) error {
	for _, m := range msgs {
		if _, err := s.msgs.InsertOne(ctx, newMessageDoc(m)); err != nil && !isDuplicateKey(err) {
			return fmt.Errorf("mongo: enqueue %s: %w", m.ID, err)
		}
	}
	return nil
}

// Claim implements notify.Store.
func (s *OutboxStore) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]notify.Message, error) {
	out := []notify.Message{}
	if limit <= 0 {
		return out, nil
	}
	storedTimes(&now, &leaseUntil)
	if !leaseUntil.After(now) {
		// Else a message just claimed would still be due, and claimed again.
		return nil, fmt.Errorf("mongo: claim messages: lease until %v is not after now %v", leaseUntil, now)
	}
	filter := bson.D{
		{Key: "status", Value: string(notify.StatusPending)},
		{Key: "next_attempt", Value: bson.D{{Key: "$lte", Value: now}}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "next_attempt", Value: leaseUntil}}}}
	// No projection: FerretDB v1 mishandles one in findAndModify.
	opts := options.FindOneAndUpdate().
		SetSort(bson.D{{Key: "next_attempt", Value: 1}, {Key: "_id", Value: 1}}).
		SetReturnDocument(options.After)
	for len(out) < limit {
		var d messageDoc
		err := s.msgs.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
		if errors.Is(err, mongodrv.ErrNoDocuments) {
			break
		}
		if err != nil {
			// The messages claimed so far stay leased; they are sent
			// after the lease, by whichever sender claims them then.
			return nil, fmt.Errorf("mongo: claim messages (%d claimed before the error): %w", len(out), err)
		}
		out = append(out, d.message())
	}
	return out, nil
}

// mark runs a conditional update of one message; an update that matches
// nothing reads the message only to tell an unknown ID (not found) from
// one in another status (left alone, no error).
func (s *OutboxStore) mark(ctx context.Context, what, id string, filter, update bson.D) error {
	res, err := s.msgs.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("mongo: mark message %s %s: %w", id, what, err)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	err = s.msgs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoMessage()
	case err != nil:
		return fmt.Errorf("mongo: mark message %s %s: %w", id, what, err)
	}
	return nil
}

// MarkSent implements notify.Store.
func (s *OutboxStore) MarkSent(ctx context.Context, id string, at time.Time) error {
	storedTimes(&at)
	filter := bson.D{
		{Key: "_id", Value: id},
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{string(notify.StatusPending), string(notify.StatusWithdrawn)}}}},
	}
	update := bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: string(notify.StatusSent)}, {Key: "sent_at", Value: at}}},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	}
	return s.mark(ctx, "sent", id, filter, update)
}

// MarkFailed implements notify.Store.
func (s *OutboxStore) MarkFailed(ctx context.Context, id string, reason string, retryAt time.Time) error {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "status", Value: string(notify.StatusPending)}}
	set := bson.D{{Key: "last_error", Value: reason}}
	if retryAt.IsZero() {
		set = append(set, bson.E{Key: "status", Value: string(notify.StatusFailed)})
	} else {
		storedTimes(&retryAt)
		set = append(set, bson.E{Key: "next_attempt", Value: retryAt})
	}
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$inc", Value: bson.D{{Key: "attempts", Value: 1}}},
	}
	return s.mark(ctx, "failed", id, filter, update)
}

// Withdraw implements notify.Store.
func (s *OutboxStore) Withdraw(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	filter := bson.D{
		{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}},
		{Key: "status", Value: string(notify.StatusPending)},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: string(notify.StatusWithdrawn)}}}}
	if _, err := s.msgs.UpdateMany(ctx, filter, update); err != nil {
		return fmt.Errorf("mongo: withdraw %d messages: %w", len(ids), err)
	}
	return nil
}

// GetMessage implements notify.Store.
func (s *OutboxStore) GetMessage(ctx context.Context, id string) (notify.Message, error) {
	var d messageDoc
	err := s.msgs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return notify.Message{}, errNoMessage()
	}
	if err != nil {
		return notify.Message{}, fmt.Errorf("mongo: get message %s: %w", id, err)
	}
	return d.message(), nil
}

// CountByStatus implements notify.Store with a count per status rather
// than a $group, which FerretDB v1 supports only in part.
func (s *OutboxStore) CountByStatus(ctx context.Context) (map[notify.Status]int, error) {
	out := make(map[notify.Status]int, 4)
	for _, st := range notify.Statuses() {
		n, err := s.msgs.CountDocuments(ctx, bson.D{{Key: "status", Value: string(st)}})
		if err != nil {
			return nil, fmt.Errorf("mongo: count %s messages: %w", st, err)
		}
		out[st] = int(n)
	}
	return out, nil
}

// ListFailed implements notify.Store.
func (s *OutboxStore) ListFailed(ctx context.Context, limit int) ([]notify.Message, error) {
	if limit <= 0 {
		return []notify.Message{}, nil
	}
	opts := options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit))
	cur, err := s.msgs.Find(ctx, bson.D{{Key: "status", Value: string(notify.StatusFailed)}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list failed messages: %w", err)
	}
	var docs []messageDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list failed messages: %w", err)
	}
	out := make([]notify.Message, len(docs))
	for i, d := range docs {
		out[i] = d.message()
	}
	return out, nil
}

// Requeue implements notify.Store.
func (s *OutboxStore) Requeue(ctx context.Context, id string, at time.Time) error {
	storedTimes(&at)
	filter := bson.D{{Key: "_id", Value: id}, {Key: "status", Value: string(notify.StatusFailed)}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "status", Value: string(notify.StatusPending)}, {Key: "attempts", Value: 0}, {Key: "next_attempt", Value: at},
	}}}
	res, err := s.msgs.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("mongo: requeue message %s: %w", id, err)
	}
	if res.MatchedCount > 0 {
		return nil
	}
	err = s.msgs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoMessage()
	case err != nil:
		return fmt.Errorf("mongo: requeue message %s: %w", id, err)
	}
	return apperr.New(apperr.Conflict, "这条通知不是发送失败状态，不能重发")
}
