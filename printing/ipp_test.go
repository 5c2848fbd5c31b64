package printing_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/OpenPrinting/goipp"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/printing"
	"github.com/banhao/banhao/printing/ipptest"
)

func TestIPPPrinter(t *testing.T) {
	f := ipptest.New()
	defer f.Close()
	p, err := printing.NewIPPPrinter(f.URI(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("证照"), 5000)...)
	id, err := p.Print(context.Background(), "pj-ec1-1", pdf)
	if err != nil || id != 1 {
		t.Fatalf("print: id %d, %v", id, err)
	}
	jobs := f.Jobs()
	if !bytes.Equal(jobs[0].Document, pdf) {
		t.Fatalf("the printer got %d bytes, want the %d of the PDF", len(jobs[0].Document), len(pdf))
	}
	a := jobs[0].Attrs
	if a["op"] != "Print-Job" || a["document-format"] != "application/pdf" || a["job-name"] != "pj-ec1-1" || !strings.HasPrefix(a["printer-uri"], "ipp://") {
		t.Fatalf("request attributes = %v", a)
	}
	for _, tc := range []struct {
		name   string
		status goipp.Status
		http   int
	}{
		{"not accepting jobs (out of paper)", goipp.StatusErrorNotAcceptingJobs, 0},
		{"busy", 0, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.Fail(tc.status, tc.http)
			if _, err := p.Print(context.Background(), "pj-ec1-2", pdf); !apperr.Is(err, printing.CodePrinter) {
				t.Fatalf("print on a failing printer: %v, want %s", err, printing.CodePrinter)
			}
		})
	}
	f.Close()
	if _, err := p.Print(context.Background(), "pj-ec1-3", pdf); !apperr.Is(err, printing.CodePrinter) {
		t.Fatalf("print with the printer off: %v, want %s", err, printing.CodePrinter)
	}
	if _, err := printing.NewIPPPrinter("lpt1:", nil); err == nil {
		t.Fatal("a non-URL printer address was accepted")
	}
}
