package sqlite

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/printing"
)

// PrintStore implements printing.PrintStore: the print record of a
// certificate is one row, the record as JSON in doc with its revision
// beside it, changed by one UPDATE conditional on rev. The row's key is
// the certificate, so there is one record per certificate.
//
// Times come back in UTC to the millisecond, as from MongoDB.
type PrintStore struct {
	db *DB
}

var _ printing.PrintStore = (*PrintStore)(nil)

// NewPrintStore returns the print record store on db.
func NewPrintStore(db *DB) *PrintStore { return &PrintStore{db: db} }

func errNoPrintRecord() error {
	return apperr.New(apperr.NotFound, "这份电子证照没有打印记录")
}

func errPrintRecordChanged() error {
	return apperr.New(apperr.VersionConflict, "打印记录已被更新，请重试")
}

func scanPrintRecord(sc scanner) (printing.Record, error) {
	var r printing.Record
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return r, err
	}
	if err := json.Unmarshal([]byte(doc), &r); err != nil {
		return r, fmt.Errorf("print record document: %w", err)
	}
	utcMillis(reflect.ValueOf(&r).Elem())
	if r.Jobs == nil {
		r.Jobs = []printing.Job{}
	}
	if r.Approvals == nil {
		r.Approvals = []printing.Approval{}
	}
	return r, nil
}

// GetPrintRecord implements printing.PrintStore.
func (s *PrintStore) GetPrintRecord(ctx context.Context, cert string) (printing.Record, error) {
	r, err := queryOne(ctx, s.db, scanPrintRecord, errNoPrintRecord(), `SELECT doc FROM print_records WHERE certificate = ?`, cert)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return printing.Record{}, fmt.Errorf("sqlite: get print record of %s: %w", cert, err)
	}
	return r, err
}

// PutPrintRecord implements printing.PrintStore: revision 1 is an INSERT,
// which a record already there makes a version conflict (someone else
// created it first); a later revision is an UPDATE of the row holding
// r.Rev-1, and when that changes nothing a look at the key tells an
// unknown record from a lost race.
func (s *PrintStore) PutPrintRecord(ctx context.Context, r printing.Record) error {
	if r.Certificate == "" || r.Rev < 1 {
		return fmt.Errorf("sqlite: put print record %q at revision %d: want a certificate and a revision from 1", r.Certificate, r.Rev)
	}
	doc, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("sqlite: put print record of %s: %w", r.Certificate, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		if r.Rev == 1 {
			_, err := tx.Exec(`INSERT INTO print_records (certificate, rev, doc) VALUES (?, ?, ?)`, r.Certificate, r.Rev, string(doc))
			switch {
			case isUnique(err):
				return errPrintRecordChanged()
			case err != nil:
				return fmt.Errorf("sqlite: create print record of %s: %w", r.Certificate, err)
			}
			return nil
		}
		res, err := tx.Exec(`UPDATE print_records SET rev = ?, doc = ? WHERE certificate = ? AND rev = ?`,
			r.Rev, string(doc), r.Certificate, r.Rev-1)
		if err != nil {
			return fmt.Errorf("sqlite: update print record of %s: %w", r.Certificate, err)
		}
		return revised(tx, res, "print_records", "certificate", r.Certificate, errNoPrintRecord, errPrintRecordChanged)
	})
}
