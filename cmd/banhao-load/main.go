// Command banhao-load drives a running banhao server over HTTP with the
// lobby's heaviest moments and prints throughput and latency per
// operation, next to the baselines that bound them on the same machine:
// fiber's raw JSON handler and the raw store operation (a SQLite ticket
// insert with its counter, one transaction per take and group-committed).
// It ends with a PASS or FAIL line per target of the issue it can judge.
//
//	BANHAO_DEV=true BANHAO_DEV_NOW=2026-11-25T09:00:00+08:00 BANHAO_LOGINS_PER_MINUTE=100 go run ./cmd/banhao -data /tmp/load
//	go run ./cmd/banhao-load -scenario rush -admin-password <printed at the server's first start>
//
// Scenarios:
//
//   - rush: the morning rush. Kiosks (-kiosks) give out walk-in tickets and
//     mini-program users (-users, over -clients connections) take tickets
//     across every sector while clerks at -windows windows call the next
//     ticket and complete it; then the users follow their tickets.
//   - booking: the release of appointment places. -users users log in and
//     bind a real name (not timed), one slot is set to -places places,
//     then all of them book it at the same moment; the slot is read back.
//   - scale: the users of the rush take tickets and follow them, with no
//     kiosks or windows; run it on a server filled with 10 k tickets and
//     -save the figures, then on one with 1 M and -compare.
//   - mixed: every kind of write at once, for the crash test: kiosk and
//     mini-program ticket takes, window calls and completions, bookings of
//     one slot of -places places, online cases (start, save, upload,
//     submit) and their acceptance by a clerk. It survives the server
//     dying: a call the server did not answer is not acknowledged, and the
//     client waits a moment and goes on. -ack FILE appends one JSON line
//     per acknowledged write.
//   - status: guide reads and health checks.
//   - baseline: only the local baselines.
//
// The rush, booking and mixed need an administrator (windows, clerk accounts,
// kiosks, slot places): -admin and -admin-password, or
// BANHAO_LOAD_ADMIN_PASSWORD. A development server prints the demo
// administrator's password ("admin") at its first start; `go run
// ./cmd/banhao admin create -username NAME -center hm` makes another.
// Users log in with development codes, so the server must run with
// BANHAO_DEV=true. Staff logins are limited per address
// (BANHAO_LOGINS_PER_MINUTE, default 10): the rush logs in one clerk per
// window and waits when refused, so raise the limit for a quick run.
//
// "banhao-load fill -data DIR -tickets 1000000" stores tickets of past
// days straight into a stopped server's SQLite file, for the scale runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "banhao-load:", err)
		os.Exit(1)
	}
}

// options are the settings of a load run.
type options struct {
	url           string
	scenario      string
	clients       int
	duration      time.Duration
	center        string
	sector        string
	users         int
	kiosks        int
	windows       int
	places        int
	admin         string
	adminPassword string
	baseline      bool
	save          string
	compare       string
	// ack is the file the mixed scenario appends acknowledged writes to.
	ack string
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "fill" {
		return runFill(ctx, args[1:], stdout)
	}
	var o options
	fs := flag.NewFlagSet("banhao-load", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprint(stdout, `usage: banhao-load [flags]            drive a running server
       banhao-load fill -data DIR [flags] store past tickets in a stopped server's data folder

The rush, booking and mixed scenarios need an administrator: -admin-password or
BANHAO_LOAD_ADMIN_PASSWORD. A development server (BANHAO_DEV=true) prints
the password of its demo administrator "admin" at its first start;
"go run ./cmd/banhao admin create -username NAME -center hm" makes another.
Raise the server's BANHAO_LOGINS_PER_MINUTE (default 10) above the number
of windows, or the tool waits for the staff login limit.

`)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server to drive")
	fs.StringVar(&o.scenario, "scenario", "rush", "rush, booking, scale, mixed, status or baseline")
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients, one HTTP connection each (booking: 256 unless set)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each measured phase runs")
	fs.StringVar(&o.center, "center", "hm", "center code (the administrator's center)")
	fs.StringVar(&o.sector, "sector", "", "sector whose slot is booked (booking; default the center's first)")
	fs.IntVar(&o.users, "users", 4000, "mini-program users, each taking one ticket per sector (booking: 5000, scale: 8000 unless set)")
	fs.IntVar(&o.kiosks, "kiosks", 4, "kiosks taking walk-in tickets in the rush")
	fs.IntVar(&o.windows, "windows", 10, "windows calling and completing tickets in the rush, each with its own clerk")
	fs.IntVar(&o.places, "places", 200, "places of the booked slot (booking)")
	fs.StringVar(&o.admin, "admin", "admin", "administrator's username (rush, booking, mixed)")
	fs.StringVar(&o.adminPassword, "admin-password", "", "administrator's password; default BANHAO_LOAD_ADMIN_PASSWORD")
	fs.BoolVar(&o.baseline, "baselines", true, "also measure the local baselines (scale: off unless set)")
	fs.StringVar(&o.save, "save", "", "write this run's figures to this JSON file")
	fs.StringVar(&o.ack, "ack", "", "append one JSON line per acknowledged write to this file (mixed)")
	fs.StringVar(&o.compare, "compare", "", "compare with the figures saved in this JSON file (the scale comparison)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if o.adminPassword == "" {
		// Read after parsing, so that the help never shows it.
		o.adminPassword = getenv("BANHAO_LOAD_ADMIN_PASSWORD")
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch o.scenario {
	case "booking":
		if !set["clients"] {
			o.clients = 256
		}
		if !set["users"] {
			o.users = 5000
		}
	case "mixed":
		defaults := map[string]func(){
			"clients": func() { o.clients = 16 }, "users": func() { o.users = 200 }, "places": func() { o.places = 100 },
			"windows": func() { o.windows = 4 }, "kiosks": func() { o.kiosks = 2 }, "baselines": func() { o.baseline = false },
		}
		for name, set0 := range defaults {
			if !set[name] {
				set0()
			}
		}
	case "scale":
		o.kiosks, o.windows = 0, 0
		if !set["baselines"] {
			o.baseline = false
		}
		if !set["users"] {
			o.users = 8000 // 88 000 tickets: enough for a phase of 10 s without windows
		}
	}
	switch {
	case o.clients < 1 || o.clients > 4096:
		return errors.New("clients must be 1-4096")
	case o.duration <= 0 || o.duration > time.Hour:
		return errors.New("duration must be positive, at most an hour")
	case o.users < 1 || o.users > 1_000_000:
		return errors.New("users must be 1-1000000")
	case o.kiosks < 0 || o.kiosks > 100 || o.windows < 0 || o.windows > 100:
		return errors.New("kiosks and windows must be 0-100")
	case o.places < 1 || o.places > 1000:
		return errors.New("places must be 1-1000 (the server's limit for a slot)")
	}
	var then savedRun
	if o.compare != "" {
		var err error
		if then, err = loadRun(o.compare); err != nil {
			return err
		}
	}

	var results []result
	var checks []check
	cpu := &cpuProbe{server: newAPI(o.url, 1)}
	switch o.scenario {
	case "rush", "scale":
		r, err := rush(ctx, o, cpu, stdout)
		results = append(results, r...)
		if err != nil {
			report(stdout, results)
			return err
		}
	case "booking":
		r, cs, err := booking(ctx, o, cpu, stdout)
		results = append(results, r...)
		checks = append(checks, cs...)
		if err != nil {
			report(stdout, results)
			return err
		}
	case "mixed":
		acks, err := openAckLog(o.ack)
		if err != nil {
			return err
		}
		r, err := mixed(ctx, o, acks, stdout)
		results = append(results, r...)
		if cerr := acks.close(); err == nil {
			err = cerr
		}
		if err != nil {
			report(stdout, results)
			return err
		}
	case "status":
		r, err := status(ctx, o, cpu, stdout)
		if err != nil {
			return err
		}
		results = append(results, r...)
	case "baseline":
		o.baseline = true
	default:
		return fmt.Errorf("unknown scenario %q", o.scenario)
	}
	if o.baseline {
		r, err := baselines(ctx, o, cpu, stdout)
		if err != nil {
			return err
		}
		results = append(results, r...)
	}
	fmt.Fprintln(stdout)
	report(stdout, results)
	if o.scenario == "rush" {
		checks = append(rushChecks(results, o.clients), checks...)
	}
	now := toSaved(o, results)
	if o.compare != "" {
		fmt.Fprintln(stdout)
		checks = append(checks, compareRuns(stdout, then, now)...)
	}
	if len(checks) > 0 {
		fmt.Fprintln(stdout)
		printChecks(stdout, checks)
	}
	if o.save != "" {
		if err := saveRun(o.save, now); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "figures saved to %s\n", o.save)
	}
	return nil
}
