package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
)

// ParcelStore implements delivery.Store. A parcel is one row: the whole
// parcel as JSON in doc, and beside it copies of the fields that lookups
// and lists need (case_id, center, courier, status, alert, rev), written
// by the same statement as doc. case_id is unique: one parcel per case.
// An update is one UPDATE conditional on rev.
type ParcelStore struct {
	db *DB
}

var _ delivery.Store = (*ParcelStore)(nil)

// NewParcelStore returns the parcel store on db.
func NewParcelStore(db *DB) *ParcelStore { return &ParcelStore{db: db} }

func errNoParcel() error { return apperr.New(apperr.NotFound, "没有这个寄送件") }

func errParcelExists(err error) error {
	return apperr.Wrap(apperr.Conflict, "该办件已有寄送件", err)
}

func errParcelChanged() error {
	return apperr.New(apperr.VersionConflict, "寄送件已被他人修改，请刷新后重试")
}

func scanParcel(sc scanner) (delivery.Parcel, error) {
	var p delivery.Parcel
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("parcel document: %w", err)
	}
	utcMillis(reflect.ValueOf(&p).Elem())
	return p, nil
}

// CreateParcel implements delivery.Store.
func (s *ParcelStore) CreateParcel(ctx context.Context, p delivery.Parcel) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("sqlite: create parcel %s: %w", p.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO parcels (id, case_id, center, courier, status, alert, rev, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Case, p.Center, p.Courier, string(p.Status), boolInt(p.Alert != ""), p.Rev, string(doc))
		switch {
		case isUnique(err):
			return errParcelExists(err)
		case err != nil:
			return fmt.Errorf("sqlite: create parcel %s: %w", p.ID, err)
		}
		return nil
	})
}

// GetParcel implements delivery.Store.
func (s *ParcelStore) GetParcel(ctx context.Context, id string) (delivery.Parcel, error) {
	p, err := queryOne(ctx, s.db, scanParcel, errNoParcel(), `SELECT doc FROM parcels WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return delivery.Parcel{}, fmt.Errorf("sqlite: get parcel %s: %w", id, err)
	}
	return p, err
}

// GetParcelByCase implements delivery.Store.
func (s *ParcelStore) GetParcelByCase(ctx context.Context, caseID string) (delivery.Parcel, error) {
	p, err := queryOne(ctx, s.db, scanParcel, errNoParcel(), `SELECT doc FROM parcels WHERE case_id = ?`, caseID)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return delivery.Parcel{}, fmt.Errorf("sqlite: get parcel of case %s: %w", caseID, err)
	}
	return p, err
}

// UpdateParcel implements delivery.Store: one UPDATE on id and the
// revision p replaces; when it changes nothing, a look at the id tells an
// unknown parcel from a lost race.
func (s *ParcelStore) UpdateParcel(ctx context.Context, p delivery.Parcel) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("sqlite: update parcel %s: %w", p.ID, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE parcels SET case_id = ?, center = ?, courier = ?, status = ?, alert = ?, rev = ?, doc = ?
			WHERE id = ? AND rev = ?`,
			p.Case, p.Center, p.Courier, string(p.Status), boolInt(p.Alert != ""), p.Rev, string(doc), p.ID, p.Rev-1)
		switch {
		case isUnique(err):
			return errParcelExists(err)
		case err != nil:
			return fmt.Errorf("sqlite: update parcel %s: %w", p.ID, err)
		}
		return revised(tx, res, "parcels", "id", p.ID, errNoParcel, errParcelChanged)
	})
}

// ListParcels implements delivery.Store. The query text depends only on
// which filters are set, never on their values.
func (s *ParcelStore) ListParcels(ctx context.Context, f delivery.Filter) ([]delivery.Parcel, error) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	if f.Center != "" {
		add(`center = ?`, f.Center)
	}
	if f.Courier != "" {
		add(`courier = ?`, f.Courier)
	}
	if len(f.Statuses) > 0 {
		list, err := json.Marshal(f.Statuses)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list parcels: %w", err)
		}
		add(`status IN (SELECT value FROM json_each(?))`, string(list))
	}
	if f.Alert {
		add(`alert = 1`)
	}
	if f.After != "" {
		add(`id < ?`, f.After)
	}
	query := `SELECT doc FROM parcels`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	out, err := queryAll(ctx, s.db, scanParcel, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list parcels: %w", err)
	}
	return out, nil
}
