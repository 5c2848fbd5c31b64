package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/review"
)

// bulkBatch is how many documents one InsertMany sends.
const bulkBatch = 1000

func insertBatches[T any](ctx context.Context, c *mongodrv.Collection, docs []T) error {
	for i := 0; i < len(docs); i += bulkBatch {
		if _, err := c.InsertMany(ctx, docs[i:min(i+bulkBatch, len(docs))]); err != nil {
			return err
		}
	}
	return nil
}

// BulkInsertTickets stores tickets exactly as given and raises each
// center, sector and day's counter to the highest number stored, as the
// SQLite store's BulkInsertTickets does. It is for filling a database
// before a load test or a report benchmark: it applies none of the
// queue's rules and takes no holds, so it must never be used on live data.
func (s *QueueStore) BulkInsertTickets(ctx context.Context, ts []queue.Ticket) error {
	docs := make([]ticketDoc, len(ts))
	highest := map[string]int{}
	for i, t := range ts {
		docs[i] = toTicketDoc(t)
		highest[counterKey(t)] = max(highest[counterKey(t)], t.Seq)
	}
	if err := insertBatches(ctx, s.tickets, docs); err != nil {
		return fmt.Errorf("mongo: bulk insert tickets: %w", err)
	}
	for k, seq := range highest {
		_, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: k}},
			bson.D{{Key: "$max", Value: bson.D{{Key: "seq", Value: seq}}}}, options.UpdateOne().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("mongo: bulk insert tickets: counter %s: %w", k, err)
		}
	}
	return nil
}

// BulkInsertCases stores cases exactly as given, for load tests and
// benchmarks only (no rules applied).
func (s *CaseStore) BulkInsertCases(ctx context.Context, cs []cases.Case) error {
	docs := make([]caseDoc, len(cs))
	for i, c := range cs {
		docs[i] = newCaseDoc(c)
	}
	if err := insertBatches(ctx, s.cases, docs); err != nil {
		return fmt.Errorf("mongo: bulk insert cases: %w", err)
	}
	return nil
}

// BulkInsertEvaluations stores evaluations exactly as given, for load
// tests and benchmarks only (no rules applied).
func (s *ReviewStore) BulkInsertEvaluations(ctx context.Context, es []review.Evaluation) error {
	docs := make([]evaluationDoc, len(es))
	for i, e := range es {
		docs[i] = newEvaluationDoc(e)
	}
	if err := insertBatches(ctx, s.evals, docs); err != nil {
		return fmt.Errorf("mongo: bulk insert evaluations: %w", err)
	}
	return nil
}
