package sqlite

import (
	"context"
	"fmt"

	"github.com/banhao/banhao/internal/queue"
)

// BulkInsertTickets stores tickets exactly as given (numbers, statuses
// and times included) in one transaction, and raises each center, sector
// and day's counter to the highest number stored, so that tickets taken
// later that day go on from there. It is for filling a database before a
// load test (banhao-load fill), where taking a million tickets one by one
// over HTTP would take too long: it applies none of the queue's rules
// (gapless numbers, one active ticket per holder), so it must never be
// used on a lobby's live data.
func (s *QueueStore) BulkInsertTickets(ctx context.Context, ts []queue.Ticket) error {
	if len(ts) == 0 {
		return nil
	}
	type counterKey struct{ center, sector, day string }
	highest := map[counterKey]int{}
	for _, t := range ts {
		k := counterKey{t.Center, t.Sector, t.Day}
		highest[k] = max(highest[k], t.Seq)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		// The columns are named here, not taken from ticketColumns: columns
		// added later have defaults, and a load-test fill needs none of them.
		ins, err := tx.tx.Prepare(`INSERT INTO tickets (id, center, sector, day, seq, number, channel, holder, priority, rank,
			status, taken_at, called_at, window, calls, finished_at, taken_sector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: bulk insert tickets: %w", err)
		}
		defer ins.Close()
		for _, t := range ts {
			if _, err := ins.Exec(t.ID, t.Center, t.Sector, t.Day, t.Seq, t.Number, t.Channel, t.Holder, t.Priority, t.Priority.Rank(),
				t.Status, ms(t.TakenAt), ms(t.CalledAt), t.Window, t.Calls, ms(t.FinishedAt), t.Sector); err != nil {
				return fmt.Errorf("sqlite: bulk insert ticket %s: %w", t.ID, err)
			}
		}
		for k, seq := range highest {
			if _, err := tx.Exec(`INSERT INTO ticket_counters (center, sector, day, seq) VALUES (?, ?, ?, ?)
				ON CONFLICT (center, sector, day) DO UPDATE SET seq = max(seq, excluded.seq)`, k.center, k.sector, k.day, seq); err != nil {
				return fmt.Errorf("sqlite: bulk insert tickets: counter: %w", err)
			}
		}
		return nil
	})
}
