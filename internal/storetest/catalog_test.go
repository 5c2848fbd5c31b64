package storetest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/catalog"
)

// TestCatalogStore is the contract of catalog.Store.
func TestCatalogStore(t *testing.T) {
	runContract(t, func(s stores) catalog.Store { return s.catalog }, catalogScenarios)
}

var catalogScenarios = []scenario[catalog.Store]{
	{"centers are put, read, listed by code and replaced", testCenters},
	{"sectors are listed per center by order then code", testSectors},
	{"concurrent puts of one new sector and center store one each", testPutConcurrent},
	{"unknown center, matter and version are not found", testNotFound},
	{"created matter reads back equal", testCreateGet},
	{"duplicate matter code is a conflict and keeps the first", testCreateDuplicate},
	{"revisions keep every version readable", testRevise},
	{"stale revision is a version conflict and changes nothing", testReviseStale},
	{"revising an unknown matter is not found", testReviseUnknown},
	{"list matters filters", testListFilters},
	{"list matters pages without gaps or repeats", testListPages},
	{"concurrent revisions of one version: exactly one wins", testReviseConcurrent},
}

// at is a time in the centers' zone with nanoseconds, to check that stores
// return times in UTC, truncated to milliseconds.
var at = time.Date(2025, 3, 14, 9, 30, 15, 123456789, time.FixedZone("CST", 8*3600))

// stored is how a store returns a time it was given.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func county() catalog.Center {
	return catalog.Center{
		Code: "c1", Name: "示范县政务服务中心", Kind: catalog.CenterCounty,
		Address: "示范县人民路 1 号", Phone: "0999-1234567",
		Hours: "工作日 8:30-12:00 13:30-17:30", TimeZone: "Asia/Shanghai",
	}
}

// fullMatter sets every field, so a store that drops one is caught.
func fullMatter(code string) catalog.Matter {
	return catalog.Matter{
		Code: code, Center: "c1", Sector: "market", Name: "个体工商户设立登记",
		Kind: catalog.KindPermit, Authority: "示范县市场监督管理局", Result: "营业执照",
		Keywords:   []string{"开店", "个体户"},
		LegalBasis: []string{"《促进个体工商户发展条例》第八条", "《市场主体登记管理条例》"},
		Conditions: "具有经营能力的自然人",
		Materials: []catalog.Material{
			{Name: "身份证", Originals: 1, Copies: 1, Required: true, ECertType: "id_card", Note: "本人"},
			{Name: "经营场所使用证明", Copies: 1, Required: true, Pendable: true},
			{Name: "委托书", Originals: 1, Note: "委托他人办理时提供"},
		},
		Steps: []catalog.Step{
			{Name: "申请", Description: "窗口或网上提交材料"},
			{Name: "受理"},
			{Name: "发证", Description: "当场发放营业执照"},
		},
		StatutoryDays: 15, PromisedDays: 0,
		FeeFen: 1050, FeeStandard: "工本费 10.50 元", FeeBasis: "示例收费依据",
		ConsultPhone: "0999-1111111", ComplaintPhone: "12345",
		Visits:       0,
		Channels:     []catalog.Channel{catalog.ChannelOnline, catalog.ChannelWindow},
		Delivery:     []catalog.Delivery{catalog.DeliveryWindow, catalog.DeliveryExpress},
		GreenChannel: true,
		Status:       catalog.StatusActive,
		Version:      1,
		UpdatedAt:    at,
		UpdatedBy:    "admin01",
	}
}

// revised returns m edited into its next version, with every kind of field
// changed.
func revised(m catalog.Matter, by string) catalog.Matter {
	m.Name += "（修订）"
	m.Keywords = append(slices.Clone(m.Keywords), fmt.Sprintf("第%d版", m.Version+1))
	m.Materials = append(slices.Clone(m.Materials), catalog.Material{Name: "承诺书", Originals: 1, Required: true})
	m.Steps = m.Steps[:1:1]
	m.Channels = []catalog.Channel{catalog.ChannelKiosk}
	m.Delivery = []catalog.Delivery{catalog.DeliveryKioskPrint}
	m.PromisedDays++
	m.FeeFen = 0
	m.GreenChannel = !m.GreenChannel
	m.Version++
	m.UpdatedAt = m.UpdatedAt.Add(36*time.Hour + 250*time.Millisecond)
	m.UpdatedBy = by
	return m
}

// want is what a store returns for m.
func want(m catalog.Matter) catalog.Matter {
	m.UpdatedAt = stored(m.UpdatedAt)
	return m
}

// sameMatter compares two matters field by field, treating a nil and an
// empty slice alike: JSON omits empty keywords, so a store may return
// either, and neither a citizen nor a handler can tell them apart.
func sameMatter(t *testing.T, what string, got, want catalog.Matter) {
	t.Helper()
	got, want = nilEmpty(got), nilEmpty(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func nilEmpty(m catalog.Matter) catalog.Matter {
	if len(m.Keywords) == 0 {
		m.Keywords = nil
	}
	if len(m.LegalBasis) == 0 {
		m.LegalBasis = nil
	}
	if len(m.Materials) == 0 {
		m.Materials = nil
	}
	if len(m.Steps) == 0 {
		m.Steps = nil
	}
	if len(m.Channels) == 0 {
		m.Channels = nil
	}
	if len(m.Delivery) == 0 {
		m.Delivery = nil
	}
	return m
}

// wantCode fails the test unless err carries code.
func wantCode(t *testing.T, what string, err error, code apperr.Code) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("%s: got error %v, want code %s", what, err, code)
	}
	if e, _ := apperr.As(err); e.Message == "" {
		t.Errorf("%s: %s error has no message for the user", what, code)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func codes(ms []catalog.Matter) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Code
	}
	return out
}

func testCenters(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	c1 := county()
	town := catalog.Center{
		Code: "c0", Name: "城关镇便民服务中心", Kind: catalog.CenterTownship, Parent: "c1",
		Address: "城关镇", Phone: "0999-7654321", Hours: "工作日 9:00-17:00", TimeZone: "Asia/Shanghai",
	}
	c2 := catalog.Center{Code: "c2", Name: "乙镇便民服务中心", Kind: catalog.CenterTownship, Parent: "c1"}
	for _, c := range []catalog.Center{c2, c1, town} {
		must(t, "put center "+c.Code, s.PutCenter(ctx, c))
	}
	got, err := s.GetCenter(ctx, "c0")
	must(t, "get center", err)
	if got != town {
		t.Errorf("get center c0:\n got %+v\nwant %+v", got, town)
	}
	list, err := s.ListCenters(ctx)
	must(t, "list centers", err)
	if wantList := []catalog.Center{town, c1, c2}; !reflect.DeepEqual(list, wantList) {
		t.Errorf("list centers:\n got %+v\nwant %+v", list, wantList)
	}

	c1.Name, c1.Hours = "示范县政务服务中心（新址）", "每天 9:00-18:00"
	must(t, "replace center", s.PutCenter(ctx, c1))
	got, err = s.GetCenter(ctx, "c1")
	must(t, "get replaced center", err)
	if got != c1 {
		t.Errorf("replaced center:\n got %+v\nwant %+v", got, c1)
	}
	list, err = s.ListCenters(ctx)
	must(t, "list centers after replace", err)
	if len(list) != 3 || list[1] != c1 {
		t.Errorf("list after replace: got %+v, want 3 centers with c1 replaced", list)
	}
}

func testSectors(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	put := func(sec catalog.Sector) {
		t.Helper()
		must(t, "put sector "+sec.Center+"/"+sec.Code, s.PutSector(ctx, sec))
	}
	tax := catalog.Sector{Center: "c1", Code: "tax", Name: "税务板块", Order: 2}
	market := catalog.Sector{Center: "c1", Code: "market", Name: "市场准入板块", Order: 1, Description: "企业开办"}
	estate := catalog.Sector{Center: "c1", Code: "estate", Name: "不动产板块", Order: 2}
	// The same code at another center is another sector.
	other := catalog.Sector{Center: "c2", Code: "tax", Name: "乙镇税务", Order: 9}
	for _, sec := range []catalog.Sector{tax, market, other, estate} {
		put(sec)
	}

	list, err := s.ListSectors(ctx, "c1")
	must(t, "list sectors", err)
	if wantList := []catalog.Sector{market, estate, tax}; !reflect.DeepEqual(list, wantList) {
		t.Errorf("sectors of c1:\n got %+v\nwant %+v", list, wantList)
	}
	list, err = s.ListSectors(ctx, "c2")
	must(t, "list sectors of c2", err)
	if !reflect.DeepEqual(list, []catalog.Sector{other}) {
		t.Errorf("sectors of c2: got %+v, want only %+v", list, other)
	}

	// Replacing moves the sector and changes it, without duplicating it.
	tax.Order, tax.Name = 0, "税务服务板块"
	put(tax)
	list, err = s.ListSectors(ctx, "c1")
	must(t, "list sectors after replace", err)
	if wantList := []catalog.Sector{tax, market, estate}; !reflect.DeepEqual(list, wantList) {
		t.Errorf("sectors of c1 after replace:\n got %+v\nwant %+v", list, wantList)
	}

	list, err = s.ListSectors(ctx, "nowhere")
	must(t, "list sectors of an unknown center", err)
	if len(list) != 0 {
		t.Errorf("sectors of an unknown center: got %+v, want none", list)
	}
}

// testPutConcurrent is two servers loading the same seed at once: every
// put succeeds and each record exists once, with one of the written values.
func testPutConcurrent(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	const writers = 10
	errs := make([]error, 2*writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			sec := catalog.Sector{Center: "c1", Code: "tax", Name: fmt.Sprintf("税务%02d", i), Order: i}
			errs[i] = s.PutSector(ctx, sec)
		})
		wg.Go(func() {
			<-start
			c := county()
			c.Name = fmt.Sprintf("中心%02d", i)
			errs[writers+i] = s.PutCenter(ctx, c)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("put %d: %v", i, err)
		}
	}
	secs, err := s.ListSectors(ctx, "c1")
	must(t, "list sectors", err)
	if len(secs) != 1 || secs[0].Name != fmt.Sprintf("税务%02d", secs[0].Order) {
		t.Errorf("sectors after concurrent puts: got %+v, want one whole sector", secs)
	}
	centers, err := s.ListCenters(ctx)
	must(t, "list centers", err)
	if len(centers) != 1 {
		t.Errorf("centers after concurrent puts: got %+v, want one", centers)
	}
}

func testNotFound(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	must(t, "put center", s.PutCenter(ctx, county()))
	must(t, "create matter", s.CreateMatter(ctx, fullMatter("m1")))

	_, err := s.GetCenter(ctx, "c9")
	wantCode(t, "get unknown center", err, apperr.NotFound)
	_, err = s.GetMatter(ctx, "m9")
	wantCode(t, "get unknown matter", err, apperr.NotFound)
	_, err = s.GetMatterVersion(ctx, "m9", 1)
	wantCode(t, "get version of unknown matter", err, apperr.NotFound)
	for _, v := range []int{0, 2, -1} {
		_, err = s.GetMatterVersion(ctx, "m1", v)
		wantCode(t, fmt.Sprintf("get missing version %d", v), err, apperr.NotFound)
	}
}

func testCreateGet(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	full := fullMatter("m1")
	// A sparse guide: no keywords, result, conditions or fee basis.
	sparse := catalog.Matter{
		Code: "m2", Center: "c1", Sector: "civil", Name: "临时救助",
		Kind: catalog.KindPayment, Authority: "示范县民政局",
		LegalBasis:  []string{"《社会救助暂行办法》"},
		Materials:   []catalog.Material{{Name: "申请书", Originals: 1, Required: true}},
		Steps:       []catalog.Step{{Name: "申请"}, {Name: "审核"}},
		FeeStandard: "不收费", ConsultPhone: "0999-2222222", ComplaintPhone: "12345",
		Visits: 1, Channels: []catalog.Channel{catalog.ChannelWindow},
		Delivery: []catalog.Delivery{catalog.DeliveryWindow},
		Status:   catalog.StatusActive, Version: 1, UpdatedAt: at.Add(time.Minute),
	}
	for _, m := range []catalog.Matter{full, sparse} {
		must(t, "create "+m.Code, s.CreateMatter(ctx, m))
	}
	for _, m := range []catalog.Matter{full, sparse} {
		got, err := s.GetMatter(ctx, m.Code)
		must(t, "get "+m.Code, err)
		sameMatter(t, "get "+m.Code, got, want(m))
		if got.UpdatedAt.Location() != time.UTC {
			t.Errorf("get %s: UpdatedAt in %v, want UTC", m.Code, got.UpdatedAt.Location())
		}
		got, err = s.GetMatterVersion(ctx, m.Code, 1)
		must(t, "get version 1 of "+m.Code, err)
		sameMatter(t, "version 1 of "+m.Code, got, want(m))
	}
	// Listing returns whole guides too, not a summary.
	list, err := s.ListMatters(ctx, catalog.MatterFilter{})
	must(t, "list", err)
	if len(list) != 2 {
		t.Fatalf("list: got %v, want [m1 m2]", codes(list))
	}
	sameMatter(t, "listed m1", list[0], want(full))
	sameMatter(t, "listed m2", list[1], want(sparse))
}

func testCreateDuplicate(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	first := fullMatter("m1")
	must(t, "create", s.CreateMatter(ctx, first))
	second := fullMatter("m1")
	second.Name, second.Sector = "另一个事项", "tax"
	wantCode(t, "create duplicate", s.CreateMatter(ctx, second), apperr.Conflict)

	got, err := s.GetMatter(ctx, "m1")
	must(t, "get", err)
	sameMatter(t, "after duplicate create", got, want(first))
	list, err := s.ListMatters(ctx, catalog.MatterFilter{})
	must(t, "list", err)
	if len(list) != 1 {
		t.Errorf("list after duplicate create: got %v, want one m1", codes(list))
	}
}

func testRevise(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	v1 := fullMatter("m1")
	must(t, "create", s.CreateMatter(ctx, v1))
	v2 := revised(v1, "admin02")
	must(t, "revise to 2", s.ReviseMatter(ctx, v2))

	got, err := s.GetMatter(ctx, "m1")
	must(t, "get after revise", err)
	sameMatter(t, "current after revise", got, want(v2))

	v3 := revised(v2, "admin03")
	v3.Status = catalog.StatusRetired
	must(t, "revise to 3", s.ReviseMatter(ctx, v3))

	got, err = s.GetMatter(ctx, "m1")
	must(t, "get after second revise", err)
	sameMatter(t, "current after second revise", got, want(v3))
	for _, v := range []catalog.Matter{v1, v2, v3} {
		got, err := s.GetMatterVersion(ctx, "m1", v.Version)
		must(t, fmt.Sprintf("get version %d", v.Version), err)
		sameMatter(t, fmt.Sprintf("version %d", v.Version), got, want(v))
	}
	list, err := s.ListMatters(ctx, catalog.MatterFilter{})
	must(t, "list", err)
	if len(list) != 1 {
		t.Fatalf("list after revisions: got %v, want only m1", codes(list))
	}
	sameMatter(t, "listed after revisions", list[0], want(v3))
}

func testReviseStale(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	v1 := fullMatter("m1")
	must(t, "create", s.CreateMatter(ctx, v1))
	v2 := revised(v1, "admin02")
	must(t, "revise to 2", s.ReviseMatter(ctx, v2))

	stale := revised(v1, "admin03") // also version 2, edited from version 1
	stale.Name = "迟到的修改"
	wantCode(t, "revise from stale version 1", s.ReviseMatter(ctx, stale), apperr.VersionConflict)
	ahead := revised(revised(v2, "x"), "admin04") // version 4, from a version 3 that does not exist
	wantCode(t, "revise from future version 3", s.ReviseMatter(ctx, ahead), apperr.VersionConflict)

	got, err := s.GetMatter(ctx, "m1")
	must(t, "get", err)
	sameMatter(t, "current after refused revisions", got, want(v2))
	got, err = s.GetMatterVersion(ctx, "m1", 1)
	must(t, "get version 1", err)
	sameMatter(t, "version 1 after refused revisions", got, want(v1))
	for _, v := range []int{3, 4} {
		_, err = s.GetMatterVersion(ctx, "m1", v)
		wantCode(t, fmt.Sprintf("version %d after refused revisions", v), err, apperr.NotFound)
	}
}

func testReviseUnknown(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	must(t, "create m1", s.CreateMatter(ctx, fullMatter("m1")))
	ghost := revised(fullMatter("m9"), "admin02")
	wantCode(t, "revise unknown", s.ReviseMatter(ctx, ghost), apperr.NotFound)
	_, err := s.GetMatter(ctx, "m9")
	wantCode(t, "get after revising unknown", err, apperr.NotFound)
}

func testListFilters(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	type spec struct {
		code, center, sector string
		kind                 catalog.Kind
		channels             []catalog.Channel
		status               catalog.Status
	}
	on, ki, wi := catalog.ChannelOnline, catalog.ChannelKiosk, catalog.ChannelWindow
	// Created out of code order, so ordering is the store's doing.
	for _, sp := range []spec{
		{"m5", "c2", "tax", catalog.KindPublic, []catalog.Channel{wi}, catalog.StatusActive},
		{"m1", "c1", "market", catalog.KindPermit, []catalog.Channel{on, wi}, catalog.StatusActive},
		{"m3", "c1", "tax", catalog.KindPublic, []catalog.Channel{ki, wi}, catalog.StatusActive},
		{"m2", "c1", "market", catalog.KindPublic, []catalog.Channel{on, ki, wi}, catalog.StatusRetired},
		{"m6", "c2", "market", catalog.KindPermit, []catalog.Channel{on}, catalog.StatusActive},
		{"m4", "c1", "estate", catalog.KindConfirmation, []catalog.Channel{wi}, catalog.StatusActive},
	} {
		m := fullMatter(sp.code)
		m.Center, m.Sector, m.Kind, m.Channels, m.Status = sp.center, sp.sector, sp.kind, sp.channels, sp.status
		must(t, "create "+sp.code, s.CreateMatter(ctx, m))
	}
	for _, tc := range []struct {
		name string
		f    catalog.MatterFilter
		want []string
	}{
		{"no filter", catalog.MatterFilter{}, []string{"m1", "m2", "m3", "m4", "m5", "m6"}},
		{"center", catalog.MatterFilter{Center: "c1"}, []string{"m1", "m2", "m3", "m4"}},
		{"sector across centers", catalog.MatterFilter{Sector: "market"}, []string{"m1", "m2", "m6"}},
		{"center and sector", catalog.MatterFilter{Center: "c2", Sector: "market"}, []string{"m6"}},
		{"kind", catalog.MatterFilter{Kind: catalog.KindPublic}, []string{"m2", "m3", "m5"}},
		{"channel kiosk", catalog.MatterFilter{Channel: ki}, []string{"m2", "m3"}},
		{"channel online", catalog.MatterFilter{Channel: on}, []string{"m1", "m2", "m6"}},
		{"status active", catalog.MatterFilter{Status: catalog.StatusActive}, []string{"m1", "m3", "m4", "m5", "m6"}},
		{"status retired", catalog.MatterFilter{Status: catalog.StatusRetired}, []string{"m2"}},
		{"all filters", catalog.MatterFilter{Center: "c1", Sector: "tax", Kind: catalog.KindPublic, Channel: ki, Status: catalog.StatusActive}, []string{"m3"}},
		{"no match", catalog.MatterFilter{Center: "c1", Kind: catalog.KindOtherPower}, []string{}},
		{"unknown center", catalog.MatterFilter{Center: "c9"}, []string{}},
		{"after", catalog.MatterFilter{After: "m4"}, []string{"m5", "m6"}},
		{"after with filter", catalog.MatterFilter{Channel: wi, After: "m2"}, []string{"m3", "m4", "m5"}},
		{"limit", catalog.MatterFilter{Status: catalog.StatusActive, Limit: 2}, []string{"m1", "m3"}},
		{"limit over total", catalog.MatterFilter{Center: "c2", Limit: 10}, []string{"m5", "m6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListMatters(t.Context(), tc.f)
			must(t, "list", err)
			if !slices.Equal(codes(got), tc.want) {
				t.Errorf("ListMatters(%+v) = %v, want %v", tc.f, codes(got), tc.want)
			}
		})
	}
}

func testListPages(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	var all []string
	for i := range 11 {
		all = append(all, fmt.Sprintf("m%02d", i))
	}
	// Every fourth is retired; insert in a shuffled order.
	retired := map[string]bool{}
	var active []string
	for i, code := range all {
		if i%4 == 0 {
			retired[code] = true
		} else {
			active = append(active, code)
		}
	}
	order := slices.Clone(all)
	rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	for _, code := range order {
		m := fullMatter(code)
		if retired[code] {
			m.Status = catalog.StatusRetired
		}
		must(t, "create "+code, s.CreateMatter(ctx, m))
	}

	for _, tc := range []struct {
		name string
		f    catalog.MatterFilter
		want []string
	}{
		{"all, 3 a page", catalog.MatterFilter{Limit: 3}, all},
		{"all, 1 a page", catalog.MatterFilter{Limit: 1}, all},
		{"all, a page of exactly the total", catalog.MatterFilter{Limit: len(all)}, all},
		{"active, 4 a page", catalog.MatterFilter{Status: catalog.StatusActive, Limit: 4}, active},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			f := tc.f
			for pages := 0; ; pages++ {
				if pages > len(all)+1 {
					t.Fatalf("paging does not end; codes so far %v", got)
				}
				page, err := s.ListMatters(t.Context(), f)
				must(t, "list page", err)
				if len(page) > f.Limit {
					t.Fatalf("page after %q has %d matters, limit %d", f.After, len(page), f.Limit)
				}
				if len(page) == 0 {
					break
				}
				got = append(got, codes(page)...)
				f.After = page[len(page)-1].Code
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("pages joined: %v, want %v", got, tc.want)
			}
		})
	}

	past, err := s.ListMatters(ctx, catalog.MatterFilter{After: all[len(all)-1], Limit: 5})
	must(t, "list after the last", err)
	if len(past) != 0 {
		t.Errorf("after the last code: got %v, want none", codes(past))
	}
}

func testReviseConcurrent(t *testing.T, s catalog.Store) {
	ctx := t.Context()
	v1 := fullMatter("m1")
	must(t, "create", s.CreateMatter(ctx, v1))

	const editors = 20
	errs := make([]error, editors)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range editors {
		wg.Go(func() {
			<-start
			m := revised(v1, fmt.Sprintf("editor%02d", i))
			errs[i] = s.ReviseMatter(ctx, m)
		})
	}
	close(start)
	wg.Wait()

	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("editors %d and %d both saved version 2", winner, i)
			}
			winner = i
		case !apperr.Is(err, apperr.VersionConflict):
			t.Errorf("editor %d: got %v, want a version conflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no editor saved version 2")
	}
	got, err := s.GetMatter(ctx, "m1")
	must(t, "get", err)
	if wantBy := fmt.Sprintf("editor%02d", winner); got.Version != 2 || got.UpdatedBy != wantBy {
		t.Errorf("current: version %d by %q, want version 2 by %q", got.Version, got.UpdatedBy, wantBy)
	}
	old, err := s.GetMatterVersion(ctx, "m1", 1)
	must(t, "get version 1", err)
	sameMatter(t, "version 1 after the race", old, want(v1))
	_, err = s.GetMatterVersion(ctx, "m1", 3)
	wantCode(t, "version 3 after the race", err, apperr.NotFound)
}
