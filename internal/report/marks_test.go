package report

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/queue"
)

// memMarks is an in-process MarkStore; the stores are checked in
// internal/storetest.
type memMarks struct {
	mu sync.Mutex
	m  map[string]Mark
}

func (s *memMarks) SaveMark(_ context.Context, m Mark) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[m.Center+"|"+m.Week+"|"+m.Kind+"|"+m.ID] = m
	return nil
}

func (s *memMarks) Marks(_ context.Context, center, week string) ([]Mark, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Mark
	for _, m := range s.m {
		if m.Center == center && m.Week == week {
			out = append(out, m)
		}
	}
	return out, nil
}

type memAudit struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (a *memAudit) AppendAudit(_ context.Context, r audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
	return nil
}

func (a *memAudit) ListAudit(context.Context, audit.Filter) ([]audit.Record, error) { return nil, nil }

// TestSaveMark marks the two tickets served in week 45: one outside the
// sample is refused, a bad verdict is a field error, a second mark
// replaces the first.
func TestSaveMark(t *testing.T) {
	served := func(id, day string) queue.Ticket {
		at, _ := time.Parse(time.DateOnly, day)
		return queue.Ticket{ID: id, Center: "C", Sector: "S", Day: day, Number: "A" + id, TakenAt: at.Add(9 * time.Hour),
			CalledAt: at.Add(9*time.Hour + time.Minute), FinishedAt: at.Add(9*time.Hour + 5*time.Minute), Status: queue.StatusDone}
	}
	src := memSource{[]queue.Ticket{served("t1", "2026-11-02"), served("t2", "2026-11-03"), served("t9", "2026-11-10")}}
	clock := time.Date(2026, 11, 12, 8, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	al := &memAudit{}
	s := NewService(src, time.UTC, nil).WithMarks(&memMarks{m: map[string]Mark{}}, audit.NewLog(al, now), nil, now)
	ctx := t.Context()

	for _, c := range []struct {
		name  string
		mark  Mark
		code  apperr.Code
		field string
	}{
		{"not in the week's sample", Mark{Week: "2026-W45", Kind: "ticket", ID: "t9", Verdict: VerdictOK}, CodeNotInSample, ""},
		{"another center", Mark{Center: "D", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: VerdictOK}, CodeNotInSample, ""},
		{"a case of that ID", Mark{Week: "2026-W45", Kind: "case", ID: "t1", Verdict: VerdictOK}, CodeNotInSample, ""},
		{"bad verdict", Mark{Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: "fine"}, apperr.Invalid, "verdict"},
		{"bad kind", Mark{Week: "2026-W45", Kind: "window", ID: "t1", Verdict: VerdictOK}, apperr.Invalid, "kind"},
		{"long note", Mark{Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: VerdictProblem, Note: strings.Repeat("差", MaxNoteRunes+1)}, apperr.Invalid, "note"},
		{"bad week", Mark{Week: "2026-45", Kind: "ticket", ID: "t1", Verdict: VerdictOK}, apperr.Invalid, "week"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := c.mark
			if m.Center == "" {
				m.Center = "C"
			}
			m.By = "sup1"
			_, err := s.SaveMark(ctx, m)
			if apperr.CodeOf(err) != c.code {
				t.Fatalf("err %v, want code %s", err, c.code)
			}
			if c.field != "" {
				e, _ := apperr.As(err)
				if len(e.Fields) != 1 || e.Fields[0].Field != c.field {
					t.Errorf("fields %v, want %s", e.Fields, c.field)
				}
			}
		})
	}
	if len(al.recs) != 0 {
		t.Errorf("refused marks audited: %v", al.recs)
	}

	if _, err := s.SaveMark(ctx, Mark{Center: "C", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: VerdictProblem, Note: " 未一次告知 ", By: "sup1"}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Hour)
	got, err := s.SaveMark(ctx, Mark{Center: "C", Week: "2026-W45", Kind: "ticket", ID: "t1", Verdict: VerdictOK, By: "sup2"})
	if err != nil {
		t.Fatal(err)
	}
	if got.By != "sup2" || !got.At.Equal(clock) {
		t.Errorf("mark %+v", got)
	}
	sc, err := s.SpotCheck(ctx, "C", "2026-W45")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Items) != 2 {
		t.Fatalf("items %+v, want t1 and t2", sc.Items)
	}
	for _, it := range sc.Items {
		switch it.ID {
		case "t1":
			if it.Mark == nil || it.Mark.Verdict != VerdictOK || it.Mark.Note != "" || it.Mark.By != "sup2" || !it.Mark.At.Equal(clock) {
				t.Errorf("t1 mark %+v, want the second one", it.Mark)
			}
		case "t2":
			if it.Mark != nil {
				t.Errorf("t2 marked: %+v", it.Mark)
			}
		}
	}
	if len(al.recs) != 2 || al.recs[0].Action != "report.spot_check_mark" || al.recs[0].Actor != "staff:sup1" ||
		al.recs[0].Target != "spot-check:2026-W45/ticket:t1" || al.recs[0].Center != "C" {
		t.Errorf("audit %+v", al.recs)
	}
}
