package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/notify"
	"github.com/banhao/banhao/internal/wechat"
)

// newWeChat returns the WeChat client for mini-program logins and
// subscribe messages, or nil when no AppID is configured (then only
// development logins work, and notifications wait in the outbox).
func newWeChat(cfg config) (*wechat.Client, error) {
	if cfg.WeChatAppID == "" {
		return nil, nil
	}
	wcfg := wechat.Config{AppID: cfg.WeChatAppID, Secret: cfg.WeChatSecret}
	if cfg.Consult.WeChatAPI != "" {
		hc, err := wechat.RedirectedClient(cfg.Consult.WeChatAPI, 0)
		if err != nil {
			return nil, fmt.Errorf("wechat: %w", err)
		}
		wcfg.HTTPClient = hc
	}
	wc, err := wechat.New(wcfg)
	if err != nil {
		return nil, fmt.Errorf("wechat: %w", err)
	}
	return wc, nil
}

// templateConfig is one entry of BANHAO_WECHAT_TEMPLATES.
type templateConfig struct {
	ID     string            `json:"id"`
	Fields map[string]string `json:"fields"`
}

// parseTemplates reads BANHAO_WECHAT_TEMPLATES: a JSON object from message
// kind to the subscribe-message template chosen for it in the WeChat
// console, with the mapping from our fields to the template's keywords:
//
//	{"queue_call": {"id": "Abc…", "fields": {"number": "character_string1", "window": "thing2"}}}
func parseTemplates(s string) (map[notify.Kind]wechat.Template, error) {
	out := map[notify.Kind]wechat.Template{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	var raw map[string]templateConfig
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("BANHAO_WECHAT_TEMPLATES is not a JSON object of templates: %v", err)
	}
	for k, t := range raw {
		kind := notify.Kind(k)
		if !kind.Known() {
			return nil, fmt.Errorf("BANHAO_WECHAT_TEMPLATES: unknown message kind %q", k)
		}
		if t.ID == "" {
			return nil, fmt.Errorf("BANHAO_WECHAT_TEMPLATES: %s has no template id", k)
		}
		out[kind] = wechat.Template{ID: t.ID, Fields: t.Fields}
	}
	return out, nil
}

// recipients finds the mini-program account of a message's recipient:
// "citizen:<id>", or "id:<blind index>" for a person known by ID card
// who bound the same number in the mini-program.
type recipients struct{ citizens identity.CitizenStore }

func (r recipients) OpenID(ctx context.Context, to string) (string, error) {
	var ct identity.Citizen
	var err error
	switch {
	case strings.HasPrefix(to, "citizen:"):
		ct, err = r.citizens.GetCitizen(ctx, strings.TrimPrefix(to, "citizen:"))
	case strings.HasPrefix(to, "id:"):
		ct, err = r.citizens.FindCitizenByIDIndex(ctx, strings.TrimPrefix(to, "id:"))
	default:
		return "", apperr.New(apperr.NotFound, "unknown recipient kind")
	}
	if err != nil {
		return "", err
	}
	return ct.OpenID, nil
}
