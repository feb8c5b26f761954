package channeltest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// ErrScripted is the default error of scripted failures (FailNext,
// FailAlways given a nil error). It is transient: it wraps
// channel.ErrTransient.
var ErrScripted = fmt.Errorf("channeltest: scripted failure: %w", channel.ErrTransient)

// Options configure a Fake. The zero value is usable.
type Options struct {
	// Now is the provider's clock: the time of receipts, status updates and
	// inbound messages. Default: none. They then carry no time, as from a
	// provider that gives none, and the receiver stamps them when they
	// arrive: an inbox with its own clock (inbox.Options.Now), so a test
	// sets its clock once, on the inbox. Set Now to give the provider's
	// event times instead (S3 orders a delivery's history by them).
	Now func() time.Time
	// IDPrefix prefixes provider message IDs ("SM" gives "SM000001").
	// Default: the kind's name in upper case followed by "-".
	IDPrefix string
	// Statuses is the script of delivery statuses every accepted message goes
	// through after its receipt, queued until Flush or FlushShuffled.
	// Default: sent, delivered.
	Statuses []status.Status
	// Capabilities, when not nil, are reported by the fake
	// (channel.CapabilityReporter); else the defaults of its kind.
	Capabilities *channel.Capabilities
}

// Fake is an in-memory channel.Sender for tests and demos, in the style of
// httptest: it records every send, can be scripted to fail, to hang until the
// caller's context ends, or to take time, and emits scripted delivery statuses
// (in order, shuffled or duplicated) and inbound replies to callbacks. It is
// safe for concurrent use; its callbacks are called without any lock held.
type Fake struct {
	kind  channel.Kind
	now   func() time.Time
	pfx   string
	caps  channel.Capabilities
	mu    sync.Mutex
	seq   int
	steps []status.Status
	sent  sentLog
	tries int
	// scripted failures
	failNext []error
	failAll  error
	failWhen func(*channel.Message) error
	hang     bool
	latency  time.Duration
	// queued status updates, waiting for Flush
	pending   []channel.StatusUpdate
	cancelled map[string]bool
	onStatus  func(channel.StatusUpdate)
	onInbound func(channel.Inbound)
}

// sentLog is the messages a fake accepted, in order, kept in chunks: an
// append never copies what the log holds (a broadcast's fan-out appends
// 100,000 of them under the fake's lock).
type sentLog struct {
	chunks [][]Sent
	n      int
}

const sentChunk = 1024

func (l *sentLog) add(s Sent) {
	if l.n%sentChunk == 0 {
		l.chunks = append(l.chunks, make([]Sent, 0, sentChunk))
	}
	c := &l.chunks[len(l.chunks)-1]
	*c = append(*c, s)
	l.n++
}

// at returns the i-th message accepted, 0 ≤ i < l.n.
func (l *sentLog) at(i int) *Sent { return &l.chunks[i/sentChunk][i%sentChunk] }

// Sent is one message the fake accepted, with its receipt.
type Sent struct {
	Message *channel.Message
	Receipt channel.Receipt
}

var (
	_ channel.Sender             = (*Fake)(nil)
	_ channel.Canceler           = (*Fake)(nil)
	_ channel.Finder             = (*Fake)(nil)
	_ channel.CapabilityReporter = (*Fake)(nil)
)

// NewFake returns a Fake sender for kind k.
func NewFake(k channel.Kind, opts Options) *Fake {
	f := &Fake{kind: k, now: opts.Now, pfx: opts.IDPrefix, cancelled: map[string]bool{}}
	if f.now == nil {
		f.now = func() time.Time { return time.Time{} }
	}
	if f.pfx == "" {
		f.pfx = fmt.Sprintf("%s-", upper(k.String()))
	}
	if opts.Statuses != nil {
		f.steps = append([]status.Status(nil), opts.Statuses...)
	} else {
		f.steps = []status.Status{status.Sent, status.Delivered}
	}
	if opts.Capabilities != nil {
		f.caps = *opts.Capabilities
	} else {
		f.caps = channel.DefaultCapabilities(k)
	}
	return f
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// Kind returns the kind the fake sends on.
func (f *Fake) Kind() channel.Kind { return f.kind }

// Capabilities implements channel.CapabilityReporter.
func (f *Fake) Capabilities() channel.Capabilities { return f.caps }

// Send implements channel.Sender. It checks the context, then applies the
// script: hang until the context ends, wait the latency, fail with a queued
// or permanent error; otherwise it records the message, returns a receipt
// with status Validated (Scheduled when msg.SendAt is set) and queues the
// scripted statuses for Flush. A nil message or one of another kind is an
// error matching channel.ErrInvalidMessage.
func (f *Fake) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	if msg == nil {
		return channel.Receipt{}, fmt.Errorf("channeltest: %w: nil message", channel.ErrInvalidMessage)
	}
	if msg.Kind != f.kind {
		return channel.Receipt{}, fmt.Errorf("channeltest: %w: %s message sent to a %s fake", channel.ErrInvalidMessage, msg.Kind, f.kind)
	}
	// the copy the fake keeps is made before the lock, which is held only
	// for the script and the lists: concurrent sends (a broadcast's
	// fan-out) wait for each other as little as they can
	kept := msg.Clone()
	f.mu.Lock()
	f.tries++
	hang, latency := f.hang, f.latency
	var err error
	switch {
	case len(f.failNext) > 0:
		err = f.failNext[0]
		f.failNext = f.failNext[1:]
	case f.failAll != nil:
		err = f.failAll
	case f.failWhen != nil:
		err = f.failWhen(msg)
	}
	if !hang && latency == 0 && err == nil {
		r := f.accept(kept)
		f.mu.Unlock()
		return r, nil
	}
	f.mu.Unlock()

	if hang {
		<-ctx.Done()
		return channel.Receipt{}, ctx.Err()
	}
	if latency > 0 {
		t := time.NewTimer(latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return channel.Receipt{}, ctx.Err()
		case <-t.C:
		}
	}
	if err != nil {
		return channel.Receipt{}, err
	}
	f.mu.Lock()
	r := f.accept(kept)
	f.mu.Unlock()
	return r, nil
}

// accept records msg (the fake's own copy) as accepted, queues its
// scripted statuses and returns its receipt. Call it with f.mu held.
func (f *Fake) accept(msg *channel.Message) channel.Receipt {
	f.seq++
	now := f.now()
	r := channel.Receipt{ProviderID: f.providerID(f.seq), Status: status.Validated, At: now}
	if !msg.SendAt.IsZero() {
		r.Status = status.Scheduled
	}
	f.sent.add(Sent{Message: msg, Receipt: r})
	for _, s := range f.steps {
		f.pending = append(f.pending, channel.StatusUpdate{Kind: f.kind, ProviderID: r.ProviderID,
			Recipient: msg.To, Reference: msg.Reference, Status: s, Raw: s.String(), At: now})
	}
	return r
}

// providerID returns the provider ID of the n-th accepted message: the
// prefix and n in at least six digits ("SM000042").
func (f *Fake) providerID(n int) string {
	var buf [48]byte
	var num [20]byte
	d := strconv.AppendInt(num[:0], int64(n), 10)
	b := append(buf[:0], f.pfx...)
	for i := len(d); i < 6; i++ {
		b = append(b, '0')
	}
	return string(append(b, d...))
}

// Cancel implements channel.Canceler: it cancels a message accepted with a
// SendAt, dropping its queued statuses and queueing a cancelled one. An
// unknown ID, or a message sent without SendAt, gives an error matching
// channel.ErrPermanent.
func (f *Fake) Cancel(ctx context.Context, providerID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.sent.n {
		s := f.sent.at(i)
		if s.Receipt.ProviderID != providerID {
			continue
		}
		if s.Message.SendAt.IsZero() || f.cancelled[providerID] {
			return fmt.Errorf("channeltest: cancel %s: %w: not a pending scheduled message", providerID, channel.ErrPermanent)
		}
		f.cancelled[providerID] = true
		kept := f.pending[:0]
		for _, u := range f.pending {
			if u.ProviderID != providerID {
				kept = append(kept, u)
			}
		}
		f.pending = append(kept, channel.StatusUpdate{Kind: f.kind, ProviderID: providerID, Recipient: s.Message.To,
			Status: status.Cancelled, Raw: "canceled", At: f.now()})
		return nil
	}
	return fmt.Errorf("channeltest: cancel %s: %w: unknown message", providerID, channel.ErrPermanent)
}

// Find implements channel.Finder: it returns the receipt of the message the
// fake accepted with msg.Reference (the latest, when several were), and an
// error matching channel.ErrUnknownMessage when it accepted none, or when
// msg has no Reference. A nil message or one of another kind is an error
// matching channel.ErrInvalidMessage.
func (f *Fake) Find(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	if err := ctx.Err(); err != nil {
		return channel.Receipt{}, err
	}
	if msg == nil || msg.Kind != f.kind {
		return channel.Receipt{}, fmt.Errorf("channeltest: find: %w: nil message or another kind", channel.ErrInvalidMessage)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := f.sent.n - 1; i >= 0 && msg.Reference != ""; i-- {
		if s := f.sent.at(i); s.Message.Reference == msg.Reference {
			return s.Receipt, nil
		}
	}
	return channel.Receipt{}, fmt.Errorf("channeltest: find %q: %w", msg.Reference, channel.ErrUnknownMessage)
}

// Sent returns copies of the messages the fake accepted, in order.
func (f *Fake) Sent() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Sent, f.sent.n)
	for i := range out {
		s := f.sent.at(i)
		out[i] = Sent{Message: s.Message.Clone(), Receipt: s.Receipt}
	}
	return out
}

// Attempts returns how many times Send was called with a valid message,
// failed attempts included.
func (f *Fake) Attempts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tries
}

// FailNext makes the next len(errs) sends fail, one error each, in order. A
// nil error in the list fails with ErrScripted.
func (f *Fake) FailNext(errs ...error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range errs {
		if e == nil {
			e = ErrScripted
		}
		f.failNext = append(f.failNext, e)
	}
}

// FailAlways makes every send fail with err (a provider outage, say);
// FailAlways(nil) stops the failures.
func (f *Fake) FailAlways(err error) {
	f.mu.Lock()
	f.failAll = err
	f.mu.Unlock()
}

// FailWhen makes every send for which fn returns an error fail with it (a
// recipient-specific failure, say). fn is called with the fake's lock held
// and must not call the fake. FailWhen(nil) removes it.
func (f *Fake) FailWhen(fn func(*channel.Message) error) {
	f.mu.Lock()
	f.failWhen = fn
	f.mu.Unlock()
}

// Hang makes every send block until its context ends, then return the
// context's error (a provider that never answers). Hang(false) stops it.
func (f *Fake) Hang(on bool) {
	f.mu.Lock()
	f.hang = on
	f.mu.Unlock()
}

// SetLatency makes every send wait d before answering, or less if its
// context ends first. Use it with testing/synctest to stay deterministic.
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

// OnStatus sets the callback that receives status updates when they are
// flushed. It replaces any earlier one.
func (f *Fake) OnStatus(fn func(channel.StatusUpdate)) {
	f.mu.Lock()
	f.onStatus = fn
	f.mu.Unlock()
}

// OnInbound sets the callback that receives simulated inbound messages.
func (f *Fake) OnInbound(fn func(channel.Inbound)) {
	f.mu.Lock()
	f.onInbound = fn
	f.mu.Unlock()
}

// Pending returns the status updates queued and not yet flushed.
func (f *Fake) Pending() []channel.StatusUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]channel.StatusUpdate(nil), f.pending...)
}

// Flush delivers every queued status update to the OnStatus callback, in the
// order they were queued, and returns them.
func (f *Fake) Flush() []channel.StatusUpdate { return f.flush(nil) }

// FlushShuffled delivers every queued status update in a random order drawn
// from seed, with each update delivered twice when duplicate is true: the
// way real webhooks arrive (S2). It returns what it delivered, in order.
func (f *Fake) FlushShuffled(seed uint64, duplicate bool) []channel.StatusUpdate {
	return f.flush(func(u []channel.StatusUpdate) []channel.StatusUpdate {
		if duplicate {
			u = append(u, u...)
		}
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		rng.Shuffle(len(u), func(i, j int) { u[i], u[j] = u[j], u[i] })
		return u
	})
}

func (f *Fake) flush(order func([]channel.StatusUpdate) []channel.StatusUpdate) []channel.StatusUpdate {
	f.mu.Lock()
	out := f.pending
	f.pending = nil
	cb := f.onStatus
	f.mu.Unlock()
	if order != nil {
		out = order(out)
	}
	if cb != nil {
		for _, u := range out {
			cb(u)
		}
	}
	return out
}

// Emit queues one status update for a message the fake sent (a late or
// unexpected report, say) to be delivered by the next Flush. An unknown
// provider ID is accepted: real providers send those too.
func (f *Fake) Emit(providerID string, s status.Status, errorCode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, channel.StatusUpdate{Kind: f.kind, ProviderID: providerID, Status: s,
		Raw: s.String(), ErrorCode: errorCode, At: f.now()})
}

// Reply simulates an inbound message from the address from to the address
// to, answering the messages whose provider IDs inReplyTo lists (a reply to
// a broadcast: the Receipt.ProviderID of what the fake sent to from; M4).
// It builds the channel.Inbound with a fresh provider ID and the fake's
// clock (none by default), passes it to the OnInbound callback if one is
// set, and returns it.
func (f *Fake) Reply(from, to, text string, inReplyTo ...string) channel.Inbound {
	f.mu.Lock()
	f.seq++
	in := channel.Inbound{Kind: f.kind, From: from, To: to, Text: text,
		ProviderID: fmt.Sprintf("%sIN%06d", f.pfx, f.seq), ReceivedAt: f.now()}
	if len(inReplyTo) > 0 {
		in.InReplyTo = append([]string(nil), inReplyTo...)
	}
	cb := f.onInbound
	f.mu.Unlock()
	if cb != nil {
		cb(in)
	}
	return in
}

// Reset forgets every recorded send, queued status, scripted failure, hang
// and latency. Callbacks and options stay.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent, f.pending, f.failNext, f.failAll, f.failWhen = sentLog{}, nil, nil, nil, nil
	f.tries, f.hang, f.latency = 0, false, 0
	f.cancelled = map[string]bool{}
}

// Permanent returns an error that wraps channel.ErrPermanent with msg, for
// scripting permanent failures.
func Permanent(msg string) error {
	return fmt.Errorf("channeltest: %s: %w", msg, channel.ErrPermanent)
}

// Transient returns an error that wraps channel.ErrTransient with msg, for
// scripting failures a retry can fix.
func Transient(msg string) error {
	return fmt.Errorf("channeltest: %s: %w", msg, channel.ErrTransient)
}
