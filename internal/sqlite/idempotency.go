package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/idempotency"
)

// IdempotencyStore implements idempotency.Store: one row per claimed key,
// its ID the primary key, so that of two concurrent claims one INSERT
// fails. Times are Unix milliseconds.
type IdempotencyStore struct {
	db *DB
}

var _ idempotency.Store = (*IdempotencyStore)(nil)

// NewIdempotencyStore returns the idempotency key store on db.
func NewIdempotencyStore(db *DB) *IdempotencyStore { return &IdempotencyStore{db: db} }

// CreateKey implements idempotency.Store.
func (s *IdempotencyStore) CreateKey(ctx context.Context, r idempotency.Record) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO idempotency_keys (id, fingerprint, done, status, content_type, body, created_ms)
			VALUES (?, ?, 0, 0, '', NULL, ?)`, r.ID, r.Fingerprint, ms(r.Created))
		switch {
		case isUnique(err):
			return apperr.New(apperr.Conflict, "这个 Idempotency-Key 已被使用")
		case err != nil:
			return fmt.Errorf("sqlite: create idempotency key: %w", err)
		}
		return nil
	})
}

// GetKey implements idempotency.Store.
func (s *IdempotencyStore) GetKey(ctx context.Context, id string) (idempotency.Record, error) {
	stmt, err := s.db.readStmt(ctx, `SELECT fingerprint, done, status, content_type, body, created_ms FROM idempotency_keys WHERE id = ?`)
	if err != nil {
		return idempotency.Record{}, err
	}
	r := idempotency.Record{ID: id}
	var created int64
	err = stmt.QueryRowContext(ctx, id).Scan(&r.Fingerprint, &r.Done, &r.Status, &r.ContentType, &r.Body, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return idempotency.Record{}, apperr.New(apperr.NotFound, "没有这个 Idempotency-Key")
	case err != nil:
		return idempotency.Record{}, fmt.Errorf("sqlite: get idempotency key: %w", err)
	}
	r.Created = fromMS(created)
	return r, nil
}

// FinishKey implements idempotency.Store.
func (s *IdempotencyStore) FinishKey(ctx context.Context, id string, created time.Time, status int, contentType string, body []byte) error {
	if body == nil {
		body = []byte{}
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE idempotency_keys SET done = 1, status = ?, content_type = ?, body = ?
			WHERE id = ? AND created_ms = ? AND done = 0`, status, contentType, body, id, ms(created))
		if err != nil {
			return fmt.Errorf("sqlite: finish idempotency key: %w", err)
		}
		return nil
	})
}

// DeleteKey implements idempotency.Store.
func (s *IdempotencyStore) DeleteKey(ctx context.Context, id string, created time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`DELETE FROM idempotency_keys WHERE id = ? AND created_ms = ?`, id, ms(created)); err != nil {
			return fmt.Errorf("sqlite: delete idempotency key: %w", err)
		}
		return nil
	})
}

// SweepKeys implements idempotency.Store.
func (s *IdempotencyStore) SweepKeys(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM idempotency_keys WHERE created_ms < ?`, ms(before))
		if err != nil {
			return fmt.Errorf("sqlite: sweep idempotency keys: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
