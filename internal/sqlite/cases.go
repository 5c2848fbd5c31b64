package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
)

// CaseStore implements cases.Store. A case is one row: the whole case as
// JSON in doc, and beside it copies of the fields that lookups and list
// orders need (number, applicant, center, sector, state, green, due_at,
// created_at, rev), written by the same statement as doc so that they
// never disagree with it. An update is one UPDATE conditional on rev.
//
// Times come back in UTC to the millisecond, as from MongoDB, whatever
// zone and precision they were written with.
type CaseStore struct {
	db *DB
}

var _ cases.Store = (*CaseStore)(nil)

// NewCaseStore returns the case store on db.
func NewCaseStore(db *DB) *CaseStore { return &CaseStore{db: db} }

func errNoCase() error { return apperr.New(apperr.NotFound, "没有这个办件") }

func errCaseExists(err error) error { return apperr.Wrap(apperr.Conflict, "办件编号重复", err) }

func errCaseChanged() error {
	return apperr.New(apperr.VersionConflict, "办件已被他人修改，请刷新后重试")
}

// errCaseCursor refuses an After that names no case.
func errCaseCursor() error {
	return apperr.Fields(apperr.FieldError{Field: "after", Message: "翻页位置无效，请从第一页重新查看"})
}

func scanCase(sc scanner) (cases.Case, error) {
	var c cases.Case
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return c, fmt.Errorf("case document: %w", err)
	}
	utcMillis(reflect.ValueOf(&c).Elem())
	return c, nil
}

var timeType = reflect.TypeFor[time.Time]()

// utcMillis brings every time in v, however deep in structs, pointers and
// slices, to UTC whole milliseconds: what a BSON date keeps, so that both
// stores return a case alike. v is a freshly decoded value, never the
// caller's, whose slices and pointers a store must not change. (Cases
// hold no maps.)
func utcMillis(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			utcMillis(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			utcMillis(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			v.Set(reflect.ValueOf(t.UTC().Truncate(time.Millisecond)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				utcMillis(v.Field(i))
			}
		}
	}
}

// CreateCase implements cases.Store.
func (s *CaseStore) CreateCase(ctx context.Context, c cases.Case) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: create case %s: %w", c.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO cases (id, number, applicant, center, sector, state, green, due_at, created_at, updated_at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Number, c.Applicant, c.Center, c.Sector, string(c.State), boolInt(c.Green),
			ms(c.DueAt), ms(c.CreatedAt), ms(c.UpdatedAt), c.Rev, string(doc))
		switch {
		case isUnique(err):
			return errCaseExists(err)
		case err != nil:
			return fmt.Errorf("sqlite: create case %s: %w", c.ID, err)
		}
		return nil
	})
}

// GetCase implements cases.Store.
func (s *CaseStore) GetCase(ctx context.Context, id string) (cases.Case, error) {
	c, err := queryOne(ctx, s.db, scanCase, errNoCase(), `SELECT doc FROM cases WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return cases.Case{}, fmt.Errorf("sqlite: get case %s: %w", id, err)
	}
	return c, err
}

// GetCaseByNumber implements cases.Store.
func (s *CaseStore) GetCaseByNumber(ctx context.Context, number string) (cases.Case, error) {
	c, err := queryOne(ctx, s.db, scanCase, errNoCase(), `SELECT doc FROM cases WHERE number = ?`, number)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return cases.Case{}, fmt.Errorf("sqlite: get case number %s: %w", number, err)
	}
	return c, err
}

// UpdateCase implements cases.Store: one UPDATE on id and the revision
// c replaces; when it changes nothing, a look at the id tells an unknown
// case from a lost race.
func (s *CaseStore) UpdateCase(ctx context.Context, c cases.Case) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: update case %s: %w", c.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE cases SET number = ?, applicant = ?, center = ?, sector = ?, state = ?, green = ?,
			due_at = ?, created_at = ?, updated_at = ?, rev = ?, doc = ? WHERE id = ? AND rev = ?`,
			c.Number, c.Applicant, c.Center, c.Sector, string(c.State), boolInt(c.Green),
			ms(c.DueAt), ms(c.CreatedAt), ms(c.UpdatedAt), c.Rev, string(doc), c.ID, c.Rev-1)
		switch {
		case isUnique(err):
			return errCaseExists(err)
		case err != nil:
			return fmt.Errorf("sqlite: update case %s: %w", c.ID, err)
		}
		return revised(tx, res, "cases", "id", c.ID, errNoCase, errCaseChanged)
	})
}

// ListCases implements cases.Store. The query text depends only on which
// filters are set, never on their values (a list is one JSON array bound
// to one placeholder), so that the prepared statements stay few.
//
// NewestFirst orders by created_at, then id, both descending; After is
// found by its created_at, so the order does not depend on how IDs are
// made. ByDeadline puts green-channel cases first, then by due_at with
// the cases that have none (0) last, then by id.
func (s *CaseStore) ListCases(ctx context.Context, f cases.Filter) ([]cases.Case, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.Applicant != "" {
		add(`applicant = ?`, f.Applicant)
	}
	if f.Center != "" {
		add(`center = ?`, f.Center)
	}
	if len(f.Sectors) > 0 {
		list, err := json.Marshal(f.Sectors)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list cases: %w", err)
		}
		add(`sector IN (SELECT value FROM json_each(?))`, string(list))
	}
	if len(f.States) > 0 {
		list, err := json.Marshal(f.States)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list cases: %w", err)
		}
		add(`state IN (SELECT value FROM json_each(?))`, string(list))
	}
	if !f.DueBefore.IsZero() {
		// Rounded up: a due time kept to the millisecond is before an
		// instant within that millisecond but after its start.
		before := f.DueBefore.Truncate(time.Millisecond)
		if before.Before(f.DueBefore) {
			before = before.Add(time.Millisecond)
		}
		add(`due_at <> 0 AND due_at < ?`, ms(before))
	}
	if f.CertPending {
		add(`json_extract(doc, '$.cert_pending') = 1`)
	}
	if !f.UpdatedAfter.IsZero() {
		add(`updated_at > ?`, ms(f.UpdatedAfter.Truncate(time.Millisecond)))
	}
	var order string
	switch f.Order {
	case cases.NewestFirst:
		order = ` ORDER BY created_at DESC, id DESC`
		if f.After != "" {
			created, err := queryOne(ctx, s.db, func(sc scanner) (int64, error) {
				var v int64
				return v, sc.Scan(&v)
			}, errCaseCursor(), `SELECT created_at FROM cases WHERE id = ?`, f.After)
			if err != nil {
				if apperr.Is(err, apperr.Invalid) {
					return nil, err
				}
				return nil, fmt.Errorf("sqlite: list cases after %s: %w", f.After, err)
			}
			add(`(created_at < ? OR (created_at = ? AND id < ?))`, created, created, f.After)
		}
	case cases.ByDeadline:
		if f.After != "" {
			return nil, fmt.Errorf("sqlite: list cases: a cursor is for the newest-first order only")
		}
		order = ` ORDER BY green DESC, due_at = 0, due_at, id`
	default:
		return nil, fmt.Errorf("sqlite: list cases: unknown order %d", f.Order)
	}
	query := `SELECT doc FROM cases`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += order
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanCase, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list cases: %w", err)
	}
	return out, nil
}
