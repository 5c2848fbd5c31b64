package wechat

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/banhao/banhao/internal/apperr"
)

// op names a Client method in error causes.
type op string

const (
	opLogin     op = "code2session"
	opPhone     op = "getuserphonenumber"
	opSubscribe op = "subscribe send"
)

// User-facing messages.
const (
	msgInvalidLogin   = "微信登录凭证无效或已使用，请重新登录"
	msgInvalidPhone   = "手机号授权凭证无效或已使用，请重新授权"
	msgRiskyAccount   = "该微信账号存在安全风险，暂时无法使用此功能"
	msgTooMany        = "操作过于频繁，请稍后再试"
	msgBusy           = "微信系统繁忙，请稍后重试"
	msgTimeout        = "微信服务响应超时，请稍后重试"
	msgUnreachable    = "暂时无法连接微信服务，请稍后重试"
	msgUnavailable    = "微信服务暂时不可用，请稍后重试"
	msgMisconfigured  = "微信服务配置有误，请联系工作人员"
	msgUnknown        = "微信服务返回异常，请稍后重试"
	msgRequestTimeout = "请求超时，请稍后重试"
	msgRefused        = "用户未订阅或已拒收该通知"
	msgBadRecipient   = "接收人的微信账号无效"
	msgBadTemplate    = "通知模板配置有误，请联系工作人员"
	msgBadPage        = "通知跳转页面配置有误，请联系工作人员"
	msgBadData        = "通知内容不符合模板要求"
)

// rateLimitRetry is how long WeChat asks a user to wait after 45011
// ("API minute-quota reach limit").
const rateLimitRetry = time.Minute

// quotaRetry is the wait after 45009, the daily quota of an API used up:
// far longer than the backoff after a busy or failing WeChat, so that a
// message is not spent on tries that cannot pass before the quota is
// renewed (or raised in the WeChat console).
const quotaRetry = time.Hour

// quotaError is the error for 45009: unavailable, try again after quotaRetry.
func quotaError(cause *upstreamError) *apperr.Error {
	e := apperr.Wrap(apperr.Unavailable, msgUnavailable, cause)
	e.RetryAfter = quotaRetry
	return e
}

// tokenRejected reports whether a WeChat errcode says the access token is
// invalid (40001), expired (42001) or not the latest (40014).
func tokenRejected(errcode int64) bool {
	return errcode == 40001 || errcode == 42001 || errcode == 40014
}

// upstreamError is the cause kept for logs: which call, which endpoint,
// and what WeChat or the network answered. It never holds a URL query, so
// neither the AppSecret nor an access token can appear in it.
type upstreamError struct {
	op   op
	ex   exchange
	what string // set when the answer itself was unusable
	err  error  // transport or context error
	// permanent says that trying again cannot succeed (a subscribe
	// message the user refused, an invalid openid or template).
	permanent bool
}

// Permanent reports whether trying again cannot succeed; notify.IsPermanent
// finds it in the error chain of an apperr.Error of this package.
func (e *upstreamError) Permanent() bool { return e.permanent }

func (e *upstreamError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wechat %s", e.op)
	if e.ex.path != "" {
		fmt.Fprintf(&b, ": %s", e.ex.path)
	}
	switch {
	case e.err != nil:
		fmt.Fprintf(&b, ": %v", e.err)
	case e.ex.status != 0 && e.ex.status != http.StatusOK:
		fmt.Fprintf(&b, ": http status %d", e.ex.status)
	case e.ex.errcode != 0:
		fmt.Fprintf(&b, ": errcode %d (%s)", e.ex.errcode, clip(e.ex.errmsg, 200))
	}
	if e.what != "" {
		fmt.Fprintf(&b, ": %s", e.what)
	}
	return b.String()
}

func (e *upstreamError) Unwrap() error { return e.err }

// clip shortens s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// invalidCode is the error for a code WeChat does not accept (or that we
// refuse to send).
func invalidCode(o op) *apperr.Error {
	msg := msgInvalidLogin
	if o == opPhone {
		msg = msgInvalidPhone
	}
	return &apperr.Error{
		Code:    apperr.Invalid,
		Message: msg,
		Fields:  []apperr.FieldError{{Field: "code", Message: msg}},
	}
}

// unexpected is the error for a 200 answer without the expected data.
func unexpected(o op, ex exchange) *apperr.Error {
	return apperr.Wrap(apperr.Unavailable, msgUnavailable, &upstreamError{op: o, ex: ex, what: "unexpected response"})
}

// fail turns a failed library call into an apperr error. parent is the
// caller's context; cl holds what went over the wire. The library's error
// libErr is only inspected, never kept: its text may hold the AppSecret
// or the access token. errcode is the errcode the library parsed, if any.
func (c *Client) fail(parent context.Context, o op, cl *call, libErr error, errcode int64) error {
	ex := cl.last()
	if err := parent.Err(); err != nil {
		// The caller gave up (request deadline or client gone), not WeChat.
		return apperr.Wrap(apperr.Timeout, msgRequestTimeout, &upstreamError{op: o, ex: ex, err: err})
	}
	if ex.path == "" {
		// No exchange recorded: util.DefaultHTTPClient was replaced, or the
		// library failed before sending. Learn what we can from its error.
		switch {
		case errors.Is(libErr, context.DeadlineExceeded):
			ex.err = context.DeadlineExceeded
		case errcode != 0:
			ex.errcode = errcode
		default:
			var ce *util.CommonError
			if !errors.As(libErr, &ce) {
				return apperr.Wrap(apperr.Internal, msgUnknown, &upstreamError{op: o, what: "library failed before any request was recorded (its error is withheld: it may contain credentials)"})
			}
			ex.errcode, ex.errmsg = ce.ErrCode, ce.ErrMsg
		}
	}
	cause := &upstreamError{op: o, ex: ex, err: ex.err}
	switch {
	case ex.err != nil:
		if isTimeout(ex.err) {
			return apperr.Wrap(apperr.Unavailable, msgTimeout, cause)
		}
		return apperr.Wrap(apperr.Unavailable, msgUnreachable, cause)
	case ex.status != 0 && ex.status != http.StatusOK:
		return apperr.Wrap(apperr.Unavailable, msgUnavailable, cause)
	case ex.errcode != 0:
		return errcodeError(o, ex, cause)
	default:
		cause.what = "unexpected response"
		return apperr.Wrap(apperr.Unavailable, msgUnavailable, cause)
	}
}

// errcodeError maps a WeChat errcode to an apperr error.
func errcodeError(o op, ex exchange, cause *upstreamError) *apperr.Error {
	if ex.path == pathStableToken || ex.path == pathToken {
		// Fetching our access token failed: never the citizen's fault.
		switch ex.errcode {
		case -1:
			return apperr.Wrap(apperr.Unavailable, msgBusy, cause)
		case 45009:
			// Our AppID's daily quota for tokens.
			return quotaError(cause)
		case 45011:
			// Our AppID's per-minute quota for tokens.
			e := apperr.Wrap(apperr.Unavailable, msgUnavailable, cause)
			e.RetryAfter = rateLimitRetry
			return e
		default:
			// 40013 invalid appid, 40125 invalid secret, 40164 IP not
			// whitelisted, 89503 IP awaiting confirmation...
			return apperr.Wrap(apperr.Internal, msgMisconfigured, cause)
		}
	}
	if o == opSubscribe && ex.path == pathSubscribe {
		if e := subscribeError(ex.errcode, cause); e != nil {
			return e
		}
	}
	switch {
	case ex.errcode == 40029 || ex.errcode == 40163:
		e := invalidCode(o)
		e.Err = cause
		return e
	case ex.errcode == 45011:
		e := apperr.Wrap(apperr.TooManyRequests, msgTooMany, cause)
		e.RetryAfter = rateLimitRetry
		return e
	case ex.errcode == 40226:
		return apperr.Wrap(apperr.Forbidden, msgRiskyAccount, cause)
	case ex.errcode == -1:
		return apperr.Wrap(apperr.Unavailable, msgBusy, cause)
	case ex.errcode == 45009:
		// The daily quota of the API.
		return quotaError(cause)
	case tokenRejected(ex.errcode):
		// A token still refused after one refresh.
		return apperr.Wrap(apperr.Unavailable, msgUnavailable, cause)
	case ex.errcode == 40013 || ex.errcode == 40125 || ex.errcode == 41002 || ex.errcode == 41004:
		return apperr.Wrap(apperr.Internal, msgMisconfigured, cause)
	default:
		return apperr.Wrap(apperr.Internal, msgUnknown, cause)
	}
}

// subscribeError maps the errcodes of a subscribe message that sending
// again cannot cure; others (busy, quota, token) get the common mapping.
func subscribeError(errcode int64, cause *upstreamError) *apperr.Error {
	var code apperr.Code
	var msg string
	switch errcode {
	case 43101: // the user refused, or used up the subscriptions of the template
		code, msg = apperr.Forbidden, msgRefused
	case 40003: // touser is not an openid of this mini-program
		code, msg = apperr.Invalid, msgBadRecipient
	case 40037: // template_id is not ours
		code, msg = apperr.Internal, msgBadTemplate
	case 41030: // page does not exist in the released mini-program
		code, msg = apperr.Internal, msgBadPage
	case 47003: // data does not fit the template's keywords
		code, msg = apperr.Invalid, msgBadData
	default:
		return nil
	}
	cause.permanent = true
	return apperr.Wrap(code, msg, cause)
}

// isTimeout reports whether a transport error is a timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
