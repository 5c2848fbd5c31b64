package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/banhao/banhao/internal/notify"
)

// outboxCollector reports the notification outbox per status at each
// scrape, so that messages piling up unsent (WeChat down, templates not
// configured) show on the operators' dashboard.
type outboxCollector struct {
	store notify.Store
	desc  *prometheus.Desc
}

func newOutboxCollector(store notify.Store) outboxCollector {
	return outboxCollector{store: store, desc: prometheus.NewDesc("banhao_outbox_messages",
		"Notification outbox messages by status.", []string{"status"}, nil)}
}

func (c outboxCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.CountByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for status, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(status))
	}
}
