package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// Operation names, by which the checks find the results.
const (
	opTakeMP     = "ticket take (mp)"
	opTakeKiosk  = "ticket take (kiosk)"
	opCallNext   = "call next (window)"
	opComplete   = "complete (window)"
	opStatus     = "ticket status (mp)"
	opRawJSON    = "baseline: raw fiber JSON"
	opStoreTx    = "baseline: store take, 1 tx each"
	opStoreGroup = "baseline: store take, grouped"
)

// ticketRef is a ticket taken in the run and the token of its holder.
type ticketRef struct {
	id, token string
}

// rush is the morning rush: kiosks give out walk-in tickets and
// mini-program users take tickets across every sector as fast as the
// server answers, while clerks at the windows call the next ticket and
// complete it; then the users follow their tickets (status reads). With
// no kiosks and no windows (the scale scenario) only the users take.
func rush(ctx context.Context, o options, cpu *cpuProbe, out io.Writer) ([]result, error) {
	staffed := o.kiosks > 0 || o.windows > 0
	if staffed && o.adminPassword == "" {
		return nil, errors.New("the rush needs an administrator to open windows and register kiosks: give -admin-password " +
			"(or BANHAO_LOAD_ADMIN_PASSWORD); a development server prints the demo administrator's password at its first start, " +
			"and `go run ./cmd/banhao admin create` makes one; or run with -kiosks 0 -windows 0")
	}
	a := newAPI(o.url, o.clients)
	sectors, err := listSectors(ctx, a, o.center)
	if err != nil {
		return nil, err
	}
	run := newRunID()
	var desks []desk
	var kiosks []*kioskClient
	if staffed {
		admin, err := staffLogin(ctx, a, o.admin, o.adminPassword, out)
		if err != nil {
			return nil, err
		}
		if admin.center != o.center {
			return nil, fmt.Errorf("the administrator %s belongs to center %q, not %q: pass -center %s", o.admin, admin.center, o.center, admin.center)
		}
		staffAPI := newAPI(o.url, max(1, o.windows))
		desks, err = openDesks(ctx, staffAPI, admin, run, sectors, o.windows, out)
		defer closeDesks(staffAPI, desks)
		if err != nil {
			return nil, err
		}
		if kiosks, err = registerKiosks(ctx, a, admin, run, o.kiosks); err != nil {
			return nil, err
		}
	}

	tokens, setup := loginCitizens(ctx, a, cpu, run, o.users, o.clients, false, 0, out)
	var users []string
	for _, t := range tokens {
		if t != "" {
			users = append(users, t)
		}
	}
	if len(users) == 0 {
		return setup, errors.New("no mini-program user could log in (is it a development server, BANHAO_DEV=true?)")
	}

	takeMP, takeKiosk := newMeter(opTakeMP), newMeter(opTakeKiosk)
	callNext, complete := newMeter(opCallNext), newMeter(opComplete)
	refs := make([]ticketRef, len(users)*len(sectors))
	var next atomic.Int64
	crews := []crew{{n: o.clients, loop: func(ctx context.Context, _, _ int) error {
		n := next.Add(1) - 1
		if n >= int64(len(refs)) {
			return errStop
		}
		u, s := int(n)%len(users), int(n)/len(users)
		var t struct {
			ID string `json:"id"`
		}
		err := takeMP.do(ctx, func() error {
			return a.call(ctx, http.MethodPost, "/api/v1/mp/tickets", users[u], map[string]string{"center": o.center, "sector": sectors[s]}, &t)
		})
		if err == nil {
			refs[n] = ticketRef{id: t.ID, token: users[u]}
		}
		return nil
	}}}
	meters := []*meter{takeMP}
	if len(kiosks) > 0 {
		kioskAPI := newAPI(o.url, len(kiosks))
		crews = append(crews, crew{n: len(kiosks), loop: func(ctx context.Context, c, i int) error {
			body, _ := json.Marshal(map[string]string{"sector": sectors[(c*7+i)%len(sectors)]})
			_ = takeKiosk.do(ctx, func() error { return kiosks[c].post(ctx, kioskAPI, "/api/v1/kiosk/tickets", body, nil) })
			return nil
		}})
		meters = append(meters, takeKiosk)
	}
	if len(desks) > 0 {
		deskAPI := newAPI(o.url, len(desks))
		crews = append(crews, crew{n: len(desks), loop: func(ctx context.Context, c, _ int) error {
			d := desks[c]
			var called struct {
				TicketID string `json:"ticket_id"`
			}
			err := callNext.do(ctx, func() error {
				err := deskAPI.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+d.window+"/call-next", d.token, nil, &called)
				if codeOf(err) == string(queue.CodeQueueEmpty) {
					return tally("queue_empty")
				}
				return err
			})
			if err != nil {
				// Nobody waits (or the call failed): a clerk looks up again shortly.
				select {
				case <-time.After(20 * time.Millisecond):
				case <-ctx.Done():
				}
				return nil
			}
			_ = complete.do(ctx, func() error {
				return deskAPI.call(ctx, http.MethodPost, "/api/v1/staff/windows/"+d.window+"/tickets/"+called.TicketID+"/complete", d.token, nil, nil)
			})
			return nil
		}})
		meters = append(meters, callNext, complete)
	}
	lobby := phase{title: o.scenario, d: o.duration, cpu: cpu, meters: meters, crews: crews}.run(ctx, out)

	var taken []ticketRef
	for _, r := range refs {
		if r.id != "" {
			taken = append(taken, r)
		}
	}
	status := newMeter(opStatus)
	read := phase{title: "status reads", d: o.duration, cpu: cpu, meters: []*meter{status}, crews: []crew{{n: o.clients, loop: func(ctx context.Context, c, i int) error {
		if len(taken) == 0 {
			return errStop
		}
		r := taken[(c*7919+i)%len(taken)]
		_ = status.do(ctx, func() error { return a.call(ctx, http.MethodGet, "/api/v1/mp/tickets/"+r.id, r.token, nil, nil) })
		return nil
	}}}}.run(ctx, out)
	return append(append(setup, lobby...), read...), nil
}

// status is a storm of public reads: a guide and the health check.
func status(ctx context.Context, o options, cpu *cpuProbe, out io.Writer) ([]result, error) {
	a := newAPI(o.url, o.clients)
	guide := hammer(ctx, cpu, "guide read", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return a.call(ctx, http.MethodGet, "/api/v1/matters/hm-gjj-loan", "", nil, nil)
	})
	health := hammer(ctx, cpu, "health check", o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return a.call(ctx, http.MethodGet, "/healthz", "", nil, nil)
	})
	return []result{guide, health}, nil
}

// baselines measures, on this machine, what bounds the server: fiber's
// raw JSON handler over loopback, and the store's ticket take with durable
// writes, one transaction per take (one client) and group-committed.
func baselines(ctx context.Context, o options, cpu *cpuProbe, out io.Writer) ([]result, error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"number": "A001", "ahead": 3}) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go app.Listener(ln)
	defer app.Shutdown()
	a := newAPI("http://"+ln.Addr().String(), o.clients)
	raw := hammer(ctx, cpu, opRawJSON, o.clients, o.duration, out, func(ctx context.Context, _, _ int) error {
		return a.call(ctx, http.MethodGet, "/x", "", nil, nil)
	})

	dir, err := os.MkdirTemp("", "banhao-load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(dir, "load.db"), Synchronous: "FULL"})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	qs := sqlite.NewQueueStore(db)
	var seq atomic.Int64
	take := func(ctx context.Context, _, _ int) error {
		n := seq.Add(1)
		_, err := qs.TakeTicket(ctx, queue.Ticket{ID: fmt.Sprintf("tk%d", n), Center: "hm", Sector: "tax", Day: "2026-11-25",
			Status: queue.StatusWaiting, TakenAt: time.Now()}, "K")
		return err
	}
	single := hammer(ctx, cpu, opStoreTx, 1, o.duration, out, take)
	group := hammer(ctx, cpu, opStoreGroup, o.clients, o.duration, out, take)
	return []result{raw, single, group}, nil
}

// rushChecks judges the rush against the targets, with the
// baselines measured in the same run.
func rushChecks(rs []result, clients int) []check {
	var cs []check
	mp, ok := find(rs, opTakeMP)
	if !ok {
		return nil
	}
	kiosk, _ := find(rs, opTakeKiosk)
	issued := float64(mp.ok+kiosk.ok) / mp.elapsed.Seconds()
	p99 := percentile(mergeSorted(mp.latencies, kiosk.latencies), .99)
	cs = append(cs,
		check{target: "ticket issue over HTTP ≥ 15000/s", pass: issued >= 15000, got: fmt.Sprintf("%.0f/s (mini-program and kiosks)", issued)},
		check{target: fmt.Sprintf("ticket issue p99 < 20ms at %d clients", clients), pass: p99 < 20*time.Millisecond, got: round(p99).String()})
	if tx, ok := find(rs, opStoreTx); ok {
		cs = append(cs, check{target: "ticket issue ≥ 4 × the store's one-transaction-per-take rate", pass: issued >= 4*tx.rate(),
			got: fmt.Sprintf("%.0f/s = %.2f × %.0f/s", issued, issued/tx.rate(), tx.rate())})
	}
	st, okStatus := find(rs, opStatus)
	if raw, ok := find(rs, opRawJSON); ok && okStatus {
		cs = append(cs, check{target: "ticket status read ≥ 0.3 × fiber's raw JSON rate", pass: st.rate() >= 0.3*raw.rate(),
			got: fmt.Sprintf("%.0f/s = %.2f × %.0f/s", st.rate(), st.rate()/raw.rate(), raw.rate())})
	}
	return cs
}

// mergeSorted merges two sorted latency lists.
func mergeSorted(a, b []time.Duration) []time.Duration {
	out := make([]time.Duration, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		if a[i] <= b[j] {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return append(append(out, a[i:]...), b[j:]...)
}
