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
	"github.com/banhao/banhao/internal/review"
)

// Collections of 好差评: one document per evaluation and per
// rectification task, _id their ID.
const (
	evaluationsColl    = "evaluations"
	rectificationsColl = "rectifications"
)

func reviewIndexes() []collectionIndexes {
	return []collectionIndexes{
		{evaluationsColl, []mongodrv.IndexModel{
			{
				// One evaluation per service event: a second rating is a duplicate key.
				Keys:    bson.D{{Key: "event_kind", Value: 1}, {Key: "event_id", Value: 1}},
				Options: options.Index().SetName("event").SetUnique(true),
			},
			{
				Keys:    bson.D{{Key: "holder", Value: 1}, {Key: "at", Value: -1}},
				Options: options.Index().SetName("holder_at"),
			},
			{
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "sector", Value: 1}, {Key: "at", Value: -1}},
				Options: options.Index().SetName("center_sector_at"),
			},
		}},
		{rectificationsColl, []mongodrv.IndexModel{
			{
				// One task per bad review.
				Keys:    bson.D{{Key: "evaluation", Value: 1}},
				Options: options.Index().SetName("evaluation").SetUnique(true),
			},
			{
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "sector", Value: 1}, {Key: "due_at", Value: 1}},
				Options: options.Index().SetName("center_sector_due"),
			},
		}},
	}
}

// ReviewStore is review.Store on MongoDB. Each document keeps the whole
// record in "body" (by its JSON field names) beside top-level copies of
// the fields lookups use, written by the same insert or replace; updates
// are replaceOne on {_id, rev}, so of two updates from one revision
// exactly one matches.
type ReviewStore struct {
	evals *mongodrv.Collection
	tasks *mongodrv.Collection
}

var _ review.Store = (*ReviewStore)(nil)

// NewReviewStore returns the review store on db.
func NewReviewStore(db *DB) *ReviewStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &ReviewStore{
		evals: db.db.Collection(evaluationsColl, opts),
		tasks: db.db.Collection(rectificationsColl, opts),
	}
}

type evaluationDoc struct {
	ID        string            `bson:"_id"`
	EventKind string            `bson:"event_kind"`
	EventID   string            `bson:"event_id"`
	Holder    string            `bson:"holder"`
	Center    string            `bson:"center"`
	Sector    string            `bson:"sector"`
	At        time.Time         `bson:"at"`
	Rev       int               `bson:"rev"`
	Body      review.Evaluation `bson:"body"`
}

func newEvaluationDoc(e review.Evaluation) evaluationDoc {
	d := evaluationDoc{ID: e.ID, EventKind: string(e.EventKind), EventID: e.EventID, Holder: e.Holder,
		Center: e.Center, Sector: e.Sector, At: e.At, Rev: e.Rev, Body: e}
	storedTimes(&d.At)
	return d
}

type taskDoc struct {
	ID         string      `bson:"_id"`
	Evaluation string      `bson:"evaluation"`
	Center     string      `bson:"center"`
	Sector     string      `bson:"sector"`
	State      string      `bson:"state"`
	DueAt      time.Time   `bson:"due_at"`
	Rev        int         `bson:"rev"`
	Body       review.Task `bson:"body"`
}

func newTaskDoc(t review.Task) taskDoc {
	d := taskDoc{ID: t.ID, Evaluation: t.Evaluation, Center: t.Center, Sector: t.Sector,
		State: string(t.State), DueAt: t.DueAt, Rev: t.Rev, Body: t}
	storedTimes(&d.DueAt)
	return d
}

func errNoEvaluation() error { return apperr.New(apperr.NotFound, "没有这条评价") }
func errNoTask() error       { return apperr.New(apperr.NotFound, "没有这个整改任务") }
func errReviewChanged() error {
	return apperr.New(apperr.VersionConflict, "记录已被他人修改，请刷新后重试")
}

// CreateEvaluation implements review.Store.
func (s *ReviewStore) CreateEvaluation(ctx context.Context, e review.Evaluation) error {
	_, err := s.evals.InsertOne(ctx, newEvaluationDoc(e))
	switch {
	case isDuplicateKey(err):
		return apperr.Wrap(apperr.Conflict, "这次办事已经评价过了", err)
	case err != nil:
		return fmt.Errorf("mongo: create evaluation %s: %w", e.ID, err)
	}
	return nil
}

func (s *ReviewStore) findEvaluation(ctx context.Context, filter bson.D) (review.Evaluation, error) {
	var d evaluationDoc
	err := s.evals.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return review.Evaluation{}, errNoEvaluation()
	}
	return d.Body, err
}

// GetEvaluation implements review.Store.
func (s *ReviewStore) GetEvaluation(ctx context.Context, id string) (review.Evaluation, error) {
	e, err := s.findEvaluation(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return e, fmt.Errorf("mongo: get evaluation %s: %w", id, err)
	}
	return e, err
}

// EvaluationOf implements review.Store.
func (s *ReviewStore) EvaluationOf(ctx context.Context, kind review.EventKind, eventID string) (review.Evaluation, error) {
	e, err := s.findEvaluation(ctx, bson.D{{Key: "event_kind", Value: string(kind)}, {Key: "event_id", Value: eventID}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return e, fmt.Errorf("mongo: evaluation of %s %s: %w", kind, eventID, err)
	}
	return e, err
}

// replaced tells an unknown record from a lost race after a replaceOne
// that matched nothing.
func replaced(ctx context.Context, c *mongodrv.Collection, res *mongodrv.UpdateResult, id string, notFound func() error) error {
	if res.MatchedCount > 0 {
		return nil
	}
	err := c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Err()
	switch {
	case err == nil:
		return errReviewChanged()
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return notFound()
	}
	return err
}

// UpdateEvaluation implements review.Store.
func (s *ReviewStore) UpdateEvaluation(ctx context.Context, e review.Evaluation) error {
	res, err := s.evals.ReplaceOne(ctx, bson.D{{Key: "_id", Value: e.ID}, {Key: "rev", Value: e.Rev - 1}}, newEvaluationDoc(e))
	if err != nil {
		return fmt.Errorf("mongo: update evaluation %s: %w", e.ID, err)
	}
	if err := replaced(ctx, s.evals, res, e.ID, errNoEvaluation); err != nil {
		if _, ok := apperr.As(err); ok {
			return err
		}
		return fmt.Errorf("mongo: update evaluation %s: %w", e.ID, err)
	}
	return nil
}

// ListEvaluations implements review.Store, newest first.
func (s *ReviewStore) ListEvaluations(ctx context.Context, f review.Filter) ([]review.Evaluation, error) {
	filter := bson.D{}
	if len(f.Holders) > 0 {
		filter = append(filter, bson.E{Key: "holder", Value: bson.D{{Key: "$in", Value: f.Holders}}})
	}
	if f.Center != "" {
		filter = append(filter, bson.E{Key: "center", Value: f.Center})
	}
	if len(f.Sectors) > 0 {
		filter = append(filter, bson.E{Key: "sector", Value: bson.D{{Key: "$in", Value: f.Sectors}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[evaluationDoc](ctx, s.evals, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list evaluations: %w", err)
	}
	out := make([]review.Evaluation, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}

// CreateTask implements review.Store.
func (s *ReviewStore) CreateTask(ctx context.Context, t review.Task) error {
	_, err := s.tasks.InsertOne(ctx, newTaskDoc(t))
	switch {
	case isDuplicateKey(err):
		return apperr.Wrap(apperr.Conflict, "这条评价已有整改任务", err)
	case err != nil:
		return fmt.Errorf("mongo: create rectification %s: %w", t.ID, err)
	}
	return nil
}

// GetTask implements review.Store.
func (s *ReviewStore) GetTask(ctx context.Context, id string) (review.Task, error) {
	var d taskDoc
	err := s.tasks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return review.Task{}, errNoTask()
	case err != nil:
		return review.Task{}, fmt.Errorf("mongo: get rectification %s: %w", id, err)
	}
	return d.Body, nil
}

// UpdateTask implements review.Store.
func (s *ReviewStore) UpdateTask(ctx context.Context, t review.Task) error {
	res, err := s.tasks.ReplaceOne(ctx, bson.D{{Key: "_id", Value: t.ID}, {Key: "rev", Value: t.Rev - 1}}, newTaskDoc(t))
	if err != nil {
		return fmt.Errorf("mongo: update rectification %s: %w", t.ID, err)
	}
	if err := replaced(ctx, s.tasks, res, t.ID, errNoTask); err != nil {
		if _, ok := apperr.As(err); ok {
			return err
		}
		return fmt.Errorf("mongo: update rectification %s: %w", t.ID, err)
	}
	return nil
}

// ListTasks implements review.Store, by due time, then ID.
func (s *ReviewStore) ListTasks(ctx context.Context, f review.TaskFilter) ([]review.Task, error) {
	filter := bson.D{}
	if f.Center != "" {
		filter = append(filter, bson.E{Key: "center", Value: f.Center})
	}
	if len(f.Sectors) > 0 {
		filter = append(filter, bson.E{Key: "sector", Value: bson.D{{Key: "$in", Value: f.Sectors}}})
	}
	if f.Open {
		filter = append(filter, bson.E{Key: "state", Value: bson.D{{Key: "$ne", Value: string(review.TaskClosed)}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "due_at", Value: 1}, {Key: "_id", Value: 1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[taskDoc](ctx, s.tasks, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list rectifications: %w", err)
	}
	out := make([]review.Task, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}
