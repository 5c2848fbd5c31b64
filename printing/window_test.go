package printing_test

import (
	"context"
	"testing"

	"github.com/banhao/banhao/printing"
)

// TestWindowPrintWithoutPrinter: a window without a configured printer
// is refused as a state conflict (409 print_state), not as a printer
// outage to retry (503 printer_unavailable), and no job is recorded.
// The API fuzz harness found it once it had real certificates.
func TestWindowPrintWithoutPrinter(t *testing.T) {
	ctx := context.Background()
	e := newKJ(t)
	_, err := e.svc.WindowPrint(ctx, nil, "st1", "hm", "wd1", "ec1")
	wantCode(t, "printing at a window without a printer", err, printing.CodePrintState)
	h, err := e.svc.History(ctx, "ec1")
	if err != nil || len(h.Jobs) != 0 || h.Original {
		t.Fatalf("history after the refusal: %+v %v; want no job", h, err)
	}
}
