package review

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/notify"
)

// Codes of refused ratings and task steps.
const (
	// CodeAlreadyRated: the event was rated already (and may not be re-rated now).
	CodeAlreadyRated apperr.Code = "already_rated"
	// CodeEventNotFinished: the event is not finished yet.
	CodeEventNotFinished apperr.Code = "event_not_finished"
	// CodeNotYourEvent: the event belongs to someone else.
	CodeNotYourEvent apperr.Code = "not_your_event"
	// CodeTaskState: the task is not at the step asked for.
	CodeTaskState apperr.Code = "task_state"
)

// Limits of a rating's free text.
const (
	MaxComment = 500 // runes
	MaxTags    = 5
	MaxTag     = 20 // runes
	MaxNote    = 1000
)

// ReminderAfter is when an unrated event gets its one reminder.
const ReminderAfter = 72 * time.Hour

// Notifier queues WeChat messages (package notify's Outbox).
type Notifier interface {
	Notify(ctx context.Context, msgs ...notify.Message) error
	Withdraw(ctx context.Context, ids ...string) error
}

// Config holds what a deployment may tune.
type Config struct {
	// Calendar returns the current working-day calendar.
	Calendar func() deadline.Calendar
	// RectifyDays is the working days a rectification task has; 0 means 5.
	RectifyDays int
	// Notifier sends invitations and reminders; nil sends none.
	Notifier Notifier
	// LastServed returns the ticket last completed at a window, within
	// the last minutes, for the window's evaluation pad; nil disables the pad.
	LastServed func(ctx context.Context, window string) (Event, error)
}

// Service runs 好差评 and its rectification loop.
type Service struct {
	store  Store
	events Events
	audit  *audit.Log
	log    *slog.Logger
	now    func() time.Time
	cfg    Config
	engine deadline.Engine
}

// NewService returns the review service. al may be nil.
func NewService(store Store, events Events, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.RectifyDays <= 0 {
		cfg.RectifyDays = 5
	}
	return &Service{store: store, events: events, audit: al, log: log, now: now, cfg: cfg}
}

// Rater is the citizen rating: every holder form they are known by.
type Rater struct {
	Holders []string
}

func (r Rater) owns(ev Event) bool {
	for _, h := range r.Holders {
		if h != "" && slices.Contains(ev.Holders, h) {
			return true
		}
	}
	return false
}

func (r Rater) primary(ev Event) string {
	for _, h := range r.Holders {
		if h != "" && slices.Contains(ev.Holders, h) {
			return h
		}
	}
	return ""
}

// Rating is what a citizen submits.
type Rating struct {
	Kind    EventKind
	EventID string
	Level   int
	Comment string
	Tags    []string
	Channel Channel
}

func validate(r Rating) error {
	var errs []apperr.FieldError
	add := func(f, m string) { errs = append(errs, apperr.FieldError{Field: f, Message: m}) }
	if !r.Kind.Valid() {
		add("event_kind", "评价对象类型应为 ticket、case、consultation 或 parcel")
	}
	if r.EventID == "" || len(r.EventID) > 100 {
		add("event_id", "缺少评价对象")
	}
	if r.Level < VeryDissatisfied || r.Level > VerySatisfied {
		add("level", "评价等级应为 1（非常不满意）到 5（非常满意）")
	}
	if !utf8.ValidString(r.Comment) || utf8.RuneCountInString(r.Comment) > MaxComment {
		add("comment", fmt.Sprintf("评价内容不能超过 %d 个字", MaxComment))
	}
	if len(r.Tags) > MaxTags {
		add("tags", fmt.Sprintf("标签最多 %d 个", MaxTags))
	}
	for i, t := range r.Tags {
		if strings.TrimSpace(t) == "" || !utf8.ValidString(t) || utf8.RuneCountInString(t) > MaxTag {
			add(fmt.Sprintf("tags[%d]", i), fmt.Sprintf("标签应为 1 到 %d 个字", MaxTag))
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return nil
}

// Rate records a rating of an event of the rater's, once per event. After
// the follow-up (回访) of a bad review's task the citizen may rate once
// more: the evaluation then keeps the first level in ReRatedFrom.
func (s *Service) Rate(ctx context.Context, who Rater, r Rating) (Evaluation, error) {
	r.Comment = strings.TrimSpace(r.Comment)
	if err := validate(r); err != nil {
		return Evaluation{}, err
	}
	ev, err := s.events.Event(ctx, r.Kind, r.EventID)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Evaluation{}, apperr.New(apperr.NotFound, "没有找到要评价的办事记录")
		}
		return Evaluation{}, fmt.Errorf("review: find %s %s: %w", r.Kind, r.EventID, err)
	}
	if !who.owns(ev) {
		return Evaluation{}, apperr.New(CodeNotYourEvent, "只能评价本人的办事记录")
	}
	return s.rate(ctx, who.primary(ev), ev, r)
}

// RateAtWindow records the rating given on a window's evaluation pad: it
// rates the ticket last completed at the window, on behalf of whoever
// held it (the citizen standing at the window), once.
func (s *Service) RateAtWindow(ctx context.Context, window string, r Rating) (Evaluation, error) {
	r.Kind, r.Channel = EventTicket, ChannelPad
	if s.cfg.LastServed == nil {
		return Evaluation{}, apperr.New(apperr.NotFound, "这个窗口暂无可评价的办理")
	}
	ev, err := s.cfg.LastServed(ctx, window)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return Evaluation{}, apperr.New(apperr.NotFound, "这个窗口暂无可评价的办理")
		}
		return Evaluation{}, fmt.Errorf("review: last served at %s: %w", window, err)
	}
	r.EventID = ev.ID
	r.Comment = strings.TrimSpace(r.Comment)
	if err := validate(r); err != nil {
		return Evaluation{}, err
	}
	holder := ""
	if len(ev.Holders) > 0 {
		holder = ev.Holders[0]
	}
	return s.rate(ctx, holder, ev, r)
}

func (s *Service) rate(ctx context.Context, holder string, ev Event, r Rating) (Evaluation, error) {
	if !ev.Finished {
		return Evaluation{}, apperr.New(CodeEventNotFinished, "事项办结后才能评价")
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	prev, err := s.store.EvaluationOf(ctx, r.Kind, r.EventID)
	switch {
	case err == nil:
		return s.reRate(ctx, prev, r, now)
	case !apperr.Is(err, apperr.NotFound):
		return Evaluation{}, fmt.Errorf("review: evaluation of %s %s: %w", r.Kind, r.EventID, err)
	}
	e := Evaluation{
		ID: "ev" + audit.NewID(now), EventKind: r.Kind, EventID: r.EventID, Holder: holder,
		Center: ev.Center, Sector: ev.Sector, Window: ev.Window, Staff: ev.Staff, Matter: ev.Matter,
		Level: r.Level, Comment: r.Comment, Tags: r.Tags, Channel: r.Channel, At: now, Rev: 1,
	}
	var task Task
	if Bad(e.Level) {
		task = s.newTask(e, now)
		e.Task = task.ID
	}
	if err := s.store.CreateEvaluation(ctx, e); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return Evaluation{}, apperr.New(CodeAlreadyRated, "这次办事已经评价过了")
		}
		return Evaluation{}, fmt.Errorf("review: rate %s %s: %w", r.Kind, r.EventID, err)
	}
	if e.Task != "" {
		if err := s.store.CreateTask(ctx, task); err != nil && !apperr.Is(err, apperr.Conflict) {
			// The evaluation stands; the sweep opens the task later.
			s.log.Error("rectification task not stored", "evaluation", e.ID, "err", err)
		}
	}
	if s.cfg.Notifier != nil {
		if err := s.cfg.Notifier.Withdraw(ctx, ReminderMessageID(r.Kind, r.EventID)); err != nil {
			s.log.Warn("evaluation reminder not withdrawn", "evaluation", e.ID, "err", err)
		}
	}
	return e, nil
}

// reRate is the second rating after a founded bad review's follow-up.
func (s *Service) reRate(ctx context.Context, e Evaluation, r Rating, now time.Time) (Evaluation, error) {
	refused := apperr.New(CodeAlreadyRated, "这次办事已经评价过了")
	if e.Task == "" || e.ReRatedFrom != 0 {
		return Evaluation{}, refused
	}
	t, err := s.store.GetTask(ctx, e.Task)
	if err != nil {
		return Evaluation{}, fmt.Errorf("review: task %s: %w", e.Task, err)
	}
	if t.State != TaskClosed || t.Founded == nil || !*t.Founded || t.ReRate != 0 {
		return Evaluation{}, refused
	}
	e.ReRatedFrom, e.Level, e.ReRatedAt = e.Level, r.Level, now
	if r.Comment != "" {
		e.Comment = r.Comment
	}
	if r.Tags != nil {
		e.Tags = r.Tags
	}
	e.Rev++
	if err := s.store.UpdateEvaluation(ctx, e); err != nil {
		if apperr.Is(err, apperr.VersionConflict) {
			return Evaluation{}, refused
		}
		return Evaluation{}, fmt.Errorf("review: re-rate %s: %w", e.ID, err)
	}
	t.ReRate = r.Level
	t.Steps = append(t.Steps, Step{At: now, Action: "re_rate", Note: LevelLabel(r.Level)})
	t.UpdatedAt = now
	t.Rev++
	if err := s.store.UpdateTask(ctx, t); err != nil {
		s.log.Error("re-rate not recorded on task", "task", t.ID, "err", err)
	}
	return e, nil
}

func (s *Service) newTask(e Evaluation, now time.Time) Task {
	clock := deadline.Clock{Start: now, Days: s.cfg.RectifyDays}
	t := Task{
		ID: "rt" + audit.NewID(now), Evaluation: e.ID, Center: e.Center, Sector: e.Sector,
		State: TaskVerify, Steps: []Step{{At: now, Action: "open", Note: LevelLabel(e.Level)}},
		Clock: clock, CreatedAt: now, UpdatedAt: now, Rev: 1,
	}
	if s.cfg.Calendar != nil {
		if st, err := s.engine.Status(s.cfg.Calendar(), clock, now); err == nil {
			t.DueAt = st.Due.UTC()
		} else {
			s.log.Error("rectification deadline unusable", "evaluation", e.ID, "err", err)
		}
	}
	return t
}

// InviteMessageID is the outbox ID of the invitation to rate an event.
func InviteMessageID(kind EventKind, id string) string {
	return "review-invite:" + string(kind) + ":" + id
}

// ReminderMessageID is the outbox ID of the one reminder to rate an event.
func ReminderMessageID(kind EventKind, id string) string {
	return "review-remind:" + string(kind) + ":" + id
}

// Invite queues the invitation to rate a finished event and one reminder
// ReminderAfter later (withdrawn when the event is rated). Both are
// idempotent by event, so calling Invite twice sends once. Events without
// a holder (a walk-in without a card) are skipped.
func (s *Service) Invite(ctx context.Context, kind EventKind, id string) error {
	if s.cfg.Notifier == nil {
		return nil
	}
	ev, err := s.events.Event(ctx, kind, id)
	if err != nil {
		return fmt.Errorf("review: invite %s %s: %w", kind, id, err)
	}
	to := ""
	for _, h := range ev.Holders {
		if strings.HasPrefix(h, "citizen:") || (to == "" && h != "") {
			to = h
		}
	}
	if to == "" || !ev.Finished {
		return nil
	}
	if _, err := s.store.EvaluationOf(ctx, kind, id); err == nil {
		return nil
	}
	data := map[string]string{"event": string(kind), "id": id}
	page := "pages/evaluate/index?kind=" + string(kind) + "&id=" + id
	now := s.now()
	return s.cfg.Notifier.Notify(ctx,
		notify.Message{ID: InviteMessageID(kind, id), To: to, Kind: notify.KindReviewInvite, Data: data, Page: page},
		notify.Message{ID: ReminderMessageID(kind, id), To: to, Kind: notify.KindReviewInvite, Data: data, Page: page,
			NotBefore: now.Add(ReminderAfter)},
	)
}

// InviteAfter is Invite for a caller whose own action succeeded already:
// a failure is logged, not returned, since the action stands.
func (s *Service) InviteAfter(ctx context.Context, kind EventKind, id string) {
	if err := s.Invite(ctx, kind, id); err != nil {
		s.log.Warn("evaluation invitation not queued", "event", string(kind), "id", id, "err", err)
	}
}

// Mine lists the rater's evaluations, newest first.
func (s *Service) Mine(ctx context.Context, who Rater, limit int) ([]Evaluation, error) {
	var hs []string
	for _, h := range who.Holders {
		if h != "" {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return []Evaluation{}, nil
	}
	return s.store.ListEvaluations(ctx, Filter{Holders: hs, Limit: limit})
}

// PendingDays is how far back the 待评价 list looks.
const PendingDays = 30

// MaxPending caps the 待评价 list.
const MaxPending = 50

// Pending is 待评价: the rater's finished events of the last PendingDays
// days, of every kind, not rated yet, latest finished first, at most
// MaxPending. Rating one takes it off the list.
func (s *Service) Pending(ctx context.Context, who Rater) ([]Event, error) {
	var hs []string
	for _, h := range who.Holders {
		if h != "" && !slices.Contains(hs, h) {
			hs = append(hs, h)
		}
	}
	if len(hs) == 0 {
		return []Event{}, nil
	}
	since := s.now().Add(-PendingDays * 24 * time.Hour)
	list, err := s.events.Finished(ctx, hs, since, MaxPending)
	if err != nil {
		return nil, fmt.Errorf("review: pending events: %w", err)
	}
	sort.SliceStable(list, func(i, j int) bool {
		if !list[i].FinishedAt.Equal(list[j].FinishedAt) {
			return list[i].FinishedAt.After(list[j].FinishedAt)
		}
		if list[i].Kind != list[j].Kind {
			return list[i].Kind < list[j].Kind
		}
		return list[i].ID > list[j].ID
	})
	out := make([]Event, 0, len(list))
	seen := map[string]bool{}
	for _, ev := range list {
		key := string(ev.Kind) + ":" + ev.ID
		if seen[key] || !ev.Finished || ev.FinishedAt.Before(since) || !who.owns(ev) {
			continue
		}
		seen[key] = true
		_, err := s.store.EvaluationOf(ctx, ev.Kind, ev.ID)
		if err == nil {
			continue
		}
		if !apperr.Is(err, apperr.NotFound) {
			return nil, fmt.Errorf("review: evaluation of %s %s: %w", ev.Kind, ev.ID, err)
		}
		out = append(out, ev)
		if len(out) == MaxPending {
			break
		}
	}
	return out, nil
}

// Staffer is a staff member acting on tasks.
type Staffer struct {
	ID     string
	Center string
	// Sectors limits the staff member to these sectors; empty means all.
	Sectors    []string
	Supervisor bool
}

func (st Staffer) inSector(sector string) bool {
	return len(st.Sectors) == 0 || slices.Contains(st.Sectors, sector)
}

// Tasks lists the open (or all) tasks of the staff member's sectors.
func (s *Service) Tasks(ctx context.Context, st Staffer, open bool) ([]Task, error) {
	return s.store.ListTasks(ctx, TaskFilter{Center: st.Center, Sectors: st.Sectors, Open: open, Limit: 500})
}

// Task returns one task of the staff member's sectors, with its evaluation.
func (s *Service) Task(ctx context.Context, st Staffer, id string) (Task, Evaluation, error) {
	t, err := s.store.GetTask(ctx, id)
	if err != nil {
		return Task{}, Evaluation{}, err
	}
	if t.Center != st.Center || !st.inSector(t.Sector) {
		return Task{}, Evaluation{}, apperr.New(apperr.NotFound, "没有这个整改任务")
	}
	e, err := s.store.GetEvaluation(ctx, t.Evaluation)
	if err != nil {
		return Task{}, Evaluation{}, fmt.Errorf("review: evaluation of task %s: %w", id, err)
	}
	return t, e, nil
}

func checkNote(note string, required bool) error {
	note = strings.TrimSpace(note)
	if (required && note == "") || utf8.RuneCountInString(note) > MaxNote {
		return apperr.Fields(apperr.FieldError{Field: "note", Message: fmt.Sprintf("请填写说明（不超过 %d 字）", MaxNote)})
	}
	return nil
}

// step moves a task from one state to the next on behalf of st.
func (s *Service) step(ctx context.Context, st Staffer, id string, from TaskState, supervisor bool, fn func(*Task)) (Task, error) {
	t, _, err := s.Task(ctx, st, id)
	if err != nil {
		return Task{}, err
	}
	if supervisor && !st.Supervisor {
		return Task{}, apperr.New(apperr.Forbidden, "需要督办人员确认")
	}
	if t.State != from {
		return Task{}, apperr.New(CodeTaskState, "整改任务不在这一步")
	}
	fn(&t)
	t.UpdatedAt = s.now().UTC().Truncate(time.Millisecond)
	t.Rev++
	if err := s.store.UpdateTask(ctx, t); err != nil {
		if apperr.Is(err, apperr.VersionConflict) {
			return Task{}, err
		}
		return Task{}, fmt.Errorf("review: task %s: %w", id, err)
	}
	return t, nil
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// Verify records whether the bad review was founded (核实): founded goes
// on to rectification, unfounded waits for a supervisor's confirmation.
func (s *Service) Verify(ctx context.Context, st Staffer, id string, founded bool, note string) (Task, error) {
	if err := checkNote(note, true); err != nil {
		return Task{}, err
	}
	return s.step(ctx, st, id, TaskVerify, false, func(t *Task) {
		t.Founded = &founded
		t.State = TaskConfirm
		action := "verify_unfounded"
		if founded {
			t.State, action = TaskRectify, "verify_founded"
		}
		t.Steps = append(t.Steps, Step{At: s.stamp(), Staff: st.ID, Action: action, Note: strings.TrimSpace(note)})
	})
}

// Rectify records what was done about a founded bad review (整改).
func (s *Service) Rectify(ctx context.Context, st Staffer, id, note string) (Task, error) {
	if err := checkNote(note, true); err != nil {
		return Task{}, err
	}
	return s.step(ctx, st, id, TaskRectify, false, func(t *Task) {
		t.State = TaskFollowUp
		t.Steps = append(t.Steps, Step{At: s.stamp(), Staff: st.ID, Action: "rectify", Note: strings.TrimSpace(note)})
	})
}

// FollowUp records the visit back to the citizen (回访) and closes the
// task; the citizen may then rate the event once more.
func (s *Service) FollowUp(ctx context.Context, st Staffer, id, note string) (Task, error) {
	if err := checkNote(note, true); err != nil {
		return Task{}, err
	}
	return s.step(ctx, st, id, TaskFollowUp, false, func(t *Task) {
		t.State = TaskClosed
		t.Steps = append(t.Steps, Step{At: s.stamp(), Staff: st.ID, Action: "follow_up", Note: strings.TrimSpace(note)})
	})
}

// Confirm is the supervisor's confirmation that a bad review was
// unfounded; it closes the task. The review stays counted.
func (s *Service) Confirm(ctx context.Context, st Staffer, id, note string) (Task, error) {
	if err := checkNote(note, false); err != nil {
		return Task{}, err
	}
	return s.step(ctx, st, id, TaskConfirm, true, func(t *Task) {
		t.State = TaskClosed
		t.Steps = append(t.Steps, Step{At: s.stamp(), Staff: st.ID, Action: "confirm_unfounded", Note: strings.TrimSpace(note)})
	})
}

// EscalateOverdue marks every open, overdue task as escalated to the
// supervisor (督办) and returns how many it marked; run periodically.
func (s *Service) EscalateOverdue(ctx context.Context) (int, error) {
	tasks, err := s.store.ListTasks(ctx, TaskFilter{Open: true})
	if err != nil {
		return 0, fmt.Errorf("review: escalate: %w", err)
	}
	now := s.stamp()
	n := 0
	var errs []error
	for _, t := range tasks {
		if t.Escalated || t.DueAt.IsZero() || now.Before(t.DueAt) {
			continue
		}
		t.Escalated, t.EscalatedAt = true, now
		t.Steps = append(t.Steps, Step{At: now, Action: "escalate", Note: "整改超期，转督办"})
		t.UpdatedAt = now
		t.Rev++
		if err := s.store.UpdateTask(ctx, t); err != nil {
			if !apperr.Is(err, apperr.VersionConflict) {
				errs = append(errs, err)
			}
			continue
		}
		n++
		if s.audit != nil {
			_ = s.audit.Record(ctx, audit.Record{At: now, Actor: "system", Center: t.Center, Action: "rectification.escalate",
				Target: "rectification:" + t.ID, Outcome: audit.OutcomeOK})
		}
	}
	return n, errors.Join(errs...)
}

// RateLine is one line of the satisfaction table.
type RateLine struct {
	Key   string `json:"key"`
	Total int    `json:"total"`
	// Levels counts the evaluations per level, index 0 for level 1.
	Levels [5]int `json:"levels"`
	// Satisfied counts levels 3 to 5 (基本满意 and better).
	Satisfied int `json:"satisfied"`
	// Rate is Satisfied / Total, 0 when there is none.
	Rate float64 `json:"rate"`
}

// Dimensions of the satisfaction table.
var Dimensions = []string{"center", "sector", "window", "staff", "matter"}

// Satisfaction computes the satisfaction rates of the staff member's
// center (their sectors only unless a supervisor), grouped by one of
// Dimensions, by key.
func (s *Service) Satisfaction(ctx context.Context, st Staffer, by string) ([]RateLine, error) {
	if !slices.Contains(Dimensions, by) {
		return nil, apperr.Fields(apperr.FieldError{Field: "by", Message: "分组应为 center、sector、window、staff 或 matter"})
	}
	f := Filter{Center: st.Center}
	if !st.Supervisor {
		f.Sectors = st.Sectors
	}
	list, err := s.store.ListEvaluations(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("review: satisfaction: %w", err)
	}
	lines := map[string]*RateLine{}
	for _, e := range list {
		key := map[string]string{"center": e.Center, "sector": e.Sector, "window": e.Window, "staff": e.Staff, "matter": e.Matter}[by]
		l := lines[key]
		if l == nil {
			l = &RateLine{Key: key}
			lines[key] = l
		}
		l.Total++
		if e.Level >= VeryDissatisfied && e.Level <= VerySatisfied {
			l.Levels[e.Level-1]++
		}
		if !Bad(e.Level) {
			l.Satisfied++
		}
	}
	out := make([]RateLine, 0, len(lines))
	for _, l := range lines {
		l.Rate = float64(l.Satisfied) / float64(l.Total)
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}
