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
	"github.com/banhao/banhao/internal/catalog"
)

// Collections of the catalog.
const (
	centersColl = "centers"
	sectorsColl = "sectors"
	mattersColl = "matters"
)

func catalogIndexes() []collectionIndexes {
	return []collectionIndexes{
		{sectorsColl, []mongodrv.IndexModel{{
			Keys:    bson.D{{Key: "center", Value: 1}, {Key: "code", Value: 1}},
			Options: options.Index().SetName("center_code").SetUnique(true),
		}}},
		{mattersColl, []mongodrv.IndexModel{
			{
				Keys:    bson.D{{Key: "code", Value: 1}},
				Options: options.Index().SetName("code").SetUnique(true),
			},
			{
				Keys:    bson.D{{Key: "center", Value: 1}, {Key: "code", Value: 1}},
				Options: options.Index().SetName("center_code"),
			},
		}},
	}
}

// CatalogStore is catalog.Store on MongoDB.
//
// A matter is one document: the current guide at the top level, where
// filters and indexes see it, and every earlier version in the embedded
// "history" array. A revision is then a single conditional update that
// both replaces the guide and pushes the old one, so it needs no
// transaction and two editors of the same version cannot both win.
type CatalogStore struct {
	centers *mongodrv.Collection
	sectors *mongodrv.Collection
	matters *mongodrv.Collection
}

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore returns the catalog store on db.
func NewCatalogStore(db *DB) *CatalogStore {
	return &CatalogStore{
		centers: db.db.Collection(centersColl),
		sectors: db.db.Collection(sectorsColl),
		matters: db.db.Collection(mattersColl),
	}
}

// The document structs mirror their domain types field for field, so the
// two convert directly; a field added to a domain type breaks the build
// here until the document learns it too.

type centerDoc struct {
	Code     string             `bson:"_id"`
	Name     string             `bson:"name"`
	Kind     catalog.CenterKind `bson:"kind"`
	Parent   string             `bson:"parent"`
	Address  string             `bson:"address"`
	Phone    string             `bson:"phone"`
	Hours    string             `bson:"hours"`
	TimeZone string             `bson:"time_zone"`
}

type sectorDoc struct {
	Center      string `bson:"center"`
	Code        string `bson:"code"`
	Name        string `bson:"name"`
	Order       int    `bson:"order"`
	Description string `bson:"description"`
}

type materialDoc struct {
	Name      string `bson:"name"`
	Originals int    `bson:"originals"`
	Copies    int    `bson:"copies"`
	Required  bool   `bson:"required"`
	Pendable  bool   `bson:"pendable"`
	ECertType string `bson:"ecert_type"`
	Note      string `bson:"note"`
}

type stepDoc struct {
	Name        string `bson:"name"`
	Description string `bson:"description"`
}

// guideDoc is one version of a matter. Nil slices are stored as null and
// empty ones as [], so a guide reads back exactly as it was written.
type guideDoc struct {
	Code           string             `bson:"code"`
	Center         string             `bson:"center"`
	Sector         string             `bson:"sector"`
	Name           string             `bson:"name"`
	Kind           catalog.Kind       `bson:"kind"`
	Authority      string             `bson:"authority"`
	Result         string             `bson:"result"`
	Certificate    string             `bson:"certificate,omitempty"`
	Keywords       []string           `bson:"keywords"`
	LegalBasis     []string           `bson:"legal_basis"`
	Conditions     string             `bson:"conditions"`
	Materials      []materialDoc      `bson:"materials"`
	Steps          []stepDoc          `bson:"steps"`
	StatutoryDays  int                `bson:"statutory_days"`
	PromisedDays   int                `bson:"promised_days"`
	GreenDays      int                `bson:"green_days,omitempty"`
	FeeFen         int64              `bson:"fee_fen"`
	FeeStandard    string             `bson:"fee_standard"`
	FeeBasis       string             `bson:"fee_basis"`
	ConsultPhone   string             `bson:"consult_phone"`
	ComplaintPhone string             `bson:"complaint_phone"`
	Visits         int                `bson:"visits"`
	Channels       []catalog.Channel  `bson:"channels"`
	Delivery       []catalog.Delivery `bson:"delivery"`
	GreenChannel   bool               `bson:"green_channel"`
	Status         catalog.Status     `bson:"status"`
	Version        int                `bson:"version"`
	UpdatedAt      time.Time          `bson:"updated_at"`
	UpdatedBy      string             `bson:"updated_by"`
}

// matterDoc is a stored matter: the current guide and the earlier ones,
// oldest first.
type matterDoc struct {
	Guide   guideDoc   `bson:",inline"`
	History []guideDoc `bson:"history"`
}

// withoutHistory is the projection of every read that needs only the
// current guide; the history grows with each edit and is read only by
// GetMatterVersion.
var withoutHistory = bson.D{{Key: "history", Value: 0}}

// PutCenter creates or replaces a center.
func (s *CatalogStore) PutCenter(ctx context.Context, c catalog.Center) error {
	d := centerDoc(c)
	err := upsert(ctx, s.centers, bson.D{{Key: "_id", Value: c.Code}}, d)
	if err != nil {
		return fmt.Errorf("mongo: put center %s: %w", c.Code, err)
	}
	return nil
}

// GetCenter returns one center.
func (s *CatalogStore) GetCenter(ctx context.Context, code string) (catalog.Center, error) {
	var d centerDoc
	err := s.centers.FindOne(ctx, bson.D{{Key: "_id", Value: code}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return catalog.Center{}, apperr.New(apperr.NotFound, "没有这个服务中心")
	}
	if err != nil {
		return catalog.Center{}, fmt.Errorf("mongo: get center %s: %w", code, err)
	}
	return catalog.Center(d), nil
}

// ListCenters returns every center ordered by code.
func (s *CatalogStore) ListCenters(ctx context.Context) ([]catalog.Center, error) {
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	docs, err := findAll[centerDoc](ctx, s.centers, bson.D{}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list centers: %w", err)
	}
	out := make([]catalog.Center, len(docs))
	for i, d := range docs {
		out[i] = catalog.Center(d)
	}
	return out, nil
}

// PutSector creates or replaces a sector of a center.
func (s *CatalogStore) PutSector(ctx context.Context, sec catalog.Sector) error {
	filter := bson.D{{Key: "center", Value: sec.Center}, {Key: "code", Value: sec.Code}}
	if err := upsert(ctx, s.sectors, filter, sectorDoc(sec)); err != nil {
		return fmt.Errorf("mongo: put sector %s/%s: %w", sec.Center, sec.Code, err)
	}
	return nil
}

// ListSectors returns a center's sectors ordered by Order, then code.
func (s *CatalogStore) ListSectors(ctx context.Context, center string) ([]catalog.Sector, error) {
	opts := options.Find().SetSort(bson.D{{Key: "order", Value: 1}, {Key: "code", Value: 1}})
	docs, err := findAll[sectorDoc](ctx, s.sectors, bson.D{{Key: "center", Value: center}}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list sectors of %s: %w", center, err)
	}
	out := make([]catalog.Sector, len(docs))
	for i, d := range docs {
		out[i] = catalog.Sector(d)
	}
	return out, nil
}

// CreateMatter stores the first version of a new matter.
func (s *CatalogStore) CreateMatter(ctx context.Context, m catalog.Matter) error {
	if m.Version != 1 {
		return apperr.New(apperr.Invalid, "新事项的版本号必须为 1")
	}
	d := matterDoc{Guide: toGuide(m), History: []guideDoc{}}
	if _, err := s.matters.InsertOne(ctx, d); err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "事项编码已存在", err)
		}
		return fmt.Errorf("mongo: create matter %s: %w", m.Code, err)
	}
	return nil
}

// ReviseMatter stores m as the new current version of an existing matter.
//
// It reads the current guide, then writes with one update filtered on the
// version it read. Every write changes the version, so a match proves that
// the guide pushed into the history is exactly the one being replaced; the
// check after the read only spares a doomed write.
func (s *CatalogStore) ReviseMatter(ctx context.Context, m catalog.Matter) error {
	base := m.Version - 1
	cur, err := s.currentGuide(ctx, m.Code)
	if err != nil {
		return err
	}
	if cur.Version != base {
		return versionConflict(cur.Version)
	}
	filter := bson.D{{Key: "code", Value: m.Code}, {Key: "version", Value: base}}
	update := bson.D{
		{Key: "$set", Value: toGuide(m)},
		{Key: "$push", Value: bson.D{{Key: "history", Value: cur}}},
	}
	res, err := s.matters.UpdateOne(ctx, filter, update)
	if err != nil {
		if isDuplicateKey(err) {
			return apperr.Wrap(apperr.Conflict, "事项编码已存在", err)
		}
		return fmt.Errorf("mongo: revise matter %s to version %d: %w", m.Code, m.Version, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// Someone else revised it between our read and our write.
	now, err := s.currentGuide(ctx, m.Code)
	if err != nil {
		return err
	}
	return versionConflict(now.Version)
}

func versionConflict(current int) error {
	return apperr.New(apperr.VersionConflict,
		fmt.Sprintf("该事项已被他人修改（当前为第 %d 版），请刷新后再改", current))
}

// GetMatter returns the current version of a matter.
func (s *CatalogStore) GetMatter(ctx context.Context, code string) (catalog.Matter, error) {
	g, err := s.currentGuide(ctx, code)
	if err != nil {
		return catalog.Matter{}, err
	}
	return fromGuide(g), nil
}

func (s *CatalogStore) currentGuide(ctx context.Context, code string) (guideDoc, error) {
	var d matterDoc
	opts := options.FindOne().SetProjection(withoutHistory)
	err := s.matters.FindOne(ctx, bson.D{{Key: "code", Value: code}}, opts).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return guideDoc{}, apperr.New(apperr.NotFound, "没有这个事项")
	}
	if err != nil {
		return guideDoc{}, fmt.Errorf("mongo: get matter %s: %w", code, err)
	}
	return d.Guide, nil
}

// GetMatterVersion returns one version of a matter, current or past.
func (s *CatalogStore) GetMatterVersion(ctx context.Context, code string, version int) (catalog.Matter, error) {
	var d matterDoc
	err := s.matters.FindOne(ctx, bson.D{{Key: "code", Value: code}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return catalog.Matter{}, apperr.New(apperr.NotFound, "没有这个事项")
	}
	if err != nil {
		return catalog.Matter{}, fmt.Errorf("mongo: get matter %s version %d: %w", code, version, err)
	}
	if d.Guide.Version == version {
		return fromGuide(d.Guide), nil
	}
	for _, g := range d.History {
		if g.Version == version {
			return fromGuide(g), nil
		}
	}
	return catalog.Matter{}, apperr.New(apperr.NotFound, "没有这个事项版本")
}

// ListMatters returns current versions matching f, ordered by code.
func (s *CatalogStore) ListMatters(ctx context.Context, f catalog.MatterFilter) ([]catalog.Matter, error) {
	filter := bson.D{}
	eq := func(key, v string) {
		if v != "" {
			filter = append(filter, bson.E{Key: key, Value: v})
		}
	}
	eq("center", f.Center)
	eq("sector", f.Sector)
	eq("kind", string(f.Kind))
	eq("channels", string(f.Channel)) // matches an array that contains it
	eq("status", string(f.Status))
	if f.After != "" {
		filter = append(filter, bson.E{Key: "code", Value: bson.D{{Key: "$gt", Value: f.After}}})
	}
	opts := options.Find().
		SetSort(bson.D{{Key: "code", Value: 1}}).
		SetProjection(withoutHistory)
	if f.Limit > 0 {
		opts.SetLimit(int64(f.Limit))
	}
	docs, err := findAll[matterDoc](ctx, s.matters, filter, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list matters: %w", err)
	}
	out := make([]catalog.Matter, len(docs))
	for i, d := range docs {
		out[i] = fromGuide(d.Guide)
	}
	return out, nil
}

// upsert replaces the document matching filter or inserts doc. Two
// concurrent upserts of a new key can both try to insert; the loser gets a
// duplicate key error, and retrying once turns its insert into a replace.
func upsert(ctx context.Context, c *mongodrv.Collection, filter bson.D, doc any) error {
	opts := options.Replace().SetUpsert(true)
	_, err := c.ReplaceOne(ctx, filter, doc, opts)
	if isDuplicateKey(err) {
		_, err = c.ReplaceOne(ctx, filter, doc, opts)
	}
	if isDuplicateKey(err) {
		return apperr.Wrap(apperr.Conflict, "记录已存在", err)
	}
	return err
}

// findAll runs a query and decodes every result; it never returns nil
// without an error.
func findAll[T any](ctx context.Context, c *mongodrv.Collection, filter bson.D, opts *options.FindOptionsBuilder) ([]T, error) {
	cur, err := c.Find(ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	out := []T{}
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func toGuide(m catalog.Matter) guideDoc {
	return guideDoc{
		Code:           m.Code,
		Center:         m.Center,
		Sector:         m.Sector,
		Name:           m.Name,
		Kind:           m.Kind,
		Authority:      m.Authority,
		Result:         m.Result,
		Certificate:    m.Certificate,
		Keywords:       m.Keywords,
		LegalBasis:     m.LegalBasis,
		Conditions:     m.Conditions,
		Materials:      mapSlice(m.Materials, func(x catalog.Material) materialDoc { return materialDoc(x) }),
		Steps:          mapSlice(m.Steps, func(x catalog.Step) stepDoc { return stepDoc(x) }),
		StatutoryDays:  m.StatutoryDays,
		PromisedDays:   m.PromisedDays,
		GreenDays:      m.GreenDays,
		FeeFen:         m.FeeFen,
		FeeStandard:    m.FeeStandard,
		FeeBasis:       m.FeeBasis,
		ConsultPhone:   m.ConsultPhone,
		ComplaintPhone: m.ComplaintPhone,
		Visits:         m.Visits,
		Channels:       m.Channels,
		Delivery:       m.Delivery,
		GreenChannel:   m.GreenChannel,
		Status:         m.Status,
		Version:        m.Version,
		// BSON dates hold milliseconds; truncating here makes the stored
		// and the returned value agree.
		UpdatedAt: m.UpdatedAt.UTC().Truncate(time.Millisecond),
		UpdatedBy: m.UpdatedBy,
	}
}

func fromGuide(g guideDoc) catalog.Matter {
	return catalog.Matter{
		Code:           g.Code,
		Center:         g.Center,
		Sector:         g.Sector,
		Name:           g.Name,
		Kind:           g.Kind,
		Authority:      g.Authority,
		Result:         g.Result,
		Certificate:    g.Certificate,
		Keywords:       g.Keywords,
		LegalBasis:     g.LegalBasis,
		Conditions:     g.Conditions,
		Materials:      mapSlice(g.Materials, func(x materialDoc) catalog.Material { return catalog.Material(x) }),
		Steps:          mapSlice(g.Steps, func(x stepDoc) catalog.Step { return catalog.Step(x) }),
		StatutoryDays:  g.StatutoryDays,
		PromisedDays:   g.PromisedDays,
		GreenDays:      g.GreenDays,
		FeeFen:         g.FeeFen,
		FeeStandard:    g.FeeStandard,
		FeeBasis:       g.FeeBasis,
		ConsultPhone:   g.ConsultPhone,
		ComplaintPhone: g.ComplaintPhone,
		Visits:         g.Visits,
		Channels:       g.Channels,
		Delivery:       g.Delivery,
		GreenChannel:   g.GreenChannel,
		Status:         g.Status,
		Version:        g.Version,
		UpdatedAt:      g.UpdatedAt.UTC(),
		UpdatedBy:      g.UpdatedBy,
	}
}

// mapSlice converts each element, keeping nil as nil.
func mapSlice[A, B any](in []A, f func(A) B) []B {
	if in == nil {
		return nil
	}
	out := make([]B, len(in))
	for i, x := range in {
		out[i] = f(x)
	}
	return out
}
