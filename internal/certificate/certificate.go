// Package certificate is the e-certificate library (电子证照库): the
// certificates a person holds, so that an application can take them
// instead of asking for paper again (免提交, 一次录入、大家共用). Until
// banhao issues its own (the certificates issue), the library is filled
// by an import command (`banhao ecert import`) and the demo data.
//
// The certificate number may be personal data (a 居民身份证's number is
// the ID number) and the holder's name is: both are stored sealed, with
// the number's masked form kept for display.
package certificate

import (
	"context"
	"time"
)

// Status is whether a certificate may be relied on.
type Status string

// Certificate statuses.
const (
	StatusValid   Status = "valid"
	StatusRevoked Status = "revoked"
)

// Certificate is one e-certificate in the library.
type Certificate struct {
	ID string
	// Type names the certificate type as the guides do, e.g. "居民身份证",
	// "营业执照", "不动产权证书" (a material's ecert_type).
	Type string
	// Holder is the person by real name: "id:<blind index of the ID number>".
	Holder string
	// NumberSealed is the certificate number, sealed; NumberMasked its
	// masked form for display.
	NumberSealed string
	NumberMasked string
	// NumberIndex is the blind index of type and number, so importing the
	// same certificate twice updates it instead of adding a second one.
	NumberIndex string
	// HolderNameSealed is the holder's name as printed, sealed.
	HolderNameSealed string
	Issuer           string
	IssuedOn         time.Time
	// ValidUntil is the last valid day (midnight in the center's zone);
	// zero means no expiry (长期).
	ValidUntil time.Time
	Status     Status
	RevokedAt  time.Time
	// RevokedBy and RevokeReason say who revoked it ("staff:<id>") and why.
	RevokedBy    string
	RevokeReason string
	// Title is the name printed at the top, e.g. "营业执照"; Matter the
	// matter that produced it. Case and CaseNumber name the concluded case
	// a certificate banhao issued came from (empty for imported ones).
	Title      string
	Matter     string
	Case       string
	CaseNumber string
	// Source says where it came from: "import", "demo", or "case:<id>"
	// for one banhao issued.
	Source    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ValidOn reports whether c may be relied on at t.
func (c *Certificate) ValidOn(t time.Time) bool {
	if c.Status != StatusValid {
		return false
	}
	return c.ValidUntil.IsZero() || t.Before(c.ValidUntil.AddDate(0, 0, 1))
}

// Store keeps the library. Both the SQLite and the MongoDB packages
// implement it; internal/storetest holds its contract.
type Store interface {
	// PutCertificate stores c, replacing the certificate with the same
	// NumberIndex if there is one (keeping that one's ID and CreatedAt),
	// and returns what is stored.
	PutCertificate(ctx context.Context, c Certificate) (Certificate, error)
	// GetCertificate returns a certificate by ID; unknown is apperr.NotFound.
	GetCertificate(ctx context.Context, id string) (Certificate, error)
	// ListHeld returns the certificates of a holder, by type then issue
	// date, newest first.
	ListHeld(ctx context.Context, holder string) ([]Certificate, error)
	// RevokeCertificate marks a valid certificate revoked, atomically:
	// revoking one already revoked is apperr.Conflict, an unknown ID
	// apperr.NotFound. It returns the revoked certificate.
	RevokeCertificate(ctx context.Context, id string, at time.Time, by, reason string) (Certificate, error)
}
