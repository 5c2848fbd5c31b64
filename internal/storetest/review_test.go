package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestReviewStoreContract is the contract of review.Store.
func TestReviewStoreContract(t *testing.T) {
	runContract(t, pickReview, reviewScenarios)
}

func pickReview(s stores) review.Store {
	if s.sqlite != nil {
		return sqlite.NewReviewStore(s.sqlite)
	}
	return mongo.NewReviewStore(s.mongo)
}

var reviewScenarios = []scenario[review.Store]{
	{"an evaluation reads back whole, by ID and by its event", testEvalCreateGet},
	{"a second evaluation of one event is a conflict and changes nothing", testEvalDuplicate},
	{"of many concurrent ratings of one event exactly one is stored", testEvalRace},
	{"an update from the stored revision is stored; a stale one is a version conflict", testEvalUpdate},
	{"evaluations list newest first, by holders, center and sectors", testEvalList},
	{"a task reads back whole; a second task of one evaluation is a conflict", testTaskCreate},
	{"tasks update on their revision and list by due time, open ones apart", testTaskList},
}

var rvAt = time.Date(2026, 11, 25, 2, 30, 15, 123_000_000, time.UTC)

func rvEval(id, event string, at time.Time) review.Evaluation {
	return review.Evaluation{
		ID: id, EventKind: review.EventTicket, EventID: event, Holder: "id:alice",
		Center: "hm", Sector: "gjj", Window: "w1", Staff: "st1", Matter: "370102-001",
		Level: 1, Comment: "<b>等太久</b>", Tags: []string{"等候时间长"}, Channel: review.ChannelPad,
		At: at, Task: "rt" + id, Rev: 1,
	}
}

func testEvalCreateGet(t *testing.T, s review.Store) {
	e := rvEval("ev1", "tk1", rvAt)
	if err := s.CreateEvaluation(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetEvaluation(t.Context(), "ev1")
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("get: %+v, %v; want %+v", got, err, e)
	}
	got, err = s.EvaluationOf(t.Context(), review.EventTicket, "tk1")
	if err != nil || !reflect.DeepEqual(got, e) {
		t.Fatalf("of event: %+v, %v", got, err)
	}
	if _, err := s.EvaluationOf(t.Context(), review.EventCase, "tk1"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("other kind: %v, want not found", err)
	}
	if _, err := s.GetEvaluation(t.Context(), "nope"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v, want not found", err)
	}
}

func testEvalDuplicate(t *testing.T, s review.Store) {
	if err := s.CreateEvaluation(t.Context(), rvEval("ev1", "tk1", rvAt)); err != nil {
		t.Fatal(err)
	}
	second := rvEval("ev2", "tk1", rvAt.Add(time.Second))
	second.Level = 5
	if err := s.CreateEvaluation(t.Context(), second); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second: %v, want conflict", err)
	}
	got, err := s.EvaluationOf(t.Context(), review.EventTicket, "tk1")
	if err != nil || got.ID != "ev1" || got.Level != 1 {
		t.Fatalf("after: %+v, %v", got, err)
	}
}

func testEvalRace(t *testing.T, s review.Store) {
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateEvaluation(t.Context(), rvEval(fmt.Sprintf("ev%02d", i), "tk1", rvAt))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !apperr.Is(err, apperr.Conflict):
			t.Errorf("unexpected: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d ratings stored, want 1", won)
	}
	list, err := s.ListEvaluations(t.Context(), review.Filter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
}

func testEvalUpdate(t *testing.T, s review.Store) {
	e := rvEval("ev1", "tk1", rvAt)
	if err := s.CreateEvaluation(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	e.ReRatedFrom, e.Level, e.ReRatedAt, e.Rev = 1, 4, rvAt.Add(time.Hour), 2
	if err := s.UpdateEvaluation(t.Context(), e); err != nil {
		t.Fatal(err)
	}
	stale := e
	stale.Level = 5
	if err := s.UpdateEvaluation(t.Context(), stale); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("stale: %v, want version conflict", err)
	}
	got, _ := s.GetEvaluation(t.Context(), "ev1")
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("got %+v, want %+v", got, e)
	}
	unknown := rvEval("ev9", "tk9", rvAt)
	unknown.Rev = 2
	if err := s.UpdateEvaluation(t.Context(), unknown); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v, want not found", err)
	}
}

func testEvalList(t *testing.T, s review.Store) {
	a := rvEval("ev1", "tk1", rvAt)
	b := rvEval("ev2", "tk2", rvAt.Add(time.Minute))
	b.Holder, b.Sector = "citizen:bob", "bdc"
	c := rvEval("ev3", "tk3", rvAt.Add(2*time.Minute))
	c.Center = "xz"
	for _, e := range []review.Evaluation{a, b, c} {
		if err := s.CreateEvaluation(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(f review.Filter) []string {
		t.Helper()
		list, err := s.ListEvaluations(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, e := range list {
			out = append(out, e.ID)
		}
		return out
	}
	for _, tc := range []struct {
		f    review.Filter
		want []string
	}{
		{review.Filter{}, []string{"ev3", "ev2", "ev1"}},
		{review.Filter{Holders: []string{"id:alice"}}, []string{"ev3", "ev1"}},
		{review.Filter{Holders: []string{"citizen:bob", "id:x"}}, []string{"ev2"}},
		{review.Filter{Center: "hm"}, []string{"ev2", "ev1"}},
		{review.Filter{Center: "hm", Sectors: []string{"gjj"}}, []string{"ev1"}},
		{review.Filter{Limit: 1}, []string{"ev3"}},
		{review.Filter{Center: "none"}, []string{}},
	} {
		if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.f, got, tc.want)
		}
	}
}

func rvTask(id, eval string, due time.Time) review.Task {
	founded := true
	return review.Task{
		ID: id, Evaluation: eval, Center: "hm", Sector: "gjj", State: review.TaskVerify, Founded: &founded,
		Steps: []review.Step{{At: rvAt, Action: "open", Note: "非常不满意"}},
		Clock: deadline.Clock{Start: rvAt, Days: 5}, DueAt: due, CreatedAt: rvAt, UpdatedAt: rvAt, Rev: 1,
	}
}

func testTaskCreate(t *testing.T, s review.Store) {
	tk := rvTask("rt1", "ev1", rvAt.Add(7*24*time.Hour))
	if err := s.CreateTask(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetTask(t.Context(), "rt1")
	if err != nil || !reflect.DeepEqual(got, tk) {
		t.Fatalf("get: %+v, %v; want %+v", got, err, tk)
	}
	if err := s.CreateTask(t.Context(), rvTask("rt2", "ev1", rvAt)); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("second task: %v, want conflict", err)
	}
	if _, err := s.GetTask(t.Context(), "rt2"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("unknown: %v, want not found", err)
	}
}

func testTaskList(t *testing.T, s review.Store) {
	a := rvTask("rt1", "ev1", rvAt.Add(48*time.Hour))
	b := rvTask("rt2", "ev2", rvAt.Add(24*time.Hour))
	b.Sector = "bdc"
	for _, tk := range []review.Task{a, b} {
		if err := s.CreateTask(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
	}
	b.State, b.Rev = review.TaskClosed, 2
	b.Steps = append(b.Steps, review.Step{At: rvAt.Add(time.Hour), Staff: "st1", Action: "follow_up", Note: "已回访"})
	if err := s.UpdateTask(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateTask(t.Context(), b); !apperr.Is(err, apperr.VersionConflict) {
		t.Fatalf("stale: %v, want version conflict", err)
	}
	list, err := s.ListTasks(t.Context(), review.TaskFilter{Center: "hm"})
	if err != nil || len(list) != 2 || list[0].ID != "rt2" || list[1].ID != "rt1" || !reflect.DeepEqual(list[0], b) {
		t.Fatalf("all: %+v, %v", list, err)
	}
	list, err = s.ListTasks(t.Context(), review.TaskFilter{Open: true})
	if err != nil || len(list) != 1 || list[0].ID != "rt1" {
		t.Fatalf("open: %+v, %v", list, err)
	}
	list, err = s.ListTasks(t.Context(), review.TaskFilter{Center: "hm", Sectors: []string{"bdc"}})
	if err != nil || len(list) != 1 || list[0].ID != "rt2" {
		t.Fatalf("sector: %+v, %v", list, err)
	}
}
