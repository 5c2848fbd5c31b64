package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// TestStaffStore is the contract of identity.StaffStore.
func TestStaffStore(t *testing.T) {
	runContract(t, func(s stores) identity.StaffStore { return s.staff }, staffScenarios)
}

// TestSessionStore is the contract of identity.SessionStore.
func TestSessionStore(t *testing.T) {
	runContract(t, func(s stores) identity.SessionStore { return s.sessions }, sessionScenarios)
}

var staffScenarios = []scenario[identity.StaffStore]{
	{"created accounts read back equal by id and by username", testStaffCreateGet},
	{"duplicate username or id is a conflict and keeps the first", testStaffDuplicate},
	{"unknown account is not found by every method", testStaffNotFound},
	{"accounts are listed per center by username; no center lists all", testStaffList},
	{"failed logins count up and lock at the limit", testFailedLoginsLock},
	{"concurrent failed logins are all counted and lock once", testFailedLoginsConcurrent},
	{"a later failure never shortens the lock", testFailedLoginsNeverShorten},
	{"reset clears the count and the lock", testResetFailedLogins},
	{"a failure racing a successful login never leaves the account locked", testFailedLoginRacesReset},
	{"set password replaces the hash and its time only", testSetPassword},
}

var sessionScenarios = []scenario[identity.SessionStore]{
	{"created sessions read back equal", testSessionCreateGet},
	{"duplicate session id is a conflict and keeps the first", testSessionDuplicate},
	{"unknown session is not found", testSessionNotFound},
	{"touch moves last seen and expiry only", testSessionTouch},
	{"revoke ends a session once and keeps the first time", testSessionRevoke},
	{"revoking a party's sessions ends only its active ones", testRevokeSubjectSessions},
	{"a card session keeps its kiosk and sealed card data", testCardSession},
}

// lockLimit is the deployment default: five failures lock an account.
const lockLimit = 5

// staffAccount sets every field of an account, so a store that drops
// one is caught.
func staffAccount(id, center, username string) identity.Staff {
	return identity.Staff{
		ID: id, Center: center, Username: username, Name: "张" + username,
		Roles:             []identity.Role{identity.RoleClerk, identity.RoleApprover},
		Sectors:           []string{"market", "tax"},
		PasswordHash:      "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$" + username,
		PasswordChangedAt: at,
		CreatedAt:         at.Add(-time.Hour),
	}
}

// storedStaff is how a store returns an account it was given.
func storedStaff(s identity.Staff) identity.Staff {
	s.LockedUntil = stored(s.LockedUntil)
	s.PasswordChangedAt = stored(s.PasswordChangedAt)
	s.CreatedAt = stored(s.CreatedAt)
	return s
}

// sameStaff compares accounts field by field, a nil and an empty slice
// alike: both mean "no sectors", which is every sector.
func sameStaff(t *testing.T, what string, got, want identity.Staff) {
	t.Helper()
	norm := func(s identity.Staff) identity.Staff {
		if len(s.Roles) == 0 {
			s.Roles = nil
		}
		if len(s.Sectors) == 0 {
			s.Sectors = nil
		}
		return s
	}
	if got, want := norm(got), norm(want); !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.LockedUntil, got.PasswordChangedAt, got.CreatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

func usernames(ss []identity.Staff) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Username
	}
	return out
}

func testStaffCreateGet(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	full := staffAccount("st1", "c1", "zhang.san")
	full.Disabled = true
	full.FailedLogins = 2
	full.LockedUntil = at.Add(15*time.Minute + 987654321)
	// An admin of every sector: no sectors at all.
	admin := identity.Staff{
		ID: "st2", Center: "c1", Username: "admin", Name: "管理员",
		Roles:        []identity.Role{identity.RoleAdmin},
		PasswordHash: "$argon2id$admin", PasswordChangedAt: at, CreatedAt: at,
	}
	for _, st := range []identity.Staff{full, admin} {
		must(t, "create "+st.Username, s.CreateStaff(ctx, st))
	}
	for _, st := range []identity.Staff{full, admin} {
		got, err := s.GetStaff(ctx, st.ID)
		must(t, "get "+st.ID, err)
		sameStaff(t, "get "+st.ID, got, storedStaff(st))
		got, err = s.GetStaffByUsername(ctx, st.Username)
		must(t, "get by username "+st.Username, err)
		sameStaff(t, "get by username "+st.Username, got, storedStaff(st))
	}
	got, err := s.GetStaff(ctx, "st2")
	must(t, "get admin", err)
	if !got.InSector("anything") || !got.LockedUntil.IsZero() {
		t.Errorf("admin: InSector=%v LockedUntil=%v, want every sector and no lock", got.InSector("anything"), got.LockedUntil)
	}
}

func testStaffDuplicate(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	first := staffAccount("st1", "c1", "li.si")
	must(t, "create", s.CreateStaff(ctx, first))

	sameName := staffAccount("st2", "c2", "li.si")
	sameName.Name = "另一个李四"
	wantCode(t, "create with a taken username", s.CreateStaff(ctx, sameName), apperr.Conflict)
	sameID := staffAccount("st1", "c2", "wang.wu")
	wantCode(t, "create with a taken id", s.CreateStaff(ctx, sameID), apperr.Conflict)

	got, err := s.GetStaffByUsername(ctx, "li.si")
	must(t, "get by username", err)
	sameStaff(t, "after duplicate creates", got, storedStaff(first))
	_, err = s.GetStaff(ctx, "st2")
	wantCode(t, "get refused account", err, apperr.NotFound)
	_, err = s.GetStaffByUsername(ctx, "wang.wu")
	wantCode(t, "get refused username", err, apperr.NotFound)
	all, err := s.ListStaff(ctx, "")
	must(t, "list", err)
	if len(all) != 1 {
		t.Errorf("list after duplicate creates: got %v, want only li.si", usernames(all))
	}
}

func testStaffNotFound(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	st := staffAccount("st1", "c1", "zhao.liu")
	must(t, "create", s.CreateStaff(ctx, st))

	_, err := s.GetStaff(ctx, "st9")
	wantCode(t, "get unknown id", err, apperr.NotFound)
	_, err = s.GetStaffByUsername(ctx, "nobody")
	wantCode(t, "get unknown username", err, apperr.NotFound)
	// An ID is not a username, nor the other way round.
	_, err = s.GetStaffByUsername(ctx, "st1")
	wantCode(t, "get by username using an id", err, apperr.NotFound)
	_, err = s.GetStaff(ctx, "zhao.liu")
	wantCode(t, "get by id using a username", err, apperr.NotFound)
	_, err = s.RecordFailedLogin(ctx, "st9", lockLimit, at)
	wantCode(t, "record failed login of unknown", err, apperr.NotFound)
	wantCode(t, "reset unknown", s.ResetFailedLogins(ctx, "st9"), apperr.NotFound)
	wantCode(t, "set password of unknown", s.SetPassword(ctx, "st9", "h", at), apperr.NotFound)

	got, err := s.GetStaff(ctx, "st1")
	must(t, "get", err)
	sameStaff(t, "known account after calls on unknown ones", got, storedStaff(st))
}

func testStaffList(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	// Created out of username order, so ordering is the store's doing.
	for i, sp := range []struct{ center, username string }{
		{"c1", "wang.wu"}, {"c2", "bai.yi"}, {"c1", "admin"}, {"c1", "li.si"}, {"c2", "zhou.ba"}, {"c1", "clerk01"},
	} {
		must(t, "create "+sp.username, s.CreateStaff(ctx, staffAccount(fmt.Sprintf("st%d", i), sp.center, sp.username)))
	}
	for _, tc := range []struct {
		center string
		want   []string
	}{
		{"c1", []string{"admin", "clerk01", "li.si", "wang.wu"}},
		{"c2", []string{"bai.yi", "zhou.ba"}},
		{"", []string{"admin", "bai.yi", "clerk01", "li.si", "wang.wu", "zhou.ba"}},
		{"c9", []string{}},
	} {
		got, err := s.ListStaff(ctx, tc.center)
		must(t, "list "+tc.center, err)
		if !slices.Equal(usernames(got), tc.want) {
			t.Errorf("ListStaff(%q) = %v, want %v", tc.center, usernames(got), tc.want)
		}
	}
	// Listed accounts are whole.
	got, err := s.ListStaff(ctx, "c2")
	must(t, "list c2", err)
	if len(got) == 2 {
		sameStaff(t, "listed bai.yi", got[0], storedStaff(staffAccount("st1", "c2", "bai.yi")))
	}
}

func testFailedLoginsLock(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	st := staffAccount("st1", "c1", "li.si")
	other := staffAccount("st2", "c1", "wang.wu")
	must(t, "create", s.CreateStaff(ctx, st))
	must(t, "create other", s.CreateStaff(ctx, other))
	lockUntil := at.Add(15*time.Minute + 456789)

	for n := 1; n <= lockLimit+1; n++ {
		got, err := s.RecordFailedLogin(ctx, "st1", lockLimit, lockUntil)
		must(t, fmt.Sprintf("failure %d", n), err)
		want := storedStaff(st)
		want.FailedLogins = n
		if n >= lockLimit {
			want.LockedUntil = stored(lockUntil)
		}
		sameStaff(t, fmt.Sprintf("returned after failure %d", n), got, want)
		read, err := s.GetStaff(ctx, "st1")
		must(t, "get", err)
		sameStaff(t, fmt.Sprintf("read after failure %d", n), read, want)
	}
	got, err := s.GetStaff(ctx, "st2")
	must(t, "get other", err)
	sameStaff(t, "another account after st1's failures", got, storedStaff(other))
}

// testFailedLoginsConcurrent is someone guessing passwords from many
// connections at once: no guess goes uncounted, and from the limit on
// every guess is told the account is locked.
func testFailedLoginsConcurrent(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	must(t, "create", s.CreateStaff(ctx, staffAccount("st1", "c1", "li.si")))
	lockUntil := at.Add(15 * time.Minute)

	const guesses = 20
	results := make([]identity.Staff, guesses)
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range guesses {
		wg.Go(func() {
			<-start
			results[i], errs[i] = s.RecordFailedLogin(ctx, "st1", lockLimit, lockUntil)
		})
	}
	close(start)
	wg.Wait()

	var open []int
	for i, err := range errs {
		must(t, fmt.Sprintf("guess %d", i), err)
		r := results[i]
		switch {
		case r.LockedUntil.IsZero():
			open = append(open, r.FailedLogins)
			if r.FailedLogins >= lockLimit {
				t.Errorf("guess %d: %d failures and not locked", i, r.FailedLogins)
			}
		case !r.LockedUntil.Equal(stored(lockUntil)):
			t.Errorf("guess %d: locked until %v, want %v", i, r.LockedUntil, stored(lockUntil))
		case r.FailedLogins < lockLimit || r.FailedLogins > guesses:
			t.Errorf("guess %d: locked with %d failures, want %d to %d", i, r.FailedLogins, lockLimit, guesses)
		}
	}
	slices.Sort(open)
	if want := []int{1, 2, 3, 4}; !slices.Equal(open, want) {
		t.Errorf("guesses told the account is still open saw counts %v, want %v", open, want)
	}
	got, err := s.GetStaff(ctx, "st1")
	must(t, "get", err)
	if got.FailedLogins != guesses || !got.LockedUntil.Equal(stored(lockUntil)) {
		t.Errorf("after %d concurrent failures: count %d, locked until %v; want %d and %v",
			guesses, got.FailedLogins, got.LockedUntil, guesses, stored(lockUntil))
	}
}

func testFailedLoginsNeverShorten(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	must(t, "create", s.CreateStaff(ctx, staffAccount("st1", "c1", "li.si")))
	record := func(lockUntil time.Time) identity.Staff {
		t.Helper()
		got, err := s.RecordFailedLogin(ctx, "st1", lockLimit, lockUntil)
		must(t, "record failed login", err)
		return got
	}
	// Below the limit even a far lock time locks nothing.
	for range lockLimit - 1 {
		if got := record(at.Add(24 * time.Hour)); !got.LockedUntil.IsZero() {
			t.Fatalf("locked until %v after %d failures, limit %d", got.LockedUntil, got.FailedLogins, lockLimit)
		}
	}
	lock := at.Add(15 * time.Minute)
	if got := record(lock); !got.LockedUntil.Equal(stored(lock)) {
		t.Fatalf("at the limit: locked until %v, want %v", got.LockedUntil, stored(lock))
	}
	// A failure whose clock is behind (another server) keeps the lock.
	got := record(lock.Add(-10 * time.Minute))
	if !got.LockedUntil.Equal(stored(lock)) || got.FailedLogins != lockLimit+1 {
		t.Errorf("after an earlier lock time: count %d, locked until %v; want %d and %v",
			got.FailedLogins, got.LockedUntil, lockLimit+1, stored(lock))
	}
	// A later failure extends it.
	later := lock.Add(20*time.Minute + 333*time.Millisecond)
	got = record(later)
	if !got.LockedUntil.Equal(stored(later)) || got.FailedLogins != lockLimit+2 {
		t.Errorf("after a later lock time: count %d, locked until %v; want %d and %v",
			got.FailedLogins, got.LockedUntil, lockLimit+2, stored(later))
	}
	read, err := s.GetStaff(ctx, "st1")
	must(t, "get", err)
	if !read.LockedUntil.Equal(stored(later)) {
		t.Errorf("read: locked until %v, want %v", read.LockedUntil, stored(later))
	}
}

func testResetFailedLogins(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	st := staffAccount("st1", "c1", "li.si")
	other := staffAccount("st2", "c1", "wang.wu")
	must(t, "create", s.CreateStaff(ctx, st))
	must(t, "create other", s.CreateStaff(ctx, other))
	lock := at.Add(15 * time.Minute)
	for range lockLimit {
		_, err := s.RecordFailedLogin(ctx, "st1", lockLimit, lock)
		must(t, "fail st1", err)
	}
	_, err := s.RecordFailedLogin(ctx, "st2", lockLimit, lock)
	must(t, "fail st2", err)

	must(t, "reset", s.ResetFailedLogins(ctx, "st1"))
	got, err := s.GetStaff(ctx, "st1")
	must(t, "get", err)
	sameStaff(t, "after reset", got, storedStaff(st))
	must(t, "reset again", s.ResetFailedLogins(ctx, "st1"))

	// The count starts over: one failure does not lock again.
	got, err = s.RecordFailedLogin(ctx, "st1", lockLimit, lock)
	must(t, "fail after reset", err)
	if got.FailedLogins != 1 || !got.LockedUntil.IsZero() {
		t.Errorf("first failure after reset: count %d, locked until %v; want 1 and no lock", got.FailedLogins, got.LockedUntil)
	}
	got, err = s.GetStaff(ctx, "st2")
	must(t, "get other", err)
	if got.FailedLogins != 1 {
		t.Errorf("another account after st1's reset: count %d, want 1", got.FailedLogins)
	}
}

// testFailedLoginRacesReset is a wrong password from one device while the
// right one arrives from another, at one failure short of the limit. In
// every order the owner ends up able to log in: either the reset comes
// last, or the failure is counted after it as the first of a new run.
func testFailedLoginRacesReset(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	must(t, "create", s.CreateStaff(ctx, staffAccount("st1", "c1", "li.si")))
	lock := at.Add(15 * time.Minute)
	for round := range 40 {
		for range lockLimit - 1 {
			_, err := s.RecordFailedLogin(ctx, "st1", lockLimit, lock)
			must(t, "fail", err)
		}
		var wg sync.WaitGroup
		var failErr, resetErr error
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			_, failErr = s.RecordFailedLogin(ctx, "st1", lockLimit, lock)
		})
		wg.Go(func() {
			<-start
			resetErr = s.ResetFailedLogins(ctx, "st1")
		})
		close(start)
		wg.Wait()
		must(t, "racing failure", failErr)
		must(t, "racing reset", resetErr)
		got, err := s.GetStaff(ctx, "st1")
		must(t, "get", err)
		if got.FailedLogins > 1 || !got.LockedUntil.IsZero() {
			t.Fatalf("round %d: after a failure and a reset: count %d, locked until %v; want at most 1 and no lock",
				round, got.FailedLogins, got.LockedUntil)
		}
		must(t, "reset for next round", s.ResetFailedLogins(ctx, "st1"))
	}
}

func testSetPassword(t *testing.T, s identity.StaffStore) {
	ctx := t.Context()
	st := staffAccount("st1", "c1", "li.si")
	other := staffAccount("st2", "c1", "wang.wu")
	must(t, "create", s.CreateStaff(ctx, st))
	must(t, "create other", s.CreateStaff(ctx, other))
	_, err := s.RecordFailedLogin(ctx, "st1", lockLimit, at)
	must(t, "fail once", err)

	changed := at.Add(48*time.Hour + 789*time.Microsecond)
	must(t, "set password", s.SetPassword(ctx, "st1", "$argon2id$new", changed))
	want := storedStaff(st)
	want.PasswordHash, want.PasswordChangedAt, want.FailedLogins = "$argon2id$new", stored(changed), 1
	got, err := s.GetStaffByUsername(ctx, "li.si")
	must(t, "get", err)
	sameStaff(t, "after set password", got, want)

	// Setting the same hash again (a rehash that came out equal) is no error.
	must(t, "set the same password", s.SetPassword(ctx, "st1", "$argon2id$new", changed))
	got, err = s.GetStaff(ctx, "st2")
	must(t, "get other", err)
	sameStaff(t, "another account after st1's new password", got, storedStaff(other))
}

// webSession is a staff session with every field set.
func webSession(token string, kind identity.Kind, subject string) identity.Session {
	return identity.Session{
		ID: identity.TokenID(token), Kind: kind, Subject: subject, Center: "c1",
		CSRF:      "csrf-" + token,
		CreatedAt: at, LastSeen: at.Add(time.Minute + 1), ExpiresAt: at.Add(31 * time.Minute),
	}
}

func storedSession(s identity.Session) identity.Session {
	s.CreatedAt, s.LastSeen = stored(s.CreatedAt), stored(s.LastSeen)
	s.ExpiresAt, s.RevokedAt = stored(s.ExpiresAt), stored(s.RevokedAt)
	return s
}

func sameSession(t *testing.T, what string, got, want identity.Session) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.LastSeen, got.ExpiresAt, got.RevokedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

func getSession(t *testing.T, s identity.SessionStore, token string) identity.Session {
	t.Helper()
	got, err := s.GetSession(t.Context(), identity.TokenID(token))
	must(t, "get session "+token, err)
	return got
}

func testSessionCreateGet(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	staff := webSession("a", identity.KindStaff, "st1")
	citizen := webSession("b", identity.KindCitizen, "ci1")
	citizen.Center = ""
	ended := webSession("c", identity.KindCourier, "co1")
	ended.RevokedAt = at.Add(5*time.Minute + 999999)
	for _, se := range []identity.Session{staff, citizen, ended} {
		must(t, "create "+string(se.Kind), s.CreateSession(ctx, se))
	}
	for tok, se := range map[string]identity.Session{"a": staff, "b": citizen, "c": ended} {
		sameSession(t, "get "+tok, getSession(t, s, tok), storedSession(se))
	}
	now := at.Add(10 * time.Minute)
	if got := getSession(t, s, "a"); !got.Active(now) {
		t.Errorf("new session not active at %v: %+v", now, got)
	}
	if got := getSession(t, s, "c"); got.Active(now) {
		t.Errorf("revoked session active at %v: %+v", now, got)
	}
}

func testSessionDuplicate(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	first := webSession("a", identity.KindStaff, "st1")
	must(t, "create", s.CreateSession(ctx, first))
	second := webSession("a", identity.KindStaff, "st2")
	second.CSRF = "other"
	wantCode(t, "create duplicate", s.CreateSession(ctx, second), apperr.Conflict)
	sameSession(t, "after duplicate create", getSession(t, s, "a"), storedSession(first))
}

func testSessionNotFound(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	se := webSession("a", identity.KindStaff, "st1")
	must(t, "create", s.CreateSession(ctx, se))
	ghost := identity.TokenID("ghost")

	_, err := s.GetSession(ctx, ghost)
	wantCode(t, "get unknown", err, apperr.NotFound)
	// The token itself is not the ID: only its hash finds the session.
	_, err = s.GetSession(ctx, "a")
	wantCode(t, "get by raw token", err, apperr.NotFound)
	wantCode(t, "touch unknown", s.TouchSession(ctx, ghost, at, at.Add(time.Hour)), apperr.NotFound)
	wantCode(t, "revoke unknown", s.RevokeSession(ctx, ghost, at), apperr.NotFound)
	must(t, "revoke sessions of a party without any", s.RevokeSubjectSessions(ctx, identity.KindStaff, "st9", at))
	sameSession(t, "known session after calls on unknown ones", getSession(t, s, "a"), storedSession(se))
}

func testSessionTouch(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	se := webSession("a", identity.KindStaff, "st1")
	other := webSession("b", identity.KindStaff, "st1")
	must(t, "create", s.CreateSession(ctx, se))
	must(t, "create other", s.CreateSession(ctx, other))

	later := at.Add(35 * time.Minute)
	if got := getSession(t, s, "a"); got.Active(later) {
		t.Fatalf("session active at %v before being touched", later)
	}
	seen, expires := at.Add(20*time.Minute+1234567), at.Add(50*time.Minute+7654321)
	must(t, "touch", s.TouchSession(ctx, se.ID, seen, expires))
	want := storedSession(se)
	want.LastSeen, want.ExpiresAt = stored(seen), stored(expires)
	got := getSession(t, s, "a")
	sameSession(t, "after touch", got, want)
	if !got.Active(later) {
		t.Errorf("touched session not active at %v: %+v", later, got)
	}
	sameSession(t, "another session of the same party", getSession(t, s, "b"), storedSession(other))

	// Using a revoked session's token does not bring it back.
	must(t, "revoke", s.RevokeSession(ctx, se.ID, seen))
	must(t, "touch revoked", s.TouchSession(ctx, se.ID, later, later.Add(time.Hour)))
	if got := getSession(t, s, "a"); got.Active(later) || !got.RevokedAt.Equal(stored(seen)) {
		t.Errorf("revoked then touched: %+v, want still revoked at %v", got, stored(seen))
	}
}

func testSessionRevoke(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	se := webSession("a", identity.KindStaff, "st1")
	other := webSession("b", identity.KindStaff, "st1")
	must(t, "create", s.CreateSession(ctx, se))
	must(t, "create other", s.CreateSession(ctx, other))

	first := at.Add(5*time.Minute + 500*time.Microsecond)
	must(t, "revoke", s.RevokeSession(ctx, se.ID, first))
	want := storedSession(se)
	want.RevokedAt = stored(first)
	got := getSession(t, s, "a")
	sameSession(t, "after revoke", got, want)
	if got.Active(at.Add(6 * time.Minute)) {
		t.Errorf("revoked session still active: %+v", got)
	}
	for _, again := range []time.Time{first.Add(time.Minute), first.Add(-time.Minute)} {
		must(t, "revoke again", s.RevokeSession(ctx, se.ID, again))
		sameSession(t, "after revoking again at "+again.String(), getSession(t, s, "a"), want)
	}
	sameSession(t, "another session of the same party", getSession(t, s, "b"), storedSession(other))
}

// testRevokeSubjectSessions is a password change: every session of that
// staff member ends, on every device, and nobody else's.
func testRevokeSubjectSessions(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	phone := webSession("phone", identity.KindStaff, "st1")
	desk := webSession("desk", identity.KindStaff, "st1")
	old := webSession("old", identity.KindStaff, "st1")
	old.RevokedAt = at.Add(2 * time.Minute)
	// The same subject string under another kind is another party.
	citizen := webSession("citizen", identity.KindCitizen, "st1")
	colleague := webSession("colleague", identity.KindStaff, "st2")
	sessions := map[string]identity.Session{"phone": phone, "desk": desk, "old": old, "citizen": citizen, "colleague": colleague}
	for tok, se := range sessions {
		must(t, "create "+tok, s.CreateSession(ctx, se))
	}

	ended := at.Add(10*time.Minute + 42*time.Microsecond)
	must(t, "revoke st1's sessions", s.RevokeSubjectSessions(ctx, identity.KindStaff, "st1", ended))
	for tok, se := range sessions {
		want := storedSession(se)
		if tok == "phone" || tok == "desk" {
			want.RevokedAt = stored(ended)
		}
		sameSession(t, "after revoking st1's sessions: "+tok, getSession(t, s, tok), want)
	}
	now := ended.Add(time.Second)
	for _, tok := range []string{"citizen", "colleague"} {
		if got := getSession(t, s, tok); !got.Active(now) {
			t.Errorf("session %s of another party ended too", tok)
		}
	}
	// A second change ends nothing more and moves no time.
	must(t, "revoke again", s.RevokeSubjectSessions(ctx, identity.KindStaff, "st1", ended.Add(time.Hour)))
	if got := getSession(t, s, "desk"); !got.RevokedAt.Equal(stored(ended)) {
		t.Errorf("desk after second revoke: revoked at %v, want %v", got.RevokedAt, stored(ended))
	}
}

// testCardSession is a citizen at a kiosk: the session is bound to that
// kiosk and holds the card it was opened with, through its whole life.
func testCardSession(t *testing.T, s identity.SessionStore) {
	ctx := t.Context()
	card := webSession("card", identity.KindCard, "bi:id_number:aaaa")
	card.Kiosk, card.Sealed = "ks0195a1b2c3d4e5f60718293a4b5c", "v1.sealed-card-holder"
	staff := webSession("staff", identity.KindStaff, "st1")
	must(t, "create card session", s.CreateSession(ctx, card))
	must(t, "create staff session", s.CreateSession(ctx, staff))

	want := storedSession(card)
	sameSession(t, "card session", getSession(t, s, "card"), want)
	sameSession(t, "staff session beside it", getSession(t, s, "staff"), storedSession(staff))

	seen := at.Add(90 * time.Second)
	must(t, "touch", s.TouchSession(ctx, card.ID, seen, seen.Add(2*time.Minute)))
	want.LastSeen, want.ExpiresAt = stored(seen), stored(seen.Add(2*time.Minute))
	sameSession(t, "card session after touch", getSession(t, s, "card"), want)

	ended := at.Add(3 * time.Minute)
	must(t, "revoke", s.RevokeSession(ctx, card.ID, ended))
	want.RevokedAt = stored(ended)
	sameSession(t, "card session after revoke", getSession(t, s, "card"), want)
}
