package wechat

import (
	"context"

	"github.com/silenceper/wechat/v2/miniprogram/security"
)

const (
	pathMsgCheck    = "/wxa/msg_sec_check"
	opMsgCheck   op = "msg_sec_check"
)

// MsgCheck runs WeChat's text content check (msgSecCheck v2, through the
// library's GetSecurity().MsgCheckContext, the context-taking form of
// MsgCheck) on text a user wrote. risky is true unless WeChat suggests
// "pass": a "review" answer is risky too, so that a person reads the text
// before it counts. The user must have opened the mini-program within
// two hours (WeChat's rule). When WeChat says the access token is invalid
// or expired, the cached token is dropped and the check retried once.
func (c *Client) MsgCheck(ctx context.Context, openID, text string) (risky bool, err error) {
	callCtx, cl, cancel := c.begin(ctx)
	defer cancel()
	req := &security.MsgCheckRequest{OpenID: openID, Scene: security.MsgSceneForum, Content: text}
	for attempt := 0; ; attempt++ {
		cl.setToken("")
		res, err := c.mp.GetSecurity().MsgCheckContext(callCtx, req)
		if err == nil {
			return res.Result.Suggest != security.CheckSuggestPass, nil
		}
		ex := cl.last()
		if attempt == 0 && ex.path == pathMsgCheck && tokenRejected(ex.errcode) && ctx.Err() == nil {
			c.dropToken(cl.token())
			continue
		}
		return false, c.fail(ctx, opMsgCheck, cl, err, res.ErrCode)
	}
}
