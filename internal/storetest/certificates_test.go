package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/certificate"
	"github.com/banhao/banhao/internal/mongo"
	"github.com/banhao/banhao/internal/sqlite"
)

// TestCertificateStoreContract is the contract of certificate.Store.
func TestCertificateStoreContract(t *testing.T) {
	runContract(t, pickCertificates, certificateScenarios)
}

// pickCertificates builds the certificate store on the backend's raw database.
func pickCertificates(s stores) certificate.Store {
	if s.sqlite != nil {
		return sqlite.NewCertificateStore(s.sqlite)
	}
	return mongo.NewCertificateStore(s.mongo)
}

var certificateScenarios = []scenario[certificate.Store]{
	{"a certificate put reads back equal, unset times staying zero", testCertPutGet},
	{"unknown certificate is not found", testCertNotFound},
	{"putting a number index again updates it, keeping the first ID and CreatedAt", testCertPutAgain},
	{"an ID another certificate has is a conflict", testCertIDTaken},
	{"held certificates: only the holder's, by type then newest issued first", testCertListHeld},
	{"a holder with no certificates has an empty list", testCertListEmpty},
	{"concurrent puts of one certificate store exactly one", testCertPutConcurrent},
	{"a valid certificate is revoked once; again is a conflict, unknown not found", testCertRevoke},
}

// ecAt is the certificate scenarios' "now": a time with a zone and
// nanoseconds, so stores that keep either wrong are caught.
var ecAt = time.Date(2025, 4, 2, 10, 15, 30, 987654321, time.FixedZone("CST", 8*3600))

// ecDay is midnight of a date in the center's zone, as imports store
// issue and expiry dates.
func ecDay(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
}

// ecCert is a certificate as the import hands it to the store: valid,
// without expiry or revocation. The store never opens sealed values, so
// opaque strings stand in for them.
func ecCert(id, holder, typ, number string, issued time.Time) certificate.Certificate {
	return certificate.Certificate{
		ID: id, Type: typ, Holder: holder,
		NumberSealed: "v1.sealed-number-" + number, NumberMasked: "3301**********" + number,
		NumberIndex:      "bi:ecert_number:" + typ + ":" + number,
		HolderNameSealed: "v1.sealed-name-" + holder,
		Issuer:           "示范县公安局", IssuedOn: issued,
		Status: certificate.StatusValid, Source: "import",
		CreatedAt: ecAt, UpdatedAt: ecAt,
		Title: typ, Matter: "示范事项", Case: "cs-" + id, CaseNumber: "HM2611" + number,
	}
}

// storedCert is how a store returns a certificate it was given.
func storedCert(c certificate.Certificate) certificate.Certificate {
	c.IssuedOn, c.ValidUntil, c.RevokedAt = stored(c.IssuedOn), stored(c.ValidUntil), stored(c.RevokedAt)
	c.CreatedAt, c.UpdatedAt = stored(c.CreatedAt), stored(c.UpdatedAt)
	return c
}

func sameCert(t *testing.T, what string, got, want certificate.Certificate) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
	for _, tm := range []time.Time{got.IssuedOn, got.ValidUntil, got.RevokedAt, got.CreatedAt, got.UpdatedAt} {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v not in UTC", what, tm)
		}
	}
}

func putCert(t *testing.T, s certificate.Store, c certificate.Certificate) certificate.Certificate {
	t.Helper()
	got, err := s.PutCertificate(t.Context(), c)
	must(t, "put certificate "+c.ID, err)
	return got
}

func getCert(t *testing.T, s certificate.Store, id string) certificate.Certificate {
	t.Helper()
	c, err := s.GetCertificate(t.Context(), id)
	must(t, "get certificate "+id, err)
	return c
}

func listHeld(t *testing.T, s certificate.Store, holder string) []certificate.Certificate {
	t.Helper()
	cs, err := s.ListHeld(t.Context(), holder)
	must(t, "list held by "+holder, err)
	return cs
}

func certIDs(cs []certificate.Certificate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	return out
}

func testCertPutGet(t *testing.T, s certificate.Store) {
	open := ecCert("ec1", "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20))
	revoked := ecCert("ec2", "id:aaaa", "营业执照", "0022", ecDay(2019, 1, 7))
	revoked.ValidUntil = ecDay(2039, 1, 6)
	revoked.Status, revoked.RevokedAt, revoked.Source = certificate.StatusRevoked, ecAt.Add(time.Hour), "case:cs0195"
	for _, c := range []certificate.Certificate{open, revoked} {
		want := storedCert(c)
		sameCert(t, "put "+c.ID, putCert(t, s, c), want)
		sameCert(t, "get "+c.ID, getCert(t, s, c.ID), want)
	}
	got := getCert(t, s, open.ID)
	if !got.ValidUntil.IsZero() || !got.RevokedAt.IsZero() {
		t.Errorf("unset times read back as valid until %v, revoked at %v; want zero", got.ValidUntil, got.RevokedAt)
	}
}

func testCertNotFound(t *testing.T, s certificate.Store) {
	putCert(t, s, ecCert("ec1", "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20)))
	_, err := s.GetCertificate(t.Context(), "nope")
	wantCode(t, "get unknown", err, apperr.NotFound)
}

func testCertPutAgain(t *testing.T, s certificate.Store) {
	first := ecCert("ec1", "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20))
	putCert(t, s, first)

	// The same certificate imported again, later, with a new candidate
	// ID and every other field changed.
	again := first
	again.ID = "ec2"
	again.NumberSealed, again.NumberMasked = "v1.resealed", "3301**********0011x"
	again.HolderNameSealed, again.Issuer = "v1.resealed-name", "示范市公安局"
	again.IssuedOn, again.ValidUntil = ecDay(2026, 5, 20), ecDay(2046, 5, 20)
	again.Status, again.RevokedAt, again.Source = certificate.StatusRevoked, ecAt.Add(2*time.Hour), "demo"
	again.CreatedAt, again.UpdatedAt = ecAt.Add(24*time.Hour), ecAt.Add(24*time.Hour)

	want := storedCert(again)
	want.ID, want.CreatedAt = first.ID, stored(first.CreatedAt)
	sameCert(t, "second put", putCert(t, s, again), want)
	sameCert(t, "get after the second put", getCert(t, s, first.ID), want)
	_, err := s.GetCertificate(t.Context(), again.ID)
	wantCode(t, "get the second put's candidate ID", err, apperr.NotFound)
	if got := certIDs(listHeld(t, s, first.Holder)); !slices.Equal(got, []string{first.ID}) {
		t.Errorf("held %v after two puts, want [%s]", got, first.ID)
	}

	// Put back as it first was: all but ID and CreatedAt follow again.
	want = storedCert(first)
	sameCert(t, "third put", putCert(t, s, first), want)
	sameCert(t, "get after the third put", getCert(t, s, first.ID), want)
}

func testCertIDTaken(t *testing.T, s certificate.Store) {
	first := ecCert("ec1", "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20))
	putCert(t, s, first)
	other := ecCert("ec1", "id:bbbb", "营业执照", "0022", ecDay(2019, 1, 7))
	_, err := s.PutCertificate(t.Context(), other)
	wantCode(t, "put another certificate with a taken ID", err, apperr.Conflict)
	sameCert(t, "the first after the conflict", getCert(t, s, first.ID), storedCert(first))
	if got := listHeld(t, s, other.Holder); len(got) != 0 {
		t.Errorf("the refused certificate is held: %v", certIDs(got))
	}
}

func testCertListHeld(t *testing.T, s certificate.Store) {
	const holder, other = "id:aaaa", "id:bbbb"
	// Types in byte order: 不动产权证书 < 居民身份证 < 营业执照.
	certs := []certificate.Certificate{
		ecCert("ec1", holder, "营业执照", "b1", ecDay(2019, 1, 7)),
		ecCert("ec2", holder, "居民身份证", "a1", ecDay(2006, 5, 20)),
		ecCert("ec3", other, "居民身份证", "x1", ecDay(2020, 1, 1)),
		ecCert("ec4", holder, "不动产权证书", "c1", ecDay(2021, 9, 30)),
		ecCert("ec5", holder, "营业执照", "b2", ecDay(2023, 3, 15)),
		ecCert("ec6", holder, "居民身份证", "a2", ecDay(2016, 5, 20)),
		ecCert("ec7", holder, "营业执照", "b3", ecDay(2021, 11, 2)),
		ecCert("ec8", other, "不动产权证书", "x2", ecDay(2022, 1, 1)),
	}
	want := map[string]certificate.Certificate{}
	for _, c := range certs {
		putCert(t, s, c)
		want[c.ID] = storedCert(c)
	}
	got := listHeld(t, s, holder)
	if ids, w := certIDs(got), []string{"ec4", "ec6", "ec2", "ec5", "ec7", "ec1"}; !slices.Equal(ids, w) {
		t.Fatalf("held by %s: %v, want %v", holder, ids, w)
	}
	for _, c := range got {
		sameCert(t, "listed "+c.ID, c, want[c.ID])
	}
	if ids, w := certIDs(listHeld(t, s, other)), []string{"ec8", "ec3"}; !slices.Equal(ids, w) {
		t.Errorf("held by %s: %v, want %v", other, ids, w)
	}
}

func testCertListEmpty(t *testing.T, s certificate.Store) {
	got := listHeld(t, s, "id:nobody")
	if got == nil || len(got) != 0 {
		t.Errorf("empty library: %#v, want an empty slice", got)
	}
	putCert(t, s, ecCert("ec1", "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20)))
	got = listHeld(t, s, "id:nobody")
	if got == nil || len(got) != 0 {
		t.Errorf("a holder without certificates: %#v, want an empty slice", got)
	}
}

func testCertPutConcurrent(t *testing.T, s certificate.Store) {
	const n = 10
	got := make([]certificate.Certificate, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			c := ecCert(fmt.Sprintf("ec%02d", i), "id:aaaa", "居民身份证", "0011", ecDay(2016, 5, 20))
			c.CreatedAt = ecAt.Add(time.Duration(i) * time.Second)
			<-start
			got[i], errs[i] = s.PutCertificate(t.Context(), c)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("put %d: %v", i, err)
		}
	}
	held := listHeld(t, s, "id:aaaa")
	if len(held) != 1 {
		t.Fatalf("held %v after %d concurrent puts of one certificate, want one", certIDs(held), n)
	}
	// Whichever put inserted it, every put answered with that certificate.
	id, created := held[0].ID, held[0].CreatedAt
	for i, c := range got {
		if errs[i] == nil && (c.ID != id || !c.CreatedAt.Equal(created)) {
			t.Errorf("put %d returned %s created %v; stored is %s created %v", i, c.ID, c.CreatedAt, id, created)
		}
	}
	var i int
	if _, err := fmt.Sscanf(id, "ec%02d", &i); err != nil || i >= n {
		t.Fatalf("stored ID %q is none of the puts' IDs", id)
	}
	if want := stored(ecAt.Add(time.Duration(i) * time.Second)); !created.Equal(want) {
		t.Errorf("stored %s with CreatedAt %v, want %v: that of the put that inserted it", id, created, want)
	}
}

func testCertRevoke(t *testing.T, s certificate.Store) {
	c := putCert(t, s, ecCert("ec-r1", "id:holder-r", "营业执照", "0001", ecDay(2024, 1, 2)))
	at := ecAt.Add(time.Hour)
	got, err := s.RevokeCertificate(t.Context(), c.ID, at, "staff:chief", "证照信息有误")
	must(t, "revoke", err)
	want := c
	want.Status, want.RevokedAt, want.UpdatedAt = certificate.StatusRevoked, stored(at), stored(at)
	want.RevokedBy, want.RevokeReason = "staff:chief", "证照信息有误"
	sameCert(t, "revoked certificate", got, want)
	sameCert(t, "revoked certificate read back", getCert(t, s, c.ID), want)
	if _, err := s.RevokeCertificate(t.Context(), c.ID, at, "staff:x", "again"); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("revoking again: %v, want conflict", err)
	}
	if _, err := s.RevokeCertificate(t.Context(), "ec-none", at, "staff:x", "x"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("revoking an unknown certificate: %v, want not found", err)
	}
}
