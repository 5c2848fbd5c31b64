package catalog

import (
	"context"
)

// Store is what the catalog needs from storage. Both the SQLite and the
// MongoDB packages implement it; internal/storetest holds its contract.
//
// Not-found reads return an apperr.NotFound error, never a zero value.
type Store interface {
	// PutCenter creates or replaces a center.
	PutCenter(ctx context.Context, c Center) error
	// GetCenter returns one center.
	GetCenter(ctx context.Context, code string) (Center, error)
	// ListCenters returns every center ordered by code.
	ListCenters(ctx context.Context) ([]Center, error)

	// PutSector creates or replaces a sector of a center.
	PutSector(ctx context.Context, s Sector) error
	// ListSectors returns a center's sectors ordered by Order, then code.
	ListSectors(ctx context.Context, center string) ([]Sector, error)

	// CreateMatter stores the first version of a new matter (m.Version must
	// be 1). A matter with the same code yields apperr.Conflict.
	CreateMatter(ctx context.Context, m Matter) error
	// ReviseMatter stores m as the new current version of an existing
	// matter. It succeeds only if the current version is m.Version-1, so
	// two concurrent edits of the same version cannot both win: the loser
	// gets apperr.VersionConflict. The previous version stays readable
	// through GetMatterVersion.
	ReviseMatter(ctx context.Context, m Matter) error
	// GetMatter returns the current version of a matter.
	GetMatter(ctx context.Context, code string) (Matter, error)
	// GetMatterVersion returns one version of a matter, current or past.
	GetMatterVersion(ctx context.Context, code string, version int) (Matter, error)
	// ListMatters returns current versions matching f, ordered by code,
	// starting after f.After, at most f.Limit of them (all if Limit is 0).
	ListMatters(ctx context.Context, f MatterFilter) ([]Matter, error)
}

// MatterFilter selects matters. Empty fields do not filter.
type MatterFilter struct {
	Center  string
	Sector  string
	Kind    Kind
	Channel Channel
	// Status filters by status; empty means any status.
	Status Status
	// After is the code to start after (cursor pagination).
	After string
	// Limit caps the number of results; 0 means no cap.
	Limit int
}
