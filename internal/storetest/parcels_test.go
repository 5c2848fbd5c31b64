package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestParcelStoreContract is the contract of delivery.Store.
func TestParcelStoreContract(t *testing.T) {
	runContract(t, pickParcels, parcelScenarios)
}

// pickParcels builds the parcel store on the backend's raw database.
func pickParcels(s stores) delivery.Store {
	if s.sqlite != nil {
		return sqlite.NewParcelStore(s.sqlite)
	}
	return mongo.NewParcelStore(s.mongo)
}

var parcelScenarios = []scenario[delivery.Store]{
	{"a created parcel reads back whole, by ID and by case", testParcelCreateGet},
	{"times come back in UTC to the millisecond", testParcelTimes},
	{"unknown IDs and cases are not found", testParcelNotFound},
	{"a second parcel with a stored ID or for the same case is a conflict and changes nothing", testParcelDuplicate},
	{"an update from the stored revision is stored; a stale one is a version conflict", testParcelUpdate},
	{"of two couriers picking up at once exactly one wins", testParcelPickupRace},
	{"of concurrent deliveries and wrong codes from one revision exactly one applies", testParcelDeliverRace},
	{"lists: by center, courier, status and alert, newest first, paged without gaps", testParcelList},
}

// pcAt is the scenarios' "now": UTC, whole milliseconds.
var pcAt = time.Date(2026, 11, 25, 9, 30, 15, 123_000_000, time.UTC)

// pcParcel is a parcel as the service makes it when the citizen gives an
// address: waiting for its certificate, one history line.
func pcParcel(id, caseID, center string) delivery.Parcel {
	return delivery.Parcel{
		ID: id, Case: caseID, CaseNumber: "HM" + caseID, Center: center, MatterName: "个体工商户设立登记",
		CertificateType: "营业执照", Holder: "id:alice", Citizen: "citizen:ct01",
		Recipient: delivery.Recipient{NameSealed: "v1.k1.bmFtZQ", PhoneSealed: "v1.k1.cGhvbmU", AddressSealed: "v1.k1.YWRkcg",
			NameMasked: "张**", PhoneMasked: "138****8000"},
		Status:    delivery.StatusAwaitingCertificate,
		History:   []delivery.Event{{At: pcAt, Action: "address", Status: delivery.StatusAwaitingCertificate, Note: "已登记收件地址", Actor: "citizen:ct01"}},
		CreatedAt: pcAt, UpdatedAt: pcAt, Rev: 1,
	}
}

// pcFull is a parcel with every part set, its times made by tm.
func pcFull(tm func(time.Time) time.Time) delivery.Parcel {
	t := func(d time.Duration) time.Time { return tm(pcAt.Add(d)) }
	p := pcParcel("pc019ab0000001aaaaaaaaaaaaaaaa", "cs01", "hm")
	p.Certificate, p.Company, p.Tracking = "ec01", "中国邮政EMS", "EX0000000001"
	p.DispatchError = ""
	p.Courier, p.CourierName = "st07", "赵师傅"
	p.Status = delivery.StatusFailedAttempt
	p.CodeHash, p.Trips = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 2
	p.Tries = []delivery.CourierTries{{Courier: "st07", Wrong: 2}, {Courier: "st08", Wrong: 5, LockedAt: t(3 * time.Hour)}}
	p.Attempts = []delivery.Attempt{{At: t(4 * time.Hour), Courier: "st07", Reason: "家中无人"}}
	p.Alert = "快递员钱师傅签收码连续输错 5 次，已锁定，请核实并改派"
	p.History = []delivery.Event{
		{At: t(0), Action: "address", Status: delivery.StatusAwaitingCertificate, Note: "已登记收件地址", Actor: "citizen:ct01"},
		{At: t(time.Hour), Action: "dispatch", Status: delivery.StatusReady, Note: "证照已交寄", Actor: "system"},
		{At: t(3 * time.Hour), Action: "code_locked", Status: delivery.StatusPickedUp, Actor: "courier:st08"},
		{At: t(4 * time.Hour), Action: "fail", Status: delivery.StatusFailedAttempt, Note: "投递未成功：家中无人", Actor: "courier:st07"},
	}
	p.CreatedAt, p.UpdatedAt = t(0), t(4*time.Hour)
	p.Rev = 7
	return p
}

func pcSame(t *testing.T, what string, got, want delivery.Parcel) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func pcCreate(t *testing.T, s delivery.Store, ps ...delivery.Parcel) {
	t.Helper()
	for _, p := range ps {
		if err := s.CreateParcel(t.Context(), p); err != nil {
			t.Fatalf("create parcel %s: %v", p.ID, err)
		}
	}
}

func pcGet(t *testing.T, s delivery.Store, id string) delivery.Parcel {
	t.Helper()
	p, err := s.GetParcel(t.Context(), id)
	if err != nil {
		t.Fatalf("get parcel %s: %v", id, err)
	}
	return p
}

func pcWantList(t *testing.T, s delivery.Store, f delivery.Filter, want ...string) {
	t.Helper()
	got, err := s.ListParcels(t.Context(), f)
	if err != nil {
		t.Fatalf("list parcels %+v: %v", f, err)
	}
	if got == nil {
		t.Errorf("list parcels %+v is nil, want an empty list", f)
	}
	ids := make([]string, len(got))
	for i, p := range got {
		ids[i] = p.ID
	}
	if !slices.Equal(ids, want) {
		t.Errorf("list %+v:\n got %q\nwant %q", f, ids, want)
	}
}

func testParcelCreateGet(t *testing.T, s delivery.Store) {
	full := pcFull(func(t time.Time) time.Time { return t })
	small := pcParcel("pc019ab0000002bbbbbbbbbbbbbbbb", "cs02", "hm")
	pcCreate(t, s, full, small)
	pcSame(t, "full by ID", pcGet(t, s, full.ID), full)
	got, err := s.GetParcelByCase(t.Context(), "cs01")
	if err != nil {
		t.Fatalf("by case: %v", err)
	}
	pcSame(t, "full by case", got, full)
	pcSame(t, "small by ID", pcGet(t, s, small.ID), small)
}

func testParcelTimes(t *testing.T, s delivery.Store) {
	zone := time.FixedZone("CST", 8*3600)
	nanos := func(v time.Time) time.Time { return v.In(zone).Add(456_789 * time.Nanosecond) }
	pcCreate(t, s, pcFull(nanos))
	want := pcFull(func(v time.Time) time.Time { return v })
	pcSame(t, "read back", pcGet(t, s, want.ID), want)
}

func testParcelNotFound(t *testing.T, s delivery.Store) {
	pcCreate(t, s, pcParcel("pc019ab0000001aaaaaaaaaaaaaaaa", "cs01", "hm"))
	if _, err := s.GetParcel(t.Context(), "pc-none"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("get unknown: %v", err)
	}
	if _, err := s.GetParcelByCase(t.Context(), "cs-none"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("get by unknown case: %v", err)
	}
	p := pcParcel("pc-none", "cs-none", "hm")
	p.Rev = 2
	if err := s.UpdateParcel(t.Context(), p); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("update unknown: %v", err)
	}
}

func testParcelDuplicate(t *testing.T, s delivery.Store) {
	first := pcParcel("pc019ab0000001aaaaaaaaaaaaaaaa", "cs01", "hm")
	pcCreate(t, s, first)
	sameID := pcParcel(first.ID, "cs02", "lz")
	if err := s.CreateParcel(t.Context(), sameID); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("same ID: %v, want a conflict", err)
	}
	sameCase := pcParcel("pc019ab0000002bbbbbbbbbbbbbbbb", "cs01", "hm")
	if err := s.CreateParcel(t.Context(), sameCase); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("same case: %v, want a conflict", err)
	}
	pcSame(t, "first", pcGet(t, s, first.ID), first)
	if _, err := s.GetParcel(t.Context(), sameCase.ID); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("the refused parcel was stored: %v", err)
	}
	pcWantList(t, s, delivery.Filter{}, first.ID)
}

func testParcelUpdate(t *testing.T, s delivery.Store) {
	p := pcParcel("pc019ab0000001aaaaaaaaaaaaaaaa", "cs01", "hm")
	pcCreate(t, s, p)
	ready := p
	ready.Rev = 2
	ready.Status, ready.Company, ready.Tracking = delivery.StatusReady, "中国邮政EMS", "EX0000000001"
	ready.Courier, ready.CourierName = "st07", "赵师傅"
	ready.History = append(slices.Clone(p.History), delivery.Event{At: pcAt.Add(time.Hour), Action: "dispatch", Status: delivery.StatusReady, Note: "已交寄"})
	ready.UpdatedAt = pcAt.Add(time.Hour)
	if err := s.UpdateParcel(t.Context(), ready); err != nil {
		t.Fatal(err)
	}
	pcSame(t, "after update", pcGet(t, s, p.ID), ready)
	pcWantList(t, s, delivery.Filter{Courier: "st07", Statuses: []delivery.Status{delivery.StatusReady}}, p.ID)
	pcWantList(t, s, delivery.Filter{Statuses: []delivery.Status{delivery.StatusAwaitingCertificate}})

	stale := ready
	stale.Status = delivery.StatusReturned
	if err := s.UpdateParcel(t.Context(), stale); !apperr.Is(err, apperr.VersionConflict) {
		t.Errorf("stale update: %v, want a version conflict", err)
	}
	skip := ready
	skip.Rev = 4
	if err := s.UpdateParcel(t.Context(), skip); !apperr.Is(err, apperr.VersionConflict) {
		t.Errorf("skipped revision: %v, want a version conflict", err)
	}
	pcSame(t, "after refused updates", pcGet(t, s, p.ID), ready)

	// An update cannot take the case of another parcel.
	other := pcParcel("pc019ab0000002bbbbbbbbbbbbbbbb", "cs02", "hm")
	pcCreate(t, s, other)
	steal := other
	steal.Rev, steal.Case = 2, "cs01"
	if err := s.UpdateParcel(t.Context(), steal); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("update to a taken case: %v, want a conflict", err)
	}
	pcSame(t, "other after refused update", pcGet(t, s, other.ID), other)
}

// race runs the changes at once from one revision and returns the index
// of the one that won, failing unless exactly one did and the others
// were version conflicts.
func race(t *testing.T, s delivery.Store, round int, changes []delivery.Parcel) int {
	t.Helper()
	errs := make([]error, len(changes))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range changes {
		wg.Go(func() {
			<-start
			errs[i] = s.UpdateParcel(t.Context(), changes[i])
		})
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("round %d: updates %d and %d both won", round, winner, i)
		case err == nil:
			winner = i
		case !apperr.Is(err, apperr.VersionConflict):
			t.Fatalf("round %d: update %d: %v, want a version conflict", round, i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("round %d: no update won: %v", round, errs)
	}
	return winner
}

func testParcelPickupRace(t *testing.T, s delivery.Store) {
	for r := range 10 {
		p := pcParcel(fmt.Sprintf("pc019ab00000%02daaaaaaaaaaaaaaaa", r), fmt.Sprintf("cs%02d", r), "hm")
		p.Status, p.Tracking, p.Courier = delivery.StatusReady, "EX1", "st07"
		pcCreate(t, s, p)
		// The assigned courier scans at the counter while a clerk moves
		// the parcel to another courier.
		pickup := p
		pickup.Rev, pickup.Status, pickup.Trips, pickup.CodeHash = 2, delivery.StatusPickedUp, 1, "hash-1"
		reassign := p
		reassign.Rev, reassign.Courier = 2, "st08"
		changes := []delivery.Parcel{pickup, reassign}
		w := race(t, s, r, changes)
		pcSame(t, fmt.Sprintf("round %d", r), pcGet(t, s, p.ID), changes[w])
	}
}

func testParcelDeliverRace(t *testing.T, s delivery.Store) {
	for r := range 10 {
		p := pcParcel(fmt.Sprintf("pc019ab00000%02daaaaaaaaaaaaaaaa", r), fmt.Sprintf("cs%02d", r), "hm")
		p.Status, p.Tracking, p.Courier, p.Trips, p.CodeHash = delivery.StatusPickedUp, "EX1", "st07", 1, "hash-1"
		p.Rev = 3
		pcCreate(t, s, p)
		deliver := p
		deliver.Rev, deliver.Status, deliver.CodeHash, deliver.DeliveredAt = 4, delivery.StatusDelivered, "", pcAt.Add(time.Hour)
		wrong := p
		wrong.Rev, wrong.Tries = 4, []delivery.CourierTries{{Courier: "st07", Wrong: 1}}
		fail := p
		fail.Rev, fail.Status = 4, delivery.StatusFailedAttempt
		fail.Attempts = []delivery.Attempt{{At: pcAt.Add(time.Hour), Courier: "st07", Reason: "家中无人"}}
		changes := []delivery.Parcel{deliver, wrong, fail, deliver}
		w := race(t, s, r, changes)
		pcSame(t, fmt.Sprintf("round %d", r), pcGet(t, s, p.ID), changes[w])
	}
}

func testParcelList(t *testing.T, s delivery.Store) {
	// IDs sort by creation time, as the service makes them.
	mk := func(n int, center, courier string, st delivery.Status, alert bool) delivery.Parcel {
		p := pcParcel(fmt.Sprintf("pc019ab00000%02daaaaaaaaaaaaaaaa", n), fmt.Sprintf("cs%02d", n), center)
		p.Courier, p.Status = courier, st
		if alert {
			p.Alert = "已锁定"
		}
		return p
	}
	ps := []delivery.Parcel{
		mk(1, "hm", "", delivery.StatusAwaitingCertificate, false),
		mk(2, "hm", "st07", delivery.StatusReady, false),
		mk(3, "lz", "st09", delivery.StatusPickedUp, false),
		mk(4, "hm", "st07", delivery.StatusPickedUp, true),
		mk(5, "hm", "st08", delivery.StatusDelivered, false),
		mk(6, "hm", "st07", delivery.StatusFailedAttempt, false),
		mk(7, "hm", "st07", delivery.StatusDelivered, false),
	}
	// Stored out of order: the list order is by ID, not by insertion.
	for _, i := range []int{3, 0, 6, 1, 5, 2, 4} {
		pcCreate(t, s, ps[i])
	}
	id := func(ns ...int) []string {
		out := make([]string, len(ns))
		for i, n := range ns {
			out[i] = ps[n-1].ID
		}
		return out
	}
	pcWantList(t, s, delivery.Filter{}, id(7, 6, 5, 4, 3, 2, 1)...)
	pcWantList(t, s, delivery.Filter{Center: "hm"}, id(7, 6, 5, 4, 2, 1)...)
	pcWantList(t, s, delivery.Filter{Courier: "st07"}, id(7, 6, 4, 2)...)
	active := []delivery.Status{delivery.StatusReady, delivery.StatusPickedUp, delivery.StatusFailedAttempt}
	pcWantList(t, s, delivery.Filter{Courier: "st07", Statuses: active}, id(6, 4, 2)...)
	pcWantList(t, s, delivery.Filter{Center: "hm", Alert: true}, id(4)...)
	pcWantList(t, s, delivery.Filter{Center: "lz", Courier: "st07"})
	pcWantList(t, s, delivery.Filter{Statuses: []delivery.Status{delivery.StatusReturned}})

	// Pages of two walk the center's list without gaps or repeats.
	var got []string
	after := ""
	for page := 0; page < 10; page++ {
		list, err := s.ListParcels(t.Context(), delivery.Filter{Center: "hm", After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range list {
			got = append(got, p.ID)
		}
		if len(list) < 2 {
			break
		}
		after = list[len(list)-1].ID
	}
	if want := id(7, 6, 5, 4, 2, 1); !slices.Equal(got, want) {
		t.Errorf("pages:\n got %q\nwant %q", got, want)
	}
}
