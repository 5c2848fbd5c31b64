package delivery

import "context"

// Store keeps parcels, each as one document. Both the SQLite and the
// MongoDB packages implement it; internal/storetest holds its contract.
type Store interface {
	// CreateParcel stores a new parcel (p.Rev is 1). A parcel with the
	// same ID, or a second parcel for the same case, is apperr.Conflict.
	CreateParcel(ctx context.Context, p Parcel) error
	// GetParcel returns a parcel by ID; an unknown ID is apperr.NotFound.
	GetParcel(ctx context.Context, id string) (Parcel, error)
	// GetParcelByCase returns the parcel of a case, or apperr.NotFound.
	GetParcelByCase(ctx context.Context, caseID string) (Parcel, error)
	// UpdateParcel replaces a parcel with p if the stored revision is
	// still p.Rev-1, in one conditional single-document write; otherwise
	// it returns apperr.VersionConflict and changes nothing. An unknown
	// parcel is apperr.NotFound.
	UpdateParcel(ctx context.Context, p Parcel) error
	// ListParcels returns the parcels f selects, newest first (by ID,
	// descending: IDs sort by creation time).
	ListParcels(ctx context.Context, f Filter) ([]Parcel, error)
}

// Filter selects parcels; empty fields do not filter.
type Filter struct {
	Center  string
	Courier string
	// Statuses limits to these statuses; empty means any.
	Statuses []Status
	// Alert keeps only parcels with an alert for the center.
	Alert bool
	// After is the ID to continue after (the list is by ID, descending).
	After string
	// Limit caps the result; 0 means no cap.
	Limit int
}
