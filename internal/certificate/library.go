package certificate

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/audit"
	"github.com/banhao/banhao/internal/cases"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/seal"
)

// Names finds the full name of a person by real name (the bound
// mini-program account's), for the certificates issued to them.
type Names interface {
	RealName(ctx context.Context, holder string) (string, error)
}

// Library is the e-certificate library service.
type Library struct {
	store Store
	keys  *seal.Keyring
	audit *audit.Log
	log   *slog.Logger
	now   func() time.Time
	loc   *time.Location
	names Names
}

// NewLibrary returns the library; loc is the zone validity dates are in;
// names, if not nil, names the holders of certificates it issues.
func NewLibrary(store Store, keys *seal.Keyring, al *audit.Log, log *slog.Logger, now func() time.Time, loc *time.Location, names Names) *Library {
	return &Library{store: store, keys: keys, audit: al, log: log, now: now, loc: loc, names: names}
}

var _ cases.Certificates = (*Library)(nil)

// Held implements cases.Certificates: the holder's certificates valid at
// at, one per type (the latest issued), with masked numbers.
func (l *Library) Held(ctx context.Context, holder string, at time.Time) ([]cases.ECertRef, error) {
	all, err := l.store.ListHeld(ctx, holder)
	if err != nil {
		return nil, err
	}
	var out []cases.ECertRef
	for _, c := range all {
		if !c.ValidOn(at) || slices.ContainsFunc(out, func(r cases.ECertRef) bool { return r.Type == c.Type }) {
			continue
		}
		out = append(out, cases.ECertRef{ID: c.ID, Type: c.Type, Number: c.NumberMasked, Issuer: c.Issuer, ValidUntil: c.ValidUntil})
	}
	return out, nil
}

// Record is one certificate to import, as exported by an issuing office.
type Record struct {
	Type   string `json:"type"`
	Number string `json:"number"`
	// IDNumber is the holder's resident ID number.
	IDNumber string `json:"id_number"`
	Name     string `json:"name"`
	Issuer   string `json:"issuer"`
	// IssuedOn and ValidUntil are dates, "2006-01-02"; ValidUntil empty
	// or "长期" means no expiry.
	IssuedOn   string `json:"issued_on"`
	ValidUntil string `json:"valid_until"`
}

// MaskNumber hides a certificate number for display: an ID number as
// identity masks it; others keep their first and last two characters.
func MaskNumber(certType, number string) string {
	if certType == "居民身份证" {
		return identity.MaskIDNumber(number)
	}
	r := []rune(number)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:2]) + strings.Repeat("*", len(r)-4) + string(r[len(r)-2:])
}

func sealContext(holder, field string) string { return "ecert/" + holder + "/" + field }

// Import checks every record first and stores none unless all are valid
// (the errors name records by index); then it stores each, replacing an
// earlier import of the same certificate. It returns how many it stored.
func (l *Library) Import(ctx context.Context, actor, source string, recs []Record) (int, error) {
	today := l.now().In(l.loc)
	certs := make([]Certificate, len(recs))
	var errs []apperr.FieldError
	bad := func(i int, field, msg string) {
		errs = append(errs, apperr.FieldError{Field: fmt.Sprintf("[%d].%s", i, field), Message: msg})
	}
	for i, r := range recs {
		id, err := identity.ParseIDNumber("id_number", r.IDNumber, today)
		if err != nil {
			bad(i, "id_number", "身份证号码无效")
			continue
		}
		for _, f := range []struct{ name, v string }{{"type", r.Type}, {"number", r.Number}, {"name", r.Name}, {"issuer", r.Issuer}} {
			if strings.TrimSpace(f.v) == "" || !utf8.ValidString(f.v) || utf8.RuneCountInString(f.v) > 100 {
				bad(i, f.name, "必填，最多 100 个字")
			}
		}
		issued, err := time.ParseInLocation("2006-01-02", r.IssuedOn, l.loc)
		if err != nil {
			bad(i, "issued_on", "日期格式应为 2006-01-02")
		}
		var until time.Time
		if v := strings.TrimSpace(r.ValidUntil); v != "" && v != "长期" {
			if until, err = time.ParseInLocation("2006-01-02", v, l.loc); err != nil {
				bad(i, "valid_until", "日期格式应为 2006-01-02，或“长期”")
			}
		}
		holder := identity.HolderOf(l.keys, id.Number)
		number := strings.TrimSpace(r.Number)
		nameSealed, err1 := l.keys.Seal(strings.TrimSpace(r.Name), sealContext(holder, "name"))
		numberSealed, err2 := l.keys.Seal(number, sealContext(holder, "number"))
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("certificate: seal record %d: %v %v", i, err1, err2)
		}
		now := l.now().UTC().Truncate(time.Millisecond)
		certs[i] = Certificate{
			ID: "ec" + audit.NewID(now), Type: strings.TrimSpace(r.Type), Holder: holder,
			NumberSealed: numberSealed, NumberMasked: MaskNumber(strings.TrimSpace(r.Type), number),
			NumberIndex: l.keys.BlindIndex("ecert_number", strings.TrimSpace(r.Type)+"\x00"+number), HolderNameSealed: nameSealed,
			Issuer: strings.TrimSpace(r.Issuer), IssuedOn: issued.UTC(), ValidUntil: until.UTC(), Status: StatusValid,
			Source: source, CreatedAt: now, UpdatedAt: now,
		}
		if until.IsZero() {
			certs[i].ValidUntil = time.Time{}
		}
	}
	if len(errs) > 0 {
		return 0, apperr.Fields(errs...)
	}
	for i, c := range certs {
		if _, err := l.store.PutCertificate(ctx, c); err != nil {
			return i, fmt.Errorf("certificate: import record %d: %w", i, err)
		}
	}
	if err := l.audit.Record(ctx, audit.Record{Actor: actor, Action: "ecert.import", Target: fmt.Sprintf("ecerts:%d", len(certs))}); err != nil {
		l.log.ErrorContext(ctx, "audit record lost", "action", "ecert.import", "err", err)
	}
	return len(certs), nil
}

var _ cases.Issuer = (*Library)(nil)

// IssueForCase implements cases.Issuer: the e-certificate of an approved
// case, held by its applicant, issued by the matter's authority, valid
// without expiry (a type with a validity period would carry it in its
// guide). Its ID and number follow from the case, so issuing the same
// case again yields the same certificate. The holder's name comes from
// their bound account, or else from their resident ID card in the
// library; without either the certificate cannot be issued yet.
func (l *Library) IssueForCase(ctx context.Context, c cases.Case, m catalog.Matter) (cases.ECertRef, error) {
	if m.Certificate == "" {
		return cases.ECertRef{}, apperr.New(apperr.Invalid, "该事项不签发电子证照")
	}
	name, err := l.holderName(ctx, c.Applicant)
	if err != nil {
		return cases.ECertRef{}, err
	}
	now := l.now().UTC().Truncate(time.Millisecond)
	number := certNumber(c.Number)
	nameSealed, err := l.keys.Seal(name, sealContext(c.Applicant, "name"))
	if err != nil {
		return cases.ECertRef{}, fmt.Errorf("certificate: seal name: %w", err)
	}
	numberSealed, err := l.keys.Seal(number, sealContext(c.Applicant, "number"))
	if err != nil {
		return cases.ECertRef{}, fmt.Errorf("certificate: seal number: %w", err)
	}
	day := time.Date(now.In(l.loc).Year(), now.In(l.loc).Month(), now.In(l.loc).Day(), 0, 0, 0, 0, l.loc).UTC()
	title := m.Result
	if title == "" {
		title = m.Certificate
	}
	cert, err := l.store.PutCertificate(ctx, Certificate{
		ID: "ec" + strings.TrimPrefix(c.ID, "cs"), Type: m.Certificate, Holder: c.Applicant,
		NumberSealed: numberSealed, NumberMasked: MaskNumber(m.Certificate, number),
		NumberIndex:      l.keys.BlindIndex("ecert_case", c.ID),
		HolderNameSealed: nameSealed, Issuer: m.Authority, IssuedOn: day, Status: StatusValid,
		Title: title, Matter: m.Name, Case: c.ID, CaseNumber: c.Number,
		Source: "case:" + c.ID, CreatedAt: now, UpdatedAt: now,
	})
	if err != nil {
		return cases.ECertRef{}, err
	}
	if err := l.audit.Record(ctx, audit.Record{Actor: "system", Center: c.Center, Action: "ecert.issue", Subject: c.Applicant, Target: "ecert:" + cert.ID}); err != nil {
		l.log.ErrorContext(ctx, "audit record lost", "action", "ecert.issue", "err", err)
	}
	return cases.ECertRef{ID: cert.ID, Type: cert.Type, Number: cert.NumberMasked, Issuer: cert.Issuer, ValidUntil: cert.ValidUntil}, nil
}

// certNumber is the number of the certificate of a case: "DZ" and the
// case number (each case issues at most one certificate).
func certNumber(caseNumber string) string { return "DZ" + caseNumber }

// holderName is the full name of holder for a certificate.
func (l *Library) holderName(ctx context.Context, holder string) (string, error) {
	if l.names != nil {
		name, err := l.names.RealName(ctx, holder)
		if err == nil && name != "" {
			return name, nil
		}
		if err != nil && !apperr.Is(err, apperr.NotFound) {
			return "", err
		}
	}
	held, err := l.store.ListHeld(ctx, holder)
	if err != nil {
		return "", err
	}
	for _, c := range held {
		if c.Type == "居民身份证" && c.HolderNameSealed != "" {
			return l.keys.Open(c.HolderNameSealed, sealContext(holder, "name"))
		}
	}
	return "", apperr.New(apperr.NotFound, "无法确定持证人姓名：申请人尚未在小程序实名认证，也没有居民身份证电子证照")
}

// Opened is a certificate with its sealed values opened, for printing it
// for its holder. It must never reach a log or another person.
type Opened struct {
	Certificate
	Number     string
	HolderName string
}

// Open returns a certificate with its number and holder name opened.
func (l *Library) Open(ctx context.Context, id string) (Opened, error) {
	c, err := l.store.GetCertificate(ctx, id)
	if err != nil {
		return Opened{}, err
	}
	number, err := l.keys.Open(c.NumberSealed, sealContext(c.Holder, "number"))
	if err != nil {
		return Opened{}, fmt.Errorf("certificate: open number of %s: %w", id, err)
	}
	name, err := l.keys.Open(c.HolderNameSealed, sealContext(c.Holder, "name"))
	if err != nil {
		return Opened{}, fmt.Errorf("certificate: open holder name of %s: %w", id, err)
	}
	return Opened{Certificate: c, Number: number, HolderName: name}, nil
}

// Get returns a certificate as stored (sealed values sealed).
func (l *Library) Get(ctx context.Context, id string) (Certificate, error) {
	return l.store.GetCertificate(ctx, id)
}

// HeldBy lists a person's certificates (sealed values sealed).
func (l *Library) HeldBy(ctx context.Context, holder string) ([]Certificate, error) {
	return l.store.ListHeld(ctx, holder)
}

// MaxRevokeReasonRunes caps the reason of a revocation.
const MaxRevokeReasonRunes = 300

// Revoke revokes a valid certificate for a reason, audited; actor is
// "staff:<id>" of an authorised supervisor or administrator.
func (l *Library) Revoke(ctx context.Context, actor, center, id, reason string) (Certificate, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxRevokeReasonRunes {
		return Certificate{}, apperr.Fields(apperr.FieldError{Field: "reason", Message: fmt.Sprintf("请写明注销原因，最多 %d 字", MaxRevokeReasonRunes)})
	}
	c, err := l.store.RevokeCertificate(ctx, id, l.now().UTC().Truncate(time.Millisecond), actor, reason)
	outcome := audit.OutcomeOK
	if err != nil {
		outcome = audit.OutcomeFailed
	}
	if aerr := l.audit.Record(ctx, audit.Record{Actor: actor, Center: center, Action: "ecert.revoke", Subject: c.Holder, Target: "ecert:" + id, Outcome: outcome}); aerr != nil {
		l.log.ErrorContext(ctx, "audit record lost", "action", "ecert.revoke", "err", aerr)
	}
	return c, err
}
