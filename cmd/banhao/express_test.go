package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestParcelCourierCompanyConfig: a bad courier company setting stops the
// server at start with a message naming it.
func TestParcelCourierCompanyConfig(t *testing.T) {
	for name, env := range map[string]map[string]string{
		"URL not http":     {"BANHAO_EXPRESS_URL": "ftp://courier.example"},
		"URL with a query": {"BANHAO_EXPRESS_URL": "https://courier.example/?key=1"},
		"missing key file": {"BANHAO_EXPRESS_URL": "https://courier.example", "BANHAO_EXPRESS_KEY_FILE": "/nonexistent/key"},
		"long company":     {"BANHAO_EXPRESS_COMPANY": strings.Repeat("快", 33)},
	} {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"BANHAO_ADDR": "127.0.0.1:0", "BANHAO_DATA_DIR": t.TempDir()}
			for k, v := range env {
				vars[k] = v
			}
			var out bytes.Buffer
			err := run(context.Background(), nil, func(k string) string { return vars[k] }, &out)
			if err == nil || !strings.Contains(err.Error(), "configuration") || !strings.Contains(err.Error(), "BANHAO_EXPRESS_") {
				t.Fatalf("run = %v, want a configuration error naming the setting", err)
			}
		})
	}
}
