package review_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/sqlite"
)

// events is a fixed set of service events.
type events map[string]review.Event

func (e events) Event(_ context.Context, kind review.EventKind, id string) (review.Event, error) {
	ev, ok := e[string(kind)+":"+id]
	if !ok {
		return review.Event{}, apperr.New(apperr.NotFound, "no event")
	}
	return ev, nil
}

// Finished returns the finished events of any of holders since a time,
// as the stores would: by holder and finish time only.
func (e events) Finished(_ context.Context, holders []string, since time.Time, limit int) ([]review.Event, error) {
	var out []review.Event
	for _, ev := range e {
		if !ev.Finished || ev.FinishedAt.Before(since) {
			continue
		}
		for _, h := range holders {
			if slices.Contains(ev.Holders, h) {
				out = append(out, ev)
				break
			}
		}
	}
	return out, nil
}

// workdays is a calendar of Monday to Friday in China's zone.
type workdays struct{}

func (workdays) IsWorkingDay(d calendar.Day) bool {
	wd := d.Time(time.UTC).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}
func (workdays) Location() *time.Location { return time.FixedZone("CST", 8*3600) }

type fixture struct {
	svc   *review.Service
	store review.Store
	now   *time.Time
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := sqlite.NewReviewStore(db)
	// Wednesday 2026-11-25, 10:00 in China.
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	ev := events{
		"ticket:tk1": {Kind: review.EventTicket, ID: "tk1", Holders: []string{"id:alice"}, Center: "hm", Sector: "gjj", Window: "w1", Staff: "st1", Matter: "m1", Finished: true},
		"ticket:tk2": {Kind: review.EventTicket, ID: "tk2", Holders: []string{"id:alice"}, Center: "hm", Sector: "gjj", Finished: false},
		"ticket:tk3": {Kind: review.EventTicket, ID: "tk3", Holders: []string{"id:bob"}, Center: "hm", Sector: "gjj", Finished: true},
		"case:cs1":   {Kind: review.EventCase, ID: "cs1", Holders: []string{"id:alice", "citizen:c1"}, Center: "hm", Sector: "bdc", Matter: "m2", Finished: true},
	}
	svc := review.NewService(st, ev, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now },
		review.Config{Calendar: func() deadline.Calendar { return workdays{} }})
	return fixture{svc: svc, store: st, now: &now}
}

var alice = review.Rater{Holders: []string{"citizen:c1", "id:alice"}}

func TestRateRefusals(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		r    review.Rating
		code apperr.Code
	}{
		{"level 0", review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 0}, apperr.Invalid},
		{"level 6", review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 6}, apperr.Invalid},
		{"long comment", review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 3, Comment: strings.Repeat("慢", 50_000)}, apperr.Invalid},
		{"bad kind", review.Rating{Kind: "visit", EventID: "tk1", Level: 3}, apperr.Invalid},
		{"unknown", review.Rating{Kind: review.EventTicket, EventID: "tk9", Level: 3}, apperr.NotFound},
		{"not finished", review.Rating{Kind: review.EventTicket, EventID: "tk2", Level: 3}, review.CodeEventNotFinished},
		{"someone else's", review.Rating{Kind: review.EventTicket, EventID: "tk3", Level: 3}, review.CodeNotYourEvent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.svc.Rate(ctx, alice, tc.r); apperr.CodeOf(err) != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
		})
	}
	e, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 5, Comment: "<script>x</script>", Channel: review.ChannelMP})
	if err != nil || e.Comment != "<script>x</script>" || e.Task != "" || e.Holder != "id:alice" || e.Staff != "st1" {
		t.Fatalf("rate: %+v, %v", e, err)
	}
	if _, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 4}); !apperr.Is(err, review.CodeAlreadyRated) {
		t.Fatalf("second: %v, want already_rated", err)
	}
}

func TestRectificationLoop(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: review.VeryDissatisfied, Comment: "等太久"})
	if err != nil || e.Task == "" {
		t.Fatalf("rate: %+v, %v", e, err)
	}
	clerk := review.Staffer{ID: "st2", Center: "hm", Sectors: []string{"gjj"}}
	other := review.Staffer{ID: "st3", Center: "hm", Sectors: []string{"bdc"}}
	if _, err := f.svc.Verify(ctx, other, e.Task, true, "查实"); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("other sector: %v", err)
	}
	if _, err := f.svc.Rectify(ctx, clerk, e.Task, "整改"); !apperr.Is(err, review.CodeTaskState) {
		t.Fatalf("rectify before verify: %v", err)
	}
	task, err := f.svc.Verify(ctx, clerk, e.Task, true, "查实：叫号系统故障")
	if err != nil || task.State != review.TaskRectify {
		t.Fatalf("verify: %+v, %v", task, err)
	}
	// Wednesday + 5 working days: due at the start of Thursday next week.
	if want := time.Date(2026, 12, 3, 0, 0, 0, 0, time.FixedZone("", 8*3600)); !task.DueAt.Equal(want) {
		t.Errorf("due %v, want %v", task.DueAt, want)
	}
	if _, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 4}); !apperr.Is(err, review.CodeAlreadyRated) {
		t.Fatalf("re-rate before follow-up: %v", err)
	}
	if task, err = f.svc.Rectify(ctx, clerk, e.Task, "已修复叫号系统"); err != nil || task.State != review.TaskFollowUp {
		t.Fatalf("rectify: %+v, %v", task, err)
	}
	if task, err = f.svc.FollowUp(ctx, clerk, e.Task, "电话回访，群众认可"); err != nil || task.State != review.TaskClosed {
		t.Fatalf("follow up: %+v, %v", task, err)
	}
	e2, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: review.Satisfied})
	if err != nil || e2.Level != 4 || e2.ReRatedFrom != 1 {
		t.Fatalf("re-rate: %+v, %v", e2, err)
	}
	if _, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventTicket, EventID: "tk1", Level: 5}); !apperr.Is(err, review.CodeAlreadyRated) {
		t.Fatalf("third: %v", err)
	}
	task, _, _ = f.svc.Task(ctx, clerk, e.Task)
	if task.ReRate != 4 {
		t.Errorf("task re-rate %d", task.ReRate)
	}
}

func TestUnfoundedAndEscalation(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	e, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventCase, EventID: "cs1", Level: review.Dissatisfied})
	if err != nil {
		t.Fatal(err)
	}
	approver := review.Staffer{ID: "st4", Center: "hm", Sectors: []string{"bdc"}}
	sup := review.Staffer{ID: "st9", Center: "hm", Supervisor: true}
	if _, err := f.svc.Verify(ctx, approver, e.Task, false, "材料不全，依法不予办理"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Confirm(ctx, approver, e.Task, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("confirm by approver: %v", err)
	}
	// Overdue: two weeks later the unconfirmed task escalates, once.
	*f.now = f.now.Add(14 * 24 * time.Hour)
	if n, err := f.svc.EscalateOverdue(ctx); err != nil || n != 1 {
		t.Fatalf("escalate: %d, %v", n, err)
	}
	if n, _ := f.svc.EscalateOverdue(ctx); n != 0 {
		t.Fatalf("escalated again: %d", n)
	}
	task, err := f.svc.Confirm(ctx, sup, e.Task, "核实无误")
	if err != nil || task.State != review.TaskClosed || !task.Escalated {
		t.Fatalf("confirm: %+v, %v", task, err)
	}
	if _, err := f.svc.Rate(ctx, alice, review.Rating{Kind: review.EventCase, EventID: "cs1", Level: 5}); !apperr.Is(err, review.CodeAlreadyRated) {
		t.Fatalf("re-rate of unfounded: %v", err)
	}
	lines, err := f.svc.Satisfaction(ctx, sup, "sector")
	if err != nil || len(lines) != 1 || lines[0].Key != "bdc" || lines[0].Total != 1 || lines[0].Rate != 0 {
		t.Fatalf("satisfaction: %+v, %v", lines, err)
	}
	mine, err := f.svc.Mine(ctx, alice, 10)
	if err != nil || len(mine) != 1 {
		t.Fatalf("mine: %+v, %v", mine, err)
	}
	if _, err := f.svc.Satisfaction(ctx, sup, "colour"); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("bad dimension: %v", err)
	}
}

// outbox records what the service queues and withdraws.
type outbox struct {
	sent      []notify.Message
	withdrawn []string
}

func (o *outbox) Notify(_ context.Context, msgs ...notify.Message) error {
	o.sent = append(o.sent, msgs...)
	return nil
}

func (o *outbox) Withdraw(_ context.Context, ids ...string) error {
	o.withdrawn = append(o.withdrawn, ids...)
	return nil
}

func TestInviteAndReminder(t *testing.T) {
	f := newFixture(t)
	ob := &outbox{}
	ev := events{
		"case:cs1":   {Kind: review.EventCase, ID: "cs1", Holders: []string{"id:alice", "citizen:c1"}, Center: "hm", Sector: "bdc", Finished: true},
		"case:cs2":   {Kind: review.EventCase, ID: "cs2", Holders: []string{"id:alice"}, Center: "hm", Sector: "bdc", Finished: false},
		"ticket:tk9": {Kind: review.EventTicket, ID: "tk9", Center: "hm", Sector: "gjj", Finished: true},
	}
	svc := review.NewService(f.store, ev, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return *f.now },
		review.Config{Calendar: func() deadline.Calendar { return workdays{} }, Notifier: ob})
	ctx := t.Context()
	if err := svc.Invite(ctx, review.EventCase, "cs2"); err != nil || len(ob.sent) != 0 {
		t.Fatalf("unfinished case invited: %v %+v", err, ob.sent)
	}
	if err := svc.Invite(ctx, review.EventTicket, "tk9"); err != nil || len(ob.sent) != 0 {
		t.Fatalf("walk-in invited: %v %+v", err, ob.sent)
	}
	if err := svc.Invite(ctx, review.EventCase, "cs1"); err != nil || len(ob.sent) != 2 {
		t.Fatalf("invite: %v %+v", err, ob.sent)
	}
	inv, rem := ob.sent[0], ob.sent[1]
	if inv.To != "citizen:c1" || inv.Kind != notify.KindReviewInvite || !inv.NotBefore.IsZero() {
		t.Errorf("invitation %+v", inv)
	}
	if rem.To != "citizen:c1" || !rem.NotBefore.Equal(f.now.Add(72*time.Hour)) || rem.ID == inv.ID {
		t.Errorf("reminder %+v", rem)
	}
	if _, err := svc.Rate(ctx, alice, review.Rating{Kind: review.EventCase, EventID: "cs1", Level: 5}); err != nil {
		t.Fatal(err)
	}
	if len(ob.withdrawn) != 1 || ob.withdrawn[0] != rem.ID {
		t.Errorf("withdrawn %v, want the reminder %s", ob.withdrawn, rem.ID)
	}
	// Rated: no more invitations.
	ob.sent = nil
	if err := svc.Invite(ctx, review.EventCase, "cs1"); err != nil || len(ob.sent) != 0 {
		t.Fatalf("invited after rating: %v %+v", err, ob.sent)
	}
}

func TestPending(t *testing.T) {
	db, err := sqlite.Open(t.Context(), sqlite.Config{Path: filepath.Join(t.TempDir(), "banhao.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 11, 25, 2, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	ev := events{
		"ticket:tk1":         {Kind: review.EventTicket, ID: "tk1", Holders: []string{"id:alice"}, Finished: true, FinishedAt: ago(time.Hour), Title: "A001"},
		"case:cs1":           {Kind: review.EventCase, ID: "cs1", Holders: []string{"id:alice", "citizen:c1"}, Finished: true, FinishedAt: ago(48 * time.Hour), Title: "营业执照"},
		"parcel:pc1":         {Kind: review.EventParcel, ID: "pc1", Holders: []string{"id:alice", "citizen:c1"}, Finished: true, FinishedAt: ago(2 * time.Hour), Title: "SF1"},
		"consultation:qa1":   {Kind: review.EventConsultation, ID: "qa1", Holders: []string{"", "citizen:c1"}, Finished: true, FinishedAt: ago(3 * time.Hour), Title: "租房提取"},
		"ticket:old":         {Kind: review.EventTicket, ID: "old", Holders: []string{"id:alice"}, Finished: true, FinishedAt: ago(31 * 24 * time.Hour)},
		"ticket:waiting":     {Kind: review.EventTicket, ID: "waiting", Holders: []string{"id:alice"}, FinishedAt: ago(time.Minute)},
		"ticket:bobs":        {Kind: review.EventTicket, ID: "bobs", Holders: []string{"id:bob"}, Finished: true, FinishedAt: ago(time.Minute)},
		"consultation:bobqa": {Kind: review.EventConsultation, ID: "bobqa", Holders: []string{"id:bob", "citizen:c2"}, Finished: true, FinishedAt: ago(time.Minute)},
	}
	svc := review.NewService(sqlite.NewReviewStore(db), ev, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), func() time.Time { return now },
		review.Config{Calendar: func() deadline.Calendar { return workdays{} }})
	ctx := t.Context()
	ids := func(who review.Rater) string {
		t.Helper()
		list, err := svc.Pending(ctx, who)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(list))
		for i, e := range list {
			out[i] = string(e.Kind) + ":" + e.ID
		}
		return strings.Join(out, ",")
	}
	want := "ticket:tk1,parcel:pc1,consultation:qa1,case:cs1"
	if got := ids(alice); got != want {
		t.Fatalf("alice's pending %s, want %s", got, want)
	}
	// By one form only: the mini-program account without a real name
	// sees what it holds.
	if got := ids(review.Rater{Holders: []string{"citizen:c1"}}); got != "parcel:pc1,consultation:qa1,case:cs1" {
		t.Fatalf("account's pending %s", got)
	}
	if got := ids(review.Rater{}); got != "" {
		t.Fatalf("nobody's pending %s", got)
	}
	if _, err := svc.Rate(ctx, alice, review.Rating{Kind: review.EventParcel, EventID: "pc1", Level: 5}); err != nil {
		t.Fatal(err)
	}
	if got := ids(alice); got != "ticket:tk1,consultation:qa1,case:cs1" {
		t.Fatalf("alice's pending after rating the parcel: %s", got)
	}
	if got := ids(review.Rater{Holders: []string{"id:bob", "citizen:c2"}}); got != "consultation:bobqa,ticket:bobs" {
		t.Fatalf("bob's pending %s", got)
	}
}
