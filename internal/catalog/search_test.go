package catalog

import (
	"strings"
	"testing"
)

func testIndex() *index {
	ms := []Matter{
		{Code: "gjj-tq", Center: "hm", Sector: "housing-fund", Name: "住房公积金提取（购房）", Authority: "滨州市住房公积金管理中心惠民管理部", Keywords: []string{"买房提取"}},
		{Code: "gjj-dk", Center: "hm", Sector: "housing-fund", Name: "住房公积金个人住房贷款", Authority: "滨州市住房公积金管理中心惠民管理部"},
		{Code: "gt-sl", Center: "hm", Sector: "business", Name: "个体工商户设立登记", Result: "营业执照", Authority: "惠民县行政审批服务局", Keywords: []string{"开店"}},
		{Code: "hz", Center: "hm", Sector: "exit-entry", Name: "普通护照签发", Result: "普通护照", Authority: "惠民县公安局出入境管理大队", Keywords: []string{"办护照"}},
		{Code: "sbk", Center: "hm", Sector: "social-security", Name: "社会保障卡申领", Result: "社会保障卡", Authority: "惠民县人力资源和社会保障局", Keywords: []string{"社保卡"}},
		{Code: "rx", Center: "hm", Sector: "hotline-12345", Name: "12345热线工单承办", Authority: "惠民县政务服务热线"},
		{Code: "lz-sbk", Center: "lz", Sector: "social-security", Name: "社会保障卡申领", Authority: "惠民县人力资源和社会保障局"},
	}
	return buildIndex(ms, map[string]string{"hm/housing-fund": "住房公积金", "hm/business": "商事服务"})
}

func codes(hits []hit) string {
	var s []string
	for _, h := range hits {
		s = append(s, h.matter.Code)
	}
	return strings.Join(s, ",")
}

func TestSearch(t *testing.T) {
	idx := testIndex()
	all := func(*Matter) bool { return true }
	tests := []struct {
		q    string
		want string // codes in order; a prefix of the result
		none bool
	}{
		{q: "gjj", want: "gjj-dk,gjj-tq"},
		{q: "zfgjj", want: "gjj-dk,gjj-tq"},
		{q: "gongjijin", want: "gjj-dk,gjj-tq"},
		{q: "zhufanggjj", want: "gjj-dk,gjj-tq"},
		{q: "GJJ tq", want: "gjj-tq"},
		{q: "ｇｊｊ", want: "gjj-dk,gjj-tq"},
		{q: "营业执照", want: "gt-sl"},
		{q: "护照", want: "hz"},
		{q: "hz", want: "hz"},
		{q: "huzh", want: "hz"},
		{q: "sbk", want: "sbk"},
		{q: "12345", want: "rx"},
		{q: "买房", want: "gjj-tq"},
		{q: "xyzxyz", none: true},
		{q: "火星", none: true},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got := codes(idx.search(normalizeQuery(tt.q), all))
			if tt.none {
				if got != "" {
					t.Fatalf("search %q = %s, want nothing", tt.q, got)
				}
				return
			}
			if !strings.HasPrefix(got, tt.want) {
				t.Fatalf("search %q = %s, want it to start with %s", tt.q, got, tt.want)
			}
		})
	}
}

func TestSearchRanksNameOverAuthority(t *testing.T) {
	idx := testIndex()
	// "社会保障" is in the name of sbk and in the authority of several others.
	hits := idx.search(normalizeQuery("社会保障"), func(m *Matter) bool { return m.Center == "hm" })
	if len(hits) == 0 || hits[0].matter.Code != "sbk" {
		t.Fatalf("got %s, want sbk first", codes(hits))
	}
}

func TestPinyinMatchLongQueryIsBounded(t *testing.T) {
	f := prepareField(strings.Repeat("是", 64), 1, newReadingCache())
	q := strings.Repeat("s", MaxQueryRunes)
	if pinyinMatch(q, f.syls) == matchNone {
		t.Fatal("50 initials of 64 identical characters should match")
	}
	if pinyinMatch(strings.Repeat("s", 49)+"x", f.syls) != matchNone {
		t.Fatal("a trailing x should not match")
	}
}

func FuzzSearch(f *testing.F) {
	for _, s := range []string{"gjj", "营业执照", "zhufanggjj", "ｇｊｊ", "12345", " ", "a'b", "\x00"} {
		f.Add(s)
	}
	idx := testIndex()
	f.Fuzz(func(t *testing.T, q string) {
		if checkQuery(q) != "" {
			return
		}
		for _, h := range idx.search(normalizeQuery(q), func(*Matter) bool { return true }) {
			if h.score <= 0 {
				t.Fatalf("hit with score %d", h.score)
			}
		}
	})
}
