package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/complaint"
)

// ComplaintStore implements complaint.Store: one row per complaint, the
// whole complaint as JSON in doc beside copies of the fields lists use;
// an update is one UPDATE conditional on rev.
type ComplaintStore struct {
	db *DB
}

var _ complaint.Store = (*ComplaintStore)(nil)

// NewComplaintStore returns the complaint store on db.
func NewComplaintStore(db *DB) *ComplaintStore { return &ComplaintStore{db: db} }

func errNoComplaint() error { return apperr.New(apperr.NotFound, "没有这个投诉") }

func errComplaintChanged() error {
	return apperr.New(apperr.VersionConflict, "投诉已被他人修改，请刷新后重试")
}

func scanComplaint(sc scanner) (complaint.Complaint, error) {
	var c complaint.Complaint
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(doc), &c); err != nil {
		return c, fmt.Errorf("complaint document: %w", err)
	}
	utcMillis(reflect.ValueOf(&c).Elem())
	return c, nil
}

// CreateComplaint implements complaint.Store.
func (s *ComplaintStore) CreateComplaint(ctx context.Context, c complaint.Complaint) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: create complaint %s: %w", c.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO complaints (id, holder, citizen, center, sector, state, due_at, created_at, rev, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Holder, c.Citizen, c.Center, c.Sector, string(c.State), ms(c.DueAt), ms(c.CreatedAt), c.Rev, string(doc))
		switch {
		case isUnique(err):
			return apperr.Wrap(apperr.Conflict, "投诉编号重复", err)
		case err != nil:
			return fmt.Errorf("sqlite: create complaint %s: %w", c.ID, err)
		}
		return nil
	})
}

// GetComplaint implements complaint.Store.
func (s *ComplaintStore) GetComplaint(ctx context.Context, id string) (complaint.Complaint, error) {
	c, err := queryOne(ctx, s.db, scanComplaint, errNoComplaint(), `SELECT doc FROM complaints WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return complaint.Complaint{}, fmt.Errorf("sqlite: get complaint %s: %w", id, err)
	}
	return c, err
}

// UpdateComplaint implements complaint.Store.
func (s *ComplaintStore) UpdateComplaint(ctx context.Context, c complaint.Complaint) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: update complaint %s: %w", c.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE complaints SET holder = ?, citizen = ?, center = ?, sector = ?, state = ?, due_at = ?,
			created_at = ?, rev = ?, doc = ? WHERE id = ? AND rev = ?`,
			c.Holder, c.Citizen, c.Center, c.Sector, string(c.State), ms(c.DueAt), ms(c.CreatedAt), c.Rev, string(doc), c.ID, c.Rev-1)
		if err != nil {
			return fmt.Errorf("sqlite: update complaint %s: %w", c.ID, err)
		}
		return revised(tx, res, "complaints", "id", c.ID, errNoComplaint, errComplaintChanged)
	})
}

// ListComplaints implements complaint.Store.
func (s *ComplaintStore) ListComplaints(ctx context.Context, f complaint.Filter) ([]complaint.Complaint, error) {
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
	query := `SELECT doc FROM complaints`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	if f.ByDeadline {
		query += ` ORDER BY due_at = 0, due_at, id`
	} else {
		query += ` ORDER BY created_at DESC, id DESC`
	}
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanComplaint, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list complaints: %w", err)
	}
	return out, nil
}
