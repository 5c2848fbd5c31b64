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
	"github.com/banhao/banhao/internal/cases"
)

// casesColl holds one document per case, _id the case ID.
const casesColl = "cases"

func caseIndexes() []collectionIndexes {
	return []collectionIndexes{
		{casesColl, []mongodrv.IndexModel{
			{
				// GetCaseByNumber; a number drawn twice is a duplicate key.
				Keys:    bson.D{{Key: "number", Value: 1}},
				Options: options.Index().SetName("number").SetUnique(true),
			},
			{
				// The cases changed lately (the notifications recovered at start).
				Keys:    bson.D{{Key: "updated_at", Value: 1}},
				Options: options.Index().SetName("updated_at"),
			},
			{
				// A citizen's cases, newest first.
				Keys:    bson.D{{Key: "applicant", Value: 1}, {Key: "created_at", Value: -1}, {Key: "_id", Value: -1}},
				Options: options.Index().SetName("applicant_created"),
			},
			{
				// Worklists and the supervision board, in deadline order.
				Keys: bson.D{
					{Key: "center", Value: 1}, {Key: "state", Value: 1}, {Key: "green", Value: -1},
					{Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1},
				},
				Options: options.Index().SetName("center_state_deadline"),
			},
		}},
	}
}

// CaseStore is cases.Store on MongoDB. A case is one document; an update
// is one replaceOne whose filter holds the revision it replaces, so of two
// updates from one revision exactly one matches, on a sharded cluster too
// (_id is in the filter). No transaction is needed.
//
// The document keeps the whole case in "body" as a BSON document of its
// own, with the case's JSON field names, BSON dates for its times (UTC,
// whole milliseconds) and arrays for its lists, so that it can be read
// and queried in the shell; an unset time there is the zero time, a date
// in year 1, as in the outbox. Beside it, at the top level, are copies of
// the fields that lookups, filters and orders use, written in the same
// replace as the body:
//
//	_id, number, applicant, center, sector, state, green, created_at, rev
//	due_at  the due time as a date, or null before there is one
//	no_due  true when due_at is null: MongoDB sorts null before every
//	        date, and worklists want the cases without a due time last
type CaseStore struct {
	cases *mongodrv.Collection
}

var _ cases.Store = (*CaseStore)(nil)

// NewCaseStore returns the case store on db. Its collection marshals the
// body by the case's json tags, the names the case has everywhere else.
func NewCaseStore(db *DB) *CaseStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &CaseStore{cases: db.db.Collection(casesColl, opts)}
}

// caseDoc is a stored case; see CaseStore.
type caseDoc struct {
	ID        string     `bson:"_id"`
	Number    string     `bson:"number"`
	Applicant string     `bson:"applicant"`
	Center    string     `bson:"center"`
	Sector    string     `bson:"sector"`
	State     string     `bson:"state"`
	Green     bool       `bson:"green"`
	DueAt     *time.Time `bson:"due_at"`
	NoDue     bool       `bson:"no_due"`
	CreatedAt time.Time  `bson:"created_at"`
	UpdatedAt time.Time  `bson:"updated_at"`
	Rev       int        `bson:"rev"`
	Body      cases.Case `bson:"body"`
}

func newCaseDoc(c cases.Case) caseDoc {
	d := caseDoc{
		ID: c.ID, Number: c.Number, Applicant: c.Applicant, Center: c.Center, Sector: c.Sector,
		State: string(c.State), Green: c.Green, NoDue: c.DueAt.IsZero(), CreatedAt: c.CreatedAt,
		UpdatedAt: c.UpdatedAt, Rev: c.Rev, Body: c,
	}
	storedTimes(&d.CreatedAt, &d.UpdatedAt)
	if !c.DueAt.IsZero() {
		due := c.DueAt
		storedTimes(&due)
		d.DueAt = &due
	}
	return d
}

func errNoCase() error { return apperr.New(apperr.NotFound, "没有这个办件") }

func errCaseExists(err error) error { return apperr.Wrap(apperr.Conflict, "办件编号重复", err) }

func errCaseChanged() error {
	return apperr.New(apperr.VersionConflict, "办件已被他人修改，请刷新后重试")
}

// errCaseCursor refuses an After that names no case.
func errCaseCursor() error {
	return apperr.Fields(apperr.FieldError{Field: "after", Message: "翻页位置无效，请从第一页重新查看"})
}

// CreateCase implements cases.Store; a duplicate _id or number is a
// conflict.
func (s *CaseStore) CreateCase(ctx context.Context, c cases.Case) error {
	_, err := s.cases.InsertOne(ctx, newCaseDoc(c))
	switch {
	case isDuplicateKey(err):
		return errCaseExists(err)
	case err != nil:
		return fmt.Errorf("mongo: create case %s: %w", c.ID, err)
	}
	return nil
}

// findCase returns the one case filter selects.
func (s *CaseStore) findCase(ctx context.Context, filter bson.D) (cases.Case, error) {
	var d caseDoc
	err := s.cases.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return cases.Case{}, errNoCase()
	}
	if err != nil {
		return cases.Case{}, err
	}
	return d.Body, nil
}

// GetCase implements cases.Store.
func (s *CaseStore) GetCase(ctx context.Context, id string) (cases.Case, error) {
	c, err := s.findCase(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return c, fmt.Errorf("mongo: get case %s: %w", id, err)
	}
	return c, err
}

// GetCaseByNumber implements cases.Store.
func (s *CaseStore) GetCaseByNumber(ctx context.Context, number string) (cases.Case, error) {
	c, err := s.findCase(ctx, bson.D{{Key: "number", Value: number}})
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return c, fmt.Errorf("mongo: get case number %s: %w", number, err)
	}
	return c, err
}

// UpdateCase implements cases.Store: a replaceOne of {_id, rev: c.Rev-1};
// when it matches nothing, a read of the _id tells an unknown case from a
// lost race.
func (s *CaseStore) UpdateCase(ctx context.Context, c cases.Case) error {
	filter := bson.D{{Key: "_id", Value: c.ID}, {Key: "rev", Value: c.Rev - 1}}
	res, err := s.cases.ReplaceOne(ctx, filter, newCaseDoc(c))
	switch {
	case isDuplicateKey(err):
		return errCaseExists(err)
	case err != nil:
		return fmt.Errorf("mongo: update case %s: %w", c.ID, err)
	case res.MatchedCount > 0:
		return nil
	}
	err = s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: c.ID}}).Err()
	switch {
	case err == nil:
		return errCaseChanged()
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoCase()
	}
	return fmt.Errorf("mongo: update case %s: %w", c.ID, err)
}

// ListCases implements cases.Store with one find, sorted and limited.
//
// NewestFirst sorts by created_at, then _id, both descending; After is
// found by its created_at, so the order does not depend on how IDs are
// made. ByDeadline sorts green-channel cases first, then those with a due
// time (no_due false) by it, then by _id.
func (s *CaseStore) ListCases(ctx context.Context, f cases.Filter) ([]cases.Case, error) {
	filter := bson.D{}
	if f.Applicant != "" {
		filter = append(filter, bson.E{Key: "applicant", Value: f.Applicant})
	}
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
	if !f.DueBefore.IsZero() {
		// Rounded up: a due time kept to the millisecond is before an
		// instant within that millisecond but after its start. A null
		// due_at is never $lt a date.
		before := f.DueBefore.UTC().Truncate(time.Millisecond)
		if before.Before(f.DueBefore) {
			before = before.Add(time.Millisecond)
		}
		filter = append(filter, bson.E{Key: "due_at", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	if f.CertPending {
		filter = append(filter, bson.E{Key: "body.cert_pending", Value: true})
	}
	if !f.UpdatedAfter.IsZero() {
		// Stored to the millisecond: after an instant within a millisecond
		// is from the next one.
		after := f.UpdatedAfter.UTC().Truncate(time.Millisecond)
		filter = append(filter, bson.E{Key: "updated_at", Value: bson.D{{Key: "$gt", Value: after}}})
	}
	opts := options.Find()
	switch f.Order {
	case cases.NewestFirst:
		opts.SetSort(bson.D{{Key: "created_at", Value: -1}, {Key: "_id", Value: -1}})
		if f.After != "" {
			var after caseDoc
			err := s.cases.FindOne(ctx, bson.D{{Key: "_id", Value: f.After}},
				options.FindOne().SetProjection(bson.D{{Key: "created_at", Value: 1}})).Decode(&after)
			if errors.Is(err, mongodrv.ErrNoDocuments) {
				return nil, errCaseCursor()
			}
			if err != nil {
				return nil, fmt.Errorf("mongo: list cases after %s: %w", f.After, err)
			}
			filter = append(filter, bson.E{Key: "$or", Value: bson.A{
				bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: after.CreatedAt}}}},
				bson.D{{Key: "created_at", Value: after.CreatedAt}, {Key: "_id", Value: bson.D{{Key: "$lt", Value: f.After}}}},
			}})
		}
	case cases.ByDeadline:
		if f.After != "" {
			return nil, fmt.Errorf("mongo: list cases: a cursor is for the newest-first order only")
		}
		opts.SetSort(bson.D{
			{Key: "green", Value: -1}, {Key: "no_due", Value: 1}, {Key: "due_at", Value: 1}, {Key: "_id", Value: 1},
		})
	default:
		return nil, fmt.Errorf("mongo: list cases: unknown order %d", f.Order)
	}
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[caseDoc](ctx, s.cases, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list cases: %w", err)
	}
	out := make([]cases.Case, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}
