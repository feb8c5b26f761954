package inbox

import (
	"context"
	"reflect"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// A fan-out on a store that writes deliveries in batches
// (store.DeliveriesWriter) marks its sends and records their outcomes a
// batch at a time: each worker takes a run of deliveries, marks them all
// in one write, sends them one after the other, and records their outcomes
// in one write. The outbox's order holds for each delivery: its mark is
// written before its provider is called, its outcome after. A delivery
// whose write the store refuses goes the one-at-a-time way (fanout.one,
// Inbox.record), which reads it again, retries and keeps an outcome the
// store refuses.
const (
	// maxBatch is the most deliveries a worker marks, sends and records as
	// one batch.
	maxBatch = 64
	// batchSpan bounds the time a batch's sends take: a worker doubles its
	// batch after one whose sends took less, and halves it after one that
	// took more. A delivery is then marked, and its outcome recorded, about
	// this long at most before and after its send; a provider that answers
	// slowly gets batches of one, as without batches.
	batchSpan = time.Millisecond
)

// batchWriter returns s's batch writes when s has them for itself (see
// store.DeliveriesWriter), nil otherwise.
func batchWriter(s Store) store.DeliveriesWriter {
	bw, ok := s.(store.DeliveriesWriter)
	if !ok || !reflect.TypeOf(s).Comparable() || bw.Batched() != s {
		return nil
	}
	return bw
}

// batch is a fan-out worker's batch, its buffers reused from one batch to
// the next.
type batch struct {
	f        *fanout
	ws       []store.DeliveryWrite
	sends    []batchSend
	eb       *eventBuf
	inflight inflightBatch // the outbox's count of the sends (outbox.beginAll)
}

// batchSend is one delivery of a batch.
type batchSend struct {
	i    int           // its index in the batch
	prev status.Status // its status before the mark
	ctx  context.Context
	span deliverSpan
	o    outcome
	w    int // the index of its outcome's write, -1 when nothing is written
}

// newBatch returns a batch for a worker that takes about n deliveries:
// its buffers start small and grow with its runs (a delivery write is about
// 500 bytes: buffers for maxBatch made a send to a few recipients allocate
// tens of kilobytes per worker).
func (f *fanout) newBatch(n int) *batch {
	n = min(n, 8)
	return &batch{f: f, ws: make([]store.DeliveryWrite, 0, n), sends: make([]batchSend, 0, n), eb: f.in.eventBuf()}
}

// close gives back what b holds.
func (b *batch) close() {
	clear(b.ws[:cap(b.ws)])
	clear(b.sends[:cap(b.sends)])
	clear(b.inflight.ids[:cap(b.inflight.ids)])
	b.f.in.putEventBuf(b.eb)
}

// run sends the deliveries of chunk (params: their WhatsApp template's
// parameters, nil without one), each slot replaced by the delivery as it
// ended, with msg as the message handed to the sender. It returns the time
// the sends took and the first store error. The deliveries are copied as
// few times as can be: each is 480 bytes, and a copy into the heap while
// the collector runs goes through its write barrier.
func (b *batch) run(ctx context.Context, chunk []Delivery, params [][]string, msg *channel.Message) (time.Duration, error) {
	f, in := b.f, b.f.in
	kind := f.msg.Kind
	var firstErr error
	paramsOf := func(i int) []string {
		if params == nil {
			return nil
		}
		return params[i]
	}
	alone := func(i int) { // the one-at-a-time way
		d, err := f.one(ctx, nil, chunk[i], paramsOf(i), false, msg)
		chunk[i] = d
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}

	// the marks, in one write
	at := in.now()
	b.ws, b.sends = b.ws[:0], b.sends[:0]
	for i := range chunk {
		b.ws = append(b.ws, store.DeliveryWrite{Delivery: chunk[i]})
		x := &b.ws[len(b.ws)-1].Delivery
		h := x.Status.History
		x.Status.History = h[:len(h):len(h)] // shared with chunk[i]: an append copies it
		was := textsOf(x)
		if write, _ := markAt(x, at); !write {
			b.ws = b.ws[:len(b.ws)-1]
			alone(i) // not a new delivery: read again
			continue
		}
		cleanChanged(x, &was)
		b.sends = append(b.sends, batchSend{i: i, prev: chunk[i].Status.Current})
	}
	errs := in.batch.WriteDeliveries(ctx, b.ws)
	b.inflight.ids = b.inflight.ids[:0]
	kept := 0
	for j := range b.sends {
		s := &b.sends[j]
		if errs != nil && errs[j] != nil {
			alone(s.i)
			continue
		}
		if kept < j {
			b.sends[kept] = *s
			s = &b.sends[kept]
		}
		kept++
		s.o.d = b.ws[j].Delivery
		d := &s.o.d
		d.Version++
		in.obs.moved(ctx, kind, s.prev, d.Status.Current)
		b.inflight.ids = append(b.inflight.ids, d.ID)
	}
	b.sends = b.sends[:kept]
	in.outbox.beginAll(&b.inflight) // until their outcomes are recorded
	defer in.outbox.endAll(&b.inflight)

	// the sends
	start := time.Now()
	for k := range b.sends {
		s := &b.sends[k]
		d := &s.o.d
		s.ctx, s.span = in.obs.startDeliver(ctx, kind, *d)
		if err := ctx.Err(); err != nil {
			f.settle(s.ctx, &s.o, channel.Receipt{}, err, 0, false)
			continue
		}
		f.message(msg, d, paramsOf(s.i))
		r, attempts, err := f.attempt(s.ctx, nil, msg, &s.span)
		f.settle(s.ctx, &s.o, r, err, attempts, false)
	}
	took := time.Since(start)

	// the outcomes, in one write: on the send's context while it lasts,
	// else on a detached one (as Inbox.record)
	wctx := ctx
	if ctx.Err() != nil {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), in.outcomeRetry)
		defer cancel()
		wctx = c
	}
	b.ws = b.ws[:0]
	b.eb.encode()
	for k := range b.sends {
		s := &b.sends[k]
		b.ws = append(b.ws, store.DeliveryWrite{})
		w := &b.ws[len(b.ws)-1]
		x := &w.Delivery
		*x = s.o.d
		h := x.Status.History
		x.Status.History = h[:len(h):len(h)]
		was := textsOf(x)
		if !s.o.apply(x, storableKey(s.o.r.ProviderID)) {
			s.w, chunk[s.i] = -1, *x
			b.ws = b.ws[:len(b.ws)-1]
			continue
		}
		cleanChanged(x, &was)
		if s.o.err == nil {
			w.Events = b.eb.add(statusEvent(*x))
		}
		s.w = len(b.ws) - 1
	}
	errs = in.batch.WriteDeliveries(wctx, b.ws)
	events := false
	for k := range b.sends {
		s := &b.sends[k]
		var err error
		switch {
		case s.w < 0:
		case errs != nil && errs[s.w] != nil:
			// read again, and kept and written in the background when the
			// store refuses it
			chunk[s.i], err = in.record(s.ctx, s.o)
		default:
			out := &chunk[s.i]
			*out = b.ws[s.w].Delivery
			out.Version++
			in.obs.moved(ctx, kind, s.o.d.Status.Current, out.Status.Current)
			events = events || len(b.ws[s.w].Events) > 0
		}
		in.obs.endDeliver(s.ctx, s.span, chunk[s.i], err)
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if events {
		in.delivered(ctx)
	}
	return took, firstErr
}
