package catalog

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
)

// Service is the catalog's business logic: reads, searches, and versioned
// edits of the service guides.
type Service struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	audit *audit.Log

	idx atomic.Pointer[index]
	// rebuild serialises index rebuilds so a slow one cannot overwrite a newer one.
	rebuild sync.Mutex
	// extra is the source of FAQ text for search (SetSearchText); guarded by rebuild.
	extra SearchText
}

// NewService returns a catalog service on store. now is the clock; edits
// are recorded in al.
func NewService(store Store, al *audit.Log, now func() time.Time, log *slog.Logger) *Service {
	s := &Service{store: store, now: now, log: log, audit: al}
	s.idx.Store(&index{centers: map[string]bool{}})
	return s
}

// Query selects matters for listing or search.
type Query struct {
	Center  string
	Sector  string
	Kind    Kind
	Channel Channel
	// Text, if not empty, searches names, keywords, results, sectors and
	// authorities in Chinese words, full pinyin or initials, and orders
	// results by relevance. Without Text, matters are ordered by code.
	Text string
	// IncludeRetired lists retired matters too (staff views). Search never
	// returns retired matters.
	IncludeRetired bool
	// Cursor continues a previous page; empty for the first page.
	Cursor string
	// Limit is the page size, 1 to MaxPageSize; 0 means DefaultPageSize.
	Limit int
}

// Page sizes.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// Page is one page of matters; Next is the cursor of the following page,
// empty on the last.
type Page struct {
	Items []Matter
	Next  string
}

// Centers lists every center.
func (s *Service) Centers(ctx context.Context) ([]Center, error) {
	return s.store.ListCenters(ctx)
}

// Center returns one center.
func (s *Service) Center(ctx context.Context, code string) (Center, error) {
	if !ValidCode(code) {
		return Center{}, apperr.New(apperr.NotFound, "没有这个服务中心")
	}
	return s.store.GetCenter(ctx, code)
}

// Sectors lists the sectors of a center, which must exist. They are
// answered from the search index, which holds them as of its last refresh
// (sectors change only with the catalog's set-up); a center the index does
// not know yet is looked up in the store.
func (s *Service) Sectors(ctx context.Context, center string) ([]Sector, error) {
	if secs, ok := s.idx.Load().sectors[center]; ok {
		return slices.Clone(secs), nil
	}
	if _, err := s.Center(ctx, center); err != nil {
		return nil, err
	}
	return s.store.ListSectors(ctx, center)
}

// Matter returns the current version of a matter, retired or not.
func (s *Service) Matter(ctx context.Context, code string) (Matter, error) {
	if !ValidCode(code) {
		return Matter{}, apperr.New(apperr.NotFound, "没有这个事项")
	}
	return s.store.GetMatter(ctx, code)
}

// MatterVersion returns one version of a matter's guide.
func (s *Service) MatterVersion(ctx context.Context, code string, version int) (Matter, error) {
	if !ValidCode(code) || version < 1 {
		return Matter{}, apperr.New(apperr.NotFound, "没有这个事项版本")
	}
	return s.store.GetMatterVersion(ctx, code, version)
}

// Matters lists or searches matters.
func (s *Service) Matters(ctx context.Context, q Query) (Page, error) {
	if err := q.validate(); err != nil {
		return Page{}, err
	}
	if q.Center != "" && !s.idx.Load().centers[q.Center] {
		// A mistyped center must not look like a center with nothing to
		// do. Known centers are answered from the index; the store has
		// the last word on one added since the index was built.
		if _, err := s.store.GetCenter(ctx, q.Center); err != nil {
			return Page{}, err
		}
	}
	limit := q.Limit
	if limit == 0 {
		limit = DefaultPageSize
	}
	if terms := normalizeQuery(q.Text); len(terms) > 0 {
		return s.search(q, terms, limit)
	}
	after, err := decodeCursor(q.Cursor, "c")
	if err != nil {
		return Page{}, err
	}
	f := MatterFilter{Center: q.Center, Sector: q.Sector, Kind: q.Kind, Channel: q.Channel, After: after, Limit: limit + 1}
	if !q.IncludeRetired {
		f.Status = StatusActive
	}
	items, err := s.store.ListMatters(ctx, f)
	if err != nil {
		return Page{}, err
	}
	var p Page
	if len(items) > limit {
		items = items[:limit]
		p.Next = encodeCursor("c", items[limit-1].Code)
	}
	p.Items = items
	return p, nil
}

func (s *Service) search(q Query, terms []string, limit int) (Page, error) {
	off := 0
	if q.Cursor != "" {
		v, err := decodeCursor(q.Cursor, "o")
		if err != nil {
			return Page{}, err
		}
		off, err = strconv.Atoi(v)
		if err != nil || off < 0 {
			return Page{}, invalidCursor()
		}
	}
	hits := s.idx.Load().search(terms, func(m *Matter) bool {
		return (q.Center == "" || m.Center == q.Center) &&
			(q.Sector == "" || m.Sector == q.Sector) &&
			(q.Kind == "" || m.Kind == q.Kind) &&
			(q.Channel == "" || m.HasChannel(q.Channel))
	})
	var p Page
	if off >= len(hits) {
		p.Items = []Matter{}
		return p, nil
	}
	hits = hits[off:]
	if len(hits) > limit {
		hits = hits[:limit]
		p.Next = encodeCursor("o", strconv.Itoa(off+limit))
	}
	p.Items = make([]Matter, len(hits))
	for i, h := range hits {
		p.Items[i] = *h.matter
	}
	return p, nil
}

func (q *Query) validate() error {
	var c checker
	if q.Center != "" && !ValidCode(q.Center) {
		c.add("center", "服务中心编码无效")
	}
	if q.Sector != "" && !ValidCode(q.Sector) {
		c.add("sector", "板块编码无效")
	}
	if q.Kind != "" && q.Kind.Label() == "" {
		c.add("kind", "事项类型无效")
	}
	switch q.Channel {
	case "", ChannelOnline, ChannelKiosk, ChannelWindow:
	default:
		c.add("channel", "办理渠道须为 online、kiosk 或 window")
	}
	if msg := checkQuery(q.Text); msg != "" {
		c.add("q", "%s", msg)
	}
	if q.Limit < 0 || q.Limit > MaxPageSize {
		c.add("limit", "每页条数须在 1 到 %d 之间", MaxPageSize)
	}
	if len(q.Cursor) > 200 {
		c.add("cursor", "翻页标记无效")
	}
	return c.err()
}

func encodeCursor(kind, v string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + v))
}

func decodeCursor(cur, kind string) (string, error) {
	if cur == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cur)
	if err != nil {
		return "", invalidCursor()
	}
	v, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return "", invalidCursor()
	}
	return v, nil
}

func invalidCursor() error {
	return apperr.Fields(apperr.FieldError{Field: "cursor", Message: "翻页标记无效，请从第一页重新查询"})
}

// Editor is who edits the catalog and where they may.
type Editor struct {
	// Actor names the editor for the guide's updated_by and the audit log,
	// e.g. "staff:<id>".
	Actor string
	// Centers are the centers whose matters the editor may change.
	Centers []string
	// IP is where the edit came from, for the audit log.
	IP string
}

func (ed Editor) may(center string) error {
	if slices.Contains(ed.Centers, center) {
		return nil
	}
	return apperr.New(apperr.Forbidden, "无权修改其他服务中心的事项")
}

// CreateMatter adds a new matter as version 1.
func (s *Service) CreateMatter(ctx context.Context, m Matter, ed Editor) (Matter, error) {
	if err := ed.may(m.Center); err != nil {
		return Matter{}, err
	}
	m.Version = 1
	if m.Status == "" {
		m.Status = StatusActive
	}
	m.UpdatedAt = s.now()
	m.UpdatedBy = ed.Actor
	if err := s.checkMatter(ctx, &m); err != nil {
		return Matter{}, err
	}
	if err := s.store.CreateMatter(ctx, m); err != nil {
		return Matter{}, err
	}
	s.recordEdit(ctx, "matter.create", m, ed)
	s.refreshAfterWrite(ctx)
	return m, nil
}

func (s *Service) recordEdit(ctx context.Context, action string, m Matter, ed Editor) {
	err := s.audit.Record(context.WithoutCancel(ctx), audit.Record{
		Actor: ed.Actor, Center: m.Center, Action: action,
		Target: fmt.Sprintf("matter:%s@%d", m.Code, m.Version), IP: ed.IP,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", action, "matter", m.Code, "err", err)
	}
}

// ReviseMatter stores an edited guide as a new version. base is the version
// the editor started from; if someone else saved a newer one meanwhile the
// edit is refused with apperr.VersionConflict rather than silently lost.
// The code and center of a matter never change.
func (s *Service) ReviseMatter(ctx context.Context, code string, base int, m Matter, ed Editor) (Matter, error) {
	cur, err := s.currentAt(ctx, code, base)
	if err != nil {
		return Matter{}, err
	}
	if err := ed.may(cur.Center); err != nil {
		return Matter{}, err
	}
	if m.Code != "" && m.Code != code {
		return Matter{}, apperr.Fields(apperr.FieldError{Field: "code", Message: "事项编码不能修改"})
	}
	if m.Center != "" && m.Center != cur.Center {
		return Matter{}, apperr.Fields(apperr.FieldError{Field: "center", Message: "事项所属服务中心不能修改"})
	}
	m.Code, m.Center = code, cur.Center
	if m.Status == "" {
		m.Status = cur.Status
	}
	return s.revise(ctx, "matter.revise", m, base, ed)
}

// RetireMatter marks a matter retired as a new version: it leaves listings
// and search, while its guide stays readable for the cases that cite it.
func (s *Service) RetireMatter(ctx context.Context, code string, base int, ed Editor) (Matter, error) {
	cur, err := s.currentAt(ctx, code, base)
	if err != nil {
		return Matter{}, err
	}
	if err := ed.may(cur.Center); err != nil {
		return Matter{}, err
	}
	if cur.Status == StatusRetired {
		return Matter{}, apperr.New(apperr.Conflict, "该事项已经停办")
	}
	cur.Status = StatusRetired
	return s.revise(ctx, "matter.retire", cur, base, ed)
}

// currentAt returns the current version of a matter if it is base, the
// version the editor started from, and a version conflict otherwise.
func (s *Service) currentAt(ctx context.Context, code string, base int) (Matter, error) {
	cur, err := s.Matter(ctx, code)
	if err != nil {
		return Matter{}, err
	}
	if base != cur.Version {
		return Matter{}, versionConflict(cur.Version)
	}
	return cur, nil
}

func (s *Service) revise(ctx context.Context, action string, m Matter, base int, ed Editor) (Matter, error) {
	m.Version = base + 1
	m.UpdatedAt = s.now()
	m.UpdatedBy = ed.Actor
	if err := s.checkMatter(ctx, &m); err != nil {
		return Matter{}, err
	}
	if err := s.store.ReviseMatter(ctx, m); err != nil {
		return Matter{}, err
	}
	s.recordEdit(ctx, action, m, ed)
	s.refreshAfterWrite(ctx)
	return m, nil
}

func versionConflict(current int) error {
	return apperr.New(apperr.VersionConflict, fmt.Sprintf("该事项已被他人修改（当前为第 %d 版），请刷新后再改", current))
}

// checkMatter validates a guide and that its sector exists at its center.
func (s *Service) checkMatter(ctx context.Context, m *Matter) error {
	if err := m.Validate(); err != nil {
		return err
	}
	sectors, err := s.store.ListSectors(ctx, m.Center)
	if err != nil {
		return err
	}
	for _, sec := range sectors {
		if sec.Code == m.Sector {
			return nil
		}
	}
	if _, err := s.store.GetCenter(ctx, m.Center); err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return apperr.Fields(apperr.FieldError{Field: "center", Message: "没有这个服务中心"})
		}
		return err
	}
	return apperr.Fields(apperr.FieldError{Field: "sector", Message: "该服务中心没有这个板块"})
}

// refreshAfterWrite rebuilds the search index after an edit; a failure only
// delays the edit's appearance in search until the next refresh.
func (s *Service) refreshAfterWrite(ctx context.Context) {
	if err := s.Refresh(ctx); err != nil {
		s.log.Warn("catalog: search index not refreshed after edit", "err", err)
	}
}

// Refresh rebuilds the search index from the store. Servers call it at
// start, after their own edits, and periodically so that edits made by
// other servers of a MongoDB deployment reach search too.
func (s *Service) Refresh(ctx context.Context) error {
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	centers, err := s.store.ListCenters(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	byCenter := map[string][]Sector{}
	for _, c := range centers {
		secs, err := s.store.ListSectors(ctx, c.Code)
		if err != nil {
			return err
		}
		byCenter[c.Code] = secs
		for _, sec := range secs {
			names[c.Code+"/"+sec.Code] = sec.Name
		}
	}
	matters, err := s.store.ListMatters(ctx, MatterFilter{Status: StatusActive})
	if err != nil {
		return err
	}
	idx := buildIndex(matters, names)
	if s.extra != nil {
		text, err := s.extra(ctx)
		if err != nil {
			return err
		}
		idx.addText(text)
	}
	idx.sectors = byCenter
	for _, c := range centers {
		idx.centers[c.Code] = true
	}
	s.idx.Store(idx)
	return nil
}

// LoadSeedIfEmpty writes a seed catalog into an empty store and reports
// whether it did. A store that has any center is left alone, so a restart
// never overwrites an administrator's edits. A load interrupted half-way
// is completed on the next start: records already there are skipped.
func (s *Service) LoadSeedIfEmpty(ctx context.Context, d *SeedData) (bool, error) {
	centers, err := s.store.ListCenters(ctx)
	if err != nil {
		return false, err
	}
	// Centers are written last, so their presence marks a complete load.
	if len(centers) > 0 {
		return false, nil
	}
	for _, sec := range d.Sectors {
		if err := s.store.PutSector(ctx, sec); err != nil {
			return false, err
		}
	}
	at := s.now()
	for _, m := range d.Matters {
		m.Version, m.UpdatedAt, m.UpdatedBy = 1, at, "seed"
		if m.Status == "" {
			m.Status = StatusActive
		}
		if err := s.store.CreateMatter(ctx, m); err != nil && !apperr.Is(err, apperr.Conflict) {
			return false, err
		}
	}
	for _, c := range d.Centers {
		if err := s.store.PutCenter(ctx, c); err != nil {
			return false, err
		}
	}
	return true, s.Refresh(ctx)
}

// EditableCenters returns the centers an administrator of center may
// edit: their own, and the township centers under a county center.
func (s *Service) EditableCenters(ctx context.Context, center string) ([]string, error) {
	centers, err := s.store.ListCenters(ctx)
	if err != nil {
		return nil, err
	}
	out := []string{center}
	for _, c := range centers {
		if c.Parent == center {
			out = append(out, c.Code)
		}
	}
	return out, nil
}
