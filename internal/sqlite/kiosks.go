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

// KioskStore implements identity.KioskStore.
type KioskStore struct {
	db *DB
}

var _ identity.KioskStore = (*KioskStore)(nil)

// NewKioskStore returns the kiosk store on db.
func NewKioskStore(db *DB) *KioskStore { return &KioskStore{db: db} }

const kioskColumns = `id, center, location, card_reader, printer, secret_sealed, revoked_at, created_at, last_seen, printer_status, reader_status`

func scanKiosk(sc scanner) (identity.Kiosk, error) {
	var k identity.Kiosk
	var reader, printer int
	var revoked, created, seen int64
	err := sc.Scan(&k.ID, &k.Center, &k.Location, &reader, &printer, &k.SecretSealed, &revoked, &created, &seen, &k.PrinterStatus, &k.ReaderStatus)
	k.CardReader, k.Printer = reader != 0, printer != 0
	k.RevokedAt, k.CreatedAt, k.LastSeen = fromMS(revoked), fromMS(created), fromMS(seen)
	return k, err
}

func kioskNotFound() error { return apperr.New(apperr.NotFound, "没有这台自助终端") }

// CreateKiosk implements identity.KioskStore.
func (s *KioskStore) CreateKiosk(ctx context.Context, k identity.Kiosk) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO kiosks (`+kioskColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Center, k.Location, boolInt(k.CardReader), boolInt(k.Printer), k.SecretSealed,
			ms(k.RevokedAt), ms(k.CreatedAt), ms(k.LastSeen), k.PrinterStatus, k.ReaderStatus)
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "自助终端编号重复")
		}
		if err != nil {
			return fmt.Errorf("sqlite: create kiosk: %w", err)
		}
		return nil
	})
}

// GetKiosk implements identity.KioskStore.
func (s *KioskStore) GetKiosk(ctx context.Context, id string) (identity.Kiosk, error) {
	k, err := queryOne(ctx, s.db, scanKiosk, kioskNotFound(), `SELECT `+kioskColumns+` FROM kiosks WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return k, fmt.Errorf("sqlite: get kiosk: %w", err)
	}
	return k, err
}

// ListKiosks implements identity.KioskStore.
func (s *KioskStore) ListKiosks(ctx context.Context, center string) ([]identity.Kiosk, error) {
	out, err := queryAll(ctx, s.db, scanKiosk, `SELECT `+kioskColumns+` FROM kiosks WHERE center = ? ORDER BY id`, center)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list kiosks: %w", err)
	}
	return out, nil
}

// kioskUpdate runs an update of one kiosk that must exist.
func (s *KioskStore) kioskUpdate(ctx context.Context, what, q string, args ...any) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		var one int
		err := tx.QueryRow(`SELECT 1 FROM kiosks WHERE id = ?`, args[len(args)-1]).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return kioskNotFound()
		}
		return err
	})
}

// RevokeKiosk implements identity.KioskStore.
func (s *KioskStore) RevokeKiosk(ctx context.Context, id string, at time.Time) error {
	return s.kioskUpdate(ctx, "revoke kiosk", `UPDATE kiosks SET revoked_at = ? WHERE revoked_at = 0 AND id = ?`, ms(at), id)
}

// RecordHeartbeat implements identity.KioskStore.
func (s *KioskStore) RecordHeartbeat(ctx context.Context, id string, at time.Time, printer, reader string) error {
	return s.kioskUpdate(ctx, "kiosk heartbeat", `UPDATE kiosks SET last_seen = ?, printer_status = ?, reader_status = ? WHERE id = ?`, ms(at), printer, reader, id)
}

// UseNonce implements identity.KioskStore.
func (s *KioskStore) UseNonce(ctx context.Context, kiosk, nonce string, at time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO kiosk_nonces (kiosk, nonce, at) VALUES (?, ?, ?)`, kiosk, nonce, ms(at))
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "重复的请求")
		}
		if err != nil {
			return fmt.Errorf("sqlite: use nonce: %w", err)
		}
		return nil
	})
}

// SweepNonces implements identity.KioskStore.
func (s *KioskStore) SweepNonces(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`DELETE FROM kiosk_nonces WHERE at < ?`, ms(before))
		if err != nil {
			return fmt.Errorf("sqlite: sweep nonces: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
