package identity

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/seal"
)

// Kiosk is a registered lobby self-service kiosk.
type Kiosk struct {
	ID         string
	Center     string
	Location   string
	CardReader bool
	Printer    bool
	// SecretSealed is the provisioning secret, sealed: the server needs it
	// to check the kiosk's request signatures.
	SecretSealed string
	RevokedAt    time.Time
	CreatedAt    time.Time
	// LastSeen, PrinterStatus and ReaderStatus come from heartbeats.
	LastSeen      time.Time
	PrinterStatus string
	ReaderStatus  string
}

// KioskStore keeps kiosks and the nonces of their signed requests.
type KioskStore interface {
	// CreateKiosk stores a new kiosk.
	CreateKiosk(ctx context.Context, k Kiosk) error
	// GetKiosk returns a kiosk, revoked or not.
	GetKiosk(ctx context.Context, id string) (Kiosk, error)
	// ListKiosks returns a center's kiosks ordered by ID.
	ListKiosks(ctx context.Context, center string) ([]Kiosk, error)
	// RevokeKiosk marks a kiosk revoked at `at` (the first time only).
	RevokeKiosk(ctx context.Context, id string, at time.Time) error
	// RecordHeartbeat stores when a kiosk was last seen and its peripherals' state.
	RecordHeartbeat(ctx context.Context, id string, at time.Time, printer, reader string) error
	// UseNonce records a request nonce of a kiosk; one seen before is
	// apperr.Conflict, atomically, so a replayed request is refused even
	// when it races the original.
	UseNonce(ctx context.Context, kiosk, nonce string, at time.Time) error
	// SweepNonces forgets nonces recorded before `before`, which are
	// outside the replay window anyway; it returns how many it removed.
	SweepNonces(ctx context.Context, before time.Time) (int, error)
}

// Codes of refused kiosk requests (all HTTP 401).
const (
	CodeKioskProof   apperr.Code = "kiosk_proof_invalid"
	CodeKioskClock   apperr.Code = "kiosk_clock_skew"
	CodeKioskReplay  apperr.Code = "kiosk_replay"
	CodeKioskRevoked apperr.Code = "kiosk_revoked"
	// CodeCardExpired: the ID card read at the kiosk is not valid today.
	CodeCardExpired apperr.Code = "card_expired"
)

// ProofWindow is how far a kiosk's clock may be from the server's.
const ProofWindow = 5 * time.Minute

// Proof is the signature a kiosk sends with every request, in the headers
// X-Kiosk-Id, X-Kiosk-Timestamp (Unix seconds), X-Kiosk-Nonce and
// X-Kiosk-Signature: hex HMAC-SHA256, keyed by the kiosk's secret, of
//
//	METHOD \n PATH?QUERY \n TIMESTAMP \n NONCE \n hex(SHA-256(body))
type Proof struct {
	KioskID   string
	Timestamp int64
	Nonce     string
	Signature []byte
}

var (
	kioskIDPattern = regexp.MustCompile(`^ks[0-9a-f]{28}$`)
	noncePattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)
)

// ParseProof checks the shape of a kiosk's proof headers.
func ParseProof(id, timestamp, nonce, signature string) (Proof, error) {
	bad := func(m string) (Proof, error) { return Proof{}, apperr.New(CodeKioskProof, m) }
	if !kioskIDPattern.MatchString(id) {
		return bad("自助终端标识无效")
	}
	if len(timestamp) == 0 || len(timestamp) > 12 {
		return bad("自助终端请求时间无效")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil || ts <= 0 {
		return bad("自助终端请求时间无效")
	}
	if !noncePattern.MatchString(nonce) {
		return bad("自助终端请求随机数无效")
	}
	if len(signature) != 64 {
		return bad("自助终端请求签名无效")
	}
	sig, err := hex.DecodeString(signature)
	if err != nil {
		return bad("自助终端请求签名无效")
	}
	return Proof{KioskID: id, Timestamp: ts, Nonce: nonce, Signature: sig}, nil
}

// SignKioskRequest returns the hex signature of a request, as a kiosk
// computes it (and tests and the demo page do).
func SignKioskRequest(secret []byte, method, pathAndQuery string, timestamp int64, nonce string, body []byte) string {
	sum := sha256.Sum256(body)
	mac := hmac.New(sha256.New, secret)
	fmt.Fprintf(mac, "%s\n%s\n%d\n%s\n%s", method, pathAndQuery, timestamp, nonce, hex.EncodeToString(sum[:]))
	return hex.EncodeToString(mac.Sum(nil))
}

// Kiosks registers kiosks, checks their signed requests, and runs the
// citizen sessions opened by reading an ID card at a kiosk.
type Kiosks struct {
	store    KioskStore
	sessions SessionStore
	keys     *seal.Keyring
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time
	// CardIdle ends a card session untouched this long (120 s).
	cardIdle, cardMax time.Duration
}

// NewKiosks returns the kiosk service.
func NewKiosks(store KioskStore, sessions SessionStore, keys *seal.Keyring, al *audit.Log, log *slog.Logger, now func() time.Time) *Kiosks {
	return &Kiosks{store: store, sessions: sessions, keys: keys, audit: al, log: log, now: now,
		cardIdle: 120 * time.Second, cardMax: 30 * time.Minute}
}

func (ks *Kiosks) record(ctx context.Context, r audit.Record) {
	if err := ks.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		ks.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "actor", r.Actor, "err", err)
	}
}

func secretContext(id string) string { return "kiosk/" + id + "/secret" }

// Register adds a kiosk at a center and returns it with its provisioning
// secret, which is shown this once: the kiosk is configured with it.
func (ks *Kiosks) Register(ctx context.Context, actor, center, location string, cardReader, printer bool, from Origin) (Kiosk, string, error) {
	location = strings.TrimSpace(location)
	if n := utf8.RuneCountInString(location); n == 0 || n > 64 || hasControlRune(location) {
		return Kiosk{}, "", apperr.Fields(apperr.FieldError{Field: "location", Message: "请填写安放位置（1-64 个字）"})
	}
	now := ks.now().UTC().Truncate(time.Millisecond)
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // documented never to fail since Go 1.24
	secret := base64.RawURLEncoding.EncodeToString(raw)
	k := Kiosk{ID: "ks" + audit.NewID(now), Center: center, Location: location, CardReader: cardReader, Printer: printer, CreatedAt: now}
	sealed, err := ks.keys.Seal(secret, secretContext(k.ID))
	if err != nil {
		return Kiosk{}, "", apperr.Wrap(apperr.Internal, "自助终端登记失败", err)
	}
	k.SecretSealed = sealed
	if err := ks.store.CreateKiosk(ctx, k); err != nil {
		return Kiosk{}, "", err
	}
	ks.record(ctx, audit.Record{Actor: actor, Center: center, Action: "kiosk.register", Target: "kiosk:" + k.ID, IP: from.IP})
	return k, secret, nil
}

func hasControlRune(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// List returns a center's kiosks.
func (ks *Kiosks) List(ctx context.Context, center string) ([]Kiosk, error) {
	return ks.store.ListKiosks(ctx, center)
}

// Revoke refuses a kiosk's requests from now on, and ends its card sessions
// at their next use. A kiosk of another center is not found.
func (ks *Kiosks) Revoke(ctx context.Context, actor, center, id string, from Origin) error {
	k, err := ks.store.GetKiosk(ctx, id)
	if err != nil || k.Center != center {
		return apperr.New(apperr.NotFound, "没有这台自助终端")
	}
	if err := ks.store.RevokeKiosk(ctx, id, ks.now().UTC().Truncate(time.Millisecond)); err != nil {
		return err
	}
	ks.record(ctx, audit.Record{Actor: actor, Center: center, Action: "kiosk.revoke", Target: "kiosk:" + id, IP: from.IP})
	return nil
}

// Verify checks a kiosk's signed request: a known, unrevoked kiosk, a
// timestamp within ProofWindow, a correct signature, and a nonce never
// used before. Every refusal is audited.
func (ks *Kiosks) Verify(ctx context.Context, p Proof, method, pathAndQuery string, body []byte, from Origin) (Kiosk, error) {
	var center string
	deny := func(code apperr.Code, msg, actor string) (Kiosk, error) {
		ks.record(ctx, audit.Record{Actor: actor, Center: center, Action: "kiosk.request", Target: method + " " + pathAndQuery, Outcome: audit.OutcomeDenied, IP: from.IP, Kiosk: p.KioskID})
		return Kiosk{}, apperr.New(code, msg)
	}
	k, err := ks.store.GetKiosk(ctx, p.KioskID)
	if apperr.Is(err, apperr.NotFound) {
		return deny(CodeKioskProof, "自助终端未登记", "anonymous")
	}
	if err != nil {
		return Kiosk{}, err
	}
	center = k.Center
	now := ks.now()
	if d := now.Sub(time.Unix(p.Timestamp, 0)); d > ProofWindow || d < -ProofWindow {
		return deny(CodeKioskClock, "自助终端时钟与服务器相差超过 5 分钟，请校准时间", "kiosk:"+k.ID)
	}
	secret, err := ks.keys.Open(k.SecretSealed, secretContext(k.ID))
	if err != nil {
		return Kiosk{}, apperr.Wrap(apperr.Internal, "自助终端校验失败", err)
	}
	want := SignKioskRequest([]byte(secret), method, pathAndQuery, p.Timestamp, p.Nonce, body)
	wantRaw, _ := hex.DecodeString(want)
	if !hmac.Equal(wantRaw, p.Signature) {
		return deny(CodeKioskProof, "自助终端请求签名不正确", "kiosk:"+k.ID)
	}
	if !k.RevokedAt.IsZero() {
		return deny(CodeKioskRevoked, "该自助终端已停用", "kiosk:"+k.ID)
	}
	if err := ks.store.UseNonce(ctx, k.ID, p.Nonce, now.UTC().Truncate(time.Millisecond)); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return deny(CodeKioskReplay, "重复的自助终端请求已拒绝", "kiosk:"+k.ID)
		}
		return Kiosk{}, err
	}
	return k, nil
}

// SweepNonces forgets nonces older than twice the proof window.
func (ks *Kiosks) SweepNonces(ctx context.Context) (int, error) {
	return ks.store.SweepNonces(ctx, ks.now().Add(-2*ProofWindow))
}

// Heartbeat records a kiosk's peripherals' state for the console.
func (ks *Kiosks) Heartbeat(ctx context.Context, k Kiosk, printer, reader string) error {
	var errs []apperr.FieldError
	for field, v := range map[string]string{"printer": printer, "reader": reader} {
		switch v {
		case "", "ok", "paper_low", "paper_out", "toner_low", "offline", "error":
		default:
			errs = append(errs, apperr.FieldError{Field: field, Message: "状态须为 ok、paper_low、paper_out、toner_low、offline 或 error"})
		}
	}
	if len(errs) > 0 {
		return apperr.Fields(errs...)
	}
	return ks.store.RecordHeartbeat(ctx, k.ID, ks.now().UTC().Truncate(time.Millisecond), printer, reader)
}

// Card is what a kiosk's ID-card reader read.
type Card struct {
	Name       string
	IDNumber   string
	ValidFrom  time.Time
	ValidUntil time.Time // zero for a card valid for life (长期)
}

// CardHolder is the opened data of a card session.
type CardHolder struct {
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
}

func cardContext(sessionID string) string { return "card/" + sessionID }

// StartCardSession opens a citizen session at a kiosk from its card reader.
func (ks *Kiosks) StartCardSession(ctx context.Context, k Kiosk, c Card, from Origin) (string, Session, error) {
	if !k.CardReader {
		return "", Session{}, apperr.New(apperr.Forbidden, "该自助终端没有身份证阅读器")
	}
	now := ks.now()
	var errs []apperr.FieldError
	name := strings.TrimSpace(c.Name)
	if !namePattern.MatchString(name) {
		errs = append(errs, apperr.FieldError{Field: "name", Message: "姓名读取有误"})
	}
	id, err := ParseIDNumber("id_number", c.IDNumber, now.In(time.FixedZone("CST", 8*3600)))
	if e, ok := apperr.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	if c.ValidFrom.IsZero() {
		errs = append(errs, apperr.FieldError{Field: "valid_from", Message: "缺少证件有效期"})
	}
	if len(errs) > 0 {
		return "", Session{}, apperr.Fields(errs...)
	}
	if now.Before(c.ValidFrom) || (!c.ValidUntil.IsZero() && !now.Before(c.ValidUntil.AddDate(0, 0, 1))) {
		return "", Session{}, apperr.New(CodeCardExpired, "身份证不在有效期内，请到窗口办理")
	}
	token, sid := newToken()
	holder, _ := json.Marshal(CardHolder{Name: name, IDNumber: id.Number})
	sealed, err := ks.keys.Seal(string(holder), cardContext(sid))
	if err != nil {
		return "", Session{}, apperr.Wrap(apperr.Internal, "会话创建失败", err)
	}
	at := now.UTC().Truncate(time.Millisecond)
	sess := Session{ID: sid, Kind: KindCard, Subject: ks.keys.BlindIndex(indexIDNumber, id.Number), Center: k.Center,
		Kiosk: k.ID, Sealed: sealed, CSRF: randomString(), CreatedAt: at, LastSeen: at, ExpiresAt: at.Add(ks.cardIdle)}
	if err := ks.sessions.CreateSession(ctx, sess); err != nil {
		return "", Session{}, err
	}
	ks.record(ctx, audit.Record{Actor: "kiosk:" + k.ID, Center: k.Center, Action: "card.session.start", Kiosk: k.ID, IP: from.IP})
	return token, sess, nil
}

// CardSession returns the card session of token at kiosk k. A session
// opened at another kiosk, idle for CardIdle, ended, or of a revoked kiosk
// is refused.
func (ks *Kiosks) CardSession(ctx context.Context, k Kiosk, token string) (Session, CardHolder, error) {
	sess, err := authenticate(ctx, ks.sessions, token, KindCard, ks.now(), ks.cardIdle, ks.cardMax)
	if err != nil {
		return Session{}, CardHolder{}, err
	}
	if sess.Kiosk != k.ID {
		ks.record(ctx, audit.Record{Actor: "kiosk:" + k.ID, Center: k.Center, Action: "card.session.use", Outcome: audit.OutcomeDenied, Kiosk: k.ID})
		return Session{}, CardHolder{}, errSessionGone()
	}
	plain, err := ks.keys.Open(sess.Sealed, cardContext(sess.ID))
	if err != nil {
		return Session{}, CardHolder{}, apperr.Wrap(apperr.Internal, "会话读取失败", err)
	}
	var h CardHolder
	if err := json.Unmarshal([]byte(plain), &h); err != nil {
		return Session{}, CardHolder{}, apperr.Wrap(apperr.Internal, "会话读取失败", err)
	}
	return sess, h, nil
}

// EndCardSession ends a card session: the citizen pressed 退出 or took the
// card out of the reader.
func (ks *Kiosks) EndCardSession(ctx context.Context, k Kiosk, token string) error {
	sess, _, err := ks.CardSession(ctx, k, token)
	if err != nil {
		return err
	}
	if err := ks.sessions.RevokeSession(ctx, sess.ID, ks.now().UTC().Truncate(time.Millisecond)); err != nil {
		return err
	}
	ks.record(ctx, audit.Record{Actor: "kiosk:" + k.ID, Center: k.Center, Action: "card.session.end", Kiosk: k.ID})
	return nil
}
