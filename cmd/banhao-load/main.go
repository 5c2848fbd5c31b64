// Command banhao-load drives a running banhao server over HTTP with the
// lobby's heaviest moments and prints throughput and latency per
// operation, next to the baselines that bound them on the same machine:
// fiber's raw JSON handler and the raw store operation (a SQLite ticket
// insert with its counter, one transaction per take and group-committed).
//
//	BANHAO_DEV=true BANHAO_DEV_NOW=2026-11-25T09:00:00+08:00 go run ./cmd/banhao -data /tmp/load
//	go run ./cmd/banhao-load -url http://127.0.0.1:8080 -scenario rush -clients 64 -duration 10s
//
// Scenarios: "rush" (mini-program users taking tickets across the sectors;
// needs a development server, whose dev: logins it uses), "status" (guide
// and ticket-status reads), and "baseline" (only the local baselines).
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
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "banhao-load:", err)
		os.Exit(1)
	}
}

type options struct {
	url      string
	scenario string
	clients  int
	duration time.Duration
	center   string
	users    int
	baseline bool
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	fs := flag.NewFlagSet("banhao-load", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "server to drive")
	fs.StringVar(&o.scenario, "scenario", "rush", "rush, status or baseline")
	fs.IntVar(&o.clients, "clients", 64, "concurrent clients")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each phase runs")
	fs.StringVar(&o.center, "center", "hm", "center code")
	fs.IntVar(&o.users, "users", 2000, "mini-program users in the rush")
	fs.BoolVar(&o.baseline, "baselines", true, "also measure the local baselines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.clients < 1 || o.clients > 4096 || o.duration <= 0 || o.duration > time.Hour {
		return errors.New("clients must be 1-4096 and duration positive, at most an hour")
	}
	var results []result
	switch o.scenario {
	case "rush":
		r, err := rush(ctx, o, stdout)
		if err != nil {
			return err
		}
		results = append(results, r...)
	case "status":
		r, err := status(ctx, o, stdout)
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
		r, err := baselines(ctx, o, stdout)
		if err != nil {
			return err
		}
		results = append(results, r...)
	}
	report(stdout, results)
	return nil
}
