package inboxhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// countingStore counts the thread reads of an inbox.
type countingStore struct {
	store.Store
	reads atomic.Int64
}

func (s *countingStore) Thread(ctx context.Context, id string) (store.Thread, error) {
	s.reads.Add(1)
	return s.Store.Thread(ctx, id)
}

// T20 with CanSee: the thread of an event is read once for every stream
// that checks it, not once per stream, and an agent that may not see the
// thread gets none of its events.
func TestEventsCanSeeReadsThreadOnce(t *testing.T) {
	const streams, changes = 5, 20
	st := &countingStore{Store: memstore.New()}
	ib, err := inbox.New(st, inbox.Options{})
	must(t, err)
	t.Cleanup(func() { ib.Close() })
	ctx := context.Background()
	th, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "ana"})
	must(t, err)
	h, err := inboxhttp.New(ib, inboxhttp.Options{
		Agent: func(r *http.Request) (inboxhttp.Agent, error) {
			return inboxhttp.Agent{ID: r.Header.Get("X-Agent")}, nil
		},
		CanSee: func(_ *http.Request, a inboxhttp.Agent, _ inbox.Thread) bool { return a.ID != "ben" },
	})
	must(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{t: t, ctx: ctx, ib: ib, srv: srv}
	change := func(i int) {
		t.Helper()
		_, err := ib.SetFavourite(ctx, th.ID, i%2 == 0)
		must(t, err)
	}
	// the reads of the changes themselves, with no stream
	r0 := st.reads.Load()
	for i := range changes {
		change(i)
	}
	own := st.reads.Load() - r0

	var ss []*stream
	for range streams {
		s := e.connect("")
		s.next() // ready
		ss = append(ss, s)
	}
	ben := e.connectAs("ben", "") // may not see the thread
	ben.next()                    // ready
	r1 := st.reads.Load()
	for i := range changes {
		change(i)
	}
	for _, s := range ss {
		for range changes {
			if ev := s.next(); ev.typ != "thread-changed" || ev.data.ThreadID != th.ID {
				t.Fatalf("event %+v", ev)
			}
		}
	}
	if reads := st.reads.Load() - r1 - own; reads > changes {
		t.Fatalf("%d thread reads for %d changes seen by %d streams, want at most one per change", reads, changes, streams+1)
	}
	select {
	case ev := <-ben.events:
		if ev.typ != ":" {
			t.Fatalf("ben, who may not see the thread, got %+v", ev)
		}
	default:
	}
}

// T20: streams that share the ring and fall behind it (a burst of many
// times the ring's size) catch up from the inbox's history and return to
// the ring: each gets every event once, in order; one that resumes with
// Last-Event-ID from inside the ring gets what follows it.
func TestEventsSharedRingBurst(t *testing.T) {
	const streams, burst = 4, 200
	e := newEnv(t, envOptions{
		inbox:   func(o *inbox.Options) { o.EventHistory = 4 * burst },
		handler: func(o *inboxhttp.Options) { o.EventBuffer = 4 },
	})
	th := e.start(inbox.SubjectContact, "ana")
	var ss []*stream
	for range streams {
		s := e.connect("")
		s.next() // ready
		ss = append(ss, s)
	}
	from := e.ib.LastEventSeq()
	for round := range 2 {
		for i := range burst {
			if _, err := e.ib.SetFavourite(e.ctx, th.ID, i%2 == 0); err != nil {
				t.Fatal(err)
			}
		}
		last := e.ib.LastEventSeq()
		for k, s := range ss {
			for want := from + 1; want <= last; want++ {
				if ev := s.next(); ev.typ != "thread-changed" || ev.id != want {
					t.Fatalf("round %d, stream %d: event %s %d, want thread-changed %d", round, k, ev.typ, ev.id, want)
				}
			}
		}
		from = last
	}
	// resume from two events back, inside the ring: the streams above
	// keep it running
	if _, err := e.ib.SetFavourite(e.ctx, th.ID, true); err != nil {
		t.Fatal(err)
	}
	for _, s := range ss {
		s.next()
	}
	last := e.ib.LastEventSeq()
	r := e.connect(strconv.FormatUint(last-2, 10))
	if ev := r.next(); ev.typ != "ready" || ev.id != last-2 {
		t.Fatalf("ready %+v", ev)
	}
	for want := last - 1; want <= last; want++ {
		if ev := r.next(); ev.id != want {
			t.Fatalf("resumed: event %d, want %d", ev.id, want)
		}
	}
}

// Closing the inbox ends every event stream.
func TestEventsEndWithInbox(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, b := e.connect(""), e.connect("")
	a.next()
	b.next()
	e.ib.Close()
	for _, s := range []*stream{a, b} {
		for {
			ev, ok := <-s.events
			if !ok {
				break
			}
			if ev.typ != ":" {
				t.Fatalf("event after the inbox closed: %+v", ev)
			}
		}
	}
}
