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
	"github.com/banhao/banhao/internal/consult"
)

// Collections of consultation threads and their FAQs, _id the ID.
const (
	consultColl = "consultations"
	faqColl     = "consult_faqs"
)

func consultIndexes() []collectionIndexes {
	return []collectionIndexes{
		{consultColl, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "holder", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("holder_created")},
			{Keys: bson.D{{Key: "citizen", Value: 1}, {Key: "created_at", Value: -1}}, Options: options.Index().SetName("citizen_created")},
			{Keys: bson.D{{Key: "center", Value: 1}, {Key: "state", Value: 1}, {Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("center_state_deadline")},
			{Keys: bson.D{{Key: "state", Value: 1}, {Key: "updated_at", Value: 1}}, Options: options.Index().SetName("state_updated")},
		}},
		{faqColl, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "matter", Value: 1}, {Key: "at", Value: 1}}, Options: options.Index().SetName("matter_at")},
		}},
	}
}

// ConsultStore is consult.Store on MongoDB: a thread is one document, the
// whole thread in "body" (by its JSON field names) with copies of the
// fields lists use at the top level; an update is one replaceOne whose
// filter holds the revision it replaces.
type ConsultStore struct {
	threads *mongodrv.Collection
	faqs    *mongodrv.Collection
}

var _ consult.Store = (*ConsultStore)(nil)

// NewConsultStore returns the consultation store on db.
func NewConsultStore(db *DB) *ConsultStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &ConsultStore{threads: db.db.Collection(consultColl, opts), faqs: db.db.Collection(faqColl, opts)}
}

type threadDoc struct {
	ID        string         `bson:"_id"`
	Holder    string         `bson:"holder"`
	Citizen   string         `bson:"citizen"`
	Center    string         `bson:"center"`
	Sector    string         `bson:"sector"`
	State     string         `bson:"state"`
	DueAt     *time.Time     `bson:"due_at"`
	NoDue     bool           `bson:"no_due"`
	CreatedAt time.Time      `bson:"created_at"`
	UpdatedAt time.Time      `bson:"updated_at"`
	Rev       int            `bson:"rev"`
	Body      consult.Thread `bson:"body"`
}

func newThreadDoc(t consult.Thread) threadDoc {
	d := threadDoc{ID: t.ID, Holder: t.Holder, Citizen: t.Citizen, Center: t.Center, Sector: t.Sector, State: string(t.State),
		NoDue: t.DueAt.IsZero(), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Rev: t.Rev, Body: t}
	storedTimes(&d.CreatedAt, &d.UpdatedAt)
	if !t.DueAt.IsZero() {
		due := t.DueAt
		storedTimes(&due)
		d.DueAt = &due
	}
	return d
}

func errNoThread() error { return apperr.New(apperr.NotFound, "没有这个咨询") }

// CreateThread implements consult.Store.
func (s *ConsultStore) CreateThread(ctx context.Context, t consult.Thread) error {
	_, err := s.threads.InsertOne(ctx, newThreadDoc(t))
	switch {
	case isDuplicateKey(err):
		return apperr.Wrap(apperr.Conflict, "咨询编号重复", err)
	case err != nil:
		return fmt.Errorf("mongo: create consultation %s: %w", t.ID, err)
	}
	return nil
}

// GetThread implements consult.Store.
func (s *ConsultStore) GetThread(ctx context.Context, id string) (consult.Thread, error) {
	var d threadDoc
	err := s.threads.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return consult.Thread{}, errNoThread()
	}
	if err != nil {
		return consult.Thread{}, fmt.Errorf("mongo: get consultation %s: %w", id, err)
	}
	return d.Body, nil
}

// UpdateThread implements consult.Store.
func (s *ConsultStore) UpdateThread(ctx context.Context, t consult.Thread) error {
	res, err := s.threads.ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.ID}, {Key: "rev", Value: t.Rev - 1}}, newThreadDoc(t))
	switch {
	case err != nil:
		return fmt.Errorf("mongo: update consultation %s: %w", t.ID, err)
	case res.MatchedCount > 0:
		return nil
	}
	err = s.threads.FindOne(ctx, bson.D{{Key: "_id", Value: t.ID}}).Err()
	switch {
	case err == nil:
		return apperr.New(apperr.VersionConflict, "咨询已被他人修改，请刷新后重试")
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoThread()
	}
	return fmt.Errorf("mongo: update consultation %s: %w", t.ID, err)
}

// ownerFilter selects a citizen's records: by holder, citizen or either.
func ownerFilter(filter bson.D, holder, citizen string) bson.D {
	switch {
	case holder != "" && citizen != "":
		return append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "holder", Value: holder}}, bson.D{{Key: "citizen", Value: citizen}},
		}})
	case holder != "":
		return append(filter, bson.E{Key: "holder", Value: holder})
	case citizen != "":
		return append(filter, bson.E{Key: "citizen", Value: citizen})
	}
	return filter
}

// ListThreads implements consult.Store.
func (s *ConsultStore) ListThreads(ctx context.Context, f consult.Filter) ([]consult.Thread, error) {
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
	if !f.UpdatedBefore.IsZero() {
		filter = append(filter, bson.E{Key: "updated_at", Value: bson.D{{Key: "$lt", Value: f.UpdatedBefore.UTC().Truncate(time.Millisecond)}}})
	}
	opts := options.Find()
	switch f.Order {
	case consult.NewestFirst:
		opts.SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
	case consult.ByDeadline:
		opts.SetSort(bson.D{{Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1}})
	default:
		return nil, fmt.Errorf("mongo: list consultations: unknown order %d", f.Order)
	}
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[threadDoc](ctx, s.threads, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list consultations: %w", err)
	}
	out := make([]consult.Thread, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}

type faqDoc struct {
	ID     string      `bson:"_id"`
	Matter string      `bson:"matter"`
	At     time.Time   `bson:"at"`
	Body   consult.FAQ `bson:"body"`
}

// CreateFAQ implements consult.Store.
func (s *ConsultStore) CreateFAQ(ctx context.Context, q consult.FAQ) error {
	d := faqDoc{ID: q.ID, Matter: q.Matter, At: q.At, Body: q}
	storedTimes(&d.At, &d.Body.At)
	_, err := s.faqs.InsertOne(ctx, d)
	switch {
	case isDuplicateKey(err):
		return apperr.Wrap(apperr.Conflict, "常见问题编号重复", err)
	case err != nil:
		return fmt.Errorf("mongo: create faq %s: %w", q.ID, err)
	}
	return nil
}

// ListFAQs implements consult.Store.
func (s *ConsultStore) ListFAQs(ctx context.Context, matter string) ([]consult.FAQ, error) {
	filter := bson.D{}
	if matter != "" {
		filter = append(filter, bson.E{Key: "matter", Value: matter})
	}
	docs, err := findAll[faqDoc](ctx, s.faqs, filter, options.Find().SetSort(bson.D{{Key: "at", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("mongo: list faqs: %w", err)
	}
	out := make([]consult.FAQ, len(docs))
	for i, d := range docs {
		out[i] = d.Body
		utcTimes(&out[i].At)
	}
	return out, nil
}
