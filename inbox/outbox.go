package inbox

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// DefaultOutcomeRetry is how long the inbox keeps trying to record a send's
// outcome that the store refused (see Options.OutcomeRetry).
const DefaultOutcomeRetry = time.Minute

// The outbox: a delivery is marked (Delivery.Sending) before its provider
// is called, and the mark is cleared with the outcome. An outcome the store
// refuses is kept in memory and written again, with pauses that double from
// firstOutcomePause up to maxOutcomePause (with jitter), for
// Options.OutcomeRetry.
const (
	firstOutcomePause = 50 * time.Millisecond
	maxOutcomePause   = 2 * time.Second
	// maxKept bounds the outcomes kept in memory; past it an outcome is
	// left to Recover (its mark stays in the store).
	maxKept = 1 << 16
	// lastWriteTimeout bounds the last write of each kept outcome when the
	// inbox closes.
	lastWriteTimeout = 2 * time.Second
	// recoverPage is the number of marked deliveries Recover reads at once.
	recoverPage = 100
)

// The reasons the outbox records on a delivery.
const (
	reasonInterrupted = "interrupted, outcome unknown: "
	reasonNotSent     = "not sent: the send was interrupted before the provider accepted it: "
	reasonUnknown     = "outcome unknown: the send was interrupted before its outcome was recorded, " +
		"and the provider cannot be asked; a status report that carries its reference completes it"
)

// outcome is the result of one send, to be recorded on its delivery.
type outcome struct {
	d        Delivery // the delivery as the sender held it (with what was sent when rendered)
	r        channel.Receipt
	err      error // the send's error; nil when the provider accepted it
	attempts int
	at       time.Time
	rendered bool
	// room, when its capacity is enough, is where the delivery's history
	// with the outcome's change is written (see applyInto): this
	// outcome's alone.
	room []status.Change
}

// kept is an outcome the store refused, kept in memory until it is written.
type kept struct {
	o    outcome
	pid  string // the provider ID as the store keeps it
	mu   sync.Mutex
	done bool // written
	// end is closed when the outcome is written or its retries are over
	// (written, or given up: then err says why).
	end  chan struct{}
	once sync.Once
	out  Delivery
	err  error
}

func (k *kept) finish(out Delivery, err error) {
	k.once.Do(func() {
		k.out, k.err = out, err
		close(k.end)
	})
}

// outbox is an Inbox's memory of its sends: the deliveries it is sending
// and the outcomes it could not write yet. It is safe for concurrent use.
type outbox struct {
	// inflight counts the sends in progress by delivery ID, in shards
	// chosen by a hash of the ID: a fan-out's workers mark and unmark
	// every delivery, and one lock for all of them made them wait for
	// each other
	inflight [inflightShards]inflightShard
	seed     maphash.Seed
	// batches are the fan-out batches in flight (see batch), each counted
	// once rather than each of its deliveries
	bmu     sync.Mutex
	batches map[*inflightBatch]struct{}
	mu      sync.Mutex
	kept    map[string]*kept // delivery ID → outcome not written
	byPID   map[string]*kept // provider ID → outcome not written
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup
	records sync.Pool // *Delivery: see scratch
}

// scratch returns a zero Delivery for updateDeliveryFrom to change; give it
// back with release when done.
func (b *outbox) scratch() *Delivery {
	if d, ok := b.records.Get().(*Delivery); ok {
		return d
	}
	return new(Delivery)
}

// release clears d, so that the pool keeps nothing alive, and gives it
// back.
func (b *outbox) release(d *Delivery) {
	*d = Delivery{}
	b.records.Put(d)
}

// inflightShards is the number of shards of the outbox's sends in
// progress: more than a fan-out's default workers.
const inflightShards = 32

// inflightShard is a shard of the sends in progress, padded to its own
// cache line.
type inflightShard struct {
	mu sync.Mutex
	n  map[string]int // delivery ID → sends in progress
	_  [64 - 16]byte
}

func newOutbox() *outbox {
	b := &outbox{kept: map[string]*kept{}, byPID: map[string]*kept{}, closing: make(chan struct{}), seed: maphash.MakeSeed(),
		batches: map[*inflightBatch]struct{}{}}
	for i := range b.inflight {
		b.inflight[i].n = map[string]int{}
	}
	return b
}

func (b *outbox) shard(id string) *inflightShard {
	return &b.inflight[maphash.String(b.seed, id)%inflightShards]
}

func (b *outbox) begin(id string) {
	sh := b.shard(id)
	sh.mu.Lock()
	sh.n[id]++
	sh.mu.Unlock()
}

func (b *outbox) end(id string) {
	sh := b.shard(id)
	sh.mu.Lock()
	if sh.n[id]--; sh.n[id] <= 0 {
		delete(sh.n, id)
	}
	sh.mu.Unlock()
}

func (b *outbox) sending(id string) bool {
	sh := b.shard(id)
	sh.mu.Lock()
	n := sh.n[id]
	sh.mu.Unlock()
	if n > 0 {
		return true
	}
	b.bmu.Lock()
	defer b.bmu.Unlock()
	for fb := range b.batches {
		if slices.Contains(fb.ids, id) {
			return true
		}
	}
	return false
}

// inflightBatch is the IDs of a batch's deliveries in flight. Its owner
// changes ids only while the outbox does not count it.
type inflightBatch struct{ ids []string }

// beginAll counts the deliveries of fb in flight, as begin counts one.
func (b *outbox) beginAll(fb *inflightBatch) {
	b.bmu.Lock()
	b.batches[fb] = struct{}{}
	b.bmu.Unlock()
}

// endAll ends what beginAll began.
func (b *outbox) endAll(fb *inflightBatch) {
	b.bmu.Lock()
	delete(b.batches, fb)
	b.bmu.Unlock()
}

// keep remembers k and counts its retrier; false when the inbox is closed
// or holds too many outcomes already.
func (b *outbox) keep(k *kept) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || len(b.kept) >= maxKept {
		return false
	}
	b.kept[k.o.d.ID] = k
	if k.pid != "" {
		b.byPID[k.pid] = k
	}
	b.wg.Add(1)
	return true
}

func (b *outbox) forget(k *kept) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.kept[k.o.d.ID] == k {
		delete(b.kept, k.o.d.ID)
	}
	if k.pid != "" && b.byPID[k.pid] == k {
		delete(b.byPID, k.pid)
	}
}

func (b *outbox) byDelivery(id string) *kept {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.kept[id]
}

func (b *outbox) byProvider(pid string) *kept {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.byPID[pid]
}

// close stops the retriers (each writes its outcome once more) and waits
// for them.
func (b *outbox) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.closing)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// permanentStoreError reports whether the store refused a write for good:
// writing it again cannot succeed.
func permanentStoreError(err error) bool {
	return errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrDuplicate)
}

// jitter returns a random pause in [d/2, d].
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }

// mark writes the outbox mark of d before its provider is called: Sending
// becomes the attempt's time, and a scheduled delivery becomes pending
// (S1: due, not yet accepted). A write the store refuses (an outage) is
// tried again while ctx lasts, for Options.OutcomeRetry at most: the send
// waits for the store rather than go unrecorded. It returns false, with
// the delivery as stored, when d must not be sent: it was sent, is being
// sent, or was resolved meanwhile (a cancel, another dispatcher).
func (in *Inbox) mark(ctx context.Context, d Delivery) (Delivery, bool, error) {
	at := in.now()
	ok := false
	var out Delivery
	var err error
	pause := firstOutcomePause
	var budget <-chan time.Time
	for try := 0; ; try++ {
		if try > 0 {
			if budget == nil {
				b := time.NewTimer(in.outcomeRetry)
				defer b.Stop()
				budget = b.C
			}
			t := time.NewTimer(jitter(pause))
			select {
			case <-ctx.Done():
				t.Stop()
				return d, false, ctx.Err()
			case <-budget:
				t.Stop()
				return d, false, err
			case <-t.C:
			}
			pause = min(2*pause, maxOutcomePause)
		}
		out, err = in.updateDeliveryFrom(ctx, d, func(x *Delivery) bool {
			var write bool
			write, ok = markAt(x, at)
			return write
		})
		if err == nil || permanentStoreError(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return d, false, err
	}
	return out, ok, nil
}

// markAt marks x as sending at time at (see mark): write says x changed
// and is to be written, ok that it may be sent.
func markAt(x *Delivery, at time.Time) (write, ok bool) {
	switch {
	case x.Sending.Equal(at):
		// this mark, written by a try that reported an error
		return false, true
	case !x.Sending.IsZero() || x.ProviderID != "":
		return false, false
	case x.Status.Current != status.Pending && x.Status.Current != status.Scheduled:
		return false, false
	}
	if x.Status.Current == status.Scheduled {
		_, _ = applyOwn(&x.Status, status.Change{Status: status.Pending, At: at, Raw: "sending"})
	}
	x.Sending = at
	return true, true
}

// record writes a send's outcome on its delivery. An outcome the store
// refuses (an outage) is kept in memory and written again in the
// background for Options.OutcomeRetry, whether or not ctx ends meanwhile;
// record waits for it while ctx lasts. What still cannot be written is
// logged and reported (EventOutcomeUnknown), and stays in memory for
// ApplyStatus and Recover; the delivery keeps its mark in the store.
func (in *Inbox) record(ctx context.Context, o outcome) (Delivery, error) {
	// the first write runs on the send's context while it lasts (a write it
	// cuts short is written again in the background), else on a detached
	// one
	wctx := ctx
	if ctx.Err() != nil {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.outcomeRetry)
		defer cancel()
		wctx = c
	}
	out, err := in.recordOutcome(wctx, &o)
	if err == nil {
		return out, nil
	}
	k := &kept{o: o, end: make(chan struct{})}
	if o.err == nil {
		k.pid = storableKey(o.r.ProviderID)
	}
	switch {
	case permanentStoreError(err):
		in.giveUp(ctx, k, err)
		return o.d, err
	case !in.outbox.keep(k):
		in.giveUp(ctx, k, err)
		return o.d, err
	}
	go in.retryKept(context.WithoutCancel(ctx), k)
	select {
	case <-k.end:
		if k.err != nil {
			return o.d, k.err
		}
		return k.out, nil
	case <-ctx.Done():
		return o.d, fmt.Errorf("inbox: delivery %s: outcome not recorded yet, written in the background: %w", o.d.ID, ctx.Err())
	}
}

// retryKept writes k again until it is written, the store refuses it for
// good, Options.OutcomeRetry is over or the inbox closes (then it tries
// once more).
func (in *Inbox) retryKept(ctx context.Context, k *kept) {
	defer in.outbox.wg.Done()
	ctx, cancel := context.WithTimeout(ctx, in.outcomeRetry)
	defer cancel()
	pause := firstOutcomePause
	for {
		t := time.NewTimer(jitter(pause))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			in.giveUp(ctx, k, fmt.Errorf("inbox: gave up after %v: %w", in.outcomeRetry, ctx.Err()))
			return
		case <-in.outbox.closing:
			t.Stop()
			lctx, lcancel := context.WithTimeout(context.WithoutCancel(ctx), lastWriteTimeout)
			err := in.writeKept(lctx, k)
			lcancel()
			if err != nil {
				in.giveUp(ctx, k, fmt.Errorf("inbox: the inbox closed: %w", err))
			}
			return
		}
		err := in.writeKept(ctx, k)
		if err == nil {
			return
		}
		if permanentStoreError(err) {
			in.giveUp(ctx, k, err)
			return
		}
		pause = min(2*pause, maxOutcomePause)
	}
}

// writeKept writes k's outcome unless it is written already, and then
// forgets it and publishes the new status.
func (in *Inbox) writeKept(ctx context.Context, k *kept) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.done {
		return nil
	}
	out, err := in.recordOutcome(ctx, &k.o)
	if err != nil {
		return err
	}
	k.done = true
	in.outbox.forget(k)
	k.finish(out, nil)
	return nil
}

// giveUp reports an outcome that could not be written. An accepted one
// stays in memory (ApplyStatus and Recover write it when the store allows);
// the delivery keeps its mark in the store.
func (in *Inbox) giveUp(ctx context.Context, k *kept, err error) {
	k.finish(Delivery{}, err)
	d := k.o.d
	if k.o.err != nil {
		in.log.ErrorContext(ctx, "inbox: a send's outcome could not be recorded; the delivery stays marked as sending for Recover",
			"delivery", d.ID, "message", d.MessageID, "outcome", k.o.err.Error(), "error", err)
		return
	}
	in.log.ErrorContext(ctx, "inbox: a provider accepted a message and the store refused its outcome",
		"delivery", d.ID, "message", d.MessageID, "provider_id", k.pid, "error", err)
	in.publish(ctx, Event{Type: EventOutcomeUnknown, ThreadID: d.ThreadID, MessageID: d.MessageID, DeliveryID: d.ID,
		ProviderID: k.pid, Kind: d.Kind, Address: d.Address, Status: status.Validated})
}

// recordOutcome writes o on its delivery, first on the version the sender
// holds (usually still current), then on a fresh read. An accepted outcome
// is written whenever the delivery has no provider ID yet (even when
// Recover resolved the attempt meanwhile); any other outcome only while the
// delivery still holds this attempt's mark. Writing it twice changes
// nothing.
func (in *Inbox) recordOutcome(ctx context.Context, o *outcome) (Delivery, error) {
	pid := storableKey(o.r.ProviderID)
	ev := writeEvents{status: o.err == nil}
	return in.updateDeliveryEv(ctx, o.d, func(d *Delivery) bool { return o.apply(d, pid) }, ev)
}

// apply changes d, the delivery as stored, with outcome o, whose provider
// ID is pid as the store keeps it (see recordOutcome). It reports whether
// d changed.
func (o *outcome) apply(d *Delivery, pid string) bool {
	sent := &o.d
	mine := sent.Sending.IsZero() || d.Sending.Equal(sent.Sending)
	interrupted := errors.Is(o.err, context.Canceled) || errors.Is(o.err, context.DeadlineExceeded)
	switch {
	case o.err == nil && d.ProviderID != "" && (d.ProviderID != pid || !mine):
		return false // recorded already
	case o.err != nil && !mine:
		return false // resolved meanwhile
	case interrupted && d.Reason == reasonInterrupted+o.err.Error():
		return false // recorded already
	}
	if o.rendered {
		d.Subject, d.Text, d.HTML, d.SMS, d.Cost = sent.Subject, sent.Text, sent.HTML, sent.SMS, sent.Cost
	}
	d.Attempts += o.attempts
	switch {
	case o.err == nil:
		if mine {
			d.Sending = time.Time{}
		}
		if d.ProviderID != pid { // else a status report recorded the acceptance already
			s := o.r.Status
			if !s.Valid() {
				s = status.Validated
			}
			_, _ = applyInto(&d.Status, status.Change{Status: s, At: o.at, Raw: "accepted"}, o.room)
		}
		d.ProviderID, d.Reason = pid, ""
	case interrupted && o.attempts == 0:
		// the context ended after the mark and before the provider
		// was called: not sent
		d.Sending = time.Time{}
		d.Reason = "not attempted: " + o.err.Error()
	case interrupted:
		// the provider may have accepted it: the mark stays for Recover
		d.Reason = reasonInterrupted + o.err.Error()
	default:
		d.Sending = time.Time{}
		d.Reason = o.err.Error()
		_, _ = applyInto(&d.Status, status.Change{Status: status.Failed, At: o.at, ErrorMessage: o.err.Error()}, o.room)
	}
	return true
}

// Recovery is what Recover did with the deliveries it found marked as
// sending.
type Recovery struct {
	// Accepted deliveries were accepted by their provider: it said so
	// (channel.Finder), a status report recorded it, or the inbox still
	// held the outcome in memory. Their provider ID and status are
	// recorded.
	Accepted int
	// NotSent deliveries were never accepted: their provider said so. They
	// failed, with the reason.
	NotSent int
	// Unknown deliveries could not be resolved: their provider cannot be
	// asked. They stay pending with a reason that says so, and
	// EventOutcomeUnknown reports each; a status report that carries the
	// delivery's reference completes it (ApplyStatus).
	Unknown int
	// Deferred deliveries' provider could not answer now: they stay marked
	// for the next Recover.
	Deferred int
}

// Recover resolves the deliveries whose send was interrupted before its
// outcome was recorded (a crash, a store outage that outlasted
// Options.OutcomeRetry): those whose outbox mark (Delivery.Sending) is
// older than Options.OutcomeRetry and that this Inbox is not sending. It
// never sends them again, which could deliver them twice. For each, the
// outcome this Inbox still holds in memory is written; otherwise the
// channel's Sender is asked when it is a channel.Finder: a message it
// accepted is recorded with its provider ID, one it never accepted fails
// with the reason; otherwise the delivery stays pending with a reason that
// says its outcome is unknown, and EventOutcomeUnknown reports it.
//
// Call it when the host starts and from time to time (RunDispatcher calls
// it every round); several instances may call it at once. A send that
// takes longer than Options.OutcomeRetry on another instance is taken as
// interrupted: bound the provider calls' time (their HTTP client's
// timeouts) below it. It returns what it did, and the store's error when
// it fails (what was resolved before stays resolved).
func (in *Inbox) Recover(ctx context.Context) (got Recovery, err error) {
	ctx, span := in.obs.startRun(ctx, "inbox.Recover")
	defer func() { in.obs.endRun(span, err, got.attributes()...) }()
	var rep Recovery
	before := in.now().Add(-in.outcomeRetry)
	q := store.SentQuery{SendingBefore: before, Limit: recoverPage}
	for {
		ds, err := in.store.Sent(ctx, q)
		if err != nil {
			return rep, wrapStore("outbox", err)
		}
		for _, d := range ds {
			if d.Sending.IsZero() || !d.Sending.Before(before) || in.outbox.sending(d.ID) {
				continue
			}
			if err := in.resolve(ctx, d, &rep); err != nil {
				return rep, err
			}
		}
		if len(ds) < q.Limit {
			return rep, nil
		}
		q.After = ds[len(ds)-1].ID
	}
}

// resolve resolves one delivery left marked as sending (see Recover).
func (in *Inbox) resolve(ctx context.Context, d Delivery, rep *Recovery) error {
	if k := in.outbox.byDelivery(d.ID); k != nil {
		if err := in.writeKept(ctx, k); err != nil {
			return err
		}
		if k.o.err == nil {
			rep.Accepted++
		} else {
			rep.NotSent++
		}
		return nil
	}
	if d.ProviderID != "" {
		// a status report recorded it (its reference): only the mark is left
		_, err := in.unmark(ctx, d, "")
		if err == nil {
			rep.Accepted++
		}
		return err
	}
	var finder channel.Finder
	var ident channel.Identity
	if in.channels != nil {
		if s, err := in.channels.Sender(d.Kind); err == nil {
			finder, _ = s.(channel.Finder)
			ident, _ = in.channels.Identity(d.Kind, d.Identity)
		}
	}
	if finder == nil {
		changed, err := in.unmark(ctx, d, reasonUnknown, Event{Type: EventOutcomeUnknown, ThreadID: d.ThreadID,
			MessageID: d.MessageID, DeliveryID: d.ID, Kind: d.Kind, Address: d.Address, Status: d.Status.Current})
		if err != nil || !changed {
			return err
		}
		rep.Unknown++
		in.log.WarnContext(ctx, "inbox: a send was interrupted and its outcome is unknown", "delivery", d.ID, "message", d.MessageID)
		return nil
	}
	msg := &channel.Message{Kind: d.Kind, From: ident, To: d.Address, Subject: d.Subject, Text: d.Text, HTML: d.HTML, Reference: d.ID}
	r, err := finder.Find(ctx, msg)
	if err == nil && r.ProviderID == "" {
		err = fmt.Errorf("inbox: %s: the provider's answer holds no provider ID", d.Kind)
	}
	o := outcome{d: d, r: r, at: in.now()}
	switch {
	case err == nil:
		rep.Accepted++
	case errors.Is(err, channel.ErrUnknownMessage):
		o.err = fmt.Errorf("%s%w", reasonNotSent, err)
		rep.NotSent++
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		rep.Deferred++
		in.log.WarnContext(ctx, "inbox: the provider cannot say now what became of an interrupted send; asked again at the next Recover",
			"delivery", d.ID, "error", err)
		return nil
	}
	_, err = in.recordOutcome(ctx, &o)
	return err
}

// unmark clears the mark d holds, with reason when not "", unless the
// delivery changed meanwhile, and writes events with it. It reports
// whether it wrote.
func (in *Inbox) unmark(ctx context.Context, d Delivery, reason string, events ...Event) (bool, error) {
	changed := false
	var ev writeEvents
	if len(events) > 0 {
		ev.of = func(*Delivery) []Event { return events }
	}
	_, err := in.updateDeliveryEv(ctx, d, func(x *Delivery) bool {
		changed = false
		if !x.Sending.Equal(d.Sending) {
			return false
		}
		x.Sending = time.Time{}
		if reason != "" {
			x.Reason = reason
		}
		changed = true
		return true
	}, ev)
	return changed, err
}

// unrecorded finds the delivery of a status update whose provider ID no
// delivery has: one whose accepted outcome this Inbox holds in memory (it
// is written now), or the one the update's reference names when its
// provider ID was never recorded (the status records it: the provider has
// the message). ok is false when neither applies.
func (in *Inbox) unrecorded(ctx context.Context, u channel.StatusUpdate) (Delivery, bool, error) {
	if k := in.outbox.byProvider(u.ProviderID); k != nil {
		if err := in.writeKept(ctx, k); err != nil {
			return Delivery{}, false, err
		}
		d, err := in.store.DeliveryByProviderID(ctx, u.ProviderID)
		if err != nil {
			return Delivery{}, false, wrapStore("delivery", err)
		}
		return d, true, nil
	}
	if u.Reference == "" {
		return Delivery{}, false, nil
	}
	d, err := in.store.Delivery(ctx, u.Reference)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Delivery{}, false, nil
	case err != nil:
		return Delivery{}, false, wrapStore("delivery", err)
	}
	if u.Recipient != "" && in.address(d.Kind, u.Recipient) != d.Address {
		return Delivery{}, false, nil
	}
	ok := false
	now := in.now()
	d, err = in.updateDeliveryFrom(ctx, d, func(x *Delivery) bool {
		ok = false
		if x.Kind != u.Kind || x.ProviderID != "" || x.Status.Current == status.Scheduled || x.Status.Current == status.Cancelled {
			return false
		}
		// the mark, if any, stays: the send may still record its outcome
		// (its attempts), and Recover clears it otherwise
		x.ProviderID, x.Reason, ok = u.ProviderID, "", true
		_, _ = applyOwn(&x.Status, status.Change{Status: status.Validated, At: now, Raw: "accepted (reported by a status)"})
		return true
	})
	if err != nil || !ok {
		return Delivery{}, false, err
	}
	in.log.InfoContext(ctx, "inbox: a status report recorded the provider ID of a send whose outcome was not recorded",
		"delivery", d.ID, "provider_id", u.ProviderID)
	return d, true, nil
}
