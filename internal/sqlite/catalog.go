package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
)

// CatalogStore implements catalog.Store. Records are kept as JSON documents
// beside the columns that queries filter on.
type CatalogStore struct {
	db *DB
}

var _ catalog.Store = (*CatalogStore)(nil)

// NewCatalogStore returns the catalog store on db.
func NewCatalogStore(db *DB) *CatalogStore { return &CatalogStore{db: db} }

// PutCenter implements catalog.Store.
func (s *CatalogStore) PutCenter(ctx context.Context, c catalog.Center) error {
	doc, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("sqlite: encode center %s: %w", c.Code, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO centers (code, doc) VALUES (?, ?)
			ON CONFLICT (code) DO UPDATE SET doc = excluded.doc`, c.Code, doc)
		if err != nil {
			return fmt.Errorf("sqlite: put center %s: %w", c.Code, err)
		}
		return nil
	})
}

// GetCenter implements catalog.Store.
func (s *CatalogStore) GetCenter(ctx context.Context, code string) (catalog.Center, error) {
	var c catalog.Center
	err := getDoc(ctx, s.db, &c, `SELECT doc FROM centers WHERE code = ?`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return c, apperr.New(apperr.NotFound, "没有这个服务中心")
	}
	if err != nil {
		return c, fmt.Errorf("sqlite: get center %s: %w", code, err)
	}
	return c, nil
}

// ListCenters implements catalog.Store.
func (s *CatalogStore) ListCenters(ctx context.Context) ([]catalog.Center, error) {
	out, err := listDocs[catalog.Center](ctx, s.db, `SELECT doc FROM centers ORDER BY code`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list centers: %w", err)
	}
	return out, nil
}

// PutSector implements catalog.Store.
func (s *CatalogStore) PutSector(ctx context.Context, sec catalog.Sector) error {
	doc, err := json.Marshal(sec)
	if err != nil {
		return fmt.Errorf("sqlite: encode sector %s: %w", sec.Code, err)
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.Exec(`INSERT INTO sectors (center, code, ord, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (center, code) DO UPDATE SET ord = excluded.ord, doc = excluded.doc`,
			sec.Center, sec.Code, sec.Order, doc)
		if err != nil {
			return fmt.Errorf("sqlite: put sector %s/%s: %w", sec.Center, sec.Code, err)
		}
		return nil
	})
}

// ListSectors implements catalog.Store.
func (s *CatalogStore) ListSectors(ctx context.Context, center string) ([]catalog.Sector, error) {
	out, err := listDocs[catalog.Sector](ctx, s.db,
		`SELECT doc FROM sectors WHERE center = ? ORDER BY ord, code`, center)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list sectors of %s: %w", center, err)
	}
	return out, nil
}

// channelsColumn encodes channels so that "has channel X" is a LIKE on ",X,".
func channelsColumn(chs []catalog.Channel) string {
	var b strings.Builder
	b.WriteString(",")
	for _, c := range chs {
		b.WriteString(string(c))
		b.WriteString(",")
	}
	return b.String()
}

func encodeMatter(m *catalog.Matter) ([]byte, error) {
	m.UpdatedAt = m.UpdatedAt.UTC().Truncate(time.Millisecond)
	doc, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode matter %s: %w", m.Code, err)
	}
	return doc, nil
}

// CreateMatter implements catalog.Store.
func (s *CatalogStore) CreateMatter(ctx context.Context, m catalog.Matter) error {
	if m.Version != 1 {
		return apperr.New(apperr.Invalid, "新事项的版本号必须为 1")
	}
	doc, err := encodeMatter(&m)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`INSERT INTO matters (code, center, sector, kind, status, channels, version, doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO NOTHING`,
			m.Code, m.Center, m.Sector, m.Kind, m.Status, channelsColumn(m.Channels), m.Version, doc)
		if err != nil {
			return fmt.Errorf("sqlite: create matter %s: %w", m.Code, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "事项编码已存在")
		}
		if _, err := tx.Exec(`INSERT INTO matter_versions (code, version, doc) VALUES (?, ?, ?)`,
			m.Code, m.Version, doc); err != nil {
			return fmt.Errorf("sqlite: create matter %s: %w", m.Code, err)
		}
		return nil
	})
}

// ReviseMatter implements catalog.Store.
func (s *CatalogStore) ReviseMatter(ctx context.Context, m catalog.Matter) error {
	doc, err := encodeMatter(&m)
	if err != nil {
		return err
	}
	return s.db.Write(ctx, func(tx *Tx) error {
		res, err := tx.Exec(`UPDATE matters SET sector = ?, kind = ?, status = ?, channels = ?, version = ?, doc = ?
			WHERE code = ? AND version = ?`,
			m.Sector, m.Kind, m.Status, channelsColumn(m.Channels), m.Version, doc, m.Code, m.Version-1)
		if err != nil {
			return fmt.Errorf("sqlite: revise matter %s: %w", m.Code, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var cur int
			err := tx.QueryRow(`SELECT version FROM matters WHERE code = ?`, m.Code).Scan(&cur)
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.NotFound, "没有这个事项")
			}
			if err != nil {
				return fmt.Errorf("sqlite: revise matter %s: %w", m.Code, err)
			}
			return apperr.New(apperr.VersionConflict, fmt.Sprintf("该事项已被他人修改（当前为第 %d 版），请刷新后再改", cur))
		}
		if _, err := tx.Exec(`INSERT INTO matter_versions (code, version, doc) VALUES (?, ?, ?)`,
			m.Code, m.Version, doc); err != nil {
			return fmt.Errorf("sqlite: revise matter %s: %w", m.Code, err)
		}
		return nil
	})
}

// GetMatter implements catalog.Store.
func (s *CatalogStore) GetMatter(ctx context.Context, code string) (catalog.Matter, error) {
	var m catalog.Matter
	err := getDoc(ctx, s.db, &m, `SELECT doc FROM matters WHERE code = ?`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "没有这个事项")
	}
	if err != nil {
		return m, fmt.Errorf("sqlite: get matter %s: %w", code, err)
	}
	return m, nil
}

// GetMatterVersion implements catalog.Store.
func (s *CatalogStore) GetMatterVersion(ctx context.Context, code string, version int) (catalog.Matter, error) {
	var m catalog.Matter
	err := getDoc(ctx, s.db, &m, `SELECT doc FROM matter_versions WHERE code = ? AND version = ?`, code, version)
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "没有这个事项版本")
	}
	if err != nil {
		return m, fmt.Errorf("sqlite: get matter %s version %d: %w", code, version, err)
	}
	return m, nil
}

// ListMatters implements catalog.Store.
func (s *CatalogStore) ListMatters(ctx context.Context, f catalog.MatterFilter) ([]catalog.Matter, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Center != "" {
		add("center = ?", f.Center)
	}
	if f.Sector != "" {
		add("sector = ?", f.Sector)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Channel != "" {
		add("channels LIKE ?", "%,"+string(f.Channel)+",%")
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.After != "" {
		add("code > ?", f.After)
	}
	q := "SELECT doc FROM matters"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	limit := -1 // SQLite's "no limit"
	if f.Limit > 0 {
		limit = f.Limit
	}
	q += " ORDER BY code LIMIT ?"
	args = append(args, limit)
	out, err := listDocs[catalog.Matter](ctx, s.db, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list matters: %w", err)
	}
	return out, nil
}

func getDoc(ctx context.Context, db *DB, dst any, query string, args ...any) error {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return err
	}
	var doc []byte
	if err := st.QueryRowContext(ctx, args...).Scan(&doc); err != nil {
		return err
	}
	return json.Unmarshal(doc, dst)
}

func listDocs[T any](ctx context.Context, db *DB, query string, args ...any) ([]T, error) {
	return queryAll(ctx, db, func(sc scanner) (T, error) {
		var v T
		var doc []byte
		if err := sc.Scan(&doc); err != nil {
			return v, err
		}
		return v, json.Unmarshal(doc, &v)
	}, query, args...)
}
