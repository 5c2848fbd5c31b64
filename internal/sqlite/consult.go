package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/consult"
)

// ConsultStore implements consult.Store: a thread is one row of
// consultations, the whole thread as JSON in doc beside copies of the
// fields lists filter and sort on, written by the same statement; an
// update is one UPDATE conditional on rev. FAQs are rows of consult_faqs.
type ConsultStore struct {
	db *DB
}

var _ consult.Store = (*ConsultStore)(nil)

// NewConsultStore returns the consultation store on db.
func NewConsultStore(db *DB) *ConsultStore { return &ConsultStore{db: db} }

func errNoThread() error { return apperr.New(apperr.NotFound, "没有这个咨询") }

func errThreadChanged() error {
	return apperr.New(apperr.VersionConflict, "咨询已被他人修改，请刷新后重试")
}

func scanThread(sc scanner) (consult.Thread, error) {
	var t consult.Thread
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return t, fmt.Errorf("consultation document: %w", err)
	}
	utcMillis(reflect.ValueOf(&t).Elem())
	return t, nil
}

// CreateThread implements consult.Store.
func (s *ConsultStore) CreateThread(ctx context.Context, t consult.Thread) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("sqlite: create consultation %s: %w", t.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO consultations (id, holder, citizen, center, sector, state, due_at, created_at, updated_at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Holder, t.Citizen, t.Center, t.Sector, string(t.State), ms(t.DueAt), ms(t.CreatedAt), ms(t.UpdatedAt), t.Rev, string(doc))
		switch {
		case isUnique(err):
			return apperr.Wrap(apperr.Conflict, "咨询编号重复", err)
		case err != nil:
			return fmt.Errorf("sqlite: create consultation %s: %w", t.ID, err)
		}
		return nil
	})
}

// GetThread implements consult.Store.
func (s *ConsultStore) GetThread(ctx context.Context, id string) (consult.Thread, error) {
	t, err := queryOne(ctx, s.db, scanThread, errNoThread(), `SELECT doc FROM consultations WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return consult.Thread{}, fmt.Errorf("sqlite: get consultation %s: %w", id, err)
	}
	return t, err
}

// UpdateThread implements consult.Store.
func (s *ConsultStore) UpdateThread(ctx context.Context, t consult.Thread) error {
	doc, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("sqlite: update consultation %s: %w", t.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE consultations SET holder = ?, citizen = ?, center = ?, sector = ?, state = ?, due_at = ?,
			created_at = ?, updated_at = ?, rev = ?, doc = ? WHERE id = ? AND rev = ?`,
			t.Holder, t.Citizen, t.Center, t.Sector, string(t.State), ms(t.DueAt), ms(t.CreatedAt), ms(t.UpdatedAt),
			t.Rev, string(doc), t.ID, t.Rev-1)
		if err != nil {
			return fmt.Errorf("sqlite: update consultation %s: %w", t.ID, err)
		}
		return revised(tx, res, "consultations", "id", t.ID, errNoThread, errThreadChanged)
	})
}

// ListThreads implements consult.Store.
func (s *ConsultStore) ListThreads(ctx context.Context, f consult.Filter) ([]consult.Thread, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	switch {
	case f.Holder != "" && f.Citizen != "":
		add(`(holder = ? OR citizen = ?)`, f.Holder, f.Citizen)
	case f.Holder != "":
		add(`holder = ?`, f.Holder)
	case f.Citizen != "":
		add(`citizen = ?`, f.Citizen)
	}
	if f.Center != "" {
		add(`center = ?`, f.Center)
	}
	if len(f.Sectors) > 0 {
		list, _ := json.Marshal(f.Sectors)
		add(`sector IN (SELECT value FROM json_each(?))`, string(list))
	}
	if len(f.States) > 0 {
		list, _ := json.Marshal(f.States)
		add(`state IN (SELECT value FROM json_each(?))`, string(list))
	}
	if !f.UpdatedBefore.IsZero() {
		add(`updated_at < ?`, ms(f.UpdatedBefore))
	}
	query := `SELECT doc FROM consultations`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	switch f.Order {
	case consult.NewestFirst:
		query += ` ORDER BY created_at DESC, id DESC`
	case consult.ByDeadline:
		query += ` ORDER BY due_at = 0, due_at, id`
	default:
		return nil, fmt.Errorf("sqlite: list consultations: unknown order %d", f.Order)
	}
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanThread, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list consultations: %w", err)
	}
	return out, nil
}

// CreateFAQ implements consult.Store.
func (s *ConsultStore) CreateFAQ(ctx context.Context, q consult.FAQ) error {
	doc, err := json.Marshal(q)
	if err != nil {
		return fmt.Errorf("sqlite: create faq %s: %w", q.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO consult_faqs (id, matter, at, doc) VALUES (?, ?, ?, ?)`, q.ID, q.Matter, ms(q.At), string(doc))
		switch {
		case isUnique(err):
			return apperr.Wrap(apperr.Conflict, "常见问题编号重复", err)
		case err != nil:
			return fmt.Errorf("sqlite: create faq %s: %w", q.ID, err)
		}
		return nil
	})
}

// ListFAQs implements consult.Store.
func (s *ConsultStore) ListFAQs(ctx context.Context, matter string) ([]consult.FAQ, error) {
	scan := func(sc scanner) (consult.FAQ, error) {
		var q consult.FAQ
		var doc string
		if err := sc.Scan(&doc); err != nil {
			return q, err
		}
		if err := json.Unmarshal([]byte(doc), &q); err != nil {
			return q, fmt.Errorf("faq document: %w", err)
		}
		q.At = q.At.UTC().Truncate(time.Millisecond)
		return q, nil
	}
	var out []consult.FAQ
	var err error
	if matter == "" {
		out, err = queryAll(ctx, s.db, scan, `SELECT doc FROM consult_faqs ORDER BY at, id`)
	} else {
		out, err = queryAll(ctx, s.db, scan, `SELECT doc FROM consult_faqs WHERE matter = ? ORDER BY at, id`, matter)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: list faqs: %w", err)
	}
	return out, nil
}
