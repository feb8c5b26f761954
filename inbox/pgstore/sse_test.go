package pgstore_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/inboxhttp"
)

// sseEvent is one event of an SSE stream: its type and id.
type sseEvent struct {
	typ string
	id  uint64
}

// sseStream reads the event stream of one instance's handler.
type sseStream struct {
	events chan sseEvent
	cancel context.CancelFunc
}

// connectSSE opens GET /api/events on srv, resuming after lastID when it
// is not zero.
func connectSSE(t *testing.T, srv *httptest.Server, lastID uint64) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Accept", "text/event-stream")
	if lastID != 0 {
		r.Header.Set("Last-Event-ID", strconv.FormatUint(lastID, 10))
	}
	res, err := srv.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("events: %d", res.StatusCode)
	}
	s := &sseStream{events: make(chan sseEvent, 1000), cancel: func() { cancel(); res.Body.Close() }}
	t.Cleanup(s.cancel)
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var cur sseEvent
		for sc.Scan() {
			switch line := sc.Text(); {
			case line == "":
				if cur.typ != "" {
					s.events <- cur
				}
				cur = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				cur.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				cur.id, _ = strconv.ParseUint(strings.TrimPrefix(line, "id: "), 10, 64)
			}
		}
	}()
	return s
}

// next returns the stream's next event, failing when none comes in a
// minute (the other instance's NOTIFY is asynchronous).
func (s *sseStream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("T20: the stream ended")
		}
		return ev
	case <-time.After(time.Minute):
		t.Fatal("T20: no event within a minute")
	}
	return sseEvent{}
}

// T20: two app instances (separate pools) on one database, each with its
// own HTTP handler. An agent connected to instance B sees the guest
// messages instance A received, with the feed's Seq as the SSE id; after a
// disconnect it reconnects — the load balancer sends it to instance A —
// with Last-Event-ID and gets exactly what it missed, then live events.
func TestSSEAcrossInstances(t *testing.T) {
	ins := newInstances(t, newTenant(t), 2, nil)
	var srvs []*httptest.Server
	for _, in := range ins {
		h, err := inboxhttp.New(in.in, inboxhttp.Options{Agent: func(*http.Request) (inboxhttp.Agent, error) {
			return inboxhttp.Agent{ID: "lea", Name: "Léa", Tenant: "hotel"}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		srvs = append(srvs, srv)
	}
	a, ctx := ins[0].in, context.Background()
	n := 0
	receive := func() {
		t.Helper()
		n++
		if err := a.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: "+33612345678", To: "+33757000001",
			Text: fmt.Sprintf("Guest message %d", n), ProviderID: fmt.Sprintf("in-%d", n)}); err != nil {
			t.Fatal(err)
		}
	}

	onB := connectSSE(t, srvs[1], 0)
	ready := onB.next(t)
	if ready.typ != "ready" {
		t.Fatalf("T20: first event %+v, want ready", ready)
	}
	receive()
	started, got := onB.next(t), onB.next(t)
	if started.typ != "thread-started" || got.typ != "message-received" || got.id != started.id+1 || started.id <= ready.id {
		t.Fatalf("T20: instance B streamed %+v, %+v after %+v; want thread-started then message-received, numbered on", started, got, ready)
	}
	onB.cancel()

	// missed while disconnected: two messages (received on A)
	receive()
	receive()
	onA := connectSSE(t, srvs[0], got.id)
	if ev := onA.next(t); ev.typ != "ready" || ev.id != got.id {
		t.Fatalf("T20: resumed on A with %+v, want ready at %d", ev, got.id)
	}
	for i := uint64(1); i <= 2; i++ {
		if ev := onA.next(t); ev.typ != "message-received" || ev.id != got.id+i {
			t.Fatalf("T20: missed event %d replayed as %+v, want message-received %d", i, ev, got.id+i)
		}
	}
	receive()
	if ev := onA.next(t); ev.typ != "message-received" || ev.id != got.id+3 {
		t.Fatalf("T20: live after the replay: %+v, want message-received %d", ev, got.id+3)
	}
}
