package kiosk

import (
	"strings"
	"testing"

	"github.com/banhao/banhao/internal/catalog"
)

func TestFee(t *testing.T) {
	tests := []struct {
		m    catalog.Matter
		want string
	}{
		{catalog.Matter{FeeFen: 0, FeeStandard: "不收费"}, "免费"},
		{catalog.Matter{FeeFen: 12000, FeeStandard: "每本120元"}, "120 元"},
		{catalog.Matter{FeeFen: 1550, FeeStandard: "每件15.5元"}, "15.50 元"},
		{catalog.Matter{FeeFen: 5, FeeStandard: "每页5分"}, "0.05 元"},
		// A notary's fee depends on the case: never show it as free.
		{catalog.Matter{FeeFen: 0, FeeStandard: "按山东省公证服务收费标准收取"}, "按标准收费"},
	}
	for _, tt := range tests {
		if got := fee(tt.m); got != tt.want {
			t.Errorf("fee(%d, %q) = %q, want %q", tt.m.FeeFen, tt.m.FeeStandard, got, tt.want)
		}
	}
}

func TestSectorLetters(t *testing.T) {
	tests := []struct {
		name    string
		sectors []catalog.Sector
		want    string
	}{
		{"in order", []catalog.Sector{{Order: 1, Name: "甲"}, {Order: 2, Name: "乙"}, {Order: 3, Name: "丙"}}, "A甲 B乙 C丙"},
		{"sorted by letter", []catalog.Sector{{Order: 3, Name: "丙"}, {Order: 1, Name: "甲"}}, "A甲 C丙"},
		// Past the 26th every sector is Z; the key names the sector the
		// number is looked up in, the last.
		{"shared letter", []catalog.Sector{{Order: 27, Name: "子"}, {Order: 26, Name: "寅"}, {Order: 28, Name: "丑"}}, "Z丑"},
		{"none", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, l := range sectorLetters(tt.sectors) {
				got = append(got, l.Letter+l.Name)
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("sectorLetters = %q, want %q", s, tt.want)
			}
		})
	}
}
