package wechat

import (
	"context"
	"fmt"
	"maps"

	"github.com/banhao/banhao/internal/notify"
)

// Template is the subscribe message template of one notify.Kind, as
// chosen in the mini-program's admin console (订阅消息 → 我的模板).
type Template struct {
	// ID is the template's ID (priTmplId).
	ID string
	// Fields maps the keys of a message's Data to the template's
	// keywords, e.g. "number" → "character_string1", "window" → "thing2":
	// WeChat fixes keyword names per template, producers should not know
	// them. When Fields is nil, Data is sent as it is; otherwise only the
	// mapped keys are sent.
	Fields map[string]string
}

// Subscriber is the notify.Sender of the outbox: it sends a message as
// the subscribe message of its kind's template.
type Subscriber struct {
	c         *Client
	templates map[notify.Kind]Template
}

var _ notify.Sender = (*Subscriber)(nil)

// NewSubscriber returns the sender of c with a template per kind. A kind
// without a template (or with an empty ID) is not sent: its messages fail
// for good, with a reason that names the kind.
func NewSubscriber(c *Client, templates map[notify.Kind]Template) *Subscriber {
	own := make(map[notify.Kind]Template, len(templates))
	for k, t := range templates {
		if t.Fields != nil {
			t.Fields = maps.Clone(t.Fields)
		}
		own[k] = t
	}
	return &Subscriber{c: c, templates: own}
}

// errNoTemplate is the failure of a kind without a template.
type errNoTemplate struct{ kind notify.Kind }

func (e errNoTemplate) Error() string {
	return fmt.Sprintf("wechat: no subscribe message template is configured for kind %q", string(e.kind))
}

// Permanent implements notify.IsPermanent's test: a retry uses the same
// configuration.
func (errNoTemplate) Permanent() bool { return true }

// SendSubscribe implements notify.Sender.
func (s *Subscriber) SendSubscribe(ctx context.Context, openID string, kind notify.Kind, data map[string]string, page string) error {
	t, ok := s.templates[kind]
	if !ok || t.ID == "" {
		return errNoTemplate{kind: kind}
	}
	if t.Fields != nil {
		mapped := make(map[string]string, len(t.Fields))
		for from, to := range t.Fields {
			if v, ok := data[from]; ok {
				mapped[to] = v
			}
		}
		data = mapped
	}
	return s.c.SendSubscribe(ctx, openID, t.ID, page, data)
}
