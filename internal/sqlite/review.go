package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/review"
)

// ReviewStore implements review.Store. An evaluation is one row of
// evaluations, the whole evaluation as JSON in doc beside copies of the
// fields lookups need; (event_kind, event_id) is unique, so of two
// concurrent ratings of one event exactly one is stored. A task is one
// row of rectifications, evaluation unique. Updates are conditional on rev.
type ReviewStore struct {
	db *DB
}

var _ review.Store = (*ReviewStore)(nil)

// NewReviewStore returns the review store on db.
func NewReviewStore(db *DB) *ReviewStore { return &ReviewStore{db: db} }

func errNoEvaluation() error { return apperr.New(apperr.NotFound, "没有这条评价") }
func errNoTask() error       { return apperr.New(apperr.NotFound, "没有这个整改任务") }
func errReviewChanged() error {
	return apperr.New(apperr.VersionConflict, "记录已被他人修改，请刷新后重试")
}

func scanDoc[T any](sc scanner) (T, error) {
	var v T
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return v, fmt.Errorf("review document: %w", err)
	}
	utcMillis(reflect.ValueOf(&v).Elem())
	return v, nil
}

// CreateEvaluation implements review.Store.
func (s *ReviewStore) CreateEvaluation(ctx context.Context, e review.Evaluation) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("sqlite: create evaluation %s: %w", e.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO evaluations (id, event_kind, event_id, holder, center, sector, at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, string(e.EventKind), e.EventID, e.Holder, e.Center, e.Sector, ms(e.At), e.Rev, string(doc))
		switch {
		case isUnique(err):
			return apperr.Wrap(apperr.Conflict, "这次办事已经评价过了", err)
		case err != nil:
			return fmt.Errorf("sqlite: create evaluation %s: %w", e.ID, err)
		}
		return nil
	})
}

// GetEvaluation implements review.Store.
func (s *ReviewStore) GetEvaluation(ctx context.Context, id string) (review.Evaluation, error) {
	e, err := queryOne(ctx, s.db, scanDoc[review.Evaluation], errNoEvaluation(), `SELECT doc FROM evaluations WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return e, fmt.Errorf("sqlite: get evaluation %s: %w", id, err)
	}
	return e, err
}

// EvaluationOf implements review.Store.
func (s *ReviewStore) EvaluationOf(ctx context.Context, kind review.EventKind, eventID string) (review.Evaluation, error) {
	e, err := queryOne(ctx, s.db, scanDoc[review.Evaluation], errNoEvaluation(),
		`SELECT doc FROM evaluations WHERE event_kind = ? AND event_id = ?`, string(kind), eventID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return e, fmt.Errorf("sqlite: evaluation of %s %s: %w", kind, eventID, err)
	}
	return e, err
}

// UpdateEvaluation implements review.Store. The event of an evaluation
// never changes, so only its copies that can change are rewritten.
func (s *ReviewStore) UpdateEvaluation(ctx context.Context, e review.Evaluation) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("sqlite: update evaluation %s: %w", e.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE evaluations SET holder = ?, center = ?, sector = ?, at = ?, rev = ?, doc = ?
			WHERE id = ? AND rev = ?`,
			e.Holder, e.Center, e.Sector, ms(e.At), e.Rev, string(doc), e.ID, e.Rev-1)
		if err != nil {
			return fmt.Errorf("sqlite: update evaluation %s: %w", e.ID, err)
		}
		return revised(tx, res, "evaluations", "id", e.ID, errNoEvaluation, errReviewChanged)
	})
}

// ListEvaluations implements review.Store, newest first.
func (s *ReviewStore) ListEvaluations(ctx context.Context, f review.Filter) ([]review.Evaluation, error) {
	var where []string
	var args []any
	if len(f.Holders) > 0 {
		list, _ := json.Marshal(f.Holders)
		where = append(where, `holder IN (SELECT value FROM json_each(?))`)
		args = append(args, string(list))
	}
	if f.Center != "" {
		where = append(where, `center = ?`)
		args = append(args, f.Center)
	}
	if len(f.Sectors) > 0 {
		list, _ := json.Marshal(f.Sectors)
		where = append(where, `sector IN (SELECT value FROM json_each(?))`)
		args = append(args, string(list))
	}
	query := `SELECT doc FROM evaluations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY at DESC, id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanDoc[review.Evaluation], query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list evaluations: %w", err)
	}
	if out == nil {
		out = []review.Evaluation{}
	}
	return out, nil
}

// CreateTask implements review.Store.
func (s *ReviewStore) CreateTask(ctx context.Context, t review.Task) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("sqlite: create rectification %s: %w", t.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO rectifications (id, evaluation, center, sector, state, due_at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Evaluation, t.Center, t.Sector, string(t.State), ms(t.DueAt), t.Rev, string(doc))
		switch {
		case isUnique(err):
			return apperr.Wrap(apperr.Conflict, "这条评价已有整改任务", err)
		case err != nil:
			return fmt.Errorf("sqlite: create rectification %s: %w", t.ID, err)
		}
		return nil
	})
}

// GetTask implements review.Store.
func (s *ReviewStore) GetTask(ctx context.Context, id string) (review.Task, error) {
	t, err := queryOne(ctx, s.db, scanDoc[review.Task], errNoTask(), `SELECT doc FROM rectifications WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return t, fmt.Errorf("sqlite: get rectification %s: %w", id, err)
	}
	return t, err
}

// UpdateTask implements review.Store.
func (s *ReviewStore) UpdateTask(ctx context.Context, t review.Task) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("sqlite: update rectification %s: %w", t.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE rectifications SET center = ?, sector = ?, state = ?, due_at = ?, rev = ?, doc = ?
			WHERE id = ? AND rev = ?`,
			t.Center, t.Sector, string(t.State), ms(t.DueAt), t.Rev, string(doc), t.ID, t.Rev-1)
		if err != nil {
			return fmt.Errorf("sqlite: update rectification %s: %w", t.ID, err)
		}
		return revised(tx, res, "rectifications", "id", t.ID, errNoTask, errReviewChanged)
	})
}

// ListTasks implements review.Store, by due time, then ID.
func (s *ReviewStore) ListTasks(ctx context.Context, f review.TaskFilter) ([]review.Task, error) {
	var where []string
	var args []any
	if f.Center != "" {
		where = append(where, `center = ?`)
		args = append(args, f.Center)
	}
	if len(f.Sectors) > 0 {
		list, _ := json.Marshal(f.Sectors)
		where = append(where, `sector IN (SELECT value FROM json_each(?))`)
		args = append(args, string(list))
	}
	if f.Open {
		where = append(where, `state <> ?`)
		args = append(args, string(review.TaskClosed))
	}
	query := `SELECT doc FROM rectifications`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY due_at, id`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanDoc[review.Task], query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list rectifications: %w", err)
	}
	if out == nil {
		out = []review.Task{}
	}
	return out, nil
}
