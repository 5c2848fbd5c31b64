package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	_ "image/png" // pdftoppm's output
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/OpenPrinting/goipp"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/banhao/banhao/printing"
	"github.com/banhao/banhao/printing/ipptest"
)

// issueNoCrimeRecord concludes a 无犯罪记录证明 case of 张三丰 (alice in the
// mini-program, with his real name bound: he holds the demo ID card
// e-certificate) through the real API, with the hand-over the matter
// offers first, 自助终端打印; the approval issues the certificate, whose
// ID it returns with the case number.
func issueNoCrimeRecord(t *testing.T, s *server) (cert, caseNumber string) {
	t.Helper()
	alice := s.mpLogin(t, "alice")
	s.bindRealName(t, alice, "张三丰", aliceID)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-ga-no-crime-record"}`))
	c := decodeCase(t, code, body, 201)
	code, _, body = s.upload(t, fmt.Sprintf("/api/v1/mp/cases/%s/materials/%d/file", c.ID, c.material(t, "犯罪记录查询申请表")), alice, testPNG(t, 7))
	decodeCase(t, code, body, 201)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/cases/"+c.ID+"/submit", alice, strings.NewReader(`{}`))
	decodeCase(t, code, body, 200)
	s.createStaff(t, "clerk1", "clerk")
	s.createStaff(t, "police1", "approver")
	clerk, approver := s.login(t, "clerk1", testPassword), s.login(t, "police1", testPassword)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", clerk, strings.NewReader(`{}`))
	decodeCase(t, code, body, 200)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/decide", approver, strings.NewReader(`{"approve":true,"reason":"经查询无犯罪记录"}`))
	decodeCase(t, code, body, 200)
	code, _, body = s.do(t, http.MethodGet, "/api/v1/mp/cases/"+c.ID, alice, nil)
	var got struct {
		State       string `json:"state"`
		Delivery    string `json:"delivery"`
		Certificate *struct {
			ID     string `json:"id"`
			Type   string `json:"type"`
			Number string `json:"number"`
		} `json:"certificate"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || code != 200 {
		t.Fatalf("case after approval: %d %v %s", code, err, body)
	}
	if got.State != "approved" || got.Delivery != "kiosk_print" || got.Certificate == nil || got.Certificate.Type != "无犯罪记录证明" ||
		strings.Contains(got.Certificate.Number, c.Number) {
		t.Fatalf("approved case: %s; want its certificate for kiosk print, number masked", body)
	}
	return got.Certificate.ID, c.Number
}

// pdfQR rasterises a PDF's first page with pdftoppm and reads its QR code.
func pdfQR(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		t.Fatalf("pdftoppm (poppler-utils) is needed to read the printed QR code: %v", err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "cert.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftoppm", "-r", "200", "-png", "-singlefile", in, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	f, err := os.Open(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("decode the page image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code read on the printed page: %v", err)
	}
	return res.GetText()
}

// pdfText is the text of a PDF, by pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	cmd := exec.Command("pdftotext", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// verification is the part of a verification the tests read.
type verification struct {
	Status    string `json:"status"`
	Label     string `json:"label"`
	CertID    string `json:"cert_id"`
	Type      string `json:"type"`
	Number    string `json:"number"`
	Holder    string `json:"holder"`
	Issuer    string `json:"issuer"`
	Issued    string `json:"issued"`
	RevokedAt string `json:"revoked_at"`
	KeyID     string `json:"kid"`
}

func (s *server) verify(t *testing.T, text string) (int, string, string) {
	t.Helper()
	return s.get(t, "/api/v1/certificates/verify?payload="+url.QueryEscape(text))
}

func decodeVerification(t *testing.T, code int, body string) verification {
	t.Helper()
	var v verification
	if err := json.Unmarshal([]byte(body), &v); err != nil || code != 200 {
		t.Fatalf("verify: %d %v %s", code, err, body)
	}
	return v
}

// printJob is a print job as the kiosk API answers it.
type printJob struct {
	ID     string `json:"id"`
	Copy   bool   `json:"copy"`
	Status string `json:"status"`
	Reason string `json:"reason"`
	PDF    string `json:"pdf"`
}

func (k *kioskClient) startPrint(t *testing.T, cert string) (int, string, string) {
	t.Helper()
	return k.do(t, http.MethodPost, "/api/v1/kiosk/print-jobs", `{"certificate":"`+cert+`"}`)
}

func decodeJob(t *testing.T, code int, body string, want int) printJob {
	t.Helper()
	var j printJob
	if err := json.Unmarshal([]byte(body), &j); err != nil || code != want {
		t.Fatalf("print job: %d (want %d) %v %s", code, want, err, body)
	}
	return j
}

// printOnce starts a job at k, downloads its PDF and reports the outcome.
func (k *kioskClient) printOnce(t *testing.T, cert string, printed bool, reason string) (printJob, []byte) {
	t.Helper()
	code, _, body := k.startPrint(t, cert)
	j := decodeJob(t, code, body, 201)
	code, ctype, pdf := k.do(t, http.MethodGet, j.PDF, "")
	if code != 200 || ctype != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("download %s: %d %s %.200q", j.ID, code, ctype, pdf)
	}
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/print-jobs/"+j.ID+"/result", fmt.Sprintf(`{"printed":%v,"reason":%q}`, printed, reason))
	done := decodeJob(t, code, body, 200)
	if want := map[bool]string{true: "printed", false: "failed"}[printed]; done.Status != want || done.Reason != reason {
		t.Fatalf("report %s: %s", j.ID, body)
	}
	return j, []byte(pdf)
}

// printables lists the card holder's certificates ready for self-print.
func (k *kioskClient) printables(t *testing.T) []struct {
	ID           string `json:"id"`
	Title        string `json:"title"`
	Original     bool   `json:"original"`
	CopyApproved bool   `json:"copy_approved"`
} {
	t.Helper()
	code, _, body := k.do(t, http.MethodGet, "/api/v1/kiosk/certificates", "")
	var l struct {
		Items []struct {
			ID           string `json:"id"`
			Title        string `json:"title"`
			Original     bool   `json:"original"`
			CopyApproved bool   `json:"copy_approved"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(body), &l); err != nil || code != 200 {
		t.Fatalf("printable certificates: %d %v %s", code, err, body)
	}
	return l.Items
}

// tamper flips one bit of the signed body of a compact payload.
func tamper(t *testing.T, payload string) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-64-3] ^= 0x01 // in the body, before the 64-byte signature
	return base64.RawURLEncoding.EncodeToString(raw)
}

// TestCertificatePrintAndVerify is the issue's "done when" over the real
// server: a concluded 无犯罪记录证明 of 张三丰 is printed at a kiosk through
// a print job (the PDF once, to that kiosk only; a paper jam, then the
// original at another kiosk), the QR code read off the printed page
// verifies as valid, altered, truncated and foreign payloads are refused
// with their codes, a reprint needs a clerk's approval and comes out as a
// copy, every print is in the history, and after a supervisor revokes it
// the same QR code says 已注销 and no kiosk lists it.
func TestCertificatePrintAndVerify(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	cert, caseNumber := issueNoCrimeRecord(t, s)
	clerk := s.login(t, "clerk1", testPassword)
	approver := s.login(t, "police1", testPassword)
	s.createStaff(t, "super1", "supervisor")
	supervisor := s.login(t, "super1", testPassword)

	k1, k2 := registerKiosk(t, s, admin), registerKiosk(t, s, admin)
	for _, k := range []*kioskClient{k1, k2} {
		k.skew = skew
		k.session = startCard(t, k, aliceCard)
	}

	// The kiosk lists the certificate, and not the imported ID card.
	list := k1.printables(t)
	if len(list) != 1 || list[0].ID != cert || list[0].Title != "无犯罪记录证明" || !list[0].Original {
		t.Fatalf("printable certificates: %+v; want the new certificate alone, original to print", list)
	}

	// A job at kiosk 1; meanwhile kiosk 2 cannot start one, and kiosk 1
	// asking again (a lost answer) gets the same job.
	code, _, body := k1.startPrint(t, cert)
	job := decodeJob(t, code, body, 201)
	if job.Copy || job.Status != "created" || job.PDF != "/api/v1/kiosk/print-jobs/"+job.ID+"/pdf" {
		t.Fatalf("new job: %s", body)
	}
	code, ctype, body := k2.startPrint(t, cert)
	wantProblem(t, code, ctype, body, 409, "print_state", "")
	code, _, body = k1.startPrint(t, cert)
	if again := decodeJob(t, code, body, 201); again.ID != job.ID {
		t.Fatalf("asking again made job %s, want %s", again.ID, job.ID)
	}
	// Only kiosk 1 fetches the PDF, only with the card, and only once.
	code, ctype, body = k2.do(t, http.MethodGet, job.PDF, "")
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	card := k1.session
	k1.session = ""
	code, ctype, body = k1.do(t, http.MethodGet, job.PDF, "")
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
	k1.session = card
	code, ctype, pdf := k1.do(t, http.MethodGet, job.PDF, "")
	if code != 200 || ctype != "application/pdf" || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("download: %d %s %.200q", code, ctype, pdf)
	}
	code, ctype, body = k1.do(t, http.MethodGet, job.PDF, "")
	wantProblem(t, code, ctype, body, 409, "print_state", "")
	if text := pdfText(t, []byte(pdf)); !strings.Contains(text, "无犯罪记录证明") || !strings.Contains(text, "张三丰") || strings.Contains(text, "副本") {
		t.Errorf("the original reads:\n%s", text)
	}

	// The QR code on the paper: a link to the verify page with the payload.
	qr := pdfQR(t, []byte(pdf))
	const link = "http://localhost:8080/verify?payload="
	if !strings.HasPrefix(qr, link) {
		t.Fatalf("QR code says %q, want a link %s...", qr, link)
	}
	payload := printing.PayloadOf(qr)
	code, _, body = s.verify(t, qr)
	v := decodeVerification(t, code, body)
	if v.Status != "valid" || v.Label != "有效" || v.CertID != cert || v.Type != "无犯罪记录证明" || v.Holder != "张**" || v.Issuer != "惠民县公安局" ||
		v.Issued != "2026-11-25" || v.KeyID == "" || strings.Contains(v.Number, caseNumber) {
		t.Fatalf("verification of the printed QR code: %s", body)
	}
	if strings.Contains(body, "张三丰") || strings.Contains(body, aliceID[6:14]) || strings.Contains(body, caseNumber) {
		t.Fatalf("verification reveals personal data: %s", body)
	}
	if code, _, body = s.verify(t, payload); code != 200 || !strings.Contains(body, `"status":"valid"`) {
		t.Fatalf("the bare payload verifies too: %d %s", code, body)
	}

	// The keys are published; with them alone, the payload verifies offline.
	code, _, body = s.get(t, "/.well-known/banhao-keys.json")
	var keys struct {
		Keys []printing.PublicKey `json:"keys"`
	}
	if err := json.Unmarshal([]byte(body), &keys); err != nil || code != 200 || len(keys.Keys) != 1 || keys.Keys[0].KeyID != v.KeyID || keys.Keys[0].Algorithm != "Ed25519" {
		t.Fatalf("published keys: %d %s; want the signing key %s", code, body, v.KeyID)
	}
	if p, err := printing.Verify(keys.Keys, payload); err != nil || p.CertID != cert {
		t.Fatalf("offline verification with the published key: %+v %v", p, err)
	}

	// Bad payloads: clear codes, and nothing changes.
	other, _ := printing.GenerateKeySpec("k-other")
	otherKeys, _ := printing.ParseKeys(other)
	foreign, err := otherKeys.Sign(printing.Payload{CertID: cert, Type: "无犯罪记录证明", Number: "DZ**", Holder: "张**", Issuer: "惠民县公安局", Issued: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	sameKid, _ := printing.GenerateKeySpec(v.KeyID)
	impostor, _ := printing.ParseKeys(sameKid)
	forgedSameKid, err := impostor.Sign(printing.Payload{CertID: cert, Type: "无犯罪记录证明", Holder: "李*", Issued: time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, text  string
		status      int
		code, field string
	}{
		{"altered", tamper(t, payload), 422, "forged", ""},
		{"altered in the link", link + tamper(t, payload), 422, "forged", ""},
		{"signed by a key of the same name", forgedSameKid, 422, "forged", ""},
		{"truncated", payload[:len(payload)-7], 400, "payload_malformed", ""},
		{"not base64url", payload[:40] + "+/=" + payload[43:], 400, "payload_malformed", ""},
		{"unknown key", foreign, 422, "unknown_key", ""},
		{"empty", "", 400, "invalid_input", "payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, ctype, body := s.verify(t, tc.text)
			wantProblem(t, code, ctype, body, tc.status, tc.code, tc.field)
		})
	}

	// The kiosk reports a paper jam; the certificate prints again, at the
	// other kiosk, as the original.
	code, _, body = k1.do(t, http.MethodPost, "/api/v1/kiosk/print-jobs/"+job.ID+"/result", `{"printed":false,"reason":"卡纸"}`)
	if j := decodeJob(t, code, body, 200); j.Status != "failed" || j.Reason != "卡纸" {
		t.Fatalf("paper jam reported: %s", body)
	}
	code, ctype, body = k1.do(t, http.MethodPost, "/api/v1/kiosk/print-jobs/"+job.ID+"/result", `{"printed":true}`)
	wantProblem(t, code, ctype, body, 409, "print_state", "")
	code, ctype, body = k1.do(t, http.MethodPost, "/api/v1/kiosk/print-jobs/"+job.ID+"/result", `{"printed":false}`)
	wantProblem(t, code, ctype, body, 400, "invalid_input", "reason")
	original, _ := k2.printOnce(t, cert, true, "")
	if original.Copy {
		t.Fatalf("the retried original is a copy: %+v", original)
	}

	// The original is out: printing it again needs a clerk's approval.
	if l := k1.printables(t); len(l) != 1 || l[0].Original || l[0].CopyApproved {
		t.Fatalf("after the original: %+v", l)
	}
	code, ctype, body = k1.startPrint(t, cert)
	if p := wantProblem(t, code, ctype, body, 409, "reprint_needs_approval", ""); !strings.Contains(p.Detail, "原件已打印过") {
		t.Fatalf("refusal of a second original: %s", body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/copies", approver, strings.NewReader(`{"reason":"原件遗失"}`))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/copies", clerk, strings.NewReader(`{"reason":""}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "reason")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/copies", clerk, strings.NewReader(`{"reason":"原件遗失，持证人申请补打"}`))
	if code != 201 || !strings.Contains(body, `"staff_name":"测试clerk1"`) {
		t.Fatalf("approve a copy: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/copies", clerk, strings.NewReader(`{"reason":"再补一份"}`))
	wantProblem(t, code, ctype, body, 409, "print_state", "")
	if l := k1.printables(t); len(l) != 1 || !l[0].CopyApproved {
		t.Fatalf("after the approval: %+v", l)
	}
	cp, copyPDF := k1.printOnce(t, cert, true, "")
	if !cp.Copy {
		t.Fatalf("the reprint is not marked a copy: %+v", cp)
	}
	if text := pdfText(t, copyPDF); !strings.Contains(text, "副本") {
		t.Errorf("the copy does not say 副本:\n%s", text)
	}
	if got := printing.PayloadOf(pdfQR(t, copyPDF)); got == "" {
		t.Error("the copy has no QR code")
	} else if code, _, body := s.verify(t, got); code != 200 || !strings.Contains(body, `"status":"valid"`) {
		t.Errorf("the copy's QR code: %d %s", code, body)
	}
	code, ctype, body = k1.startPrint(t, cert)
	wantProblem(t, code, ctype, body, 409, "reprint_needs_approval", "")

	// Every print is in the certificate's history.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/certificates/"+cert+"/prints", clerk, nil)
	var hist struct {
		Original bool `json:"original_printed"`
		Jobs     []struct {
			ID     string `json:"id"`
			Kiosk  string `json:"kiosk"`
			Copy   bool   `json:"copy"`
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"jobs"`
		Approvals []struct {
			Reason string `json:"reason"`
			Used   string `json:"used"`
		} `json:"approvals"`
	}
	if err := json.Unmarshal([]byte(body), &hist); err != nil || code != 200 {
		t.Fatalf("print history: %d %v %s", code, err, body)
	}
	if !hist.Original || len(hist.Jobs) != 3 || len(hist.Approvals) != 1 || hist.Approvals[0].Used != cp.ID {
		t.Fatalf("print history: %s", body)
	}
	for i, want := range []struct {
		kiosk          string
		copy           bool
		status, reason string
	}{{k1.id, false, "failed", "卡纸"}, {k2.id, false, "printed", ""}, {k1.id, true, "printed", ""}} {
		if j := hist.Jobs[i]; j.Kiosk != want.kiosk || j.Copy != want.copy || j.Status != want.status || j.Reason != want.reason {
			t.Errorf("history job %d = %+v, want %+v", i, j, want)
		}
	}
	if strings.Contains(body, "id:") || strings.Contains(body, "张三丰") {
		t.Errorf("the history shows the holder: %s", body)
	}

	// Revocation: supervisors and administrators only, once, audited.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/revoke", clerk, strings.NewReader(`{"reason":"证明有误"}`))
	wantProblem(t, code, ctype, body, 403, "forbidden", "")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/revoke", supervisor, strings.NewReader(`{"reason":""}`))
	wantProblem(t, code, ctype, body, 400, "invalid_input", "reason")
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/ec-nope/revoke", supervisor, strings.NewReader(`{"reason":"证明有误"}`))
	wantProblem(t, code, ctype, body, 404, "not_found", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/revoke", supervisor, strings.NewReader(`{"reason":"查询结果有误，重新出具"}`))
	if code != 200 || !strings.Contains(body, `"status":"revoked"`) || !strings.Contains(body, `"revoked_at":"2026-11-25T09:`) {
		t.Fatalf("revoke: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/revoke", supervisor, strings.NewReader(`{"reason":"again"}`))
	wantProblem(t, code, ctype, body, 409, "conflict", "")
	code, _, body = s.verify(t, qr)
	if v := decodeVerification(t, code, body); v.Status != "revoked" || v.Label != "已注销" || !strings.HasPrefix(v.RevokedAt, "2026-11-25T09:") {
		t.Fatalf("verification after revocation: %s", body)
	}
	if l := k1.printables(t); len(l) != 0 {
		t.Fatalf("the kiosk still lists the revoked certificate: %+v", l)
	}
	code, ctype, body = k1.startPrint(t, cert)
	wantProblem(t, code, ctype, body, 409, "certificate_revoked", "")
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/audit", admin, nil)
	for _, action := range []string{"ecert.revoke", "print.approve_copy", "print.printed", "print.failed", "print.download"} {
		if !strings.Contains(body, `"`+action+`"`) {
			t.Errorf("the audit log has no %s: %d", action, code)
		}
	}
}

// TestCertificateSigningKeys: without BANHAO_SIGNING_KEYS the embedded
// store makes a key file (mode 0600) on first start and keeps signing
// with it after a restart; a configured key signs instead, its key id
// published; MongoDB without the setting, a malformed spec and a bad
// public address stop the server at start.
func TestCertificateSigningKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	kid := func(s *server) string {
		t.Helper()
		code, _, body := s.get(t, "/.well-known/banhao-keys.json")
		var keys struct {
			Keys []printing.PublicKey `json:"keys"`
		}
		if err := json.Unmarshal([]byte(body), &keys); err != nil || code != 200 || len(keys.Keys) == 0 {
			t.Fatalf("keys: %d %s", code, body)
		}
		return keys.Keys[0].KeyID
	}
	s := startServer(t, map[string]string{"BANHAO_DATA_DIR": dir})
	first := kid(s)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, "banhao-signing.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v; want mode 0600", fi, err)
	}
	if !strings.Contains(s.Stdout.String(), "created the certificate signing key") {
		t.Errorf("first start did not say it made the key file:\n%s", s.Stdout.String())
	}
	again := startServer(t, map[string]string{"BANHAO_DATA_DIR": dir})
	if got := kid(again); got != first {
		t.Fatalf("after a restart the key is %s, want %s", got, first)
	}

	spec, _ := printing.GenerateKeySpec("k2027")
	old, _ := printing.GenerateKeySpec("k2026")
	keyFile := filepath.Join(t.TempDir(), "signing")
	if err := os.WriteFile(keyFile, []byte(spec+","+old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	configured := startServer(t, map[string]string{"BANHAO_SIGNING_KEYS_FILE": keyFile})
	code, _, body := configured.get(t, "/.well-known/banhao-keys.json")
	if code != 200 || !strings.Contains(body, `"kid":"k2027"`) || !strings.Contains(body, `"kid":"k2026"`) || strings.Index(body, "k2027") > strings.Index(body, "k2026") {
		t.Fatalf("configured keys: %d %s; want k2027 (signing) then k2026", code, body)
	}

	for name, env := range map[string]map[string]string{
		"mongo without signing keys": {"BANHAO_MONGODB_URI": "mongodb://127.0.0.1:1", "BANHAO_DATA_KEY": "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 32))},
		"malformed keys":             {"BANHAO_SIGNING_KEYS": "k1:not-base64"},
		"public URL":                 {"BANHAO_PUBLIC_URL": "zwfw.example.gov.cn"},
		"verification limit":         {"BANHAO_VERIFICATIONS_PER_MINUTE": "0"},
	} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"BANHAO_ADDR": "127.0.0.1:0", "BANHAO_DATA_DIR": t.TempDir()}
			for k, v := range env {
				vars[k] = v
			}
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "configuration") {
				t.Fatalf("run = %v, want a configuration error", err)
			}
			if strings.Contains(err.Error(), "not-base64") {
				t.Errorf("the error echoes key material: %v", err)
			}
		})
	}
}

// TestWindowPrinter: at the hand-over window, the clerk signed in there
// prints the certificate on the window's network printer over IPP: the
// original once, the document verifies, a printer fault is a retriable
// 503, and a second print is an approved copy.
func TestWindowPrinter(t *testing.T) {
	printer := ipptest.New()
	defer printer.Close()
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_WINDOW_PRINTERS"] = `{"出件窗口": "` + printer.URI() + `"}`
	s := startServer(t, env)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"出件窗口","sectors":["convenience"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	cert, _ := issueNoCrimeRecord(t, s)
	clerk := s.login(t, "clerk1", testPassword)
	windowPrint := func() (int, string, string) {
		return s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/window-print", clerk, strings.NewReader(`{"window":"`+w.ID+`"}`))
	}
	code, ctype, body := windowPrint()
	wantProblem(t, code, ctype, body, 409, "window_closed", "")
	s.signIn(t, clerk, w.ID)

	code, _, body = windowPrint()
	if code != http.StatusCreated || !strings.Contains(body, `"status":"printed"`) || !strings.Contains(body, `"copy":false`) {
		t.Fatalf("window print: %d %s", code, body)
	}
	jobs := printer.Jobs()
	if len(jobs) != 1 || !bytes.HasPrefix(jobs[0].Document, []byte("%PDF-")) || jobs[0].Attrs["document-format"] != "application/pdf" {
		t.Fatalf("the printer received %d jobs", len(jobs))
	}
	code, _, body = s.verify(t, pdfQR(t, jobs[0].Document))
	if code != 200 || !strings.Contains(body, `"status":"valid"`) {
		t.Fatalf("verify the window print: %d %s", code, body)
	}

	// The original is out: a second print needs an approved copy.
	code, ctype, body = windowPrint()
	wantProblem(t, code, ctype, body, 409, "reprint_needs_approval", "")
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/certificates/"+cert+"/copies", clerk, strings.NewReader(`{"reason":"原件污损"}`))
	if code != http.StatusCreated {
		t.Fatalf("approve a copy: %d %s", code, body)
	}
	printer.Fail(goipp.StatusErrorNotAcceptingJobs, 0) // out of paper
	code, ctype, body = windowPrint()
	wantProblem(t, code, ctype, body, 503, "printer_unavailable", "")
	printer.Fail(0, 0)
	code, _, body = windowPrint()
	if code != http.StatusCreated || !strings.Contains(body, `"copy":true`) || !strings.Contains(body, `"status":"printed"`) {
		t.Fatalf("copy after the paper is back: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/certificates/"+cert+"/prints", clerk, nil)
	if code != 200 || strings.Count(body, `"status":"printed"`) != 2 || strings.Count(body, `"status":"failed"`) != 1 {
		t.Fatalf("print history: %d %s", code, body)
	}
}
