package wechat_test

import (
	"testing"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// The content check passes ordinary text, flags risky text, survives an
// expired token with one retry, and turns WeChat's refusal into an error.
func TestMsgCheck(t *testing.T) {
	f := wechattest.New(t)
	f.RiskyWords("赌博")
	c := newClient(t, f)
	for _, tc := range []struct {
		text  string
		risky bool
	}{
		{"公积金离职后怎么提取？", false},
		{"<b>营业执照</b>要带什么", false},
		{"这里可以赌博吗", true},
	} {
		risky, err := c.MsgCheck(t.Context(), "openid-1", tc.text)
		if err != nil || risky != tc.risky {
			t.Errorf("MsgCheck(%q) = %v, %v; want %v", tc.text, risky, err, tc.risky)
		}
	}
	got := f.Checked()
	if len(got) != 3 || got[0].OpenID != "openid-1" || got[0].Version != 2 || got[0].Scene != 3 {
		t.Errorf("checked %+v", got)
	}

	f.ExpireToken()
	if risky, err := c.MsgCheck(t.Context(), "openid-1", "你好"); err != nil || risky {
		t.Errorf("after token expiry: %v, %v", risky, err)
	}

	f.FailNext(wechattest.MsgCheck, 1, 45009)
	if _, err := c.MsgCheck(t.Context(), "openid-1", "你好"); err == nil || apperr.CodeOf(err) == "" {
		t.Errorf("refused check: %v", err)
	}
}
