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
	"github.com/banhao/banhao/internal/idempotency"
)

// idempotencyColl holds the claimed Idempotency-Keys, _id the key's ID:
// the primary key decides between two concurrent claims. A sharded
// deployment shards it on _id (hashed): every operation names it.
const idempotencyColl = "idempotency_keys"

func idempotencyIndexes() []collectionIndexes {
	return []collectionIndexes{
		{idempotencyColl, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "created", Value: 1}}, Options: options.Index().SetName("created")},
		}},
	}
}

// IdempotencyStore is idempotency.Store on MongoDB: one document per key.
// The sweep is a deleteMany on the creation time, not a TTL index, which
// is outside the portable subset.
type IdempotencyStore struct {
	keys *mongodrv.Collection
}

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns the idempotency key store on db.
func NewIdempotencyStore(db *DB) *IdempotencyStore {
	return &IdempotencyStore{keys: db.db.Collection(idempotencyColl)}
}

// keyDoc is a stored key.
type keyDoc struct {
	ID          string    `bson:"_id"`
	Fingerprint string    `bson:"fp"`
	Done        bool      `bson:"done"`
	Status      int       `bson:"status"`
	ContentType string    `bson:"ct"`
	Body        []byte    `bson:"body"`
	Created     time.Time `bson:"created"`
}

// CreateKey implements idempotency.Store.
func (s *IdempotencyStore) CreateKey(ctx context.Context, r idempotency.Record) error {
	created := r.Created.UTC().Truncate(time.Millisecond)
	_, err := s.keys.InsertOne(ctx, keyDoc{ID: r.ID, Fingerprint: r.Fingerprint, Body: []byte{}, Created: created})
	switch {
	case isDuplicateKey(err):
		return apperr.New(apperr.Conflict, "这个 Idempotency-Key 已被使用")
	case err != nil:
		return fmt.Errorf("mongo: create idempotency key: %w", err)
	}
	return nil
}

// GetKey implements idempotency.Store.
func (s *IdempotencyStore) GetKey(ctx context.Context, id string) (idempotency.Record, error) {
	var d keyDoc
	err := s.keys.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return idempotency.Record{}, apperr.New(apperr.NotFound, "没有这个 Idempotency-Key")
	case err != nil:
		return idempotency.Record{}, fmt.Errorf("mongo: get idempotency key: %w", err)
	}
	return idempotency.Record{ID: d.ID, Fingerprint: d.Fingerprint, Done: d.Done, Status: d.Status,
		ContentType: d.ContentType, Body: d.Body, Created: d.Created.UTC()}, nil
}

// FinishKey implements idempotency.Store.
func (s *IdempotencyStore) FinishKey(ctx context.Context, id string, created time.Time, status int, contentType string, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	_, err := s.keys.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "created", Value: created.UTC().Truncate(time.Millisecond)}, {Key: "done", Value: false}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}, {Key: "status", Value: status}, {Key: "ct", Value: contentType}, {Key: "body", Value: body}}}})
	if err != nil {
		return fmt.Errorf("mongo: finish idempotency key: %w", err)
	}
	return nil
}

// DeleteKey implements idempotency.Store.
func (s *IdempotencyStore) DeleteKey(ctx context.Context, id string, created time.Time) error {
	_, err := s.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "created", Value: created.UTC().Truncate(time.Millisecond)}})
	if err != nil {
		return fmt.Errorf("mongo: delete idempotency key: %w", err)
	}
	return nil
}

// SweepKeys implements idempotency.Store.
func (s *IdempotencyStore) SweepKeys(ctx context.Context, before time.Time) (int, error) {
	res, err := s.keys.DeleteMany(ctx, bson.D{{Key: "created", Value: bson.D{{Key: "$lt", Value: before.UTC()}}}})
	if err != nil {
		return 0, fmt.Errorf("mongo: sweep idempotency keys: %w", err)
	}
	return int(res.DeletedCount), nil
}
