package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// CitizenStore implements identity.CitizenStore.
type CitizenStore struct {
	db *DB
}

var _ identity.CitizenStore = (*CitizenStore)(nil)

// NewCitizenStore returns the citizen store on db.
func NewCitizenStore(db *DB) *CitizenStore { return &CitizenStore{db: db} }

const citizenColumns = `id, open_id, union_id, name_sealed, id_sealed, phone_sealed, id_index, phone_index, bound_at, created_at`

func scanCitizen(sc scanner) (identity.Citizen, error) {
	var c identity.Citizen
	var bound, created int64
	err := sc.Scan(&c.ID, &c.OpenID, &c.UnionID, &c.NameSealed, &c.IDSealed, &c.PhoneSealed, &c.IDIndex, &c.PhoneIndex, &bound, &created)
	c.BoundAt, c.CreatedAt = fromMS(bound), fromMS(created)
	return c, err
}

func citizenNotFound() error { return apperr.New(apperr.NotFound, "没有这个用户") }

// EnsureCitizen implements identity.CitizenStore.
func (s *CitizenStore) EnsureCitizen(ctx context.Context, c identity.Citizen) (identity.Citizen, error) {
	var out identity.Citizen
	err := s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO citizens (`+citizenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (open_id) DO NOTHING`,
			c.ID, c.OpenID, c.UnionID, c.NameSealed, c.IDSealed, c.PhoneSealed, c.IDIndex, c.PhoneIndex, ms(c.BoundAt), ms(c.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: ensure citizen: %w", err)
		}
		out, err = scanCitizen(tx.QueryRow(`SELECT `+citizenColumns+` FROM citizens WHERE open_id = ?`, c.OpenID))
		if err != nil {
			return fmt.Errorf("sqlite: ensure citizen: %w", err)
		}
		return nil
	})
	return out, err
}

func (s *CitizenStore) get(ctx context.Context, col, v string) (identity.Citizen, error) {
	c, err := queryOne(ctx, s.db, scanCitizen, citizenNotFound(), `SELECT `+citizenColumns+` FROM citizens WHERE `+col+` = ?`, v)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return c, fmt.Errorf("sqlite: get citizen: %w", err)
	}
	return c, err
}

// GetCitizen implements identity.CitizenStore.
func (s *CitizenStore) GetCitizen(ctx context.Context, id string) (identity.Citizen, error) {
	return s.get(ctx, "id", id)
}

// FindCitizenByIDIndex implements identity.CitizenStore.
func (s *CitizenStore) FindCitizenByIDIndex(ctx context.Context, idIndex string) (identity.Citizen, error) {
	return s.get(ctx, "id_index", idIndex)
}

// BindRealName implements identity.CitizenStore.
func (s *CitizenStore) BindRealName(ctx context.Context, id, nameSealed, idSealed, idIndex string, at time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE citizens SET name_sealed = ?, id_sealed = ?, id_index = ?, bound_at = ?
			WHERE id = ? AND id_index = ?`, nameSealed, idSealed, idIndex, ms(at), id, identity.UnboundIndex(id))
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "该身份证号码已绑定其他账号")
		}
		if err != nil {
			return fmt.Errorf("sqlite: bind citizen %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var cur string
		err = tx.QueryRow(`SELECT id_index FROM citizens WHERE id = ?`, id).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return citizenNotFound()
		case err != nil:
			return fmt.Errorf("sqlite: bind citizen %s: %w", id, err)
		case cur == idIndex:
			return nil // bound to this very number already
		}
		return identity.ErrAlreadyBound
	})
}

// SetPhone implements identity.CitizenStore.
func (s *CitizenStore) SetPhone(ctx context.Context, id, phoneSealed, phoneIndex string) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE citizens SET phone_sealed = ?, phone_index = ? WHERE id = ?`, phoneSealed, phoneIndex, id)
		if err != nil {
			return fmt.Errorf("sqlite: set phone of %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return citizenNotFound()
		}
		return nil
	})
}
