package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
)

// ReportStore implements report.Source with plain range reads; the
// reports aggregate in Go, as on MongoDB.
type ReportStore struct {
	db *DB
}

var _ report.Source = (*ReportStore)(nil)

// NewReportStore returns the report source on db.
func NewReportStore(db *DB) *ReportStore { return &ReportStore{db: db} }

// Tickets implements report.Source.
func (s *ReportStore) Tickets(ctx context.Context, center, fromDay, toDay string) ([]queue.Ticket, error) {
	out, err := queryAll(ctx, s.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE center = ? AND day >= ? AND day < ?`,
		center, fromDay, toDay)
	if err != nil {
		return nil, fmt.Errorf("sqlite: report tickets of %s: %w", center, err)
	}
	return out, nil
}

// Cases implements report.Source.
func (s *ReportStore) Cases(ctx context.Context, center string, from, to time.Time) ([]cases.Case, error) {
	out, err := queryAll(ctx, s.db, scanCase, `SELECT doc FROM cases WHERE center = ? AND created_at >= ? AND created_at < ?`,
		center, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: report cases of %s: %w", center, err)
	}
	return out, nil
}

// Evaluations implements report.Source.
func (s *ReportStore) Evaluations(ctx context.Context, center string, from, to time.Time) ([]review.Evaluation, error) {
	out, err := queryAll(ctx, s.db, scanDoc[review.Evaluation], `SELECT doc FROM evaluations WHERE center = ? AND at >= ? AND at < ?`,
		center, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("sqlite: report evaluations of %s: %w", center, err)
	}
	return out, nil
}

// Tasks implements report.Source.
func (s *ReportStore) Tasks(ctx context.Context, center string) ([]review.Task, error) {
	out, err := queryAll(ctx, s.db, scanDoc[review.Task], `SELECT doc FROM rectifications WHERE center = ?`, center)
	if err != nil {
		return nil, fmt.Errorf("sqlite: report rectifications of %s: %w", center, err)
	}
	return out, nil
}
