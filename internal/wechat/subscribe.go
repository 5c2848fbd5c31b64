package wechat

import (
	"context"
	"net/url"

	"github.com/silenceper/wechat/v2/miniprogram/subscribe"
	"github.com/silenceper/wechat/v2/util"

	"github.com/banhao/banhao/internal/apperr"
)

// subscribeSendURL is the library's subscribeSendURL, which it does not
// export.
const subscribeSendURL = "https://api.weixin.qq.com" + pathSubscribe

// Subscribe message states: which build of the mini-program a message opens.
const (
	StateFormal    = "formal"    // the released mini-program (the default)
	StateTrial     = "trial"     // the trial build
	StateDeveloper = "developer" // the development build
)

// SendSubscribe sends a subscribe message (订阅消息) of the template
// templateID to the user openID; tapping it opens page, and data fills the
// template's keywords, e.g. {"character_string1": "A023", "thing2": "5号窗口"}.
// When WeChat says the access token is invalid or expired, the cached
// token is dropped and the send retried exactly once.
//
// An error that sending again cannot cure (the user refused or has no
// subscription left for the template, an invalid openid, template, page
// or data) has a method Permanent() returning true, which
// notify.IsPermanent recognises; every other error (WeChat busy, quota,
// network, timeout, a misconfigured AppID) may pass on a later try.
//
// The library's Subscribe.Send is not used although it does this: it
// takes no context, so its requests, token fetch included, would leave
// through the library's fallback client, outside this Client's HTTP
// client and deadline (see the package doc). This method does what Send
// does, with the library's message type and HTTP helper, and a context.
func (c *Client) SendSubscribe(ctx context.Context, openID, templateID, page string, data map[string]string) error {
	if openID == "" {
		return permanent(apperr.New(apperr.Invalid, msgBadRecipient), opSubscribe, "empty openid")
	}
	if templateID == "" {
		return permanent(apperr.New(apperr.Internal, msgBadTemplate), opSubscribe, "empty template id")
	}
	msg := &subscribe.Message{
		ToUser:           openID,
		TemplateID:       templateID,
		Page:             page,
		Data:             make(map[string]*subscribe.DataItem, len(data)),
		MiniprogramState: c.state,
		Lang:             "zh_CN",
	}
	for k, v := range data {
		msg.Data[k] = &subscribe.DataItem{Value: v}
	}
	callCtx, cl, cancel := c.begin(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		cl.setToken("")
		err := c.postSubscribe(callCtx, msg)
		if err == nil {
			return nil
		}
		ex := cl.last()
		if attempt == 0 && ex.path == pathSubscribe && tokenRejected(ex.errcode) && ctx.Err() == nil {
			c.dropToken(cl.token())
			continue
		}
		return c.fail(ctx, opSubscribe, cl, err, 0)
	}
}

// postSubscribe is the library's Subscribe.Send with a context.
func (c *Client) postSubscribe(ctx context.Context, msg *subscribe.Message) error {
	token, err := c.mp.GetContext().GetAccessTokenContext(ctx)
	if err != nil {
		return err
	}
	resp, err := util.PostJSONContext(ctx, subscribeSendURL+"?access_token="+url.QueryEscape(token), msg)
	if err != nil {
		return err
	}
	return util.DecodeWithCommonError(resp, "Send")
}

// permanent marks e as an error that sending again cannot cure.
func permanent(e *apperr.Error, o op, what string) *apperr.Error {
	e.Err = &upstreamError{op: o, what: what, permanent: true}
	return e
}
