package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/sqlite"
)

// cst is the lobby's time zone, in which days and opening hours are read.
var cst = time.FixedZone("CST", 8*3600)

// fillOptions are the settings of "banhao-load fill".
type fillOptions struct {
	data    string
	tickets int
	perDay  int
	center  string
	before  string
	batch   int
}

// runFill fills the embedded store of a data folder with the tickets of
// past working days, straight into SQLite, so that a server started on
// it afterwards can be measured with a million tickets stored.
func runFill(ctx context.Context, args []string, stdout io.Writer) error {
	var o fillOptions
	fs := flag.NewFlagSet("banhao-load fill", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.StringVar(&o.data, "data", "", "data folder of the server (BANHAO_DATA_DIR); the server must not be running")
	fs.IntVar(&o.tickets, "tickets", 1_000_000, "tickets to store")
	fs.IntVar(&o.perDay, "per-day", 4000, "tickets per working day")
	fs.StringVar(&o.center, "center", "hm", "center code")
	fs.StringVar(&o.before, "before", time.Now().In(cst).Format(time.DateOnly),
		"the server's today (its BANHAO_DEV_NOW date, if set): tickets go on the working days before it")
	fs.IntVar(&o.batch, "batch", 20_000, "tickets per transaction")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	before, err := time.ParseInLocation(time.DateOnly, o.before, cst)
	switch {
	case o.data == "":
		return errors.New("fill: -data is required")
	case err != nil:
		return fmt.Errorf("fill: -before %q is not a date such as 2026-11-25", o.before)
	case o.tickets < 1 || o.tickets > 100_000_000 || o.perDay < 1 || o.batch < 1:
		return errors.New("fill: -tickets must be 1-100000000, -per-day and -batch positive")
	}
	path := filepath.Join(o.data, "banhao.db")
	db, err := sqlite.Open(ctx, sqlite.Config{Path: path})
	if err != nil {
		return err
	}
	defer db.Close()
	sectors, err := fillSectors(ctx, sqlite.NewCatalogStore(db), o.center)
	if err != nil {
		return err
	}
	qs := sqlite.NewQueueStore(db)
	days := pastWorkingDays(before, (o.tickets+o.perDay-1)/o.perDay)
	start := time.Now()
	batch := make([]queue.Ticket, 0, o.batch)
	done := 0
	flush := func() error {
		if err := qs.BulkInsertTickets(ctx, batch); err != nil {
			return err
		}
		done += len(batch)
		batch = batch[:0]
		el := time.Since(start)
		fmt.Fprintf(stdout, "\r%-30s [%s] %d/%d  %7.0f/s", "fill", bar(float64(done)/float64(o.tickets)), done, o.tickets, float64(done)/el.Seconds())
		return nil
	}
	left := o.tickets
	for _, day := range days {
		n := min(left, o.perDay)
		for _, t := range dayTickets(o.center, sectors, day, n) {
			batch = append(batch, t)
			if len(batch) == o.batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		left -= n
	}
	if err := flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	fmt.Fprintf(stdout, "stored %d tickets of %d working days (%s to %s) in %s in %s\n", done, len(days),
		days[0].Format(time.DateOnly), days[len(days)-1].Format(time.DateOnly), path, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "start the server on it: BANHAO_DATA_DIR=%s, with a clock on %s or later\n", o.data, o.before)
	return nil
}

// fillSectors returns the center's sectors from the store, or from the
// demo catalog a development server loads at its first start.
func fillSectors(ctx context.Context, cs *sqlite.CatalogStore, center string) ([]catalog.Sector, error) {
	secs, err := cs.ListSectors(ctx, center)
	if err != nil {
		return nil, err
	}
	if len(secs) > 0 {
		return secs, nil
	}
	b, err := assets.FS.ReadFile("catalog/demo.json")
	if err != nil {
		return nil, err
	}
	seed, err := catalog.ParseSeedBytes(b)
	if err != nil {
		return nil, err
	}
	for _, s := range seed.Sectors {
		if s.Center == center {
			secs = append(secs, s)
		}
	}
	if len(secs) == 0 {
		return nil, fmt.Errorf("fill: center %q has no sectors in the store nor in the demo catalog", center)
	}
	return secs, nil
}

// pastWorkingDays returns the n Mondays to Fridays before day, oldest first.
func pastWorkingDays(day time.Time, n int) []time.Time {
	out := make([]time.Time, n)
	d := day
	for i := n - 1; i >= 0; {
		d = d.AddDate(0, 0, -1)
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			out[i] = d
			i--
		}
	}
	return out
}

// dayTickets makes the n tickets of a finished day of a center, spread
// over its sectors and its opening hours as a lobby's day leaves them:
// numbered from 1 in each sector, taken from 8:30, mostly served (some
// missed), three in five at a kiosk and the rest from the mini-program.
func dayTickets(center string, sectors []catalog.Sector, day time.Time, n int) []queue.Ticket {
	open := time.Date(day.Year(), day.Month(), day.Day(), 8, 30, 0, 0, cst)
	step := 8 * time.Hour / time.Duration(max(n, 1))
	seqs := make([]int, len(sectors))
	out := make([]queue.Ticket, n)
	for j := range n {
		s := j % len(sectors)
		seqs[s]++
		taken := open.Add(time.Duration(j) * step)
		t := queue.Ticket{
			ID: "tk" + audit.NewID(taken), Center: center, Sector: sectors[s].Code, Day: day.Format(time.DateOnly),
			Seq: seqs[s], Number: queue.FormatNumber(queue.SectorLetter(sectors[s].Order), seqs[s]),
			Channel: queue.ChannelKiosk, Status: queue.StatusDone, TakenAt: taken.UTC(),
			CalledAt: taken.Add(10 * time.Minute).UTC(), Window: fmt.Sprintf("wnfill%02d", j%10), Calls: 1,
		}
		if j%5 >= 3 {
			t.Channel, t.Holder = queue.ChannelMiniProgram, fmt.Sprintf("citizen:fill%s%05d", day.Format("20060102"), j)
		}
		if j%10 == 9 {
			t.Status, t.Calls = queue.StatusMissed, queue.MaxCalls
		} else {
			t.FinishedAt = t.CalledAt.Add(time.Duration(8+j%11) * time.Minute)
		}
		out[j] = t
	}
	return out
}
