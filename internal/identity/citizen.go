package identity

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/seal"
)

// Citizen is a person using the mini-program. Their name, ID number and
// phone are stored only sealed (see package seal); IDIndex and PhoneIndex
// are blind indexes to find them by value without storing the value.
type Citizen struct {
	ID      string
	OpenID  string
	UnionID string
	// NameSealed, IDSealed and PhoneSealed are empty until bound.
	NameSealed  string
	IDSealed    string
	PhoneSealed string
	// IDIndex is the blind index of the ID number once bound; before that
	// it holds UnboundIndex(ID), so that a unique index over it can make
	// "one ID number, one account" atomic on both stores.
	IDIndex    string
	PhoneIndex string
	BoundAt    time.Time
	CreatedAt  time.Time
}

// UnboundIndex is the placeholder IDIndex of a citizen not yet bound.
func UnboundIndex(citizenID string) string { return "unbound:" + citizenID }

// Bound reports whether the citizen has bound a real name.
func (c *Citizen) Bound() bool { return !c.BoundAt.IsZero() }

// CitizenStore keeps citizens.
type CitizenStore interface {
	// EnsureCitizen returns the citizen with c.OpenID, storing c first if
	// there is none; two concurrent first logins of one WeChat user end
	// with one citizen.
	EnsureCitizen(ctx context.Context, c Citizen) (Citizen, error)
	// GetCitizen returns a citizen by ID.
	GetCitizen(ctx context.Context, id string) (Citizen, error)
	// FindCitizenByIDIndex returns the citizen bound to an ID number's
	// blind index.
	FindCitizenByIDIndex(ctx context.Context, idIndex string) (Citizen, error)
	// BindRealName stores the sealed name and ID number of an unbound
	// citizen, atomically: if another citizen holds idIndex the result is
	// apperr.Conflict, and if this citizen is already bound (to any
	// number) it is ErrAlreadyBound. Binding again to the same number is
	// not an error.
	BindRealName(ctx context.Context, id, nameSealed, idSealed, idIndex string, at time.Time) error
	// SetPhone stores a citizen's sealed phone number and its index.
	SetPhone(ctx context.Context, id, phoneSealed, phoneIndex string) error
}

// Error codes of real-name binding.
const (
	// CodeIDNumberBound: the ID number is bound to another WeChat account.
	CodeIDNumberBound apperr.Code = "id_number_bound"
	// CodeAlreadyBound: this account is bound to another real name.
	CodeAlreadyBound apperr.Code = "already_bound"
)

// ErrAlreadyBound is what stores return when a bound citizen would be bound again.
var ErrAlreadyBound = apperr.New(CodeAlreadyBound, "该微信账号已绑定其他实名信息，如需更改请到窗口办理")

// Seal contexts and blind-index kinds: a sealed value is bound to its
// citizen and field, so it cannot be copied to another record.
func sealContext(citizenID, field string) string { return "citizen/" + citizenID + "/" + field }

const (
	indexIDNumber = "id_number"
	indexPhone    = "phone"
)

// WeChat is what identity needs from WeChat: turning a mini-program login
// code into the user's openid.
type WeChat interface {
	Code2Session(ctx context.Context, code string) (openID, unionID string, err error)
	PhoneNumber(ctx context.Context, code string) (string, error)
}

// Citizens logs citizens in and keeps their real-name data sealed.
type Citizens struct {
	store    CitizenStore
	sessions SessionStore
	keys     *seal.Keyring
	wechat   WeChat
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time
	// devLogin accepts "dev:<openid>" codes without WeChat (BANHAO_DEV).
	devLogin bool
	idle     time.Duration
	maxAge   time.Duration
	// authAge is how long an authenticated session is answered from
	// memory; auth holds them, by session ID.
	authAge time.Duration
	authMu  sync.Mutex
	auth    map[string]authEntry
}

// authEntry is a session and its citizen as Authenticate last read them.
type authEntry struct {
	sess Session
	c    Citizen
	at   time.Time
}

// CitizensConfig configures Citizens.
type CitizensConfig struct {
	// DevLogin accepts "dev:<openid>" codes without asking WeChat.
	DevLogin bool
	// Idle and MaxAge bound a mini-program session (defaults 7 and 30 days).
	Idle, MaxAge time.Duration
	// AuthCache is how long an authenticated session is trusted without
	// reading the store again (default 15 s; negative never). A logout or
	// a real-name or phone binding through this server takes effect at
	// once; through another server of a MongoDB deployment, within it.
	AuthCache time.Duration
}

// NewCitizens returns the citizen service. wechat may be nil when only
// development logins are used.
func NewCitizens(store CitizenStore, sessions SessionStore, keys *seal.Keyring, wechat WeChat, al *audit.Log, log *slog.Logger, now func() time.Time, cfg CitizensConfig) *Citizens {
	if cfg.Idle == 0 {
		cfg.Idle = 7 * 24 * time.Hour
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 30 * 24 * time.Hour
	}
	if cfg.AuthCache == 0 {
		cfg.AuthCache = 15 * time.Second
	}
	return &Citizens{store: store, sessions: sessions, keys: keys, wechat: wechat, audit: al, log: log, now: now,
		devLogin: cfg.DevLogin, idle: cfg.Idle, maxAge: cfg.MaxAge, authAge: cfg.AuthCache, auth: map[string]authEntry{}}
}

var devOpenID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CitizenLogin is a successful mini-program login.
type CitizenLogin struct {
	Token   string
	Session Session
	Citizen Citizen
}

// Login turns a wx.login code into a session of our own. WeChat's
// session_key never leaves the wechat package.
func (cs *Citizens) Login(ctx context.Context, code string, from Origin) (CitizenLogin, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 128 {
		return CitizenLogin{}, apperr.Fields(apperr.FieldError{Field: "code", Message: "缺少微信登录凭证"})
	}
	var openID, unionID string
	if dev, ok := strings.CutPrefix(code, "dev:"); ok && cs.devLogin {
		if !devOpenID.MatchString(dev) {
			return CitizenLogin{}, apperr.Fields(apperr.FieldError{Field: "code", Message: "开发登录的 openid 格式不正确"})
		}
		openID = "dev-" + dev
	} else {
		if cs.wechat == nil {
			return CitizenLogin{}, apperr.New(apperr.Unavailable, "微信登录暂不可用")
		}
		var err error
		if openID, unionID, err = cs.wechat.Code2Session(ctx, code); err != nil {
			return CitizenLogin{}, err
		}
	}
	now := cs.now().UTC().Truncate(time.Millisecond)
	id := "ct" + audit.NewID(now)
	c, err := cs.store.EnsureCitizen(ctx, Citizen{ID: id, OpenID: openID, UnionID: unionID, IDIndex: UnboundIndex(id), CreatedAt: now})
	if err != nil {
		return CitizenLogin{}, err
	}
	token, sid := newToken()
	sess := Session{ID: sid, Kind: KindCitizen, Subject: c.ID, CSRF: randomString(), CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(cs.idle)}
	if err := cs.sessions.CreateSession(ctx, sess); err != nil {
		return CitizenLogin{}, err
	}
	cs.record(ctx, audit.Record{Actor: "citizen:" + c.ID, Action: "login", IP: from.IP})
	return CitizenLogin{Token: token, Session: sess, Citizen: c}, nil
}

// Authenticate returns the session and citizen of a mini-program token.
func (cs *Citizens) Authenticate(ctx context.Context, token string) (Session, Citizen, error) {
	now := cs.now()
	if cs.authAge > 0 && token != "" && len(token) <= 100 {
		cs.authMu.Lock()
		e, ok := cs.auth[TokenID(token)]
		cs.authMu.Unlock()
		if ok && now.Sub(e.at) < cs.authAge && now.Sub(e.at) >= 0 && e.sess.Active(now) {
			return e.sess, e.c, nil
		}
	}
	sess, err := authenticate(ctx, cs.sessions, token, KindCitizen, now, cs.idle, cs.maxAge)
	if err != nil {
		return Session{}, Citizen{}, err
	}
	c, err := cs.store.GetCitizen(ctx, sess.Subject)
	if apperr.Is(err, apperr.NotFound) {
		return Session{}, Citizen{}, errSessionGone()
	}
	if err != nil {
		return Session{}, Citizen{}, err
	}
	if cs.authAge > 0 {
		cs.authMu.Lock()
		if len(cs.auth) >= 100_000 {
			clear(cs.auth)
		}
		cs.auth[sess.ID] = authEntry{sess: sess, c: c, at: now}
		cs.authMu.Unlock()
	}
	return sess, c, nil
}

// forget drops what Authenticate remembers of a citizen's sessions.
func (cs *Citizens) forget(citizenID string) {
	cs.authMu.Lock()
	defer cs.authMu.Unlock()
	for id, e := range cs.auth {
		if e.c.ID == citizenID {
			delete(cs.auth, id)
		}
	}
}

// Logout ends a citizen's session.
func (cs *Citizens) Logout(ctx context.Context, sess Session) error {
	cs.authMu.Lock()
	delete(cs.auth, sess.ID)
	cs.authMu.Unlock()
	return cs.sessions.RevokeSession(ctx, sess.ID, cs.now().UTC().Truncate(time.Millisecond))
}

// Profile is a citizen's personal data, opened for display to its owner.
type Profile struct {
	ID       string
	Bound    bool
	Name     string
	IDNumber string
	Phone    string
	BoundAt  time.Time
}

// Profile opens a citizen's sealed data for the citizen themselves.
func (cs *Citizens) Profile(c Citizen) (Profile, error) {
	p := Profile{ID: c.ID, Bound: c.Bound(), BoundAt: c.BoundAt}
	open := func(sealed, field string) (string, error) {
		if sealed == "" {
			return "", nil
		}
		v, err := cs.keys.Open(sealed, sealContext(c.ID, field))
		if err != nil {
			return "", apperr.Wrap(apperr.Internal, "个人信息暂时无法读取", err)
		}
		return v, nil
	}
	var err error
	if p.Name, err = open(c.NameSealed, "name"); err != nil {
		return Profile{}, err
	}
	if p.IDNumber, err = open(c.IDSealed, "id_number"); err != nil {
		return Profile{}, err
	}
	if p.Phone, err = open(c.PhoneSealed, "phone"); err != nil {
		return Profile{}, err
	}
	return p, nil
}

var namePattern = regexp.MustCompile(`^[\p{Han}·•A-Za-z ]{2,30}$`)

// BindRealName binds a name and resident ID number to the citizen. One ID
// number binds to one WeChat account; a second account trying the same
// number is refused (never silently moved), and so is rebinding an account.
func (cs *Citizens) BindRealName(ctx context.Context, c Citizen, name, idNumber string, from Origin) (Citizen, error) {
	name = strings.TrimSpace(name)
	var errs []apperr.FieldError
	if !utf8.ValidString(name) || !namePattern.MatchString(name) {
		errs = append(errs, apperr.FieldError{Field: "name", Message: "请填写与身份证一致的姓名"})
	}
	id, err := ParseIDNumber("id_number", idNumber, cs.now().In(time.FixedZone("CST", 8*3600)))
	if err != nil {
		if e, ok := apperr.As(err); ok {
			errs = append(errs, e.Fields...)
		}
	}
	if len(errs) > 0 {
		return Citizen{}, apperr.Fields(errs...)
	}
	nameSealed, err := cs.keys.Seal(name, sealContext(c.ID, "name"))
	if err != nil {
		return Citizen{}, apperr.Wrap(apperr.Internal, "实名信息保存失败", err)
	}
	idSealed, err := cs.keys.Seal(id.Number, sealContext(c.ID, "id_number"))
	if err != nil {
		return Citizen{}, apperr.Wrap(apperr.Internal, "实名信息保存失败", err)
	}
	idx := cs.keys.BlindIndex(indexIDNumber, id.Number)
	at := cs.now().UTC().Truncate(time.Millisecond)
	err = cs.store.BindRealName(ctx, c.ID, nameSealed, idSealed, idx, at)
	if apperr.Is(err, apperr.Conflict) {
		cs.record(ctx, audit.Record{Actor: "citizen:" + c.ID, Action: "citizen.bind", Outcome: audit.OutcomeDenied, IP: from.IP})
		return Citizen{}, apperr.New(CodeIDNumberBound, "该身份证号码已绑定其他微信账号，如有疑问请到窗口办理")
	}
	if err != nil {
		return Citizen{}, err
	}
	cs.record(ctx, audit.Record{Actor: "citizen:" + c.ID, Action: "citizen.bind", Subject: "citizen:" + c.ID, IP: from.IP})
	cs.forget(c.ID)
	return cs.store.GetCitizen(ctx, c.ID)
}

// DataUse is one access to a citizen's data as the citizen sees it: the
// role and where, never the staff member's identity.
type DataUse struct {
	At      time.Time
	Role    string
	Center  string
	Action  string
	Purpose string
}

// DataUseLog lists who touched the citizen's personal data and why,
// newest first.
func (cs *Citizens) DataUseLog(ctx context.Context, c Citizen, before string, limit int) ([]DataUse, string, error) {
	recs, err := cs.audit.List(ctx, audit.Filter{Subject: "citizen:" + c.ID, Before: before, Limit: limit})
	if err != nil {
		return nil, "", err
	}
	out := make([]DataUse, len(recs))
	for i, r := range recs {
		role := r.Role
		if strings.HasPrefix(r.Actor, "citizen:") {
			role = "citizen"
		}
		out[i] = DataUse{At: r.At, Role: role, Center: r.Center, Action: r.Action, Purpose: r.Purpose}
	}
	next := ""
	if len(recs) > 0 && len(recs) == max(limit, 0) {
		next = recs[len(recs)-1].ID
	}
	return out, next, nil
}

// record writes an audit record even if the request's context has ended;
// a failure goes to the server log.
func (cs *Citizens) record(ctx context.Context, r audit.Record) {
	if err := cs.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		cs.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "actor", r.Actor, "err", err)
	}
}

// BindPhone stores the phone number WeChat confirms for a getPhoneNumber
// code (or, with development logins, the number in "dev:<number>").
func (cs *Citizens) BindPhone(ctx context.Context, c Citizen, code string, from Origin) (Citizen, error) {
	code = strings.TrimSpace(code)
	if code == "" || len(code) > 128 {
		return Citizen{}, apperr.Fields(apperr.FieldError{Field: "code", Message: "缺少手机号授权凭证"})
	}
	var raw string
	if dev, ok := strings.CutPrefix(code, "dev:"); ok && cs.devLogin {
		raw = dev
	} else {
		if cs.wechat == nil {
			return Citizen{}, apperr.New(apperr.Unavailable, "微信授权暂不可用")
		}
		var err error
		if raw, err = cs.wechat.PhoneNumber(ctx, code); err != nil {
			return Citizen{}, err
		}
	}
	phone, err := ParseMobile("code", raw)
	if err != nil {
		return Citizen{}, err
	}
	sealed, err := cs.keys.Seal(phone, sealContext(c.ID, "phone"))
	if err != nil {
		return Citizen{}, apperr.Wrap(apperr.Internal, "手机号保存失败", err)
	}
	defer cs.forget(c.ID)
	if err := cs.store.SetPhone(ctx, c.ID, sealed, cs.keys.BlindIndex(indexPhone, phone)); err != nil {
		return Citizen{}, err
	}
	cs.record(ctx, audit.Record{Actor: "citizen:" + c.ID, Action: "citizen.phone", Subject: "citizen:" + c.ID, IP: from.IP})
	return cs.store.GetCitizen(ctx, c.ID)
}

// Reader is a staff member reading a citizen's data, for the audit log.
type Reader struct {
	Actor  string // "staff:<id>"
	Role   string // the staff member's roles, e.g. "clerk"
	Center string
	IP     string
}

// LookupByIDNumber finds the citizen bound to an ID number for a staff
// member who states why (e.g. 窗口核验身份). Every lookup, found or not, is
// audited; a found citizen sees it in their data-use log with the role,
// center and purpose, never the staff member's identity.
func (cs *Citizens) LookupByIDNumber(ctx context.Context, r Reader, idNumber, purpose string) (Profile, error) {
	purpose = strings.TrimSpace(purpose)
	var errs []apperr.FieldError
	if n := utf8.RuneCountInString(purpose); n < 2 || n > 50 || hasControlRune(purpose) {
		errs = append(errs, apperr.FieldError{Field: "purpose", Message: "请说明查询用途（2-50 个字）"})
	}
	id, err := ParseIDNumber("id_number", idNumber, cs.now().In(time.FixedZone("CST", 8*3600)))
	if e, ok := apperr.As(err); ok {
		errs = append(errs, e.Fields...)
	}
	if len(errs) > 0 {
		return Profile{}, apperr.Fields(errs...)
	}
	c, err := cs.store.FindCitizenByIDIndex(ctx, cs.keys.BlindIndex(indexIDNumber, id.Number))
	if apperr.Is(err, apperr.NotFound) {
		cs.record(ctx, audit.Record{Actor: r.Actor, Role: r.Role, Center: r.Center, Action: "citizen.lookup", Purpose: purpose, Outcome: audit.OutcomeFailed, IP: r.IP})
		return Profile{}, apperr.New(apperr.NotFound, "没有以该身份证号码实名绑定的用户")
	}
	if err != nil {
		return Profile{}, err
	}
	cs.record(ctx, audit.Record{Actor: r.Actor, Role: r.Role, Center: r.Center, Action: "citizen.lookup", Subject: "citizen:" + c.ID, Purpose: purpose, IP: r.IP})
	return cs.Profile(c)
}

// HolderOf is how every business area names a person by real name: "id:"
// and the blind index of their (normalised) ID number, the same whether
// they came through a kiosk's card reader or a bound mini-program account.
func HolderOf(keys *seal.Keyring, idNumber string) string {
	return "id:" + keys.BlindIndex(indexIDNumber, idNumber)
}

// RealName returns the full name a person bound to their mini-program
// account, by the holder name "id:<blind index>", for documents issued to
// them (a certificate carries the holder's name). It never reaches a
// response or a log; a person who never bound an account is
// apperr.NotFound.
func (cs *Citizens) RealName(ctx context.Context, holder string) (string, error) {
	idx, ok := strings.CutPrefix(holder, "id:")
	if !ok || idx == "" {
		return "", apperr.New(apperr.NotFound, "没有这个人")
	}
	c, err := cs.store.FindCitizenByIDIndex(ctx, idx)
	if err != nil {
		return "", err
	}
	name, err := cs.keys.Open(c.NameSealed, sealContext(c.ID, "name"))
	if err != nil {
		return "", fmt.Errorf("identity: open name of citizen %s: %w", c.ID, err)
	}
	return name, nil
}
