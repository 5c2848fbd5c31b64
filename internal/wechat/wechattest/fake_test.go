package wechattest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/wechat/wechattest"
)

func get(t *testing.T, c *http.Client, url string) map[string]any {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

func loginURL(code string) string {
	return "https://api.weixin.qq.com/sns/jscode2session?appid=" + wechattest.AppID +
		"&secret=" + wechattest.Secret + "&js_code=" + code + "&grant_type=authorization_code"
}

func TestTransportRewritesOnlyWeChat(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCode("c", "o")
	c := f.HTTPClient()

	if m := get(t, c, loginURL("c")); m["openid"] != "o" {
		t.Fatalf("got %v", m)
	}
	_, err := c.Get("https://example.com/sns/jscode2session")
	if err == nil || !strings.Contains(err.Error(), "wechattest: refusing") {
		t.Fatalf("request to another host: %v", err)
	}
	if f.Calls(wechattest.Code2Session) != 1 {
		t.Errorf("calls %d", f.Calls(wechattest.Code2Session))
	}
}

func TestCodesAreSingleUse(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCode("c", "o")
	c := f.HTTPClient()
	for want, code := range []float64{0, 40163} {
		m := get(t, c, loginURL("c"))
		if got, _ := m["errcode"].(float64); got != code {
			t.Errorf("call %d: errcode %v, want %v", want, m["errcode"], code)
		}
	}
	if m := get(t, c, loginURL("unknown")); m["errcode"] != float64(40029) {
		t.Errorf("unknown code: %v", m)
	}
}

func TestFailuresQueueInOrder(t *testing.T) {
	f := wechattest.New(t)
	f.RegisterCode("c", "o")
	f.FailNext(wechattest.Code2Session, 1, -1)
	f.FailNextStatus(wechattest.Code2Session, 1, http.StatusBadGateway)
	c := f.HTTPClient()

	if m := get(t, c, loginURL("c")); m["errcode"] != float64(-1) {
		t.Fatalf("first: %v", m)
	}
	resp, err := c.Get(loginURL("c"))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("second: status %d", resp.StatusCode)
	}
	// Injected failures do not use up the code.
	if m := get(t, c, loginURL("c")); m["openid"] != "o" {
		t.Fatalf("third: %v", m)
	}
	if n := f.Calls(wechattest.Code2Session); n != 3 {
		t.Errorf("calls %d", n)
	}
}

func TestLatencyAndClose(t *testing.T) {
	f := wechattest.Start()
	f.SetLatency(wechattest.AllEndpoints, time.Hour)
	done := make(chan error, 1)
	go func() {
		_, err := f.HTTPClient().Get(loginURL("c"))
		done <- err
	}()
	for f.Calls(wechattest.Code2Session) == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	f.Close()
	<-done
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a request waiting out its latency", d)
	}
}
