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
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestCaseStoreContract is the contract of cases.Store.
func TestCaseStoreContract(t *testing.T) {
	runContract(t, pickCases, caseScenarios)
}

// pickCases builds the case store on the backend's raw database.
func pickCases(s stores) cases.Store {
	if s.sqlite != nil {
		return sqlite.NewCaseStore(s.sqlite)
	}
	return mongo.NewCaseStore(s.mongo)
}

var caseScenarios = []scenario[cases.Store]{
	{"a created case reads back whole, by ID and by number", testCaseCreateGet},
	{"times come back in UTC to the millisecond, whatever zone and precision they had", testCaseTimes},
	{"unknown IDs and numbers are not found", testCaseNotFound},
	{"a second case with a stored ID or number is a conflict and changes nothing", testCaseDuplicate},
	{"an update from the stored revision is stored and listed; the next builds on it", testCaseUpdate},
	{"an update from a stale or skipped revision is a version conflict and changes nothing", testCaseStale},
	{"an update of an unknown case is not found", testCaseUpdateUnknown},
	{"of two concurrent updates from one revision exactly one wins", testCaseRace},
	{"an applicant's cases come newest first, paged after an ID without gaps or repeats", testCaseNewestFirst},
	{"by deadline: green channel first, then by due time with none last, then by ID", testCaseByDeadline},
	{"center, applicant, state and sector filters", testCaseFilters},
	{"due before keeps the cases due strictly before it", testCaseDueBefore},
	{"updated after keeps the cases last changed strictly after it, an update moving a case in", testCaseUpdatedAfter},
	{"limit caps a list, 0 is no cap; an empty list is empty, not nil", testCaseLimit},
}

// csAt is the case scenarios' "now": UTC, whole milliseconds, as the
// cases service stamps its times.
var csAt = time.Date(2026, 3, 2, 9, 30, 15, 123_000_000, time.UTC)

// csCase is a small case of applicant id:alice as the service starts it,
// submitted, with no clock running.
func csCase(id string, created time.Time) cases.Case {
	return cases.Case{
		ID: id, Number: "HM" + id, QueryCode: "482913",
		Center: "hm", Sector: "scjg", Matter: "370102-001", MatterName: "食品经营许可（新办）", GuideVersion: 1,
		Applicant: "id:alice", Channel: catalog.ChannelOnline, State: cases.StateSubmitted,
		Materials: []cases.Material{{Name: "营业执照", Required: true, Status: cases.MaterialMissing}},
		Clock:     deadline.Clock{Days: 5}, StatutoryDays: 20,
		History:   []cases.Event{},
		CreatedAt: created, UpdatedAt: created, Rev: 1,
	}
}

// csFull is a case with every part set, its times made by tm from
// instants around csAt (so that a test can build what it writes and what
// it expects back from the same instants); some times are left zero.
func csFull(tm func(time.Time) time.Time) cases.Case {
	t := func(d time.Duration) time.Time { return tm(csAt.Add(d)) }
	clock := deadline.Clock{
		Start: t(2 * time.Hour), Days: 10,
		Pauses: []deadline.Pause{
			{From: t(26 * time.Hour), To: t(50 * time.Hour), Reason: "补正材料"},
			{From: t(74 * time.Hour), Reason: "中止：等待鉴定结论"}, // still open: To is zero
		},
		Extensions: []deadline.Extension{{Days: 5, At: t(98 * time.Hour), Reason: "现场核查需要"}},
	}
	return cases.Case{
		ID: "cs019caf3a5b7bd1c2e3f40516273849", Number: "HM2603020042", QueryCode: "071936",
		Center: "hm", Sector: "scjg", Matter: "370102-001", MatterName: "食品经营许可（新办）", GuideVersion: 3,
		Applicant: "id:5f1e0c9a", Citizen: "citizen:ct0195", Channel: catalog.ChannelWindow, Ticket: "tk0195a",
		State: cases.StateSuspended,
		Form:  cases.Form{Summary: "新开一家面馆，申请食品经营许可", Delivery: catalog.DeliveryExpress},
		Materials: []cases.Material{
			{
				Name: "营业执照", Required: true, ECertType: "营业执照", Status: cases.MaterialProvided, Source: cases.SourceECert,
				ECert: &cases.ECertRef{
					ID: "ec01", Type: "营业执照", Number: "91370102MA3C", Issuer: "示范县市场监督管理局",
					ValidUntil: tm(time.Date(2046, 3, 1, 16, 0, 0, 0, time.UTC)),
				},
				Locked: true, ChangedAt: t(0),
			},
			{
				Name: "经营场所平面图", Required: true, Status: cases.MaterialProvided, Source: cases.SourceUpload,
				File: &cases.File{
					ID: "fl01", Size: 183_204, SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
					ContentType: "application/pdf", StoredAt: t(time.Minute),
				},
				ChangedAt: t(time.Minute),
			},
			{Name: "从业人员健康证明", Required: true, Pendable: true, Status: cases.MaterialPending},
			{
				Name: "法定代表人身份证明", Required: true, Status: cases.MaterialProvided, Source: cases.SourceReuse,
				File: &cases.File{
					ID: "fl00", Size: 52_001, SHA256: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
					ContentType: "image/jpeg", StoredAt: t(-400 * 24 * time.Hour),
				},
				ReusedFrom: "HM2501150007", ChangedAt: t(2 * time.Minute),
			},
			{Name: "食品安全管理制度", Required: true, Status: cases.MaterialProvided, Source: cases.SourcePaper, ChangedAt: t(time.Hour)},
			{Name: "委托书", Status: cases.MaterialMissing},
			{
				Name: "身份证", Required: true, ECertType: "居民身份证", Status: cases.MaterialProvided, Source: cases.SourceECert,
				ECert:  &cases.ECertRef{ID: "ec02", Type: "居民身份证", Number: "3701**********0011", Issuer: "示范县公安局"}, // no expiry
				Locked: true, ChangedAt: t(0),
			},
		},
		Notices: []cases.Notice{
			{
				At: t(30 * time.Minute), Staff: "st01", Office: "综合受理窗口",
				Problems: []cases.Problem{{Material: 1, Reason: "平面图未标明操作间"}, {Material: -1, Reason: "申请事由不完整"}},
			},
			{
				At: t(90 * time.Minute), Staff: "st01", Office: "综合受理窗口",
				Problems: []cases.Problem{{Material: 0, Reason: "执照经营范围不含餐饮"}},
				Override: &cases.Override{Supervisor: "st09", Reason: "首次告知遗漏，经科长同意再次告知"},
			},
		},
		Green:         true,
		Clock:         clock,
		StatutoryDays: 20,
		DueAt:         t(15 * 24 * time.Hour),
		Pending: &cases.Pending{
			Commitment: "本人承诺于 5 个工作日内补交从业人员健康证明。", At: t(2 * time.Hour),
			Clock: deadline.Clock{
				Start: t(2 * time.Hour), Days: 5,
				Pauses:     []deadline.Pause{{From: t(26 * time.Hour), To: t(50 * time.Hour)}},
				Extensions: []deadline.Extension{{Days: 2, At: t(30 * time.Hour)}},
			},
		},
		// A case is never both rejected and decided; the store keeps
		// whatever it is given.
		Rejection:   &cases.Decision{At: t(time.Hour), Staff: "st01", Office: "综合受理窗口", Reason: "不属于本机关职权范围", LegalBasis: "《行政许可法》第三十二条"},
		Decision:    &cases.Decision{At: t(200 * time.Hour), Staff: "st05", Office: "市场监管局", Reason: "符合条件"},
		Escalations: []cases.Escalation{{At: t(150 * time.Hour), Staff: "st09", Note: "请加快办理"}},
		History: []cases.Event{
			{At: t(0), Action: "create", State: cases.StateDraft, Office: "综合受理窗口", Staff: "st01"},
			{At: t(time.Minute), Action: "submit", State: cases.StateSubmitted, Office: "综合受理窗口"},
			{At: t(2 * time.Hour), Action: "accept_pending", State: cases.StateAccepted, Office: "综合受理窗口", Note: "容缺受理", Staff: "st01"},
		},
		CreatedAt:   t(0),
		SubmittedAt: t(time.Minute),
		AcceptedAt:  t(2 * time.Hour),
		UpdatedAt:   t(74 * time.Hour),
		Rev:         1,
	}
}

func csSame(t *testing.T, what string, got, want cases.Case) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func csCreate(t *testing.T, s cases.Store, cs ...cases.Case) {
	t.Helper()
	for _, c := range cs {
		if err := s.CreateCase(t.Context(), c); err != nil {
			t.Fatalf("create case %s: %v", c.ID, err)
		}
	}
}

func csGet(t *testing.T, s cases.Store, id string) cases.Case {
	t.Helper()
	c, err := s.GetCase(t.Context(), id)
	if err != nil {
		t.Fatalf("get case %s: %v", id, err)
	}
	return c
}

func csList(t *testing.T, s cases.Store, f cases.Filter) []string {
	t.Helper()
	got, err := s.ListCases(t.Context(), f)
	if err != nil {
		t.Fatalf("list cases %+v: %v", f, err)
	}
	ids := make([]string, len(got))
	for i, c := range got {
		ids[i] = c.ID
	}
	return ids
}

func csWantList(t *testing.T, s cases.Store, f cases.Filter, want ...string) {
	t.Helper()
	if got := csList(t, s, f); !slices.Equal(got, want) {
		t.Errorf("list %+v:\n got %q\nwant %q", f, got, want)
	}
}

func testCaseCreateGet(t *testing.T, s cases.Store) {
	c := csFull(func(t time.Time) time.Time { return t })
	small := csCase("cs02", csAt)
	csCreate(t, s, c, small)
	csSame(t, "by ID", csGet(t, s, c.ID), c)
	got, err := s.GetCaseByNumber(t.Context(), c.Number)
	if err != nil {
		t.Fatalf("get by number: %v", err)
	}
	csSame(t, "by number", got, c)
	// The small case keeps its empty history as empty, not nil.
	csSame(t, "small case", csGet(t, s, small.ID), small)
	list, err := s.ListCases(t.Context(), cases.Filter{Applicant: c.Applicant})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %d cases, %v; want 1", len(list), err)
	}
	csSame(t, "listed", list[0], c)
}

func testCaseTimes(t *testing.T, s cases.Store) {
	cst := time.FixedZone("CST", 8*3600)
	zoned := func(t time.Time) time.Time { return t.In(cst).Add(456789 * time.Nanosecond) }
	c := csFull(zoned)
	csCreate(t, s, c)
	want := csFull(func(t time.Time) time.Time { return stored(zoned(t)) })
	csSame(t, "read back", csGet(t, s, c.ID), want)
	// The due time compares by its instant.
	csWantList(t, s, cases.Filter{DueBefore: c.DueAt}, c.ID)
	csWantList(t, s, cases.Filter{DueBefore: c.DueAt.Add(-time.Millisecond)})
}

func testCaseNotFound(t *testing.T, s cases.Store) {
	csCreate(t, s, csCase("cs01", csAt))
	_, err := s.GetCase(t.Context(), "cs02")
	wantCode(t, "get unknown ID", err, apperr.NotFound)
	_, err = s.GetCaseByNumber(t.Context(), "HMcs02")
	wantCode(t, "get unknown number", err, apperr.NotFound)
	_, err = s.GetCaseByNumber(t.Context(), "cs01") // an ID is not a number
	wantCode(t, "get by an ID as number", err, apperr.NotFound)
}

func testCaseDuplicate(t *testing.T, s cases.Store) {
	first := csCase("cs01", csAt)
	csCreate(t, s, first)

	sameID := csCase("cs01", csAt.Add(time.Minute))
	sameID.Number, sameID.Applicant = "HM9999", "id:bob"
	wantCode(t, "same ID", s.CreateCase(t.Context(), sameID), apperr.Conflict)

	sameNumber := csCase("cs02", csAt.Add(time.Minute))
	sameNumber.Number, sameNumber.Applicant = first.Number, "id:bob"
	wantCode(t, "same number", s.CreateCase(t.Context(), sameNumber), apperr.Conflict)

	csSame(t, "first", csGet(t, s, "cs01"), first)
	_, err := s.GetCase(t.Context(), "cs02")
	wantCode(t, "case with the duplicate number", err, apperr.NotFound)
	_, err = s.GetCaseByNumber(t.Context(), "HM9999")
	wantCode(t, "case with the duplicate ID", err, apperr.NotFound)
	csWantList(t, s, cases.Filter{}, "cs01")
	csWantList(t, s, cases.Filter{Applicant: "id:bob"})
}

// csAccept is c accepted with 容缺 by the next revision: new state,
// sector, green channel and due time, so that every indexed field moves.
func csAccept(c cases.Case, at time.Time) cases.Case {
	c.Rev++
	c.State = cases.StateAccepted
	c.Sector = "wsjk"
	c.Green = true
	c.AcceptedAt, c.UpdatedAt = at, at
	c.Clock = deadline.Clock{Start: at, Days: 5}
	c.DueAt = at.Add(7 * 24 * time.Hour)
	c.Materials = slices.Clone(c.Materials)
	c.Materials[0].Status = cases.MaterialPending
	c.Pending = &cases.Pending{Commitment: "按期补交", At: at, Clock: deadline.Clock{Start: at, Days: 3}}
	c.History = append(slices.Clone(c.History), cases.Event{At: at, Action: "accept_pending", State: cases.StateAccepted, Office: "综合受理窗口", Staff: "st01"})
	return c
}

func testCaseUpdate(t *testing.T, s cases.Store) {
	c := csCase("cs01", csAt)
	csCreate(t, s, c)
	next := csAccept(c, csAt.Add(time.Hour))
	if err := s.UpdateCase(t.Context(), next); err != nil {
		t.Fatalf("update to rev 2: %v", err)
	}
	csSame(t, "after update", csGet(t, s, c.ID), next)
	byNumber, err := s.GetCaseByNumber(t.Context(), c.Number)
	if err != nil {
		t.Fatalf("get by number: %v", err)
	}
	csSame(t, "after update, by number", byNumber, next)

	// The lookup fields moved with the document.
	csWantList(t, s, cases.Filter{States: []cases.State{cases.StateSubmitted}})
	csWantList(t, s, cases.Filter{Sectors: []string{"scjg"}})
	csWantList(t, s, cases.Filter{Center: "hm", States: []cases.State{cases.StateAccepted}, Sectors: []string{"wsjk"}, Order: cases.ByDeadline}, "cs01")
	csWantList(t, s, cases.Filter{DueBefore: next.DueAt.Add(time.Millisecond)}, "cs01")

	// And the revision after builds on it.
	closed := next
	closed.Rev++
	closed.State = cases.StateApproved
	closed.ClosedAt = csAt.Add(48 * time.Hour)
	closed.Decision = &cases.Decision{At: closed.ClosedAt, Staff: "st05", Office: "卫生健康局", Reason: "准予许可"}
	if err := s.UpdateCase(t.Context(), closed); err != nil {
		t.Fatalf("update to rev 3: %v", err)
	}
	csSame(t, "after second update", csGet(t, s, c.ID), closed)
}

func testCaseStale(t *testing.T, s cases.Store) {
	c := csCase("cs01", csAt)
	csCreate(t, s, c)
	wantCode(t, "update claiming rev 1", s.UpdateCase(t.Context(), c), apperr.VersionConflict)
	next := csAccept(c, csAt.Add(time.Hour))
	if err := s.UpdateCase(t.Context(), next); err != nil {
		t.Fatalf("update to rev 2: %v", err)
	}

	stale := c // another clerk's change, made on rev 1
	stale.Rev = 2
	stale.State = cases.StateReturned
	stale.History = []cases.Event{{At: csAt.Add(2 * time.Hour), Action: "return", State: cases.StateReturned, Office: "综合受理窗口"}}
	wantCode(t, "update from rev 1 again", s.UpdateCase(t.Context(), stale), apperr.VersionConflict)

	skipped := next
	skipped.Rev = 4
	skipped.State = cases.StateApproved
	wantCode(t, "update skipping rev 3", s.UpdateCase(t.Context(), skipped), apperr.VersionConflict)

	csSame(t, "stored", csGet(t, s, c.ID), next)
	csWantList(t, s, cases.Filter{States: []cases.State{cases.StateReturned, cases.StateApproved}})
}

func testCaseUpdateUnknown(t *testing.T, s cases.Store) {
	csCreate(t, s, csCase("cs01", csAt))
	c := csAccept(csCase("cs02", csAt), csAt.Add(time.Hour))
	wantCode(t, "update unknown", s.UpdateCase(t.Context(), c), apperr.NotFound)
	_, err := s.GetCase(t.Context(), "cs02")
	wantCode(t, "get after the update", err, apperr.NotFound)
}

func testCaseRace(t *testing.T, s cases.Store) {
	const rounds = 20
	for r := range rounds {
		c := csCase(fmt.Sprintf("cs%02d", r), csAt)
		csCreate(t, s, c)
		// Two clerks read rev 1 and change it differently at once.
		changes := [2]cases.Case{csAccept(c, csAt.Add(time.Hour)), c}
		changes[1].Rev = 2
		changes[1].State = cases.StateRejected
		changes[1].ClosedAt = csAt.Add(time.Hour)
		var errs [2]error
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range changes {
			wg.Go(func() {
				<-start
				errs[i] = s.UpdateCase(t.Context(), changes[i])
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: both updates won", r)
			case err == nil:
				winner = i
			case !apperr.Is(err, apperr.VersionConflict):
				t.Fatalf("round %d: update %d: %v, want a version conflict", r, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no update won: %v", r, errs)
		}
		csSame(t, fmt.Sprintf("round %d: stored", r), csGet(t, s, c.ID), changes[winner])
	}
}

func testCaseNewestFirst(t *testing.T, s cases.Store) {
	// IDs are deliberately out of creation order: the order is by
	// creation, then by ID (descending) between cases created at once.
	mine := []struct {
		id      string
		minutes int
	}{
		{"cs05", 0}, {"cs01", 1}, {"cs07", 2}, {"cs03", 3}, {"cs06", 3}, {"cs02", 4}, {"cs04", 5},
	}
	want := []string{"cs04", "cs02", "cs06", "cs03", "cs07", "cs01", "cs05"}
	for _, m := range mine {
		csCreate(t, s, csCase(m.id, csAt.Add(time.Duration(m.minutes)*time.Minute)))
	}
	for i, id := range []string{"cs11", "cs00", "cs08"} { // someone else's, in between
		o := csCase(id, csAt.Add(time.Duration(i)*time.Minute+time.Second))
		o.Applicant = "id:bob"
		csCreate(t, s, o)
	}
	csWantList(t, s, cases.Filter{Applicant: "id:alice"}, want...)

	var pages [][]string
	after := ""
	for range 5 {
		page := csList(t, s, cases.Filter{Applicant: "id:alice", After: after, Limit: 3})
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		after = page[len(page)-1]
	}
	if len(pages) != 3 || len(pages[0]) != 3 || len(pages[1]) != 3 || len(pages[2]) != 1 {
		t.Errorf("pages %q, want pages of 3, 3 and 1", pages)
	}
	if got := slices.Concat(pages...); !slices.Equal(got, want) {
		t.Errorf("pages together %q, want %q", got, want)
	}
	// After a case of the tie, the other one follows.
	csWantList(t, s, cases.Filter{Applicant: "id:alice", After: "cs06", Limit: 2}, "cs03", "cs07")
	// After someone else's case, by its creation.
	csWantList(t, s, cases.Filter{Applicant: "id:alice", After: "cs00"}, "cs01", "cs05")

	_, err := s.ListCases(t.Context(), cases.Filter{Applicant: "id:alice", After: "cs99"})
	wantCode(t, "after an unknown case", err, apperr.Invalid)
}

func testCaseByDeadline(t *testing.T, s cases.Store) {
	due := func(id string, green bool, after time.Duration) cases.Case {
		c := csCase(id, csAt)
		c.State, c.Green = cases.StateAccepted, green
		if after > 0 {
			c.DueAt = csAt.Add(after)
		}
		return c
	}
	day := 24 * time.Hour
	// Created in an order that is neither the expected one nor by ID.
	csCreate(t, s,
		due("cs02", false, 0),
		due("cs05", false, 3*day),
		due("cs09", true, day),
		due("cs08", false, time.Hour), // earlier than any green one, still after them
		due("cs01", true, 0),
		due("cs07", false, 0),
		due("cs03", true, 2*day),
		due("cs04", false, 3*day),
	)
	want := []string{"cs09", "cs03", "cs01", "cs08", "cs04", "cs05", "cs02", "cs07"}
	csWantList(t, s, cases.Filter{Center: "hm", States: []cases.State{cases.StateAccepted}, Order: cases.ByDeadline}, want...)
	csWantList(t, s, cases.Filter{Order: cases.ByDeadline, Limit: 4}, want[:4]...)
	csWantList(t, s, cases.Filter{Order: cases.ByDeadline, DueBefore: csAt.Add(3 * day)}, "cs09", "cs03", "cs08")
}

func testCaseFilters(t *testing.T, s cases.Store) {
	mk := func(id, center, sector string, state cases.State, applicant string) cases.Case {
		c := csCase(id, csAt)
		c.Center, c.Sector, c.State, c.Applicant = center, sector, state, applicant
		return c
	}
	csCreate(t, s,
		mk("cs01", "hm", "s1", cases.StateSubmitted, "id:alice"),
		mk("cs02", "hm", "s2", cases.StateAccepted, "id:alice"),
		mk("cs03", "hm", "s3", cases.StateReturned, "id:bob"),
		mk("cs04", "hm", "s1", cases.StateAccepted, "id:bob"),
		mk("cs05", "hm", "s2", cases.StateDraft, "id:carol"),
		mk("cs06", "zq", "s1", cases.StateAccepted, "id:alice"),
		mk("cs07", "zq", "s3", cases.StateSubmitted, "id:bob"),
	)
	accepted := []cases.State{cases.StateAccepted}
	for _, tc := range []struct {
		name string
		f    cases.Filter
		want []string
	}{
		{"none", cases.Filter{}, []string{"cs01", "cs02", "cs03", "cs04", "cs05", "cs06", "cs07"}},
		{"empty lists filter nothing", cases.Filter{Sectors: []string{}, States: []cases.State{}}, []string{"cs01", "cs02", "cs03", "cs04", "cs05", "cs06", "cs07"}},
		{"center", cases.Filter{Center: "zq"}, []string{"cs06", "cs07"}},
		{"applicant", cases.Filter{Applicant: "id:alice"}, []string{"cs01", "cs02", "cs06"}},
		{"one state", cases.Filter{States: accepted}, []string{"cs02", "cs04", "cs06"}},
		{"states", cases.Filter{Center: "hm", States: []cases.State{cases.StateAccepted, cases.StateReturned}}, []string{"cs02", "cs03", "cs04"}},
		{"sectors", cases.Filter{Center: "hm", Sectors: []string{"s1", "s3"}}, []string{"cs01", "cs03", "cs04"}},
		{"sectors and states", cases.Filter{Center: "hm", Sectors: []string{"s1", "s2"}, States: accepted}, []string{"cs02", "cs04"}},
		{"applicant and states", cases.Filter{Applicant: "id:bob", States: []cases.State{cases.StateSubmitted, cases.StateReturned}}, []string{"cs03", "cs07"}},
		{"nothing matches", cases.Filter{Center: "zq", Sectors: []string{"s2"}}, []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.Order = cases.ByDeadline // all alike: by ID
			csWantList(t, s, tc.f, tc.want...)
		})
	}
}

func testCaseDueBefore(t *testing.T, s cases.Store) {
	due := func(id string, after time.Duration) cases.Case {
		c := csCase(id, csAt)
		c.State = cases.StateAccepted
		if after != 0 {
			c.DueAt = csAt.Add(after)
		}
		return c
	}
	day := 24 * time.Hour
	// cs03 has no due time; cs05's has passed.
	csCreate(t, s, due("cs01", 2*day), due("cs02", time.Hour), due("cs03", 0), due("cs04", day), due("cs05", -time.Hour))
	csWantList(t, s, cases.Filter{DueBefore: csAt.Add(day), Order: cases.ByDeadline}, "cs05", "cs02")
	csWantList(t, s, cases.Filter{DueBefore: csAt.Add(day + time.Millisecond), Order: cases.ByDeadline}, "cs05", "cs02", "cs04")
	csWantList(t, s, cases.Filter{DueBefore: csAt.Add(100 * day), Order: cases.ByDeadline}, "cs05", "cs02", "cs04", "cs01")
	csWantList(t, s, cases.Filter{DueBefore: csAt.Add(-time.Hour), Order: cases.ByDeadline})
}

func testCaseUpdatedAfter(t *testing.T, s cases.Store) {
	changed := func(id string, at time.Duration) cases.Case {
		c := csCase(id, csAt.Add(-48*time.Hour))
		c.UpdatedAt = csAt.Add(at)
		return c
	}
	csCreate(t, s, changed("cs01", -time.Hour), changed("cs02", time.Hour), changed("cs03", 0), changed("cs04", -47*time.Hour))
	csWantList(t, s, cases.Filter{UpdatedAfter: csAt, Order: cases.ByDeadline}, "cs02")
	csWantList(t, s, cases.Filter{UpdatedAfter: csAt.Add(-time.Millisecond), Order: cases.ByDeadline}, "cs02", "cs03")
	csWantList(t, s, cases.Filter{UpdatedAfter: csAt.Add(-2 * time.Hour), States: []cases.State{cases.StateSubmitted}, Order: cases.ByDeadline}, "cs01", "cs02", "cs03")
	// Within a millisecond: after its start, so not after the instant.
	csWantList(t, s, cases.Filter{UpdatedAfter: csAt.Add(500 * time.Microsecond), Order: cases.ByDeadline}, "cs02")
	// An update stamps the case anew.
	c := changed("cs04", -47*time.Hour)
	c.Rev, c.UpdatedAt, c.State = 2, csAt.Add(2*time.Hour), cases.StateWithdrawn
	if err := s.UpdateCase(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	csWantList(t, s, cases.Filter{UpdatedAfter: csAt, Order: cases.ByDeadline}, "cs02", "cs04")
}

func testCaseLimit(t *testing.T, s cases.Store) {
	got, err := s.ListCases(t.Context(), cases.Filter{Applicant: "id:alice"})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty store: %#v, %v; want an empty list", got, err)
	}
	for i := range 5 {
		csCreate(t, s, csCase(fmt.Sprintf("cs%02d", i), csAt.Add(time.Duration(i)*time.Minute)))
	}
	csWantList(t, s, cases.Filter{Limit: 2}, "cs04", "cs03")
	csWantList(t, s, cases.Filter{Limit: 2, Order: cases.ByDeadline}, "cs00", "cs01")
	csWantList(t, s, cases.Filter{Limit: 0}, "cs04", "cs03", "cs02", "cs01", "cs00")
	csWantList(t, s, cases.Filter{Limit: 9}, "cs04", "cs03", "cs02", "cs01", "cs00")
	csWantList(t, s, cases.Filter{Limit: 1, After: "cs02"}, "cs01")
}
