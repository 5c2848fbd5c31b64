// Package web holds the fiber pieces every HTTP package shares: RFC 9457
// problem+json errors with the one table from error codes to HTTP status,
// middleware (request IDs, timeouts, access logs, metrics), strict JSON
// decoding, and the operations endpoints.
package web

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/idempotency"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/queue"
	"github.com/banhao/banhao/internal/report"
	"github.com/banhao/banhao/internal/review"
	"github.com/banhao/banhao/printing"
)

// ProblemType prefixes a code to make a problem's type URI.
const ProblemType = "urn:banhao:problem:"

// statusOf is the one place that maps error codes to HTTP status.
var statusOf = map[apperr.Code]int{
	apperr.Invalid:         http.StatusBadRequest,
	apperr.NotFound:        http.StatusNotFound,
	apperr.Conflict:        http.StatusConflict,
	apperr.VersionConflict: http.StatusConflict,
	apperr.Unauthorized:    http.StatusUnauthorized,
	apperr.Forbidden:       http.StatusForbidden,
	apperr.TooLarge:        http.StatusRequestEntityTooLarge,
	apperr.Unavailable:     http.StatusServiceUnavailable,
	apperr.Timeout:         http.StatusGatewayTimeout,
	apperr.Internal:        http.StatusInternalServerError,
	apperr.TooManyRequests: http.StatusTooManyRequests,
	apperr.AccountLocked:   http.StatusTooManyRequests,
	codeMethodNotAllowed:   http.StatusMethodNotAllowed,
	codeUnsupportedMedia:   http.StatusUnsupportedMediaType,
	codeHeadersTooLarge:    http.StatusRequestHeaderFieldsTooLarge,

	identity.CodeIDNumberBound: http.StatusConflict,
	identity.CodeAlreadyBound:  http.StatusConflict,
	identity.CodeKioskProof:    http.StatusUnauthorized,
	identity.CodeKioskClock:    http.StatusUnauthorized,
	identity.CodeKioskReplay:   http.StatusUnauthorized,
	identity.CodeKioskRevoked:  http.StatusUnauthorized,
	identity.CodeCardExpired:   http.StatusUnprocessableEntity,
	queue.CodeActiveTicket:     http.StatusConflict,
	queue.CodeQueueEmpty:       http.StatusNotFound,
	queue.CodeCenterClosed:     http.StatusConflict,
	queue.CodeTicketMoved:      http.StatusConflict,
	queue.CodeSlotFull:         http.StatusConflict,
	queue.CodeReactivated:      http.StatusConflict,
	queue.CodeWindowClosed:     http.StatusConflict,
	queue.CodeWindowTaken:      http.StatusConflict,
	queue.CodeAlreadyBooked:    http.StatusConflict,
	queue.CodeSlotUnavailable:  http.StatusUnprocessableEntity,
	queue.CodeAppointmentState: http.StatusConflict,
	queue.CodeBookingSuspended: http.StatusForbidden,
	queue.CodeCheckInEarly:     http.StatusConflict,
	queue.CodeCheckInLate:      http.StatusConflict,
	queue.CodeRealNameRequired: http.StatusForbidden,

	cases.CodeFileTooLarge:     http.StatusRequestEntityTooLarge,
	cases.CodeFileEmpty:        http.StatusUnprocessableEntity,
	cases.CodeFileType:         http.StatusUnsupportedMediaType,
	cases.CodePDFScript:        http.StatusUnprocessableEntity,
	cases.CodeCaseState:        http.StatusConflict,
	cases.CodeMaterialsMissing: http.StatusUnprocessableEntity,
	cases.CodeGuideChanged:     http.StatusConflict,
	cases.CodeMatterRetired:    http.StatusConflict,
	cases.CodeChannel:          http.StatusUnprocessableEntity,
	cases.CodeMaterialLocked:   http.StatusConflict,
	cases.CodeNoticeRepeat:     http.StatusUnprocessableEntity,
	cases.CodeNotPendable:      http.StatusUnprocessableEntity,
	cases.CodePendingMaterials: http.StatusConflict,
	cases.CodeNotLate:          http.StatusConflict,
	deadline.CodeNoWorkingDay:  http.StatusInternalServerError,

	delivery.CodeParcelState:       http.StatusConflict,
	delivery.CodeWrongCourier:      http.StatusForbidden,
	delivery.CodeDeliveryCodeWrong: http.StatusUnprocessableEntity,
	delivery.CodeParcelLocked:      http.StatusLocked,
	delivery.CodeScanMismatch:      http.StatusUnprocessableEntity,
	delivery.CodeNoAddress:         http.StatusConflict,
	delivery.CodeNoCertificate:     http.StatusConflict,
	delivery.CodeNotDeliverable:    http.StatusUnprocessableEntity,
	delivery.CodeCarrierRefused:    http.StatusBadGateway,
	delivery.CodeLabel:             http.StatusUnprocessableEntity,

	printing.CodeMalformed:       http.StatusBadRequest,
	printing.CodeUnknownKey:      http.StatusUnprocessableEntity,
	printing.CodeForged:          http.StatusUnprocessableEntity,
	printing.CodeRevoked:         http.StatusConflict,
	printing.CodePrintState:      http.StatusConflict,
	printing.CodePrinter:         http.StatusServiceUnavailable,
	printing.CodeReprintApproval: http.StatusConflict,
	printing.CodeGlyphMissing:    http.StatusUnprocessableEntity,
	printing.CodeOverflow:        http.StatusUnprocessableEntity,

	review.CodeAlreadyRated:     http.StatusConflict,
	review.CodeEventNotFinished: http.StatusConflict,
	review.CodeNotYourEvent:     http.StatusForbidden,
	review.CodeTaskState:        http.StatusConflict,

	consult.CodeThreadState:      http.StatusConflict,
	consult.CodeNoMatter:         http.StatusUnprocessableEntity,
	complaint.CodeComplaintState: http.StatusConflict,

	idempotency.CodeKeyInvalid: http.StatusBadRequest,
	idempotency.CodeKeyReused:  http.StatusConflict,
	idempotency.CodeInProgress: http.StatusConflict,
	report.CodeNotInSample:     http.StatusUnprocessableEntity,
}

const (
	codeMethodNotAllowed apperr.Code = "method_not_allowed"
	codeUnsupportedMedia apperr.Code = "unsupported_media_type"
	codeHeadersTooLarge  apperr.Code = "headers_too_large"
)

// StatusOf returns the HTTP status for an error code (500 if unknown).
func StatusOf(code apperr.Code) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details document, with banhao's stable
// machine code and per-field errors.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail,omitempty"`
	Code      apperr.Code         `json:"code"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []apperr.FieldError `json:"errors,omitempty"`
}

// titles are short Chinese summaries per code; Detail carries the specifics.
var titles = map[apperr.Code]string{
	apperr.Invalid:         "请求有误",
	apperr.NotFound:        "未找到",
	apperr.Conflict:        "与现有数据冲突",
	apperr.VersionConflict: "版本冲突",
	apperr.Unauthorized:    "未登录或凭证无效",
	apperr.Forbidden:       "无权操作",
	apperr.TooLarge:        "请求内容过大",
	apperr.Unavailable:     "服务暂时不可用",
	apperr.Timeout:         "处理超时",
	apperr.Internal:        "系统内部错误",
	apperr.TooManyRequests: "请求过于频繁",
	apperr.AccountLocked:   "账号已暂时锁定",
	codeMethodNotAllowed:   "不支持该请求方法",
	codeUnsupportedMedia:   "不支持的内容类型",
	codeHeadersTooLarge:    "请求头或地址过长",

	identity.CodeIDNumberBound: "身份证号码已被绑定",
	identity.CodeAlreadyBound:  "账号已实名绑定",
	identity.CodeKioskProof:    "自助终端验证失败",
	identity.CodeKioskClock:    "自助终端时钟不准",
	identity.CodeKioskReplay:   "重复请求",
	identity.CodeKioskRevoked:  "自助终端已停用",
	identity.CodeCardExpired:   "证件不在有效期内",
	queue.CodeActiveTicket:     "已有排队号",
	queue.CodeQueueEmpty:       "暂无等候",
	queue.CodeCenterClosed:     "非办公时间",
	queue.CodeTicketMoved:      "排队号状态已变化",
	queue.CodeSlotFull:         "该时段已约满",
	queue.CodeReactivated:      "过号已恢复过",
	queue.CodeWindowClosed:     "窗口未签入",
	queue.CodeWindowTaken:      "窗口签入状态已变化",
	queue.CodeAlreadyBooked:    "已有预约",
	queue.CodeSlotUnavailable:  "该时段不可预约",
	queue.CodeAppointmentState: "预约状态不允许此操作",
	queue.CodeBookingSuspended: "预约已暂停",
	queue.CodeCheckInEarly:     "签到时间未到",
	queue.CodeCheckInLate:      "已过签到时间",
	queue.CodeRealNameRequired: "需要实名认证",

	cases.CodeFileTooLarge:     "文件过大",
	cases.CodeFileEmpty:        "文件为空",
	cases.CodeFileType:         "文件类型不支持",
	cases.CodePDFScript:        "文件含有脚本",
	cases.CodeCaseState:        "办件状态不允许此操作",
	cases.CodeMaterialsMissing: "缺少必需材料",
	cases.CodeGuideChanged:     "办事指南已更新",
	cases.CodeMatterRetired:    "事项已停止办理",
	cases.CodeChannel:          "该渠道不受理此事项",
	cases.CodeMaterialLocked:   "材料由电子证照提供",
	cases.CodeNoticeRepeat:     "违反一次告知制",
	cases.CodeNotPendable:      "该材料不可容缺",
	cases.CodePendingMaterials: "容缺材料未补齐",
	cases.CodeNotLate:          "无需督办",
	deadline.CodeNoWorkingDay:  "工作日历有误",

	delivery.CodeParcelState:       "寄送状态不允许此操作",
	delivery.CodeWrongCourier:      "不是派给您的件",
	delivery.CodeDeliveryCodeWrong: "签收码不正确",
	delivery.CodeParcelLocked:      "此件已锁定",
	delivery.CodeScanMismatch:      "面单不符",
	delivery.CodeNoAddress:         "尚未填写收件地址",
	delivery.CodeNoCertificate:     "证照尚未签发",
	delivery.CodeNotDeliverable:    "不提供寄送",
	delivery.CodeCarrierRefused:    "快递公司未接受下单",
	delivery.CodeLabel:             "面单无法打印",

	printing.CodeMalformed:       "无法识别的证照二维码",
	printing.CodeUnknownKey:      "签发密钥未公布",
	printing.CodeForged:          "证照签名不符",
	printing.CodeRevoked:         "电子证照已注销",
	printing.CodePrintState:      "现在不能打印",
	printing.CodePrinter:         "打印机不可用",
	printing.CodeReprintApproval: "补打须经工作人员核准",
	printing.CodeGlyphMissing:    "证照含有无法打印的字",
	printing.CodeOverflow:        "证照内容超出版面",

	review.CodeAlreadyRated:     "已经评价过",
	review.CodeEventNotFinished: "尚未办结，不能评价",
	review.CodeNotYourEvent:     "不是本人的办事记录",
	review.CodeTaskState:        "整改任务不在这一步",
	idempotency.CodeKeyInvalid:  "Idempotency-Key 无效",
	idempotency.CodeKeyReused:   "Idempotency-Key 已用于另一个请求",
	idempotency.CodeInProgress:  "同一请求正在处理中",
	report.CodeNotInSample:      "不在抽查样本中",
}

// toAppErr turns any error into an *apperr.Error, translating fiber's own
// errors and context ends. Unknown errors become Internal with the cause
// kept for the log.
func toAppErr(err error) *apperr.Error {
	if e, ok := apperr.As(err); ok {
		return e
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		switch fe.Code {
		case http.StatusNotFound:
			return apperr.New(apperr.NotFound, "没有这个地址")
		case http.StatusMethodNotAllowed:
			return apperr.New(codeMethodNotAllowed, "该地址不支持这种请求方法")
		case http.StatusRequestEntityTooLarge:
			return apperr.New(apperr.TooLarge, "请求内容超过了允许的大小")
		case http.StatusUnsupportedMediaType:
			return apperr.New(codeUnsupportedMedia, "请以 application/json 提交")
		case http.StatusBadRequest:
			return apperr.New(apperr.Invalid, "请求格式有误")
		case http.StatusRequestHeaderFieldsTooLarge:
			return apperr.New(codeHeadersTooLarge, "请求地址或请求头过长")
		case http.StatusRequestTimeout:
			return apperr.New(apperr.Timeout, "请求超时")
		}
		return apperr.Wrap(apperr.Internal, "系统内部错误，请稍后再试", err)
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return apperr.Wrap(apperr.Timeout, "处理超时，请稍后再试", err)
	case errors.Is(err, context.Canceled):
		return apperr.Wrap(apperr.Unavailable, "请求已取消", err)
	}
	return apperr.Wrap(apperr.Internal, "系统内部错误，请稍后再试", err)
}

// ErrorHandler renders every error as problem+json. Only internal faults
// are logged with their cause; clients never see raw error text.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		e := problemOf(c, err)
		status := StatusOf(e.Code)
		reqID := RequestID(c)
		if status >= 500 {
			log.ErrorContext(c.UserContext(), "request failed",
				"request_id", reqID, "method", c.Method(), "route", routePath(c), "code", e.Code, "err", err)
		}
		title := titles[e.Code]
		if title == "" {
			title = e.Message
		}
		p := Problem{
			Type:      ProblemType + string(e.Code),
			Title:     title,
			Status:    status,
			Detail:    e.Message,
			Code:      e.Code,
			Instance:  c.Path(),
			RequestID: reqID,
			Errors:    e.Fields,
		}
		c.Status(status)
		if e.RetryAfter > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
		}
		c.Set(fiber.HeaderContentType, "application/problem+json; charset=utf-8")
		if wantsHTML(c) {
			// A page route that failed still answers the browser in JSON-free Chinese.
			return renderErrorPage(c, p)
		}
		b, merr := c.App().Config().JSONEncoder(p)
		if merr != nil {
			return c.SendString(`{"type":"urn:banhao:problem:internal","title":"系统内部错误","status":500,"code":"internal"}`)
		}
		return c.Send(b)
	}
}
