package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
	"github.com/banhao/banhao/printing"
)

// TestPrintStoreContract is the contract of printing.PrintStore.
func TestPrintStoreContract(t *testing.T) {
	runContract(t, pickPrints, printScenarios)
}

// pickPrints builds the print record store on the backend's raw database.
func pickPrints(s stores) printing.PrintStore {
	if s.sqlite != nil {
		return sqlite.NewPrintStore(s.sqlite)
	}
	return mongo.NewPrintStore(s.mongo)
}

var printScenarios = []scenario[printing.PrintStore]{
	{"a record created reads back equal, times in UTC to the millisecond", testPrintCreateGet},
	{"an unknown certificate has no record, and updating one is not found", testPrintNotFound},
	{"an update from the stored revision wins; a stale one is a version conflict and changes nothing", testPrintConditional},
	{"creating a record that exists is a version conflict", testPrintCreateTwice},
	{"two concurrent updates from one revision: exactly one wins", testPrintConcurrent},
	{"records are per certificate", testPrintPerCertificate},
}

// prAt is the print scenarios' "now": a zone and nanoseconds, so that a
// store keeping either wrong is caught.
var prAt = time.Date(2026, 11, 25, 9, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// prRecord is the record of a certificate printed once at a kiosk: a
// failed job (paper jam), then the printed original, and a copy approved.
func prRecord(cert string) printing.Record {
	return printing.Record{
		Certificate: cert, Holder: "id:aaaa", Original: true, Rev: 1,
		Jobs: []printing.Job{
			{ID: "pj-" + cert + "-1", Kiosk: "ks01", Status: printing.JobFailed, Reason: "卡纸", Created: prAt, Done: prAt.Add(time.Minute)},
			{ID: "pj-" + cert + "-2", Kiosk: "ks02", Status: printing.JobPrinted, Created: prAt.Add(2 * time.Minute), Done: prAt.Add(3 * time.Minute)},
			{ID: "pj-" + cert + "-3", Kiosk: "ks02", Copy: true, Status: printing.JobCreated, Created: prAt.Add(4 * time.Minute)},
		},
		Approvals: []printing.Approval{{Staff: "st01", Reason: "原件遗失", At: prAt.Add(150 * time.Second)}},
	}
}

// storedPrintRecord is how a store returns a record it was given.
func storedPrintRecord(r printing.Record) printing.Record {
	r.Jobs = append([]printing.Job{}, r.Jobs...)
	r.Approvals = append([]printing.Approval{}, r.Approvals...)
	for i := range r.Jobs {
		r.Jobs[i].Created, r.Jobs[i].Done = stored(r.Jobs[i].Created), stored(r.Jobs[i].Done)
	}
	for i := range r.Approvals {
		r.Approvals[i].At = stored(r.Approvals[i].At)
	}
	return r
}

func getRecord(t *testing.T, s printing.PrintStore, cert string) printing.Record {
	t.Helper()
	r, err := s.GetPrintRecord(t.Context(), cert)
	if err != nil {
		t.Fatalf("get print record of %s: %v", cert, err)
	}
	return r
}

func sameRecord(t *testing.T, what string, got, want printing.Record) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, j := range got.Jobs {
		for _, tm := range []time.Time{j.Created, j.Done} {
			if tm.Location() != time.UTC {
				t.Errorf("%s: job %s has a time in %v, want UTC", what, j.ID, tm.Location())
			}
		}
	}
}

func testPrintCreateGet(t *testing.T, s printing.PrintStore) {
	r := prRecord("ec01")
	if err := s.PutPrintRecord(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	got := getRecord(t, s, "ec01")
	sameRecord(t, "record read back", got, storedPrintRecord(r))
	if !got.Jobs[2].Done.IsZero() {
		t.Errorf("an unset Done came back as %v", got.Jobs[2].Done)
	}
	// A record with nothing in it yet keeps empty lists, not nil ones.
	empty := printing.Record{Certificate: "ec02", Holder: "id:bbbb", Jobs: []printing.Job{}, Approvals: []printing.Approval{}, Rev: 1}
	if err := s.PutPrintRecord(t.Context(), empty); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "empty record read back", getRecord(t, s, "ec02"), empty)
}

func testPrintNotFound(t *testing.T, s printing.PrintStore) {
	if _, err := s.GetPrintRecord(t.Context(), "ec-none"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("get unknown: %v, want not_found", err)
	}
	r := prRecord("ec-none")
	r.Rev = 2
	if err := s.PutPrintRecord(t.Context(), r); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("update unknown: %v, want not_found", err)
	}
	if _, err := s.GetPrintRecord(t.Context(), "ec-none"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("the refused update created a record: %v", err)
	}
}

func testPrintConditional(t *testing.T, s printing.PrintStore) {
	r := prRecord("ec01")
	if err := s.PutPrintRecord(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	next := getRecord(t, s, "ec01")
	next.Jobs[2].Status, next.Jobs[2].Done = printing.JobDownloaded, prAt.Add(5*time.Minute)
	next.Rev = 2
	if err := s.PutPrintRecord(t.Context(), next); err != nil {
		t.Fatalf("update from revision 1: %v", err)
	}
	sameRecord(t, "updated record", getRecord(t, s, "ec01"), storedPrintRecord(next))

	// A change decided on revision 1, written after revision 2.
	stale := prRecord("ec01")
	stale.Approvals = nil
	stale.Rev = 2
	if err := s.PutPrintRecord(t.Context(), stale); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("stale update: %v, want version_conflict", err)
	}
	// A revision from the future is as stale.
	ahead := next
	ahead.Rev = 5
	if err := s.PutPrintRecord(t.Context(), ahead); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("update skipping revisions: %v, want version_conflict", err)
	}
	sameRecord(t, "record after refused updates", getRecord(t, s, "ec01"), storedPrintRecord(next))
}

func testPrintCreateTwice(t *testing.T, s printing.PrintStore) {
	r := prRecord("ec01")
	if err := s.PutPrintRecord(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	other := prRecord("ec01")
	other.Holder = "id:other"
	if err := s.PutPrintRecord(t.Context(), other); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("second create: %v, want version_conflict", err)
	}
	sameRecord(t, "record after a refused create", getRecord(t, s, "ec01"), storedPrintRecord(r))
}

func testPrintConcurrent(t *testing.T, s printing.PrintStore) {
	base := prRecord("ec01")
	base.Jobs, base.Original = base.Jobs[:1], false
	if err := s.PutPrintRecord(t.Context(), base); err != nil {
		t.Fatal(err)
	}
	// Two kiosks start the original, both having read revision 1.
	const n = 2
	read := make([]printing.Record, n)
	for i := range read {
		read[i] = getRecord(t, s, "ec01")
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			r := read[i]
			r.Jobs = append(r.Jobs, printing.Job{ID: "pj-ec01-2", Kiosk: []string{"ksA", "ksB"}[i], Status: printing.JobCreated, Created: prAt})
			r.Rev++
			<-start
			errs[i] = s.PutPrintRecord(t.Context(), r)
		})
	}
	close(start)
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won < 0:
			won = i
		case err == nil:
			t.Fatalf("both updates from revision 1 won")
		case !apperr.Is(err, apperr.VersionConflict):
			t.Errorf("update %d: %v, want nil or version_conflict", i, err)
		}
	}
	if won < 0 {
		t.Fatalf("no update won: %v", errs)
	}
	got := getRecord(t, s, "ec01")
	if got.Rev != 2 || len(got.Jobs) != 2 || got.Jobs[1].Kiosk != []string{"ksA", "ksB"}[won] {
		t.Errorf("stored %+v; want revision 2 with the winner's job", got)
	}
}

func testPrintPerCertificate(t *testing.T, s printing.PrintStore) {
	a, b := prRecord("ec01"), prRecord("ec02")
	b.Holder, b.Original = "id:bbbb", false
	for _, r := range []printing.Record{a, b} {
		if err := s.PutPrintRecord(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	a2 := getRecord(t, s, "ec01")
	a2.Approvals[0].Used, a2.Rev = "pj-ec01-3", 2
	if err := s.PutPrintRecord(t.Context(), a2); err != nil {
		t.Fatal(err)
	}
	sameRecord(t, "the other certificate's record", getRecord(t, s, "ec02"), storedPrintRecord(b))
	sameRecord(t, "the changed record", getRecord(t, s, "ec01"), storedPrintRecord(a2))
}
