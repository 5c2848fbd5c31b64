package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
)

// ReportStore implements report.Source with plain finds on range
// filters, the portable subset that FerretDB and MongoDB share; the
// reports aggregate in Go, as on SQLite.
type ReportStore struct {
	tickets *mongodrv.Collection
	cases   *mongodrv.Collection
	evals   *mongodrv.Collection
	tasks   *mongodrv.Collection
	marks   *mongodrv.Collection
}

var _ report.Source = (*ReportStore)(nil)

// NewReportStore returns the report source on db.
func NewReportStore(db *DB) *ReportStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &ReportStore{
		tickets: db.db.Collection(ticketsColl),
		cases:   db.db.Collection(casesColl, opts),
		evals:   db.db.Collection(evaluationsColl, opts),
		tasks:   db.db.Collection(rectificationsColl, opts),
		marks:   db.db.Collection(spotMarksColl),
	}
}

func rangeOf(from, to any) bson.D {
	return bson.D{{Key: "$gte", Value: from}, {Key: "$lt", Value: to}}
}

func stored(t time.Time) time.Time {
	storedTimes(&t)
	return t
}

// Tickets implements report.Source.
func (s *ReportStore) Tickets(ctx context.Context, center, fromDay, toDay string) ([]queue.Ticket, error) {
	docs, err := findAll[ticketDoc](ctx, s.tickets, bson.D{{Key: "center", Value: center}, {Key: "day", Value: rangeOf(fromDay, toDay)}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("mongo: report tickets of %s: %w", center, err)
	}
	out := make([]queue.Ticket, len(docs))
	for i, d := range docs {
		out[i] = d.ticket()
	}
	return out, nil
}

// Cases implements report.Source.
func (s *ReportStore) Cases(ctx context.Context, center string, from, to time.Time) ([]cases.Case, error) {
	docs, err := findAll[caseDoc](ctx, s.cases, bson.D{{Key: "center", Value: center}, {Key: "created_at", Value: rangeOf(stored(from), stored(to))}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("mongo: report cases of %s: %w", center, err)
	}
	out := make([]cases.Case, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}

// Evaluations implements report.Source.
func (s *ReportStore) Evaluations(ctx context.Context, center string, from, to time.Time) ([]review.Evaluation, error) {
	docs, err := findAll[evaluationDoc](ctx, s.evals, bson.D{{Key: "center", Value: center}, {Key: "at", Value: rangeOf(stored(from), stored(to))}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("mongo: report evaluations of %s: %w", center, err)
	}
	out := make([]review.Evaluation, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}

// Tasks implements report.Source.
func (s *ReportStore) Tasks(ctx context.Context, center string) ([]review.Task, error) {
	docs, err := findAll[taskDoc](ctx, s.tasks, bson.D{{Key: "center", Value: center}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("mongo: report rectifications of %s: %w", center, err)
	}
	out := make([]review.Task, len(docs))
	for i, d := range docs {
		out[i] = d.Body
	}
	return out, nil
}
