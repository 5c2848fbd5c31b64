package main

import (
	"bufio"
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/banhao/banhao/assets"
	"github.com/banhao/banhao/internal/catalog"
	"github.com/banhao/banhao/internal/identity"
	"github.com/banhao/banhao/internal/wechat/wechattest"
)

// This file drives malformed requests at every operation of /openapi.json
// through app.Test, with real credentials so that they reach the handlers
// behind authentication: TestAPIBadInput generates them from a seeded PCG,
// FuzzAPI lets Go's fuzzer choose them. Either fails on a 5xx, on a panic
// (the recover middleware logs "panic in handler") and on an error that is
// not a problem+json with a code.

// fuzzEnv is a banhao app in-process on a fresh embedded store, with the
// demo catalog, the dev clock at a working Wednesday 09:00, and logged-in
// callers of every kind.
type fuzzEnv struct {
	t    testing.TB
	app  *fiber.App
	svc  *services
	logs *logCapture
	ops  []fuzzOp
	doc  map[string]any

	// skew is what the kiosk adds to the real clock to match the server's.
	skew time.Duration
	// citizen is bound to a real name; unbound is not.
	citizen, unbound string
	// staff are tokens by account: all (every role), admin, clerk,
	// supervisor, approver.
	staff   map[string]string
	courier string
	kiosk   struct{ id, secret, session string }
	// pools are real values for path parameters: by the path up to and
	// including the parameter ("/api/v1/mp/cases/{id}"), and by name;
	// by an operation's whole path for one that needs particular records
	// ("/api/v1/mp/cases/{id}/delivery").
	pools map[string][]string
	spare int
	// printable are certificates of the citizen not yet sent to print:
	// a new kiosk starts a print job on one, so that the job's PDF is
	// there to fetch.
	printable []string
	// quiet keeps step from logging a refusal that is expected.
	quiet bool
}

var fuzzStaff = []struct{ user, roles string }{
	{"fuzzall", "admin,clerk,supervisor,approver"},
	{"fuzzadmin", "admin"},
	{"fuzzclerk", "clerk"},
	{"fuzzsup", "supervisor"},
	{"fuzzappr", "approver"},
}

func newFuzzEnv(t testing.TB) *fuzzEnv { return newFuzzEnvOn(t, nil) }

// newFuzzEnvOn is newFuzzEnv with store settings added (the MongoDB
// store: its URI, database and keys).
func newFuzzEnvOn(t testing.TB, store map[string]string) *fuzzEnv {
	t.Helper()
	ctx := context.Background()
	vars := map[string]string{
		"BANHAO_DEV":      "true",
		"BANHAO_DEV_NOW":  atWednesday9,
		"BANHAO_DATA_DIR": filepath.Join(t.TempDir(), "data"),
		// One citizen sends thousands of requests: the per-citizen and
		// per-address limits would answer most with 429 and hide the handlers.
		"BANHAO_CITIZEN_WRITES_PER_MINUTE": "1000000",
		"BANHAO_MP_LOGINS_PER_MINUTE":      "1000000",
		// The public case lookup allows at most 10,000 a minute: enough
		// that the lookups with a real number and code reach the handler.
		"BANHAO_CASE_LOOKUPS_PER_MINUTE": "10000",
	}
	// WeChat is there, as in production: a fake on 127.0.0.1 that
	// refuses every code it was not given.
	wx := wechattest.New(t)
	vars["BANHAO_WECHAT_APPID"], vars["BANHAO_WECHAT_SECRET"], vars["BANHAO_WECHAT_API_URL"] = wechattest.AppID, wechattest.Secret, wx.URL()
	maps.Copy(vars, store)
	cfg, err := parseConfig(nil, func(k string) string { return vars[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		t.Fatal(err)
	}
	logs := &logCapture{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := openStores(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.close() })
	keys, err := openKeys(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SigningKeys, err = signingSpec(cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	_, skew := devClock(t, atWednesday9)
	svc, err := newServices(cfg, st, keys, log)
	if err != nil {
		t.Fatal(err)
	}
	// Password hashing at production cost (64 MiB, 2 passes) would take most of the
	// run: staff and couriers get a service with cheap hashes, the same
	// code otherwise.
	cheap := identity.DefaultConfig()
	cheap.Argon2 = identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1} // the least a stored hash may have
	svc.identity = identity.NewService(st.staff, st.sessions, svc.audit, log, clock(cfg), cheap)
	b, err := assets.FS.ReadFile("catalog/demo.json")
	if err != nil {
		t.Fatal(err)
	}
	seed, err := catalog.ParseSeedBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.catalog.LoadSeedIfEmpty(ctx, seed); err != nil {
		t.Fatal(err)
	}
	if err := loadDemoCertificates(ctx, svc.ecerts); err != nil {
		t.Fatal(err)
	}
	if err := svc.catalog.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.calendar.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	app, err := newApp(cfg, log, prometheus.NewRegistry(), st, svc)
	if err != nil {
		t.Fatal(err)
	}
	// Ends the event streams still open (before the store closes).
	t.Cleanup(func() { app.ShutdownWithTimeout(time.Second) })
	// app.Test runs the app's start-up once; serveTest relies on it.
	if res, err := app.Test(httptest.NewRequest(http.MethodGet, "/healthz", nil)); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v", err)
	}
	e := &fuzzEnv{t: t, app: app, svc: svc, logs: logs, skew: skew, staff: map[string]string{}, pools: map[string][]string{}}
	if err := e.loadOps(); err != nil {
		t.Fatal(err)
	}
	e.addPages()
	for _, s := range fuzzStaff {
		var roles []identity.Role
		for _, r := range strings.Split(s.roles, ",") {
			roles = append(roles, identity.Role(r))
		}
		if _, err := svc.identity.CreateStaff(ctx, "cli", identity.NewStaff{Center: "hm", Username: s.user, Name: "测试" + s.user, Roles: roles, Password: testPassword}, identity.Origin{}); err != nil {
			t.Fatal(err)
		}
		l, err := svc.identity.LoginStaff(ctx, s.user, testPassword, identity.Origin{})
		if err != nil {
			t.Fatal(err)
		}
		e.staff[s.user] = l.Token
	}
	e.citizen = e.citizenLogin("fuzz-alice", "张三丰", aliceID)
	e.unbound = e.citizenLogin("fuzz-bob", "", "")
	e.newKiosk()
	e.pools["/api/v1/staff/kiosks/{id}"] = []string{e.kiosk.id}

	// A little of everything, so that the pools hold real IDs.
	admin := e.staff["fuzzall"]
	e.setup(http.MethodPost, "/api/v1/staff/couriers", admin, `{"username":"fuzzcourier","name":"快递员","company":"顺丰","password":"`+testPassword+`"}`)
	l, err := svc.identity.LoginCourier(ctx, "fuzzcourier", testPassword, identity.Origin{})
	if err != nil {
		t.Fatal(err)
	}
	e.courier = l.Token
	e.setup(http.MethodPost, "/api/v1/staff/windows", admin, `{"name":"1号窗口","sectors":["housing-fund","tax"]}`)
	e.setup(http.MethodPost, "/api/v1/mp/tickets", e.citizen, `{"center":"hm","sector":"tax"}`)
	e.setup(http.MethodPost, "/api/v1/mp/appointments", e.citizen, `{"center":"hm","sector":"business","start":"2026-11-26T09:00:00+08:00"}`)
	e.setup(http.MethodPost, "/api/v1/mp/cases", e.citizen, `{"matter":"hm-gjj-loan"}`)
	e.setup(http.MethodPost, "/api/v1/mp/consultations", e.citizen, `{"center":"hm","text":"周六上班吗？"}`)
	e.setup(http.MethodPost, "/api/v1/mp/complaints", e.citizen, `{"center":"hm","text":"取号机打印不出号票"}`)
	e.setup(http.MethodPost, "/api/v1/kiosk/tickets", "kiosk", `{"sector":"housing-fund"}`)
	e.setup(http.MethodPost, "/api/v1/kiosk/cases", "kiosk", `{"matter":"hm-ga-no-crime-record"}`)
	e.walkCase(admin)
	e.seedDeep(admin)
	for _, path := range []string{"/api/v1/staff/windows", "/api/v1/staff/kiosks", "/api/v1/staff/cases", "/api/v1/staff/consultations", "/api/v1/staff/complaints", "/api/v1/staff/couriers", "/api/v1/staff/accounts"} {
		e.setup(http.MethodGet, path, admin, "")
	}
	return e
}

// citizenLogin opens a mini-program session, bound to a real name when
// name is set.
func (e *fuzzEnv) citizenLogin(openid, name, idNumber string) string {
	ctx := context.Background()
	l, err := e.svc.citizens.Login(ctx, "dev:"+openid, identity.Origin{})
	if err != nil {
		e.t.Fatal(err)
	}
	if name != "" {
		if _, err := e.svc.citizens.BindRealName(ctx, l.Citizen, name, idNumber, identity.Origin{}); err != nil && !strings.Contains(err.Error(), "bound") {
			e.t.Fatal(err)
		}
	}
	return l.Token
}

// newKiosk registers a kiosk and reads alice's card into it.
func (e *fuzzEnv) newKiosk() {
	ctx := context.Background()
	k, secret, err := e.svc.kiosks.Register(ctx, "cli", "hm", "一楼大厅", true, true, identity.Origin{})
	if err != nil {
		e.t.Fatal(err)
	}
	e.kiosk.id, e.kiosk.secret = k.ID, secret
	e.newCardSession()
}

func (e *fuzzEnv) newCardSession() { e.newCardSessionFor("张三丰", aliceID) }

// newCardSessionFor reads a card into the kiosk.
func (e *fuzzEnv) newCardSessionFor(name, idNumber string) {
	ctx := context.Background()
	ks, err := e.svc.kiosks.List(ctx, "hm")
	if err != nil {
		e.t.Fatal(err)
	}
	for _, k := range ks {
		if k.ID != e.kiosk.id {
			continue
		}
		tok, _, err := e.svc.kiosks.StartCardSession(ctx, k, identity.Card{Name: name, IDNumber: idNumber, ValidFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, identity.Origin{})
		if err != nil {
			e.t.Fatal(err)
		}
		e.kiosk.session = tok
		return
	}
	e.t.Fatal("fuzz kiosk not listed")
}

// setup sends a known-good request (token "kiosk" signs it as the kiosk)
// and keeps the IDs it answers with.
func (e *fuzzEnv) setup(method, path, token, body string) {
	r := &fuzzRequest{Method: method, URI: path, Header: http.Header{}, Body: []byte(body)}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if token == "kiosk" {
		r.Header.Set("X-Kiosk-Session", e.kiosk.session)
		e.sign(r, e.kiosk.id, e.kiosk.secret, 0)
	} else {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	res := e.send(r)
	if res.err != nil || res.status >= 300 {
		e.t.Fatalf("setup %s %s: %d %v %s", method, path, res.status, res.err, res.body)
	}
	e.harvest(path, res)
}

// walkCase takes a case at the window as far as a decision, so that
// the fuzzer also meets cases past submission (and their certificate).
// Steps that fail are logged, not fatal: the fuzzing goes on without.
func (e *fuzzEnv) walkCase(staff string) {
	try := func(method, path, token, body string) map[string]any {
		r := &fuzzRequest{Method: method, URI: path, Header: http.Header{"Authorization": {"Bearer " + token}}, Body: []byte(body)}
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		res := e.send(r)
		if res.err != nil || res.status >= 300 {
			e.t.Logf("walk %s %s: %d %v %.300s", method, path, res.status, res.err, res.body)
			return nil
		}
		e.harvest(path, res)
		var v map[string]any
		json.Unmarshal(res.body, &v)
		return v
	}
	w := try(http.MethodPost, "/api/v1/staff/windows", staff, `{"name":"2号窗口","sectors":["convenience"]}`)
	if w == nil {
		return
	}
	wid, _ := w["id"].(string)
	try(http.MethodPost, "/api/v1/staff/windows/"+wid+"/sign-in", staff, "")
	main := e.kiosk.session
	e.newCardSessionFor("李四", bobID)
	r := &fuzzRequest{Method: http.MethodPost, URI: "/api/v1/kiosk/tickets", Header: http.Header{"Content-Type": {"application/json"}, "X-Kiosk-Session": {e.kiosk.session}}, Body: []byte(`{"sector":"convenience"}`)}
	e.sign(r, e.kiosk.id, e.kiosk.secret, 0)
	e.kiosk.session = main
	res := e.send(r)
	var tk struct{ ID string }
	if json.Unmarshal(res.body, &tk); res.status != http.StatusCreated {
		e.t.Logf("walk ticket: %d %s", res.status, res.body)
		return
	}
	e.pools["ticket"] = append(e.pools["ticket"], tk.ID)
	try(http.MethodPost, "/api/v1/staff/windows/"+wid+"/call-next", staff, "")
	c := try(http.MethodPost, "/api/v1/staff/tickets/"+tk.ID+"/cases", staff, `{"matter":"hm-ga-residence-permit"}`)
	if c == nil {
		return
	}
	id, _ := c["id"].(string)
	e.addPool("/api/v1/staff/cases/{id}", id)
	mats, _ := c["materials"].([]any)
	for n, m := range mats {
		if mm, _ := m.(map[string]any); mm["source"] != "ecert" {
			try(http.MethodPost, fmt.Sprintf("/api/v1/staff/cases/%s/materials/%d/paper", id, n), staff, `{"seen":true}`)
		}
	}
	try(http.MethodPost, "/api/v1/staff/cases/"+id+"/submit", staff, `{}`)
	try(http.MethodPost, "/api/v1/staff/cases/"+id+"/accept", staff, `{}`)
	try(http.MethodPost, "/api/v1/staff/cases/"+id+"/decide", staff, `{"approve":true,"reason":"符合条件"}`)
	try(http.MethodPost, "/api/v1/staff/windows/"+wid+"/tickets/"+tk.ID+"/complete", staff, `{}`)
	// The window's pad rates the ticket 非常不满意: that opens a
	// rectification task (as in TestBadReviewRectificationLoop).
	if ev := e.stepJSON(http.MethodPost, "/api/v1/kiosk/evaluations", "kiosk", `{"window":"`+wid+`","level":1,"comment":"等了很久","tags":["等候时间长"]}`); ev != nil {
		rid, _ := ev["rectification"].(string)
		if rid == "" {
			e.t.Logf("walk: a bad rating opened no rectification: %v", ev)
		}
		e.addPool("/api/v1/staff/rectifications/{id}", rid)
	}
}

// step sends a known-good request with a bearer token (token "kiosk"
// signs it as the kiosk, on the card session in e.kiosk.session), keeps
// its IDs and returns its JSON object; a failure is logged, not fatal,
// and returns nil.
func (e *fuzzEnv) step(method, path, token, ctype string, body []byte) map[string]any {
	r := &fuzzRequest{Method: method, URI: path, Header: http.Header{}, Body: body}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if token == "kiosk" {
		if e.kiosk.session != "" {
			r.Header.Set("X-Kiosk-Session", e.kiosk.session)
		}
		e.sign(r, e.kiosk.id, e.kiosk.secret, 0)
	} else {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	res := e.send(r)
	if res.err != nil || res.status >= 300 {
		if !e.quiet {
			e.t.Logf("seed %s %s: %d %v %.300s", method, path, res.status, res.err, res.body)
		}
		return nil
	}
	e.harvest(path, res)
	var v map[string]any
	json.Unmarshal(res.body, &v)
	return v
}

func (e *fuzzEnv) stepJSON(method, path, token, body string) map[string]any {
	return e.step(method, path, token, "application/json", []byte(body))
}

// addPool adds real values to the pool of a path parameter.
func (e *fuzzEnv) addPool(key string, vals ...string) {
	for _, v := range vals {
		if v != "" && !slices.Contains(e.pools[key], v) {
			e.pools[key] = append(e.pools[key], v)
		}
	}
}

// citizenCase takes a case of the fuzz citizen from draft to approved:
// form (when set), the named materials uploaded, submitted, accepted
// and approved by staff. It returns the case as the citizen then sees
// it, or nil.
func (e *fuzzEnv) citizenCase(staff, matter, form string, materials []string, before func(id string)) map[string]any {
	id := e.citizenSubmit(matter, form, materials, before)
	if id == "" {
		return nil
	}
	e.stepJSON(http.MethodPost, "/api/v1/staff/cases/"+id+"/accept", staff, `{}`)
	e.stepJSON(http.MethodPost, "/api/v1/staff/cases/"+id+"/decide", staff, `{"approve":true,"reason":"符合条件"}`)
	return e.stepJSON(http.MethodGet, "/api/v1/mp/cases/"+id, e.citizen, "")
}

// citizenSubmit starts a case of the fuzz citizen, fills its form (when
// set), calls before (when set), uploads the named materials and submits
// it. It returns the case's ID, or "".
func (e *fuzzEnv) citizenSubmit(matter, form string, materials []string, before func(id string)) string {
	c := e.stepJSON(http.MethodPost, "/api/v1/mp/cases", e.citizen, `{"matter":"`+matter+`"}`)
	if c == nil {
		return ""
	}
	id, _ := c["id"].(string)
	path := "/api/v1/mp/cases/" + id
	if form != "" {
		e.stepJSON(http.MethodPut, path+"/form", e.citizen, form)
	}
	if before != nil {
		before(id)
	}
	mats, _ := c["materials"].([]any)
	for n, m := range mats {
		mm, _ := m.(map[string]any)
		name, _ := mm["name"].(string)
		if !slices.ContainsFunc(materials, func(p string) bool { return strings.HasPrefix(name, p) }) {
			continue
		}
		idx := n
		if i, ok := mm["index"].(float64); ok {
			idx = int(i)
		}
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		part, _ := w.CreateFormFile("file", "photo.png")
		part.Write(fuzzPNG(byte(n + len(matter))))
		w.Close()
		e.step(http.MethodPost, fmt.Sprintf("%s/materials/%d/file", path, idx), e.citizen, w.FormDataContentType(), b.Bytes())
	}
	e.stepJSON(http.MethodPost, path+"/submit", e.citizen, `{}`)
	e.addPool("/api/v1/staff/cases/{id}", id)
	return id
}

// fuzzPNG is a tiny real PNG, different for each seed.
func fuzzPNG(seed byte) []byte {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.Pix[0] = seed
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// seedDeep makes the records that the operations on parcels,
// certificates, print jobs, printable notices and the public lookup
// need: an approved 个体工商户设立登记 with express delivery (its parcel,
// assigned to the fuzz courier), approved 无犯罪记录证明 (certificates,
// and a print job of one at the kiosk), cases returned with a one-time
// notice, and their numbers and query codes. Steps that fail are
// logged, not fatal.
func (e *fuzzEnv) seedDeep(staff string) {
	// Express delivery, the address given while applying (as in
	// dlExpressCase): approval leaves a parcel.
	express := e.citizenCase(staff, "hm-sc-individual", `{"summary":"开一家小吃店","delivery":"express"}`,
		[]string{"个体工商户登记", "经营场所使用证明"}, func(id string) {
			e.stepJSON(http.MethodPut, "/api/v1/mp/cases/"+id+"/delivery", e.citizen, `{"name":"张三丰","phone":"13800138000","address":"北京市海淀区中关村大街1号"}`)
		})
	if express != nil {
		id, _ := express["id"].(string)
		e.lookupPair(express)
		e.addPool("/api/v1/mp/cases/{id}/delivery", id)
		if p := e.stepJSON(http.MethodGet, "/api/v1/mp/cases/"+id+"/delivery", e.citizen, ""); p != nil {
			pid, _ := p["id"].(string)
			e.addPool("/api/v1/mp/parcels/{id}", pid)
			e.addPool("/api/v1/staff/parcels/{id}", pid)
			e.addPool("/api/v1/courier/parcels/{id}", pid)
			// To the fuzz courier, whose requests on it then pass the
			// courier check.
			if cs := e.pools["/api/v1/staff/couriers/{id}"]; len(cs) > 0 {
				e.stepJSON(http.MethodPost, "/api/v1/staff/parcels/"+pid+"/assign", staff, `{"courier":"`+cs[0]+`"}`)
			}
		}
	}
	// Certificates for the kiosk to print (as in issueNoCrimeRecord):
	// a job holds its certificate, and a revoked kiosk's job cannot be
	// fetched, so there are a few for the kiosks that replace it.
	for range 8 {
		cert := e.citizenCase(staff, "hm-ga-no-crime-record", "", []string{"犯罪记录查询申请表"}, nil)
		if cert == nil {
			continue
		}
		e.lookupPair(cert)
		cm, _ := cert["certificate"].(map[string]any)
		cid, _ := cm["id"].(string)
		if cid == "" {
			e.t.Logf("seed: the approved case has no certificate: %v", cert)
			continue
		}
		e.addPool("/api/v1/staff/certificates/{id}", cid)
		e.addPool("certificate", cid)
		e.printable = append(e.printable, cid)
	}
	e.startPrintJob(true)
	// Cases accepted, then returned with a one-time notice (一次告知书,
	// as in the cases test): the console's printable notices, the
	// acceptance notice and the one-time notice, are of such cases.
	for range 2 {
		if id := e.citizenSubmit("hm-ga-no-crime-record", "", []string{"犯罪记录查询申请表"}, nil); id != "" {
			e.stepJSON(http.MethodPost, "/api/v1/staff/cases/"+id+"/accept", staff, `{}`)
			if e.stepJSON(http.MethodPost, "/api/v1/staff/cases/"+id+"/return", staff, `{"problems":[{"material":0,"reason":"申请表缺少签名"}]}`) != nil {
				e.addPool("/console/cases/{id}", id)
			}
		}
	}
}

// startPrintJob starts a print job at the current kiosk, on the card in
// it, of a certificate not printed yet, for the fuzzer to fetch its PDF;
// replace drops the jobs of the kiosk before (they cannot be fetched).
func (e *fuzzEnv) startPrintJob(replace bool) {
	// The fuzzer may have started a job on one already, or revoked it.
	e.quiet = true
	defer func() { e.quiet = false }()
	for len(e.printable) > 0 {
		cid := e.printable[0]
		e.printable = e.printable[1:]
		if j := e.stepJSON(http.MethodPost, "/api/v1/kiosk/print-jobs", "kiosk", `{"certificate":"`+cid+`"}`); j != nil {
			if id, _ := j["id"].(string); id != "" && replace {
				e.pools["/api/v1/kiosk/print-jobs/{id}"] = []string{id}
			}
			return
		}
	}
}

// lookupPair keeps a case's number and query code for the public lookup.
func (e *fuzzEnv) lookupPair(c map[string]any) {
	num, _ := c["number"].(string)
	code, _ := c["query_code"].(string)
	if num != "" && code != "" {
		e.addPool("case-lookup", num+"\x00"+code)
	} else {
		e.t.Logf("seed: no number and query code in %v", c)
	}
}

// fuzzOp is one operation of /openapi.json.
type fuzzOp struct {
	Method, Path string
	Params       []fuzzParam
	// Bodies are the request body's schemas by content type.
	Bodies    map[string]any
	BodyTypes []string
	Required  bool
	// Security names the accepted credentials; empty for public routes.
	Security []string
	// Page is a page, not an API operation.
	Page bool
}

type fuzzParam struct {
	Name, In string
	Schema   map[string]any
	Required bool
}

func (e *fuzzEnv) loadOps() error {
	b, err := assets.FS.ReadFile("openapi.json")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &e.doc); err != nil {
		return err
	}
	paths, _ := e.doc["paths"].(map[string]any)
	var keys []string
	for p := range paths {
		keys = append(keys, p)
	}
	slices.Sort(keys)
	for _, p := range keys {
		ops, _ := paths[p].(map[string]any)
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			o, ok := ops[m].(map[string]any)
			if !ok {
				continue
			}
			op := fuzzOp{Method: strings.ToUpper(m), Path: p, Bodies: map[string]any{}}
			params, _ := o["parameters"].([]any)
			if common, ok := ops["parameters"].([]any); ok {
				params = append(common, params...)
			}
			for _, x := range params {
				pm, _ := e.resolve(x).(map[string]any)
				if pm == nil {
					continue
				}
				s, _ := e.resolve(pm["schema"]).(map[string]any)
				req, _ := pm["required"].(bool)
				op.Params = append(op.Params, fuzzParam{Name: fmt.Sprint(pm["name"]), In: fmt.Sprint(pm["in"]), Schema: s, Required: req})
			}
			if rb, ok := e.resolve(o["requestBody"]).(map[string]any); ok {
				op.Required, _ = rb["required"].(bool)
				content, _ := rb["content"].(map[string]any)
				for ct, v := range content {
					vm, _ := v.(map[string]any)
					op.Bodies[ct] = vm["schema"]
					op.BodyTypes = append(op.BodyTypes, ct)
				}
				slices.Sort(op.BodyTypes)
			}
			sec, _ := o["security"].([]any)
			for _, s := range sec {
				for name := range s.(map[string]any) {
					op.Security = append(op.Security, name)
				}
			}
			slices.Sort(op.Security)
			e.ops = append(e.ops, op)
		}
	}
	if len(e.ops) < 100 {
		return fmt.Errorf("only %d operations in openapi.json", len(e.ops))
	}
	return nil
}

// addPages adds the pages (GET routes outside the API, static files
// aside): they answer a browser, so an error may be the HTML error page.
func (e *fuzzEnv) addPages() {
	seen := map[string]bool{}
	for _, r := range e.app.GetRoutes(true) {
		if r.Method != http.MethodGet || isAPI(r.Path) || strings.HasPrefix(r.Path, "/static") || strings.Contains(r.Path, "*") || seen[r.Path] {
			continue
		}
		seen[r.Path] = true
		op := fuzzOp{Method: http.MethodGet, Path: r.Path, Page: true}
		for _, name := range r.Params {
			op.Path = strings.Replace(op.Path, ":"+name, "{"+name+"}", 1)
			op.Params = append(op.Params, fuzzParam{Name: name, In: "path", Required: true})
		}
		if strings.HasPrefix(r.Path, "/console") {
			op.Security = []string{"staffCookie"}
		}
		for _, q := range []string{"q", "id", "path", "print", "center", "sector", "payload", "next", "matter", "date"} {
			op.Params = append(op.Params, fuzzParam{Name: q, In: "query"})
		}
		// The evaluation pad's page is of a window: a string, so that it
		// is a real window's ID most of the time.
		op.Params = append(op.Params, fuzzParam{Name: "window", In: "query", Schema: map[string]any{"type": "string"}})
		e.ops = append(e.ops, op)
	}
}

// resolve follows a local $ref.
func (e *fuzzEnv) resolve(v any) any {
	for i := 0; i < 10; i++ {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		var cur any = e.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cm, _ := cur.(map[string]any)
			cur = cm[part]
		}
		v = cur
	}
	return v
}

// fuzzRequest is a generated request, kept whole so that a failure can
// be shown and replayed.
type fuzzRequest struct {
	Op     string
	Method string
	URI    string
	Header http.Header
	Body   []byte
	// reauth names the credential the request may end (logout, revoke).
	reauth string
	// page is a request for a page, whose errors may be HTML.
	page bool
}

func (r *fuzzRequest) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", r.Method, r.URI)
	var names []string
	for k := range r.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		v := r.Header.Get(k)
		if len(v) > 200 {
			v = v[:200] + fmt.Sprintf("...(%d bytes)", len(v))
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	body := r.Body
	if len(body) > 2000 {
		return b.String() + fmt.Sprintf("\n%q...(%d bytes)", body[:2000], len(body))
	}
	return b.String() + fmt.Sprintf("\n%q", body)
}

type fuzzResult struct {
	status int
	ctype  string
	body   []byte
	err    error
	logs   string
}

func (e *fuzzEnv) send(r *fuzzRequest) fuzzResult {
	req, err := http.NewRequest(r.Method, "http://banhao.test"+r.URI, bytes.NewReader(r.Body))
	if err != nil {
		return fuzzResult{err: fmt.Errorf("build request: %w", err)}
	}
	req.Header = r.Header.Clone()
	timeout := 30 * time.Second
	if strings.HasSuffix(r.Op, "/events") {
		// A stream of server-sent events does not end; its start is enough.
		timeout = 50 * time.Millisecond
	}
	e.logs.reset()
	res, err := serveTest(e.app, req, timeout)
	logs := e.logs.String()
	if err != nil {
		if strings.HasSuffix(r.Op, "/events") && errors.Is(err, errStillStreaming) {
			return fuzzResult{status: http.StatusOK, ctype: "text/event-stream", logs: logs}
		}
		return fuzzResult{err: err, logs: logs}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return fuzzResult{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: b, err: err, logs: logs}
}

// logCapture keeps what the app logged during one request.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCapture) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCapture) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logCapture) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Reset()
}

var errStillStreaming = errors.New("no complete answer yet")

// serveTest is app.Test, except that it reads the answer the server wrote
// even when fasthttp reports an error reading the request (a header over
// the read buffer, a multipart body it cannot parse): app.Test returns
// only the error then, while a real client gets the error response.
func serveTest(app *fiber.App, req *http.Request, timeout time.Duration) (*http.Response, error) {
	if req.Body != http.NoBody && req.Header.Get(fiber.HeaderContentLength) == "" {
		req.Header.Set(fiber.HeaderContentLength, strconv.FormatInt(req.ContentLength, 10))
	}
	dump, err := httputil.DumpRequest(req, true)
	if err != nil {
		return nil, err
	}
	conn := &fuzzConn{r: bytes.NewReader(dump)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.Server().ServeConn(conn) //nolint:errcheck // the answer written is what counts
	}()
	select {
	case <-done:
	case <-time.After(timeout):
		return nil, errStillStreaming
	}
	return http.ReadResponse(bufio.NewReader(bytes.NewReader(conn.w.Bytes())), req)
}

// fuzzConn is one request in, one answer out.
type fuzzConn struct {
	r  *bytes.Reader
	mu sync.Mutex
	w  bytes.Buffer
}

func (c *fuzzConn) Read(b []byte) (int, error) { return c.r.Read(b) }
func (c *fuzzConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(b)
}
func (c *fuzzConn) Close() error        { return nil }
func (c *fuzzConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80} }
func (c *fuzzConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// check returns what is wrong with a response, or "".
func (e *fuzzEnv) check(r *fuzzRequest, res fuzzResult) string {
	switch {
	case res.err != nil:
		return "no response: " + res.err.Error()
	case strings.Contains(res.logs, "panic in handler"):
		return "panic"
	case res.status >= 500:
		return fmt.Sprintf("status %d", res.status)
	case res.status < 400 || r.Method == http.MethodHead:
		return ""
	}
	if r.page && strings.HasPrefix(res.ctype, "text/html") {
		return ""
	}
	if !strings.HasPrefix(res.ctype, "application/problem+json") {
		return fmt.Sprintf("status %d as %q, not problem+json", res.status, res.ctype)
	}
	var p struct {
		Code   string `json:"code"`
		Status int    `json:"status"`
	}
	if err := json.Unmarshal(res.body, &p); err != nil {
		return fmt.Sprintf("problem is not JSON: %v", err)
	}
	if p.Code == "" || p.Status != res.status {
		return fmt.Sprintf("problem code %q status %d for HTTP %d", p.Code, p.Status, res.status)
	}
	return ""
}

// do sends a generated request, renews a credential it may have ended,
// keeps real IDs from a success and returns the finding, if any.
func (e *fuzzEnv) do(r *fuzzRequest) (fuzzResult, string) {
	res := e.send(r)
	bad := e.check(r, res)
	if res.status >= 200 && res.status < 300 {
		e.harvest(strings.SplitN(r.URI, "?", 2)[0], res)
		if r.Op == "GET /api/v1/kiosk/print-jobs/{id}/pdf" {
			// That job's PDF is out: another for the next fetch.
			e.startPrintJob(false)
		}
		if r.Op == "POST /api/v1/staff/logout" || r.Op == "POST /api/v1/staff/password" {
			// A staff token may have come as the wrong credential.
			e.renewStaff()
		}
		switch r.reauth {
		case "citizen":
			e.citizen = e.citizenLogin("fuzz-alice", "张三丰", aliceID)
		case "kiosk":
			// Revoking another kiosk (the pool holds them all) leaves
			// this one, and its print job, as they were.
			if strings.Contains(r.URI, "/"+e.kiosk.id+"/") {
				e.newKiosk()
				e.startPrintJob(true)
			}
		case "card":
			e.newCardSession()
		case "courier":
			l, err := e.svc.identity.LoginCourier(context.Background(), "fuzzcourier", testPassword, identity.Origin{})
			if err == nil {
				e.courier = l.Token
			}
		}
	}
	return res, bad
}

// renewStaff logs the shared staff accounts in again if a request ended
// their sessions.
func (e *fuzzEnv) renewStaff() {
	ctx := context.Background()
	for user, tok := range e.staff {
		if _, _, err := e.svc.identity.AuthenticateStaff(ctx, tok); err == nil {
			continue
		}
		l, err := e.svc.identity.LoginStaff(ctx, user, testPassword, identity.Origin{})
		if err != nil {
			e.t.Fatalf("log %s in again: %v", user, err)
		}
		e.staff[user] = l.Token
	}
}

// harvest keeps the IDs of a successful answer for the paths below it.
func (e *fuzzEnv) harvest(path string, res fuzzResult) {
	if !strings.HasPrefix(res.ctype, "application/json") {
		return
	}
	var v any
	if json.Unmarshal(res.body, &v) != nil {
		return
	}
	add := func(key, id string) {
		if id == "" || len(e.pools[key]) > 50 || slices.Contains(e.pools[key], id) {
			return
		}
		e.pools[key] = append(e.pools[key], id)
	}
	take := func(m map[string]any) {
		if code, ok := m["code"].(string); ok && strings.Contains(path, "matters") {
			add("matter-code", code)
		}
		if tok, ok := m["session_token"].(string); ok {
			// A card read by the fuzzer (a name of any kind) is used later.
			add("card-session", tok)
		}
		id, _ := m["id"].(string)
		add(path+"/{id}", id)
		add("id", id)
		if strings.Contains(path, "tickets") {
			add("ticket", id)
		}
		if t, ok := m["ticket"].(map[string]any); ok {
			tid, _ := t["id"].(string)
			add("ticket", tid)
		}
		if k, ok := m["kiosk"].(map[string]any); ok {
			kid, _ := k["id"].(string)
			add("id", kid)
		}
	}
	switch v := v.(type) {
	case map[string]any:
		take(v)
		if items, ok := v["items"].([]any); ok {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					take(m)
				}
			}
		}
	case []any:
		for _, it := range v {
			if m, ok := it.(map[string]any); ok {
				take(m)
			}
		}
	}
}

// sign adds a kiosk's signature headers for the request as it stands.
func (e *fuzzEnv) sign(r *fuzzRequest, id, secret string, skew time.Duration) {
	ts := time.Now().Add(e.skew + skew).Unix()
	n := nonce()
	r.Header.Set("X-Kiosk-Id", id)
	r.Header.Set("X-Kiosk-Timestamp", strconv.FormatInt(ts, 10))
	r.Header.Set("X-Kiosk-Nonce", n)
	r.Header.Set("X-Kiosk-Signature", identity.SignKioskRequest([]byte(secret), r.Method, r.URI, ts, n, r.Body))
}

// apiFuzzer makes requests from a seeded generator.
type apiFuzzer struct {
	e   *fuzzEnv
	rnd *rand.Rand
}

func (g *apiFuzzer) chance(p float64) bool { return g.rnd.Float64() < p }

func pick[T any](g *apiFuzzer, xs []T) T { return xs[g.rnd.IntN(len(xs))] }

// hostileStrings go into names, IDs and text.
var hostileStrings = []string{
	"", " ", "../../etc/passwd", "..\\..\\windows\\win.ini", "/etc/passwd", "a\x00b", "\x00",
	`{"$gt":""}`, `{"$ne":null}`, "$where", "$gt", "'; DROP TABLE cases; --", `" OR 1=1 --`,
	"<script>alert(1)</script>", "{{.}}", "${jndi:ldap://x}", "%s%s%s%n", "null", "undefined", "NaN", "-1", "0",
	"99999999999999999999999", "1e309", "张三丰", "\u202e\u0645\u0631\u062d\u0628\u0627", "😀🏳️‍🌈", "\ufeff", "\u200b",
	"ＡＢＣ１２３", "２０２６－１１－２６", "2026-02-30", "2026-13-01", "0000-00-00T00:00:00Z", "9999-12-31T23:59:59+14:00",
	"\r\n", "\t", "A\u0301", "𠀀𠀁", "hm", "tax", "hm-gjj-loan", aliceID, "371621198001010013",
}

// hostilePathValues are path parameters, already escaped.
var hostilePathValues = []string{
	"..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", ".", "%00", "a%00b", "%ff%fe", "%F0%9F%98%80", "%E5%BC%A0%E4%B8%89",
	"%7B%22%24gt%22%3A%22%22%7D", "%24where", "-1", "0", "99999999999999999999999", "1e9", "1.5", "NaN", "null",
	"%20", "%0d%0a", "%25", "%3Cscript%3E", "a;b", "x%2Fy", "%C0%AF", "%2F",
}

// plausible is a value a real client might send for a field of this name.
func (g *apiFuzzer) plausible(name string) (any, bool) {
	switch name {
	case "center":
		return pick(g, []string{"hm", "hm-xz", "nowhere"}), true
	case "sector":
		return pick(g, []string{"tax", "housing-fund", "business"}), true
	case "sectors":
		return []any{pick(g, []string{"tax", "housing-fund"})}, true
	case "matter", "code":
		return pick(g, []string{"hm-gjj-loan", "hm-gjj-withdraw-purchase", "nope"}), true
	case "start":
		return pick(g, []string{"2026-11-26T09:00:00+08:00", "2026-11-25T10:00:00+08:00", "2026-11-29T09:00:00+08:00"}), true
	case "date":
		return pick(g, []string{"2026-11-25", "2026-11-26"}), true
	case "month":
		return "2026-11", true
	case "week":
		return pick(g, []string{"2026-W48", "2026-11-23"}), true
	case "id_number":
		return pick(g, []string{aliceID, bobID, "11010519491231002X"}), true
	case "name":
		return "张三", true
	case "password", "new_password", "old_password", "current_password":
		return testPassword, true
	case "username":
		return "fuzzuser" + strconv.Itoa(g.rnd.IntN(1000)), true
	case "text", "message", "reason", "note", "answer", "comment", "opinion":
		return "请问需要带什么材料？", true
	case "phone":
		return "13800138000", true
	case "valid_from":
		return "2020-01-01", true
	case "valid_until":
		return "长期", true
	case "ticket":
		if ids := g.e.pools["ticket"]; len(ids) > 0 {
			return pick(g, ids), true
		}
	case "window":
		if ids := g.e.pools["/api/v1/staff/windows/{id}"]; len(ids) > 0 {
			return pick(g, ids), true
		}
	case "certificate":
		if ids := g.e.pools["certificate"]; len(ids) > 0 {
			return pick(g, ids), true
		}
	}
	return nil, false
}

// value makes a value that fits schema s, most of the time.
func (g *apiFuzzer) value(name string, s any, depth int) any {
	m, _ := g.e.resolve(s).(map[string]any)
	if m == nil || depth > 6 {
		return g.randomScalar()
	}
	if edge, ok := edgeValues[name]; ok && g.chance(0.1) {
		return pick(g, edge)
	}
	if v, ok := g.plausible(name); ok && g.chance(0.8) {
		return v
	}
	if enum, ok := m["enum"].([]any); ok && len(enum) > 0 {
		return pick(g, enum)
	}
	if c, ok := m["const"]; ok {
		return c
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		if alts, ok := m[k].([]any); ok && len(alts) > 0 {
			return g.value(name, pick(g, alts), depth+1)
		}
	}
	if all, ok := m["allOf"].([]any); ok && len(all) > 0 {
		merged := map[string]any{"type": "object", "properties": map[string]any{}}
		var req []any
		for _, a := range all {
			am, _ := g.e.resolve(a).(map[string]any)
			props, _ := am["properties"].(map[string]any)
			for k, v := range props {
				merged["properties"].(map[string]any)[k] = v
			}
			r, _ := am["required"].([]any)
			req = append(req, r...)
		}
		merged["required"] = req
		m = merged
	}
	typ := m["type"]
	if ts, ok := typ.([]any); ok && len(ts) > 0 {
		typ = pick(g, ts)
	}
	if typ == nil && m["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := m["properties"].(map[string]any)
		req, _ := m["required"].([]any)
		var names []string
		for k := range props {
			names = append(names, k)
		}
		slices.Sort(names)
		for _, k := range names {
			if slices.Contains(req, any(k)) || g.chance(0.5) {
				out[k] = g.value(k, props[k], depth+1)
			}
		}
		return out
	case "array":
		n := g.rnd.IntN(3)
		if mi, ok := m["minItems"].(float64); ok && n < int(mi) {
			n = int(mi)
		}
		out := make([]any, 0, n)
		for range n {
			out = append(out, g.value(name, m["items"], depth+1))
		}
		return out
	case "integer":
		if mi, ok := m["minimum"].(float64); ok {
			return int(mi) + g.rnd.IntN(3)
		}
		return g.rnd.IntN(10)
	case "number":
		return float64(g.rnd.IntN(100)) / 10
	case "boolean":
		return g.chance(0.5)
	case "null":
		return nil
	case "string":
		// Strings of the right type but hostile content go furthest:
		// into the store, the pages, the PDFs and the spreadsheets.
		if g.chance(0.15) {
			if g.chance(0.1) {
				return strings.Repeat(pick(g, []string{"字", "a", "😀", "\u202e", "<b>"}), 1000+g.rnd.IntN(20_000))
			}
			return pick(g, hostileStrings)
		}
		switch m["format"] {
		case "date-time":
			return "2026-11-26T09:00:00+08:00"
		case "date":
			return "2026-11-26"
		}
		if ml, ok := m["minLength"].(float64); ok {
			return strings.Repeat("字", int(ml)+1)
		}
		return pick(g, []string{"测试", "abc", "1", "hm"})
	}
	return g.randomScalar()
}

func (g *apiFuzzer) randomScalar() any {
	switch g.rnd.IntN(4) {
	case 0:
		return pick(g, hostileStrings)
	case 1:
		return g.rnd.IntN(100)
	case 2:
		return g.chance(0.5)
	}
	return nil
}

// hostileValue is a value of the wrong kind for almost any field.
func (g *apiFuzzer) hostileValue() any {
	switch g.rnd.IntN(16) {
	case 0:
		return strings.Repeat(pick(g, []string{"a", "字", "😀"}), 100_000)
	case 1:
		xs := make([]any, 10_000)
		for i := range xs {
			xs[i] = "x"
		}
		return xs
	case 2:
		return map[string]any{"$ne": nil}
	case 3:
		return map[string]any{"$gt": ""}
	case 4:
		return map[string]any{"$where": "sleep(10000) || true"}
	case 5:
		return pick(g, []any{-1, -9223372036854775808, 9223372036854775807, 1e308, -1e308, 1.5, 0.0000001, json.Number("1e400"), json.Number("-0"), json.Number("99999999999999999999999999")})
	case 6:
		return pick(g, []string{"NaN", "Infinity", "-Infinity", "1e309"})
	case 7:
		return nil
	case 8:
		return pick(g, []any{true, false})
	case 9:
		return []any{}
	case 10:
		return map[string]any{}
	case 11:
		return []any{map[string]any{"$in": []any{1, 2}}, nil, 3}
	case 12:
		return strings.Repeat("../", 1000) + "etc/passwd"
	}
	return pick(g, hostileStrings)
}

// mutate damages a generated JSON value in one place.
func (g *apiFuzzer) mutate(v any) any {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 || g.chance(0.1) {
		if g.chance(0.5) {
			return g.hostileValue()
		}
		return map[string]any{"extra": g.hostileValue()}
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	k := pick(g, keys)
	switch g.rnd.IntN(5) {
	case 0:
		delete(m, k)
	case 1:
		m["unexpected_"+strconv.Itoa(g.rnd.IntN(10))] = g.hostileValue()
	case 2:
		if inner, ok := m[k].(map[string]any); ok {
			m[k] = g.mutate(inner)
		} else if arr, ok := m[k].([]any); ok && len(arr) > 0 {
			arr[g.rnd.IntN(len(arr))] = g.hostileValue()
		} else {
			m[k] = g.hostileValue()
		}
	default:
		m[k] = g.hostileValue()
	}
	return m
}

// rawMutate damages the bytes of a JSON body.
func (g *apiFuzzer) rawMutate(b []byte) []byte {
	switch g.rnd.IntN(10) {
	case 0:
		if len(b) > 1 {
			return b[:g.rnd.IntN(len(b))]
		}
	case 1:
		// invalid UTF-8 inside a string
		if i := bytes.IndexByte(b, '"'); i >= 0 {
			return slices.Concat(b[:i+1], []byte{0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80}, b[i+1:])
		}
		return []byte{0xff, 0xfe}
	case 2:
		return bytes.Repeat([]byte("["), 20_000)
	case 3:
		return slices.Concat(b, []byte(`{"again":1}`))
	case 4:
		return []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000))
	case 5:
		if len(b) > 2 && b[0] == '{' {
			return slices.Concat([]byte(`{"center":"hm","center":{"$gt":""},`), b[1:])
		}
	case 6:
		x := make([]byte, g.rnd.IntN(200))
		for i := range x {
			x[i] = byte(g.rnd.IntN(256))
		}
		return x
	case 7:
		return []byte(pick(g, []string{"null", "[]", `""`, "0", "true", "-1", `"\ud800"`, "1e999", "{}", " "}))
	case 8:
		return bytes.ReplaceAll(b, []byte(`"`), []byte(`'`))
	}
	return nil
}

// credential returns the request's auth kind for the operation, and sets
// the headers (the kiosk's signature comes last, over the finished request).
func (g *apiFuzzer) credential(op fuzzOp, r *fuzzRequest) string {
	if len(op.Security) == 0 {
		if g.chance(0.1) {
			r.Header.Set("Authorization", "Bearer "+g.e.citizen)
		}
		return ""
	}
	valid := g.chance(0.85)
	want := op.Security[0]
	if slices.Contains(op.Security, "staffSession") {
		want = "staffSession"
	}
	if !valid {
		switch g.rnd.IntN(6) {
		case 0:
			return ""
		case 1:
			r.Header.Set("Authorization", "Bearer "+pick(g, []string{"x", "", strings.Repeat("A", 8000), "..%2F", `{"$ne":null}`}))
		case 2:
			r.Header.Set("Authorization", pick(g, []string{"Basic YWRtaW46YWRtaW4=", "Bearer", "bearer " + g.e.citizen, "Token abc"}))
		case 3:
			// a credential of another kind
			r.Header.Set("Authorization", "Bearer "+pick(g, []string{g.e.citizen, g.e.courier, g.e.staff["fuzzall"], g.e.unbound}))
		case 4:
			r.Header.Set("Cookie", "banhao_staff="+g.e.staff["fuzzall"]+"; banhao_csrf=x")
			r.Header.Set("X-CSRF-Token", "y")
		default:
			if want == "kioskProof" {
				return "kiosk-bad"
			}
			return ""
		}
		return ""
	}
	switch want {
	case "staffCookie":
		r.Header.Set("Cookie", "banhao_staff="+g.e.staff["fuzzall"])
	case "staffSession":
		tok := g.e.staff["fuzzall"]
		if g.chance(0.3) {
			tok = g.e.staff[pick(g, fuzzStaff).user]
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	case "citizenSession":
		tok := g.e.citizen
		if g.chance(0.15) {
			tok = g.e.unbound
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	case "courierSession":
		r.Header.Set("Authorization", "Bearer "+g.e.courier)
	case "kioskProof":
		return "kiosk"
	}
	return want
}

// next makes the i-th request.
func (g *apiFuzzer) next(i int) *fuzzRequest {
	op := g.e.ops[i%len(g.e.ops)]
	if g.chance(0.3) {
		op = pick(g, g.e.ops)
	}
	return g.build(op)
}

func (g *apiFuzzer) build(op fuzzOp) *fuzzRequest {
	r := &fuzzRequest{Op: op.Method + " " + op.Path, Method: op.Method, Header: http.Header{}, page: op.Page}
	if op.Page && g.chance(0.5) {
		r.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	if g.chance(0.02) {
		r.Method = pick(g, []string{http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodGet, http.MethodPost, http.MethodOptions})
	}
	// Path.
	path := op.Path
	for _, p := range op.Params {
		if p.In != "path" {
			continue
		}
		ph := "{" + p.Name + "}"
		at := strings.Index(path, ph)
		if at < 0 {
			continue
		}
		v := g.pathValue(op.Path[:strings.Index(op.Path, ph)+len(ph)], p.Name)
		if ids := g.e.pools[op.Path]; len(ids) > 0 && g.chance(0.5) {
			// The few records this operation needs (a case with a parcel
			// among the citizen's many).
			v = url.PathEscape(pick(g, ids))
		}
		path = path[:at] + v + path[at+len(ph):]
	}
	// Query.
	q := url.Values{}
	for _, p := range op.Params {
		switch p.In {
		case "query":
			switch {
			case edgeValues[p.Name] != nil && g.chance(0.25):
				q.Set(p.Name, pick(g, edgeValues[p.Name]))
			case g.chance(0.3) && !p.Required:
			case g.chance(0.6):
				q.Set(p.Name, fmt.Sprint(g.value(p.Name, p.Schema, 0)))
			default:
				v := g.hostileValue()
				if s, ok := v.(string); ok {
					if len(s) > 3000 {
						s = s[:3000]
					}
					q.Set(p.Name, s)
				} else {
					b, _ := json.Marshal(v)
					if len(b) > 3000 {
						b = b[:3000]
					}
					q.Set(p.Name, string(b))
				}
				if g.chance(0.2) {
					q.Add(p.Name, "again")
				}
			}
		case "header":
			if p.Name == "X-Kiosk-Session" {
				switch {
				case g.chance(0.2) && len(g.e.pools["card-session"]) > 0:
					r.Header.Set(p.Name, pick(g, g.e.pools["card-session"]))
				case g.chance(0.7):
					r.Header.Set(p.Name, g.e.kiosk.session)
				case g.chance(0.5):
					r.Header.Set(p.Name, pick(g, []string{"x", strings.Repeat("s", 2000), `{"$ne":null}`, g.e.citizen}))
				}
			}
		}
	}
	if pairs := g.e.pools["case-lookup"]; op.Path == "/api/v1/cases/lookup" && len(pairs) > 0 && g.chance(0.5) {
		// A real number and query code, or a real number with a wrong code.
		num, code, _ := strings.Cut(pick(g, pairs), "\x00")
		if g.chance(0.3) {
			code = pick(g, []string{"000000", "", code + "0", strings.ToUpper(code)})
		}
		q.Set("number", num)
		q.Set("code", code)
	}
	if g.chance(0.05) {
		q.Set(pick(g, []string{"limit", "cursor", "$where", "q", "center", "x[$ne]"}), pick(g, hostileStrings))
	}
	uri := path
	if len(q) > 0 {
		uri += "?" + q.Encode()
	}
	if g.chance(0.02) {
		uri += pick(g, []string{"?%zz", "?limit=-1&limit=1e9", "?a=%00", "?" + strings.Repeat("q=1&", 500), "#frag"})
	}
	r.URI = uri
	// Body.
	ctype := ""
	if len(op.BodyTypes) > 0 || g.chance(0.1) {
		ctype, r.Body = g.body(op)
	}
	if g.chance(0.1) {
		ctype = pick(g, []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=zzz",
			"application/json; charset=latin1", "application/jsonx", "APPLICATION/JSON", "image/png", "application/pdf", "*/*", "application/xml"})
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if r.Method == http.MethodPost && g.chance(0.1) {
		r.Header.Set("Idempotency-Key", pick(g, []string{"k-" + strconv.Itoa(g.rnd.IntN(5)), "", strings.Repeat("k", 300), "键", "a b", "\t"}))
	}
	if g.chance(0.3) && r.Header.Get("Accept") == "" {
		r.Header.Set("Accept", pick(g, []string{"application/json", "*/*", "application/problem+json"}))
	}
	r.reauth = reauthOf(op)
	cred := g.credential(op, r)
	// Staff logout and password changes would end the shared sessions:
	// they run on a spare account's session.
	if cred == "staffSession" && (op.Path == "/api/v1/staff/logout" || op.Path == "/api/v1/staff/password") {
		r.Header.Set("Authorization", "Bearer "+g.e.spareStaff())
	}
	switch cred {
	case "kiosk":
		g.e.sign(r, g.e.kiosk.id, g.e.kiosk.secret, 0)
	case "kiosk-bad":
		g.e.sign(r, g.e.kiosk.id, g.e.kiosk.secret, 0)
		switch g.rnd.IntN(5) {
		case 0:
			r.Header.Set("X-Kiosk-Signature", strings.Repeat("0", 64))
		case 1:
			g.e.sign(r, g.e.kiosk.id, g.e.kiosk.secret, -time.Hour)
		case 2:
			r.Header.Set("X-Kiosk-Nonce", pick(g, []string{"short", strings.Repeat("n", 500), "%00%00%00%00%00%00%00%00"}))
		case 3:
			r.Header.Set("X-Kiosk-Timestamp", pick(g, []string{"-1", "NaN", "99999999999999999999", "1e9", ""}))
		default:
			r.Header.Set("X-Kiosk-Id", pick(g, []string{"..%2Fetc", `{"$gt":""}`, "", strings.Repeat("k", 1000)}))
		}
	}
	return r
}

// spareStaff is the session of a fresh account, for requests that may
// end it.
func (e *fuzzEnv) spareStaff() string {
	ctx := context.Background()
	e.spare++
	user := "fuzzspare" + strconv.Itoa(e.spare)
	if _, err := e.svc.identity.CreateStaff(ctx, "cli", identity.NewStaff{Center: "hm", Username: user, Name: "备用", Roles: []identity.Role{identity.RoleClerk}, Password: testPassword}, identity.Origin{}); err != nil {
		e.t.Fatal(err)
	}
	l, err := e.svc.identity.LoginStaff(ctx, user, testPassword, identity.Origin{})
	if err != nil {
		e.t.Fatal(err)
	}
	return l.Token
}

// edgeValues are values at the edges of what a parameter of this name
// means: the first and last days a time.Time can hold, day 0, week 53.
var edgeValues = map[string][]string{
	"year":    {"0", "1", "1969", "9999", "10000", "-2026", "2147483648", "02026"},
	"version": {"0", "-1", "2147483648", "9223372036854775808", "01"},
	"n":       {"-1", "4294967296", "9223372036854775807", "01", "+1"},
	"date":    {"0001-01-01", "9999-12-31", "2026-02-29", "2024-02-29", "2026-00-10", "10000-01-01", "-0001-01-01", "2026-1-1"},
	"month":   {"0000-01", "9999-12", "2026-13", "2026-00", "0001-01", "2026-1", "-2026-11"},
	"week":    {"2026-W53", "2026-W00", "0001-W01", "9999-W52", "2026-W99", "2020-W53", "0000-W01"},
	"start":   {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2026-11-26T09:00:00.999999999+08:00", "2026-11-26T09:07:00+08:00"},
	"limit":   {"0", "-1", "1000000000", "9223372036854775808", "1.5"},
	"cursor":  {"0", "-1", "zzzz", "\u0000", "ct" + strings.Repeat("9", 40)},
	"by":      {"", "window", "staff", "matter", "sector", "center", "day"},
	"level":   {"", "0", "-1", "red", "99"},
}

func (g *apiFuzzer) pathValue(prefix, name string) string {
	if edge, ok := edgeValues[name]; ok && g.chance(0.25) {
		return url.PathEscape(pick(g, edge))
	}
	if g.chance(0.7) {
		var pool []string
		switch name {
		case "n":
			pool = []string{"0", "1", "2", "3"}
		case "year":
			pool = []string{"2026", "2027"}
		case "version":
			pool = []string{"1", "2"}
		case "center":
			if !strings.HasSuffix(prefix, "{center}") || g.chance(0.2) {
				pool = []string{"hm"}
			}
		case "code":
			// hm-ga-no-crime-record is also applied for at the kiosk.
			pool = append([]string{"hm-gjj-loan", "hm-gjj-withdraw-purchase", "hm-ga-no-crime-record"}, g.e.pools["matter-code"]...)
			if strings.Contains(prefix, "sectors") {
				pool = []string{"tax", "housing-fund"}
			}
			if strings.HasPrefix(prefix, "/kiosk/apply") && g.chance(0.5) {
				// Most matters are not applied for at a kiosk.
				pool = []string{"hm-ga-no-crime-record"}
			}
		default:
			pool = g.e.pools[prefix]
			if len(pool) == 0 || g.chance(0.1) {
				pool = g.e.pools[name]
			}
		}
		if len(pool) > 0 {
			return url.PathEscape(pick(g, pool))
		}
	}
	if g.chance(0.05) {
		return strings.Repeat(pick(g, []string{"a", "%E5%AD%97", "..%2F"}), 3000)
	}
	return pick(g, hostilePathValues)
}

// body makes a request body and its content type.
func (g *apiFuzzer) body(op fuzzOp) (string, []byte) {
	if len(op.BodyTypes) == 0 {
		b, _ := json.Marshal(g.hostileValue())
		return "application/json", b
	}
	ct := pick(g, op.BodyTypes)
	switch {
	case ct == "multipart/form-data":
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		field := "file"
		if g.chance(0.2) {
			field = pick(g, []string{"", "files", "file\x00", "../../x"})
		}
		fw, _ := w.CreateFormFile(field, pick(g, []string{"a.pdf", "../../etc/passwd", "张三.png", "", strings.Repeat("n", 5000) + ".jpg"}))
		fw.Write(g.fileBytes())
		if g.chance(0.3) {
			w.WriteField("extra", pick(g, hostileStrings))
		}
		w.Close()
		b := buf.Bytes()
		if g.chance(0.2) {
			b = b[:g.rnd.IntN(len(b))]
		}
		return w.FormDataContentType(), b
	case !strings.Contains(ct, "json"):
		return ct, g.fileBytes()
	}
	v := g.value("", op.Bodies[ct], 0)
	if g.chance(0.75) {
		v = g.mutate(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte("{}")
	}
	if g.chance(0.15) {
		if raw := g.rawMutate(b); raw != nil {
			b = raw
		}
	}
	return ct, b
}

// fileBytes is an upload: a tiny real file, a lie about one, or junk.
func (g *apiFuzzer) fileBytes() []byte {
	switch g.rnd.IntN(6) {
	case 0:
		return []byte("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	case 1:
		return []byte("%PDF-1.4\n1 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n%%EOF")
	case 2:
		return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	case 3:
		return []byte("\xff\xd8\xff\xe0garbage")
	case 4:
		return nil
	}
	x := make([]byte, g.rnd.IntN(4096))
	for i := range x {
		x[i] = byte(g.rnd.IntN(256))
	}
	return x
}

// fuzzSeed is the generator's seed: BANHAO_FUZZ_SEED, or a fixed one so
// that every run sends the same requests.
func fuzzSeed(t *testing.T) uint64 {
	if s := os.Getenv("BANHAO_FUZZ_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("BANHAO_FUZZ_SEED: %v", err)
		}
		return n
	}
	return 20261125
}

// TestAPIBadInput sends at least 10,000 generated malformed requests (2,000
// with -short) at every operation of /openapi.json and wants no 5xx, no
// panic and a problem+json with a code for every error.
func TestAPIBadInput(t *testing.T) { runAPIBadInput(t, nil) }

// TestAPIBadInputMongo runs the same requests over the MongoDB store when
// BANHAO_TEST_MONGODB_URI names one (a fresh database, dropped after).
// FerretDB is not linked into this test binary, so without a URI it skips;
// the store-level faults and contracts run on FerretDB in internal/storetest.
func TestAPIBadInputMongo(t *testing.T) {
	uri := os.Getenv("BANHAO_TEST_MONGODB_URI")
	if uri == "" {
		t.Skip("BANHAO_TEST_MONGODB_URI is not set")
	}
	db := fmt.Sprintf("banhao_fuzz_%d", time.Now().UnixNano())
	key := func() string {
		b := make([]byte, 32)
		crand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := mongodrv.Connect(options.Client().ApplyURI(uri)); err == nil {
			c.Database(db).Drop(ctx)
			c.Disconnect(ctx)
		}
	})
	runAPIBadInput(t, map[string]string{
		"BANHAO_MONGODB_URI": uri, "BANHAO_MONGODB_DATABASE": db,
		"BANHAO_DATA_KEY": "k1:" + key(), "BANHAO_SIGNING_KEYS": "f1:" + key(),
	})
}

func runAPIBadInput(t *testing.T, store map[string]string) {
	seed := fuzzSeed(t)
	n := 10_500
	if testing.Short() {
		n = 2_000
	}
	if s := os.Getenv("BANHAO_FUZZ_REQUESTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	e := newFuzzEnvOn(t, store)
	g := &apiFuzzer{e: e, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	t.Logf("seed %d (rerun with BANHAO_FUZZ_SEED=%d), %d operations, %d requests", seed, seed, len(e.ops), n)
	start := time.Now()
	type finding struct {
		what  string
		count int
		first string
	}
	found := map[string]*finding{}
	var order []string
	status := map[int]int{}
	slow := map[string]time.Duration{}
	reached := map[string]map[int]int{}
	var longest time.Duration
	var longestReq string
	for i := range n {
		r := g.next(i)
		t0 := time.Now()
		res, bad := e.do(r)
		took := time.Since(t0)
		slow[r.Op] += took
		if took > longest {
			longest, longestReq = took, r.String()
		}
		if res.status != 0 {
			if reached[r.Op] == nil {
				reached[r.Op] = map[int]int{}
			}
			reached[r.Op][res.status]++
		}
		status[res.status]++
		if bad == "" {
			continue
		}
		key := r.Op + ": " + bad
		if res.status >= 400 {
			key = fmt.Sprintf("%s: %s (%.80s)", r.Op, bad, res.body)
		}
		f := found[key]
		if f == nil {
			logs := res.logs
			if len(logs) > 3000 {
				logs = logs[:3000]
			}
			f = &finding{what: bad, first: fmt.Sprintf("request #%d:\n%s\n--> %d %s\n%.1000s\nlogs: %s", i, r, res.status, res.ctype, res.body, logs)}
			found[key] = f
			order = append(order, key)
		}
		f.count++
	}
	t.Logf("%d requests in %s; statuses %v", n, time.Since(start).Round(time.Millisecond), status)
	if testing.Verbose() {
		var ops []string
		for op := range slow {
			ops = append(ops, op)
		}
		slices.SortFunc(ops, func(a, b string) int { return int(slow[b] - slow[a]) })
		for _, op := range ops[:min(10, len(ops))] {
			t.Logf("slowest: %s %s", op, slow[op].Round(time.Millisecond))
		}
		t.Logf("longest request, %s: %.500s", longest.Round(time.Millisecond), longestReq)
		// Operations that never got past authentication and routing
		// are not really tested.
		for _, op := range e.ops {
			key := op.Method + " " + op.Path
			deep := 0
			for st, n := range reached[key] {
				if st < 300 || st == 400 || st == 409 || st == 422 {
					deep += n
				}
			}
			if deep == 0 {
				t.Logf("shallow: %s %v", key, reached[key])
			}
		}
	}
	for _, k := range order {
		t.Errorf("seed %d: %s (%d times); first:\n%s", seed, k, found[k].count, found[k].first)
	}
}

// FuzzAPI lets Go's fuzzer choose the operation, the path parameters,
// the query, the body, its content type and the credential; the seed
// corpus is in testdata/fuzz/FuzzAPI. Run it with
// go test -fuzz FuzzAPI -fuzztime 60s ./cmd/banhao.
func FuzzAPI(f *testing.F) {
	f.Add(uint16(0), "hm", "", []byte(nil), "", uint8(0))
	f.Add(uint16(20), "../../etc/passwd", "limit=-1", []byte(`{"code":{"$gt":""}}`), "application/json", uint8(0))
	f.Add(uint16(100), "%00", "q=%ff", []byte("\xff\xfe"), "text/plain", uint8(1))
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, opIndex uint16, param, query string, body []byte, ctype string, auth uint8) {
		e.t = t
		op := e.ops[int(opIndex)%len(e.ops)]
		r := &fuzzRequest{Op: op.Method + " " + op.Path, Method: op.Method, Header: http.Header{}, Body: body, page: op.Page}
		value := url.PathEscape(param)
		if raw, err := url.PathUnescape(param); err == nil && raw != "" && !strings.ContainsAny(param, "?#/ \x7f") && printableASCII(param) {
			value = param
		}
		path := op.Path
		for _, p := range op.Params {
			if p.In == "path" {
				path = strings.ReplaceAll(path, "{"+p.Name+"}", value)
			}
		}
		r.URI = path
		if query != "" {
			if _, err := url.ParseQuery(query); err == nil && !strings.ContainsAny(query, "# \x7f") && printableASCII(query) {
				r.URI += "?" + query
			} else {
				r.URI += "?q=" + url.QueryEscape(query)
			}
		}
		if printableASCII(ctype) && ctype != "" {
			r.Header.Set("Content-Type", ctype)
		}
		for _, p := range op.Params {
			if p.Name == "X-Kiosk-Session" && auth&4 == 0 {
				r.Header.Set(p.Name, e.kiosk.session)
			}
		}
		switch auth % 4 {
		case 0:
			e.authorize(op, r)
		case 2:
			r.Header.Set("Authorization", "Bearer "+url.PathEscape(param))
		case 3:
			r.Header.Set("Authorization", "Bearer "+e.citizen)
		}
		res, bad := e.do(r)
		if bad != "" {
			t.Fatalf("%s\n%s\n--> %d %s\n%.2000s\nlogs: %.3000s", bad, r, res.status, res.ctype, res.body, res.logs)
		}
	})
}

// printableASCII reports whether s can go into a request line or header
// as it is.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// authorize gives a request the right credential for its operation, and
// signs it last when it is a kiosk's.
func (e *fuzzEnv) authorize(op fuzzOp, r *fuzzRequest) {
	r.reauth = reauthOf(op)
	switch {
	case len(op.Security) == 0:
	case op.Page && len(op.Security) > 0:
		r.Header.Set("Cookie", "banhao_staff="+e.staff["fuzzall"])
	case slices.Contains(op.Security, "staffSession"):
		tok := e.staff["fuzzall"]
		if op.Path == "/api/v1/staff/logout" || op.Path == "/api/v1/staff/password" {
			tok = e.spareStaff()
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	case op.Security[0] == "citizenSession":
		r.Header.Set("Authorization", "Bearer "+e.citizen)
	case op.Security[0] == "courierSession":
		r.Header.Set("Authorization", "Bearer "+e.courier)
	case op.Security[0] == "kioskProof":
		e.sign(r, e.kiosk.id, e.kiosk.secret, 0)
	}
}

// reauthOf names the credential an operation may end.
func reauthOf(op fuzzOp) string {
	switch op.Method + " " + op.Path {
	case "POST /api/v1/mp/logout":
		return "citizen"
	case "POST /api/v1/courier/logout":
		return "courier"
	case "DELETE /api/v1/kiosk/card-sessions/current":
		return "card"
	case "POST /api/v1/staff/kiosks/{id}/revoke":
		return "kiosk"
	}
	return ""
}

// TestAPIBadInputSeesFaults makes sure the harness is not blind: a panic,
// a server fault and an error that is not a problem are each reported.
func TestAPIBadInputSeesFaults(t *testing.T) {
	e := newFuzzEnv(t)
	e.app.Get("/api/v1/zz-panic", func(*fiber.Ctx) error { panic("boom") })
	e.app.Get("/api/v1/zz-fault", func(*fiber.Ctx) error { return errors.New("disk on fire") })
	e.app.Get("/api/v1/zz-plain", func(c *fiber.Ctx) error { return c.Status(http.StatusBadRequest).SendString("bad") })
	e.app.Get("/api/v1/zz-codeless", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.Status(http.StatusBadRequest).SendString(`{"status":400}`)
	})
	if _, err := e.app.Test(httptest.NewRequest(http.MethodGet, "/healthz", nil)); err != nil { // rebuilds the routes
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/api/v1/zz-panic":    "panic",
		"/api/v1/zz-fault":    "status 500",
		"/api/v1/zz-plain":    "not problem+json",
		"/api/v1/zz-codeless": `problem code ""`,
		"/api/v1/matters/x":   "",
	} {
		r := &fuzzRequest{Op: "GET " + path, Method: http.MethodGet, URI: path, Header: http.Header{}}
		if _, bad := e.do(r); !strings.Contains(bad, want) || (want == "") != (bad == "") {
			t.Errorf("%s: finding %q, want %q", path, bad, want)
		}
	}
}
