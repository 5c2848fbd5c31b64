// Package audit keeps the append-only record of who did what to whom:
// logins and failed logins, refused requests, every staff read of a
// citizen's personal data, and every administrative change. Records hold
// no personal data themselves, only references (citizen:<id>), so the log
// can be shown to auditors and, for their own entries, to citizens.
package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// Outcome tells whether the audited action happened.
type Outcome string

// Outcomes.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeDenied Outcome = "denied"
	OutcomeFailed Outcome = "failed"
)

// Record is one audit entry.
type Record struct {
	ID string
	At time.Time
	// Actor is who acted: "staff:<id>", "citizen:<id>", "kiosk:<id>",
	// "courier:<id>", "cli" or "anonymous".
	Actor string
	// Role is the actor's role when it acted (clerk, admin, ...), if any.
	Role string
	// Center is the center the action belongs to, if any.
	Center string
	// Action names what was done, e.g. "login", "staff.create", "matter.revise".
	Action string
	// Subject is whose data was touched, e.g. "citizen:<id>"; empty if none.
	Subject string
	// Target is the resource acted on, e.g. "matter:hm-gjj-loan".
	Target string
	// Purpose says why personal data was read (shown in the data-use log).
	Purpose string
	Outcome Outcome
	// IP and Kiosk say where the request came from.
	IP    string
	Kiosk string
}

// Store keeps audit records. It has no way to change or delete one.
type Store interface {
	// AppendAudit stores a record.
	AppendAudit(ctx context.Context, r Record) error
	// ListAudit returns records matching f, newest first.
	ListAudit(ctx context.Context, f Filter) ([]Record, error)
}

// Filter selects audit records; empty fields do not filter.
type Filter struct {
	Actor   string
	Subject string
	Center  string
	Action  string
	// Before is the ID to continue after (records are listed newest first).
	Before string
	// Limit caps the result; stores treat 0 as no cap, and Log.List
	// defaults it to 100 and caps it at 500.
	Limit int
}

// Log writes audit records with IDs that sort by time.
type Log struct {
	store Store
	now   func() time.Time
}

// NewLog returns an audit log on store with the clock now.
func NewLog(store Store, now func() time.Time) *Log { return &Log{store: store, now: now} }

// Record appends r, filling in its ID and time.
func (l *Log) Record(ctx context.Context, r Record) error {
	r.At = l.now().UTC().Truncate(time.Millisecond)
	r.ID = NewID(r.At)
	if r.Outcome == "" {
		r.Outcome = OutcomeOK
	}
	if err := l.store.AppendAudit(ctx, r); err != nil {
		return fmt.Errorf("audit: %s by %s: %w", r.Action, r.Actor, err)
	}
	return nil
}

// List returns records matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Record, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	return l.store.ListAudit(ctx, f)
}

// NewID returns an identifier that sorts by creation time: 12 hex digits
// of Unix milliseconds, then 16 random hex digits.
func NewID(at time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // documented never to fail since Go 1.24
	return fmt.Sprintf("%012x%s", at.UnixMilli(), hex.EncodeToString(b[:]))
}
