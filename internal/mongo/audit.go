package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// auditColl holds the audit records.
const auditColl = "audit"

// auditIndexes serve the lists auditors ask for: one citizen's data use,
// one actor's actions, one center's log, each newest first by ID.
func auditIndexes() []collectionIndexes {
	return []collectionIndexes{
		{auditColl, []mongodrv.IndexModel{
			{
				Keys:    bson.D{{Key: "subject", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("subject_id"),
			},
			{
				Keys:    bson.D{{Key: "actor", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("actor_id"),
			},
			{
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "_id", Value: 1}},
				Options: options.Index().SetName("center_id"),
			},
		}},
	}
}

// AuditStore is audit.Store on MongoDB. It only inserts and finds: there
// is no code path that updates or deletes a record. (Enforcing that on
// the server takes a role without those privileges on the collection.)
type AuditStore struct {
	audit *mongodrv.Collection
}

var _ audit.Store = (*AuditStore)(nil)

// NewAuditStore returns the audit store on db.
func NewAuditStore(db *DB) *AuditStore {
	return &AuditStore{audit: db.db.Collection(auditColl)}
}

// auditDoc mirrors audit.Record field for field; _id is the record ID,
// which sorts by time.
type auditDoc struct {
	ID      string        `bson:"_id"`
	At      time.Time     `bson:"at"`
	Actor   string        `bson:"actor"`
	Role    string        `bson:"role"`
	Center  string        `bson:"center"`
	Action  string        `bson:"action"`
	Subject string        `bson:"subject"`
	Target  string        `bson:"target"`
	Purpose string        `bson:"purpose"`
	Outcome audit.Outcome `bson:"outcome"`
	IP      string        `bson:"ip"`
	Kiosk   string        `bson:"kiosk"`
}

// AppendAudit stores a record; a taken ID is a conflict and leaves the
// stored record as it was.
func (s *AuditStore) AppendAudit(ctx context.Context, r audit.Record) error {
	d := auditDoc(r)
	d.At = d.At.UTC().Truncate(time.Millisecond)
	if _, err := s.audit.InsertOne(ctx, d); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "审计记录编号重复", err)
		}
		return fmt.Errorf("mongo: append audit %s by %s: %w", r.Action, r.Actor, err)
	}
	return nil
}

// ListAudit returns records matching f, newest first; f.Before continues
// after that ID, and a Limit of 0 or less returns every match.
func (s *AuditStore) ListAudit(ctx context.Context, f audit.Filter) ([]audit.Record, error) {
	filter := bson.D{}
	eq := func(key, v string) {
		if v != "" {
			filter = append(filter, bson.E{Key: key, Value: v})
		}
	}
	eq("actor", f.Actor)
	eq("subject", f.Subject)
	eq("center", f.Center)
	eq("action", f.Action)
	if f.Before != "" {
		filter = append(filter, bson.E{Key: "_id", Value: bson.D{{Key: "$lt", Value: f.Before}}})
	}
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: -1}})
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[auditDoc](ctx, s.audit, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list audit: %w", err)
	}
	out := make([]audit.Record, len(docs))
	for i, d := range docs {
		r := audit.Record(d)
		r.At = r.At.UTC()
		out[i] = r
	}
	return out, nil
}
