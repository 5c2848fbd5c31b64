package identity

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// Config holds the identity rules that deployments may tune.
type Config struct {
	Argon2 Argon2Params
	// StaffIdle ends a staff session unused this long; StaffMax ends any
	// staff session this long after login.
	StaffIdle, StaffMax time.Duration
	// LockAfter failed logins lock an account for LockFor.
	LockAfter int
	LockFor   time.Duration
	// HashConcurrency caps password hashes computed at once (each takes
	// Argon2.MemoryKiB of memory).
	HashConcurrency int
}

// DefaultConfig is the configuration used unless a deployment says otherwise.
func DefaultConfig() Config {
	return Config{
		Argon2:          DefaultArgon2(),
		StaffIdle:       30 * time.Minute,
		StaffMax:        12 * time.Hour,
		LockAfter:       5,
		LockFor:         15 * time.Minute,
		HashConcurrency: 2,
	}
}

// Origin is where a request came from, for the audit log.
type Origin struct {
	IP    string
	Kiosk string
}

// Service authenticates staff and manages their accounts and sessions.
type Service struct {
	staff    StaffStore
	sessions SessionStore
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time
	cfg      Config
	hashing  chan struct{}
	// dummyHash is verified when a username is unknown, so that the
	// answer takes as long as for a wrong password and does not reveal
	// which usernames exist.
	dummyHash string
}

// NewService returns the identity service.
func NewService(staff StaffStore, sessions SessionStore, al *audit.Log, log *slog.Logger, now func() time.Time, cfg Config) *Service {
	if cfg.HashConcurrency < 1 {
		cfg.HashConcurrency = 1
	}
	return &Service{
		staff: staff, sessions: sessions, audit: al, log: log, now: now, cfg: cfg,
		hashing:   make(chan struct{}, cfg.HashConcurrency),
		dummyHash: HashPassword(RandomPassword(16), cfg.Argon2),
	}
}

// withHashSlot runs fn while holding one of the password-hashing slots.
func (s *Service) withHashSlot(ctx context.Context, fn func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return apperr.Wrap(apperr.Unavailable, "系统繁忙，请稍后再试", ctx.Err())
	}
	defer func() { <-s.hashing }()
	fn()
	return nil
}

// NewStaff is what an administrator (or the command line) supplies to
// create an account.
type NewStaff struct {
	Center   string
	Username string
	Name     string
	Roles    []Role
	Sectors  []string
	// Company is a courier's delivery company.
	Company  string
	Password string
}

// CreateStaff creates an account. actor is who creates it ("cli" for the
// command line, "staff:<id>" for an administrator), for the audit log.
func (s *Service) CreateStaff(ctx context.Context, actor string, n NewStaff, from Origin) (Staff, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	st := Staff{
		ID:                "st" + audit.NewID(now),
		Center:            n.Center,
		Username:          NormalizeUsername(n.Username),
		Name:              strings.TrimSpace(n.Name),
		Roles:             n.Roles,
		Sectors:           n.Sectors,
		Company:           strings.TrimSpace(n.Company),
		PasswordChangedAt: now,
		CreatedAt:         now,
	}
	if err := st.validate(); err != nil {
		return Staff{}, err
	}
	if err := CheckPassword("password", n.Password); err != nil {
		return Staff{}, err
	}
	if err := s.withHashSlot(ctx, func() { st.PasswordHash = HashPassword(n.Password, s.cfg.Argon2) }); err != nil {
		return Staff{}, err
	}
	if err := s.staff.CreateStaff(ctx, st); err != nil {
		if apperr.Is(err, apperr.Conflict) {
			return Staff{}, apperr.Fields(apperr.FieldError{Field: "username", Message: "该用户名已被使用"})
		}
		return Staff{}, err
	}
	s.record(ctx, audit.Record{Actor: actor, Center: st.Center, Action: "staff.create", Target: "staff:" + st.ID, IP: from.IP})
	return st, nil
}

// ListStaff lists a center's accounts.
func (s *Service) ListStaff(ctx context.Context, center string) ([]Staff, error) {
	return s.staff.ListStaff(ctx, center)
}

// HasStaff reports whether any account exists, so that a fresh deployment
// can offer to create the first administrator.
func (s *Service) HasStaff(ctx context.Context) (bool, error) {
	all, err := s.staff.ListStaff(ctx, "")
	return len(all) > 0, err
}

// Login is a successful staff login.
type Login struct {
	Token   string
	Session Session
	Staff   Staff
}

func errBadLogin() error { return apperr.New(apperr.Unauthorized, "用户名或密码错误") }

// LoginStaff checks a username and password and opens a staff session.
// Every failure gives the same answer whether the username exists or not;
// LockAfter failures in a row lock the account for LockFor. Couriers log
// in with LoginCourier, not here.
func (s *Service) LoginStaff(ctx context.Context, username, password string, from Origin) (Login, error) {
	return s.login(ctx, username, password, from, KindStaff)
}

// LoginCourier is LoginStaff for courier accounts, at the courier entrance.
func (s *Service) LoginCourier(ctx context.Context, username, password string, from Origin) (Login, error) {
	return s.login(ctx, username, password, from, KindCourier)
}

func (s *Service) login(ctx context.Context, username, password string, from Origin, kind Kind) (Login, error) {
	st, err := s.verify(ctx, username, password, from, "login")
	if err != nil {
		return Login{}, err
	}
	now := s.now()
	if (kind == KindCourier) != st.HasRole(RoleCourier) {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: st.Center, Action: "login", Target: string(kind), Outcome: audit.OutcomeDenied, IP: from.IP})
		if kind == KindCourier {
			return Login{}, apperr.New(apperr.Forbidden, "该账号不是快递员账号，请从工作人员入口登录")
		}
		return Login{}, apperr.New(apperr.Forbidden, "快递员请从快递员入口登录")
	}
	token, id := newToken()
	at := now.UTC().Truncate(time.Millisecond)
	sess := Session{
		ID: id, Kind: kind, Subject: st.ID, Center: st.Center, CSRF: randomString(),
		CreatedAt: at, LastSeen: at, ExpiresAt: at.Add(min(s.cfg.StaffIdle, s.cfg.StaffMax)),
	}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return Login{}, err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Role: rolesString(st.Roles), Center: st.Center, Action: "login", IP: from.IP})
	return Login{Token: token, Session: sess, Staff: st}, nil
}

// verify checks a username and password the way a login does (the same
// answer for unknown names, failures counted towards the lock) and
// returns the account; action names the attempt in the audit log.
func (s *Service) verify(ctx context.Context, username, password string, from Origin, action string) (Staff, error) {
	now := s.now()
	username = NormalizeUsername(username)
	st, err := s.staff.GetStaffByUsername(ctx, username)
	if apperr.Is(err, apperr.NotFound) {
		if herr := s.withHashSlot(ctx, func() { VerifyPassword(s.dummyHash, password, s.cfg.Argon2) }); herr != nil {
			return Staff{}, herr
		}
		s.record(ctx, audit.Record{Actor: "anonymous", Action: action, Target: "username", Outcome: audit.OutcomeFailed, IP: from.IP})
		return Staff{}, errBadLogin()
	}
	if err != nil {
		return Staff{}, err
	}
	if now.Before(st.LockedUntil) {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: st.Center, Action: action, Outcome: audit.OutcomeDenied, IP: from.IP})
		return Staff{}, locked(st.LockedUntil.Sub(now))
	}
	var ok, rehash bool
	if err := s.withHashSlot(ctx, func() { ok, rehash = VerifyPassword(st.PasswordHash, password, s.cfg.Argon2) }); err != nil {
		return Staff{}, err
	}
	if !ok || st.Disabled {
		upd, err := s.staff.RecordFailedLogin(ctx, st.ID, s.cfg.LockAfter, now.Add(s.cfg.LockFor))
		if err != nil {
			return Staff{}, err
		}
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: st.Center, Action: action, Outcome: audit.OutcomeFailed, IP: from.IP})
		if now.Before(upd.LockedUntil) {
			return Staff{}, locked(upd.LockedUntil.Sub(now))
		}
		return Staff{}, errBadLogin()
	}
	if st.FailedLogins > 0 {
		if err := s.staff.ResetFailedLogins(ctx, st.ID); err != nil {
			return Staff{}, err
		}
	}
	if rehash {
		var h string
		if err := s.withHashSlot(ctx, func() { h = HashPassword(password, s.cfg.Argon2) }); err == nil {
			if err := s.staff.SetPassword(ctx, st.ID, h, st.PasswordChangedAt); err != nil {
				return Staff{}, err
			}
		}
	}
	return st, nil
}

// AuthorizeSupervisor checks the credentials a supervisor types at a
// clerk's screen to authorise an override (a second one-time notice) and
// returns the supervisor's staff ID. The account must be an enabled
// supervisor of center; failures count towards its lock like logins.
func (s *Service) AuthorizeSupervisor(ctx context.Context, center, username, password string) (string, error) {
	st, err := s.verify(ctx, username, password, Origin{}, "override.authorize")
	if apperr.Is(err, apperr.Unauthorized) {
		// Not 401: the clerk's own session is fine, and their console must
		// not take this for a logout.
		return "", apperr.New(apperr.Forbidden, "授权人用户名或密码错误")
	}
	if err != nil {
		return "", err
	}
	if !st.HasRole(RoleSupervisor) || st.Center != center {
		s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: center, Action: "override.authorize", Outcome: audit.OutcomeDenied})
		return "", apperr.New(apperr.Forbidden, "授权人须为本中心的督办人员")
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: center, Action: "override.authorize"})
	return st.ID, nil
}

func locked(d time.Duration) error {
	mins := int(d.Minutes()) + 1
	e := apperr.New(apperr.AccountLocked, fmt.Sprintf("密码错误次数过多，账号已锁定，请 %d 分钟后再试", mins))
	e.RetryAfter = d
	return e
}

func rolesString(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// AuthenticateStaff returns the session and account of a bearer token. A
// session in use is extended by StaffIdle, never beyond StaffMax after
// login.
func (s *Service) AuthenticateStaff(ctx context.Context, token string) (Session, Staff, error) {
	return s.authenticateAccount(ctx, token, KindStaff)
}

// AuthenticateCourier is AuthenticateStaff for courier sessions.
func (s *Service) AuthenticateCourier(ctx context.Context, token string) (Session, Staff, error) {
	return s.authenticateAccount(ctx, token, KindCourier)
}

func (s *Service) authenticateAccount(ctx context.Context, token string, kind Kind) (Session, Staff, error) {
	sess, err := authenticate(ctx, s.sessions, token, kind, s.now(), s.cfg.StaffIdle, s.cfg.StaffMax)
	if err != nil {
		return Session{}, Staff{}, err
	}
	st, err := s.staff.GetStaff(ctx, sess.Subject)
	if apperr.Is(err, apperr.NotFound) || (err == nil && st.Disabled) {
		return Session{}, Staff{}, errSessionGone()
	}
	if err != nil {
		return Session{}, Staff{}, err
	}
	return sess, st, nil
}

func errSessionGone() error {
	return apperr.New(apperr.Unauthorized, "登录已失效，请重新登录")
}

// authenticate finds the active session of a token of the given kind and
// extends it by idle, never beyond maxAge after login; the store is
// written at most once a minute (a quarter of idle, if shorter) per session.
func authenticate(ctx context.Context, store SessionStore, token string, kind Kind, now time.Time, idle, maxAge time.Duration) (Session, error) {
	if token == "" || len(token) > 100 {
		return Session{}, errSessionGone()
	}
	sess, err := store.GetSession(ctx, TokenID(token))
	if apperr.Is(err, apperr.NotFound) {
		return Session{}, errSessionGone()
	}
	if err != nil {
		return Session{}, err
	}
	if sess.Kind != kind || !sess.Active(now) {
		return Session{}, errSessionGone()
	}
	if now.Sub(sess.LastSeen) > min(time.Minute, idle/4) {
		at := now.UTC().Truncate(time.Millisecond)
		exp := at.Add(idle)
		if limit := sess.CreatedAt.Add(maxAge); limit.Before(exp) {
			exp = limit
		}
		if err := store.TouchSession(ctx, sess.ID, at, exp); err != nil {
			return Session{}, err
		}
		sess.LastSeen, sess.ExpiresAt = at, exp
	}
	return sess, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, sess Session) error {
	return s.sessions.RevokeSession(ctx, sess.ID, s.now().UTC().Truncate(time.Millisecond))
}

// ChangePassword replaces a staff member's password after checking the
// old one, and ends every other session of theirs.
func (s *Service) ChangePassword(ctx context.Context, sess Session, st Staff, old, new string, from Origin) error {
	var ok bool
	if err := s.withHashSlot(ctx, func() { ok, _ = VerifyPassword(st.PasswordHash, old, s.cfg.Argon2) }); err != nil {
		return err
	}
	if !ok {
		return apperr.Fields(apperr.FieldError{Field: "old_password", Message: "原密码不正确"})
	}
	if err := CheckPassword("new_password", new); err != nil {
		return err
	}
	if old == new {
		return apperr.Fields(apperr.FieldError{Field: "new_password", Message: "新密码不能与原密码相同"})
	}
	var h string
	if err := s.withHashSlot(ctx, func() { h = HashPassword(new, s.cfg.Argon2) }); err != nil {
		return err
	}
	at := s.now().UTC().Truncate(time.Millisecond)
	if err := s.staff.SetPassword(ctx, st.ID, h, at); err != nil {
		return err
	}
	if err := s.sessions.RevokeSubjectSessions(ctx, KindStaff, st.ID, at); err != nil {
		return err
	}
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Center: st.Center, Action: "staff.password", Target: "staff:" + st.ID, IP: from.IP})
	return nil
}

// RecordDenied audits a refused request of a staff member.
func (s *Service) RecordDenied(ctx context.Context, st Staff, action, target string, from Origin) {
	s.record(ctx, audit.Record{Actor: "staff:" + st.ID, Role: rolesString(st.Roles), Center: st.Center, Action: action, Target: target, Outcome: audit.OutcomeDenied, IP: from.IP})
}

// record writes an audit record, even if the request's context has ended.
// The action has happened already, so a failure to audit goes to the
// server log, loudly, rather than undoing it.
func (s *Service) record(ctx context.Context, r audit.Record) {
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "actor", r.Actor, "err", err)
	}
}
