package wechat

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"github.com/banhao/banhao/internal/apperr"
)

// TestFailWithoutExchange covers the fallback for library errors when the
// dispatcher recorded nothing (util.DefaultHTTPClient replaced elsewhere).
func TestFailWithoutExchange(t *testing.T) {
	c := &Client{}
	leaky := errors.New(`Get "https://api.weixin.qq.com/sns/jscode2session?secret=TOPSECRET": boom`)
	tests := []struct {
		name    string
		libErr  error
		errcode int64
		want    apperr.Code
	}{
		{"errcode from the result", leaky, 40029, apperr.Invalid},
		{"CommonError", util.NewCommonError("x", 45011, "slow down"), 0, apperr.TooManyRequests},
		{"deadline", context.DeadlineExceeded, 0, apperr.Unavailable},
		{"opaque library error", leaky, 0, apperr.Internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.fail(t.Context(), opLogin, &call{}, tt.libErr, tt.errcode)
			if got := apperr.CodeOf(err); got != tt.want {
				t.Fatalf("code %s (%v), want %s", got, err, tt.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Fatalf("error text leaks the secret: %v", err)
			}
		})
	}
}
