package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// AuditStore implements audit.Store. The table refuses updates and deletes
// by trigger, so not even a bug here can rewrite history.
type AuditStore struct {
	db *DB
}

var _ audit.Store = (*AuditStore)(nil)

// NewAuditStore returns the audit store on db.
func NewAuditStore(db *DB) *AuditStore { return &AuditStore{db: db} }

// AppendAudit implements audit.Store. A taken ID is a conflict, as on
// MongoDB, and leaves the stored record as it was.
func (s *AuditStore) AppendAudit(ctx context.Context, r audit.Record) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO audit (id, at, actor, role, center, action, subject, target, purpose, outcome, ip, kiosk)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, ms(r.At), r.Actor, r.Role, r.Center, r.Action, r.Subject, r.Target, r.Purpose, r.Outcome, r.IP, r.Kiosk)
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "审计记录编号重复")
		}
		if err != nil {
			return fmt.Errorf("sqlite: append audit: %w", err)
		}
		return nil
	})
}

// ListAudit implements audit.Store.
func (s *AuditStore) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	var where []string
	var args []any
	add := func(col, v string) {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	add("actor", f.Actor)
	add("subject", f.Subject)
	add("center", f.Center)
	add("action", f.Action)
	if f.Before != "" {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	q := `SELECT id, at, actor, role, center, action, subject, target, purpose, outcome, ip, kiosk FROM audit`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := -1 // SQLite's "no limit"
	if f.Limit > 0 {
		limit = f.Limit
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	out, err := queryAll(ctx, s.db, scanAudit, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return out, nil
}

func scanAudit(sc scanner) (audit.Record, error) {
	var r audit.Record
	var at int64
	err := sc.Scan(&r.ID, &at, &r.Actor, &r.Role, &r.Center, &r.Action, &r.Subject, &r.Target, &r.Purpose, &r.Outcome, &r.IP, &r.Kiosk)
	r.At = fromMS(at)
	return r, err
}
