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

// events: GET /api/events — every inbox event as Server-Sent Events (T20).
// The SSE id is the event's Seq; a client that reconnects with
// Last-Event-ID (or ?lastEventId=) resumes after it. The stream starts with
// a "ready" event whose id is where it starts, so that a client that has
// just loaded its state and resumes from there misses nothing.
func (h *Handler) events(c *call) error {
	after, err := lastEventID(c.r)
	if err != nil {
		return err
	}
	if after == 0 {
		after = c.ib.LastEventSeq()
	}
	ctx := c.ctx
	var sub *inbox.Subscription
	stop := func() {}
	subscribe := func(after uint64) {
		stop()
		var subCtx context.Context
		subCtx, stop = context.WithCancel(ctx)
		sub = c.ib.SubscribeWith(subCtx, inbox.SubscribeOptions{After: after, Buffer: h.opts.EventBuffer})
	}
	subscribe(after)
	defer func() { stop() }()

	w := c.w
	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	flush := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(h.opts.Heartbeat + writeTimeout))
		_, werr := w.Write(buf.Bytes())
		buf.Reset()
		return werr == nil && rc.Flush() == nil
	}
	buf.WriteString("retry: 2000\n")
	writeEvent(&buf, "ready", after, EventJSON{Seq: after, Type: "ready"})
	if !flush() {
		return nil
	}
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	last := after
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Lagged():
			// This client fell behind: catch up from the inbox's history
			// after the last event it was sent (or resync). What the old
			// subscription still holds is in the history too.
			subscribe(last)
		case <-beat.C:
			buf.WriteString(": ping\n\n")
			if !flush() {
				return nil
			}
		case e, ok := <-sub.C():
			if !ok {
				return nil // the inbox was closed
			}
			if e.Missed > 0 {
				subscribe(last)
				continue
			}
			last = e.Seq
			if !h.eventVisible(c, e) {
				continue
			}
			h.writeEvent(&buf, c.ib, e)
			// send what else is ready in one write
			for more := true; more && buf.Len() < 32<<10; {
				select {
				case e2, ok := <-sub.C():
					if !ok || e2.Missed > 0 {
						more = false
						if ok { // resume after the last event written
							subscribe(last)
						}
						break
					}
					last = e2.Seq
					if h.eventVisible(c, e2) {
						h.writeEvent(&buf, c.ib, e2)
					}
				default:
					more = false
				}
			}
			if !flush() {
				return nil
			}
		}
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

// encodedEvent is the SSE text of one event of one inbox, shared by the
// streams that send it: an event is encoded once, not once per client.
type encodedEvent struct {
	ib   *inbox.Inbox
	seq  uint64
	text []byte
}

func (h *Handler) writeEvent(buf *bytes.Buffer, ib *inbox.Inbox, e inbox.Event) {
	if last := h.lastEvent.Load(); last != nil && last.ib == ib && last.seq == e.Seq {
		buf.Write(last.text)
		return
	}
	var b bytes.Buffer
	writeEvent(&b, e.Type.String(), e.Seq, eventJSON(e))
	h.lastEvent.Store(&encodedEvent{ib: ib, seq: e.Seq, text: b.Bytes()})
	buf.Write(b.Bytes())
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
