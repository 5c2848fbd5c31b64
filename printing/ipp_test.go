package printing

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/OpenPrinting/goipp"

	"github.com/banhao/banhao/internal/apperr"
)

// fakeIPP is an office printer on 127.0.0.1: it decodes each Print-Job,
// keeps the document bytes, and answers as told.
type fakeIPP struct {
	mu     sync.Mutex
	jobs   [][]byte
	attrs  []map[string]string
	status goipp.Status
	http   int
}

func (f *fakeIPP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") != goipp.ContentType {
		http.Error(w, "not IPP", http.StatusBadRequest)
		return
	}
	var req goipp.Message
	if err := req.Decode(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	doc, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.http != 0 {
		http.Error(w, "busy", f.http)
		return
	}
	attrs := map[string]string{"op": goipp.Op(req.Code).String()}
	for _, a := range req.Operation {
		if len(a.Values) > 0 {
			attrs[a.Name] = a.Values[0].V.String()
		}
	}
	f.jobs = append(f.jobs, doc)
	f.attrs = append(f.attrs, attrs)
	status := f.status
	rsp := goipp.NewResponse(goipp.DefaultVersion, status, req.RequestID)
	rsp.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	rsp.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("zh-cn")))
	if status < 0x0100 {
		rsp.Job.Add(goipp.MakeAttribute("job-id", goipp.TagInteger, goipp.Integer(len(f.jobs))))
	}
	w.Header().Set("Content-Type", goipp.ContentType)
	_ = rsp.Encode(w)
}

func TestIPPPrinter(t *testing.T) {
	f := &fakeIPP{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p, err := NewIPPPrinter(strings.Replace(srv.URL, "http://", "ipp://", 1)+"/ipp/print", nil)
	if err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("证照"), 5000)...)
	id, err := p.Print(context.Background(), "pj-ec1-1", pdf)
	if err != nil || id != 1 {
		t.Fatalf("print: id %d, %v", id, err)
	}
	if !bytes.Equal(f.jobs[0], pdf) {
		t.Fatalf("the printer got %d bytes, want the %d of the PDF", len(f.jobs[0]), len(pdf))
	}
	a := f.attrs[0]
	if a["op"] != "Print-Job" || a["document-format"] != "application/pdf" || a["job-name"] != "pj-ec1-1" || !strings.HasPrefix(a["printer-uri"], "ipp://") {
		t.Fatalf("request attributes = %v", a)
	}

	for _, tc := range []struct {
		name   string
		status goipp.Status
		http   int
	}{
		{"out of paper", goipp.StatusErrorNotAcceptingJobs, 0},
		{"busy", 0, http.StatusServiceUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.mu.Lock()
			f.status, f.http = tc.status, tc.http
			f.mu.Unlock()
			if _, err := p.Print(context.Background(), "pj-ec1-2", pdf); !apperr.Is(err, CodePrinter) {
				t.Fatalf("print on a failing printer: %v, want %s", err, CodePrinter)
			}
		})
	}
	srv.Close()
	if _, err := p.Print(context.Background(), "pj-ec1-3", pdf); !apperr.Is(err, CodePrinter) {
		t.Fatalf("print with the printer off: %v, want %s", err, CodePrinter)
	}
	if _, err := NewIPPPrinter("lpt1:", nil); err == nil {
		t.Fatal("a non-URL printer address was accepted")
	}
}
