package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/internal/report"
)

const spotMarksColl = "spot_check_marks"

// reportIndexes make one mark per center, week, kind and item, and list
// a week's marks by its prefix.
func reportIndexes() []collectionIndexes {
	return []collectionIndexes{
		{spotMarksColl, []mongodrv.IndexModel{
			{Keys: bson.D{{Key: "center", Value: 1}, {Key: "week", Value: 1}, {Key: "kind", Value: 1}, {Key: "item", Value: 1}},
				Options: options.Index().SetName("center_week_item").SetUnique(true)},
		}},
	}
}

var _ report.MarkStore = (*ReportStore)(nil)

// markDoc is a stored mark; its _id joins the unique key, so that saving
// is one upsert of one document.
type markDoc struct {
	ID      string    `bson:"_id"`
	Center  string    `bson:"center"`
	Week    string    `bson:"week"`
	Kind    string    `bson:"kind"`
	Item    string    `bson:"item"`
	Verdict string    `bson:"verdict"`
	Note    string    `bson:"note"`
	By      string    `bson:"by"`
	At      time.Time `bson:"at"`
}

// SaveMark implements report.MarkStore: the last mark of an item wins.
func (s *ReportStore) SaveMark(ctx context.Context, m report.Mark) error {
	d := markDoc{ID: m.Center + "|" + m.Week + "|" + m.Kind + "|" + m.ID, Center: m.Center, Week: m.Week, Kind: m.Kind, Item: m.ID,
		Verdict: m.Verdict, Note: m.Note, By: m.By, At: m.At}
	storedTimes(&d.At)
	_, err := s.marks.ReplaceOne(ctx, bson.D{{Key: "_id", Value: d.ID}}, d, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("mongo: save spot-check mark %s: %w", d.ID, err)
	}
	return nil
}

// Marks implements report.MarkStore.
func (s *ReportStore) Marks(ctx context.Context, center, week string) ([]report.Mark, error) {
	docs, err := findAll[markDoc](ctx, s.marks, bson.D{{Key: "center", Value: center}, {Key: "week", Value: week}}, options.Find())
	if err != nil {
		return nil, fmt.Errorf("mongo: spot-check marks of %s %s: %w", center, week, err)
	}
	out := make([]report.Mark, len(docs))
	for i, d := range docs {
		utcTimes(&d.At)
		out[i] = report.Mark{Center: d.Center, Week: d.Week, Kind: d.Kind, ID: d.Item, Verdict: d.Verdict, Note: d.Note, By: d.By, At: d.At}
	}
	return out, nil
}
