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
	"github.com/banhao/banhao/internal/calendar"
)

// calendarsColl holds the working-day calendars, one document per year
// keyed by the year itself, so it needs no index beyond _id.
const calendarsColl = "calendars"

// CalendarStore is calendar.Store on MongoDB.
//
// A year is one document: the current version at the top level and every
// earlier one in the embedded "history" array, oldest first. An edit is
// then a single update conditional on the version it replaces, as with
// the catalog's matters: no transaction, and of two edits of one version
// exactly one wins.
type CalendarStore struct {
	calendars *mongodrv.Collection
}

var _ calendar.Store = (*CalendarStore)(nil)

// NewCalendarStore returns the calendar store on db.
func NewCalendarStore(db *DB) *CalendarStore {
	return &CalendarStore{calendars: db.db.Collection(calendarsColl)}
}

// calendarVersionDoc is one version of a year's calendar. The document is
// kept as JSON text, exactly as the calendar package wrote it.
type calendarVersionDoc struct {
	Version   int       `bson:"version"`
	Doc       string    `bson:"doc"`
	UpdatedAt time.Time `bson:"updated_at"`
	UpdatedBy string    `bson:"updated_by"`
}

// calendarDoc is a stored year: the current version and the earlier ones.
type calendarDoc struct {
	Year    int                  `bson:"_id"`
	Current calendarVersionDoc   `bson:",inline"`
	History []calendarVersionDoc `bson:"history"`
}

func (d calendarDoc) stored(v calendarVersionDoc) calendar.Stored {
	return calendar.Stored{Year: d.Year, Version: v.Version, Doc: []byte(v.Doc), UpdatedAt: v.UpdatedAt.UTC(), UpdatedBy: v.UpdatedBy}
}

func toCalendarVersion(c calendar.Stored) calendarVersionDoc {
	return calendarVersionDoc{Version: c.Version, Doc: string(c.Doc), UpdatedAt: c.UpdatedAt.UTC().Truncate(time.Millisecond), UpdatedBy: c.UpdatedBy}
}

// Calendars returns the current version of every stored year, by year.
func (s *CalendarStore) Calendars(ctx context.Context) ([]calendar.Stored, error) {
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(withoutHistory)
	docs, err := findAll[calendarDoc](ctx, s.calendars, bson.D{}, opts)
	if err != nil {
		return nil, fmt.Errorf("mongo: list calendars: %w", err)
	}
	out := make([]calendar.Stored, len(docs))
	for i, d := range docs {
		out[i] = d.stored(d.Current)
	}
	return out, nil
}

// CalendarVersion returns one version of a year's calendar, current or past.
func (s *CalendarStore) CalendarVersion(ctx context.Context, year, version int) (calendar.Stored, error) {
	var d calendarDoc
	err := s.calendars.FindOne(ctx, bson.D{{Key: "_id", Value: year}}).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return calendar.Stored{}, apperr.New(apperr.NotFound, "没有这个日历版本")
	}
	if err != nil {
		return calendar.Stored{}, fmt.Errorf("mongo: get calendar %d version %d: %w", year, version, err)
	}
	if d.Current.Version == version {
		return d.stored(d.Current), nil
	}
	for _, v := range d.History {
		if v.Version == version {
			return d.stored(v), nil
		}
	}
	return calendar.Stored{}, apperr.New(apperr.NotFound, "没有这个日历版本")
}

// current returns the current version of year, without the history.
func (s *CalendarStore) current(ctx context.Context, year int) (calendarVersionDoc, error) {
	var d calendarDoc
	opts := options.FindOne().SetProjection(withoutHistory)
	err := s.calendars.FindOne(ctx, bson.D{{Key: "_id", Value: year}}, opts).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return calendarVersionDoc{}, apperr.New(apperr.NotFound, fmt.Sprintf("没有 %d 年的日历", year))
	}
	if err != nil {
		return calendarVersionDoc{}, fmt.Errorf("mongo: get calendar %d: %w", year, err)
	}
	return d.Current, nil
}

// PutCalendar stores c as the new current version of its year.
//
// Version 1 is an insert, which the unique _id makes atomic. A later
// version reads the current one, then writes with one update filtered on
// the version it read: every write changes the version, so a match proves
// that the version pushed into the history is the one being replaced.
func (s *CalendarStore) PutCalendar(ctx context.Context, c calendar.Stored) error {
	if c.Version < 1 {
		return apperr.New(apperr.Invalid, "日历的版本号从 1 开始")
	}
	v := toCalendarVersion(c)
	if c.Version == 1 {
		_, err := s.calendars.InsertOne(ctx, calendarDoc{Year: c.Year, Current: v, History: []calendarVersionDoc{}})
		if isDuplicateKey(err) {
			return s.conflict(ctx, c.Year)
		}
		if err != nil {
			return fmt.Errorf("mongo: create calendar %d: %w", c.Year, err)
		}
		return nil
	}
	base := c.Version - 1
	cur, err := s.current(ctx, c.Year)
	if err != nil {
		return err
	}
	if cur.Version != base {
		return calendar.VersionConflict(cur.Version)
	}
	filter := bson.D{{Key: "_id", Value: c.Year}, {Key: "version", Value: base}}
	update := bson.D{
		{Key: "$set", Value: v},
		{Key: "$push", Value: bson.D{{Key: "history", Value: cur}}},
	}
	res, err := s.calendars.UpdateOne(ctx, filter, update)
	if err != nil {
		return fmt.Errorf("mongo: revise calendar %d to version %d: %w", c.Year, c.Version, err)
	}
	if res.MatchedCount == 1 {
		return nil
	}
	// Someone else revised it between our read and our write.
	return s.conflict(ctx, c.Year)
}

// conflict is the version conflict of an edit of year, naming the version
// now stored.
func (s *CalendarStore) conflict(ctx context.Context, year int) error {
	cur, err := s.current(ctx, year)
	if err != nil {
		return err
	}
	return calendar.VersionConflict(cur.Version)
}
