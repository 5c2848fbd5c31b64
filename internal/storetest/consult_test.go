package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestConsultStoreContract is the contract of consult.Store.
func TestConsultStoreContract(t *testing.T) {
	runContract(t, func(s stores) consult.Store {
		if s.sqlite != nil {
			return sqlite.NewConsultStore(s.sqlite)
		}
		return mongo.NewConsultStore(s.mongo)
	}, []scenario[consult.Store]{
		{"a thread reads back whole, times in UTC to the millisecond", testThreadRoundTrip},
		{"unknown is not found; a duplicate ID is a conflict", testThreadMissingAndDuplicate},
		{"updates build on the stored revision; stale ones conflict; unknown ones are not found", testThreadUpdate},
		{"of two concurrent updates from one revision exactly one wins", testThreadRace},
		{"lists: owner by holder or account, center, sectors, states, quiet, orders, limit", testThreadLists},
		{"FAQs list by matter, oldest first, or all", testFAQs},
	})
}

var qaAt = time.Date(2026, 11, 25, 1, 0, 0, 0, time.UTC)

func qaThread(id, holder, citizen, sector string, created time.Time, due time.Time) consult.Thread {
	return consult.Thread{ID: id, Holder: holder, Citizen: citizen, Center: "hm", Sector: sector, Channel: "mp",
		Messages: []consult.Message{{From: consult.FromCitizen, Text: "问题<b>一</b>", At: created}},
		State:    consult.StateOpen, Clock: deadline.Clock{Start: created, Days: 1}, DueAt: due,
		CreatedAt: created, UpdatedAt: created, Rev: 1}
}

func qaIDs(t *testing.T, s consult.Store, f consult.Filter) []string {
	t.Helper()
	list, err := s.ListThreads(t.Context(), f)
	if err != nil {
		t.Fatal(err)
	}
	if list == nil {
		t.Fatal("nil list")
	}
	ids := []string{}
	for _, th := range list {
		ids = append(ids, th.ID)
	}
	return ids
}

func testThreadRoundTrip(t *testing.T, s consult.Store) {
	zone := time.FixedZone("CST", 8*3600)
	at := qaAt.In(zone).Add(123456789 * time.Nanosecond)
	th := qaThread("qa1", "id:alice", "citizen:a", "housing-fund", at, at.Add(24*time.Hour))
	th.Matter, th.MatterName = "hm-gjj-loan", "住房公积金个人住房贷款"
	th.Messages = append(th.Messages, consult.Message{From: consult.FromStaff, Text: "答复", At: at, StaffID: "st1"},
		consult.Message{From: consult.FromCitizen, Text: "追问", At: at, Held: true})
	if err := s.CreateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetThread(t.Context(), "qa1")
	if err != nil {
		t.Fatal(err)
	}
	want := th
	norm := func(v time.Time) time.Time { return v.UTC().Truncate(time.Millisecond) }
	want.CreatedAt, want.UpdatedAt, want.DueAt, want.Clock.Start = norm(at), norm(at), norm(at.Add(24*time.Hour)), norm(at)
	want.Messages = slices.Clone(th.Messages)
	for i := range want.Messages {
		want.Messages[i].At = norm(at)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back\n got %+v\nwant %+v", got, want)
	}
}

func testThreadMissingAndDuplicate(t *testing.T, s consult.Store) {
	if _, err := s.GetThread(t.Context(), "nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
	th := qaThread("qa1", "", "citizen:a", "tax", qaAt, qaAt)
	if err := s.CreateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateThread(t.Context(), th); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("duplicate: %v", err)
	}
}

func testThreadUpdate(t *testing.T, s consult.Store) {
	th := qaThread("qa1", "", "citizen:a", "tax", qaAt, qaAt.Add(time.Hour))
	if err := s.CreateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	th.Rev, th.State, th.DueAt = 2, consult.StateAnswered, time.Time{}
	if err := s.UpdateThread(t.Context(), th); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateThread(t.Context(), th); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("stale: %v", err)
	}
	th.Rev = 5
	if err := s.UpdateThread(t.Context(), th); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("skipped: %v", err)
	}
	got, _ := s.GetThread(t.Context(), "qa1")
	if got.Rev != 2 || got.State != consult.StateAnswered || !got.DueAt.IsZero() {
		t.Fatalf("stored %+v", got)
	}
	if ids := qaIDs(t, s, consult.Filter{States: []consult.State{consult.StateAnswered}}); !slices.Equal(ids, []string{"qa1"}) {
		t.Fatalf("listed by new state: %v", ids)
	}
	th.ID, th.Rev = "nope", 2
	if err := s.UpdateThread(t.Context(), th); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

func testThreadRace(t *testing.T, s consult.Store) {
	for r := range 10 {
		th := qaThread(fmt.Sprintf("qa%02d", r), "", "citizen:a", "tax", qaAt, qaAt)
		if err := s.CreateThread(t.Context(), th); err != nil {
			t.Fatal(err)
		}
		a, b := th, th
		a.Rev, a.State = 2, consult.StateAnswered
		b.Rev, b.State = 2, consult.StateClosed
		var errs [2]error
		var wg sync.WaitGroup
		for i, v := range []consult.Thread{a, b} {
			wg.Go(func() { errs[i] = s.UpdateThread(t.Context(), v) })
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			switch {
			case err == nil:
				won++
			case !apperr.Is(err, apperr.VersionConflict):
				t.Fatalf("round %d: %v", r, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d won", r, won)
		}
	}
}

func testThreadLists(t *testing.T, s consult.Store) {
	m := func(n int) time.Time { return qaAt.Add(time.Duration(n) * time.Minute) }
	for _, th := range []consult.Thread{
		qaThread("qa1", "id:alice", "", "tax", m(1), m(30)),
		qaThread("qa2", "", "citizen:alice", "housing-fund", m(2), m(20)),
		qaThread("qa3", "id:bob", "citizen:bob", "tax", m(3), time.Time{}),
		qaThread("qa4", "id:carol", "citizen:carol", "tax", m(4), m(10)),
	} {
		if err := s.CreateThread(t.Context(), th); err != nil {
			t.Fatal(err)
		}
	}
	other := qaThread("qa5", "id:alice", "", "tax", m(5), m(5))
	other.Center = "hm-lizhuang"
	other.State = consult.StateAnswered
	if err := s.CreateThread(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    consult.Filter
		want []string
	}{
		{"holder or account", consult.Filter{Holder: "id:alice", Citizen: "citizen:alice"}, []string{"qa5", "qa2", "qa1"}},
		{"account only", consult.Filter{Citizen: "citizen:alice"}, []string{"qa2"}},
		{"holder only", consult.Filter{Holder: "id:alice"}, []string{"qa5", "qa1"}},
		{"center and sectors by deadline", consult.Filter{Center: "hm", Sectors: []string{"tax"}, Order: consult.ByDeadline}, []string{"qa4", "qa1", "qa3"}},
		{"states", consult.Filter{States: []consult.State{consult.StateAnswered}}, []string{"qa5"}},
		{"updated before", consult.Filter{UpdatedBefore: m(3)}, []string{"qa2", "qa1"}},
		{"limit", consult.Filter{Order: consult.ByDeadline, Limit: 2}, []string{"qa5", "qa4"}},
		{"nobody", consult.Filter{Holder: "id:dave"}, []string{}},
	} {
		if got := qaIDs(t, s, tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func testFAQs(t *testing.T, s consult.Store) {
	for i, q := range []consult.FAQ{
		{ID: "faq2", Center: "hm", Matter: "m1", Question: "问二", Answer: "答二", Thread: "qa2", StaffID: "st", At: qaAt.Add(time.Minute)},
		{ID: "faq1", Center: "hm", Matter: "m1", Question: "问一", Answer: "答一", Thread: "qa1", StaffID: "st", At: qaAt},
		{ID: "faq3", Center: "hm", Matter: "m2", Question: "问三", Answer: "答三", Thread: "qa3", StaffID: "st", At: qaAt.Add(2 * time.Minute)},
	} {
		if err := s.CreateFAQ(t.Context(), q); err != nil {
			t.Fatalf("faq %d: %v", i, err)
		}
	}
	if err := s.CreateFAQ(t.Context(), consult.FAQ{ID: "faq1", Matter: "m9", At: qaAt}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("duplicate: %v", err)
	}
	ids := func(matter string) []string {
		list, err := s.ListFAQs(t.Context(), matter)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, q := range list {
			out = append(out, q.ID)
			if !q.At.Equal(q.At.UTC()) || q.At.Location() != time.UTC {
				t.Errorf("time %v not UTC", q.At)
			}
		}
		return out
	}
	if got := ids("m1"); !slices.Equal(got, []string{"faq1", "faq2"}) {
		t.Errorf("m1: %v", got)
	}
	if got := ids(""); !slices.Equal(got, []string{"faq1", "faq2", "faq3"}) {
		t.Errorf("all: %v", got)
	}
	if got := ids("none"); len(got) != 0 {
		t.Errorf("none: %v", got)
	}
}

// TestComplaintStoreContract is the contract of complaint.Store.
func TestComplaintStoreContract(t *testing.T) {
	runContract(t, func(s stores) complaint.Store {
		if s.sqlite != nil {
			return sqlite.NewComplaintStore(s.sqlite)
		}
		return mongo.NewComplaintStore(s.mongo)
	}, []scenario[complaint.Store]{
		{"a complaint reads back whole; unknown is not found; duplicates conflict", testComplaintRoundTrip},
		{"updates build on the stored revision; stale ones conflict", testComplaintUpdate},
		{"lists: owner, center, sectors, states, orders, limit", testComplaintLists},
	})
}

func cpComplaint(id, holder, citizen, sector string, created, due time.Time) complaint.Complaint {
	return complaint.Complaint{ID: id, Holder: holder, Citizen: citizen, Center: "hm", Sector: sector, Source: complaint.SourceMiniProgram,
		Text: "投诉<script>", State: complaint.StateReceived, Clock: deadline.Clock{Start: created, Days: 5}, DueAt: due,
		CreatedAt: created, UpdatedAt: created, Rev: 1}
}

func testComplaintRoundTrip(t *testing.T, s complaint.Store) {
	c := cpComplaint("cp1", "", "", "hotline-12345", qaAt, qaAt.Add(time.Hour))
	c.Source, c.CallerName, c.CallerPhone, c.EnteredBy, c.Case = complaint.SourceHotline, "k1.sealed-name", "k1.sealed-phone", "st1", "cs1"
	if err := s.CreateComplaint(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetComplaint(t.Context(), "cp1")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("read back %+v, %v\nwant %+v", got, err, c)
	}
	if _, err := s.GetComplaint(t.Context(), "nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if err := s.CreateComplaint(t.Context(), c); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("duplicate: %v", err)
	}
}

func testComplaintUpdate(t *testing.T, s complaint.Store) {
	c := cpComplaint("cp1", "id:a", "", "tax", qaAt, qaAt.Add(time.Hour))
	if err := s.CreateComplaint(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	c.Rev, c.State, c.Answer, c.Handler, c.AnsweredAt, c.DueAt = 2, complaint.StateAnswered, "答复", "st1", qaAt.Add(time.Minute), time.Time{}
	if err := s.UpdateComplaint(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateComplaint(t.Context(), c); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("stale: %v", err)
	}
	if got, _ := s.GetComplaint(t.Context(), "cp1"); !reflect.DeepEqual(got, c) {
		t.Fatalf("stored %+v", got)
	}
	c.ID = "nope"
	if err := s.UpdateComplaint(t.Context(), c); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v", err)
	}
}

func testComplaintLists(t *testing.T, s complaint.Store) {
	m := func(n int) time.Time { return qaAt.Add(time.Duration(n) * time.Minute) }
	for _, c := range []complaint.Complaint{
		cpComplaint("cp1", "id:alice", "", "tax", m(1), m(30)),
		cpComplaint("cp2", "", "citizen:alice", "convenience", m(2), m(20)),
		cpComplaint("cp3", "", "", "tax", m(3), time.Time{}),
	} {
		if err := s.CreateComplaint(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f complaint.Filter) []string {
		list, err := s.ListComplaints(t.Context(), f)
		if err != nil || list == nil {
			t.Fatalf("list: %v %v", list, err)
		}
		out := []string{}
		for _, c := range list {
			out = append(out, c.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    complaint.Filter
		want []string
	}{
		{"owner", complaint.Filter{Holder: "id:alice", Citizen: "citizen:alice"}, []string{"cp2", "cp1"}},
		{"sectors by deadline", complaint.Filter{Center: "hm", Sectors: []string{"tax"}, ByDeadline: true}, []string{"cp1", "cp3"}},
		{"states", complaint.Filter{States: []complaint.State{complaint.StateClosed}}, []string{}},
		{"limit", complaint.Filter{Limit: 1}, []string{"cp3"}},
	} {
		if got := ids(tc.f); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
