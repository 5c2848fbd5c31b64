package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// IdentityStore implements identity.StaffStore and identity.SessionStore.
type IdentityStore struct {
	db *DB
}

var (
	_ identity.StaffStore   = (*IdentityStore)(nil)
	_ identity.SessionStore = (*IdentityStore)(nil)
)

// NewIdentityStore returns the identity store on db.
func NewIdentityStore(db *DB) *IdentityStore { return &IdentityStore{db: db} }

const staffColumns = `id, center, username, name, roles, sectors, company, password_hash, disabled,
	failed_logins, locked_until, password_changed_at, created_at`

func scanStaff(sc scanner) (identity.Staff, error) {
	var s identity.Staff
	var roles, sectors string
	var disabled int
	var locked, changed, created int64
	if err := sc.Scan(&s.ID, &s.Center, &s.Username, &s.Name, &roles, &sectors, &s.Company, &s.PasswordHash, &disabled,
		&s.FailedLogins, &locked, &changed, &created); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(roles), &s.Roles); err != nil {
		return s, err
	}
	if err := json.Unmarshal([]byte(sectors), &s.Sectors); err != nil {
		return s, err
	}
	s.Disabled = disabled != 0
	s.LockedUntil, s.PasswordChangedAt, s.CreatedAt = fromMS(locked), fromMS(changed), fromMS(created)
	return s, nil
}

// CreateStaff implements identity.StaffStore.
func (s *IdentityStore) CreateStaff(ctx context.Context, st identity.Staff) error {
	roles, _ := json.Marshal(orEmpty(st.Roles))
	sectors, _ := json.Marshal(orEmpty(st.Sectors))
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO staff (`+staffColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			st.ID, st.Center, st.Username, st.Name, string(roles), string(sectors), st.Company, st.PasswordHash, boolInt(st.Disabled),
			st.FailedLogins, ms(st.LockedUntil), ms(st.PasswordChangedAt), ms(st.CreatedAt))
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "用户名已被使用")
		}
		if err != nil {
			return fmt.Errorf("sqlite: create staff %s: %w", st.Username, err)
		}
		return nil
	})
}

func (s *IdentityStore) getStaff(ctx context.Context, where string, arg any) (identity.Staff, error) {
	staff, err := queryOne(ctx, s.db, scanStaff, apperr.New(apperr.NotFound, "没有这个工作人员账号"),
		`SELECT `+staffColumns+` FROM staff WHERE `+where+` = ?`, arg)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return staff, fmt.Errorf("sqlite: get staff: %w", err)
	}
	return staff, err
}

// GetStaff implements identity.StaffStore.
func (s *IdentityStore) GetStaff(ctx context.Context, id string) (identity.Staff, error) {
	return s.getStaff(ctx, "id", id)
}

// GetStaffByUsername implements identity.StaffStore.
func (s *IdentityStore) GetStaffByUsername(ctx context.Context, username string) (identity.Staff, error) {
	return s.getStaff(ctx, "username", username)
}

// ListStaff implements identity.StaffStore.
func (s *IdentityStore) ListStaff(ctx context.Context, center string) ([]identity.Staff, error) {
	out, err := queryAll(ctx, s.db, scanStaff, `SELECT `+staffColumns+` FROM staff WHERE ? = '' OR center = ? ORDER BY username`, center, center)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list staff: %w", err)
	}
	return out, nil
}

// RecordFailedLogin implements identity.StaffStore.
func (s *IdentityStore) RecordFailedLogin(ctx context.Context, id string, limit int, lockUntil time.Time) (identity.Staff, error) {
	var out identity.Staff
	err := s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE staff SET failed_logins = failed_logins + 1,
			locked_until = CASE WHEN failed_logins + 1 >= ? AND locked_until < ? THEN ? ELSE locked_until END
			WHERE id = ?`, limit, ms(lockUntil), ms(lockUntil), id)
		if err != nil {
			return fmt.Errorf("sqlite: record failed login of %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "没有这个工作人员账号")
		}
		out, err = scanStaff(tx.QueryRow(`SELECT `+staffColumns+` FROM staff WHERE id = ?`, id))
		return err
	})
	return out, err
}

// ResetFailedLogins implements identity.StaffStore.
func (s *IdentityStore) ResetFailedLogins(ctx context.Context, id string) error {
	return s.exec(ctx, "reset failed logins", `UPDATE staff SET failed_logins = 0, locked_until = 0 WHERE id = ?`, id)
}

// SetPassword implements identity.StaffStore.
func (s *IdentityStore) SetPassword(ctx context.Context, id, hash string, at time.Time) error {
	return s.exec(ctx, "set password", `UPDATE staff SET password_hash = ?, password_changed_at = ? WHERE id = ?`, hash, ms(at), id)
}

// exec runs one update that must touch exactly the row named by its last argument.
func (s *IdentityStore) exec(ctx context.Context, what, q string, args ...any) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: %s: %w", what, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "记录不存在")
		}
		return nil
	})
}

// CreateSession implements identity.SessionStore.
func (s *IdentityStore) CreateSession(ctx context.Context, se identity.Session) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO sessions (id, kind, subject, center, kiosk, sealed, csrf, created_at, last_seen, expires_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, se.ID, se.Kind, se.Subject, se.Center, se.Kiosk, se.Sealed, se.CSRF,
			ms(se.CreatedAt), ms(se.LastSeen), ms(se.ExpiresAt), ms(se.RevokedAt))
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "会话已存在")
		}
		if err != nil {
			return fmt.Errorf("sqlite: create session: %w", err)
		}
		return nil
	})
}

// GetSession implements identity.SessionStore.
func (s *IdentityStore) GetSession(ctx context.Context, id string) (identity.Session, error) {
	var se identity.Session
	st, err := s.db.readStmt(ctx, `SELECT id, kind, subject, center, kiosk, sealed, csrf, created_at, last_seen, expires_at, revoked_at FROM sessions WHERE id = ?`)
	if err != nil {
		return se, fmt.Errorf("sqlite: get session: %w", err)
	}
	var created, seen, expires, revoked int64
	err = st.QueryRowContext(ctx, id).Scan(&se.ID, &se.Kind, &se.Subject, &se.Center, &se.Kiosk, &se.Sealed, &se.CSRF, &created, &seen, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return se, apperr.New(apperr.NotFound, "会话不存在")
	}
	if err != nil {
		return se, fmt.Errorf("sqlite: get session: %w", err)
	}
	se.CreatedAt, se.LastSeen, se.ExpiresAt, se.RevokedAt = fromMS(created), fromMS(seen), fromMS(expires), fromMS(revoked)
	return se, nil
}

// TouchSession implements identity.SessionStore.
func (s *IdentityStore) TouchSession(ctx context.Context, id string, at, expires time.Time) error {
	return s.exec(ctx, "touch session", `UPDATE sessions SET last_seen = ?, expires_at = ? WHERE id = ?`, ms(at), ms(expires), id)
}

// RevokeSession implements identity.SessionStore.
func (s *IdentityStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	return s.exec(ctx, "revoke session", `UPDATE sessions SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END WHERE id = ?`, ms(at), id)
}

// RevokeSubjectSessions implements identity.SessionStore.
func (s *IdentityStore) RevokeSubjectSessions(ctx context.Context, kind identity.Kind, subject string, at time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE sessions SET revoked_at = ? WHERE kind = ? AND subject = ? AND revoked_at = 0`, ms(at), kind, subject)
		if err != nil {
			return fmt.Errorf("sqlite: revoke sessions of %s: %w", subject, err)
		}
		return nil
	})
}

func isUnique(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// orEmpty keeps nil slices out of JSON columns, which hold [] instead of null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
