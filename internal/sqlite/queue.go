package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/queue"
)

// QueueStore implements queue.Store. Taking a ticket and calling the next
// one are single transactions on the one writer connection, so they are
// atomic and numbers are gapless.
type QueueStore struct {
	db *DB
}

var _ queue.Store = (*QueueStore)(nil)

// NewQueueStore returns the queue store on db.
func NewQueueStore(db *DB) *QueueStore { return &QueueStore{db: db} }

const ticketColumns = `id, center, sector, day, seq, number, channel, holder, priority, rank, status, taken_at, called_at, window, calls, finished_at, reactivated, declared, matters`

func scanTicket(sc scanner) (queue.Ticket, error) {
	var t queue.Ticket
	var rank int
	var taken, called, finished int64
	var matters string
	err := sc.Scan(&t.ID, &t.Center, &t.Sector, &t.Day, &t.Seq, &t.Number, &t.Channel, &t.Holder, &t.Priority, &rank,
		&t.Status, &taken, &called, &t.Window, &t.Calls, &finished, &t.Reactivated, &t.Declared, &matters)
	t.TakenAt, t.CalledAt, t.FinishedAt = fromMS(taken), fromMS(called), fromMS(finished)
	if err == nil && matters != "[]" && matters != "" {
		err = json.Unmarshal([]byte(matters), &t.Matters)
	}
	return t, err
}

// TakeTicket implements queue.Store.
func (s *QueueStore) TakeTicket(ctx context.Context, t queue.Ticket, letter string) (queue.Ticket, error) {
	// The unique index tickets_one_active refuses a holder's second active
	// ticket in the sector; the savepoint then undoes the counter too, so a
	// refusal uses no number.
	err := s.db.Write(ctx, func(tx *Tx) error {
		err := tx.QueryRow(`INSERT INTO ticket_counters (center, sector, day, seq) VALUES (?, ?, ?, 1)
			ON CONFLICT (center, sector, day) DO UPDATE SET seq = seq + 1 RETURNING seq`, t.Center, t.Sector, t.Day).Scan(&t.Seq)
		if err != nil {
			return fmt.Errorf("sqlite: take ticket: %w", err)
		}
		t.Number = queue.FormatNumber(letter, t.Seq)
		_, err = tx.Exec(`INSERT INTO tickets (`+ticketColumns+`, taken_sector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.Center, t.Sector, t.Day, t.Seq, t.Number, t.Channel, t.Holder, t.Priority, t.Priority.Rank(),
			t.Status, ms(t.TakenAt), ms(t.CalledAt), t.Window, t.Calls, ms(t.FinishedAt), t.Reactivated, t.Declared, mattersJSON(t.Matters), t.Sector)
		if isActiveDuplicate(err) {
			return queue.ErrActiveTicket
		}
		if err != nil {
			return fmt.Errorf("sqlite: take ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return queue.Ticket{}, err
	}
	t.TakenAt = t.TakenAt.UTC().Truncate(time.Millisecond)
	return t, nil
}

// GetTicket implements queue.Store.
func (s *QueueStore) GetTicket(ctx context.Context, id string) (queue.Ticket, error) {
	t, err := queryOne(ctx, s.db, scanTicket, apperr.New(apperr.NotFound, "没有这个排队号"), `SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return t, fmt.Errorf("sqlite: get ticket: %w", err)
	}
	return t, err
}

// TicketByNumber implements queue.Store.
func (s *QueueStore) TicketByNumber(ctx context.Context, center, sector, day string, seq int) (queue.Ticket, error) {
	t, err := queryOne(ctx, s.db, scanTicket, apperr.New(apperr.NotFound, "没有这个排队号"),
		`SELECT `+ticketColumns+` FROM tickets WHERE center = ? AND taken_sector = ? AND day = ? AND seq = ?`, center, sector, day, seq)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return t, fmt.Errorf("sqlite: ticket by number: %w", err)
	}
	return t, err
}

// mattersJSON is a ticket's matters as stored: a JSON array, never null.
func mattersJSON(m []string) string {
	b, _ := json.Marshal(orEmpty(m))
	return string(b)
}

// isActiveDuplicate reports whether err is the unique index of active
// tickets per holder refusing a row (not the index of numbers).
func isActiveDuplicate(err error) bool {
	return isUnique(err) && strings.Contains(err.Error(), "tickets.holder")
}

func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// ClaimNext implements queue.Store.
func (s *QueueStore) ClaimNext(ctx context.Context, center, day string, sectors []string, window string, at, starveBefore time.Time) (queue.Ticket, error) {
	if len(sectors) == 0 {
		return queue.Ticket{}, apperr.New(apperr.NotFound, "没有等候的排队号")
	}
	var out queue.Ticket
	err := s.db.Write(ctx, func(tx *Tx) error {
		args := []any{center, day}
		for _, sec := range sectors {
			args = append(args, sec)
		}
		base := `SELECT id FROM tickets WHERE center = ? AND day = ? AND status = 'waiting' AND sector IN (` + inList(len(sectors)) + `)`
		var id string
		err := sql.ErrNoRows
		if !starveBefore.IsZero() {
			err = tx.QueryRow(base+` AND taken_at < ? ORDER BY taken_at, seq LIMIT 1`, append(args, ms(starveBefore))...).Scan(&id)
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.QueryRow(base+` ORDER BY rank, taken_at, seq LIMIT 1`, args...).Scan(&id)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有等候的排队号")
		}
		if err != nil {
			return fmt.Errorf("sqlite: call next: %w", err)
		}
		if _, err := tx.Exec(`UPDATE tickets SET status = 'called', window = ?, called_at = ?, calls = calls + 1 WHERE id = ?`, window, ms(at), id); err != nil {
			return fmt.Errorf("sqlite: call next: %w", err)
		}
		out, err = scanTicket(tx.QueryRow(`SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
		return err
	})
	return out, err
}

// CountAhead implements queue.Store.
func (s *QueueStore) CountAhead(ctx context.Context, t queue.Ticket) (int, error) {
	st, err := s.db.readStmt(ctx, `SELECT count(*) FROM tickets WHERE center = ? AND sector = ? AND day = ? AND status = 'waiting'
		AND (rank < ? OR (rank = ? AND (taken_at < ? OR (taken_at = ? AND seq < ?))))`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: count ahead: %w", err)
	}
	var n int
	r := t.Priority.Rank()
	if err := st.QueryRowContext(ctx, t.Center, t.Sector, t.Day, r, r, ms(t.TakenAt), ms(t.TakenAt), t.Seq).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count ahead: %w", err)
	}
	return n, nil
}

// CreateWindow implements queue.Store.
func (s *QueueStore) CreateWindow(ctx context.Context, w queue.Window) error {
	sectors, _ := json.Marshal(orEmpty(w.Sectors))
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO windows (id, center, name, sectors, created_at) VALUES (?, ?, ?, ?, ?)`,
			w.ID, w.Center, w.Name, string(sectors), ms(w.CreatedAt))
		if isUnique(err) {
			return apperr.New(apperr.Conflict, "该窗口名称已存在")
		}
		if err != nil {
			return fmt.Errorf("sqlite: create window: %w", err)
		}
		return nil
	})
}

const windowColumns = `id, center, name, sectors, created_at, staff, opened_at`

func scanWindow(sc scanner) (queue.Window, error) {
	var w queue.Window
	var sectors string
	var created, opened int64
	if err := sc.Scan(&w.ID, &w.Center, &w.Name, &sectors, &created, &w.Staff, &opened); err != nil {
		return w, err
	}
	w.CreatedAt, w.OpenedAt = fromMS(created), fromMS(opened)
	return w, json.Unmarshal([]byte(sectors), &w.Sectors)
}

// GetWindow implements queue.Store.
func (s *QueueStore) GetWindow(ctx context.Context, id string) (queue.Window, error) {
	w, err := queryOne(ctx, s.db, scanWindow, apperr.New(apperr.NotFound, "没有这个窗口"), `SELECT `+windowColumns+` FROM windows WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return w, fmt.Errorf("sqlite: get window: %w", err)
	}
	return w, err
}

// SignWindow implements queue.Store.
func (s *QueueStore) SignWindow(ctx context.Context, id, from, staff string, at time.Time) (queue.Window, error) {
	var out queue.Window
	err := s.db.Write(ctx, func(tx *Tx) error {
		w, err := scanWindow(tx.QueryRow(`SELECT `+windowColumns+` FROM windows WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有这个窗口")
		}
		if err != nil {
			return fmt.Errorf("sqlite: sign window: %w", err)
		}
		if w.Staff != from {
			return queue.ErrWindowTaken
		}
		w.Staff, w.OpenedAt = staff, at.UTC().Truncate(time.Millisecond)
		if staff == "" {
			w.OpenedAt = time.Time{}
		}
		if _, err := tx.Exec(`UPDATE windows SET staff = ?, opened_at = ? WHERE id = ?`, w.Staff, ms(w.OpenedAt), id); err != nil {
			return fmt.Errorf("sqlite: sign window: %w", err)
		}
		out = w
		return nil
	})
	return out, err
}

// ServiceTimes implements queue.Store.
func (s *QueueStore) ServiceTimes(ctx context.Context, center, sector string, since time.Time, limit int) ([]time.Duration, error) {
	scan := func(sc scanner) (time.Duration, error) {
		var called, finished int64
		err := sc.Scan(&called, &finished)
		return time.Duration(finished-called) * time.Millisecond, err
	}
	out, err := queryAll(ctx, s.db, scan, `SELECT called_at, finished_at FROM tickets WHERE center = ? AND sector = ? AND status = 'done'
		AND finished_at >= ? AND called_at > 0 ORDER BY finished_at DESC LIMIT ?`, center, sector, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: service times: %w", err)
	}
	return out, nil
}

// ListWindows implements queue.Store.
func (s *QueueStore) ListWindows(ctx context.Context, center string) ([]queue.Window, error) {
	out, err := queryAll(ctx, s.db, scanWindow, `SELECT `+windowColumns+` FROM windows WHERE center = ? ORDER BY name`, center)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list windows: %w", err)
	}
	return out, nil
}

// MoveTicket implements queue.Store.
func (s *QueueStore) MoveTicket(ctx context.Context, id string, from []queue.Status, window string, c queue.Change) (queue.Ticket, error) {
	var out queue.Ticket
	err := s.db.Write(ctx, func(tx *Tx) error {
		cur, err := scanTicket(tx.QueryRow(`SELECT `+ticketColumns+` FROM tickets WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有这个排队号")
		}
		if err != nil {
			return fmt.Errorf("sqlite: move ticket: %w", err)
		}
		okStatus := false
		for _, st := range from {
			okStatus = okStatus || cur.Status == st
		}
		if !okStatus || (window != "" && cur.Window != window) {
			return queue.ErrTicketMoved
		}
		if c.Status != "" {
			cur.Status = c.Status
		}
		if c.Sector != "" {
			cur.Sector = c.Sector
		}
		if c.Window != "" {
			cur.Window = c.Window
		}
		if c.ClearWindow {
			cur.Window = ""
		}
		if !c.CalledAt.IsZero() {
			cur.CalledAt = c.CalledAt.UTC().Truncate(time.Millisecond)
		}
		if c.Call {
			cur.Calls++
		}
		if !c.FinishedAt.IsZero() {
			cur.FinishedAt = c.FinishedAt.UTC().Truncate(time.Millisecond)
		}
		if !c.Reactivate.IsZero() {
			if cur.Reactivated {
				return queue.ErrTicketMoved
			}
			cur.Reactivated, cur.TakenAt, cur.Calls = true, c.Reactivate.UTC().Truncate(time.Millisecond), 0
		}
		if c.Priority != "" {
			cur.Priority = c.Priority
		}
		if c.ClearDeclared {
			cur.Declared = ""
		}
		if c.Matters != nil {
			cur.Matters = nil // none reads back as nil, as from a fresh row
			if len(c.Matters) > 0 {
				cur.Matters = c.Matters
			}
		}
		_, err = tx.Exec(`UPDATE tickets SET status = ?, sector = ?, window = ?, called_at = ?, calls = ?, finished_at = ?, reactivated = ?,
			taken_at = ?, priority = ?, rank = ?, declared = ?, matters = ? WHERE id = ?`,
			cur.Status, cur.Sector, cur.Window, ms(cur.CalledAt), cur.Calls, ms(cur.FinishedAt), cur.Reactivated,
			ms(cur.TakenAt), cur.Priority, cur.Priority.Rank(), cur.Declared, mattersJSON(cur.Matters), id)
		if isActiveDuplicate(err) {
			return queue.ErrActiveTicket // a transfer or re-activation into a sector where the holder has a ticket
		}
		if err != nil {
			return fmt.Errorf("sqlite: move ticket: %w", err)
		}
		out = cur
		return nil
	})
	return out, err
}

// RecentCalls implements queue.Store.
func (s *QueueStore) RecentCalls(ctx context.Context, center, day string, limit int) ([]queue.Ticket, error) {
	out, err := queryAll(ctx, s.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE center = ? AND day = ? AND status <> 'waiting' AND called_at > 0
		ORDER BY called_at DESC, seq DESC LIMIT ?`, center, day, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent calls: %w", err)
	}
	return out, nil
}

// ServedTickets implements queue.Store.
func (s *QueueStore) ServedTickets(ctx context.Context, holder string, since time.Time, limit int) ([]queue.Ticket, error) {
	if holder == "" {
		return []queue.Ticket{}, nil
	}
	out, err := queryAll(ctx, s.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE holder = ? AND status = 'done' AND finished_at >= ?
		ORDER BY finished_at DESC, id DESC LIMIT ?`, holder, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: served tickets: %w", err)
	}
	return out, nil
}

// Waiting implements queue.Store.
func (s *QueueStore) Waiting(ctx context.Context, center, day, sector string, limit int) ([]queue.Ticket, error) {
	out, err := queryAll(ctx, s.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE center = ? AND sector = ? AND day = ? AND status = 'waiting'
		ORDER BY rank, taken_at, seq LIMIT ?`, center, sector, day, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: waiting: %w", err)
	}
	return out, nil
}

// AtWindow implements queue.Store.
func (s *QueueStore) AtWindow(ctx context.Context, center, day, window string) ([]queue.Ticket, error) {
	out, err := queryAll(ctx, s.db, scanTicket, `SELECT `+ticketColumns+` FROM tickets WHERE center = ? AND day = ? AND status IN ('called', 'parked')
		AND window = ? ORDER BY called_at, seq`, center, day, window)
	if err != nil {
		return nil, fmt.Errorf("sqlite: tickets at window: %w", err)
	}
	return out, nil
}

// WaitingCounts implements queue.Store.
func (s *QueueStore) WaitingCounts(ctx context.Context, center, day string) (map[string]int, error) {
	st, err := s.db.readStmt(ctx, `SELECT sector, count(*) FROM tickets WHERE center = ? AND day = ? AND status = 'waiting' GROUP BY sector`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: waiting counts: %w", err)
	}
	rows, err := st.QueryContext(ctx, center, day)
	if err != nil {
		return nil, fmt.Errorf("sqlite: waiting counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var sector string
		var n int
		if err := rows.Scan(&sector, &n); err != nil {
			return nil, fmt.Errorf("sqlite: waiting counts: %w", err)
		}
		out[sector] = n
	}
	return out, rows.Err()
}

// HasActiveTicket implements queue.Store.
func (s *QueueStore) HasActiveTicket(ctx context.Context, center, sector, day, holder string) (bool, error) {
	st, err := s.db.readStmt(ctx, `SELECT count(*) FROM tickets WHERE center = ? AND sector = ? AND day = ? AND holder = ? AND holder <> ''
		AND status IN ('waiting', 'called', 'parked')`)
	if err != nil {
		return false, fmt.Errorf("sqlite: active ticket: %w", err)
	}
	var n int
	if err := st.QueryRowContext(ctx, center, sector, day, holder).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: active ticket: %w", err)
	}
	return n > 0, nil
}
