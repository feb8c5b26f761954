package inboxhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley/inbox"
)

// writeTimeout bounds one write to an SSE client beyond the heartbeat: a
// client that takes longer is disconnected (it reconnects and resumes).
const writeTimeout = 30 * time.Second

// maxBatch bounds the bytes of events sent to a client in one write.
const maxBatch = 32 << 10

// events: GET /api/events — every inbox event as Server-Sent Events (T20).
// The SSE id is the event's Seq; a client that reconnects with
// Last-Event-ID (or ?lastEventId=) resumes after it. The stream starts with
// a "ready" event whose id is where it starts, so that a client that has
// just loaded its state and resumes from there misses nothing.
//
// The streams of one inbox share one subscription (see fanout): each event
// is encoded once and each stream reads the shared ring at its own
// position. A stream that falls behind the ring, or resumes from before
// it, catches up on a subscription of its own from the inbox's history,
// then returns to the ring.
func (h *Handler) events(c *call) error {
	after, err := lastEventID(c.r)
	if err != nil {
		return err
	}
	if after == 0 {
		after = c.ib.LastEventSeq()
	}
	f := h.joinFanout(c.ib)
	defer h.leaveFanout(f)

	s := &stream{h: h, c: c, f: f, rc: http.NewResponseController(c.w), last: after}
	hdr := c.w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	var b bytes.Buffer
	b.WriteString("retry: 2000\n")
	writeEvent(&b, "ready", after, EventJSON{Seq: after, Type: "ready"})
	if !s.write(b.Bytes()) || !s.flush() {
		return nil
	}
	s.beat = time.NewTicker(h.opts.Heartbeat)
	defer s.beat.Stop()
	pos, ok := f.position(after)
	for {
		if ok {
			if pos, ok = s.fromRing(pos); !ok && s.gone {
				return nil
			}
			continue
		}
		if pos, ok = s.fromSubscription(); !ok {
			return nil
		}
	}
}

// stream is one client's event stream.
type stream struct {
	h    *Handler
	c    *call
	f    *fanout
	rc   *http.ResponseController
	beat *time.Ticker
	last uint64 // the Seq of the latest event handled
	gone bool   // the client or the inbox is gone: the stream ends
	// deadline is the connection's write deadline: it is moved only when
	// less than writeTimeout is left, not at every write.
	deadline time.Time
}

// write sends b to the client (buffered until flush).
func (s *stream) write(b []byte) bool {
	if now := time.Now(); s.deadline.Sub(now) < writeTimeout {
		s.deadline = now.Add(s.h.opts.Heartbeat + writeTimeout)
		_ = s.rc.SetWriteDeadline(s.deadline)
	}
	if _, err := s.c.w.Write(b); err != nil {
		s.gone = true
		return false
	}
	return true
}

func (s *stream) flush() bool {
	if s.rc.Flush() != nil {
		s.gone = true
		return false
	}
	return true
}

func (s *stream) ping() bool { return s.write([]byte(": ping\n\n")) && s.flush() }

// fromRing sends the shared ring's events from position pos on, as they
// come, until the client or the inbox is gone (ok false, gone true) or the
// stream falls behind the ring (ok false: it catches up on a subscription
// of its own from s.last).
func (s *stream) fromRing(pos uint64) (uint64, bool) {
	f, ctx := s.f, s.c.ctx
	for {
		wake := f.wake.Load() // before head: a later entry closes it
		head := f.head.Load()
		if pos < head {
			n, wrote := 0, false
			for ; pos < head && n < maxBatch; pos++ {
				e := f.entry(pos)
				if e == nil {
					return pos, false // overwritten: behind the ring
				}
				s.last = e.seq
				if !s.h.entryVisible(s.c, f, e) {
					continue
				}
				if !s.write(e.text) {
					return pos, false
				}
				n += len(e.text)
				wrote = true
			}
			if wrote && !s.flush() {
				return pos, false
			}
			continue
		}
		if f.ended.Load() && pos == f.head.Load() {
			s.gone = true // the inbox was closed
			return pos, false
		}
		select {
		case <-*wake:
		case <-s.beat.C:
			if !s.ping() {
				return pos, false
			}
		case <-ctx.Done():
			s.gone = true
			return pos, false
		}
	}
}

// fromSubscription sends the events after s.last from a subscription of
// the stream's own (the inbox's history, then live events), until the
// stream can read the shared ring again: it returns the ring position to
// read from and true, or false when the client or the inbox is gone.
func (s *stream) fromSubscription() (uint64, bool) {
	var buf bytes.Buffer
	for {
		pos, ok, again := s.catchUp(&buf)
		if !again {
			return pos, ok
		}
	}
}

// catchUp is one subscription of fromSubscription; again says that it fell
// behind and must start again from s.last.
func (s *stream) catchUp(buf *bytes.Buffer) (pos uint64, ok, again bool) {
	ctx, cancel := context.WithCancel(s.c.ctx)
	defer cancel()
	sub := s.c.ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: s.last, Buffer: s.h.opts.EventBuffer})
	for {
		buf.Reset()
		select {
		case <-sub.Lagged():
			return 0, false, true
		case <-s.beat.C:
			if !s.ping() {
				return 0, false, false
			}
		case e, open := <-sub.C():
			if !open {
				return 0, false, false // the client or the inbox is gone
			}
			if e.Missed > 0 {
				return 0, false, true
			}
			s.add(buf, e)
			// send what else is ready in one write
			lagged := false
			for more := true; more && buf.Len() < maxBatch; {
				select {
				case e, open := <-sub.C():
					switch {
					case !open:
						more = false
					case e.Missed > 0:
						more, lagged = false, true
					default:
						s.add(buf, e)
					}
				default:
					more = false
				}
			}
			if buf.Len() > 0 && (!s.write(buf.Bytes()) || !s.flush()) {
				return 0, false, false
			}
			if lagged {
				return 0, false, true
			}
			if pos, ok := s.f.position(s.last); ok {
				return pos, true, false
			}
		}
	}
}

// add appends e to buf when the client may see it.
func (s *stream) add(buf *bytes.Buffer, e inbox.Event) {
	s.last = e.Seq
	if s.h.eventVisible(s.c, e) {
		writeEvent(buf, e.Type.String(), e.Seq, eventJSON(e))
	}
}

// eventVisible applies CanSee to events about a thread.
func (h *Handler) eventVisible(c *call, e inbox.Event) bool {
	if h.opts.CanSee == nil || e.ThreadID == "" {
		return true
	}
	t, err := c.ib.Thread(c.ctx, e.ThreadID)
	return err == nil && c.canSee(t)
}

// entryVisible applies CanSee to an entry of the ring: the thread is read
// once for every stream.
func (h *Handler) entryVisible(c *call, f *fanout, e *entry) bool {
	if h.opts.CanSee == nil || e.threadID == "" {
		return true
	}
	e.once.Do(func() {
		t, err := f.ib.Thread(f.ctx, e.threadID)
		if err == nil {
			e.thread = &t
		}
	})
	return e.thread != nil && c.canSee(*e.thread)
}

func writeEvent(buf *bytes.Buffer, typ string, id uint64, data EventJSON) {
	buf.WriteString("event: ")
	buf.WriteString(typ)
	buf.WriteString("\nid: ")
	buf.WriteString(strconv.FormatUint(id, 10))
	buf.WriteString("\ndata: ")
	b, _ := json.Marshal(data)
	buf.Write(b)
	buf.WriteString("\n\n")
}

func lastEventID(r *http.Request) (uint64, error) {
	s := strings.TrimSpace(r.Header.Get("Last-Event-ID"))
	if s == "" {
		s = r.URL.Query().Get("lastEventId")
	}
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, invalid("Last-Event-ID %q is not an event ID of this stream", s)
	}
	return n, nil
}
