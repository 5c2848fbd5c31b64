package identity

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the argon2id parameters for new password hashes. Stored
// hashes carry their own parameters, so these can be raised later and old
// hashes still verify (and are upgraded at the next login).
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 follows RFC 9106's second recommended option scaled to a
// 2-core server: 64 MiB, 2 passes, 1 lane. Login concurrency is capped by
// the service so that a crowd of logins at 8:30 cannot exhaust memory.
func DefaultArgon2() Argon2Params { return Argon2Params{MemoryKiB: 64 * 1024, Time: 2, Threads: 1} }

const (
	saltLen = 16
	keyLen  = 32
)

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string, p Argon2Params) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // documented never to fail since Go 1.24
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

var errBadHash = errors.New("identity: malformed password hash")

// parseHash splits a PHC argon2id hash into its parameters, salt and key.
func parseHash(hash string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, errBadHash
	}
	if p.MemoryKiB < 8*1024 || p.MemoryKiB > 1024*1024 || p.Time < 1 || p.Time > 20 || p.Threads < 1 {
		return p, nil, nil, errBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches hash, and whether the
// hash was made with weaker parameters than want and should be replaced.
func VerifyPassword(hash, password string, want Argon2Params) (ok, rehash bool) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return false, false
	}
	return true, p.MemoryKiB < want.MemoryKiB || p.Time < want.Time
}

// RandomPassword returns a password of n (at least MinPasswordRunes)
// characters from an alphabet without look-alike characters, with letters
// and digits, for first administrators and resets.
func RandomPassword(n int) string {
	n = max(n, MinPasswordRunes)
	for {
		if pw := randomChars(n); CheckPassword("password", pw) == nil {
			return pw
		}
	}
}

func randomChars(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 1)
	for len(out) < n {
		_, _ = rand.Read(buf)
		// Reject the top of the byte range so every character is equally likely.
		if int(buf[0]) < 256-256%len(alphabet) {
			out = append(out, alphabet[int(buf[0])%len(alphabet)])
		}
	}
	return string(out)
}
