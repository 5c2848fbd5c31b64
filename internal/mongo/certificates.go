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
	"github.com/banhao/banhao/internal/certificate"
)

// certificatesColl holds one document per e-certificate, _id the
// certificate ID.
const certificatesColl = "certificates"

func certificateIndexes() []collectionIndexes {
	return []collectionIndexes{{certificatesColl, []mongodrv.IndexModel{
		{
			// PutCertificate upserts on it: the index, not a
			// check-then-write, keeps one document per certificate.
			Keys:    bson.D{{Key: "number_index", Value: 1}},
			Options: options.Index().SetName("number_index").SetUnique(true),
		},
		{
			// ListHeld: a holder's certificates by type, newest issued first.
			Keys: bson.D{
				{Key: "holder", Value: 1}, {Key: "type", Value: 1},
				{Key: "issued_on", Value: -1}, {Key: "_id", Value: -1},
			},
			Options: options.Index().SetName("holder"),
		},
	}}}
}

// CertificateStore is certificate.Store on MongoDB. A zero ValidUntil or
// RevokedAt is stored as the zero time, a BSON date in year 1.
type CertificateStore struct {
	certs *mongodrv.Collection
}

var _ certificate.Store = (*CertificateStore)(nil)

// NewCertificateStore returns the certificate store on db.
func NewCertificateStore(db *DB) *CertificateStore {
	return &CertificateStore{certs: db.db.Collection(certificatesColl)}
}

// certificateDoc mirrors certificate.Certificate field for field. Times
// are stored in UTC truncated to milliseconds, as BSON dates hold them.
type certificateDoc struct {
	ID               string    `bson:"_id"`
	Type             string    `bson:"type"`
	Holder           string    `bson:"holder"`
	NumberSealed     string    `bson:"number_sealed"`
	NumberMasked     string    `bson:"number_masked"`
	NumberIndex      string    `bson:"number_index"`
	HolderNameSealed string    `bson:"holder_name_sealed"`
	Issuer           string    `bson:"issuer"`
	IssuedOn         time.Time `bson:"issued_on"`
	ValidUntil       time.Time `bson:"valid_until"`
	Status           string    `bson:"status"`
	RevokedAt        time.Time `bson:"revoked_at"`
	Source           string    `bson:"source"`
	CreatedAt        time.Time `bson:"created_at"`
	UpdatedAt        time.Time `bson:"updated_at"`
	RevokedBy        string    `bson:"revoked_by"`
	RevokeReason     string    `bson:"revoke_reason"`
	Title            string    `bson:"title"`
	Matter           string    `bson:"matter"`
	Case             string    `bson:"case_id"`
	CaseNumber       string    `bson:"case_number"`
}

func (d certificateDoc) certificate() certificate.Certificate {
	c := certificate.Certificate{
		ID: d.ID, Type: d.Type, Holder: d.Holder,
		NumberSealed: d.NumberSealed, NumberMasked: d.NumberMasked, NumberIndex: d.NumberIndex,
		HolderNameSealed: d.HolderNameSealed, Issuer: d.Issuer,
		IssuedOn: d.IssuedOn, ValidUntil: d.ValidUntil,
		Status: certificate.Status(d.Status), RevokedAt: d.RevokedAt, Source: d.Source,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		RevokedBy: d.RevokedBy, RevokeReason: d.RevokeReason, Title: d.Title, Matter: d.Matter, Case: d.Case, CaseNumber: d.CaseNumber,
	}
	utcTimes(&c.IssuedOn, &c.ValidUntil, &c.RevokedAt, &c.CreatedAt, &c.UpdatedAt)
	return c
}

func errNoCertificate() error { return apperr.New(apperr.NotFound, "没有这个电子证照") }

// PutCertificate implements certificate.Store with one findOneAndUpdate
// that upserts on number_index: $set replaces what an import may change,
// $setOnInsert gives a new certificate its ID and CreatedAt, so a
// certificate imported again keeps its first ones. Two concurrent upserts
// of a new certificate may both insert; the unique index refuses the
// second, which is tried once more and then finds the first and updates
// it. A duplicate key on the second try is an ID that another
// certificate has: a conflict.
func (s *CertificateStore) PutCertificate(ctx context.Context, c certificate.Certificate) (certificate.Certificate, error) {
	storedTimes(&c.IssuedOn, &c.ValidUntil, &c.RevokedAt, &c.CreatedAt, &c.UpdatedAt)
	filter := bson.D{{Key: "number_index", Value: c.NumberIndex}}
	update := bson.D{
		{Key: "$set", Value: bson.D{
			{Key: "type", Value: c.Type},
			{Key: "holder", Value: c.Holder},
			{Key: "number_sealed", Value: c.NumberSealed},
			{Key: "number_masked", Value: c.NumberMasked},
			{Key: "holder_name_sealed", Value: c.HolderNameSealed},
			{Key: "issuer", Value: c.Issuer},
			{Key: "issued_on", Value: c.IssuedOn},
			{Key: "valid_until", Value: c.ValidUntil},
			{Key: "status", Value: string(c.Status)},
			{Key: "revoked_at", Value: c.RevokedAt},
			{Key: "source", Value: c.Source},
			{Key: "updated_at", Value: c.UpdatedAt},
			{Key: "revoked_by", Value: c.RevokedBy},
			{Key: "revoke_reason", Value: c.RevokeReason},
			{Key: "title", Value: c.Title},
			{Key: "matter", Value: c.Matter},
			{Key: "case_id", Value: c.Case},
			{Key: "case_number", Value: c.CaseNumber},
		}},
		{Key: "$setOnInsert", Value: bson.D{
			{Key: "_id", Value: c.ID},
			{Key: "created_at", Value: c.CreatedAt},
		}},
	}
	// No projection: FerretDB v1 mishandles one in findAndModify.
	opts := options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)
	var d certificateDoc
	err := s.certs.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
	if isDuplicateKey(err) {
		err = s.certs.FindOneAndUpdate(ctx, filter, update, opts).Decode(&d)
		if isDuplicateKey(err) {
			return certificate.Certificate{}, apperr.Wrap(apperr.Conflict, "电子证照编号已被使用", err)
		}
	}
	if err != nil {
		return certificate.Certificate{}, fmt.Errorf("mongo: put certificate %s: %w", c.ID, err)
	}
	return d.certificate(), nil
}

// GetCertificate implements certificate.Store.
func (s *CertificateStore) GetCertificate(ctx context.Context, id string) (certificate.Certificate, error) {
	var d certificateDoc
	err := s.certs.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return certificate.Certificate{}, errNoCertificate()
	}
	if err != nil {
		return certificate.Certificate{}, fmt.Errorf("mongo: get certificate %s: %w", id, err)
	}
	return d.certificate(), nil
}

// ListHeld implements certificate.Store. Certificates of one type and
// issue date come newest ID first, so the order is total.
func (s *CertificateStore) ListHeld(ctx context.Context, holder string) ([]certificate.Certificate, error) {
	opts := options.Find().SetSort(bson.D{
		{Key: "type", Value: 1}, {Key: "issued_on", Value: -1}, {Key: "_id", Value: -1},
	})
	cur, err := s.certs.Find(ctx, bson.D{{Key: "holder", Value: holder}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list certificates of a holder: %w", err)
	}
	var docs []certificateDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, fmt.Errorf("mongo: list certificates of a holder: %w", err)
	}
	out := make([]certificate.Certificate, len(docs))
	for i, d := range docs {
		out[i] = d.certificate()
	}
	return out, nil
}

// RevokeCertificate implements certificate.Store with one conditional
// findOneAndUpdate: only a valid certificate is revoked.
func (s *CertificateStore) RevokeCertificate(ctx context.Context, id string, at time.Time, by, reason string) (certificate.Certificate, error) {
	storedTimes(&at)
	var d certificateDoc
	err := s.certs.FindOneAndUpdate(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "status", Value: string(certificate.StatusValid)}},
		bson.D{{Key: "$set", Value: bson.D{
			{Key: "status", Value: string(certificate.StatusRevoked)}, {Key: "revoked_at", Value: at},
			{Key: "revoked_by", Value: by}, {Key: "revoke_reason", Value: reason}, {Key: "updated_at", Value: at},
		}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		if _, gerr := s.GetCertificate(ctx, id); gerr != nil {
			return certificate.Certificate{}, gerr
		}
		return certificate.Certificate{}, apperr.New(apperr.Conflict, "该电子证照已经注销")
	}
	if err != nil {
		return certificate.Certificate{}, fmt.Errorf("mongo: revoke certificate %s: %w", id, err)
	}
	return d.certificate(), nil
}
