package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/printing"
)

// printsColl holds the print record of each e-certificate, _id the
// certificate ID: the primary key is what keeps one record per
// certificate, so the collection needs no index of its own.
const printsColl = "print_records"

// PrintStore is printing.PrintStore on MongoDB. A record is one document,
// {_id, rev, body}, with the record in body by its JSON field names (BSON
// dates for its times, an unset time the zero time, a date in year 1).
// Creating is an insert, which a duplicate _id refuses; an update is one
// replaceOne whose filter holds the revision it replaces, so of two
// updates from one revision exactly one matches, on a sharded cluster too
// (_id is in the filter). No transaction is needed.
type PrintStore struct {
	prints *mongodrv.Collection
}

var _ printing.PrintStore = (*PrintStore)(nil)

// NewPrintStore returns the print record store on db.
func NewPrintStore(db *DB) *PrintStore {
	opts := options.Collection().SetBSONOptions(&options.BSONOptions{UseJSONStructTags: true})
	return &PrintStore{prints: db.db.Collection(printsColl, opts)}
}

// printDoc is a stored print record; see PrintStore.
type printDoc struct {
	ID   string          `bson:"_id"`
	Rev  int             `bson:"rev"`
	Body printing.Record `bson:"body"`
}

func errNoPrintRecord() error {
	return apperr.New(apperr.NotFound, "这份电子证照没有打印记录")
}

func errPrintRecordChanged() error {
	return apperr.New(apperr.VersionConflict, "打印记录已被更新，请重试")
}

// storedRecord is r as stored: every time in UTC to the millisecond.
// It copies the slices, so the caller's record is left alone.
func storedRecord(r printing.Record) printing.Record {
	r.Jobs = append([]printing.Job{}, r.Jobs...)
	r.Approvals = append([]printing.Approval{}, r.Approvals...)
	for i := range r.Jobs {
		storedTimes(&r.Jobs[i].Created, &r.Jobs[i].Done)
	}
	for i := range r.Approvals {
		storedTimes(&r.Approvals[i].At)
	}
	return r
}

// GetPrintRecord implements printing.PrintStore.
func (s *PrintStore) GetPrintRecord(ctx context.Context, cert string) (printing.Record, error) {
	var d printDoc
	err := s.prints.FindOne(ctx, bson.D{{Key: "_id", Value: cert}}).Decode(&d)
	switch {
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return printing.Record{}, errNoPrintRecord()
	case err != nil:
		return printing.Record{}, fmt.Errorf("mongo: get print record of %s: %w", cert, err)
	}
	r := d.Body
	if r.Jobs == nil {
		r.Jobs = []printing.Job{}
	}
	if r.Approvals == nil {
		r.Approvals = []printing.Approval{}
	}
	for i := range r.Jobs {
		utcTimes(&r.Jobs[i].Created, &r.Jobs[i].Done)
	}
	for i := range r.Approvals {
		utcTimes(&r.Approvals[i].At)
	}
	return r, nil
}

// PutPrintRecord implements printing.PrintStore: revision 1 inserts (a
// record already there is a version conflict: another change created it
// first); a later one replaces {_id, rev: r.Rev-1}, and when that matches
// nothing a read of the _id tells an unknown record from a lost race.
func (s *PrintStore) PutPrintRecord(ctx context.Context, r printing.Record) error {
	if r.Certificate == "" || r.Rev < 1 {
		return fmt.Errorf("mongo: put print record %q at revision %d: want a certificate and a revision from 1", r.Certificate, r.Rev)
	}
	d := printDoc{ID: r.Certificate, Rev: r.Rev, Body: storedRecord(r)}
	if r.Rev == 1 {
		_, err := s.prints.InsertOne(ctx, d)
		switch {
		case isDuplicateKey(err):
			return errPrintRecordChanged()
		case err != nil:
			return fmt.Errorf("mongo: create print record of %s: %w", r.Certificate, err)
		}
		return nil
	}
	res, err := s.prints.ReplaceOne(ctx, bson.D{{Key: "_id", Value: r.Certificate}, {Key: "rev", Value: r.Rev - 1}}, d)
	switch {
	case err != nil:
		return fmt.Errorf("mongo: update print record of %s: %w", r.Certificate, err)
	case res.MatchedCount > 0:
		return nil
	}
	err = s.prints.FindOne(ctx, bson.D{{Key: "_id", Value: r.Certificate}}).Err()
	switch {
	case err == nil:
		return errPrintRecordChanged()
	case errors.Is(err, mongodrv.ErrNoDocuments):
		return errNoPrintRecord()
	}
	return fmt.Errorf("mongo: update print record of %s: %w", r.Certificate, err)
}
