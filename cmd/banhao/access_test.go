package main

import (
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/banhao/banhao/assets"
)

var updateAccess = flag.Bool("update-access", false, "rewrite testdata/access-matrix.txt from the server's answers")

// accessRoles are the staff roles the matrix tries, each alone.
var accessRoles = []string{"clerk", "approver", "supervisor", "admin"}

// TestAccessMatrix is the access matrix of every issue as one suite,
// built from /openapi.json so that no route escapes it:
//
//   - every operation that declares a security scheme refuses a request
//     without credentials and with every other kind of credential (a
//     citizen's token on a staff route, a staff token on a kiosk route...)
//     with 401 and a problem;
//   - every staff operation is tried by an account holding each role
//     alone, and which roles get past the role check (anything but 401 and
//     403) must equal testdata/access-matrix.txt, the reviewed policy: a
//     route that opens to another role shows up as a diff (regenerate with
//     -update-access and review it).
func TestAccessMatrix(t *testing.T) {
	env, skew := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	citizen := s.mpLogin(t, "matrix-citizen")
	_, courier := s.dlCourier(t, "matrix-courier", "矩阵快递员")
	k := registerKiosk(t, s, admin)
	k.skew = skew
	tokens := map[string]string{}
	for _, r := range accessRoles {
		s.createStaff(t, "matrix-"+r, r)
		tokens[r] = s.login(t, "matrix-"+r, testPassword)
	}

	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	b, err := assets.FS.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	type op struct{ method, path, url, scheme string }
	var ops []op
	for path, methods := range doc.Paths {
		for m, raw := range methods {
			var o struct {
				Security []map[string][]string `json:"security"`
			}
			if json.Unmarshal(raw, &o) != nil || len(o.Security) == 0 {
				continue
			}
			scheme := ""
			for name := range o.Security[0] {
				scheme = name
			}
			ops = append(ops, op{strings.ToUpper(m), path, param.ReplaceAllString(path, "x0"), scheme})
		}
	}
	// Logouts end the session they are sent with: last.
	sort.Slice(ops, func(i, j int) bool {
		li, lj := strings.HasSuffix(ops[i].path, "/logout"), strings.HasSuffix(ops[j].path, "/logout")
		if li != lj {
			return lj
		}
		return ops[i].method+ops[i].path < ops[j].method+ops[j].path
	})
	if len(ops) < 100 {
		t.Fatalf("only %d secured operations in /openapi.json", len(ops))
	}

	try := func(method, url, token string, kiosk bool) (int, string, string) {
		t.Helper()
		var body string
		switch {
		case url == "/api/v1/staff/matters":
			// Of this center, so that a refusal is about the role, not the center.
			body = `{"center":"hm"}`
		case method == http.MethodPost || method == http.MethodPut:
			// Empty: the role checks made inside the services come before
			// any validation of the fields.
			body = `{}`
		}
		if kiosk {
			return k.do(t, method, url, body)
		}
		var r *strings.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		if r == nil {
			return s.do(t, method, url, token, nil)
		}
		return s.do(t, method, url, token, r)
	}
	wrong := map[string][]string{
		"staffSession":   {"", citizen, courier},
		"citizenSession": {"", admin, courier},
		"courierSession": {"", admin, citizen},
		"kioskProof":     {"", admin, citizen},
	}
	for _, o := range ops {
		creds, ok := wrong[o.scheme]
		if !ok {
			t.Errorf("%s %s: unknown security scheme %q", o.method, o.path, o.scheme)
			continue
		}
		for i, tok := range creds {
			code, ctype, body := try(o.method, o.url, tok, false)
			if code != http.StatusUnauthorized || !strings.HasPrefix(ctype, "application/problem+json") {
				t.Errorf("%s %s with the wrong credential #%d: %d %s, want 401", o.method, o.path, i, code, clip(body))
			}
		}
	}
	// A kiosk's signature opens no other door.
	for _, o := range ops {
		if o.scheme == "kioskProof" || strings.HasSuffix(o.path, "/login") {
			continue
		}
		code, _, body := send(t, k.request(o.method, o.url, "{}"))
		if code != http.StatusUnauthorized {
			t.Errorf("%s %s with a kiosk signature only: %d %s, want 401", o.method, o.path, code, clip(body))
		}
	}

	// The staff roles.
	var got []string
	for _, o := range ops {
		if o.scheme != "staffSession" {
			continue
		}
		var allowed []string
		for _, r := range accessRoles {
			if strings.HasSuffix(o.path, "/logout") && r != accessRoles[len(accessRoles)-1] {
				allowed = append(allowed, r) // every staff member may log out; keep the sessions
				continue
			}
			code, _, _ := try(o.method, o.url, tokens[r], false)
			if code != http.StatusUnauthorized && code != http.StatusForbidden {
				allowed = append(allowed, r)
			}
			if code == http.StatusUnauthorized {
				t.Errorf("%s %s: the %s's valid session got 401", o.method, o.path, r)
			}
		}
		if len(allowed) == 0 {
			allowed = []string{"-"}
		}
		got = append(got, o.method+" "+o.path+"\t"+strings.Join(allowed, ","))
	}
	slices.Sort(got)
	file := filepath.Join("testdata", "access-matrix.txt")
	text := "# METHOD path<TAB>roles that pass the role check (each role alone, on a made-up ID: a 404 counts as passing,\n" +
		"# since the checks on the record itself come after it is found and are tested by the scenario tests).\n" +
		"# Generated by go test -run TestAccessMatrix -update-access; every change is reviewed by hand.\n" +
		strings.Join(got, "\n") + "\n"
	if *updateAccess {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run with -update-access once, then review the file)", err)
	}
	if string(want) != text {
		wl, gl := strings.Split(string(want), "\n"), strings.Split(text, "\n")
		for _, l := range gl {
			if !slices.Contains(wl, l) {
				t.Errorf("now:      %s", l)
			}
		}
		for _, l := range wl {
			if !slices.Contains(gl, l) {
				t.Errorf("reviewed: %s", l)
			}
		}
	}
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
