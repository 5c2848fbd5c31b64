package printing

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/banhao/banhao/internal/apperr"
)

// seedSpec returns a fixed key entry "kid:<seed>", distinct per kid, so
// that failures reproduce.
func seedSpec(kid string) string {
	sum := sha256.Sum256([]byte("banhao printing test key " + kid))
	return kid + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

func mustKeys(t testing.TB, spec string) *Keys {
	t.Helper()
	k, err := ParseKeys(spec)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return k
}

var shanghai = time.FixedZone("CST", 8*3600)

// samplePayload is a real-estate certificate as the service would sign it:
// an "ec"+28 hex id, masked number and name.
func samplePayload() Payload {
	return Payload{
		CertID: "ec019c2a4b5d6e7f0011223344556677",
		Type:   "不动产权证书",
		Number: "鲁(2026)惠民县不动产权第0***234号",
		Holder: "王*喆",
		Issuer: "惠民县自然资源局",
		Issued: time.Date(2026, 3, 5, 0, 0, 0, 0, shanghai),
		// Late in the evening in Shanghai is still the 4th there, though
		// it is the 4th in UTC too; the date is what counts.
		ValidUntil: time.Date(2036, 3, 4, 23, 30, 0, 0, shanghai),
	}
}

// tamper decodes a compact payload, lets fn change the raw bytes and
// encodes it again, so that a test can alter exactly one byte.
func tamper(t *testing.T, compact string, fn func(raw []byte) []byte) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(compact)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(fn(raw))
}

// flipIn alters one byte of the first occurrence of s in the raw payload.
func flipIn(t *testing.T, s string) func([]byte) []byte {
	return func(raw []byte) []byte {
		i := strings.Index(string(raw), s)
		if i < 0 {
			t.Fatalf("%q not in payload", s)
		}
		raw[i+len(s)-1] ^= 0x01
		return raw
	}
}

func TestSignVerify(t *testing.T) {
	oldKeys := mustKeys(t, seedSpec("k2025"))
	keys := mustKeys(t, seedSpec("k2026")+","+seedSpec("k2025")) // rotated: k2026 signs, k2025 verifies
	p := samplePayload()
	compact, err := keys.Sign(p)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	signedByOld, err := oldKeys.Sign(p)
	if err != nil {
		t.Fatalf("Sign with old key: %v", err)
	}
	// A different key that calls itself k2026.
	impostor, err := mustKeys(t, "k2026:"+strings.SplitN(seedSpec("other"), ":", 2)[1]).Sign(p)
	if err != nil {
		t.Fatalf("Sign with impostor: %v", err)
	}

	tests := []struct {
		name    string
		keys    []PublicKey
		compact string
		want    apperr.Code // "" for valid
		wantKid string
	}{
		{name: "valid", keys: keys.PublicKeys(), compact: compact, wantKid: "k2026"},
		{name: "valid with surrounding space", keys: keys.PublicKeys(), compact: " " + compact + "\n", wantKid: "k2026"},
		{name: "old key still verifies after rotation", keys: keys.PublicKeys(), compact: signedByOld, wantKid: "k2025"},
		{name: "altered holder byte", keys: keys.PublicKeys(), compact: tamper(t, compact, flipIn(t, "王*")), want: CodeForged},
		{name: "altered cert id byte", keys: keys.PublicKeys(), compact: tamper(t, compact, flipIn(t, "ec019c")), want: CodeForged},
		{name: "altered date byte", keys: keys.PublicKeys(), compact: tamper(t, compact, func(raw []byte) []byte {
			raw[len(raw)-ed25519Size-2] ^= 0x02 // inside the expiry uvarint
			return raw
		}), want: CodeForged},
		{name: "altered signature", keys: keys.PublicKeys(), compact: tamper(t, compact, func(raw []byte) []byte {
			raw[len(raw)-1] ^= 0x80
			return raw
		}), want: CodeForged},
		{name: "right kid, wrong key", keys: keys.PublicKeys(), compact: impostor, want: CodeForged},
		{name: "truncated base64", keys: keys.PublicKeys(), compact: compact[:len(compact)-4], want: CodeMalformed},
		{name: "truncated to one char over a quantum", keys: keys.PublicKeys(), compact: compact[:len(compact)-1], want: CodeMalformed},
		{name: "extra bytes", keys: keys.PublicKeys(), compact: tamper(t, compact, func(raw []byte) []byte { return append(raw, 0) }), want: CodeMalformed},
		{name: "not base64", keys: keys.PublicKeys(), compact: "证照!!", want: CodeMalformed},
		{name: "empty", keys: keys.PublicKeys(), compact: "", want: CodeMalformed},
		{name: "standard base64 padding", keys: keys.PublicKeys(), compact: compact + "==", want: CodeMalformed},
		{name: "unknown version", keys: keys.PublicKeys(), compact: tamper(t, compact, func(raw []byte) []byte { raw[0] = 2; return raw }), want: CodeMalformed},
		{name: "huge input", keys: keys.PublicKeys(), compact: strings.Repeat("A", 5000), want: CodeMalformed},
		{name: "key id not published", keys: oldKeys.PublicKeys(), compact: compact, want: CodeUnknownKey},
		{name: "altered key id", keys: keys.PublicKeys(), compact: tamper(t, compact, flipIn(t, "k2026")), want: CodeUnknownKey},
		{name: "no keys at all", keys: nil, compact: compact, want: CodeUnknownKey},
		{name: "published key with another algorithm", keys: []PublicKey{{KeyID: "k2026", Algorithm: "ES256", Key: keys.PublicKeys()[0].Key}}, compact: compact, want: CodeUnknownKey},
		{name: "published key garbled", keys: []PublicKey{{KeyID: "k2026", Algorithm: Algorithm, Key: "abc"}}, compact: compact, want: CodeUnknownKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.keys, tt.compact)
			if tt.want != "" {
				if !apperr.Is(err, tt.want) {
					t.Fatalf("Verify: err = %v, want code %s", err, tt.want)
				}
				if got != (Payload{}) {
					t.Errorf("Verify returned a payload with an error: %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			want := p
			want.Issued = time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
			want.ValidUntil = time.Date(2036, 3, 4, 0, 0, 0, 0, time.UTC)
			want.KeyID = tt.wantKid
			if got != want {
				t.Errorf("Verify =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

const ed25519Size = 64

// TestPayloadSize records how long typical payloads are and which QR
// version carries them, and holds them under the limits the layout
// assumes.
func TestPayloadSize(t *testing.T) {
	keys := mustKeys(t, seedSpec("k2026"))
	noExpiry := samplePayload()
	noExpiry.ValidUntil = time.Time{}
	licence := Payload{CertID: "ec019c2a4b5d6e7f0011223344556677", Type: "营业执照", Number: "91371621MA3C****01", Holder: "李*", Issuer: "惠民县行政审批服务局", Issued: time.Date(2022, 7, 15, 0, 0, 0, 0, shanghai)}
	for _, tt := range []struct {
		name string
		p    Payload
	}{{"real estate", samplePayload()}, {"no expiry", noExpiry}, {"business licence", licence}} {
		t.Run(tt.name, func(t *testing.T) {
			compact, err := keys.Sign(tt.p)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			url := "https://zwfw.example.gov.cn/verify?payload=" + compact
			q, err := qrcode.New(url, qrcode.Medium)
			if err != nil {
				t.Fatalf("qrcode: %v", err)
			}
			t.Logf("payload %d chars; with a verify URL %d chars, QR version %d (%d modules, %.2f mm each at %g mm)",
				len(compact), len(url), q.VersionNumber, 17+4*q.VersionNumber, certQRSide/float64(17+4*q.VersionNumber), certQRSide)
			if len(compact) > 300 || q.VersionNumber > 14 {
				t.Errorf("payload %d chars, QR version %d: too dense for %g mm", len(compact), q.VersionNumber, certQRSide)
			}
			if strings.ContainsAny(compact, "+/=") {
				t.Errorf("payload %q is not URL-safe", compact)
			}
		})
	}
}

func TestSignRejects(t *testing.T) {
	keys := mustKeys(t, seedSpec("k1"))
	tests := []struct {
		name  string
		edit  func(p *Payload)
		field string
	}{
		{"no cert id", func(p *Payload) { p.CertID = "" }, "cert_id"},
		{"no issue date", func(p *Payload) { p.Issued = time.Time{} }, "issued"},
		{"expires before issue", func(p *Payload) { p.ValidUntil = p.Issued.AddDate(0, 0, -1) }, "valid_until"},
		{"field too long", func(p *Payload) { p.Issuer = strings.Repeat("局", 100) }, "issuer"},
		{"not UTF-8", func(p *Payload) { p.Holder = "\xff" }, "holder"},
		{"whole payload too long", func(p *Payload) {
			p.Type = strings.Repeat("证", 80)
			p.Issuer = strings.Repeat("局", 80)
		}, "payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := samplePayload()
			tt.edit(&p)
			_, err := keys.Sign(p)
			e, ok := apperr.As(err)
			if !ok || e.Code != apperr.Invalid {
				t.Fatalf("Sign: err = %v, want invalid_input", err)
			}
			if len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Errorf("Sign: fields = %+v, want %s first", e.Fields, tt.field)
			}
		})
	}
	if _, err := (&Keys{}).Sign(samplePayload()); err == nil {
		t.Error("Sign with no keys succeeded")
	}
}

func TestParseKeys(t *testing.T) {
	good := seedSpec("a")
	seed := strings.SplitN(good, ":", 2)[1]
	tests := []struct {
		name, spec, wantErr string
		wantIDs             []string
	}{
		{name: "one", spec: good, wantIDs: []string{"a"}},
		{name: "two with spaces and a hyphen", spec: " k-2026:" + seed + " ,\n" + seedSpec("k-2025") + "\n", wantIDs: []string{"k-2026", "k-2025"}},
		{name: "empty", spec: " ", wantErr: "empty"},
		{name: "no colon", spec: "abc", wantErr: "entry 1"},
		{name: "bad kid", spec: "K1:" + seed, wantErr: "key id"},
		{name: "kid too long", spec: "abcdefghijklmnopq:" + seed, wantErr: "key id"},
		{name: "duplicate kid", spec: good + "," + good, wantErr: "used twice"},
		{name: "same seed twice", spec: good + ",b:" + seed, wantErr: "same seed"},
		{name: "bad base64", spec: "a:%%%", wantErr: "base64"},
		{name: "short seed", spec: "a:" + base64.StdEncoding.EncodeToString([]byte("short")), wantErr: "32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := ParseKeys(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseKeys: err = %v, want one mentioning %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), seed) {
					t.Errorf("error echoes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			var ids []string
			for _, pk := range k.PublicKeys() {
				ids = append(ids, pk.KeyID)
				if pk.Algorithm != Algorithm {
					t.Errorf("algorithm %q", pk.Algorithm)
				}
				if raw, err := base64.RawURLEncoding.DecodeString(pk.Key); err != nil || len(raw) != 32 {
					t.Errorf("public key %q is not 32 bytes of base64url", pk.Key)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("key ids %v, want %v", ids, tt.wantIDs)
			}
			for _, s := range []string{k.String(), fmt.Sprintf("%v %+v %#v", k, k, k)} {
				if strings.Contains(s, seed) {
					t.Errorf("printing Keys shows key material: %s", s)
				}
			}
		})
	}
}

func TestGenerateKeySpec(t *testing.T) {
	spec, err := GenerateKeySpec("dev")
	if err != nil {
		t.Fatalf("GenerateKeySpec: %v", err)
	}
	keys := mustKeys(t, spec)
	compact, err := keys.Sign(samplePayload())
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	if _, err := Verify(keys.PublicKeys(), compact); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	other, _ := GenerateKeySpec("dev")
	if other == spec {
		t.Error("two generated keys are equal")
	}
	if _, err := GenerateKeySpec("Dev!"); err == nil {
		t.Error("GenerateKeySpec accepted a bad key id")
	}
}

func TestPublicKeysJSON(t *testing.T) {
	keys := mustKeys(t, seedSpec("k2"))
	b, err := json.Marshal(keys.PublicKeys())
	if err != nil {
		t.Fatal(err)
	}
	var got []map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0]["kid"] != "k2" || got[0]["alg"] != "Ed25519" || len(got[0]["x"]) != 43 {
		t.Errorf("published keys = %s", b)
	}
}

func TestExpiredOn(t *testing.T) {
	p := Payload{ValidUntil: time.Date(2036, 3, 4, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		day  time.Time
		want bool
	}{
		{time.Date(2036, 3, 4, 23, 59, 0, 0, shanghai), false}, // the last valid day, late, in Shanghai
		{time.Date(2036, 3, 5, 0, 1, 0, 0, shanghai), true},
		{time.Date(2030, 1, 1, 0, 0, 0, 0, shanghai), false},
	}
	for _, tt := range tests {
		if got := p.ExpiredOn(tt.day); got != tt.want {
			t.Errorf("ExpiredOn(%v) = %v, want %v", tt.day, got, tt.want)
		}
	}
	if (Payload{}).ExpiredOn(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Error("a certificate without expiry expired")
	}
}

// BenchmarkSign is the signing of one certificate's QR payload.
func BenchmarkSign(b *testing.B) {
	k := mustKeys(b, seedSpec("k1"))
	p := samplePayload()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify is what the verify page does with a scanned payload
// before it looks the certificate up.
func BenchmarkVerify(b *testing.B) {
	k := mustKeys(b, seedSpec("k1"))
	compact, err := k.Sign(samplePayload())
	if err != nil {
		b.Fatal(err)
	}
	pub := k.PublicKeys()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(pub, compact); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQRCode is the encoding of a verify link into the QR matrix
// the certificate draws.
func BenchmarkQRCode(b *testing.B) {
	k := mustKeys(b, seedSpec("k1"))
	compact, err := k.Sign(samplePayload())
	if err != nil {
		b.Fatal(err)
	}
	link := "https://zwfw.example.gov.cn/verify?payload=" + compact
	b.ReportAllocs()
	for b.Loop() {
		if _, err := qrcode.New(link, qrcode.Medium); err != nil {
			b.Fatal(err)
		}
	}
}
