package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/notify"
)

// OutboxStore implements notify.Store. Each method is one transaction on
// the one writer connection, so a claim is atomic for the whole batch:
// two senders never get the same message.
type OutboxStore struct {
	db *DB
}

var _ notify.Store = (*OutboxStore)(nil)

// NewOutboxStore returns the outbox store on db.
func NewOutboxStore(db *DB) *OutboxStore { return &OutboxStore{db: db} }

const outboxColumns = `id, recipient, kind, data, page, not_before, created_at, status, attempts, next_attempt, last_error, sent_at`

func scanMessage(sc scanner) (notify.Message, error) {
	var m notify.Message
	var data string
	var notBefore, created, next, sent int64
	err := sc.Scan(&m.ID, &m.To, &m.Kind, &data, &m.Page, &notBefore, &created, &m.Status, &m.Attempts, &next, &m.LastError, &sent)
	if err != nil {
		return m, err
	}
	m.NotBefore, m.CreatedAt, m.NextAttempt, m.SentAt = fromMS(notBefore), fromMS(created), fromMS(next), fromMS(sent)
	if err := json.Unmarshal([]byte(data), &m.Data); err != nil {
		return m, fmt.Errorf("message %s: data: %w", m.ID, err)
	}
	if len(m.Data) == 0 {
		m.Data = nil
	}
	return m, nil
}

func errNoMessage() error { return apperr.New(apperr.NotFound, "没有这条通知") }

// Enqueue implements notify.Store: INSERT … ON CONFLICT DO NOTHING keeps
// the first message with an ID.
func (s *OutboxStore) Enqueue(ctx context.Context, msgs ...notify.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	datas := make([]string, len(msgs))
	for i, m := range msgs {
		data := m.Data
		if data == nil {
			data = map[string]string{}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("sqlite: enqueue %s: %w", m.ID, err)
		}
		datas[i] = string(b)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		for i, m := range msgs {
			next := m.NotBefore
			if next.IsZero() {
				next = m.CreatedAt
			}
			_, err := tx.Exec(`INSERT INTO outbox (`+outboxColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', 0)
				ON CONFLICT (id) DO NOTHING`,
				m.ID, m.To, string(m.Kind), datas[i], m.Page, ms(m.NotBefore), ms(m.CreatedAt), ms(next))
			if err != nil {
				return fmt.Errorf("sqlite: enqueue %s: %w", m.ID, err)
			}
		}
		return nil
	})
}

// Claim implements notify.Store.
func (s *OutboxStore) Claim(ctx context.Context, now, leaseUntil time.Time, limit int) ([]notify.Message, error) {
	if limit <= 0 {
		return []notify.Message{}, nil
	}
	if !leaseUntil.After(now) {
		return nil, fmt.Errorf("sqlite: claim messages: lease until %v is not after now %v", leaseUntil, now)
	}
	var out []notify.Message
	err := s.db.Write(ctx, func(tx *Tx) error {
		rows, err := tx.Query(`SELECT `+outboxColumns+` FROM outbox WHERE status = 'pending' AND next_attempt <= ?
			ORDER BY next_attempt, id LIMIT ?`, ms(now), limit)
		if err != nil {
			return fmt.Errorf("sqlite: claim messages: %w", err)
		}
		out = []notify.Message{}
		for rows.Next() {
			m, err := scanMessage(rows)
			if err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: claim messages: %w", err)
			}
			out = append(out, m)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return fmt.Errorf("sqlite: claim messages: %w", err)
		}
		lease := ms(leaseUntil)
		for i := range out {
			if _, err := tx.Exec(`UPDATE outbox SET next_attempt = ? WHERE id = ?`, lease, out[i].ID); err != nil {
				return fmt.Errorf("sqlite: claim message %s: %w", out[i].ID, err)
			}
			out[i].NextAttempt = fromMS(lease)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// messageExists tells, inside a write, an unknown message from one whose status
// made an update match nothing.
func messageExists(tx *Tx, id string) error {
	var one int
	err := tx.QueryRow(`SELECT 1 FROM outbox WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoMessage()
	}
	return err
}

// MarkSent implements notify.Store.
func (s *OutboxStore) MarkSent(ctx context.Context, id string, at time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?
			WHERE id = ? AND status IN ('pending', 'withdrawn')`, ms(at), id)
		if err != nil {
			return fmt.Errorf("sqlite: mark message %s sent: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		err = messageExists(tx, id)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("sqlite: mark message %s sent: %w", id, err)
		}
		return err
	})
}

// MarkFailed implements notify.Store.
func (s *OutboxStore) MarkFailed(ctx context.Context, id string, reason string, retryAt time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		var res sql.Result
		var err error
		if retryAt.IsZero() {
			res, err = tx.Exec(`UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?
				WHERE id = ? AND status = 'pending'`, reason, id)
		} else {
			res, err = tx.Exec(`UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?
				WHERE id = ? AND status = 'pending'`, reason, ms(retryAt), id)
		}
		if err != nil {
			return fmt.Errorf("sqlite: mark message %s failed: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		err = messageExists(tx, id)
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return fmt.Errorf("sqlite: mark message %s failed: %w", id, err)
		}
		return err
	})
}

// Withdraw implements notify.Store.
func (s *OutboxStore) Withdraw(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`UPDATE outbox SET status = 'withdrawn' WHERE status = 'pending' AND id IN (`+inList(len(ids))+`)`, args...)
		if err != nil {
			return fmt.Errorf("sqlite: withdraw messages: %w", err)
		}
		return nil
	})
}

// GetMessage implements notify.Store.
func (s *OutboxStore) GetMessage(ctx context.Context, id string) (notify.Message, error) {
	m, err := queryOne(ctx, s.db, scanMessage, errNoMessage(), `SELECT `+outboxColumns+` FROM outbox WHERE id = ?`, id)
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		return notify.Message{}, fmt.Errorf("sqlite: get message %s: %w", id, err)
	}
	return m, err
}

// CountByStatus implements notify.Store.
func (s *OutboxStore) CountByStatus(ctx context.Context) (map[notify.Status]int, error) {
	type count struct {
		status notify.Status
		n      int
	}
	counts, err := queryAll(ctx, s.db, func(sc scanner) (count, error) {
		var c count
		return c, sc.Scan(&c.status, &c.n)
	}, `SELECT status, count(*) FROM outbox GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: count messages: %w", err)
	}
	out := make(map[notify.Status]int, 4)
	for _, st := range notify.Statuses() {
		out[st] = 0
	}
	for _, c := range counts {
		out[c.status] = c.n
	}
	return out, nil
}

// ListFailed implements notify.Store.
func (s *OutboxStore) ListFailed(ctx context.Context, limit int) ([]notify.Message, error) {
	if limit <= 0 {
		return []notify.Message{}, nil
	}
	msgs, err := queryAll(ctx, s.db, scanMessage, `SELECT `+outboxColumns+` FROM outbox WHERE status = 'failed'
		ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list failed messages: %w", err)
	}
	return msgs, nil
}

// Requeue implements notify.Store.
func (s *OutboxStore) Requeue(ctx context.Context, id string, at time.Time) error {
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt = ?
			WHERE id = ? AND status = 'failed'`, ms(at), id)
		if err != nil {
			return fmt.Errorf("sqlite: requeue message %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if err := messageExists(tx, id); err != nil {
			if apperr.Is(err, apperr.NotFound) {
				return err
			}
			return fmt.Errorf("sqlite: requeue message %s: %w", id, err)
		}
		return errNotFailed()
	})
}

func errNotFailed() error {
	return apperr.New(apperr.Conflict, "这条通知不是发送失败状态，不能重发")
}
