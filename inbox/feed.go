package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// The event feed (T20). Every event is written to the store's feed with
// the change that causes it (store.Feed), numbered by the store; each
// Inbox reads the feed in order and hands the events to its subscribers
// (the hub), from its first subscription (or LastEventSeq) on: an Inbox
// nobody subscribes to reads nothing. It reads in two ways that take turns
// on pullMu:
//   - the goroutine that wrote reads right after its write, so that the
//     events of a method have reached this inbox's subscribers when it
//     returns;
//   - one tailing goroutine per Inbox reads when the store's watch says
//     another instance appended events, and prunes the feed from time to
//     time.
//
// Neither blocks on a subscriber: the hub offers each event without
// waiting (Subscription.offer).
const (
	// pullBatch is the number of events read from the store at once.
	pullBatch = 256
	// maxPruneEvery bounds the time between two prunes of the feed.
	maxPruneEvery = time.Hour
)

// feed is an Inbox's reader of the store's event feed.
type feed struct {
	pullMu sync.Mutex
	// reqs counts the reads asked for after writes; done is the count that
	// the latest completed read started after (guarded by pullMu): a read
	// that started after a write's commit has read its events.
	reqs atomic.Uint64
	done uint64

	wake    chan struct{} // the tailing goroutine's, buffered 1
	noticed atomic.Uint64 // the highest Seq a notice named
	forced  atomic.Bool   // read whatever the notices say

	retention time.Duration // NoLimit: never prune
	lastPrune time.Time     // used by the tailing goroutine only

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc // stops the tailing goroutine and the watch
	wg      sync.WaitGroup     // the tailing goroutine and catch-ups
}

func newFeed(retention time.Duration) *feed {
	if retention == 0 {
		retention = DefaultEventRetention
	}
	return &feed{wake: make(chan struct{}, 1), retention: retention}
}

// startFeed starts reading the feed, once: ctx, when not nil, is used to
// learn where the feed stands before it returns, so that a first
// subscription misses nothing written after it; the tailing goroutine
// does it otherwise (and retries while the store fails).
func (in *Inbox) startFeed(ctx context.Context) {
	f := in.feed
	f.mu.Lock()
	if f.started || f.closed {
		f.mu.Unlock()
		return
	}
	f.started = true
	tctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(1)
	f.mu.Unlock()
	watching := false
	if ctx != nil {
		// the watch first, so that nothing appended after the read below
		// goes unnoticed; on failure the tailing goroutine tries again
		watching = in.store.Watch(tctx, in.notice) == nil
		_ = in.pull(ctx, 0)
	}
	go in.tail(tctx, watching)
}

// closeFeed stops the tailing goroutine and the catch-ups, and ends every
// subscription.
func (in *Inbox) closeFeed() {
	f := in.feed
	f.mu.Lock()
	f.closed = true
	if f.cancel != nil {
		f.cancel()
	}
	f.mu.Unlock()
	in.events.close()
	f.wg.Wait()
}

// tail is the tailing goroutine: it watches the store and reads the feed
// when told, until ctx ends.
func (in *Inbox) tail(ctx context.Context, watching bool) {
	f := in.feed
	defer f.wg.Done()
	pause := firstOutcomePause
	wait := func() bool {
		t := time.NewTimer(jitter(pause))
		defer t.Stop()
		pause = min(2*pause, maxOutcomePause)
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for !watching {
		err := in.store.Watch(ctx, in.notice)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return
		}
		in.log.Warn("inbox: cannot watch the event feed; trying again", "err", err)
		if !wait() {
			return
		}
	}
	pause = firstOutcomePause
	f.forced.Store(true)
	for {
		pos, known := in.events.position()
		if f.forced.Swap(false) || !known || f.noticed.Load() > pos {
			if err := in.pull(ctx, 0); err != nil {
				if ctx.Err() != nil {
					return
				}
				in.log.Warn("inbox: cannot read the event feed; trying again", "err", err)
				f.forced.Store(true)
				if !wait() {
					return
				}
				continue
			}
			pause = firstOutcomePause
		}
		in.maybePrune(ctx)
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
		}
	}
}

// maybePrune prunes the feed when the last prune is older than a
// twenty-fourth of the retention (an hour at most), as the inbox's clock
// goes. Every instance prunes; pruning twice removes nothing more.
func (in *Inbox) maybePrune(ctx context.Context) {
	f := in.feed
	if f.retention == NoLimit {
		return
	}
	now := in.now()
	if !f.lastPrune.IsZero() && now.Sub(f.lastPrune) < min(f.retention/24, maxPruneEvery) {
		return
	}
	f.lastPrune = now
	if _, err := in.PruneEvents(ctx); err != nil && ctx.Err() == nil {
		in.log.Warn("inbox: cannot prune the event feed", "err", err)
	}
}

// PruneEvents removes the events of the store's feed older than
// Options.EventRetention and returns how many it removed. Every Inbox does
// it from time to time while events are written; hosts need not call it.
// A subscriber that resumes after a pruned event gets EventResync.
func (in *Inbox) PruneEvents(ctx context.Context) (int, error) {
	if in.feed.retention == NoLimit {
		return 0, nil
	}
	n, err := in.store.PruneEvents(ctx, in.now().Add(-in.feed.retention))
	if err != nil {
		return n, wrapStore("prune events", err)
	}
	return n, nil
}

// notice is the store's watch callback: it must not block.
func (in *Inbox) notice(n store.Notice) {
	f := in.feed
	if n.Ephemeral != nil {
		e, err := decodeEvent(n.Ephemeral)
		if err != nil {
			in.log.Warn("inbox: an ephemeral event cannot be read; skipped", "err", err)
			return
		}
		in.typed(e)
		in.events.ephemeral(e)
		return
	}
	if n.Seq == 0 {
		f.forced.Store(true)
	}
	for {
		old := f.noticed.Load()
		if n.Seq <= old || f.noticed.CompareAndSwap(old, n.Seq) {
			break
		}
	}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// pull reads the feed after the hub's position and delivers what it reads,
// unless a read that started after request req (0: none) completed
// meanwhile.
func (in *Inbox) pull(ctx context.Context, req uint64) error {
	f, h := in.feed, in.events
	f.pullMu.Lock()
	defer f.pullMu.Unlock()
	if req != 0 && f.done >= req {
		return nil
	}
	start := f.reqs.Load()
	if _, known := h.position(); !known {
		head, err := in.store.LastEventSeq(ctx)
		if err != nil {
			return wrapStore("event feed", err)
		}
		h.setKnown(head)
	}
	for {
		after, _ := h.position()
		recs, err := in.store.ReadEvents(ctx, after, pullBatch)
		if errors.Is(err, store.ErrPruned) {
			// this inbox fell behind the retention (it could not read for
			// that long): its subscribers reload
			head, err := in.store.LastEventSeq(ctx)
			if err != nil {
				return wrapStore("event feed", err)
			}
			h.skipTo(head, in.now())
			in.log.Warn("inbox: events were pruned before this inbox read them; subscribers resync", "after", after, "head", head)
			continue
		}
		if err != nil {
			return wrapStore("event feed", err)
		}
		h.deliver(recs, in.log)
		if len(recs) < pullBatch {
			break
		}
	}
	f.done = max(f.done, start)
	return nil
}

// delivered hands the events of a write that returned to this inbox's
// subscribers before the method that wrote returns. When the store cannot
// be read now, the tailing goroutine does it later.
func (in *Inbox) delivered(ctx context.Context) {
	f := in.feed
	if !in.events.started.Load() {
		return // nobody subscribed yet
	}
	req := f.reqs.Add(1)
	if err := in.pull(context.WithoutCancel(ctx), req); err != nil {
		in.log.Debug("inbox: reading the event feed after a write failed; the feed's reader tries again", "err", err)
		f.forced.Store(true)
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// publish writes events that no stored change causes to the feed, and
// delivers them. A failure is logged: the events are reports about what
// happened, and what happened stands.
func (in *Inbox) publish(ctx context.Context, es ...Event) {
	ctx = context.WithoutCancel(ctx)
	if err := in.store.AppendEvents(ctx, in.feedEvents(es...)...); err != nil {
		in.log.Error("inbox: an event could not be written to the event feed", "type", es[0].Type.String(), "err", err)
		return
	}
	in.delivered(ctx)
}

// publishEphemeral hands an event that is not kept (typing) to the
// subscribers of every inbox on the store.
func (in *Inbox) publishEphemeral(ctx context.Context, e Event) error {
	b, err := encodeEvent(e)
	if err != nil {
		return err
	}
	if err := in.store.PublishEphemeral(ctx, b); err != nil {
		return wrapStore("publish", err)
	}
	return nil
}

// feedEvents encodes events for a write.
func (in *Inbox) feedEvents(es ...Event) []store.FeedEvent {
	out := make([]store.FeedEvent, 0, len(es))
	for _, e := range es {
		if e.At.IsZero() {
			e.At = in.now()
		}
		b, err := encodeEvent(e)
		if err != nil {
			in.log.Error("inbox: an event cannot be encoded", "type", e.Type.String(), "err", err)
			continue
		}
		out = append(out, store.FeedEvent{At: e.At, Data: b})
	}
	return out
}

// eventBuf holds the encoded events of one write. A store copies what it
// keeps of the events it is given (store.Feed), so a buffer serves write
// after write: the status events of a broadcast's deliveries and of status
// reports, millions of them, are encoded without an allocation each. Take
// one with Inbox.eventBuf, give it back with Inbox.putEventBuf once the
// write returned.
type eventBuf struct {
	in   *Inbox
	data []byte
	evs  []store.FeedEvent
	// pid and merged are the status report MergeStatus merges, and its
	// event callback (bound once: a closure per report would allocate).
	pid    string
	merged func(store.Merged) []store.FeedEvent
	// second is the text of the second of the last event's time: the
	// events of a burst share it
	second secondText
	// msg is the message a receive fills and writes (see message); msgUsed
	// tells putEventBuf to clear it.
	msg     Message
	msgUsed bool
}

// message returns the Message of b for a receive to fill and write: a
// store keeps values by copy, so the inbox reuses one. It is valid until b
// is given back.
func (b *eventBuf) message() *Message {
	b.msgUsed = true
	return &b.msg
}

// maxEventBuf is the largest buffer kept for reuse.
const maxEventBuf = 16 << 10

func (in *Inbox) eventBuf() *eventBuf {
	if b, ok := in.eventBufs.Get().(*eventBuf); ok {
		return b
	}
	b := &eventBuf{in: in}
	b.merged = b.statusMerged
	return b
}

// putEventBuf gives b back, holding no event's data.
func (in *Inbox) putEventBuf(b *eventBuf) {
	if cap(b.data) > maxEventBuf {
		return
	}
	clear(b.evs)
	b.data, b.evs, b.pid = b.data[:0], b.evs[:0], ""
	if b.msgUsed { // holding nothing of its message
		b.msg, b.msgUsed = Message{}, false
	}
	in.eventBufs.Put(b)
}

// encode encodes es (as feedEvents does) into b, replacing what it held,
// and returns them for a write.
func (b *eventBuf) encode(es ...Event) []store.FeedEvent {
	clear(b.evs)
	b.data, b.evs = b.data[:0], b.evs[:0]
	return b.add(es...)
}

// add encodes es after what b holds, which stays, and returns them for a
// write (a batch's, each write with its own events).
func (b *eventBuf) add(es ...Event) []store.FeedEvent {
	n := len(b.evs)
	for _, e := range es {
		if e.At.IsZero() {
			e.At = b.in.now()
		}
		start := len(b.data)
		data, err := appendEvent(b.data, e, &b.second)
		if err != nil {
			b.in.log.Error("inbox: an event cannot be encoded", "type", e.Type.String(), "err", err)
			continue
		}
		b.data = data
		// a later event may move data: this one keeps the array it is in
		b.evs = append(b.evs, store.FeedEvent{At: e.At, Data: data[start:len(data):len(data)]})
	}
	return b.evs[n:len(b.evs):len(b.evs)]
}

// statusMerged is the event of the status report b.pid, merged by the
// store (store.StatusMerger).
func (b *eventBuf) statusMerged(m store.Merged) []store.FeedEvent {
	return b.encode(Event{Type: EventStatusChanged, ThreadID: m.ThreadID, MessageID: m.MessageID,
		DeliveryID: m.DeliveryID, ProviderID: b.pid, Status: m.Status})
}

// wireEvent is an event as the feed keeps it: JSON with names, so that
// instances of different versions read each other's events.
type wireEvent struct {
	Type       string        `json:"type"`
	ThreadID   string        `json:"thread,omitempty"`
	MessageID  string        `json:"message,omitempty"`
	DeliveryID string        `json:"delivery,omitempty"`
	ProviderID string        `json:"provider_id,omitempty"`
	Agent      string        `json:"agent,omitempty"`
	Kind       channel.Kind  `json:"kind,omitempty"`
	Address    string        `json:"address,omitempty"`
	Status     status.Status `json:"status,omitempty"`
	At         time.Time     `json:"at"`
	ExpiresAt  time.Time     `json:"expires,omitzero"`
}

// encodeEvent writes e as the JSON object wireEvent describes (what
// encoding/json would write for it, which decodeEvent reads), appending to
// one buffer: an event is written with every change, millions of status
// reports among them, and json.Marshal costs four allocations where this
// costs one (appendEvent, into a reused buffer, none).
func encodeEvent(e Event) ([]byte, error) {
	// the names, the times and the quotes take up to 150 bytes
	n := 160 + len(e.ThreadID) + len(e.MessageID) + len(e.DeliveryID) + len(e.ProviderID) + len(e.Agent) + len(e.Address)
	return appendEvent(make([]byte, 0, n), e, nil)
}

// appendEvent appends the encoding of e (see encodeEvent) to b. st, when
// not nil, keeps the text of the second of e.At for the next event.
func appendEvent(b []byte, e Event, st *secondText) ([]byte, error) {
	if e.Kind != 0 && !e.Kind.Valid() {
		return nil, fmt.Errorf("inbox: encode %s event: %w: %d", e.Type, channel.ErrUnknownKind, uint8(e.Kind))
	}
	if e.Status != 0 && !e.Status.Valid() {
		return nil, fmt.Errorf("inbox: encode %s event: %w: %d", e.Type, status.ErrUnknown, uint8(e.Status))
	}
	if !st.has(e.At) { // a second st holds is in range
		if !validYear(e.At) {
			return nil, fmt.Errorf("inbox: encode %s event: time %v outside years 0–9999", e.Type, e.At)
		}
	}
	if !e.ExpiresAt.IsZero() && !validYear(e.ExpiresAt) {
		return nil, fmt.Errorf("inbox: encode %s event: expiry %v outside years 0–9999", e.Type, e.ExpiresAt)
	}
	// the names of types, kinds and statuses need no escaping
	// (TestEventNamesPlain): they are appended as they are
	b = append(b, `{"type":"`...)
	b = append(append(b, e.Type.String()...), '"')
	b = appendField(b, "thread", e.ThreadID)
	b = appendField(b, "message", e.MessageID)
	b = appendField(b, "delivery", e.DeliveryID)
	b = appendField(b, "provider_id", e.ProviderID)
	b = appendField(b, "agent", e.Agent)
	if e.Kind != 0 {
		b = append(append(append(b, `,"kind":"`...), e.Kind.String()...), '"')
	}
	b = appendField(b, "address", e.Address)
	if e.Status != 0 {
		b = append(append(append(b, `,"status":"`...), e.Status.String()...), '"')
	}
	b = append(b, `,"at":"`...)
	b = st.appendTime(b, e.At)
	b = append(b, '"')
	if !e.ExpiresAt.IsZero() {
		b = append(b, `,"expires":"`...)
		b = e.ExpiresAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// validYear reports whether t's year has the four digits RFC 3339 writes.
func validYear(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

// secondText is the RFC 3339 text of one second of one location, which
// the times of a burst of events share: appendTime formats the rest.
type secondText struct {
	sec  int64 // Unix time
	loc  *time.Location
	text []byte // "2006-01-02T15:04:05" and the zone ("Z", "+01:00"); nil: none yet
}

// has reports whether st holds the text of t's second; false for a nil st.
func (st *secondText) has(t time.Time) bool {
	return st != nil && st.text != nil && st.sec == t.Unix() && st.loc == t.Location()
}

// appendTime appends t as time.RFC3339Nano formats it; t's year is in
// 0–9999. With st not nil, t's second is formatted only when st does not
// hold it already, and st then keeps it.
func (st *secondText) appendTime(b []byte, t time.Time) []byte {
	if st == nil {
		return t.AppendFormat(b, time.RFC3339Nano)
	}
	ns := t.Nanosecond()
	if !st.has(t) {
		// a whole second is formatted without a fraction: the date and
		// time (19 bytes, a four-digit year), then the zone
		st.text = t.Add(-time.Duration(ns)).AppendFormat(st.text[:0], time.RFC3339Nano)
		st.sec, st.loc = t.Unix(), t.Location()
	}
	const date = len("2006-01-02T15:04:05")
	b = append(b, st.text[:date]...)
	if ns != 0 { // ".999999999": nine digits, the trailing zeros trimmed
		var f [10]byte
		f[0] = '.'
		for i := 9; i >= 1; i-- {
			f[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := len(f)
		for f[n-1] == '0' {
			n--
		}
		b = append(b, f[:n]...)
	}
	return append(b, st.text[date:]...)
}

// appendField appends `,"name":"value"`, or nothing for an empty value
// (omitempty).
func appendField(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

// appendJSONString appends s as a JSON string: quotes, backslashes and
// control characters escaped, invalid UTF-8 written as U+FFFD, as
// encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// errUnknownEvent: an event of a type this version does not know (written
// by a newer instance); it is skipped.
var errUnknownEvent = errors.New("inbox: unknown event type")

// decodeEvent reads an event of the feed. What appendEvent writes (known
// names, string values without escapes) is read by hand, every text a
// substring of one copy of the record; anything else goes through
// encoding/json (decodeJSON), whose reading the fast way matches (a fuzz
// target checks). Every instance reads every event of the feed once it has
// subscribers: json.Unmarshal cost several allocations and most of the
// time of each.
func decodeEvent(b []byte) (Event, error) {
	if e, ok := decodeFast(b); ok {
		return e, nil
	}
	return decodeJSON(b)
}

// decodeFast reads b as appendEvent writes events; false when b is
// written otherwise or holds what decodeJSON refuses (decodeJSON says
// why).
func decodeFast(b []byte) (Event, bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return Event{}, false
	}
	s := string(b) // the event's texts are substrings of it
	var e Event
	typ := ""
	for i := 1; ; {
		k, next, ok := plainString(s, i)
		if !ok || next >= len(s) || s[next] != ':' {
			return Event{}, false
		}
		start := next + 1
		v, end, ok := plainString(s, start)
		if !ok || end >= len(s) {
			return Event{}, false
		}
		switch k {
		case "type":
			typ = v
		case "thread":
			e.ThreadID = v
		case "message":
			e.MessageID = v
		case "delivery":
			e.DeliveryID = v
		case "provider_id":
			e.ProviderID = v
		case "agent":
			e.Agent = v
		case "address":
			e.Address = v
		case "kind": // as Kind.UnmarshalText, which json calls
			k, err := channel.ParseKind(v)
			if err != nil {
				return Event{}, false
			}
			e.Kind = k
		case "status": // as Status.UnmarshalText
			st, err := status.Parse(v)
			if err != nil {
				return Event{}, false
			}
			e.Status = st
		case "at":
			if e.At.UnmarshalJSON(b[start:end]) != nil {
				return Event{}, false
			}
		case "expires":
			if e.ExpiresAt.UnmarshalJSON(b[start:end]) != nil {
				return Event{}, false
			}
		default:
			return Event{}, false // json matches names case-insensitively
		}
		switch s[end] {
		case ',':
			i = end + 1
			continue
		case '}':
			if end != len(s)-1 {
				return Event{}, false
			}
		default:
			return Event{}, false
		}
		break
	}
	if e.Type = eventTypeNamed(typ); e.Type == 0 {
		return Event{}, false
	}
	return e, true
}

// plainString reads the JSON string at s[i:], which must hold no escape,
// no control character and only valid UTF-8 (so that its text is s's own
// bytes), and returns its text and the index after it.
func plainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	ascii := true
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v := s[i+1 : j]
			if !ascii && !utf8.ValidString(v) {
				return "", 0, false
			}
			return v, j + 1, true
		case c == '\\' || c < 0x20:
			return "", 0, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", 0, false
}

// decodeJSON reads an event with encoding/json.
func decodeJSON(b []byte) (Event, error) {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return Event{}, fmt.Errorf("inbox: decode event: %w", err)
	}
	t := eventTypeNamed(w.Type)
	if t == 0 {
		return Event{}, fmt.Errorf("%w %q", errUnknownEvent, w.Type)
	}
	return Event{Type: t, ThreadID: w.ThreadID, MessageID: w.MessageID, DeliveryID: w.DeliveryID,
		ProviderID: w.ProviderID, Agent: w.Agent, Kind: w.Kind, Address: w.Address, Status: w.Status,
		At: w.At, ExpiresAt: w.ExpiresAt}, nil
}

func eventTypeNamed(name string) EventType {
	for i, n := range eventNames {
		if i > 0 && n == name {
			return EventType(i)
		}
	}
	return 0
}
