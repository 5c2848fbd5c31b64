package identity

import (
	"context"
	"time"
)

// StaffStore keeps staff accounts. Usernames are unique per deployment.
type StaffStore interface {
	// CreateStaff stores a new account; a taken username is apperr.Conflict.
	CreateStaff(ctx context.Context, s Staff) error
	// GetStaff returns an account by ID.
	GetStaff(ctx context.Context, id string) (Staff, error)
	// GetStaffByUsername returns an account by its (normalized) username.
	GetStaffByUsername(ctx context.Context, username string) (Staff, error)
	// ListStaff returns a center's accounts ordered by username; an empty
	// center lists every account.
	ListStaff(ctx context.Context, center string) ([]Staff, error)
	// RecordFailedLogin adds one to the account's failure count and, once
	// the count reaches limit, locks it until lockUntil (a later lock time
	// is never shortened). It returns the account as updated, atomically:
	// concurrent failures are all counted.
	RecordFailedLogin(ctx context.Context, id string, limit int, lockUntil time.Time) (Staff, error)
	// ResetFailedLogins clears the failure count after a successful login.
	ResetFailedLogins(ctx context.Context, id string) error
	// SetPassword replaces the password hash.
	SetPassword(ctx context.Context, id, hash string, at time.Time) error
}

// SessionStore keeps sessions by ID (the token's hash).
type SessionStore interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// GetSession returns a session, active or not.
	GetSession(ctx context.Context, id string) (Session, error)
	// TouchSession records use at `at` and moves the expiry to expires.
	TouchSession(ctx context.Context, id string, at, expires time.Time) error
	// RevokeSession ends one session.
	RevokeSession(ctx context.Context, id string, at time.Time) error
	// RevokeSubjectSessions ends every active session of one party, e.g.
	// after a password change.
	RevokeSubjectSessions(ctx context.Context, kind Kind, subject string, at time.Time) error
}
