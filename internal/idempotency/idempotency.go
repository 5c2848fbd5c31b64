// Package idempotency makes a creating request safe to retry: a kiosk or
// a phone on a flaky network that sends the same POST again with the same
// Idempotency-Key gets the original result instead of a second ticket,
// booking, case or print job.
//
// A key is claimed before the request runs (a pending record, created
// once: the store's unique key decides between two concurrent requests),
// and the response is stored when it ends. A retry with the same key and
// the same request replays that response; with a different request it is
// refused (key_reused); while the first is still running, the retry waits
// a little and then replays, or is told to come back (in_progress).
// Records expire after a day; Sweep deletes them, since TTL indexes are
// not part of the portable store subset.
package idempotency

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/banhao/banhao/internal/apperr"
)

// Error codes of this package.
const (
	// CodeKeyInvalid: the Idempotency-Key header is empty, too long or
	// not printable ASCII.
	CodeKeyInvalid apperr.Code = "idempotency_key_invalid"
	// CodeKeyReused: the key was used before for a different request.
	CodeKeyReused apperr.Code = "idempotency_key_reused"
	// CodeInProgress: the first request with this key is still running.
	CodeInProgress apperr.Code = "idempotency_in_progress"
)

// MaxKeyLength is the longest key accepted, in bytes.
const MaxKeyLength = 255

// Record is one claimed key: pending while its request runs, then done
// with the response to replay.
type Record struct {
	// ID is the SHA-256 (hex) of the caller and the key, so that two
	// callers choosing the same key never meet.
	ID string
	// Fingerprint is the SHA-256 (hex) of the request: method, path,
	// content type and body.
	Fingerprint string
	// Done is set when the response below is stored.
	Done        bool
	Status      int
	ContentType string
	Body        []byte
	// Created is when the key was claimed, in UTC to the millisecond; it
	// also tells one claim from a later one of the same ID.
	Created time.Time
}

// Store keeps the records.
type Store interface {
	// CreateKey stores a new pending record; when a record with its ID
	// exists it returns an apperr.Conflict error and changes nothing.
	CreateKey(ctx context.Context, r Record) error
	// GetKey returns the record id, or an apperr.NotFound error.
	GetKey(ctx context.Context, id string) (Record, error)
	// FinishKey stores the response of the pending record id claimed at
	// created. A record gone or claimed again meanwhile is left alone.
	FinishKey(ctx context.Context, id string, created time.Time, status int, contentType string, body []byte) error
	// DeleteKey removes the record id claimed at created, if still there.
	DeleteKey(ctx context.Context, id string, created time.Time) error
	// SweepKeys deletes the records claimed before t and returns how many.
	SweepKeys(ctx context.Context, before time.Time) (int, error)
}

// Config holds what a deployment may tune; zero values take the defaults.
type Config struct {
	// TTL is how long a key is remembered. Default 24 h.
	TTL time.Duration
	// Wait is how long a retry waits for the first request to finish
	// before it is told to come back. Default 3 s.
	Wait time.Duration
	// Stale is the age after which a record still pending belongs to a
	// request that will never finish (its server stopped): a retry then
	// runs the request again. Default 2 min, well past any request timeout.
	Stale time.Duration
	// MaxBody is the largest response kept for replay; a larger response
	// releases the key instead. Default 1 MiB.
	MaxBody int
}

// Service claims and completes keys.
type Service struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
	cfg   Config
	// poll is the interval of a waiting retry's reads.
	poll time.Duration
}

// NewService returns a service on store.
func NewService(store Store, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.TTL <= 0 {
		cfg.TTL = 24 * time.Hour
	}
	if cfg.Wait <= 0 {
		cfg.Wait = 3 * time.Second
	}
	if cfg.Stale <= 0 {
		cfg.Stale = 2 * time.Minute
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 1 << 20
	}
	return &Service{store: store, log: log, now: now, cfg: cfg, poll: 25 * time.Millisecond}
}

// MaxBody is the largest response the service keeps.
func (s *Service) MaxBody() int { return s.cfg.MaxBody }

// Claim is the outcome of Begin: either the caller runs the request and
// then calls Finish or Release, or Replay holds the stored response.
type Claim struct {
	id      string
	created time.Time
	// Replay is the stored response of an earlier request with the key;
	// nil means run the request.
	Replay *Record
}

// CheckKey validates an Idempotency-Key header value.
func CheckKey(key string) error {
	if key == "" || len(key) > MaxKeyLength {
		return apperr.New(CodeKeyInvalid, fmt.Sprintf("Idempotency-Key 应为 1 至 %d 个可打印字符", MaxKeyLength))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] > 0x7e {
			return apperr.New(CodeKeyInvalid, "Idempotency-Key 只能包含可打印的 ASCII 字符")
		}
	}
	return nil
}

// Hash returns the SHA-256 (hex) of parts, each length-prefixed so that
// no two different lists hash alike.
func Hash(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:", len(p))
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Begin claims key for caller (who the request authenticated as) and the
// request fingerprint. It returns a claim to run, a claim with Replay
// set, or an error with CodeKeyInvalid, CodeKeyReused or CodeInProgress.
func (s *Service) Begin(ctx context.Context, caller, key, fingerprint string) (Claim, error) {
	if err := CheckKey(key); err != nil {
		return Claim{}, err
	}
	id := Hash([]byte(caller), []byte(key))
	deadline := s.now().Add(s.cfg.Wait)
	for {
		created := s.now().UTC().Truncate(time.Millisecond)
		err := s.store.CreateKey(ctx, Record{ID: id, Fingerprint: fingerprint, Created: created})
		if err == nil {
			return Claim{id: id, created: created}, nil
		}
		if !apperr.Is(err, apperr.Conflict) {
			return Claim{}, err
		}
		r, err := s.store.GetKey(ctx, id)
		switch {
		case apperr.Is(err, apperr.NotFound):
			continue // released or swept since: claim it again
		case err != nil:
			return Claim{}, err
		}
		if r.Fingerprint != fingerprint {
			return Claim{}, apperr.New(CodeKeyReused, "这个 Idempotency-Key 已用于另一个请求，请为新的请求换一个")
		}
		if r.Done {
			return Claim{id: id, created: r.Created, Replay: &r}, nil
		}
		now := s.now()
		if now.Sub(r.Created) > s.cfg.Stale {
			// Its request will never finish: run it again.
			if err := s.store.DeleteKey(ctx, id, r.Created); err != nil {
				return Claim{}, err
			}
			s.log.Warn("idempotency: took over a stale pending key", "key_id", id[:12], "claimed", r.Created)
			continue
		}
		if !now.Before(deadline) {
			e := apperr.New(CodeInProgress, "同一请求正在处理中，请稍后再试")
			e.RetryAfter = time.Second
			return Claim{}, e
		}
		select {
		case <-ctx.Done():
			return Claim{}, ctx.Err()
		case <-time.After(s.poll):
		}
	}
}

// Finish stores the response of a claim the caller ran, for replay.
// Server faults (5xx), 408 and 429 and responses larger than MaxBody are
// not kept: the key is released, so a retry runs the request again.
func (s *Service) Finish(ctx context.Context, c Claim, status int, contentType string, body []byte) {
	if c.Replay != nil || c.id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if status >= 500 || status == 408 || status == 429 || len(body) > s.cfg.MaxBody {
		if err := s.store.DeleteKey(ctx, c.id, c.created); err != nil {
			s.log.Error("idempotency: release key", "key_id", c.id[:12], "err", err)
		}
		return
	}
	if err := s.store.FinishKey(ctx, c.id, c.created, status, contentType, body); err != nil {
		s.log.Error("idempotency: store response", "key_id", c.id[:12], "err", err)
	}
}

// Release gives a claim's key up without a response: a retry runs the
// request again.
func (s *Service) Release(ctx context.Context, c Claim) {
	s.Finish(ctx, c, 500, "", nil)
}

// Sweep deletes the keys older than the TTL and returns how many.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return s.store.SweepKeys(ctx, s.now().Add(-s.cfg.TTL))
}
