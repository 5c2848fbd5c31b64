// Package ipptest is a fake network printer for tests: a real IPP server
// on 127.0.0.1 that decodes each Print-Job, keeps the document bytes, and
// answers success, an IPP error status or an HTTP error as told.
package ipptest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/OpenPrinting/goipp"
)

// Job is one Print-Job the printer received.
type Job struct {
	// Attrs are the operation attributes by name (first value), plus "op".
	Attrs    map[string]string
	Document []byte
}

// Printer is the fake printer.
type Printer struct {
	srv *httptest.Server

	mu   sync.Mutex
	jobs []Job
	// status and httpStatus, when set, make the next jobs fail.
	status     goipp.Status
	httpStatus int
	// stalled jobs get no answer until the client gives up; dropped ones
	// see the connection closed without an answer.
	stalled, dropped bool
}

// New starts a printer; it stops when close is called.
func New() *Printer {
	p := &Printer{}
	p.srv = httptest.NewServer(p)
	return p
}

// URI is the printer's ipp:// address.
func (p *Printer) URI() string {
	return strings.Replace(p.srv.URL, "http://", "ipp://", 1) + "/ipp/print"
}

// Close stops the printer (later jobs cannot connect).
func (p *Printer) Close() { p.srv.Close() }

// Fail makes later jobs fail with an IPP status (e.g. not accepting jobs)
// or an HTTP status; zero values make them succeed again.
func (p *Printer) Fail(status goipp.Status, httpStatus int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status, p.httpStatus = status, httpStatus
}

// Stall makes later jobs wait, unanswered, until the client gives up (a
// printer that hangs); false answers them again.
func (p *Printer) Stall(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = on
}

// Drop makes later jobs see the connection closed without an answer (a
// printer that resets, or is switched off mid-job); false answers them
// again.
func (p *Printer) Drop(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dropped = on
}

// Jobs returns the jobs received so far.
func (p *Printer) Jobs() []Job {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Job(nil), p.jobs...)
}

// ServeHTTP implements the printer's side of IPP over HTTP.
func (p *Printer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	p.mu.Lock()
	stalled, dropped := p.stalled, p.dropped
	p.mu.Unlock()
	switch {
	case stalled:
		<-r.Context().Done()
		return
	case dropped:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.httpStatus != 0 {
		http.Error(w, "busy", p.httpStatus)
		return
	}
	attrs := map[string]string{"op": goipp.Op(req.Code).String()}
	for _, a := range req.Operation {
		if len(a.Values) > 0 {
			attrs[a.Name] = a.Values[0].V.String()
		}
	}
	p.jobs = append(p.jobs, Job{Attrs: attrs, Document: doc})
	rsp := goipp.NewResponse(goipp.DefaultVersion, p.status, req.RequestID)
	rsp.Operation.Add(goipp.MakeAttribute("attributes-charset", goipp.TagCharset, goipp.String("utf-8")))
	rsp.Operation.Add(goipp.MakeAttribute("attributes-natural-language", goipp.TagLanguage, goipp.String("zh-cn")))
	if p.status < 0x0100 {
		rsp.Job.Add(goipp.MakeAttribute("job-id", goipp.TagInteger, goipp.Integer(len(p.jobs))))
	}
	w.Header().Set("Content-Type", goipp.ContentType)
	_ = rsp.Encode(w)
}
