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
	"github.com/banhao/banhao/internal/complaint"
)

// complaintsColl holds one document per complaint, _id the ID.
const complaintsColl = "complaints"

func complaintIndexes() []collectionIndexes {
	return []collectionIndexes{
		{complaintsColl, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "holder", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("holder_created")},
			{Keys: bson.D{{Key: "citizen", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("citizen_created")},
			{Keys: bson.D{{Key: "center", Value: 1}, {Key: "state", Value: 1}, {Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("center_state_deadline")},
		}},
	}
}

// ComplaintStore is complaint.Store on MongoDB, shaped like ConsultStore.
type ComplaintStore struct {
	complaints *mongodrv.Collection
}

var _ complaint.Store = (*ComplaintStore)(nil)

// NewComplaintStore returns the complaint store on db.
func NewComplaintStore(db *DB) *ComplaintStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &ComplaintStore{complaints: db.db.Collection(complaintsColl, opts)}
}

type complaintDoc struct {
	ID        string              `bson:"_id"`
	Holder    string              `bson:"holder"`
	Citizen   string              `bson:"citizen"`
	Center    string              `bson:"center"`
	Sector    string              `bson:"sector"`
	State     string              `bson:"state"`
	DueAt     *time.Time          `bson:"due_at"`
	NoDue     bool                `bson:"no_due"`
	CreatedAt time.Time           `bson:"created_at"`
	Rev       int                 `bson:"rev"`
	Body      complaint.Complaint `bson:"body"`
}

func newComplaintDoc(c complaint.Complaint) complaintDoc {
	d := complaintDoc{ID: c.ID, Holder: c.Holder, Citizen: c.Citizen, Center: c.Center, Sector: c.Sector, State: string(c.State),
		NoDue: c.DueAt.IsZero(), CreatedAt: c.CreatedAt, Rev: c.Rev, Body: c}
	storedTimes(&d.CreatedAt)
	if !c.DueAt.IsZero() {
		due := c.DueAt
		storedTimes(&due)
		d.DueAt = &due
	}
	return d
}

func errNoComplaint() error { return apperr.New(apperr.NotFound, "没有这个投诉") }

// CreateComplaint implements complaint.Store.
func (s *ComplaintStore) CreateComplaint(ctx context.Context, c complaint.Complaint) error {
	_, err := s.complaints.InsertOne(ctx, newComplaintDoc(c))
	switch {
	case isDuplicateKey(err):
		return apperr.Wrap(apperr.Conflict, "投诉编号重复", err)
	case err != nil:
		return fmt.Errorf("mongo: create complaint %s: %w", c.ID, err)
	}
	return nil
}

// GetComplaint implements complaint.Store.
func (s *ComplaintStore) GetComplaint(ctx context.Context, id string) (complaint.Complaint, error) {
	var d complaintDoc
	err := s.complaints.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return complaint.Complaint{}, errNoComplaint()
	}
	if err != nil {
		return complaint.Complaint{}, fmt.Errorf("mongo: get complaint %s: %w", id, err)
	}
	return d.Body, nil
}

// UpdateComplaint implements complaint.Store.
func (s *ComplaintStore) UpdateComplaint(ctx context.Context, c complaint.Complaint) error {
	res, err := s.complaints.ReplaceOne(ctx, bson.D{{Key: "_id", Value: c.ID}, {Key: "rev", Value: c.Rev - 1}}, newComplaintDoc(c))
	switch {
	case err != nil:
		return fmt.Errorf("mongo: update complaint %s: %w", c.ID, err)
	case res.MatchedCount > 0:
		return nil
	}
	err = s.complaints.FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Err()
	switch {
	case err == nil:
		return apperr.New(apperr.VersionConflict, "投诉已被他人修改，请刷新后重试")
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoComplaint()
	}
	return fmt.Errorf("mongo: update complaint %s: %w", c.ID, err)
}

// ListComplaints implements complaint.Store.
func (s *ComplaintStore) ListComplaints(ctx context.Context, f complaint.Filter) ([]complaint.Complaint, error) {
	filter := ownerFilter(bson.D{}, f.Holder, f.Citizen)
	if f.Center != "" {
		filter = append(filter, bson.E{Key: "center", Value: f.Center})
	}
	if len(f.Sectors) > 0 {
		filter = append(filter, bson.E{Key: "sector", Value: bson.D{{Key: "$in", Value: f.Sectors}}})
	}
	if len(f.States) > 0 {
		states := make([]string, len(f.States))
		for i, st := range f.States {
			states[i] = string(st)
		}
		filter = append(filter, bson.E{Key: "state", Value: bson.D{{Key: "$in", Value: states}}})
	}
	opts := options.Find()
	if f.ByDeadline {
		opts.SetSort(bson.D{{Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1}})
	} else {
		opts.SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	}
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[complaintDoc](ctx, s.complaints, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list complaints: %w", err)
	}
	out := make([]complaint.Complaint, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}
