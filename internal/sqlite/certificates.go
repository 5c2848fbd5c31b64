package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/certificate"
)

// CertificateStore implements certificate.Store, the e-certificate
// library (电子证照库).
type CertificateStore struct {
	db *DB
}

var _ certificate.Store = (*CertificateStore)(nil)

// NewCertificateStore returns the certificate store on db.
func NewCertificateStore(db *DB) *CertificateStore { return &CertificateStore{db: db} }

const certificateColumns = `id, type, holder, number_sealed, number_masked, number_index, holder_name_sealed,
	issuer, issued_on, valid_until, status, revoked_at, source, created_at, updated_at,
	revoked_by, revoke_reason, title, matter, case_id, case_number`

func scanCertificate(sc scanner) (certificate.Certificate, error) {
	var c certificate.Certificate
	var issued, until, revoked, created, updated int64
	err := sc.Scan(&c.ID, &c.Type, &c.Holder, &c.NumberSealed, &c.NumberMasked, &c.NumberIndex, &c.HolderNameSealed,
		&c.Issuer, &issued, &until, &c.Status, &revoked, &c.Source, &created, &updated,
		&c.RevokedBy, &c.RevokeReason, &c.Title, &c.Matter, &c.Case, &c.CaseNumber)
	c.IssuedOn, c.ValidUntil, c.RevokedAt = fromMS(issued), fromMS(until), fromMS(revoked)
	c.CreatedAt, c.UpdatedAt = fromMS(created), fromMS(updated)
	return c, err
}

func errNoCertificate() error { return apperr.New(apperr.NotFound, "没有这个电子证照") }

// PutCertificate implements certificate.Store with one upsert on the
// unique number_index: a certificate imported again is updated in place,
// keeping its first ID and CreatedAt, and concurrent imports of one
// certificate cannot add a second row. An ID that another certificate
// already has is a conflict.
func (s *CertificateStore) PutCertificate(ctx context.Context, c certificate.Certificate) (certificate.Certificate, error) {
	var out certificate.Certificate
	err := s.db.Write(ctx, func(tx *Tx) error {
		var err error
		out, err = scanCertificate(tx.QueryRow(`INSERT INTO certificates (`+certificateColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (number_index) DO UPDATE SET
				type = excluded.type, holder = excluded.holder,
				number_sealed = excluded.number_sealed, number_masked = excluded.number_masked,
				holder_name_sealed = excluded.holder_name_sealed, issuer = excluded.issuer,
				issued_on = excluded.issued_on, valid_until = excluded.valid_until,
				status = excluded.status, revoked_at = excluded.revoked_at,
				source = excluded.source, updated_at = excluded.updated_at,
				revoked_by = excluded.revoked_by, revoke_reason = excluded.revoke_reason,
				title = excluded.title, matter = excluded.matter,
				case_id = excluded.case_id, case_number = excluded.case_number
			RETURNING `+certificateColumns,
			c.ID, c.Type, c.Holder, c.NumberSealed, c.NumberMasked, c.NumberIndex, c.HolderNameSealed,
			c.Issuer, ms(c.IssuedOn), ms(c.ValidUntil), string(c.Status), ms(c.RevokedAt), c.Source,
			ms(c.CreatedAt), ms(c.UpdatedAt), c.RevokedBy, c.RevokeReason, c.Title, c.Matter, c.Case, c.CaseNumber))
		if isUnique(err) {
			return apperr.Wrap(apperr.Conflict, "电子证照编号已被使用", err)
		}
		if err != nil {
			return fmt.Errorf("sqlite: put certificate %s: %w", c.ID, err)
		}
		return nil
	})
	if err != nil {
		return certificate.Certificate{}, err
	}
	return out, nil
}

// GetCertificate implements certificate.Store.
func (s *CertificateStore) GetCertificate(ctx context.Context, id string) (certificate.Certificate, error) {
	c, err := queryOne(ctx, s.db, scanCertificate, errNoCertificate(),
		`SELECT `+certificateColumns+` FROM certificates WHERE id = ?`, id)
	switch {
	case apperr.Is(err, apperr.NotFound):
		return certificate.Certificate{}, err
	case err != nil:
		return certificate.Certificate{}, fmt.Errorf("sqlite: get certificate %s: %w", id, err)
	}
	return c, nil
}

// ListHeld implements certificate.Store. Certificates of one type and
// issue date come newest ID first, so the order is total.
func (s *CertificateStore) ListHeld(ctx context.Context, holder string) ([]certificate.Certificate, error) {
	cs, err := queryAll(ctx, s.db, scanCertificate,
		`SELECT `+certificateColumns+` FROM certificates WHERE holder = ?
			ORDER BY type, issued_on DESC, id DESC`, holder)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list certificates of a holder: %w", err)
	}
	return cs, nil
}

// RevokeCertificate implements certificate.Store with one conditional
// update: only a valid certificate is revoked.
func (s *CertificateStore) RevokeCertificate(ctx context.Context, id string, at time.Time, by, reason string) (certificate.Certificate, error) {
	var out certificate.Certificate
	err := s.db.Write(ctx, func(tx *Tx) error {
		var err error
		out, err = scanCertificate(tx.QueryRow(`UPDATE certificates SET status = ?, revoked_at = ?, revoked_by = ?, revoke_reason = ?, updated_at = ?
			WHERE id = ? AND status = ? RETURNING `+certificateColumns,
			string(certificate.StatusRevoked), ms(at), by, reason, ms(at), id, string(certificate.StatusValid)))
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			if err := tx.QueryRow(`SELECT count(*) FROM certificates WHERE id = ?`, id).Scan(&n); err != nil {
				return fmt.Errorf("sqlite: revoke certificate %s: %w", id, err)
			}
			if n == 0 {
				return errNoCertificate()
			}
			return apperr.New(apperr.Conflict, "该电子证照已经注销")
		}
		if err != nil {
			return fmt.Errorf("sqlite: revoke certificate %s: %w", id, err)
		}
		return nil
	})
	return out, err
}
