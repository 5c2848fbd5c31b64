package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
)

// Recipients finds the WeChat account of a message's recipient.
type Recipients interface {
	// OpenID returns the mini-program openid of to, "citizen:<id>" or
	// "id:<blind index>". A person without a mini-program account (an ID
	// number never bound to one) is apperr.NotFound; the message then
	// fails for good. Any other error is retried.
	OpenID(ctx context.Context, to string) (string, error)
}

// Sender delivers one message as a WeChat subscribe message. An error
// for which IsPermanent is true fails the message for good; any other
// error is retried with backoff.
type Sender interface {
	SendSubscribe(ctx context.Context, openID string, kind Kind, data map[string]string, page string) error
}

// Permanent marks err as a failure that trying again cannot cure (the
// user refused the template, the openid is invalid): the message fails
// at once instead of being retried.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// IsPermanent reports whether err says that trying again cannot cure it:
// the first error in its chain with a method Permanent() bool (such as
// one made by Permanent) says so. Senders in other packages may implement
// the method on their own error types instead of importing this package.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// ReasonNoAccount is the LastError of a message whose recipient has no
// mini-program account.
const ReasonNoAccount = "no mini-program account"

// OutboxConfig tunes the Outbox; zero fields take the defaults.
type OutboxConfig struct {
	// MaxAttempts is how many times a message is tried before it fails
	// for good (default 8).
	MaxAttempts int
	// BaseDelay is the wait after the first failure; each further failure
	// doubles it, up to MaxDelay, and the wait is drawn at random from
	// its upper half so that messages failed together do not come back
	// together (defaults 30 s and 30 min).
	BaseDelay, MaxDelay time.Duration
	// Batch is how many messages one SendDue claims (default 20), and
	// Workers how many of them are sent at once (default 4).
	Batch, Workers int
	// SendTimeout bounds one recipient lookup and send (default 15 s).
	SendTimeout time.Duration
	// Lease is how long claimed messages are hidden from other senders
	// (default 5 min). It must be well over the time a batch takes:
	// SendDue starts no send later than Lease - SendTimeout after its
	// claim, so that a send never runs past the lease, when another
	// sender may claim the message again.
	Lease time.Duration
	// PollInterval is how often Run looks for due messages when nothing
	// wakes it (default 2 s). Notify wakes it for messages due at once.
	PollInterval time.Duration
}

func (c *OutboxConfig) fill() {
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseDelay <= 0 {
		c.BaseDelay = 30 * time.Second
	}
	if c.MaxDelay <= 0 {
		c.MaxDelay = 30 * time.Minute
	}
	c.MaxDelay = max(c.MaxDelay, c.BaseDelay)
	if c.Batch <= 0 {
		c.Batch = 20
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 15 * time.Second
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	// Leave at least half the lease for sending.
	c.Lease = max(c.Lease, 2*c.SendTimeout)
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
}

// Outbox queues messages and sends them. Any number of Outboxes, in one
// process or in many, may send from one store: each message is sent by
// the one that claimed it.
type Outbox struct {
	store      Store
	recipients Recipients
	sender     Sender
	log        *slog.Logger
	now        func() time.Time
	cfg        OutboxConfig
	// wake is signalled, without blocking, when a message is due at once.
	wake chan struct{}
}

// NewOutbox returns the outbox on store. recipients and sender may be
// nil in an Outbox that only queues (Notify, Withdraw) and never sends.
func NewOutbox(store Store, recipients Recipients, sender Sender, log *slog.Logger, now func() time.Time, cfg OutboxConfig) *Outbox {
	cfg.fill()
	return &Outbox{store: store, recipients: recipients, sender: sender, log: log, now: now, cfg: cfg, wake: make(chan struct{}, 1)}
}

// Limits of a message's fields, far above what WeChat templates take.
const (
	maxIDLen     = 200
	maxToLen     = 200
	maxPageLen   = 512
	maxDataKeys  = 20
	maxKeyLen    = 64
	maxValueRune = 200
)

// validate checks one message; field names are prefixed with prefix.
func validate(m Message, prefix string) []apperr.FieldError {
	var fe []apperr.FieldError
	bad := func(field, msg string) { fe = append(fe, apperr.FieldError{Field: prefix + field, Message: msg}) }
	if m.ID == "" || len(m.ID) > maxIDLen || !utf8.ValidString(m.ID) {
		bad("id", "通知编号无效")
	}
	if !validRecipient(m.To) {
		bad("to", "接收人无效")
	}
	if !m.Kind.Known() {
		bad("kind", "通知类型无效")
	}
	if len(m.Page) > maxPageLen || !utf8.ValidString(m.Page) {
		bad("page", "跳转页面无效")
	}
	if len(m.Data) > maxDataKeys {
		bad("data", "通知内容字段过多")
	}
	for k, v := range m.Data {
		if k == "" || len(k) > maxKeyLen || !utf8.ValidString(k) || !utf8.ValidString(v) || utf8.RuneCountInString(v) > maxValueRune {
			bad("data", "通知内容无效")
			break
		}
	}
	return fe
}

// validRecipient accepts "citizen:<id>" and "id:<blind index>".
func validRecipient(to string) bool {
	if len(to) > maxToLen || !utf8.ValidString(to) {
		return false
	}
	for _, prefix := range []string{"citizen:", "id:"} {
		if rest, ok := strings.CutPrefix(to, prefix); ok {
			return rest != ""
		}
	}
	return false
}

// Notify validates msgs, stamps them with the time, and stores them to be
// sent; a message whose ID is already in the outbox is left as it is, so
// a producer may notify again after a crash without sending twice. Either
// every message is valid or none is stored (apperr.Invalid, fields named
// "msgs[i].to" and so on).
func (o *Outbox) Notify(ctx context.Context, msgs ...Message) error {
	if len(msgs) == 0 {
		return nil
	}
	now := o.now()
	out := make([]Message, len(msgs))
	var fe []apperr.FieldError
	due := false
	for i, m := range msgs {
		fe = append(fe, validate(m, fmt.Sprintf("msgs[%d].", i))...)
		m.CreatedAt = now
		m.Status, m.Attempts, m.NextAttempt, m.LastError, m.SentAt = StatusPending, 0, time.Time{}, "", time.Time{}
		out[i] = m
		due = due || !m.NotBefore.After(now)
	}
	if len(fe) > 0 {
		return apperr.Fields(fe...)
	}
	if err := o.store.Enqueue(ctx, out...); err != nil {
		return fmt.Errorf("notify: queue %d messages: %w", len(out), err)
	}
	if due {
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// Withdraw takes back messages that are no longer true (an appointment
// was cancelled) before they go out. Messages already sent, or unknown,
// are left alone.
func (o *Outbox) Withdraw(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := o.store.Withdraw(ctx, ids...); err != nil {
		return fmt.Errorf("notify: withdraw %d messages: %w", len(ids), err)
	}
	return nil
}

// Run sends due messages until ctx ends, then returns nil. It sends again
// at once after a full batch, and otherwise waits for PollInterval or for
// Notify to queue a message that is due. A failing store is logged and
// tried again at the next poll.
func (o *Outbox) Run(ctx context.Context) error {
	if o.recipients == nil || o.sender == nil {
		return errors.New("notify: an outbox without recipients or sender cannot send")
	}
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-o.wake:
		}
		sent, failed, claimed, err := o.sendDue(ctx)
		if err != nil && ctx.Err() == nil {
			o.log.ErrorContext(ctx, "outbox: send due messages", "err", err, "sent", sent, "failed", failed)
		}
		wait := o.cfg.PollInterval
		if err == nil && claimed == o.cfg.Batch {
			wait = 0 // more may be due
		}
		t.Reset(wait)
	}
}

// SendDue claims the messages due now, up to one batch, and tries to
// send each once. sent counts the messages delivered, failed those that
// failed (for good or to be retried later). err reports a failing store;
// a failing send is not an error of SendDue but a failed message.
func (o *Outbox) SendDue(ctx context.Context) (sent, failed int, err error) {
	if o.recipients == nil || o.sender == nil {
		return 0, 0, errors.New("notify: an outbox without recipients or sender cannot send")
	}
	sent, failed, _, err = o.sendDue(ctx)
	return sent, failed, err
}

// outcome is what became of one claimed message.
type outcome int

const (
	outcomeSkipped outcome = iota // not tried: out of time, or ctx ended
	outcomeSent
	outcomeFailed
)

func (o *Outbox) sendDue(ctx context.Context) (sent, failed, claimed int, err error) {
	now := o.now()
	leaseUntil := now.Add(o.cfg.Lease)
	msgs, err := o.store.Claim(ctx, now, leaseUntil, o.cfg.Batch)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("notify: claim messages: %w", err)
	}
	if len(msgs) == 0 {
		return 0, 0, 0, nil
	}
	// A send may start only while it surely ends within the lease.
	lastStart := leaseUntil.Add(-o.cfg.SendTimeout)

	var mu sync.Mutex
	var errs []error
	next := make(chan Message)
	var wg sync.WaitGroup
	for range min(o.cfg.Workers, len(msgs)) {
		wg.Go(func() {
			for m := range next {
				res, err := o.deliver(ctx, m, lastStart)
				mu.Lock()
				switch res {
				case outcomeSent:
					sent++
				case outcomeFailed:
					failed++
				}
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	return sent, failed, len(msgs), errors.Join(errs...)
}

// deliver tries to send one claimed message and records the outcome. The
// error is the store's only.
func (o *Outbox) deliver(ctx context.Context, m Message, lastStart time.Time) (outcome, error) {
	if ctx.Err() != nil || o.now().After(lastStart) {
		// Left claimed: it is sent after the lease, by whoever claims it.
		return outcomeSkipped, nil
	}
	sendCtx, cancel := context.WithTimeout(ctx, o.cfg.SendTimeout)
	err := o.send(sendCtx, m)
	cancel()
	// The outcome is recorded even when ctx has just ended: a message
	// that went out must not be sent again after the lease.
	recCtx, cancelRec := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancelRec()
	log := o.log.With("message", m.ID, "kind", string(m.Kind), "attempt", m.Attempts+1)
	if err == nil {
		if err := o.store.MarkSent(recCtx, m.ID, o.now()); err != nil {
			return outcomeSent, fmt.Errorf("notify: message %s was sent but not marked sent: %w", m.ID, err)
		}
		log.DebugContext(ctx, "outbox: message sent")
		return outcomeSent, nil
	}
	if ctx.Err() != nil && !IsPermanent(err) {
		// Shutting down: the attempt was cut off, not failed. The message
		// is retried after its lease, without counting this attempt.
		return outcomeSkipped, nil
	}
	reason := clip(err.Error(), 500)
	var retryAt time.Time
	if !IsPermanent(err) && m.Attempts+1 < o.cfg.MaxAttempts {
		retryAt = o.now().Add(o.backoff(m.Attempts+1, err))
	}
	if err := o.store.MarkFailed(recCtx, m.ID, reason, retryAt); err != nil {
		return outcomeFailed, fmt.Errorf("notify: message %s failed but was not marked: %w", m.ID, err)
	}
	if retryAt.IsZero() {
		log.WarnContext(ctx, "outbox: message failed for good", "err", reason)
	} else {
		log.InfoContext(ctx, "outbox: message will be retried", "err", reason, "retry_at", retryAt)
	}
	return outcomeFailed, nil
}

// send resolves the recipient and hands the message to the sender.
func (o *Outbox) send(ctx context.Context, m Message) error {
	openID, err := o.recipients.OpenID(ctx, m.To)
	if apperr.Is(err, apperr.NotFound) {
		return Permanent(errors.New(ReasonNoAccount))
	}
	if err != nil {
		return fmt.Errorf("find recipient: %w", err)
	}
	if openID == "" {
		return Permanent(errors.New(ReasonNoAccount))
	}
	return o.sender.SendSubscribe(ctx, openID, m.Kind, m.Data, m.Page)
}

// Failed lists the dead letters: messages that failed for good (a
// permanent error, or MaxAttempts used up), newest first, at most limit
// (100 when limit is 0 or less, at most 500).
func (o *Outbox) Failed(ctx context.Context, limit int) ([]Message, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	msgs, err := o.store.ListFailed(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: list failed messages: %w", err)
	}
	return msgs, nil
}

// Retry puts a failed message back to be sent at once, with a fresh
// count of attempts, and wakes the sender. A message that is not failed
// is apperr.Conflict; an unknown one apperr.NotFound.
func (o *Outbox) Retry(ctx context.Context, id string) error {
	if err := o.store.Requeue(ctx, id, o.now()); err != nil {
		if _, ok := apperr.As(err); ok {
			return err
		}
		return fmt.Errorf("notify: retry message %s: %w", id, err)
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: BaseDelay doubled
// n-1 times, at most MaxDelay, drawn from its upper half. A wait the
// error asks for (apperr's RetryAfter, a rate limit) is respected.
func (o *Outbox) backoff(n int, err error) time.Duration {
	d := o.cfg.BaseDelay
	for i := 1; i < n && d < o.cfg.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, o.cfg.MaxDelay)
	d = d/2 + rand.N(d/2+1)
	if e, ok := apperr.As(err); ok && e.RetryAfter > d {
		d = e.RetryAfter
	}
	return d
}

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
