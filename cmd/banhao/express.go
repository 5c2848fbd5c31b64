package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/banhao/banhao/internal/delivery"
	"github.com/banhao/banhao/internal/express"
)

// expressConfig says which courier company books the parcels of 证照免费寄送
// (BANHAO_EXPRESS_URL, BANHAO_EXPRESS_COMPANY, BANHAO_EXPRESS_KEY[_FILE]).
type expressConfig struct {
	// URL is the company's booking API; empty means the center's own
	// couriers, with waybill numbers made by banhao.
	URL     string
	Company string
	Key     string
}

func parseExpress(getenv func(string) string) (expressConfig, error) {
	e := expressConfig{URL: strings.TrimSpace(getenv("BANHAO_EXPRESS_URL")), Company: strings.TrimSpace(getenv("BANHAO_EXPRESS_COMPANY")),
		Key: getenv("BANHAO_EXPRESS_KEY")}
	if e.Key == "" {
		if path := getenv("BANHAO_EXPRESS_KEY_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				return e, fmt.Errorf("BANHAO_EXPRESS_KEY_FILE: %w", err)
			}
			e.Key = strings.TrimSpace(string(b))
		}
	}
	if e.Company == "" {
		e.Company = delivery.DefaultCompany
		if e.URL != "" {
			e.Company = "中国邮政EMS"
		}
	}
	if n := len([]rune(e.Company)); n > 32 {
		return e, fmt.Errorf("BANHAO_EXPRESS_COMPANY must be at most 32 characters, not %d", n)
	}
	if e.URL != "" {
		if _, err := express.New(express.Config{BaseURL: e.URL, Company: e.Company, Key: e.Key}); err != nil {
			return e, fmt.Errorf("BANHAO_EXPRESS_URL: %w", err)
		}
	}
	return e, nil
}

// carrier is the configured courier company.
func (e expressConfig) carrier() (delivery.Carrier, error) {
	if e.URL == "" {
		return delivery.OwnCourier{Name: e.Company}, nil
	}
	c, err := express.New(express.Config{BaseURL: e.URL, Company: e.Company, Key: e.Key})
	if err != nil {
		return nil, fmt.Errorf("courier company: %w", err)
	}
	return c, nil
}
