package inboxhttp_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

const benchThreads = 1_000_000

var (
	listOnce sync.Once
	listIB   *inbox.Inbox
	listErr  error
)

var (
	benchFirst = strings.Fields("Hélène Marc John Zoé Léa Lucas Emma Hugo Chloé Louis Inès Jules Manon Gabriel Camille Arthur Sarah Nathan Julie Paul Marie")
	benchLast  = strings.Fields("Dupont Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel Garcia Silva")
)

// listInbox returns an inbox on memstore holding 1,000,000 threads: 80 %
// contacts, 10 % audiences, 10 % events, with favourites, unread, muted,
// archived, closed and assigned ones in realistic shares.
func listInbox(b *testing.B) *inbox.Inbox {
	listOnce.Do(func() {
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		ctx := context.Background()
		s := memstore.New()
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		rng := rand.New(rand.NewPCG(7, 11))
		for i := range benchThreads {
			th := store.Thread{ID: fmt.Sprintf("th%07d", i)}
			at := now.Add(-time.Duration(rng.Int64N(int64(365 * 24 * time.Hour))))
			switch r := rng.IntN(10); {
			case r < 8:
				fn, ln := benchFirst[rng.IntN(len(benchFirst))], benchLast[rng.IntN(len(benchLast))]
				th.Subject = store.Subject{Kind: store.Contact, ID: fmt.Sprintf("c%07d", i)}
				th.Snapshot = store.Snapshot{FirstName: fn, LastName: ln, Phone: fmt.Sprintf("+336%08d", rng.IntN(100_000_000)),
					Email: fmt.Sprintf("%s.%s%d@example.fr", strings.ToLower(fn), strings.ToLower(ln), i)}
			case r < 9:
				th.Subject = store.Subject{Kind: store.Audience, ID: fmt.Sprintf("a%07d", i)}
				th.Snapshot = store.Snapshot{Name: fmt.Sprintf("Membres yoga %d", i)}
			default:
				th.Subject = store.Subject{Kind: store.Event, ID: fmt.Sprintf("e%07d", i)}
				th.Snapshot = store.Snapshot{Name: fmt.Sprintf("Cours de pilates %d", i)}
			}
			th.CreatedAt, th.SortTime, th.LastActivityAt, th.LastMessageAt = at, at, at, at
			th.Preview = "Bonjour, est-ce qu'il reste de la place au cours de ce soir ? Merci !"
			th.Messages = 1 + rng.IntN(20)
			if rng.IntN(4) == 0 {
				th.Unread = 1 + rng.IntN(3)
			}
			th.Favourite = rng.IntN(100) < 5
			th.Muted = rng.IntN(100) < 3
			th.Archived = rng.IntN(100) < 10
			th.Closed = rng.IntN(100) < 20
			if rng.IntN(10) < 7 {
				th.Assignee = fmt.Sprintf("agent-%02d", rng.IntN(10))
			}
			if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
				listErr = err
				return
			}
		}
		listIB, listErr = inbox.New(s, inbox.Options{Now: func() time.Time { return now }})
	})
	if listErr != nil {
		b.Fatal(listErr)
	}
	return listIB
}

// reportPercentiles reports the median and 99th percentile of ds.
func reportPercentiles(b *testing.B, ds []time.Duration, unit string, scale time.Duration) {
	if len(ds) == 0 {
		return
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2])/float64(scale), "p50-"+unit)
	b.ReportMetric(float64(ds[len(ds)*99/100])/float64(scale), "p99-"+unit)
}

// The thread list endpoint at 1,000,000 threads on memstore, JSON encoding
// included: GET /api/threads served by the handler into a recorder.
func BenchmarkThreadListEndpoint1M(b *testing.B) {
	ib := listInbox(b)
	h, err := inboxhttp.New(ib, inboxhttp.Options{Agent: func(*http.Request) (inboxhttp.Agent, error) {
		return inboxhttp.Agent{ID: "agent-01"}, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	// the cursor of a page 20 pages deep
	next := ""
	for range 20 {
		page, err := ib.Threads(context.Background(), inbox.ThreadQuery{Cursor: next})
		if err != nil {
			b.Fatal(err)
		}
		next = page.Next
	}
	for _, bc := range []struct{ name, query string }{
		{"first-page", ""},
		{"unread", "status=unread"},
		{"open-contacts", "lifecycle=open&category=contact"},
		{"assigned-to-me", "assignee=me"},
		{"page-21", "cursor=" + next},
		{"search-name", "q=helene+dupont"},
		{"search-phone", "q=06+12+34"},
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
			reportPercentiles(b, ds, "µs", time.Microsecond)
		})
	}
}

// One event reaches 1,000 connected SSE clients: the time from the inbox
// change to the last client reading the event, over loopback TCP.
func BenchmarkSSEFanout1000(b *testing.B) {
	const clients = 1000
	ib, err := inbox.New(memstore.New(), inbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ib.Close()
	th, err := ib.Start(context.Background(), inbox.Subject{Kind: inbox.SubjectContact, ID: "ana"})
	if err != nil {
		b.Fatal(err)
	}
	h, err := inboxhttp.New(ib, inboxhttp.Options{Agent: func(*http.Request) (inboxhttp.Agent, error) {
		return inboxhttp.Agent{ID: "lea"}, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	var got atomic.Int64
	done := make(chan struct{}, 1)
	stop := connectClients(b, srv, clients, func() {
		if got.Add(1) == clients {
			done <- struct{}{}
		}
	})
	defer stop()
	ds := make([]time.Duration, 0, b.N)
	on := false
	cpu0 := cpuTime()
	for b.Loop() {
		got.Store(0)
		on = !on
		t := time.Now()
		if _, err := ib.SetFavourite(context.Background(), th.ID, on); err != nil {
			b.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Fatalf("only %d of %d clients got the event", got.Load(), clients)
		}
		ds = append(ds, time.Since(t))
	}
	// CPU time of this process (server and clients) per event: what the
	// fan-out costs whatever else the machine runs.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(len(ds)), "cpu-ms/event")
	reportPercentiles(b, ds, "ms", time.Millisecond)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// connectClients opens n event streams that call onEvent for every
// thread-changed event they read, and waits until all are connected.
func connectClients(b *testing.B, srv *httptest.Server, n int, onEvent func()) func() {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxIdleConnsPerHost: n, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr}
	var ready sync.WaitGroup
	ready.Add(n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/events", nil)
			res, err := client.Do(req)
			if err != nil {
				ready.Done()
				return
			}
			defer res.Body.Close()
			sc := bufio.NewScanner(res.Body)
			first := true
			for sc.Scan() {
				line := sc.Text()
				if first && line == "event: ready" {
					first = false
					ready.Done()
				} else if line == "event: thread-changed" {
					onEvent()
				}
			}
		}()
	}
	ready.Wait()
	return func() { cancel(); wg.Wait(); tr.CloseIdleConnections() }
}

// Memory per idle SSE client: heap and stacks of 1,000 connected clients
// (both ends, in this process), less the same clients connected to a
// handler that only holds its connections open, so that what is left is
// the event stream's own cost per client.
func BenchmarkSSEIdleClientMemory(b *testing.B) {
	const clients = 1000
	ib, err := inbox.New(memstore.New(), inbox.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer ib.Close()
	h, err := inboxhttp.New(ib, inboxhttp.Options{Agent: func(*http.Request) (inboxhttp.Agent, error) {
		return inboxhttp.Agent{ID: "lea"}, nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	hold := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("event: ready\nid: 0\ndata: {}\n\n"))
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	measure := func(handler http.Handler) float64 {
		srv := httptest.NewServer(handler)
		defer srv.Close()
		before := memInUse()
		stop := connectClients(b, srv, clients, func() {})
		after := memInUse()
		stop()
		return float64(after-before) / clients
	}
	var sse, base float64
	for b.Loop() {
		base = measure(hold)
		sse = measure(h)
	}
	b.ReportMetric(sse, "B/client-total")
	b.ReportMetric(sse-base, "B/client-stream")
}

func memInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}
