package main

import (
	"io"
	"net"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// benchClient keeps enough idle connections for the parallel benchmark
// goroutines so that every request reuses one.
func benchClient() *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
}

func benchGet(b *testing.B, url string) {
	client := benchClient()
	defer client.CloseIdleConnections()
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkGetMatter reads one guide through the whole server (middleware,
// SQLite read pool, JSON) over loopback HTTP.
func BenchmarkGetMatter(b *testing.B) {
	s := startServer(b, nil)
	benchGet(b, s.URL+"/api/v1/matters/hm-gjj-withdraw-purchase")
}

// BenchmarkSearchHTTP searches by pinyin initials through the whole server.
func BenchmarkSearchHTTP(b *testing.B) {
	s := startServer(b, nil)
	benchGet(b, s.URL+"/api/v1/matters?center=hm&q=gjj")
}

// BenchmarkRawFiberJSON is the machine's ceiling for comparison: a bare
// fiber app answering a small JSON document, through the same client.
func BenchmarkRawFiberJSON(b *testing.B) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/x", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"code": "hm-gjj-withdraw-purchase", "name": "住房公积金提取（购房）"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	benchGet(b, "http://"+ln.Addr().String()+"/x")
}
