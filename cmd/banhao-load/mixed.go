package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/banhao/banhao/internal/queue"
)

// Operation names of the mixed scenario.
const (
	opMixedBook   = "booking (mp)"
	opCaseStart   = "case start (mp)"
	opCaseForm    = "case save (mp)"
	opCaseUpload  = "case upload (mp)"
	opCaseSubmit  = "case submit (mp)"
	opCaseAccept  = "case accept (window)"
	opCaseDecide  = "case approve (back office)"
	opServerDown  = "server down"
	mixedMatter   = "hm-crj-hkmo-endorsement" // online, one required material
	mixedCaseDesk = "exit-entry"              // the matter's sector, whose clerk accepts
)

// ack is one line of the -ack file: a write the server acknowledged (a
// 2xx answer was received), with what a later check needs to find it.
// Kind is ticket, call, complete, booking or case; a case line is written
// after each step (Op: start, form, upload, submit, accept) with the
// revision and state the answer gave.
type ack struct {
	Kind    string     `json:"kind"`
	ID      string     `json:"id"`
	Op      string     `json:"op,omitempty"`
	Number  string     `json:"number,omitempty"`
	Sector  string     `json:"sector,omitempty"`
	Day     string     `json:"day,omitempty"`
	Channel string     `json:"channel,omitempty"`
	Window  string     `json:"window,omitempty"`
	Calls   int        `json:"calls,omitempty"`
	Start   *time.Time `json:"start,omitempty"`
	State   string     `json:"state,omitempty"`
	Rev     int        `json:"rev,omitempty"`
	At      time.Time  `json:"at"`
}

// ackLog appends acknowledged writes to a file, one JSON line each,
// written straight to the file (no buffer in the tool), so that a line
// once written is kept whatever happens to the server or the tool.
type ackLog struct {
	mu sync.Mutex
	f  *os.File
	n  map[string]int
}

// openAckLog opens path for appending; "" is a log that keeps only counts.
func openAckLog(path string) (*ackLog, error) {
	l := &ackLog{n: map[string]int{}}
	if path == "" {
		return l, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("ack file: %w", err)
	}
	l.f = f
	return l, nil
}

func (l *ackLog) add(a ack) {
	a.At = time.Now().UTC()
	b, _ := json.Marshal(a) // plain fields: never fails
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[a.Kind]++
	if l.f != nil {
		_, _ = l.f.Write(append(b, '\n'))
	}
}

// counts returns how many writes of each kind were acknowledged.
func (l *ackLog) counts() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{}
	for k, v := range l.n {
		out[k] = v
	}
	return out
}

func (l *ackLog) close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// serverDown reports whether err says the server did not answer (refused
// or cut connection, timeout) or answered that it cannot serve now (502,
// 503): the write was not acknowledged, and a client waits and goes on.
func serverDown(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.status == http.StatusServiceUnavailable || he.status == http.StatusBadGateway
	}
	var t tally // an answer counted apart, such as slot_full
	return !errors.As(err, &t)
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// downWait is how long a client waits after the server did not answer.
const downWait = 100 * time.Millisecond

// bookEvery spaces the mixed scenario's bookings (200 users over 20 s),
// and takeEvery each mini-program client's tickets (2200 tickets of 200
// users over 20 s with 8 clients), so that every kind of write goes on
// across the whole run, and its kills.
const (
	bookEvery = 80 * time.Millisecond
	takeEvery = 60 * time.Millisecond
)

// persist runs a setup step until the server answers it, waiting while
// it is down (restarting). Errors of an answering server are returned.
func persist(ctx context.Context, step func() error) error {
	for {
		err := step()
		if !serverDown(err) || ctx.Err() != nil {
			return err
		}
		pause(ctx, downWait)
	}
}

// mixedCase is the part of a case answer the mixed scenario reads.
type mixedCase struct {
	ID        string `json:"id"`
	Rev       int    `json:"rev"`
	State     string `json:"state"`
	Materials []struct {
		Index    int    `json:"index"`
		Required bool   `json:"required"`
		Status   string `json:"status"`
	} `json:"materials"`
}

// mixed makes every kind of write the crash test checks, over one run
// that survives the server being killed and restarted: kiosks and
// mini-program users take tickets, clerks call and complete them, users
// book one slot of limited places, and apply online (start, save, upload,
// submit) while a clerk of the matter's sector accepts the submitted
// cases. Ticket calls, bookings and case status changes queue WeChat
// messages in the outbox. Every acknowledged write goes to the -ack file.
func mixed(ctx context.Context, o options, acks *ackLog, out io.Writer) ([]result, error) {
	if o.adminPassword == "" {
		return nil, errors.New("the mixed scenario needs an administrator: give -admin-password (or BANHAO_LOAD_ADMIN_PASSWORD)")
	}
	a := newAPI(o.url, o.clients+o.windows+o.kiosks+2)
	var sectors []string
	if err := persist(ctx, func() (err error) { sectors, err = listSectors(ctx, a, o.center); return err }); err != nil {
		return nil, err
	}
	var admin staffSession
	if err := persist(ctx, func() (err error) { admin, err = staffLogin(ctx, a, o.admin, o.adminPassword, out); return err }); err != nil {
		return nil, err
	}
	var today time.Time
	if err := persist(ctx, func() (err error) { today, err = serverDay(ctx, a, o.center); return err }); err != nil {
		return nil, err
	}
	day := today.Format(time.DateOnly)
	run := newRunID()
	var desks []desk
	if err := persist(ctx, func() (err error) {
		desks, err = openDesks(ctx, a, admin, run, sectors, o.windows, out)
		return err
	}); err != nil {
		return nil, err
	}
	defer closeDesks(a, desks)
	var kiosks []*kioskClient
	if err := persist(ctx, func() (err error) { kiosks, err = registerKiosks(ctx, a, admin, run, o.kiosks); return err }); err != nil {
		return nil, err
	}
	// The clerk who accepts cases and the approver who concludes them:
	// one account each of the matter's sector.
	acceptor, err := caseStaff(ctx, a, admin, run+"acc", "压测受理员", "clerk", out)
	if err != nil {
		return nil, err
	}
	approver, err := caseStaff(ctx, a, admin, run+"apr", "压测审批员", "approver", out)
	if err != nil {
		return nil, err
	}
	all, setup := loginCitizens(ctx, a, nil, run, o.users, o.clients, true, randomIDBase(), out)
	var users []string
	for _, t := range all {
		if t != "" {
			users = append(users, t)
		}
	}
	if len(users) == 0 {
		return setup, errors.New("no user could log in and bind a real name (is it a development server, BANHAO_DEV=true?)")
	}
	sector := o.sector
	if sector == "" {
		sector = sectors[0]
	}
	var date string
	var slot slotView
	if err := persist(ctx, func() (err error) { date, slot, err = freshSlot(ctx, a, users[0], o.center, sector, today); return err }); err != nil {
		return setup, err
	}
	if err := persist(ctx, func() error {
		return a.call(ctx, http.MethodPut, "/api/v1/staff/slots/capacity", admin.token,
			map[string]any{"sector": sector, "start": slot.Start, "capacity": o.places}, nil)
	}); err != nil {
		return setup, fmt.Errorf("set the slot's places: %w", err)
	}
	fmt.Fprintf(out, "mixed: %d users, %d windows, %d kiosks; slot %s %s (%d places); load starts\n",
		len(users), len(desks), len(kiosks), date, slot.Start.Format("15:04"), o.places)

	takeMP, takeKiosk := newMeter(opTakeMP), newMeter(opTakeKiosk)
	callNext, complete := newMeter(opCallNext), newMeter(opComplete)
	book := newMeter(opMixedBook)
	cStart, cForm, cUpload, cSubmit, cAccept := newMeter(opCaseStart), newMeter(opCaseForm), newMeter(opCaseUpload), newMeter(opCaseSubmit), newMeter(opCaseAccept)
	cDecide := newMeter(opCaseDecide)
	down := newMeter(opServerDown)
	// wait records a call the server did not answer and waits a moment.
	wait := func(ctx context.Context, err error) bool {
		if !serverDown(err) {
			return false
		}
		if ctx.Err() == nil {
			down.observe(0, nil)
			pause(ctx, downWait)
		}
		return true
	}

	var nextTake atomic.Int64
	takers := crew{n: max(1, o.clients/2), loop: func(ctx context.Context, _, _ int) error {
		n := nextTake.Add(1) - 1
		if n >= int64(len(users)*len(sectors)) {
			return errStop
		}
		u, s := int(n)%len(users), int(n)/len(users)
		var t struct{ ID, Number, Sector string }
		err := takeMP.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/mp/tickets", users[u], map[string]string{"center": o.center, "sector": sectors[s]}, &t)
			if err == nil {
				acks.add(ack{Kind: "ticket", ID: t.ID, Number: t.Number, Sector: t.Sector, Day: day, Channel: "mp"})
			}
			return err
		})
		if !wait(ctx, err) {
			pause(ctx, takeEvery)
		}
		return nil
	}}
	kioskCrew := crew{n: len(kiosks), loop: func(ctx context.Context, c, i int) error {
		body, _ := json.Marshal(map[string]string{"sector": sectors[(c*7+i)%len(sectors)]})
		var t struct{ ID, Number, Sector string }
		err := takeKiosk.do(ctx, func() error {
			err := kiosks[c].post(ctx, a, "/api/v1/kiosk/tickets", body, &t)
			if err == nil {
				acks.add(ack{Kind: "ticket", ID: t.ID, Number: t.Number, Sector: t.Sector, Day: day, Channel: "kiosk"})
			}
			return err
		})
		if !wait(ctx, err) {
			pause(ctx, 5*time.Millisecond) // a person at the screen
		}
		return nil
	}}
	deskCrew := crew{n: len(desks), loop: func(ctx context.Context, c, _ int) error {
		d := desks[c]
		var called struct {
			TicketID string `json:"ticket_id"`
			Number   string `json:"number"`
			Sector   string `json:"sector"`
			Calls    int    `json:"calls"`
		}
		err := callNext.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+d.window+"/call-next", d.token, nil, &called)
			if err == nil {
				acks.add(ack{Kind: "call", ID: called.TicketID, Number: called.Number, Sector: called.Sector, Window: d.window, Calls: called.Calls})
			}
			if codeOf(err) == string(queue.CodeQueueEmpty) {
				return tally("queue_empty")
			}
			return err
		})
		if err != nil {
			if !wait(ctx, err) {
				pause(ctx, 20*time.Millisecond)
			}
			return nil
		}
		err = complete.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+d.window+"/tickets/"+called.TicketID+"/complete", d.token, nil, nil)
			if err == nil {
				acks.add(ack{Kind: "complete", ID: called.TicketID, Window: d.window})
			}
			return err
		})
		wait(ctx, err)
		return nil
	}}
	var nextBook atomic.Int64
	// One booker, its users one after another, so that the bookings (and
	// the slot filling up) span the run.
	bookers := crew{n: 1, loop: func(ctx context.Context, _, _ int) error {
		n := nextBook.Add(1) - 1
		if n >= int64(len(users)) {
			return errStop
		}
		var ap struct{ ID string }
		err := book.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/mp/appointments", users[n], map[string]any{"center": o.center, "sector": sector, "start": slot.Start}, &ap)
			if err == nil {
				start := slot.Start
				acks.add(ack{Kind: "booking", ID: ap.ID, Sector: sector, Day: date, Start: &start})
			}
			if c := codeOf(err); c == string(queue.CodeSlotFull) {
				return tally(c)
			}
			return err
		})
		wait(ctx, err)
		pause(ctx, bookEvery)
		return nil
	}}
	pngFile := tinyPNG()
	submitted := make(chan string, 4096)
	accepted := make(chan string, 4096)
	var nextCase atomic.Int64
	caseCrew := crew{n: max(1, o.clients/4), loop: func(ctx context.Context, _, _ int) error {
		tok := users[int(nextCase.Add(1)-1)%len(users)]
		step := func(m *meter, op, method, path string, body any) (mixedCase, error) {
			var c mixedCase
			err := m.do(ctx, func() error {
				err := a.call(ctx, method, path, tok, body, &c)
				if err == nil {
					acks.add(ack{Kind: "case", ID: c.ID, Op: op, State: c.State, Rev: c.Rev})
				}
				return err
			})
			wait(ctx, err)
			return c, err
		}
		c, err := step(cStart, "start", http.MethodPost, "/api/v1/mp/cases", map[string]string{"matter": mixedMatter})
		if err != nil {
			return nil
		}
		path := "/api/v1/mp/cases/" + c.ID
		if c, err = step(cForm, "form", http.MethodPut, path+"/form", map[string]any{"rev": c.Rev, "summary": "压测申请 " + run}); err != nil {
			return nil
		}
		for _, m := range c.Materials {
			if !m.Required || m.Status != "missing" {
				continue
			}
			var up mixedCase
			err := cUpload.do(ctx, func() error {
				err := a.send(ctx, http.MethodPost, fmt.Sprintf("%s/materials/%d/file", path, m.Index), pngFile, func(h http.Header) {
					h.Set("Content-Type", "image/png")
					h.Set("Authorization", "Bearer "+tok)
				}, &up)
				if err == nil {
					acks.add(ack{Kind: "case", ID: up.ID, Op: "upload", State: up.State, Rev: up.Rev})
				}
				return err
			})
			if wait(ctx, err); err != nil {
				return nil
			}
		}
		if c, err = step(cSubmit, "submit", http.MethodPost, path+"/submit", nil); err != nil {
			return nil
		}
		select {
		case submitted <- c.ID:
		default:
		}
		return nil
	}}
	acceptCrew := crew{n: 1, loop: func(ctx context.Context, _, _ int) error {
		var id string
		select {
		case id = <-submitted:
		case <-ctx.Done():
			return nil
		}
		var c mixedCase
		err := cAccept.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/staff/cases/"+id+"/accept", acceptor.token, map[string]any{}, &c)
			if err == nil {
				acks.add(ack{Kind: "case", ID: c.ID, Op: "accept", State: c.State, Rev: c.Rev})
			}
			return err
		})
		if err == nil {
			select {
			case accepted <- c.ID:
			default:
			}
		}
		wait(ctx, err)
		return nil
	}}
	// One approver approves the accepted cases as fast as one can, so
	// that kills also land as cases close.
	decideCrew := crew{n: 1, loop: func(ctx context.Context, _, _ int) error {
		var id string
		select {
		case id = <-accepted:
		case <-ctx.Done():
			return nil
		}
		var c mixedCase
		err := cDecide.do(ctx, func() error {
			err := a.call(ctx, http.MethodPost, "/api/v1/staff/cases/"+id+"/decide", approver.token,
				map[string]any{"approve": true, "reason": "符合条件"}, &c)
			if err == nil {
				acks.add(ack{Kind: "case", ID: c.ID, Op: "decide", State: c.State, Rev: c.Rev})
			}
			return err
		})
		wait(ctx, err)
		return nil
	}}
	meters := []*meter{takeMP, takeKiosk, callNext, complete, book, cStart, cForm, cUpload, cSubmit, cAccept, cDecide, down}
	crews := []crew{takers, kioskCrew, deskCrew, bookers, caseCrew, acceptCrew, decideCrew}
	rs := phase{title: "mixed", d: o.duration, meters: meters, crews: crews}.run(ctx, out)
	counts := acks.counts()
	fmt.Fprintf(out, "mixed: acknowledged writes: %d tickets, %d calls, %d completions, %d bookings, %d case steps\n",
		counts["ticket"], counts["call"], counts["complete"], counts["booking"], counts["case"])
	return append(setup, rs...), nil
}

// caseStaff opens an account with role in the mixed matter's sector and
// logs it in: the clerk accepting the cases submitted during the run, the
// approver concluding them.
func caseStaff(ctx context.Context, a *api, admin staffSession, user, name, role string, out io.Writer) (staffSession, error) {
	username, password := "ld"+user, randomPassword()
	err := persist(ctx, func() error {
		err := a.call(ctx, http.MethodPost, "/api/v1/staff/accounts", admin.token, map[string]any{
			"username": username, "name": name, "roles": []string{role}, "sectors": []string{mixedCaseDesk}, "password": password,
		}, nil)
		if he := (*httpError)(nil); errors.As(err, &he) && he.status == http.StatusConflict {
			return nil // made by a try the server did not answer
		}
		return err
	})
	if err != nil {
		return staffSession{}, fmt.Errorf("create the %s: %w", role, err)
	}
	var s staffSession
	err = persist(ctx, func() (err error) { s, err = staffLogin(ctx, a, username, password, out); return err })
	return s, err
}

// tinyPNG is the file uploaded for a case's material.
func tinyPNG() []byte {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	var b bytes.Buffer
	_ = png.Encode(&b, img) // to memory: never fails
	return b.Bytes()
}
