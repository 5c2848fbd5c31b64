package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Kind is the kind of party a session belongs to.
type Kind string

// Session kinds.
const (
	KindStaff   Kind = "staff"
	KindCitizen Kind = "citizen"
	KindCourier Kind = "courier"
	// KindCard is a citizen's session at a kiosk, opened by reading their
	// ID card and bound to that kiosk.
	KindCard Kind = "card"
)

// Session is a logged-in party. The token given to the client is never
// stored: the session is found by the token's SHA-256 (its ID), so a copy
// of the database does not let anyone log in.
type Session struct {
	ID      string
	Kind    Kind
	Subject string // staff, citizen or courier ID; for a card session the ID number's blind index
	Center  string
	// Kiosk is the kiosk a card session is bound to.
	Kiosk string
	// Sealed holds a card session's sealed card data (name, ID number).
	Sealed string
	// CSRF is the anti-forgery token cookie-authenticated requests must echo.
	CSRF      string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
}

// Active reports whether the session may be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt.IsZero() && now.Before(s.ExpiresAt)
}

// newToken returns a random bearer token and its session ID.
func newToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // documented never to fail since Go 1.24
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, TokenID(token)
}

// TokenID is the stored ID of a session token.
func TokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
