package cases

import (
	"context"
	"time"
)

// Store keeps cases, each as one document. Both the SQLite and the
// MongoDB packages implement it; internal/storetest holds its contract.
type Store interface {
	// CreateCase stores a new case (c.Rev is 1). A case with the same ID
	// or Number is apperr.Conflict.
	CreateCase(ctx context.Context, c Case) error
	// GetCase returns a case by ID; an unknown ID is apperr.NotFound.
	GetCase(ctx context.Context, id string) (Case, error)
	// GetCaseByNumber returns a case by its number.
	GetCaseByNumber(ctx context.Context, number string) (Case, error)
	// UpdateCase replaces a case with c if the stored revision is still
	// c.Rev-1, in one conditional single-document write; otherwise it
	// returns apperr.VersionConflict and changes nothing.
	UpdateCase(ctx context.Context, c Case) error
	// ListCases returns the cases f selects, in the order f asks for.
	ListCases(ctx context.Context, f Filter) ([]Case, error)
}

// Order is how ListCases sorts.
type Order int

// Orders of case lists.
const (
	// NewestFirst: by creation, newest first (a citizen's list). Cursor
	// is the ID to continue after.
	NewestFirst Order = iota
	// ByDeadline: green-channel cases first, then by DueAt (cases without
	// a due time last), then by ID (worklists and the supervision board).
	ByDeadline
)

// Filter selects cases; empty fields do not filter.
type Filter struct {
	Applicant string
	Center    string
	// Sectors limits to these sectors; empty means any.
	Sectors []string
	// States limits to these states; empty means any.
	States []State
	// DueBefore keeps only cases with a due time before it.
	DueBefore time.Time
	// CertPending keeps only cases whose certificate is still to be issued.
	CertPending bool
	// UpdatedAfter keeps only cases last changed after it.
	UpdatedAfter time.Time
	Order        Order
	// After is the ID to continue after (NewestFirst only).
	After string
	// Limit caps the result; 0 means no cap.
	Limit int
}
