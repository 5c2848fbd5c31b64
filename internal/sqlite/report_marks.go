package sqlite

import (
	"context"
	"fmt"

	"github.com/banhao/banhao/internal/report"
)

var _ report.MarkStore = (*ReportStore)(nil)

// SaveMark implements report.MarkStore: the last mark of an item wins.
func (s *ReportStore) SaveMark(ctx context.Context, m report.Mark) error {
	err := s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO spot_check_marks (center, week, kind, item, verdict, note, by_staff, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (center, week, kind, item) DO UPDATE SET
				verdict = excluded.verdict, note = excluded.note, by_staff = excluded.by_staff, at = excluded.at`,
			m.Center, m.Week, m.Kind, m.ID, m.Verdict, m.Note, m.By, ms(m.At))
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: save spot-check mark %s %s %s:%s: %w", m.Center, m.Week, m.Kind, m.ID, err)
	}
	return nil
}

// Marks implements report.MarkStore.
func (s *ReportStore) Marks(ctx context.Context, center, week string) ([]report.Mark, error) {
	out, err := queryAll(ctx, s.db, func(sc scanner) (report.Mark, error) {
		m := report.Mark{Center: center, Week: week}
		var at int64
		err := sc.Scan(&m.Kind, &m.ID, &m.Verdict, &m.Note, &m.By, &at)
		m.At = fromMS(at)
		return m, err
	}, `SELECT kind, item, verdict, note, by_staff, at FROM spot_check_marks WHERE center = ? AND week = ?`, center, week)
	if err != nil {
		return nil, fmt.Errorf("sqlite: spot-check marks of %s %s: %w", center, week, err)
	}
	return out, nil
}
