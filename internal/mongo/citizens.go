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
	"github.com/banhao/banhao/internal/identity"
)

// citizensColl holds one document per citizen, _id the citizen ID.
const citizensColl = "citizens"

func citizenIndexes() []collectionIndexes {
	return []collectionIndexes{{citizensColl, []mongodrv.IndexModel{
		{
			Keys:    bson.D{{Key: "open_id", Value: 1}},
			Options: options.Index().SetName("open_id").SetUnique(true),
		},
		{
			// Unbound citizens hold identity.UnboundIndex(id) here, so the
			// index stays unique and makes "one ID number, one account"
			// a property of the collection, not of a check-then-write.
			Keys:    bson.D{{Key: "id_index", Value: 1}},
			Options: options.Index().SetName("id_index").SetUnique(true),
		},
		{
			Keys:    bson.D{{Key: "phone_index", Value: 1}},
			Options: options.Index().SetName("phone_index"),
		},
	}}}
}

// CitizenStore is identity.CitizenStore on MongoDB. An unbound citizen's
// BoundAt is stored as the zero time, a BSON date in year 1.
type CitizenStore struct {
	citizens *mongodrv.Collection
}

var _ identity.CitizenStore = (*CitizenStore)(nil)

// NewCitizenStore returns the citizen store on db.
func NewCitizenStore(db *DB) *CitizenStore {
	return &CitizenStore{citizens: db.db.Collection(citizensColl)}
}

// citizenDoc mirrors identity.Citizen field for field. Times are stored
// in UTC truncated to milliseconds, as BSON dates hold them.
type citizenDoc struct {
	ID          string    `bson:"_id"`
	OpenID      string    `bson:"open_id"`
	UnionID     string    `bson:"union_id"`
	NameSealed  string    `bson:"name_sealed"`
	IDSealed    string    `bson:"id_sealed"`
	PhoneSealed string    `bson:"phone_sealed"`
	IDIndex     string    `bson:"id_index"`
	PhoneIndex  string    `bson:"phone_index"`
	BoundAt     time.Time `bson:"bound_at"`
	CreatedAt   time.Time `bson:"created_at"`
}

func toCitizenDoc(c identity.Citizen) citizenDoc {
	d := citizenDoc(c)
	storedTimes(&d.BoundAt, &d.CreatedAt)
	return d
}

func (d citizenDoc) citizen() identity.Citizen {
	c := identity.Citizen(d)
	utcTimes(&c.BoundAt, &c.CreatedAt)
	return c
}

func errNoCitizen() error { return apperr.New(apperr.NotFound, "没有这个用户") }

// EnsureCitizen implements identity.CitizenStore. It inserts and, if the
// unique open_id index refuses, reads the citizen that won: the index
// decides between concurrent first logins, with no transaction.
func (s *CitizenStore) EnsureCitizen(ctx context.Context, c identity.Citizen) (identity.Citizen, error) {
	d := toCitizenDoc(c)
	_, err := s.citizens.InsertOne(ctx, d)
	if err == nil {
		return d.citizen(), nil
	}
	if !isDuplicateKey(err) {
		return identity.Citizen{}, fmt.Errorf("mongo: ensure citizen: %w", err)
	}
	got, ferr := s.find(ctx, bson.D{{Key: "open_id", Value: c.OpenID}})
	if apperr.Is(ferr, apperr.NotFound) {
		// The duplicate was the candidate ID (or its index), not the openid.
		return identity.Citizen{}, apperr.Wrap(apperr.Conflict, "用户编号已被使用", err)
	}
	if ferr != nil {
		return identity.Citizen{}, fmt.Errorf("mongo: ensure citizen: %w", ferr)
	}
	return got, nil
}

func (s *CitizenStore) find(ctx context.Context, filter bson.D) (identity.Citizen, error) {
	var d citizenDoc
	err := s.citizens.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return identity.Citizen{}, errNoCitizen()
	}
	if err != nil {
		return identity.Citizen{}, fmt.Errorf("mongo: get citizen: %w", err)
	}
	return d.citizen(), nil
}

// GetCitizen implements identity.CitizenStore.
func (s *CitizenStore) GetCitizen(ctx context.Context, id string) (identity.Citizen, error) {
	return s.find(ctx, bson.D{{Key: "_id", Value: id}})
}

// FindCitizenByIDIndex implements identity.CitizenStore.
func (s *CitizenStore) FindCitizenByIDIndex(ctx context.Context, idIndex string) (identity.Citizen, error) {
	return s.find(ctx, bson.D{{Key: "id_index", Value: idIndex}})
}

// BindRealName implements identity.CitizenStore with one conditional
// update: it matches only while the citizen still holds its unbound
// placeholder, and the unique id_index refuses a number another citizen
// holds. Only when nothing matched does it read, to tell why.
func (s *CitizenStore) BindRealName(ctx context.Context, id, nameSealed, idSealed, idIndex string, at time.Time) error {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "id_index", Value: identity.UnboundIndex(id)}}
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "name_sealed", Value: nameSealed},
		{Key: "id_sealed", Value: idSealed},
		{Key: "id_index", Value: idIndex},
		{Key: "bound_at", Value: at.UTC().Truncate(time.Millisecond)},
	}}}
	res, err := s.citizens.UpdateOne(ctx, filter, update)
	if isDuplicateKey(err) {
		return apperr.Wrap(apperr.Conflict, "该身份证号码已绑定其他账号", err)
	}
	if err != nil {
		return fmt.Errorf("mongo: bind citizen %s: %w", id, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	cur, err := s.GetCitizen(ctx, id)
	switch {
	case err != nil:
		return err
	case cur.IDIndex == idIndex:
		return nil // bound to this very number already
	}
	return identity.ErrAlreadyBound
}

// SetPhone implements identity.CitizenStore.
func (s *CitizenStore) SetPhone(ctx context.Context, id, phoneSealed, phoneIndex string) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "phone_sealed", Value: phoneSealed},
		{Key: "phone_index", Value: phoneIndex},
	}}}
	res, err := s.citizens.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return fmt.Errorf("mongo: set phone of %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return errNoCitizen()
	}
	return nil
}
