package inboxhttp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
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
// change to the last client reading the event, over loopback TCP. The
// clients run in a child process (this test binary, see TestMain), so that
// this process's processor time is the server's alone; they read raw
// HTTP/1.1 with a bufio.Reader and compare lines as bytes, so that they
// take as little of the shared processor as a client can.
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
	cl := startClients(b, srv, clients)
	defer cl.stop()
	ds := make([]time.Duration, 0, b.N)
	on := false
	cpu0, ccpu0 := cpuTime(), cl.cpu
	for b.Loop() {
		on = !on
		t := time.Now()
		if _, err := ib.SetFavourite(context.Background(), th.ID, on); err != nil {
			b.Fatal(err)
		}
		cl.wait(b)
		ds = append(ds, time.Since(t))
	}
	// Processor time per event and client: the server's (this process)
	// and the clients' (the child), whatever else the machine runs.
	per := float64(len(ds)) * clients * float64(time.Microsecond)
	b.ReportMetric(float64(cpuTime()-cpu0)/per, "server-cpu-µs/client")
	b.ReportMetric(float64(cl.cpu-ccpu0)/per, "client-cpu-µs/client")
	reportPercentiles(b, ds, "ms", time.Millisecond)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestMain runs the benchmarks' SSE clients when this binary is started
// as their child process.
func TestMain(m *testing.M) {
	if v := os.Getenv(clientsEnv); v != "" {
		os.Exit(runClients(v))
	}
	os.Exit(m.Run())
}

// clientsEnv holds "address count" in the clients' process.
const clientsEnv = "PARLEY_BENCH_SSE_CLIENTS"

// sseClients is the child process that holds the clients.
type sseClients struct {
	cmd   *exec.Cmd
	stdin io.Closer
	lines chan string
	cpu   time.Duration // the child's processor time at its latest report
}

// startClients starts a child process with n clients of srv's event
// stream, and waits until each has read the stream's first event.
func startClients(b *testing.B, srv *httptest.Server, n int) *sseClients {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d", clientsEnv, srv.Listener.Addr(), n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	c := &sseClients{cmd: cmd, stdin: in, lines: make(chan string, 16)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	c.wait(b)
	return c
}

// wait waits for the child's next report: every client has read the
// stream's first event, or the latest thread-changed event.
func (c *sseClients) wait(b *testing.B) {
	select {
	case line, ok := <-c.lines:
		ns, err := strconv.ParseInt(line, 10, 64)
		if !ok || err != nil {
			b.Fatalf("the clients' process ended or failed: %q", line)
		}
		c.cpu = time.Duration(ns)
	case <-time.After(60 * time.Second):
		b.Fatal("the clients did not all read the event within 60s")
	}
}

func (c *sseClients) stop() {
	_ = c.stdin.Close()
	_ = c.cmd.Wait()
}

// runClients is the clients' process: spec is "address count". It prints
// its processor time in nanoseconds when every client has read the first
// event, and again each time every client has read one more
// thread-changed event; it ends when its standard input closes.
func runClients(spec string) int {
	var addr string
	var n int
	if _, err := fmt.Sscan(spec, &addr, &n); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 2
	}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := readStreams(addr, n, func() { fmt.Println(int64(cpuTime())) }); err != nil {
		fmt.Fprintln(os.Stderr, "clients:", err)
		return 1
	}
	return 0
}

var (
	readyLine   = []byte("event: ready\n")
	changedLine = []byte("event: thread-changed\n")
)

// counter counts the events the streams read: report is called when every
// stream has read its ready event, then each time the streams have read n
// more thread-changed events in all (one each).
type counter struct {
	n, ready, changed int
	report            func()
}

// scan counts the events in the bytes a stream read. carry holds the end
// of the stream's previous read that may begin a line split across reads;
// it returns the new carry.
func (c *counter) scan(carry, data []byte, seenReady *bool) []byte {
	b := append(carry, data...)
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		line := b[:i+1]
		b = b[i+1:]
		switch {
		case !*seenReady && bytes.Equal(line, readyLine):
			*seenReady = true
			if c.ready++; c.ready == c.n {
				c.report()
			}
		case bytes.Equal(line, changedLine):
			if c.changed++; c.changed%c.n == 0 {
				c.report()
			}
		}
	}
	if len(b) > len(changedLine) { // not a line that counts
		b = b[len(b)-len(changedLine):]
	}
	return append(carry[:0], b...)
}

// Memory per idle SSE client, on the server: heap and stacks of this
// process with 1,000 clients connected (from the child process), per
// client, in all and less the same clients connected to a handler that only
// holds its connections open, so that what is left is the event stream's
// own cost per client.
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
		cl := startClients(b, srv, clients)
		after := memInUse()
		cl.stop()
		return float64(int64(after)-int64(before)) / clients
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
