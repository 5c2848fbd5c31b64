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

// Collections of the kiosks: one document per kiosk, _id the kiosk ID,
// and one per (kiosk, nonce) a kiosk's signed requests have used.
const (
	kiosksColl      = "kiosks"
	kioskNoncesColl = "kiosk_nonces"
)

func kioskIndexes() []collectionIndexes {
	return []collectionIndexes{
		{kiosksColl, []mongodrv.IndexModel{{
			Keys:    bson.D{{Key: "center", Value: 1}, {Key: "_id", Value: 1}},
			Options: options.Index().SetName("center_id"),
		}}},
		{kioskNoncesColl, []mongodrv.IndexModel{
			{
				// The index, not a read before the insert, refuses a replay,
				// so a replay racing the original request loses too. Two
				// fields rather than a joined _id, so no (kiosk, nonce) pair
				// can spell another's key.
				Keys:    bson.D{{Key: "kiosk", Value: 1}, {Key: "nonce", Value: 1}},
				Options: options.Index().SetName("kiosk_nonce").SetUnique(true),
			},
			{
				// The sweep; a TTL index would do it on MongoDB, but
				// FerretDB v1 has none, so the service deletes them itself.
				Keys:    bson.D{{Key: "at", Value: 1}},
				Options: options.Index().SetName("at"),
			},
		}},
	}
}

// KioskStore is identity.KioskStore on MongoDB. Unset times (never
// revoked, never seen) are stored as the zero time, a BSON date in year 1,
// so that an equality filter finds the kiosks not yet revoked.
type KioskStore struct {
	kiosks *mongodrv.Collection
	nonces *mongodrv.Collection
}

var _ identity.KioskStore = (*KioskStore)(nil)

// NewKioskStore returns the kiosk store on db.
func NewKioskStore(db *DB) *KioskStore {
	return &KioskStore{
		kiosks: db.db.Collection(kiosksColl),
		nonces: db.db.Collection(kioskNoncesColl),
	}
}

// kioskDoc mirrors identity.Kiosk field for field. Times are stored in
// UTC truncated to milliseconds, as BSON dates hold them.
type kioskDoc struct {
	ID            string    `bson:"_id"`
	Center        string    `bson:"center"`
	Location      string    `bson:"location"`
	CardReader    bool      `bson:"card_reader"`
	Printer       bool      `bson:"printer"`
	SecretSealed  string    `bson:"secret_sealed"`
	RevokedAt     time.Time `bson:"revoked_at"`
	CreatedAt     time.Time `bson:"created_at"`
	LastSeen      time.Time `bson:"last_seen"`
	PrinterStatus string    `bson:"printer_status"`
	ReaderStatus  string    `bson:"reader_status"`
}

func toKioskDoc(k identity.Kiosk) kioskDoc {
	d := kioskDoc(k)
	storedTimes(&d.RevokedAt, &d.CreatedAt, &d.LastSeen)
	return d
}

func (d kioskDoc) kiosk() identity.Kiosk {
	k := identity.Kiosk(d)
	utcTimes(&k.RevokedAt, &k.CreatedAt, &k.LastSeen)
	return k
}

// nonceDoc is one used request nonce.
type nonceDoc struct {
	Kiosk string    `bson:"kiosk"`
	Nonce string    `bson:"nonce"`
	At    time.Time `bson:"at"`
}

func errNoKiosk() error { return apperr.New(apperr.NotFound, "没有这台自助终端") }

// CreateKiosk implements identity.KioskStore; a taken ID is a conflict.
func (s *KioskStore) CreateKiosk(ctx context.Context, k identity.Kiosk) error {
	if _, err := s.kiosks.InsertOne(ctx, toKioskDoc(k)); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "自助终端编号重复", err)
		}
		return fmt.Errorf("mongo: create kiosk %s: %w", k.ID, err)
	}
	return nil
}

// GetKiosk implements identity.KioskStore.
func (s *KioskStore) GetKiosk(ctx context.Context, id string) (identity.Kiosk, error) {
	var d kioskDoc
	err := s.kiosks.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return identity.Kiosk{}, errNoKiosk()
	}
	if err != nil {
		return identity.Kiosk{}, fmt.Errorf("mongo: get kiosk %s: %w", id, err)
	}
	return d.kiosk(), nil
}

// ListKiosks implements identity.KioskStore.
func (s *KioskStore) ListKiosks(ctx context.Context, center string) ([]identity.Kiosk, error) {
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	docs, err := findAll[kioskDoc](ctx, s.kiosks, bson.D{{Key: "center", Value: center}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list kiosks of %q: %w", center, err)
	}
	out := make([]identity.Kiosk, len(docs))
	for i, d := range docs {
		out[i] = d.kiosk()
	}
	return out, nil
}

// RevokeKiosk implements identity.KioskStore. The update matches only a
// kiosk not yet revoked, so revoking again keeps the first time.
func (s *KioskStore) RevokeKiosk(ctx context.Context, id string, at time.Time) error {
	filter := bson.D{{Key: "_id", Value: id}, {Key: "revoked_at", Value: time.Time{}}}
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: at.UTC().Truncate(time.Millisecond)}}}}
	res, err := s.kiosks.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("mongo: revoke kiosk %s: %w", id, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// Either revoked already, which is fine, or not there at all.
	_, err = s.GetKiosk(ctx, id)
	return err
}

// RecordHeartbeat implements identity.KioskStore.
func (s *KioskStore) RecordHeartbeat(ctx context.Context, id string, at time.Time, printer, reader string) error {
	update := bson.D{{Key: "$set", Value: bson.D{
		{Key: "last_seen", Value: at.UTC().Truncate(time.Millisecond)},
		{Key: "printer_status", Value: printer},
		{Key: "reader_status", Value: reader},
	}}}
	res, err := s.kiosks.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update)
	if err != nil {
		return fmt.Errorf("mongo: kiosk heartbeat %s: %w", id, err)
	}
	// Matched, not modified: a heartbeat that changes nothing still
	// found its kiosk.
	if res.MatchedCount == 0 {
		return errNoKiosk()
	}
	return nil
}

// UseNonce implements identity.KioskStore with one insert that the unique
// kiosk_nonce index refuses for a pair seen before.
func (s *KioskStore) UseNonce(ctx context.Context, kiosk, nonce string, at time.Time) error {
	d := nonceDoc{Kiosk: kiosk, Nonce: nonce, At: at.UTC().Truncate(time.Millisecond)}
	if _, err := s.nonces.InsertOne(ctx, d); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "重复的请求", err)
		}
		return fmt.Errorf("mongo: use nonce of kiosk %s: %w", kiosk, err)
	}
	return nil
}

// SweepNonces implements identity.KioskStore.
func (s *KioskStore) SweepNonces(ctx context.Context, before time.Time) (int, error) {
	filter := bson.D{{Key: "at", Value: bson.D{{Key: "$lt", Value: before.UTC().Truncate(time.Millisecond)}}}}
	res, err := s.nonces.DeleteMany(ctx, filter)
	if err != nil {
		return 0, fmt.Errorf("mongo: sweep nonces: %w", err)
	}
	return int(res.DeletedCount), nil
}
