// Package expresstest is a fake courier company API on 127.0.0.1 that
// speaks the protocol of package express, for tests of the parcel flow:
//
//	fake := expresstest.New(t) // closed by t.Cleanup
//	c, _ := express.New(express.Config{BaseURL: fake.URL(), Company: "测试快递", Key: expresstest.Key})
//	fake.FailNext(2, http.StatusServiceUnavailable) // the next two bookings fail
//	// ... book; then:
//	fake.Shipments() // what was booked, in order, one per reference
//
// Bookings are idempotent by reference, as the protocol requires. All
// methods are safe for concurrent use.
package expresstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Key is the API key the fake accepts.
const Key = "expresstest-key"

// Shipment is a booking the fake accepted.
type Shipment struct {
	Reference string
	Tracking  string
	Contents  string
	Recipient string
	Phone     string
	Address   string
	Sender    string
}

// Fake is a fake courier company API server.
type Fake struct {
	srv *httptest.Server

	mu        sync.Mutex
	shipments []Shipment
	fail      []int // statuses of the next answers to fail with
	calls     int
	// lose counts the next bookings that are made but whose answer is
	// lost (the connection closed); stalled bookings get no answer until
	// the client gives up.
	lose    int
	stalled bool
}

// New starts a fake on 127.0.0.1, closed when t ends.
func New(t testing.TB) *Fake {
	f := &Fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the fake's base URL, for express.Config.BaseURL.
func (f *Fake) URL() string { return f.srv.URL }

// FailNext makes the next n bookings fail with HTTP status.
func (f *Fake) FailNext(n, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.fail = append(f.fail, status)
	}
}

// LoseNext makes the next n bookings go through at the company while
// their answers are lost: the connection closes before the answer.
func (f *Fake) LoseNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lose += n
}

// Stall makes later bookings wait, unanswered and not made, until the
// client gives up (a company API that hangs); false answers them again.
func (f *Fake) Stall(on bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stalled = on
}

// Shipments returns the accepted bookings, one per reference, in order.
func (f *Fake) Shipments() []Shipment {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Shipment(nil), f.shipments...)
}

// Calls counts the booking requests, failed ones included.
func (f *Fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type party struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

type request struct {
	Reference string `json:"reference"`
	Contents  string `json:"contents"`
	Recipient party  `json:"recipient"`
	Sender    party  `json:"sender"`
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/shipments" {
		answer(w, http.StatusNotFound, map[string]string{"code": "not_found"})
		return
	}
	if r.Method != http.MethodPost {
		answer(w, http.StatusMethodNotAllowed, map[string]string{"code": "method_not_allowed"})
		return
	}
	f.mu.Lock()
	f.calls++
	stalled := f.stalled
	f.mu.Unlock()
	if stalled {
		// Reading the body to its end first lets the server notice a
		// client that gives up, which cancels r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		answer(w, status, map[string]string{"code": "injected_failure"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+Key {
		answer(w, http.StatusUnauthorized, map[string]string{"code": "bad_key"})
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		answer(w, http.StatusUnsupportedMediaType, map[string]string{"code": "not_json"})
		return
	}
	var req request
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Reference == "" || req.Recipient.Name == "" ||
		req.Recipient.Phone == "" || req.Recipient.Address == "" || r.Header.Get("Idempotency-Key") != req.Reference {
		answer(w, http.StatusBadRequest, map[string]string{"code": "invalid_request"})
		return
	}
	for _, s := range f.shipments {
		if s.Reference == req.Reference {
			answer(w, http.StatusOK, map[string]string{"tracking_number": s.Tracking})
			return
		}
	}
	s := Shipment{Reference: req.Reference, Tracking: fmt.Sprintf("EX%010d", len(f.shipments)+1), Contents: req.Contents,
		Recipient: req.Recipient.Name, Phone: req.Recipient.Phone, Address: req.Recipient.Address, Sender: req.Sender.Name}
	f.shipments = append(f.shipments, s)
	if f.lose > 0 {
		f.lose--
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	answer(w, http.StatusCreated, map[string]string{"tracking_number": s.Tracking})
}
