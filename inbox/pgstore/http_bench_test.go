package pgstore_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
)

// BenchmarkThreadListEndpoint is inboxhttp's thread list endpoint (GET
// /api/threads, JSON encoding included) over this store with the benchmark
// data set (1,000,000 threads): the figure a host serving the web inbox
// from PostgreSQL sees per request, without the network.
func BenchmarkThreadListEndpoint(b *testing.B) {
	env := setupBench(b, benchThreads())
	ib, err := inbox.New(env.store, inbox.Options{Now: func() time.Time { return benchNow }})
	if err != nil {
		b.Fatal(err)
	}
	h, err := inboxhttp.New(ib, inboxhttp.Options{Agent: func(*http.Request) (inboxhttp.Agent, error) {
		return inboxhttp.Agent{ID: "agent-01"}, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, query string }{
		{"first-page", ""},
		{"unread", "status=unread"},
		{"open-contacts", "lifecycle=open&category=contact"},
		{"search-name", "q=dupont"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ds := make([]time.Duration, 0, b.N)
			for b.Loop() {
				r := httptest.NewRequest("GET", "/api/threads?"+bc.query, nil)
				w := httptest.NewRecorder()
				t := time.Now()
				h.ServeHTTP(w, r)
				ds = append(ds, time.Since(t))
				if w.Code != 200 {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			slices.Sort(ds)
			b.ReportMetric(float64(ds[len(ds)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(ds[len(ds)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
