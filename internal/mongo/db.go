// Package mongo implements the business areas' store interfaces on MongoDB
// (driver v2), one file per area. It keeps to the subset of MongoDB that
// FerretDB v1 also serves: atomicity comes from single-document conditional
// updates and unique indexes, never from transactions, so one code path runs
// on the embedded FerretDB, a replica set and a sharded cluster.
package mongo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// DB is a connection to one MongoDB database, shared by the area stores.
type DB struct {
	client *mongodrv.Client
	db     *mongodrv.Database
	// status is the read preference of status reads; see Options.StatusReads.
	status *readpref.ReadPref
}

// Options configures OpenWith.
type Options struct {
	// URI is the connection string, e.g. "mongodb://127.0.0.1:27017".
	URI string
	// Database is the name of the database that holds every collection.
	Database string
	// MaxPoolSize caps the client's connections per server; 0 keeps the
	// driver's default. Tests against the embedded FerretDB set it to 1.
	MaxPoolSize uint64
	// StatusReads is the read preference of the reads that only show a
	// status the next poll refreshes anyway: the lobby board's recent calls
	// and waiting counts and a ticket's "people ahead". "" or "primary"
	// reads them from the primary like everything else; "secondaryPreferred"
	// or "nearest" move that polling off the primary of a replica set, at
	// most 90 s stale (the driver's smallest maxStaleness). Every other
	// read stays on the primary: a citizen must see the ticket just taken.
	StatusReads string
}

// statusReadPref parses Options.StatusReads.
func statusReadPref(mode string) (*readpref.ReadPref, error) {
	stale := readpref.WithMaxStaleness(90 * time.Second)
	switch mode {
	case "", "primary":
		return readpref.Primary(), nil
	case "secondaryPreferred":
		return readpref.SecondaryPreferred(stale), nil
	case "nearest":
		return readpref.Nearest(stale), nil
	}
	return nil, fmt.Errorf("mongo: status reads must be primary, secondaryPreferred or nearest, not %q", mode)
}

// Open connects to the database with the driver's default pool; see OpenWith.
func Open(ctx context.Context, uri, database string) (*DB, error) {
	return OpenWith(ctx, Options{URI: uri, Database: database})
}

// OpenWith connects, pings, and creates every index the stores rely on.
// Writes use majority write concern so that an acknowledged edit survives
// a failover. Creating the indexes is idempotent, so every server of a
// deployment may do it at start.
func OpenWith(ctx context.Context, o Options) (*DB, error) {
	if o.Database == "" {
		return nil, errors.New("mongo: open: no database name")
	}
	status, err := statusReadPref(o.StatusReads)
	if err != nil {
		return nil, err
	}
	co := options.Client().ApplyURI(o.URI).SetWriteConcern(writeconcern.Majority())
	if o.MaxPoolSize > 0 {
		co.SetMaxPoolSize(o.MaxPoolSize)
	}
	client, err := mongodrv.Connect(co)
	if err != nil {
		return nil, fmt.Errorf("mongo: connect: %w", err)
	}
	d := &DB{client: client, db: client.Database(o.Database), status: status}
	if err := d.Ping(ctx); err != nil {
		_ = client.Disconnect(ctx)
		return nil, err
	}
	if err := d.createIndexes(ctx); err != nil {
		_ = client.Disconnect(ctx)
		return nil, err
	}
	return d, nil
}

// Ping checks that the primary answers.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.client.Ping(ctx, readpref.Primary()); err != nil {
		return fmt.Errorf("mongo: ping: %w", err)
	}
	return nil
}

// Close closes the client's connections.
func (d *DB) Close(ctx context.Context) error {
	if err := d.client.Disconnect(ctx); err != nil {
		return fmt.Errorf("mongo: close: %w", err)
	}
	return nil
}

// collectionIndexes are the indexes one collection needs.
type collectionIndexes struct {
	collection string
	indexes    []mongodrv.IndexModel
}

// allIndexes lists the indexes of every area; a new area appends its own.
func allIndexes() [][]collectionIndexes {
	return [][]collectionIndexes{catalogIndexes(), identityIndexes(), citizenIndexes(), auditIndexes(), kioskIndexes(), queueIndexes(), appointmentIndexes(), outboxIndexes(), caseIndexes(), certificateIndexes(), parcelIndexes(), reviewIndexes(), consultIndexes(), complaintIndexes(), reportIndexes(), idempotencyIndexes()}
}

func (d *DB) createIndexes(ctx context.Context) error {
	for _, area := range allIndexes() {
		for _, ci := range area {
			if _, err := d.db.Collection(ci.collection).Indexes().CreateMany(ctx, ci.indexes); err != nil {
				return fmt.Errorf("mongo: create indexes on %s: %w", ci.collection, err)
			}
		}
	}
	return nil
}

// isDuplicateKey reports whether err is a unique index violation. FerretDB
// v1 on SQLite reports a duplicate made by an update as the backend's
// "UNIQUE constraint failed" instead of E11000, so both are recognised.
func isDuplicateKey(err error) bool {
	return mongodrv.IsDuplicateKeyError(err) ||
		(err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed"))
}

// storedTimes brings times to the form both stores keep: UTC, whole
// milliseconds.
func storedTimes(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC().Truncate(time.Millisecond)
	}
}

// utcTimes puts times read back from MongoDB in UTC.
func utcTimes(ts ...*time.Time) {
	for _, t := range ts {
		*t = t.UTC()
	}
}

// statusPref is the read preference of status reads, primary when unset.
func (d *DB) statusPref() *readpref.ReadPref {
	if d.status == nil {
		return readpref.Primary()
	}
	return d.status
}
