package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
)

// parcelsColl holds one document per parcel, _id the parcel ID.
const parcelsColl = "parcels"

func parcelIndexes() []collectionIndexes {
	return []collectionIndexes{
		{parcelsColl, []mongodrv.IndexModel{
			{
				// One parcel per case; GetParcelByCase.
				Keys:    bson.D{{Key: "case", Value: 1}},
				Options: options.Index().SetName("case").SetUnique(true),
			},
			{
				// The 出件 window's list, newest first.
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("center_id"),
			},
			{
				// A courier's list, newest first.
				Keys:    bson.D{{Key: "courier", Value: 1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("courier_id"),
			},
			{
				// The retry of parcels waiting for their booking.
				Keys:    bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("status_id"),
			},
		}},
	}
}

// ParcelStore is delivery.Store on MongoDB. A parcel is one document; an
// update is one replaceOne whose filter holds the revision it replaces,
// so of two updates from one revision exactly one matches (_id is in the
// filter, so this holds on a sharded cluster too).
//
// The document keeps the whole parcel in "body" (the parcel's JSON field
// names, BSON dates for its times, an unset time the zero time) and,
// beside it, copies of the fields that lookups and lists use, written in
// the same replace: _id, case, center, courier, status, alert, rev.
type ParcelStore struct {
	parcels *mongodrv.Collection
}

var _ delivery.Store = (*ParcelStore)(nil)

// NewParcelStore returns the parcel store on db.
func NewParcelStore(db *DB) *ParcelStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &ParcelStore{parcels: db.db.Collection(parcelsColl, opts)}
}

// parcelDoc is a stored parcel; see ParcelStore.
type parcelDoc struct {
	ID      string          `bson:"_id"`
	Case    string          `bson:"case"`
	Center  string          `bson:"center"`
	Courier string          `bson:"courier"`
	Status  string          `bson:"status"`
	Alert   bool            `bson:"alert"`
	Rev     int             `bson:"rev"`
	Body    delivery.Parcel `bson:"body"`
}

func newParcelDoc(p delivery.Parcel) parcelDoc {
	return parcelDoc{ID: p.ID, Case: p.Case, Center: p.Center, Courier: p.Courier, Status: string(p.Status),
		Alert: p.Alert != "", Rev: p.Rev, Body: p}
}

func errNoParcel() error { return apperr.New(apperr.NotFound, "没有这个寄送件") }

func errParcelExists(err error) error {
	return apperr.Wrap(apperr.Conflict, "该办件已有寄送件", err)
}

func errParcelChanged() error {
	return apperr.New(apperr.VersionConflict, "寄送件已被他人修改，请刷新后重试")
}

// CreateParcel implements delivery.Store; a duplicate _id or case is a
// conflict.
func (s *ParcelStore) CreateParcel(ctx context.Context, p delivery.Parcel) error {
	_, err := s.parcels.InsertOne(ctx, newParcelDoc(p))
	switch {
	case isDuplicateKey(err):
		return errParcelExists(err)
	case err != nil:
		return fmt.Errorf("mongo: create parcel %s: %w", p.ID, err)
	}
	return nil
}

func (s *ParcelStore) findParcel(ctx context.Context, filter bson.D) (delivery.Parcel, error) {
	var d parcelDoc
	err := s.parcels.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return delivery.Parcel{}, errNoParcel()
	}
	if err != nil {
		return delivery.Parcel{}, err
	}
	return d.Body, nil
}

// GetParcel implements delivery.Store.
func (s *ParcelStore) GetParcel(ctx context.Context, id string) (delivery.Parcel, error) {
	p, err := s.findParcel(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return p, fmt.Errorf("mongo: get parcel %s: %w", id, err)
	}
	return p, err
}

// GetParcelByCase implements delivery.Store.
func (s *ParcelStore) GetParcelByCase(ctx context.Context, caseID string) (delivery.Parcel, error) {
	p, err := s.findParcel(ctx, bson.D{{Key: "case", Value: caseID}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return p, fmt.Errorf("mongo: get parcel of case %s: %w", caseID, err)
	}
	return p, err
}

// UpdateParcel implements delivery.Store: a replaceOne of {_id, rev:
// p.Rev-1}; when it matches nothing, a read of the _id tells an unknown
// parcel from a lost race.
func (s *ParcelStore) UpdateParcel(ctx context.Context, p delivery.Parcel) error {
	filter := bson.D{{Key: "_id", Value: p.ID}, {Key: "rev", Value: p.Rev - 1}}
	res, err := s.parcels.ReplaceOne(ctx, filter, newParcelDoc(p))
	switch {
	case isDuplicateKey(err):
		return errParcelExists(err)
	case err != nil:
		return fmt.Errorf("mongo: update parcel %s: %w", p.ID, err)
	case res.MatchedCount > 0:
		return nil
	}
	err = s.parcels.FindOne(ctx, bson.D{{Key: "_id", Value: p.ID}}).Err()
	switch {
	case err == nil:
		return errParcelChanged()
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoParcel()
	}
	return fmt.Errorf("mongo: update parcel %s: %w", p.ID, err)
}

// ListParcels implements delivery.Store with one find, by _id descending.
func (s *ParcelStore) ListParcels(ctx context.Context, f delivery.Filter) ([]delivery.Parcel, error) {
	filter := bson.D{}
	if f.Center != "" {
		filter = append(filter, bson.E{Key: "center", Value: f.Center})
	}
	if f.Courier != "" {
		filter = append(filter, bson.E{Key: "courier", Value: f.Courier})
	}
	if len(f.Statuses) > 0 {
		states := make([]string, len(f.Statuses))
		for i, st := range f.Statuses {
			states[i] = string(st)
		}
		filter = append(filter, bson.E{Key: "status", Value: bson.D{{Key: "$in", Value: states}}})
	}
	if f.Alert {
		filter = append(filter, bson.E{Key: "alert", Value: true})
	}
	if f.After != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.After}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[parcelDoc](ctx, s.parcels, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list parcels: %w", err)
	}
	out := make([]delivery.Parcel, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}
