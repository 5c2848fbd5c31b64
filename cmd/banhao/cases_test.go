package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
)

// caseBody is the part of a case response the tests read.
type caseBody struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	QueryCode string `json:"query_code"`
	State     string `json:"state"`
	Rev       int    `json:"rev"`
	Saved     int    `json:"saved"`
	Materials []struct {
		Index       int    `json:"index"`
		Name        string `json:"name"`
		Status      string `json:"status"`
		Source      string `json:"source"`
		SourceLabel string `json:"source_label"`
		Locked      bool   `json:"locked"`
		ECert       *struct {
			Number string `json:"number"`
		} `json:"ecert"`
		Problems []string `json:"problems"`
	} `json:"materials"`
	Notice *struct {
		Problems []struct {
			Name   string `json:"name"`
			Reason string `json:"reason"`
		} `json:"problems"`
	} `json:"notice"`
	Clock *struct {
		DueDay string `json:"due_day"`
		Level  string `json:"level"`
	} `json:"clock"`
	Timeline []struct {
		Action string `json:"action"`
		Office string `json:"office"`
		Note   string `json:"note"`
		Staff  string `json:"staff"`
		// StaffName is in the console's view only.
		StaffName string `json:"staff_name"`
	} `json:"timeline"`
}

func decodeCase(t *testing.T, code int, body string, want int) caseBody {
	t.Helper()
	if code != want {
		t.Fatalf("status %d, want %d: %s", code, want, body)
	}
	var c caseBody
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatalf("case body: %v: %s", err, body)
	}
	return c
}

func (c caseBody) material(t *testing.T, prefix string) int {
	t.Helper()
	for _, m := range c.Materials {
		if strings.HasPrefix(m.Name, prefix) {
			return m.Index
		}
	}
	t.Fatalf("no material %q", prefix)
	return -1
}

func testPNG(t *testing.T, seed byte) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Pix[0] = seed
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload sends a file as wx.uploadFile does: a multipart form with a
// "file" part.
func (s *server) upload(t *testing.T, path, token string, content []byte) (int, string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	part, err := w.CreateFormFile("file", "photo.pdf") // the name lies; the content decides
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	req, err := http.NewRequest(http.MethodPost, s.URL+path, &b)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), string(body)
}

// TestCaseFromDraftToConcluded is the cases issue's "done when" over the
// real server: a mini-program user takes a housing-fund loan from draft
// to concluded with e-certificates reused, one one-time notice, one 容缺
// material supplied later, a clerk and an approver in the console API,
// and follows it by number and query code.
func TestCaseFromDraftToConcluded(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	env["BANHAO_MAX_UPLOAD"] = "2097152" // 2 MiB, over the 1 MiB JSON limit
	s := startServer(t, env)
	alice, bob := s.mpLogin(t, "alice"), s.mpLogin(t, "bob")
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-gjj-loan"}`))
	wantProblem(t, code, ctype, body, 403, "real_name_required", "")
	s.bindRealName(t, alice, "张三丰", "371621198001010012") // holds the demo e-certificates
	s.bindRealName(t, bob, "李四", "37162119900215002X")
	s.createStaff(t, "clerk1", "clerk")
	s.createStaff(t, "clerk2", "clerk")
	s.createStaff(t, "fund1", "approver")
	clerk, clerk2, approver := s.login(t, "clerk1", testPassword), s.login(t, "clerk2", testPassword), s.login(t, "fund1", testPassword)

	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-gjj-loan"}`))
	c := decodeCase(t, code, body, 201)
	if c.State != "draft" || c.Saved != 2 {
		t.Fatalf("new draft: state %s, %d materials saved; want the ID card and marriage certificate from the library", c.State, c.Saved)
	}
	for _, m := range c.Materials[:2] {
		if m.Source != "ecert" || !m.Locked || m.SourceLabel != "电子证照（免提交）" || m.ECert == nil || strings.Contains(m.ECert.Number, "19800101") {
			t.Fatalf("material %+v: want 免提交 from a masked e-certificate", m)
		}
	}
	contract, income, form := c.material(t, "购房合同"), c.material(t, "收入证明"), c.material(t, "借款申请书")
	path := "/api/v1/mp/cases/" + c.ID

	// Another citizen sees nothing of it.
	code, ctype, body = s.do(t, http.MethodGet, path, bob, nil)
	wantProblem(t, code, ctype, body, 404, "not_found", "")

	// The pre-check names every missing material at once.
	code, ctype, body = s.do(t, http.MethodPost, path+"/submit", alice, strings.NewReader(`{}`))
	p := wantProblem(t, code, ctype, body, 422, "materials_missing", fmt.Sprintf("materials[%d]", contract))
	if len(p.Errors) != 2 {
		t.Fatalf("pre-check lists %d materials, want 2: %s", len(p.Errors), body)
	}

	// Uploads: the type comes from the content, not the name.
	code, ctype, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, contract), alice, []byte("MZ this is a program, not a contract"))
	wantProblem(t, code, ctype, body, 415, "file_type", "")
	code, ctype, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, contract), alice,
		[]byte("%PDF-1.7\n1 0 obj <</OpenAction <</S /J#61vaScript /JS (x)>> >> endobj\n%%EOF\n"))
	wantProblem(t, code, ctype, body, 422, "pdf_script", "")
	big := append(testPNG(t, 1), bytes.Repeat([]byte{0}, 2<<20+10<<10)...) // just over the 2 MiB limit
	code, ctype, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, contract), alice, big)
	wantProblem(t, code, ctype, body, 413, "file_too_large", "")
	code, _, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, contract), alice, testPNG(t, 2))
	decodeCase(t, code, body, 201)
	// A raw 1.5 MiB PNG body (over the JSON limit, under the upload limit) is fine too.
	raw := append(testPNG(t, 3), bytes.Repeat([]byte{0}, 1536<<10)...)
	req, _ := http.NewRequest(http.MethodPost, s.URL+fmt.Sprintf("%s/materials/%d/file", path, form), bytes.NewReader(raw))
	req.Header.Set("Content-Type", "image/png")
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("raw PNG upload: %d", res.StatusCode)
	}
	// The owner downloads it back intact.
	code, ctype, body = s.do(t, http.MethodGet, fmt.Sprintf("%s/materials/%d/file", path, form), alice, nil)
	if code != 200 || ctype != "image/png" || body != string(raw) {
		t.Fatalf("download: %d %s, %d bytes", code, ctype, len(body))
	}
	code, _, body = s.do(t, http.MethodPost, path+"/submit", alice, strings.NewReader(`{}`))
	c = decodeCase(t, code, body, 200)

	// The clerk's worklist has it; a one-time notice sends it back.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/cases", clerk, nil)
	if code != 200 || !strings.Contains(body, c.Number) {
		t.Fatalf("clerk worklist: %d %s", code, body)
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/return", clerk,
		strings.NewReader(fmt.Sprintf(`{"problems":[{"material":%d,"reason":"合同缺少签字页"}]}`, contract)))
	decodeCase(t, code, body, 200)
	code, _, body = s.do(t, http.MethodGet, path, alice, nil)
	c = decodeCase(t, code, body, 200)
	if c.State != "returned" || c.Notice == nil || len(c.Notice.Problems) != 1 || c.Notice.Problems[0].Reason != "合同缺少签字页" ||
		len(c.Materials[contract].Problems) != 1 {
		t.Fatalf("returned case as the citizen sees it: %s", body)
	}
	code, _, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, contract), alice, testPNG(t, 4))
	decodeCase(t, code, body, 201)
	code, _, body = s.do(t, http.MethodPost, path+"/submit", alice, strings.NewReader(`{}`))
	decodeCase(t, code, body, 200)

	// A second notice about the unchanged application form is refused.
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/return", clerk,
		strings.NewReader(fmt.Sprintf(`{"problems":[{"material":%d,"reason":"申请书未签字"}]}`, form)))
	wantProblem(t, code, ctype, body, 422, "notice_repeat", "problems[0]")

	// Two clerks accept at the same instant: one wins.
	accept := fmt.Sprintf(`{"pending":[%d],"commitment":"10个工作日内补交收入证明"}`, income)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i, tok := range []string{clerk, clerk2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _, _ = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", tok, strings.NewReader(accept))
		}()
	}
	wg.Wait()
	if !(codes[0] == 200 && codes[1] == 409 || codes[0] == 409 && codes[1] == 200) {
		t.Fatalf("two accepts answered %v, want one 200 and one 409", codes)
	}

	// The approver may not conclude until the income proof is in.
	code, _, body = s.do(t, http.MethodGet, "/api/v1/staff/cases", approver, nil)
	if code != 200 || !strings.Contains(body, c.Number) || !strings.Contains(body, `"level":"green"`) {
		t.Fatalf("approver worklist: %d %s", code, body)
	}
	code, ctype, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/decide", approver, strings.NewReader(`{"approve":true}`))
	wantProblem(t, code, ctype, body, 409, "pending_materials", "")
	code, _, body = s.upload(t, fmt.Sprintf("%s/materials/%d/file", path, income), alice, testPNG(t, 5))
	decodeCase(t, code, body, 201)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/decide", approver, strings.NewReader(`{"approve":true,"reason":"符合条件"}`))
	staffView := decodeCase(t, code, body, 200)
	if last := staffView.Timeline[len(staffView.Timeline)-1]; staffView.State != "approved" || last.Staff == "" || last.StaffName != "测试fund1" {
		t.Fatalf("decision: %s", body)
	}

	// The citizen's timeline: every step with its office, never a staff member.
	code, _, body = s.do(t, http.MethodGet, path, alice, nil)
	c = decodeCase(t, code, body, 200)
	var steps []string
	for _, e := range c.Timeline {
		steps = append(steps, e.Action)
		if e.Office == "" || e.Staff != "" || e.StaffName != "" {
			t.Fatalf("timeline line %+v: want an office and no staff", e)
		}
	}
	if got := strings.Join(steps, ","); got != "submit,return,submit,accept,supply,approve" {
		t.Fatalf("timeline = %s", got)
	}

	// Anyone with the acceptance notice follows it, without the materials.
	code, _, body = s.get(t, "/api/v1/cases/lookup?number="+c.Number+"&code="+c.QueryCode)
	if code != 200 || !strings.Contains(body, `"state":"approved"`) || strings.Contains(body, `"materials"`) || strings.Contains(body, c.ID) || strings.Contains(body, "query_code") {
		t.Fatalf("public lookup: %d %s", code, body)
	}
	code, ctype, body = s.get(t, "/api/v1/cases/lookup?number="+c.Number+"&code=000000")
	if c.QueryCode != "000000" {
		wantProblem(t, code, ctype, body, 404, "not_found", "")
	}
}

// TestECertImportCommand fills the e-certificate library from a file, as
// an operator would before banhao issues its own, and the next
// application takes the imported certificate instead of an upload. A file
// with one bad record stores nothing.
func TestECertImportCommand(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	s := startServer(t, env)
	dir := t.TempDir()
	write := func(name, content string) string {
		t.Helper()
		p := dir + "/" + name
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const carol = "11010519491231002X"
	good := write("good.json", `[{"type":"营业执照","number":"91371621MA3C009999","id_number":"`+carol+`","name":"王五","issuer":"惠民县行政审批服务局","issued_on":"2023-01-05","valid_until":"长期"}]`)
	bad := write("bad.json", `[{"type":"居民身份证","number":"`+carol+`","id_number":"`+carol+`","name":"王五","issuer":"惠民县公安局","issued_on":"2004-01-01","valid_until":"2044-01-01"},
		{"type":"户口簿","number":"x","id_number":"123","name":"王五","issuer":"惠民县公安局","issued_on":"2004-01-01"}]`)

	var out bytes.Buffer
	err := run(context.Background(), []string{"ecert", "import", bad}, s.getenv, &out)
	if err == nil || !strings.Contains(err.Error(), "[1].id_number") {
		t.Fatalf("import of a file with a bad record: %v; want an error naming record 1", err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"ecert", "import", good}, s.getenv, &out); err != nil || !strings.Contains(out.String(), "imported 1 e-certificates") {
		t.Fatalf("import: %v %s", err, out.String())
	}

	tok := s.mpLogin(t, "carol")
	s.bindRealName(t, tok, "王五", carol)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/cases", tok, strings.NewReader(`{"matter":"hm-sc-company-change"}`))
	c := decodeCase(t, code, body, 201)
	lic := c.material(t, "营业执照")
	if m := c.Materials[lic]; m.Source != "ecert" || m.ECert == nil || m.ECert.Number != "91"+strings.Repeat("*", 14)+"99" {
		t.Fatalf("business licence material = %+v; want the imported licence, masked", m)
	}
	// The bad file's ID card was not stored: the guide's ID card for
	// another matter is still to be provided.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/cases", tok, strings.NewReader(`{"matter":"hm-ga-no-crime-record"}`))
	c = decodeCase(t, code, body, 201)
	if m := c.Materials[c.material(t, "申请人居民身份证")]; m.Status != "missing" {
		t.Fatalf("ID card material = %+v; want missing (nothing of the bad file stored)", m)
	}
}

// TestWindowAndKioskCases: a clerk opens a case at the window for the
// holder of the ticket they called, records the paper originals and
// accepts it in one sitting; the same person sees it at a kiosk after
// reading their ID card, and applies there for a kiosk-enabled matter.
func TestWindowAndKioskCases(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(`{"name":"1号窗口","sectors":["convenience"]}`))
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, body)
	}
	var w struct{ ID string }
	json.Unmarshal([]byte(body), &w)
	s.createStaff(t, "clerk1", "clerk")
	clerk := s.login(t, "clerk1", testPassword)
	s.signIn(t, clerk, w.ID)

	k := registerKiosk(t, s, admin)
	k.skew = skew
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/card-sessions", `{"name":"张三丰","id_number":"371621198001010012","valid_from":"2020-01-01","valid_until":"长期"}`)
	if code != 201 {
		t.Fatalf("card: %d %s", code, body)
	}
	var cs struct {
		Token string `json:"session_token"`
	}
	json.Unmarshal([]byte(body), &cs)
	k.session = cs.Token
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/tickets", `{"sector":"convenience"}`)
	var tk struct{ ID string }
	if json.Unmarshal([]byte(body), &tk); code != 201 {
		t.Fatalf("ticket: %d %s", code, body)
	}
	if code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/windows/"+w.ID+"/call-next", clerk, nil); code != 200 {
		t.Fatalf("call: %d %s", code, body)
	}

	// At the window: the ID card comes from the library, the paper form is seen.
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/tickets/"+tk.ID+"/cases", clerk, strings.NewReader(`{"matter":"hm-ga-residence-permit"}`))
	c := decodeCase(t, code, body, 201)
	if c.Materials[0].Source != "ecert" {
		t.Fatalf("window case materials: %s", body)
	}
	for _, n := range []int{c.material(t, "居住登记凭证"), c.material(t, "合法稳定")} {
		code, _, body = s.do(t, http.MethodPost, fmt.Sprintf("/api/v1/staff/cases/%s/materials/%d/paper", c.ID, n), clerk, strings.NewReader(`{"seen":true}`))
		if c = decodeCase(t, code, body, 200); c.Materials[n].Source != "paper" {
			t.Fatalf("paper original: %s", body)
		}
	}
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/submit", clerk, strings.NewReader(`{}`))
	decodeCase(t, code, body, 200)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", clerk, strings.NewReader(`{}`))
	if c = decodeCase(t, code, body, 200); c.State != "accepted" || c.Clock == nil || c.Clock.Level != "green" {
		t.Fatalf("accepted at the window: %s", body)
	}
	// Accepting again, or returning the accepted case at the window, is refused.
	code, ctype, body := s.do(t, http.MethodPost, "/api/v1/staff/cases/"+c.ID+"/accept", clerk, strings.NewReader(`{}`))
	wantProblem(t, code, ctype, body, 409, "case_state", "")

	// At the kiosk, the card holder sees it with its timeline.
	code, _, body = k.do(t, http.MethodGet, "/api/v1/kiosk/cases", "")
	if code != 200 || !strings.Contains(body, c.Number) || !strings.Contains(body, "已受理") {
		t.Fatalf("kiosk case list: %d %s", code, body)
	}
	// A kiosk application: the pre-check names the form still missing.
	code, _, body = k.do(t, http.MethodPost, "/api/v1/kiosk/cases", `{"matter":"hm-ga-no-crime-record"}`)
	kc := decodeCase(t, code, body, 201)
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/cases/"+kc.ID+"/submit", `{}`)
	wantProblem(t, code, ctype, body, 422, "materials_missing", fmt.Sprintf("materials[%d]", kc.material(t, "犯罪记录查询申请表")))
	code, ctype, body = k.do(t, http.MethodPost, "/api/v1/kiosk/cases", `{"matter":"hm-gjj-loan"}`)
	wantProblem(t, code, ctype, body, 422, "channel_not_offered", "")
	k.session = ""
	code, ctype, body = k.do(t, http.MethodGet, "/api/v1/kiosk/cases", "")
	wantProblem(t, code, ctype, body, 401, "unauthorized", "")
}
