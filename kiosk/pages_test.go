package kiosk

import (
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
