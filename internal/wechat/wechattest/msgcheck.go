package wechattest

import (
	"encoding/json"
	"net/http"
	"strings"
)

// MsgCheck is WeChat's text content check, msgSecCheck v2 (POST JSON).
const MsgCheck Endpoint = "/wxa/msg_sec_check"

// msgChecks is what the fake's content check knows: the words that make a
// text risky, and the texts it was asked about.
type msgChecks struct {
	risky   []string
	checked []CheckedText
}

// CheckedText is a text the content check was asked about.
type CheckedText struct {
	OpenID  string
	Scene   int
	Content string
	Version int
}

// RiskyWords makes the content check answer "risky" (label 20001) for
// any text containing one of words; every other text passes.
func (f *Fake) RiskyWords(words ...string) {
	f.mu.Lock()
	f.msgChecks.risky = append(f.msgChecks.risky, words...)
	f.mu.Unlock()
}

// Checked returns the texts the content check was asked about, in order.
func (f *Fake) Checked() []CheckedText {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]CheckedText(nil), f.msgChecks.checked...)
}

func (f *Fake) msgCheck(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("access_token")
	var req struct {
		OpenID  string `json:"openid"`
		Scene   int    `json:"scene"`
		Content string `json:"content"`
		Version int    `json:"version"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeErr(w, 47001, "data format error")
		return
	}
	f.mu.Lock()
	valid := tok != "" && tok == f.token
	risky := false
	if valid {
		f.msgChecks.checked = append(f.msgChecks.checked, CheckedText{OpenID: req.OpenID, Scene: req.Scene, Content: req.Content, Version: req.Version})
		for _, word := range f.msgChecks.risky {
			if strings.Contains(req.Content, word) {
				risky = true
			}
		}
	}
	f.mu.Unlock()
	switch {
	case tok == "":
		writeErr(w, 41001, "access_token missing")
	case !valid:
		writeErr(w, 40001, "invalid credential, access_token is invalid or not latest")
	case req.Version != 2 || req.Scene < 1 || req.Scene > 4 || req.Content == "":
		writeErr(w, 47001, "data format error")
	case !openIDPattern.MatchString(req.OpenID):
		writeErr(w, 40003, "invalid openid")
	default:
		suggest, label := "pass", 100
		if risky {
			suggest, label = "risky", 20001
		}
		writeJSON(w, map[string]any{
			"errcode": 0, "errmsg": "ok", "trace_id": randomHex(8),
			"result": map[string]any{"suggest": suggest, "label": label},
			"detail": []map[string]any{{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label, "prob": 90}},
		})
	}
}
