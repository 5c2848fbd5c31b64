package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupWhileServingAndRestore backs the embedded store up while the
// server keeps writing, and restores it into a fresh data folder that a
// new server then serves: the citizen's session, ticket, sealed name and
// uploaded file, and every window acknowledged before the backup began,
// are there. A restore under a running server, or over data without
// -force, is refused.
func TestBackupWhileServingAndRestore(t *testing.T) {
	env, _ := devClock(t, atWednesday9)
	s := startServer(t, env)
	admin := s.admin(t)
	alice := s.mpLogin(t, "alice")
	s.bindRealName(t, alice, "张三丰", aliceID)
	code, _, body := s.do(t, http.MethodPost, "/api/v1/mp/tickets", alice, strings.NewReader(`{"center":"hm","sector":"tax"}`))
	if code != 201 {
		t.Fatalf("ticket: %d %s", code, body)
	}
	var tk struct{ ID, Number string }
	json.Unmarshal([]byte(body), &tk)
	code, _, body = s.do(t, http.MethodPost, "/api/v1/mp/cases", alice, strings.NewReader(`{"matter":"hm-gjj-loan"}`))
	c := decodeCase(t, code, body, 201)
	contract := c.material(t, "购房合同")
	filePath := fmt.Sprintf("/api/v1/mp/cases/%s/materials/%d/file", c.ID, contract)
	png := testPNG(t, 3)
	if code, _, body := s.upload(t, filePath, alice, png); code != 200 && code != 201 {
		t.Fatalf("upload: %d %s", code, body)
	}

	// Windows keep being created while the backup runs.
	var acked atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			code, _, _ := s.do(t, http.MethodPost, "/api/v1/staff/windows", admin, strings.NewReader(fmt.Sprintf(`{"name":"w%d","sectors":["tax"]}`, i)))
			if code == 201 {
				acked.Store(int64(i + 1))
			}
		}
	})
	for acked.Load() < 5 { // let some writes land first
		time.Sleep(5 * time.Millisecond)
	}
	before := acked.Load()
	out := filepath.Join(t.TempDir(), "backup-1")
	var buf bytes.Buffer
	err := run(context.Background(), []string{"backup", out}, s.getenv, &buf)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("backup while serving: %v\n%s", err, buf.String())
	}
	if !strings.Contains(buf.String(), "1 uploaded files") {
		t.Errorf("backup output: %s", buf.String())
	}
	if err := run(context.Background(), []string{"backup", out}, s.getenv, &buf); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("backup into an existing folder: %v", err)
	}
	// Restoring under the running server is refused.
	err = run(context.Background(), []string{"restore", out, "-force"}, s.getenv, &buf)
	if err == nil || !strings.Contains(err.Error(), "running") {
		t.Fatalf("restore under a running server: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(t.TempDir(), "restored")
	env["BANHAO_DATA_DIR"] = data
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return s.getenv(k)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"restore", out}, getenv, &buf); err != nil {
		t.Fatalf("restore: %v\n%s", err, buf.String())
	}
	r := startServer(t, env)
	code, _, body = r.do(t, http.MethodGet, "/api/v1/mp/tickets/"+tk.ID, alice, nil)
	if code != 200 || !strings.Contains(body, tk.Number) {
		t.Errorf("the ticket after restore: %d %s", code, body)
	}
	code, _, body = r.do(t, http.MethodGet, "/api/v1/mp/me", alice, nil)
	if code != 200 || !strings.Contains(body, "张*") {
		t.Errorf("the sealed name after restore (needs the key file): %d %s", code, body)
	}
	req, _ := http.NewRequest(http.MethodGet, r.URL+filePath, nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	got.ReadFrom(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Equal(got.Bytes(), png) {
		t.Errorf("the uploaded file after restore: %d, %d bytes, want %d", res.StatusCode, got.Len(), len(png))
	}
	_, _, list := r.do(t, http.MethodGet, "/api/v1/staff/windows", admin, nil)
	for i := range before {
		if !strings.Contains(list, fmt.Sprintf(`"name":"w%d"`, i)) {
			t.Errorf("window w%d, acknowledged before the backup began, is missing", i)
		}
	}
	if err := r.stop(); err != nil {
		t.Fatal(err)
	}

	// A second restore over the data needs -force, and keeps the old data.
	if err := run(context.Background(), []string{"restore", out}, getenv, &buf); err == nil || !strings.Contains(err.Error(), "-force") {
		t.Errorf("restore over data without -force: %v", err)
	}
	buf.Reset()
	if err := run(context.Background(), []string{"restore", out, "-force"}, getenv, &buf); err != nil {
		t.Fatalf("restore -force: %v", err)
	}
	kept, _ := filepath.Glob(data + ".before-restore-*")
	if len(kept) != 1 {
		t.Errorf("old data kept as %v, want one folder", kept)
	}
	// Something that is not a backup is refused.
	junk := t.TempDir()
	os.WriteFile(filepath.Join(junk, "manifest.json"), []byte(`{"schema":1}`), 0o600)
	os.WriteFile(filepath.Join(junk, "banhao.db"), []byte("not a database, just text"), 0o600)
	if err := run(context.Background(), []string{"restore", junk, "-force"}, getenv, &buf); err == nil {
		t.Error("restoring junk succeeded")
	}
}
