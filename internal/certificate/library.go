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
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/seal"
)

// Library is the e-certificate library service.
type Library struct {
	store Store
	keys  *seal.Keyring
	audit *audit.Log
	log   *slog.Logger
	now   func() time.Time
	loc   *time.Location
}

// NewLibrary returns the library; loc is the zone validity dates are in.
func NewLibrary(store Store, keys *seal.Keyring, al *audit.Log, log *slog.Logger, now func() time.Time, loc *time.Location) *Library {
	return &Library{store: store, keys: keys, audit: al, log: log, now: now, loc: loc}
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
