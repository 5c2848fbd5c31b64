package printing

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/identity"
)

// Library is what printing needs of the e-certificate library.
type Library interface {
	Get(ctx context.Context, id string) (certificate.Certificate, error)
	Open(ctx context.Context, id string) (certificate.Opened, error)
	HeldBy(ctx context.Context, holder string) ([]certificate.Certificate, error)
}

// Handovers says how the certificate of a case reaches its holder: the
// hand-over (出件方式) the case chose.
type Handovers interface {
	Handover(ctx context.Context, caseID string) (catalog.Delivery, error)
}

// Drawer draws certificate PDFs: a *Renderer, or a *Lazy one.
type Drawer interface {
	Certificate(w io.Writer, d Document) error
}

// Service renders certificates with their signed QR codes, verifies
// payloads, and runs kiosk self-print jobs.
type Service struct {
	lib      Library
	keys     *Keys
	renderer Drawer
	prints   PrintStore
	audit    *audit.Log
	log      *slog.Logger
	now      func() time.Time
	loc      *time.Location
	// verifyURL is the public verify page the QR codes point to.
	verifyURL string
	// handovers, if set, limits kiosk self-print to the certificates of
	// cases whose holder chose it: one mailed or handed over at a window
	// must not come out of a kiosk as a second original.
	handovers Handovers
}

// Option configures a Service.
type Option func(*Service)

// WithHandovers limits kiosk self-print to certificates whose case chose
// the kiosk hand-over (catalog.DeliveryKioskPrint).
func WithHandovers(h Handovers) Option { return func(s *Service) { s.handovers = h } }

// NewService returns the printing service. publicURL is where citizens
// reach the server (e.g. "https://zwfw.example.gov.cn"): the QR code of a
// certificate is a link to its verify page there, which also works with
// the bare payload offline.
func NewService(lib Library, keys *Keys, r Drawer, prints PrintStore, al *audit.Log, log *slog.Logger, now func() time.Time, loc *time.Location, publicURL string, opts ...Option) *Service {
	s := &Service{lib: lib, keys: keys, renderer: r, prints: prints, audit: al, log: log, now: now, loc: loc,
		verifyURL: strings.TrimRight(publicURL, "/") + "/verify"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Location is the zone the service writes dates in (the center's).
func (s *Service) Location() *time.Location { return s.loc }

// PublicKeys are the keys published at /.well-known/banhao-keys.json.
func (s *Service) PublicKeys() []PublicKey { return s.keys.PublicKeys() }

func (s *Service) record(ctx context.Context, r audit.Record) {
	if err := s.audit.Record(context.WithoutCancel(ctx), r); err != nil {
		s.log.ErrorContext(ctx, "audit record lost", "action", r.Action, "err", err)
	}
}

// payloadOf is what a certificate's QR code says: masked number and name.
// Its dates are the calendar dates in loc, the center's zone: the library
// keeps a date as its midnight there, in UTC, which read in UTC would be
// the day before.
func payloadOf(c certificate.Opened, loc *time.Location) Payload {
	p := Payload{CertID: c.ID, Type: c.Type, Number: c.NumberMasked, Holder: identity.MaskName(c.HolderName),
		Issuer: c.Issuer, Issued: c.IssuedOn.In(loc)}
	if !c.ValidUntil.IsZero() {
		p.ValidUntil = c.ValidUntil.In(loc)
	}
	return p
}

// QRText is the text of a certificate's QR code: a link to the verify
// page carrying the signed payload.
func (s *Service) QRText(compact string) string {
	return s.verifyURL + "?payload=" + url.QueryEscape(compact)
}

// PDF renders a certificate for its holder, with its signed QR code; isCopy
// marks a reprint as 副本.
func (s *Service) PDF(ctx context.Context, id string, isCopy bool) ([]byte, error) {
	c, err := s.lib.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Status != certificate.StatusValid {
		return nil, apperr.New(CodeRevoked, "该电子证照已注销，不能打印")
	}
	compact, err := s.keys.Sign(payloadOf(c, s.loc))
	if err != nil {
		return nil, err
	}
	title := c.Title
	if title == "" {
		title = c.Type
	}
	d := Document{Title: title, Number: c.Number, HolderName: c.HolderName, Issuer: c.Issuer,
		IssuedOn: c.IssuedOn.In(s.loc), QR: s.QRText(compact), Copy: isCopy}
	if !c.ValidUntil.IsZero() {
		d.ValidUntil = c.ValidUntil.In(s.loc)
	}
	if c.Matter != "" {
		d.Fields = append(d.Fields, Field{Label: "办理事项", Value: c.Matter})
	}
	if c.CaseNumber != "" {
		d.Fields = append(d.Fields, Field{Label: "办件编号", Value: c.CaseNumber})
	}
	var b bytes.Buffer
	if err := s.renderer.Certificate(&b, d); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Verification status codes, shown by the verify page.
const (
	StatusValid   = "valid"
	StatusRevoked = "revoked"
	StatusExpired = "expired"
)

// CodeRevoked: the certificate was revoked (printing refused).
const CodeRevoked apperr.Code = "certificate_revoked"

// Verification is what verifying a payload says: its status and what the
// payload (signed, so trustworthy) says of the certificate, masked.
type Verification struct {
	Status    string    `json:"status"`
	Label     string    `json:"label"`
	CertID    string    `json:"cert_id"`
	Type      string    `json:"type"`
	Number    string    `json:"number"`
	Holder    string    `json:"holder"`
	Issuer    string    `json:"issuer"`
	Issued    string    `json:"issued"`
	ValidTo   string    `json:"valid_until,omitempty"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	KeyID     string    `json:"kid"`
}

// PayloadOf takes the payload out of what a QR code held: the verify link
// or the bare payload.
func PayloadOf(text string) string {
	text = strings.TrimSpace(text)
	if u, err := url.Parse(text); err == nil && u.RawQuery != "" {
		if p := u.Query().Get("payload"); p != "" {
			return p
		}
	}
	return text
}

// Verify checks a payload's signature against the published keys (a
// forged, truncated or unknown-key payload is an apperr with its code)
// and then the library: revoked or expired certificates say so. Nothing
// personal is revealed beyond what the payload itself carries (masked).
func (s *Service) Verify(ctx context.Context, text string) (Verification, error) {
	p, err := Verify(s.keys.PublicKeys(), PayloadOf(text))
	if err != nil {
		return Verification{}, err
	}
	v := Verification{Status: StatusValid, Label: "有效", CertID: p.CertID, Type: p.Type, Number: p.Number, Holder: p.Holder,
		Issuer: p.Issuer, Issued: p.Issued.Format("2006-01-02"), KeyID: p.KeyID}
	if !p.ValidUntil.IsZero() {
		v.ValidTo = p.ValidUntil.Format("2006-01-02")
	}
	c, err := s.lib.Get(ctx, p.CertID)
	switch {
	case apperr.Is(err, apperr.NotFound):
		// Signed by us but unknown here: treat as no longer valid.
		v.Status, v.Label = StatusRevoked, "已注销"
	case err != nil:
		return Verification{}, err
	case c.Status == certificate.StatusRevoked:
		v.Status, v.Label, v.RevokedAt = StatusRevoked, "已注销", c.RevokedAt.In(s.loc)
	case p.ExpiredOn(s.now().In(s.loc)):
		v.Status, v.Label = StatusExpired, "已过期"
	}
	return v, nil
}
