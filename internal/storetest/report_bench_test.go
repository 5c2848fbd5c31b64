package storetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"

	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/internal/sqlite"
)

// BenchmarkMonthlyReport generates the monthly summary of a center with
// 100,000 events in the month (50,000 tickets, 30,000 cases, 20,000
// evaluations), loaded in bulk, on each embedded backend.
func BenchmarkMonthlyReport(b *testing.B) {
	tickets, cs, evals := monthEvents(50_000, 30_000, 20_000)
	for _, bk := range []struct {
		name string
		open func(b *testing.B) stores
	}{{"sqlite", benchSQLiteStores}, {"ferretdb", benchFerretStores}} {
		b.Run(bk.name, func(b *testing.B) {
			s := pickReport(bk.open(b))
			ctx := b.Context()
			start := time.Now()
			if err := s.tickets(ctx, tickets); err != nil {
				b.Fatal(err)
			}
			if err := s.cases(ctx, cs); err != nil {
				b.Fatal(err)
			}
			if err := s.evals(ctx, evals); err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: loaded 100,000 events in %v", bk.name, time.Since(start).Round(time.Millisecond))
			svc := report.NewService(s.src, reportZone, nil)
			b.ResetTimer()
			for b.Loop() {
				m, err := svc.Monthly(ctx, "C1", "2026-11")
				if err != nil {
					b.Fatal(err)
				}
				if m.Total.Tickets != len(tickets) || m.Total.Evaluations != len(evals) {
					b.Fatalf("monthly counts %d tickets, %d evaluations", m.Total.Tickets, m.Total.Evaluations)
				}
			}
		})
	}
}

// monthEvents makes a reproducible month of events of center C1 in
// November 2026: 11 sectors, 20 windows, working hours.
func monthEvents(nt, nc, ne int) ([]queue.Ticket, []cases.Case, []review.Evaluation) {
	rng := rand.New(rand.NewPCG(2026, 11))
	sector := func() string { return fmt.Sprintf("S%02d", rng.IntN(11)) }
	window := func() string { return fmt.Sprintf("W%02d", rng.IntN(20)) }
	when := func() time.Time {
		return time.Date(2026, 11, 1+rng.IntN(30), 8+rng.IntN(9), rng.IntN(60), rng.IntN(60), 0, reportZone)
	}
	seq := map[string]int{}
	tickets := make([]queue.Ticket, nt)
	for i := range tickets {
		taken := when()
		t := queue.Ticket{ID: fmt.Sprintf("t%06d", i), Center: "C1", Sector: sector(), Day: taken.Format(time.DateOnly),
			Channel: queue.ChannelKiosk, Status: queue.StatusDone, TakenAt: taken, Window: window(), Calls: 1}
		seq[t.Sector+t.Day]++
		t.Seq = seq[t.Sector+t.Day]
		t.Number = queue.FormatNumber("A", t.Seq)
		t.CalledAt = taken.Add(time.Duration(rng.IntN(3600)) * time.Second)
		t.FinishedAt = t.CalledAt.Add(10 * time.Minute)
		tickets[i] = t
	}
	channels := []catalog.Channel{catalog.ChannelOnline, catalog.ChannelKiosk, catalog.ChannelWindow}
	sources := []cases.Source{cases.SourceUpload, cases.SourceECert, cases.SourceReuse}
	cs := make([]cases.Case, nc)
	for i := range cs {
		created := when()
		c := cases.Case{ID: fmt.Sprintf("c%06d", i), Number: fmt.Sprintf("N%06d", i), Applicant: fmt.Sprintf("id:%d", i),
			Center: "C1", Sector: sector(), Matter: fmt.Sprintf("M%03d", rng.IntN(400)), Channel: channels[rng.IntN(3)],
			State: cases.StateAccepted, CreatedAt: created, AcceptedAt: created.Add(time.Hour), DueAt: created.Add(5 * 24 * time.Hour),
			UpdatedAt: created}
		if rng.IntN(2) == 0 {
			c.State, c.ClosedAt = cases.StateApproved, created.Add(time.Duration(rng.IntN(7*24))*time.Hour)
		}
		for range 3 {
			c.Materials = append(c.Materials, cases.Material{Name: "材料", Status: cases.MaterialProvided, Source: sources[rng.IntN(3)]})
		}
		cs[i] = c
	}
	evals := make([]review.Evaluation, ne)
	for i := range evals {
		evals[i] = review.Evaluation{ID: fmt.Sprintf("e%06d", i), EventKind: review.EventTicket, EventID: fmt.Sprintf("t%06d", i),
			Holder: "id:x", Center: "C1", Sector: sector(), Window: window(), Level: 1 + rng.IntN(5), Channel: "pad", At: when()}
	}
	return tickets, cs, evals
}

func benchSQLiteStores(b *testing.B) stores {
	db, err := sqlite.Open(b.Context(), sqlite.Config{Path: filepath.Join(b.TempDir(), "banhao.db")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return stores{sqlite: db}
}

func benchFerretStores(b *testing.B) stores {
	dir := b.TempDir()
	ferretNew.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + dir + "/",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	ferretNew.Unlock()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	b.Cleanup(func() {
		cancel()
		<-done
	})
	db, err := mongo.OpenWith(b.Context(), mongo.Options{URI: f.MongoDBURI(), Database: "banhao", MaxPoolSize: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close(context.Background()) })
	return stores{mongo: db}
}
