// Package express is the delivery.Carrier adapter that books shipments
// with a courier company's HTTP API, so that the parcel flow of package
// delivery never speaks to a company directly. A real company (EMS, SF)
// plugs in behind a gateway that speaks this JSON, or as another adapter
// of delivery.Carrier; nothing in the flow changes.
//
// The protocol:
//
//	POST {base}/v1/shipments
//	Authorization: Bearer <key>
//	Idempotency-Key: <parcel ID>
//	Content-Type: application/json
//
//	{"reference": "pc…", "contents": "营业执照（纸质证照）",
//	 "recipient": {"name": "…", "phone": "…", "address": "…"},
//	 "sender": {"name": "…", "phone": "…", "address": "…"}}
//
// answered 200 or 201 with {"tracking_number": "…"}. The company keeps
// one shipment per reference: booking the same reference again returns
// the same waybill number. 429, 5xx, timeouts and network failures are
// passing (apperr.Unavailable: the parcel waits and is booked again
// later); any other answer is a refusal (delivery.CodeCarrierRefused).
//
// Errors carry the HTTP status and the company's short error code, never
// the request or the answer's text, which may hold the recipient's data.
package express

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
)

// Config says which company to book with.
type Config struct {
	// BaseURL is the API's address, e.g. "https://api.courier.example";
	// the shipments endpoint is BaseURL + "/v1/shipments".
	BaseURL string
	// Company is the company's name as printed on labels.
	Company string
	// Key is the API key, sent as a bearer token; empty sends none.
	Key string
	// HTTPClient, if not nil, replaces the default client (10 s per call).
	HTTPClient *http.Client
}

// Client books shipments; it is safe for concurrent use.
type Client struct {
	endpoint string
	company  string
	key      string
	http     *http.Client
}

var _ delivery.Carrier = (*Client)(nil)

// New checks the configuration and returns a client.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("express: base URL must be an http(s) address without query, not %q", cfg.BaseURL)
	}
	if strings.TrimSpace(cfg.Company) == "" {
		return nil, errors.New("express: the company needs a name for the labels")
	}
	hc := cfg.HTTPClient
	if hc == nil {
		dialer := &net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}
		hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, DialContext: dialer.DialContext, ForceAttemptHTTP2: true,
			TLSHandshakeTimeout: 3 * time.Second, ResponseHeaderTimeout: 8 * time.Second,
			MaxIdleConnsPerHost: 4, IdleConnTimeout: 90 * time.Second,
		}}
	}
	return &Client{endpoint: u.String() + "/v1/shipments", company: strings.TrimSpace(cfg.Company), key: cfg.Key, http: hc}, nil
}

// Company implements delivery.Carrier.
func (c *Client) Company() string { return c.company }

type party struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Address string `json:"address"`
}

type shipmentRequest struct {
	Reference string `json:"reference"`
	Contents  string `json:"contents"`
	Recipient party  `json:"recipient"`
	Sender    party  `json:"sender"`
}

type shipmentResponse struct {
	TrackingNumber string `json:"tracking_number"`
	Code           string `json:"code"`
}

// safeCode is what of a company's error code may reach a log.
var safeCode = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,40}$`)

// CreateShipment implements delivery.Carrier.
func (c *Client) CreateShipment(ctx context.Context, s delivery.Shipment) (string, error) {
	body, err := json.Marshal(shipmentRequest{
		Reference: s.Reference, Contents: s.Contents,
		Recipient: party{Name: s.Recipient, Phone: s.Phone, Address: s.Address},
		Sender:    party{Name: s.Sender, Phone: s.SenderPhone, Address: s.SenderAddress},
	})
	if err != nil {
		return "", fmt.Errorf("express: encode shipment %s: %w", s.Reference, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("express: shipment %s: %w", s.Reference, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", s.Reference)
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	res, err := c.http.Do(req)
	if err != nil {
		// The URL holds no secret; the error names the host and the cause.
		return "", apperr.Wrap(apperr.Unavailable, "快递公司系统暂时无法连接", fmt.Errorf("express: book %s: %w", s.Reference, err))
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return "", apperr.Wrap(apperr.Unavailable, "快递公司系统应答中断", fmt.Errorf("express: book %s: read answer: %w", s.Reference, err))
	}
	var out shipmentResponse
	jerr := json.Unmarshal(raw, &out)
	code := ""
	if jerr == nil && safeCode.MatchString(out.Code) {
		code = " (" + out.Code + ")"
	}
	switch {
	case res.StatusCode == http.StatusOK || res.StatusCode == http.StatusCreated:
		if jerr != nil || strings.TrimSpace(out.TrackingNumber) == "" {
			return "", apperr.Wrap(apperr.Unavailable, "快递公司系统应答有误",
				fmt.Errorf("express: book %s: HTTP %d without a tracking number", s.Reference, res.StatusCode))
		}
		return strings.TrimSpace(out.TrackingNumber), nil
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		return "", apperr.Wrap(apperr.Unavailable, "快递公司系统繁忙",
			fmt.Errorf("express: book %s: HTTP %d%s", s.Reference, res.StatusCode, code))
	}
	return "", apperr.Wrap(delivery.CodeCarrierRefused, "快递公司未接受下单",
		fmt.Errorf("express: book %s: HTTP %d%s", s.Reference, res.StatusCode, code))
}
