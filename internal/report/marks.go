package report

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// Verdicts a supervisor gives a spot-checked item.
const (
	// VerdictOK is 合格: the item was handled as it should be.
	VerdictOK = "ok"
	// VerdictProblem is 有问题: the item needs following up; the note says why.
	VerdictProblem = "problem"
)

// MaxNoteRunes caps the note of a mark.
const MaxNoteRunes = 500

// CodeNotInSample means the marked item is not in the week's spot check.
const CodeNotInSample apperr.Code = "not_in_sample"

// Mark is a supervisor's verdict on one item of a week's spot check. An
// item is marked again by saving a new mark: the last one wins, and By
// and At tell who gave it and when.
type Mark struct {
	Center  string    `json:"center"`
	Week    string    `json:"week"`
	Kind    string    `json:"kind"` // "case" or "ticket", as SpotItem.Kind
	ID      string    `json:"id"`
	Verdict string    `json:"verdict"`
	Note    string    `json:"note"`
	By      string    `json:"by"` // the staff ID
	At      time.Time `json:"at"`
}

// MarkStore keeps the marks of the spot checks: one per center, week,
// kind and item.
type MarkStore interface {
	// SaveMark stores m, replacing the mark of the same center, week,
	// kind and ID if there is one.
	SaveMark(ctx context.Context, m Mark) error
	// Marks returns the marks of center's spot check of week, in any order.
	Marks(ctx context.Context, center, week string) ([]Mark, error)
}

// WithMarks lets s keep spot-check marks in store, audited in al (may be
// nil) and timed by now; without it SpotCheck shows no marks and
// SaveMark fails.
func (s *Service) WithMarks(store MarkStore, al *audit.Log, log *slog.Logger, now func() time.Time) *Service {
	s.marks, s.audit, s.log, s.now = store, al, log, now
	return s
}

// SaveMark checks that m's item is in the spot check of m.Week and stores
// the mark, by the staff member m.By, at the service's clock. The note is
// trimmed; a verdict other than ok or problem is a field error.
func (s *Service) SaveMark(ctx context.Context, m Mark) (Mark, error) {
	if s.marks == nil {
		return Mark{}, fmt.Errorf("report: no mark store")
	}
	var fes []apperr.FieldError
	if m.Kind != "case" && m.Kind != "ticket" {
		fes = append(fes, apperr.FieldError{Field: "kind", Message: "应为 case 或 ticket"})
	}
	if m.ID == "" {
		fes = append(fes, apperr.FieldError{Field: "id", Message: "请指定抽查项"})
	}
	if m.Verdict != VerdictOK && m.Verdict != VerdictProblem {
		fes = append(fes, apperr.FieldError{Field: "verdict", Message: "应为 ok（合格）或 problem（有问题）"})
	}
	m.Note = strings.TrimSpace(m.Note)
	if utf8.RuneCountInString(m.Note) > MaxNoteRunes {
		fes = append(fes, apperr.FieldError{Field: "note", Message: fmt.Sprintf("最多 %d 个字", MaxNoteRunes)})
	} else if strings.ContainsFunc(m.Note, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) {
		fes = append(fes, apperr.FieldError{Field: "note", Message: "含有控制字符"})
	}
	if len(fes) > 0 {
		return Mark{}, apperr.Fields(fes...)
	}
	sc, err := s.draw(ctx, m.Center, m.Week)
	if err != nil {
		return Mark{}, err
	}
	found := false
	for _, it := range sc.Items {
		if it.Kind == m.Kind && it.ID == m.ID {
			found = true
			break
		}
	}
	if !found {
		return Mark{}, apperr.New(CodeNotInSample, "该项不在这一周的抽查样本中")
	}
	m.At = s.now().UTC().Truncate(time.Millisecond)
	if err := s.marks.SaveMark(ctx, m); err != nil {
		return Mark{}, fmt.Errorf("report: save mark of %s %s in %s: %w", m.Kind, m.ID, m.Week, err)
	}
	if s.audit != nil {
		r := audit.Record{Actor: "staff:" + m.By, Center: m.Center, Action: "report.spot_check_mark",
			Target: "spot-check:" + m.Week + "/" + m.Kind + ":" + m.ID}
		if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil && s.log != nil {
			s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
		}
	}
	return m, nil
}

// attachMarks puts the stored marks on the items of sc.
func (s *Service) attachMarks(ctx context.Context, sc *SpotCheck) error {
	if s.marks == nil {
		return nil
	}
	ms, err := s.marks.Marks(ctx, sc.Center, sc.Week)
	if err != nil {
		return fmt.Errorf("report: marks of %s %s: %w", sc.Center, sc.Week, err)
	}
	byItem := make(map[string]Mark, len(ms))
	for _, m := range ms {
		byItem[m.Kind+"|"+m.ID] = m
	}
	for i, it := range sc.Items {
		if m, ok := byItem[it.Kind+"|"+it.ID]; ok {
			sc.Items[i].Mark = &m
		}
	}
	return nil
}
