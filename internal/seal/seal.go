// Package seal keeps personal data (ID numbers, phone numbers, names,
// addresses) encrypted at rest and findable without decrypting it.
//
// A Keyring holds one or more 32-byte master keys, each named by a short key
// id. Seal encrypts a value with AES-256-GCM under the last key of the ring
// and binds it to a context string such as "citizen/0193…/id_number": the
// context is the GCM additional data, so a sealed value copied into another
// record or field does not open. The sealed text form is
//
//	v1.<kid>.<base64url-no-padding(nonce || ciphertext || tag)>
//
// Rotation appends a key: the new last key seals new values, every key in
// the ring still opens old ones, and NeedsRotation tells a background job
// which values to re-seal. Keys are never removed while data sealed under
// them remains.
//
// BlindIndex is a keyed hash (HMAC-SHA256) for equality lookups, e.g. "find
// the citizen with this ID number". Its key is derived from the FIRST key of
// the ring, so it does not change when keys are appended. It is
// deterministic by design: whoever can read the store learns which records
// share a value, but without the key cannot test guesses, which matters for
// small value spaces such as phone numbers. Callers normalise values
// (upper-case X, 11-digit mobile) before indexing them.
//
// Nothing in this package logs, and no error or String method includes
// plaintext, sealed payloads or key material. Callers must keep to the same
// rule: log a record's id, never the value, and never wrap an Open error with
// the sealed text.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"golang.org/x/crypto/hkdf"
)

// KeySize is the size in bytes of a master key.
const KeySize = 32

const (
	version  = "v1"
	nonceLen = 12
	tagLen   = 16

	// HKDF info strings: one per derived key purpose, so that the
	// encryption key and the index key are independent even though the
	// first master key feeds both.
	infoSeal  = "banhao/seal/v1 aes-256-gcm"
	infoIndex = "banhao/seal/v1 blind-index hmac-sha256"

	// maxKeyFile bounds what LoadOrCreateKeyFile reads: a ring of a few
	// hundred keys at most.
	maxKeyFile = 64 << 10
)

var kidPattern = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// Errors returned by Open. They carry no part of the sealed value.
var (
	// ErrMalformed means the text is not a sealed value of a known version.
	ErrMalformed = errors.New("seal: malformed sealed value")
	// ErrUnknownKey means the value names a key id that is not in the ring.
	ErrUnknownKey = errors.New("seal: unknown key id")
	// ErrAuth means decryption failed: wrong context, wrong key or tampering.
	ErrAuth = errors.New("seal: authentication failed")
)

// Keyring holds the master keys' derived keys. It is safe for concurrent
// use. Its key material sits behind a pointer and String hides it, so that
// printing a Keyring by mistake does not print keys.
type Keyring struct {
	s *secrets
}

type secrets struct {
	ids   []string // ring order; the last one seals
	aeads map[string]cipher.AEAD
	index []byte // HMAC key derived from the first master key
}

// String names the key ids and the current key, never key material.
func (k *Keyring) String() string {
	if k == nil || k.s == nil {
		return "seal.Keyring(empty)"
	}
	return fmt.Sprintf("seal.Keyring(keys=%s current=%s)", strings.Join(k.s.ids, ","), k.CurrentKeyID())
}

// GoString is String, so that %#v hides key material too.
func (k *Keyring) GoString() string { return k.String() }

type masterKey struct {
	id  string
	key []byte
}

func newKeyring(keys []masterKey) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: keyring has no keys")
	}
	s := &secrets{aeads: make(map[string]cipher.AEAD, len(keys))}
	for i, mk := range keys {
		encKey, err := derive(mk.key, infoSeal)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(encKey)
		if err != nil {
			return nil, fmt.Errorf("seal: key %s: %w", mk.id, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: key %s: %w", mk.id, err)
		}
		s.ids = append(s.ids, mk.id)
		s.aeads[mk.id] = aead
		if i == 0 {
			if s.index, err = derive(mk.key, infoIndex); err != nil {
				return nil, err
			}
		}
	}
	return &Keyring{s: s}, nil
}

func derive(master []byte, info string) ([]byte, error) {
	out := make([]byte, KeySize)
	if _, err := io.ReadFull(hkdf.New(sha256.New, master, nil, []byte(info)), out); err != nil {
		return nil, fmt.Errorf("seal: derive key: %w", err)
	}
	return out, nil
}

// ParseKeyring reads a ring from "kid:base64key[,kid:base64key...]": key ids
// of 1 to 16 lower-case letters or digits, each unique, and keys in standard
// base64 of exactly 32 bytes. The last key seals new values; the first one
// also keys the blind index, so rotation appends and never reorders. Spaces
// and newlines around entries are ignored. Errors name the entry by position
// and never echo key material.
func ParseKeyring(spec string) (*Keyring, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("seal: key spec is empty; want kid:base64key[,kid:base64key...]")
	}
	entries := strings.Split(spec, ",")
	keys := make([]masterKey, 0, len(entries))
	seen := make(map[string]int, len(entries))
	for i, e := range entries {
		n := i + 1
		kid, b64, ok := strings.Cut(strings.TrimSpace(e), ":")
		if !ok {
			return nil, fmt.Errorf("seal: key entry %d: want kid:base64key", n)
		}
		if !kidPattern.MatchString(kid) {
			return nil, fmt.Errorf("seal: key entry %d: key id must be 1-16 lower-case letters or digits", n)
		}
		if prev, dup := seen[kid]; dup {
			return nil, fmt.Errorf("seal: key entry %d: key id %q already used by entry %d", n, kid, prev)
		}
		seen[kid] = n
		if b64 == "" {
			return nil, fmt.Errorf("seal: key entry %d (%s): key is empty", n, kid)
		}
		key, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			// The decoder's error names an offset only, but say less still.
			return nil, fmt.Errorf("seal: key entry %d (%s): key is not valid standard base64", n, kid)
		}
		if len(key) != KeySize {
			return nil, fmt.Errorf("seal: key entry %d (%s): key must be %d bytes, got %d", n, kid, KeySize, len(key))
		}
		for _, other := range keys {
			// A repeated key is almost certainly a copy-paste slip during
			// rotation, which would leave the ring without the new key.
			if subtle.ConstantTimeCompare(other.key, key) == 1 {
				return nil, fmt.Errorf("seal: key entry %d (%s): same key as %s", n, kid, other.id)
			}
		}
		keys = append(keys, masterKey{id: kid, key: key})
	}
	return newKeyring(keys)
}

// LoadOrCreateKeyFile is for the embedded default store, where no operator
// has provisioned a key: it reads the ring from the key file at path, or
// creates the file with one fresh random key "k1" when it does not exist,
// reporting created=true. Creation is exclusive and atomic (written to a
// temporary file in the same directory, then hard-linked into place), so two
// processes starting together agree on one key and never read a half-written
// file. An existing file is refused when group or others have any access to
// it, as ssh does with private keys. The directory must exist.
func LoadOrCreateKeyFile(path string) (*Keyring, bool, error) {
	ring, err := loadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return ring, false, err
	}
	created, err := createKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	// Read back what is on disk: if another process won the race, its key
	// is the one to use.
	ring, err = loadKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return ring, created, nil
}

func loadKeyFile(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: open key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("seal: key file %s is not a regular file", path)
	}
	// Windows reports synthetic permission bits; its ACLs are not checked here.
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("seal: key file %s has mode %04o, so group or others can read or change it; run chmod 600 on it (and consider the key exposed if others could read it)", path, perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("seal: key file %s is larger than %d bytes", path, maxKeyFile)
	}
	ring, err := ParseKeyring(string(data))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %s", path, strings.TrimPrefix(err.Error(), "seal: "))
	}
	return ring, nil
}

// createKeyFile writes a fresh one-key ring to path unless a file is there
// already; it reports whether this call created it.
func createKeyFile(path string) (bool, error) {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // documented never to fail since Go 1.24
	content := "k1:" + base64.StdEncoding.EncodeToString(key) + "\n"
	clear(key)

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".seal-key-*") // mode 0600
	if err != nil {
		return false, fmt.Errorf("seal: create key file: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return false, fmt.Errorf("seal: create key file: %w", err)
	}
	if _, err := tmp.WriteString(content); err != nil {
		tmp.Close()
		return false, fmt.Errorf("seal: write key file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("seal: write key file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("seal: write key file: %w", err)
	}
	// Link fails if path exists: the exclusive, all-or-nothing create.
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("seal: create key file: %w", err)
	}
	syncDir(dir)
	return true, nil
}

// syncDir makes the new directory entry durable, best effort: losing the
// key file in a crash right after first start would orphan sealed data.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// CurrentKeyID returns the id of the key that seals new values: the last
// one of the ring.
func (k *Keyring) CurrentKeyID() string {
	if k == nil || k.s == nil || len(k.s.ids) == 0 {
		return ""
	}
	return k.s.ids[len(k.s.ids)-1]
}

// Seal encrypts plaintext under the current key, bound to context (for
// example "citizen/<id>/id_number"): Open must be given the same context.
func (k *Keyring) Seal(plaintext, context string) (string, error) {
	nonce := make([]byte, nonceLen)
	_, _ = rand.Read(nonce) // documented never to fail since Go 1.24
	return k.seal(plaintext, context, nonce)
}

// seal is Seal with a given nonce, so that fuzz tests can produce a stable
// set of valid values. A nonce must never repeat under one key.
func (k *Keyring) seal(plaintext, context string, nonce []byte) (string, error) {
	kid := k.CurrentKeyID()
	if kid == "" {
		return "", errors.New("seal: keyring has no keys")
	}
	aead := k.s.aeads[kid]
	buf := make([]byte, nonceLen, nonceLen+len(plaintext)+tagLen)
	copy(buf, nonce)
	buf = aead.Seal(buf, nonce, []byte(plaintext), []byte(context))
	return version + "." + kid + "." + base64.RawURLEncoding.EncodeToString(buf), nil
}

// parse splits a sealed value into its key id and payload, accepting only
// the exact text that seal produces.
func parse(sealed string) (kid, payload string, ok bool) {
	rest, ok := strings.CutPrefix(sealed, version+".")
	if !ok {
		return "", "", false
	}
	kid, payload, ok = strings.Cut(rest, ".")
	if !ok || !kidPattern.MatchString(kid) {
		return "", "", false
	}
	return kid, payload, true
}

// isURLAlphabet reports whether s uses only the base64url alphabet. The
// decoder alone would also skip CR and LF, letting several texts open as one.
func isURLAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Open decrypts a value made by Seal with the same context. It fails with
// ErrMalformed, ErrUnknownKey or ErrAuth, and never returns partial
// plaintext.
func (k *Keyring) Open(sealed, context string) (string, error) {
	kid, payload, ok := parse(sealed)
	if !ok || !isURLAlphabet(payload) {
		return "", ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil || len(raw) < nonceLen+tagLen {
		return "", ErrMalformed
	}
	if k == nil || k.s == nil {
		return "", ErrUnknownKey
	}
	aead, ok := k.s.aeads[kid]
	if !ok {
		// The id has passed kidPattern, so it is safe to name.
		return "", fmt.Errorf("%w %q", ErrUnknownKey, kid)
	}
	plain, err := aead.Open(nil, raw[:nonceLen], raw[nonceLen:], []byte(context))
	if err != nil {
		return "", ErrAuth
	}
	return string(plain), nil
}

// NeedsRotation reports whether sealed should be re-sealed (opened, then
// sealed again) because it is not a current-format value under the current
// key. Malformed text also reports true, so that a rotation job tries to
// open it and surfaces the error instead of skipping it silently.
func (k *Keyring) NeedsRotation(sealed string) bool {
	kid, _, ok := parse(sealed)
	return !ok || kid != k.CurrentKeyID()
}

// BlindIndex returns a keyed hash of value for equality lookups, as 64
// lower-case hex digits. kind names what the value is ("id_number",
// "mobile") so that equal values of different kinds do not share an index;
// it is a constant of the calling code, and BlindIndex panics if it is
// empty or contains a NUL byte, which separates it from the value.
func (k *Keyring) BlindIndex(kind, value string) string {
	if kind == "" || strings.IndexByte(kind, 0) >= 0 {
		panic("seal: BlindIndex kind must be non-empty and free of NUL bytes")
	}
	if k == nil || k.s == nil {
		panic("seal: BlindIndex on an empty keyring")
	}
	m := hmac.New(sha256.New, k.s.index)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}
