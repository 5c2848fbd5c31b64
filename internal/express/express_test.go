package express_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/banhao/banhao/internal/apperr"
	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/express"
	"github.com/banhao/banhao/internal/express/expresstest"
)

var shipment = delivery.Shipment{
	Reference: "pc019ac1f2e3d4a1b2c3d4e5f60718", Recipient: "张三丰", Phone: "13800138000",
	Address: "山东省滨州市惠民县孙武街道乐安大街1号", Sender: "惠民县政务服务中心", Contents: "营业执照（纸质证照）",
}

func newClient(t *testing.T, base, key string) *express.Client {
	t.Helper()
	c, err := express.New(express.Config{BaseURL: base, Company: "测试快递", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreateShipment(t *testing.T) {
	fake := expresstest.New(t)
	c := newClient(t, fake.URL()+"/", expresstest.Key)
	if c.Company() != "测试快递" {
		t.Fatalf("company %q", c.Company())
	}
	tracking, err := c.CreateShipment(t.Context(), shipment)
	if err != nil || tracking == "" {
		t.Fatalf("book: %q %v", tracking, err)
	}
	// Booking the same parcel again (a retry after a lost answer) is the
	// same shipment.
	again, err := c.CreateShipment(t.Context(), shipment)
	if err != nil || again != tracking {
		t.Fatalf("book again: %q %v, want %q", again, err, tracking)
	}
	got := fake.Shipments()
	if len(got) != 1 || got[0].Recipient != "张三丰" || got[0].Phone != "13800138000" || got[0].Sender != "惠民县政务服务中心" || got[0].Contents != shipment.Contents {
		t.Fatalf("shipments = %+v", got)
	}
}

func TestCreateShipmentFaults(t *testing.T) {
	tests := []struct {
		name   string
		status int
		want   apperr.Code
	}{
		{"server error is passing", http.StatusInternalServerError, apperr.Unavailable},
		{"unavailable is passing", http.StatusServiceUnavailable, apperr.Unavailable},
		{"rate limit is passing", http.StatusTooManyRequests, apperr.Unavailable},
		{"bad request is a refusal", http.StatusBadRequest, delivery.CodeCarrierRefused},
		{"forbidden is a refusal", http.StatusForbidden, delivery.CodeCarrierRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := expresstest.New(t)
			c := newClient(t, fake.URL(), expresstest.Key)
			fake.FailNext(1, tt.status)
			_, err := c.CreateShipment(t.Context(), shipment)
			if !apperr.Is(err, tt.want) {
				t.Fatalf("err = %v, want %s", err, tt.want)
			}
			if strings.Contains(err.Error(), "13800138000") || strings.Contains(err.Error(), "张三丰") {
				t.Fatalf("error carries personal data: %v", err)
			}
			// The next try goes through.
			if _, err := c.CreateShipment(t.Context(), shipment); err != nil {
				t.Fatalf("retry: %v", err)
			}
		})
	}
	t.Run("wrong key is a refusal", func(t *testing.T) {
		fake := expresstest.New(t)
		_, err := newClient(t, fake.URL(), "not-the-key").CreateShipment(t.Context(), shipment)
		if !apperr.Is(err, delivery.CodeCarrierRefused) || !strings.Contains(err.Error(), "bad_key") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("unreachable is passing", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := newClient(t, url, expresstest.Key).CreateShipment(t.Context(), shipment)
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("timeout is passing", func(t *testing.T) {
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
		}))
		defer srv.Close()
		defer close(release)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := newClient(t, srv.URL, expresstest.Key).CreateShipment(ctx, shipment)
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an answer without a number is passing", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"tracking_number":""}`))
		}))
		defer srv.Close()
		_, err := newClient(t, srv.URL, expresstest.Key).CreateShipment(t.Context(), shipment)
		if !apperr.Is(err, apperr.Unavailable) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewChecksConfig(t *testing.T) {
	for _, cfg := range []express.Config{
		{BaseURL: "", Company: "x"},
		{BaseURL: "ftp://example", Company: "x"},
		{BaseURL: "https://example?x=1", Company: "x"},
		{BaseURL: "https://example", Company: " "},
	} {
		if _, err := express.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
