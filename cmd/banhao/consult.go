package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/calendar"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/complaint"
	"github.com/banhao/banhao/internal/consult"
	"github.com/banhao/banhao/internal/deadline"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/seal"
	"github.com/banhao/banhao/internal/wechat"
)

// consultRules are the consultation and complaint limits a deployment
// may tune.
type consultRules struct {
	// ReplyDays is the first-reply limit of a consultation in working
	// days (BANHAO_CONSULT_REPLY_DAYS, default 1).
	ReplyDays int
	// QuietDays closes an answered consultation left alone this many
	// days (BANHAO_CONSULT_QUIET_DAYS, default 7).
	QuietDays int
	// GeneralSector is the 综合 desk's sector code for questions about no
	// matter (BANHAO_CONSULT_SECTOR; default: the center's 综合便民 sector).
	GeneralSector string
	// ComplaintDays is the answer limit of a complaint in working days
	// (BANHAO_COMPLAINT_DAYS, default 5).
	ComplaintDays int
	// WeChatAPI is where WeChat's API is reached (BANHAO_WECHAT_API_URL;
	// default api.weixin.qq.com): an egress proxy, or a test's fake.
	WeChatAPI string
}

// parseConsultRules reads consultRules from the environment.
func parseConsultRules(getenv func(string) string) (consultRules, error) {
	r := consultRules{ReplyDays: 1, QuietDays: 7, ComplaintDays: 5,
		GeneralSector: getenv("BANHAO_CONSULT_SECTOR"), WeChatAPI: getenv("BANHAO_WECHAT_API_URL")}
	for _, v := range []struct {
		name     string
		to       *int
		min, max int
	}{
		{"BANHAO_CONSULT_REPLY_DAYS", &r.ReplyDays, 1, 30},
		{"BANHAO_CONSULT_QUIET_DAYS", &r.QuietDays, 1, 365},
		{"BANHAO_COMPLAINT_DAYS", &r.ComplaintDays, 1, 60},
	} {
		s := getenv(v.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < v.min || n > v.max {
			return r, fmt.Errorf("%s must be a whole number from %d to %d, not %q", v.name, v.min, v.max, s)
		}
		*v.to = n
	}
	if r.WeChatAPI != "" {
		if _, err := wechat.RedirectedClient(r.WeChatAPI, 0); err != nil {
			return r, fmt.Errorf("BANHAO_WECHAT_API_URL: %w", err)
		}
	}
	return r, nil
}

// contentCheck is consultation's content check on WeChat: it finds the
// citizen's openid and asks msgSecCheck.
type contentCheck struct {
	wx         *wechat.Client
	recipients recipients
}

var _ consult.ContentChecker = contentCheck{}

func (c contentCheck) Check(ctx context.Context, citizen, text string) (bool, error) {
	openID, err := c.recipients.OpenID(ctx, citizen)
	if err != nil {
		return false, err
	}
	return c.wx.MsgCheck(ctx, openID, text)
}

// newConsultServices builds consultation (with WeChat's content check
// when WeChat is configured, and FAQs feeding the catalog's search) and
// complaints (hotline callers sealed with keys).
func newConsultServices(cfg config, st *stores, keys *seal.Keyring, cat *catalog.Service, wx *wechat.Client,
	al *audit.Log, log *slog.Logger, now func() time.Time, cals *calendar.Service, outbox *notify.Outbox) (*consult.Service, *complaint.Service) {
	book := func() deadline.Calendar { return cals.Book() }
	var checker consult.ContentChecker
	if wx != nil {
		checker = contentCheck{wx: wx, recipients: recipients{st.citizens}}
	}
	cs := consult.NewService(st.consult, cat, al, log, now, consult.Config{
		Calendar: book, ReplyDays: cfg.Consult.ReplyDays, QuietDays: cfg.Consult.QuietDays,
		GeneralSector: cfg.Consult.GeneralSector, Checker: checker, Reindexer: cat, Notifier: outbox,
	})
	cat.SetSearchText(cs.SearchText)
	cp := complaint.NewService(st.complaints, cat, st.cases, keys, al, log, now, complaint.Config{
		Calendar: book, Days: cfg.Consult.ComplaintDays, Notifier: outbox,
	})
	return cs, cp
}
