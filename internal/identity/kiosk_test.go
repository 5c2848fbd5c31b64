package identity

import (
	"strings"
	"testing"
)

func TestParseProof(t *testing.T) {
	id := "ks" + strings.Repeat("a", 28)
	sig := strings.Repeat("0f", 32)
	if _, err := ParseProof(id, "1764000000", "abcdefghijklmnop", sig); err != nil {
		t.Fatalf("valid proof refused: %v", err)
	}
	for name, in := range map[string][4]string{
		"short id":        {"ks12", "1764000000", "abcdefghijklmnop", sig},
		"negative time":   {id, "-5", "abcdefghijklmnop", sig},
		"time not number": {id, "17640000x0", "abcdefghijklmnop", sig},
		"short nonce":     {id, "1764000000", "abc", sig},
		"nonce with dots": {id, "1764000000", "abcdefghijklmnop.", sig},
		"short signature": {id, "1764000000", "abcdefghijklmnop", sig[:62]},
		"non-hex":         {id, "1764000000", "abcdefghijklmnop", strings.Repeat("zz", 32)},
	} {
		if _, err := ParseProof(in[0], in[1], in[2], in[3]); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestSignKioskRequestCoversEveryPart(t *testing.T) {
	base := SignKioskRequest([]byte("secret"), "POST", "/api/v1/kiosk/heartbeat", 1, "n", []byte("{}"))
	for name, got := range map[string]string{
		"secret": SignKioskRequest([]byte("secreT"), "POST", "/api/v1/kiosk/heartbeat", 1, "n", []byte("{}")),
		"method": SignKioskRequest([]byte("secret"), "PUT", "/api/v1/kiosk/heartbeat", 1, "n", []byte("{}")),
		"path":   SignKioskRequest([]byte("secret"), "POST", "/api/v1/kiosk/heartbeat?x=1", 1, "n", []byte("{}")),
		"time":   SignKioskRequest([]byte("secret"), "POST", "/api/v1/kiosk/heartbeat", 2, "n", []byte("{}")),
		"nonce":  SignKioskRequest([]byte("secret"), "POST", "/api/v1/kiosk/heartbeat", 1, "m", []byte("{}")),
		"body":   SignKioskRequest([]byte("secret"), "POST", "/api/v1/kiosk/heartbeat", 1, "n", []byte("{ }")),
	} {
		if got == base {
			t.Errorf("changing the %s does not change the signature", name)
		}
	}
}

func FuzzParseProof(f *testing.F) {
	f.Add("ks"+strings.Repeat("a", 28), "1764000000", "abcdefghijklmnop", strings.Repeat("0f", 32))
	f.Add("", "", "", "")
	f.Add("ks", "99999999999999999999", "\x00", "zz")
	f.Fuzz(func(t *testing.T, id, ts, nonce, sig string) {
		p, err := ParseProof(id, ts, nonce, sig)
		if err != nil {
			return
		}
		if p.KioskID != id || p.Timestamp <= 0 || len(p.Signature) != 32 || len(p.Nonce) < 16 {
			t.Fatalf("accepted a malformed proof: %+v", p)
		}
	})
}
