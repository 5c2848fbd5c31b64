package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkTicketTakeHTTP takes mini-program tickets through the whole
// server (session, catalog, group-committed write, people-ahead count).
func BenchmarkTicketTakeHTTP(b *testing.B) {
	env, _ := devClock(b, atWednesday9)
	s := startServer(b, env)
	sectors := []string{"real-estate", "exit-entry", "housing-fund", "social-affairs", "business", "construction", "convenience", "social-security", "intermediary", "hotline-12345", "tax"}
	users := make([]string, 2000)
	for i := range users {
		code, _, body := s.do(b, http.MethodPost, "/api/v1/mp/login", "", strings.NewReader(fmt.Sprintf(`{"code":"dev:bench-%d"}`, i)))
		if code != 200 {
			b.Fatal(body)
		}
		users[i] = body[strings.Index(body, `"token":"`)+9:][:43]
	}
	client := benchClient()
	defer client.CloseIdleConnections()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1) - 1
			u, sec := int(i)%len(users), int(i)/len(users)%len(sectors)
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/mp/tickets", strings.NewReader(`{"center":"hm","sector":"`+sectors[sec]+`"}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+users[u])
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkTicketStatusHTTP follows mini-program tickets through the whole
// server (session, ticket read, people ahead, wait estimate), with 2,000
// tickets waiting across the sectors; compare BenchmarkRawFiberJSON.
func BenchmarkTicketStatusHTTP(b *testing.B) {
	env, _ := devClock(b, atWednesday9)
	s := startServer(b, env)
	sectors := []string{"real-estate", "exit-entry", "housing-fund", "social-affairs", "business", "construction", "convenience", "social-security", "intermediary", "hotline-12345", "tax"}
	type follow struct{ token, id string }
	var tickets []follow
	for i := range 2000 {
		code, _, body := s.do(b, http.MethodPost, "/api/v1/mp/login", "", strings.NewReader(fmt.Sprintf(`{"code":"dev:status-%d"}`, i)))
		if code != 200 {
			b.Fatal(body)
		}
		token := body[strings.Index(body, `"token":"`)+9:][:43]
		code, _, body = s.do(b, http.MethodPost, "/api/v1/mp/tickets", token, strings.NewReader(`{"center":"hm","sector":"`+sectors[i%len(sectors)]+`"}`))
		if code != 201 {
			b.Fatal(body)
		}
		tickets = append(tickets, follow{token, body[strings.Index(body, `"id":"`)+6:][:strings.Index(body[strings.Index(body, `"id":"`)+6:], `"`)]})
	}
	client := benchClient()
	defer client.CloseIdleConnections()
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f := tickets[int(n.Add(1))%len(tickets)]
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/v1/mp/tickets/"+f.id, nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
			}
			res.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
