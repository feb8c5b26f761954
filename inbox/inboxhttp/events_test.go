package inboxhttp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
)

// sse is one event of a stream as a client parses it; a comment line is
// an event of type ":".
type sse struct {
	typ  string
	id   uint64
	data inboxhttp.EventJSON
}

type stream struct {
	t      *testing.T
	events chan sse
	cancel context.CancelFunc
	res    *http.Response
}

// connect opens the event stream as agent lea, resuming after lastID when
// it is not "".
func (e *env) connect(lastID string) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r, err := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/api/events", nil)
	must(e.t, err)
	r.Header.Set("X-Agent", "lea")
	r.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		r.Header.Set("Last-Event-ID", lastID)
	}
	res, err := e.srv.Client().Do(r)
	must(e.t, err)
	e.validate("GET", "/api/events", r.Header, nil, res, nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		e.t.Fatalf("events: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &stream{t: e.t, events: make(chan sse, 100000), cancel: cancel, res: res}
	e.t.Cleanup(s.close)
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(res.Body)
		var cur sse
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if cur.typ != "" {
					s.events <- cur
				}
				cur = sse{}
			case strings.HasPrefix(line, ":"):
				s.events <- sse{typ: ":"}
			case strings.HasPrefix(line, "event: "):
				cur.typ = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "id: "):
				cur.id, _ = strconv.ParseUint(strings.TrimPrefix(line, "id: "), 10, 64)
			case strings.HasPrefix(line, "data: "):
				_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &cur.data)
			}
		}
	}()
	return s
}

func (s *stream) close() { s.cancel(); s.res.Body.Close() }

// next returns the next event that is not a heartbeat.
func (s *stream) next() sse {
	s.t.Helper()
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatal("stream ended")
			}
			if ev.typ != ":" {
				return ev
			}
		case <-time.After(10 * time.Second):
			s.t.Fatal("no event within 10s")
		}
	}
}

// T20: every inbox event is streamed with its Seq as the SSE id.
func TestEventsStream(t *testing.T) {
	e := newEnv(t, envOptions{})
	start := e.ib.LastEventSeq()
	s := e.connect("")
	ready := s.next()
	if ready.typ != "ready" || ready.id != start {
		t.Fatalf("first event %+v, want ready at %d", ready, start)
	}
	m := e.inbound(ana.Phone, "Hello")
	got := []sse{s.next(), s.next()}
	if got[0].typ != "thread-started" || got[1].typ != "message-received" || got[1].data.MessageID != m.ID ||
		got[1].data.ThreadID != m.ThreadID || got[1].id != got[0].id+1 || got[1].data.Seq != got[1].id {
		t.Fatalf("events %+v", got)
	}
	e.ok(req{method: "POST", path: "/api/threads/" + m.ThreadID + "/typing"}, 200, nil)
	if ev := s.next(); ev.typ != "typing" || ev.data.Agent != "lea" || ev.data.ExpiresAt.IsZero() {
		t.Fatalf("typing event %+v", ev)
	}
}

// T20: a client that reconnects with Last-Event-ID gets exactly what it
// missed; one that missed more than the history holds gets "resync".
func TestEventsResume(t *testing.T) {
	e := newEnv(t, envOptions{inbox: func(o *inbox.Options) { o.EventHistory = 8 }})
	th := e.start(inbox.SubjectContact, "ana")
	s := e.connect("")
	s.next() // ready
	e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/favourite"}, 200, nil)
	seen := s.next()
	s.close()
	// missed while disconnected: three changes
	for _, a := range []string{"unfavourite", "archive", "restore"} {
		e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/" + a}, 200, nil)
	}
	s = e.connect(strconv.FormatUint(seen.id, 10))
	if ev := s.next(); ev.typ != "ready" || ev.id != seen.id {
		t.Fatalf("ready %+v", ev)
	}
	for i := uint64(1); i <= 3; i++ {
		if ev := s.next(); ev.typ != "thread-changed" || ev.id != seen.id+i {
			t.Fatalf("replayed %d: %+v", i, ev)
		}
	}
	e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/close"}, 200, nil)
	if ev := s.next(); ev.id != seen.id+4 {
		t.Fatalf("live after replay: %+v", ev)
	}
	s.close()
	// too far back: more than eight events missed
	for i := range 10 {
		e.ok(req{method: "POST", path: "/api/threads/" + th.ID + "/" + []string{"favourite", "unfavourite"}[i%2]}, 200, nil)
	}
	last := e.ib.LastEventSeq()
	s = e.connect(strconv.FormatUint(seen.id, 10))
	s.next() // ready
	if ev := s.next(); ev.typ != "resync" || ev.id != last {
		t.Fatalf("too far back: %+v, want resync at %d", ev, last)
	}
	e.fails(req{method: "GET", path: "/api/events", header: map[string]string{"Last-Event-ID": "yesterday"}}, 400, inboxhttp.TypeInvalid)
}

// Idle connections get heartbeat comments.
func TestEventsHeartbeat(t *testing.T) {
	e := newEnv(t, envOptions{handler: func(o *inboxhttp.Options) { o.Heartbeat = time.Millisecond }})
	s := e.connect("")
	for ev := range s.events {
		if ev.typ == ":" {
			return
		}
	}
	t.Fatal("stream ended without a heartbeat")
}

// T20: a client that does not read never blocks the inbox; when it reads
// again it gets every event, in order, caught up from the history.
func TestEventsSlowClient(t *testing.T) {
	const n = 3000
	e := newEnv(t, envOptions{
		inbox:   func(o *inbox.Options) { o.EventHistory = 2 * n },
		handler: func(o *inboxhttp.Options) { o.EventBuffer = 1 },
	})
	th := e.start(inbox.SubjectContact, "ana")
	s := e.connect("")
	ready := s.next()
	// The reader of this stream is stopped at its channel's capacity
	// (100,000 events, far more than n) only by the test reading nothing
	// yet: the handler may write n events while the inbox publishes them.
	for i := range n {
		if _, err := e.ib.SetFavourite(e.ctx, th.ID, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	last := e.ib.LastEventSeq()
	want := ready.id + 1
	for want <= last {
		ev := s.next()
		if ev.typ == "resync" {
			t.Fatalf("resync at %d although the history holds every event", ev.id)
		}
		if ev.id != want {
			t.Fatalf("event %d, want %d: an event was lost or repeated", ev.id, want)
		}
		want++
	}
}
