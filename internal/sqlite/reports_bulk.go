package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/review"
)

// BulkInsertCases stores cases exactly as given in one transaction. Like
// BulkInsertTickets it is for filling a database before a load test or a
// report benchmark and applies none of the cases' rules.
func (s *CaseStore) BulkInsertCases(ctx context.Context, cs []cases.Case) error {
	if len(cs) == 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		ins, err := tx.tx.Prepare(`INSERT INTO cases (id, number, applicant, center, sector, state, green, due_at, created_at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: bulk insert cases: %w", err)
		}
		defer ins.Close()
		for _, c := range cs {
			doc, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("sqlite: bulk insert case %s: %w", c.ID, err)
			}
			if _, err := ins.Exec(c.ID, c.Number, c.Applicant, c.Center, c.Sector, string(c.State), boolInt(c.Green),
				ms(c.DueAt), ms(c.CreatedAt), c.Rev, string(doc)); err != nil {
				return fmt.Errorf("sqlite: bulk insert case %s: %w", c.ID, err)
			}
		}
		return nil
	})
}

// BulkInsertEvaluations stores evaluations exactly as given in one
// transaction, for load tests and benchmarks only (no rules applied).
func (s *ReviewStore) BulkInsertEvaluations(ctx context.Context, es []review.Evaluation) error {
	if len(es) == 0 {
		return nil
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		ins, err := tx.tx.Prepare(`INSERT INTO evaluations (id, event_kind, event_id, holder, center, sector, at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: bulk insert evaluations: %w", err)
		}
		defer ins.Close()
		for _, e := range es {
			doc, err := json.Marshal(e)
			if err != nil {
				return fmt.Errorf("sqlite: bulk insert evaluation %s: %w", e.ID, err)
			}
			if _, err := ins.Exec(e.ID, string(e.EventKind), e.EventID, e.Holder, e.Center, e.Sector, ms(e.At), e.Rev, string(doc)); err != nil {
				return fmt.Errorf("sqlite: bulk insert evaluation %s: %w", e.ID, err)
			}
		}
		return nil
	})
}
