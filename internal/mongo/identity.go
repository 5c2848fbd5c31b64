package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
)

// Collections of identity.
const (
	staffColl    = "staff"
	sessionsColl = "sessions"
)

func identityIndexes() []collectionIndexes {
	return []collectionIndexes{
		{staffColl, []mongodrv.IndexModel{
			{
				Keys:    bson.D{{Key: "username", Value: 1}},
				Options: options.Index().SetName("username").SetUnique(true),
			},
			{
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "username", Value: 1}},
				Options: options.Index().SetName("center_username"),
			},
		}},
		{sessionsColl, []mongodrv.IndexModel{{
			Keys:    bson.D{{Key: "kind", Value: 1}, {Key: "subject", Value: 1}},
			Options: options.Index().SetName("kind_subject"),
		}}},
	}
}

// IdentityStore is identity.StaffStore and identity.SessionStore on MongoDB.
//
// An unset time (no lock, not revoked) is stored as the zero time.Time,
// a BSON date in year 1, rather than left out: it then sorts below every
// real time, so "$max" extends a lock from nothing and an equality filter
// finds the sessions not yet revoked.
type IdentityStore struct {
	staff    *mongodrv.Collection
	sessions *mongodrv.Collection
}

var (
	_ identity.StaffStore   = (*IdentityStore)(nil)
	_ identity.SessionStore = (*IdentityStore)(nil)
)

// NewIdentityStore returns the identity store on db.
func NewIdentityStore(db *DB) *IdentityStore {
	return &IdentityStore{
		staff:    db.db.Collection(staffColl),
		sessions: db.db.Collection(sessionsColl),
	}
}

// staffDoc mirrors identity.Staff field for field. Times are stored in
// UTC truncated to milliseconds, as BSON dates hold them.
type staffDoc struct {
	ID                string          `bson:"_id"`
	Center            string          `bson:"center"`
	Username          string          `bson:"username"`
	Name              string          `bson:"name"`
	Roles             []identity.Role `bson:"roles"`
	Sectors           []string        `bson:"sectors"`
	Company           string          `bson:"company"`
	PasswordHash      string          `bson:"password_hash"`
	Disabled          bool            `bson:"disabled"`
	FailedLogins      int             `bson:"failed_logins"`
	LockedUntil       time.Time       `bson:"locked_until"`
	PasswordChangedAt time.Time       `bson:"password_changed_at"`
	CreatedAt         time.Time       `bson:"created_at"`
}

func toStaffDoc(s identity.Staff) staffDoc {
	d := staffDoc(s)
	storedTimes(&d.LockedUntil, &d.PasswordChangedAt, &d.CreatedAt)
	return d
}

func (d staffDoc) staff() identity.Staff {
	s := identity.Staff(d)
	utcTimes(&s.LockedUntil, &s.PasswordChangedAt, &s.CreatedAt)
	return s
}

// sessionDoc mirrors identity.Session field for field; _id is the
// session ID, the token's hash.
type sessionDoc struct {
	ID        string        `bson:"_id"`
	Kind      identity.Kind `bson:"kind"`
	Subject   string        `bson:"subject"`
	Center    string        `bson:"center"`
	Kiosk     string        `bson:"kiosk"`
	Sealed    string        `bson:"sealed"`
	CSRF      string        `bson:"csrf"`
	CreatedAt time.Time     `bson:"created_at"`
	LastSeen  time.Time     `bson:"last_seen"`
	ExpiresAt time.Time     `bson:"expires_at"`
	RevokedAt time.Time     `bson:"revoked_at"`
}

func toSessionDoc(s identity.Session) sessionDoc {
	d := sessionDoc(s)
	storedTimes(&d.CreatedAt, &d.LastSeen, &d.ExpiresAt, &d.RevokedAt)
	return d
}

func (d sessionDoc) session() identity.Session {
	s := identity.Session(d)
	utcTimes(&s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.RevokedAt)
	return s
}

func errNoStaff() error { return apperr.New(apperr.NotFound, "没有这个工作人员账号") }

func errNoSession() error { return apperr.New(apperr.NotFound, "会话不存在") }

// CreateStaff stores a new account; a taken username (or ID) is a conflict.
func (s *IdentityStore) CreateStaff(ctx context.Context, st identity.Staff) error {
	if _, err := s.staff.InsertOne(ctx, toStaffDoc(st)); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "用户名已被使用", err)
		}
		return fmt.Errorf("mongo: create staff %s: %w", st.Username, err)
	}
	return nil
}

// GetStaff returns an account by ID.
func (s *IdentityStore) GetStaff(ctx context.Context, id string) (identity.Staff, error) {
	return s.findStaff(ctx, bson.D{{Key: "_id", Value: id}})
}

// GetStaffByUsername returns an account by its normalized username.
func (s *IdentityStore) GetStaffByUsername(ctx context.Context, username string) (identity.Staff, error) {
	return s.findStaff(ctx, bson.D{{Key: "username", Value: username}})
}

func (s *IdentityStore) findStaff(ctx context.Context, filter bson.D) (identity.Staff, error) {
	var d staffDoc
	err := s.staff.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return identity.Staff{}, errNoStaff()
	}
	if err != nil {
		return identity.Staff{}, fmt.Errorf("mongo: get staff: %w", err)
	}
	return d.staff(), nil
}

// ListStaff returns a center's accounts ordered by username; an empty
// center lists every account.
func (s *IdentityStore) ListStaff(ctx context.Context, center string) ([]identity.Staff, error) {
	filter := bson.D{}
	if center != "" {
		filter = bson.D{{Key: "center", Value: center}}
	}
	opts := options.Find().SetSort(bson.D{{Key: "username", Value: 1}})
	docs, err := findAll[staffDoc](ctx, s.staff, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list staff of %q: %w", center, err)
	}
	out := make([]identity.Staff, len(docs))
	for i, d := range docs {
		out[i] = d.staff()
	}
	return out, nil
}

// RecordFailedLogin counts one failure and locks the account once the
// count reaches limit.
//
// Without pipeline updates (which FerretDB v1 lacks) one update cannot
// both add one and decide on the new count, so it takes two: the "$inc"
// alone is atomic, so no failure is lost to a concurrent one; the lock
// then applies only while the count is still at the limit, so a
// successful login that reset the account in between is not undone, and
// "$max" never shortens a lock a concurrent failure set further out.
func (s *IdentityStore) RecordFailedLogin(ctx context.Context, id string, limit int, lockUntil time.Time) (identity.Staff, error) {
	after := options.FindOneAndUpdate().SetReturnDocument(options.After)
	var d staffDoc
	err := s.staff.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "failed_logins", Value: 1}}}},
		after).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return identity.Staff{}, errNoStaff()
	}
	if err != nil {
		return identity.Staff{}, fmt.Errorf("mongo: record failed login of %s: %w", id, err)
	}
	if d.FailedLogins < limit {
		return d.staff(), nil
	}
	filter := bson.D{
		{Key: "_id", Value: id},
		{Key: "failed_logins", Value: bson.D{{Key: "$gte", Value: limit}}},
	}
	lock := bson.D{{Key: "$max", Value: bson.D{
		{Key: "locked_until", Value: lockUntil.UTC().Truncate(time.Millisecond)},
	}}}
	err = s.staff.FindOneAndUpdate(ctx, filter, lock, after).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		// Reset (or removed) since our increment: report it as it is now.
		return s.GetStaff(ctx, id)
	}
	if err != nil {
		return identity.Staff{}, fmt.Errorf("mongo: lock staff %s: %w", id, err)
	}
	return d.staff(), nil
}

// ResetFailedLogins clears the failure count and any lock.
func (s *IdentityStore) ResetFailedLogins(ctx context.Context, id string) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "failed_logins", Value: 0},
		{Key: "locked_until", Value: time.Time{}},
	}}}
	return s.updateByID(ctx, s.staff, id, update, errNoStaff, "reset failed logins of")
}

// SetPassword replaces the password hash and records when.
func (s *IdentityStore) SetPassword(ctx context.Context, id, hash string, at time.Time) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "password_hash", Value: hash},
		{Key: "password_changed_at", Value: at.UTC().Truncate(time.Millisecond)},
	}}}
	return s.updateByID(ctx, s.staff, id, update, errNoStaff, "set password of")
}

// CreateSession stores a new session; a taken ID is a conflict.
func (s *IdentityStore) CreateSession(ctx context.Context, se identity.Session) error {
	if _, err := s.sessions.InsertOne(ctx, toSessionDoc(se)); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "会话已存在", err)
		}
		return fmt.Errorf("mongo: create session: %w", err)
	}
	return nil
}

// GetSession returns a session, active or not.
func (s *IdentityStore) GetSession(ctx context.Context, id string) (identity.Session, error) {
	var d sessionDoc
	err := s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return identity.Session{}, errNoSession()
	}
	if err != nil {
		return identity.Session{}, fmt.Errorf("mongo: get session: %w", err)
	}
	return d.session(), nil
}

// TouchSession records use at `at` and moves the expiry to expires.
func (s *IdentityStore) TouchSession(ctx context.Context, id string, at, expires time.Time) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "last_seen", Value: at.UTC().Truncate(time.Millisecond)},
		{Key: "expires_at", Value: expires.UTC().Truncate(time.Millisecond)},
	}}}
	return s.updateByID(ctx, s.sessions, id, update, errNoSession, "touch session")
}

// RevokeSession ends one session. Revoking it again keeps the first time,
// which is when it really ended.
func (s *IdentityStore) RevokeSession(ctx context.Context, id string, at time.Time) error {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "revoked_at", Value: time.Time{}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at.UTC().Truncate(time.Millisecond)}}}}
	res, err := s.sessions.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("mongo: revoke session: %w", err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// Either revoked already, which is fine, or not there at all.
	_, err = s.GetSession(ctx, id)
	return err
}

// RevokeSubjectSessions ends every session of one party not yet revoked.
func (s *IdentityStore) RevokeSubjectSessions(ctx context.Context, kind identity.Kind, subject string, at time.Time) error {
	filter := bson.D{
		{Key: "kind", Value: kind},
		{Key: "subject", Value: subject},
		{Key: "revoked_at", Value: time.Time{}},
	}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at.UTC().Truncate(time.Millisecond)}}}}
	if _, err := s.sessions.UpdateMany(ctx, filter, update); err != nil {
		return fmt.Errorf("mongo: revoke sessions of %s %s: %w", kind, subject, err)
	}
	return nil
}

// updateByID applies update to the document of c with _id id, and
// returns notFound() if there is none. Matched, not modified, is what
// counts: an update that changes nothing still found its document.
func (s *IdentityStore) updateByID(ctx context.Context, c *mongodrv.Collection, id string, update bson.D, notFound func() error, what string) error {
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return fmt.Errorf("mongo: %s %s: %w", what, id, err)
	}
	if res.MatchedCount == 0 {
		return notFound()
	}
	return nil
}
