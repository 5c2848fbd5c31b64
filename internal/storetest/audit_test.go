package storetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// TestAuditStore is the contract of audit.Store.
func TestAuditStore(t *testing.T) {
	runContract(t, func(s stores) audit.Store { return s.audit }, auditScenarios)
}

var auditScenarios = []scenario[audit.Store]{
	{"appended records read back whole, newest first", testAuditAppendList},
	{"records written through the log list newest first", testAuditLog},
	{"duplicate id is a conflict and keeps the first record", testAuditDuplicate},
	{"list filters", testAuditFilters},
	{"list pages by the before cursor without gaps or repeats", testAuditPages},
	{"limit caps the list; zero or less lists all", testAuditLimit},
}

// auditEntry is the i-th record of a test: one second apart, with an ID
// that sorts by time as audit.NewID makes it. Every field is set.
func auditEntry(i int, actor, subject, center, action string) audit.Record {
	when := at.Add(time.Duration(i)*time.Second + 123456)
	return audit.Record{
		ID: audit.NewID(when), At: when,
		Actor: actor, Role: "clerk", Center: center, Action: action, Subject: subject,
		Target: fmt.Sprintf("case:%03d", i), Purpose: "受理核验", Outcome: audit.OutcomeOK,
		IP: "10.0.0.7", Kiosk: "k1",
	}
}

func storedRecord(r audit.Record) audit.Record {
	r.At = stored(r.At)
	return r
}

func recordIDs(rs []audit.Record) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// newestFirst returns the IDs of rs, newest first.
func newestFirst(rs []audit.Record) []string {
	ids := recordIDs(rs)
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids
}

// appendShuffled appends rs in random order, so that the order of a list
// is the store's doing.
func appendShuffled(t *testing.T, s audit.Store, rs []audit.Record) {
	t.Helper()
	order := slices.Clone(rs)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, r := range order {
		must(t, "append "+r.ID, s.AppendAudit(t.Context(), r))
	}
}

func testAuditAppendList(t *testing.T, s audit.Store) {
	ctx := t.Context()
	login := auditEntry(0, "staff:st1", "", "c1", "login")
	read := auditEntry(1, "staff:st1", "citizen:ci1", "c1", "citizen.read")
	// A refused anonymous request: most fields empty.
	refused := audit.Record{
		ID: audit.NewID(at.Add(2 * time.Second)), At: at.Add(2 * time.Second),
		Actor: "anonymous", Action: "login", Outcome: audit.OutcomeDenied, IP: "10.0.0.9",
	}
	appendShuffled(t, s, []audit.Record{read, refused, login})

	got, err := s.ListAudit(ctx, audit.Filter{})
	must(t, "list", err)
	want := []audit.Record{storedRecord(refused), storedRecord(read), storedRecord(login)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list:\n got %+v\nwant %+v", got, want)
	}
	for _, r := range got {
		if r.At.Location() != time.UTC {
			t.Errorf("record %s: At %v not in UTC", r.ID, r.At)
		}
	}
}

// testAuditLog is the path every handler takes: audit.Log fills in the
// ID, time and outcome, and an auditor lists the newest entries first.
func testAuditLog(t *testing.T, s audit.Store) {
	ctx := t.Context()
	clock := at
	al := audit.NewLog(s, func() time.Time { clock = clock.Add(1500 * time.Microsecond); return clock })
	for _, action := range []string{"login", "matter.revise", "logout"} {
		must(t, "record "+action, al.Record(ctx, audit.Record{Actor: "staff:st1", Center: "c1", Action: action}))
	}
	must(t, "record denied", al.Record(ctx, audit.Record{Actor: "staff:st2", Center: "c1", Action: "staff.create", Outcome: audit.OutcomeDenied}))

	got, err := al.List(ctx, audit.Filter{Actor: "staff:st1"})
	must(t, "list", err)
	var actions []string
	for _, r := range got {
		actions = append(actions, r.Action)
		if r.Outcome != audit.OutcomeOK || r.At.Before(at) || r.At.Location() != time.UTC {
			t.Errorf("record %+v: want outcome ok and a UTC time after %v", r, at)
		}
	}
	if want := []string{"logout", "matter.revise", "login"}; !slices.Equal(actions, want) {
		t.Errorf("actions of staff:st1: got %v, want %v", actions, want)
	}
	got, err = al.List(ctx, audit.Filter{})
	must(t, "list all", err)
	if len(got) != 4 || got[0].Outcome != audit.OutcomeDenied {
		t.Errorf("list all: got %+v, want 4 records, the denied one first", got)
	}
}

func testAuditDuplicate(t *testing.T, s audit.Store) {
	ctx := t.Context()
	first := auditEntry(0, "staff:st1", "citizen:ci1", "c1", "citizen.read")
	must(t, "append", s.AppendAudit(ctx, first))
	forged := first
	forged.Actor, forged.Purpose = "staff:st9", "改写历史"
	wantCode(t, "append with a taken id", s.AppendAudit(ctx, forged), apperr.Conflict)

	got, err := s.ListAudit(ctx, audit.Filter{})
	must(t, "list", err)
	if want := []audit.Record{storedRecord(first)}; !reflect.DeepEqual(got, want) {
		t.Errorf("after a duplicate append:\n got %+v\nwant %+v", got, want)
	}
}

func testAuditFilters(t *testing.T, s audit.Store) {
	ctx := t.Context()
	rs := []audit.Record{
		auditEntry(0, "staff:st1", "", "c1", "login"),
		auditEntry(1, "staff:st1", "citizen:ci1", "c1", "citizen.read"),
		auditEntry(2, "staff:st2", "citizen:ci1", "c1", "citizen.read"),
		auditEntry(3, "citizen:ci1", "citizen:ci1", "", "appointment.create"),
		auditEntry(4, "staff:st3", "citizen:ci2", "c2", "citizen.read"),
		auditEntry(5, "staff:st3", "", "c2", "login"),
		auditEntry(6, "cli", "", "", "staff.create"),
		auditEntry(7, "staff:st1", "citizen:ci2", "c1", "citizen.read"),
	}
	appendShuffled(t, s, rs)
	ids := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, rs[i].ID)
		}
		return out
	}
	// Before as a time: every record of an earlier millisecond.
	beforeTime := fmt.Sprintf("%012x", rs[4].At.UnixMilli())
	for _, tc := range []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"no filter", audit.Filter{}, ids(7, 6, 5, 4, 3, 2, 1, 0)},
		{"actor", audit.Filter{Actor: "staff:st1"}, ids(7, 1, 0)},
		{"subject: one citizen's data use", audit.Filter{Subject: "citizen:ci1"}, ids(3, 2, 1)},
		{"center", audit.Filter{Center: "c2"}, ids(5, 4)},
		{"action", audit.Filter{Action: "citizen.read"}, ids(7, 4, 2, 1)},
		{"actor and subject", audit.Filter{Actor: "staff:st1", Subject: "citizen:ci2"}, ids(7)},
		{"center and action", audit.Filter{Center: "c1", Action: "citizen.read"}, ids(7, 2, 1)},
		{"every filter", audit.Filter{Actor: "staff:st2", Subject: "citizen:ci1", Center: "c1", Action: "citizen.read"}, ids(2)},
		{"no match", audit.Filter{Actor: "staff:st2", Center: "c2"}, ids()},
		{"unknown actor", audit.Filter{Actor: "staff:st9"}, ids()},
		{"before", audit.Filter{Before: rs[4].ID}, ids(3, 2, 1, 0)},
		{"before a time", audit.Filter{Before: beforeTime}, ids(3, 2, 1, 0)},
		{"before with filter", audit.Filter{Action: "citizen.read", Before: rs[7].ID}, ids(4, 2, 1)},
		{"before the oldest", audit.Filter{Before: rs[0].ID}, ids()},
		{"limit with filter", audit.Filter{Subject: "citizen:ci1", Limit: 2}, ids(3, 2)},
		{"limit with before", audit.Filter{Before: rs[6].ID, Limit: 3}, ids(5, 4, 3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAudit(t.Context(), tc.f)
			must(t, "list", err)
			if !slices.Equal(recordIDs(got), tc.want) {
				t.Errorf("ListAudit(%+v) = %v, want %v", tc.f, recordIDs(got), tc.want)
			}
		})
	}
	// Filtered records are whole, too.
	got, err := s.ListAudit(ctx, audit.Filter{Actor: "cli"})
	must(t, "list cli", err)
	if want := []audit.Record{storedRecord(rs[6])}; !reflect.DeepEqual(got, want) {
		t.Errorf("records of cli:\n got %+v\nwant %+v", got, want)
	}
}

func testAuditPages(t *testing.T, s audit.Store) {
	var rs, c1 []audit.Record
	for i := range 23 {
		center := "c2"
		if i%3 != 0 {
			center = "c1"
		}
		r := auditEntry(i, fmt.Sprintf("staff:st%d", i%4), "", center, "login")
		rs = append(rs, r)
		if center == "c1" {
			c1 = append(c1, r)
		}
	}
	appendShuffled(t, s, rs)

	for _, tc := range []struct {
		name string
		f    audit.Filter
		want []string
	}{
		{"all, 5 a page", audit.Filter{Limit: 5}, newestFirst(rs)},
		{"all, 1 a page", audit.Filter{Limit: 1}, newestFirst(rs)},
		{"all, a page of exactly the total", audit.Filter{Limit: len(rs)}, newestFirst(rs)},
		{"one center, 4 a page", audit.Filter{Center: "c1", Limit: 4}, newestFirst(c1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			f := tc.f
			for pages := 0; ; pages++ {
				if pages > len(rs)+1 {
					t.Fatalf("paging does not end; IDs so far %v", got)
				}
				page, err := s.ListAudit(t.Context(), f)
				must(t, "list page", err)
				if len(page) > f.Limit {
					t.Fatalf("page before %q has %d records, limit %d", f.Before, len(page), f.Limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, recordIDs(page)...)
				f.Before = page[len(page)-1].ID
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pages joined:\n got %v\nwant %v", got, tc.want)
			}
		})
	}
}

func testAuditLimit(t *testing.T, s audit.Store) {
	var rs []audit.Record
	for i := range 7 {
		rs = append(rs, auditEntry(i, "staff:st1", "", "c1", "login"))
	}
	appendShuffled(t, s, rs)
	all := newestFirst(rs)
	for _, tc := range []struct {
		limit int
		want  []string
	}{
		{0, all},
		{-1, all},
		{1, all[:1]},
		{3, all[:3]},
		{7, all},
		{100, all},
	} {
		got, err := s.ListAudit(t.Context(), audit.Filter{Limit: tc.limit})
		must(t, "list", err)
		if !slices.Equal(recordIDs(got), tc.want) {
			t.Errorf("limit %d: got %v, want %v", tc.limit, recordIDs(got), tc.want)
		}
	}
}
