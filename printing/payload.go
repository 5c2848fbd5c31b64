package printing

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
)

// Verification error codes, part of the API contract: the verify page shows
// each differently.
const (
	// CodeMalformed means the text is not a payload at all: bad base64,
	// truncated, or a structure that does not parse.
	CodeMalformed apperr.Code = "payload_malformed"
	// CodeUnknownKey means the payload names a key id that is not published.
	CodeUnknownKey apperr.Code = "unknown_key"
	// CodeForged means the signature does not match: the payload was
	// altered or not signed by the named key.
	CodeForged apperr.Code = "forged"
)

// Algorithm is the only signature algorithm, as published in PublicKey.
const Algorithm = "Ed25519"

const (
	payloadVersion = 1
	// signContext separates these signatures from anything else the same
	// key might ever sign.
	signContext = "banhao/ecert/v1\x00"
	// maxField bounds each text field in bytes and maxCompact the whole
	// compact form in characters: past that the QR code gets too dense to
	// scan at print size.
	maxField   = 255
	maxCompact = 480
	// maxInput is where Verify stops looking at its input at all.
	maxInput = 2048
)

var (
	kidPattern = regexp.MustCompile(`^[a-z0-9-]{1,16}$`)
	epoch      = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Payload is what a certificate's QR code says about it. Number and Holder
// are masked forms (the payload is printed and may be read by anyone).
type Payload struct {
	CertID string
	Type   string
	Number string
	Holder string
	Issuer string
	// Issued and ValidUntil are dates; a zero ValidUntil means no expiry (长期).
	Issued     time.Time
	ValidUntil time.Time
	// KeyID names the key that signed it; Sign fills it in.
	KeyID string
}

// ExpiredOn reports whether the certificate had expired on day's date (in
// day's location): true when it has an expiry date and day is after it.
func (p Payload) ExpiredOn(day time.Time) bool {
	if p.ValidUntil.IsZero() {
		return false
	}
	return daysOf(day) > daysOf(p.ValidUntil)
}

// PublicKey is one verification key as published at
// /.well-known/banhao-keys.json; Key is the raw 32-byte Ed25519 public key
// in base64url without padding, as in a JWK's "x".
type PublicKey struct {
	KeyID     string `json:"kid"`
	Algorithm string `json:"alg"`
	Key       string `json:"x"`
}

// Keys holds the Ed25519 signing keys; the first one signs. It is safe for
// concurrent use. String hides key material, so printing Keys by mistake
// prints only the key ids.
type Keys struct {
	ids  []string
	priv map[string]ed25519.PrivateKey
}

// String names the key ids, never key material.
func (k *Keys) String() string {
	if k == nil || len(k.ids) == 0 {
		return "printing.Keys(empty)"
	}
	return fmt.Sprintf("printing.Keys(current=%s all=%s)", k.ids[0], strings.Join(k.ids, ","))
}

// GoString is String, so that %#v hides key material too.
func (k *Keys) GoString() string { return k.String() }

// ParseKeys reads signing keys from "kid:base64seed[,kid:base64seed...]":
// key ids of 1 to 16 lower-case letters, digits or hyphens, each unique,
// and 32-byte Ed25519 seeds in standard base64. The first key signs; the
// others only stay published so that certificates signed with them still
// verify. Errors name the entry by position and never echo key material.
func ParseKeys(spec string) (*Keys, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("printing: signing key spec is empty; want kid:base64seed[,kid:base64seed...]")
	}
	entries := strings.Split(spec, ",")
	k := &Keys{priv: make(map[string]ed25519.PrivateKey, len(entries))}
	for i, e := range entries {
		n := i + 1
		kid, b64, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			return nil, fmt.Errorf("printing: signing key entry %d: want kid:base64seed", n)
		}
		if !kidPattern.MatchString(kid) {
			return nil, fmt.Errorf("printing: signing key entry %d: key id must be 1-16 lower-case letters, digits or hyphens", n)
		}
		if _, dup := k.priv[kid]; dup {
			return nil, fmt.Errorf("printing: signing key entry %d: key id %q is used twice", n, kid)
		}
		seed, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("printing: signing key entry %d (%s): seed is not valid standard base64", n, kid)
		}
		if len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("printing: signing key entry %d (%s): seed must be %d bytes, got %d", n, kid, ed25519.SeedSize, len(seed))
		}
		priv := ed25519.NewKeyFromSeed(seed)
		for _, id := range k.ids {
			// A repeated seed is a copy-paste slip during rotation, which
			// would leave the new key id signing with the old key.
			if subtle.ConstantTimeCompare(k.priv[id].Seed(), seed) == 1 {
				return nil, fmt.Errorf("printing: signing key entry %d (%s): same seed as %s", n, kid, id)
			}
		}
		k.ids = append(k.ids, kid)
		k.priv[kid] = priv
	}
	return k, nil
}

// GenerateKeySpec returns a spec of one fresh key named kid, for a
// development server and tests; production keys come from configuration.
func GenerateKeySpec(kid string) (string, error) {
	if !kidPattern.MatchString(kid) {
		return "", fmt.Errorf("printing: key id %q: want 1-16 lower-case letters, digits or hyphens", kid)
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", fmt.Errorf("printing: generate key: %w", err)
	}
	return kid + ":" + base64.StdEncoding.EncodeToString(seed), nil
}

// PublicKeys returns every key's public half, the signing key first.
func (k *Keys) PublicKeys() []PublicKey {
	out := make([]PublicKey, 0, len(k.ids))
	for _, id := range k.ids {
		pub := k.priv[id].Public().(ed25519.PublicKey)
		out = append(out, PublicKey{KeyID: id, Algorithm: Algorithm, Key: base64.RawURLEncoding.EncodeToString(pub)})
	}
	return out
}

// Sign returns the compact signed form of p under the first key; p.KeyID is
// ignored. CertID and Issued are required; text fields must be UTF-8 of at
// most 255 bytes, and ValidUntil may not be before Issued.
func (k *Keys) Sign(p Payload) (string, error) {
	if k == nil || len(k.ids) == 0 {
		return "", apperr.Wrap(apperr.Internal, "签名密钥未配置", errors.New("printing: sign without keys"))
	}
	body, err := encodeBody(p)
	if err != nil {
		return "", err
	}
	kid := k.ids[0]
	msg := make([]byte, 0, 2+len(kid)+binary.MaxVarintLen64+len(body)+ed25519.SignatureSize)
	msg = append(msg, payloadVersion, byte(len(kid)))
	msg = append(msg, kid...)
	msg = binary.AppendUvarint(msg, uint64(len(body)))
	msg = append(msg, body...)
	sig := ed25519.Sign(k.priv[kid], signedBytes(msg))
	compact := base64.RawURLEncoding.EncodeToString(append(msg, sig...))
	if len(compact) > maxCompact {
		return "", apperr.Fields(apperr.FieldError{Field: "payload", Message: fmt.Sprintf("证照信息过长（%d 字符，上限 %d），二维码无法打印", len(compact), maxCompact)})
	}
	return compact, nil
}

func signedBytes(msg []byte) []byte {
	return append([]byte(signContext), msg...)
}

func encodeBody(p Payload) ([]byte, error) {
	var fields []apperr.FieldError
	texts := []struct{ name, value string }{
		{"cert_id", p.CertID}, {"type", p.Type}, {"number", p.Number}, {"holder", p.Holder}, {"issuer", p.Issuer},
	}
	for _, t := range texts {
		switch {
		case !utf8.ValidString(t.value):
			fields = append(fields, apperr.FieldError{Field: t.name, Message: "不是有效的 UTF-8 文本"})
		case len(t.value) > maxField:
			fields = append(fields, apperr.FieldError{Field: t.name, Message: fmt.Sprintf("过长（上限 %d 字节）", maxField)})
		}
	}
	if p.CertID == "" {
		fields = append(fields, apperr.FieldError{Field: "cert_id", Message: "不能为空"})
	}
	if p.Issued.IsZero() {
		fields = append(fields, apperr.FieldError{Field: "issued", Message: "不能为空"})
	}
	issued, until := daysOf(p.Issued), int64(0)
	if !p.ValidUntil.IsZero() {
		if until = daysOf(p.ValidUntil); until < issued {
			fields = append(fields, apperr.FieldError{Field: "valid_until", Message: "早于发证日期"})
		}
	}
	if len(fields) > 0 {
		return nil, apperr.Fields(fields...)
	}
	var b []byte
	for _, t := range texts {
		b = binary.AppendUvarint(b, uint64(len(t.value)))
		b = append(b, t.value...)
	}
	b = binary.AppendVarint(b, issued)
	if p.ValidUntil.IsZero() {
		b = binary.AppendUvarint(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(until-issued)+1)
	}
	return b, nil
}

// daysOf is t's calendar date (in t's location) as days since 1970-01-01.
func daysOf(t time.Time) int64 {
	y, m, d := t.Date()
	return int64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(epoch) / (24 * time.Hour))
}

func dateOf(days int64) time.Time {
	return epoch.AddDate(0, 0, int(days))
}

// Verify checks a compact payload against published public keys and
// returns what it says. It needs no network and no database; whether the
// certificate was revoked since is for the caller to ask the library.
// Errors carry CodeMalformed, CodeUnknownKey or CodeForged.
func Verify(keys []PublicKey, compact string) (Payload, error) {
	compact = strings.TrimSpace(compact)
	if len(compact) > maxInput {
		return Payload{}, malformed("too long")
	}
	raw, err := base64.RawURLEncoding.DecodeString(compact)
	if err != nil {
		return Payload{}, malformed("not base64url")
	}
	r := bytes.NewReader(raw)
	if v, err := r.ReadByte(); err != nil || v != payloadVersion {
		return Payload{}, malformed("unknown version")
	}
	kidLen, err := r.ReadByte()
	if err != nil || kidLen == 0 || int(kidLen) > r.Len() {
		return Payload{}, malformed("bad key id")
	}
	kid := make([]byte, kidLen)
	_, _ = r.Read(kid)
	bodyLen, err := binary.ReadUvarint(r)
	if err != nil || r.Len() < ed25519.SignatureSize || bodyLen != uint64(r.Len()-ed25519.SignatureSize) {
		return Payload{}, malformed("length does not match")
	}
	signedLen := len(raw) - ed25519.SignatureSize
	msg, sig := raw[:signedLen], raw[signedLen:]
	body := msg[signedLen-int(bodyLen):]

	pub, err := findKey(keys, string(kid))
	if err != nil {
		return Payload{}, err
	}
	if !ed25519.Verify(pub, signedBytes(msg), sig) {
		return Payload{}, apperr.New(CodeForged, "证照信息与签名不符，可能被篡改或伪造")
	}
	p, err := decodeBody(body)
	if err != nil {
		// Signed by one of our keys yet unreadable: our fault, not the holder's.
		return Payload{}, malformed(err.Error())
	}
	p.KeyID = string(kid)
	return p, nil
}

func malformed(why string) error {
	return apperr.Wrap(CodeMalformed, "无法识别的证照二维码内容", errors.New("printing: payload "+why))
}

func findKey(keys []PublicKey, kid string) (ed25519.PublicKey, error) {
	for _, k := range keys {
		if k.KeyID != kid {
			continue
		}
		if k.Algorithm != Algorithm {
			return nil, apperr.Wrap(CodeUnknownKey, "签发密钥未公布", fmt.Errorf("printing: key %s has algorithm %q", kid, k.Algorithm))
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.Key)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, apperr.Wrap(CodeUnknownKey, "签发密钥未公布", fmt.Errorf("printing: key %s is not a base64url Ed25519 public key", kid))
		}
		return pub, nil
	}
	return nil, apperr.Wrap(CodeUnknownKey, "签发密钥未公布", fmt.Errorf("printing: no published key %q", kid))
}

func decodeBody(body []byte) (Payload, error) {
	r := bytes.NewReader(body)
	var texts [5]string
	for i := range texts {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return Payload{}, errors.New("bad text field")
		}
		b := make([]byte, n)
		_, _ = r.Read(b)
		if !utf8.Valid(b) {
			return Payload{}, errors.New("text field is not UTF-8")
		}
		texts[i] = string(b)
	}
	issued, err := binary.ReadVarint(r)
	if err != nil {
		return Payload{}, errors.New("bad issue date")
	}
	until, err := binary.ReadUvarint(r)
	if err != nil || r.Len() != 0 {
		return Payload{}, errors.New("bad expiry date")
	}
	p := Payload{CertID: texts[0], Type: texts[1], Number: texts[2], Holder: texts[3], Issuer: texts[4], Issued: dateOf(issued)}
	if until > 0 {
		p.ValidUntil = dateOf(issued + int64(until-1))
	}
	return p, nil
}
