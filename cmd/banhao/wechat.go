package main

import (
	"fmt"

	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/wechat"
)

// newWeChat returns the WeChat client for mini-program logins, or nil when
// no AppID is configured (then only development logins work).
func newWeChat(cfg config) (identity.WeChat, error) {
	if cfg.WeChatAppID == "" {
		return nil, nil
	}
	wc, err := wechat.New(wechat.Config{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret})
	if err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	return wc.Flat(), nil
}
