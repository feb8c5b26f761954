package inbox

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/status"
)

// releaseTimeout bounds the writes that give back the scheduled deliveries
// a dispatcher claimed but did not send, once the inbox shuts down, when
// the dispatcher's own context has ended.
const releaseTimeout = 10 * time.Second

// gate counts the work in flight on an Inbox (sends, receives, status
// updates, dispatches) and refuses new work once shut. Its state is one
// word, so that a piece of work costs one atomic addition in and one out
// (a status update is a piece of work, a million a second of them).
type gate struct {
	// state is twice the work in flight, plus 1 once shut.
	state    atomic.Int64
	quit     chan struct{} // closed when shut
	idle     chan struct{} // closed when shut and no work is in flight
	idleOnce sync.Once
}

func newGate() *gate {
	return &gate{quit: make(chan struct{}), idle: make(chan struct{})}
}

// enter counts one piece of work in; false once the gate is shut.
func (g *gate) enter() bool {
	if g.state.Add(2)&1 != 0 {
		g.leave() // shut: counted in for a moment, and out again
		return false
	}
	return true
}

// leave counts one piece of work out.
func (g *gate) leave() {
	if g.state.Add(-2) == 1 { // shut, and this was the last
		g.idleOnce.Do(func() { close(g.idle) })
	}
}

// close shuts the gate, once, and returns the channel closed when the work
// in flight is done.
func (g *gate) close() <-chan struct{} {
	if old := g.state.Or(1); old&1 == 0 {
		close(g.quit)
		if old == 0 {
			g.idleOnce.Do(func() { close(g.idle) })
		}
	}
	return g.idle
}

// closing reports whether the gate is shut.
func (g *gate) closing() bool {
	select {
	case <-g.quit:
		return true
	default:
		return false
	}
}

// begin lets one piece of work (op, for the error) in; the caller calls
// in.work.leave when the work is done (a method value returned instead
// would cost an allocation per call, on every status update). Once the
// inbox shuts down it fails with ErrClosed.
func (in *Inbox) begin(op string) error {
	if !in.work.enter() {
		return fmt.Errorf("inbox: %s: %w", op, ErrClosed)
	}
	return nil
}

// Shutdown stops the inbox gracefully, for an app instance that goes away
// while others keep running on the same store:
//   - new work (Send, Receive, ReceiveMessage, ApplyStatus,
//     ApplyStatusUpdate, RecordOutbound, Dispatch, RunDispatcher) fails at
//     once with an error matching ErrClosed — the webhook handlers answer
//     it with a 5xx (503 from inboxhttp), so the provider retries, through
//     another instance;
//   - the work in flight goes on: each send already started records its
//     outcome (a fan-out finishes its recipients);
//   - a dispatcher stops between two deliveries and gives back the
//     scheduled deliveries it claimed and did not send, so that another
//     instance's dispatcher takes them at once rather than after the
//     claim's lease (Options.ClaimLease);
//   - then it closes the inbox (Close).
//
// It returns within ctx's deadline: when ctx ends before the work in
// flight is done, it returns ctx's error; that work goes on and records
// its outcomes, and the inbox closes when it is done. Shutdown may be
// called more than once, and after Close.
func (in *Inbox) Shutdown(ctx context.Context) error {
	idle := in.work.close()
	select {
	case <-idle:
		return in.Close()
	case <-ctx.Done():
		go func() {
			<-idle
			_ = in.Close()
		}()
		return fmt.Errorf("inbox: shutdown: %w", ctx.Err())
	}
}

// release gives back the scheduled deliveries a dispatcher claimed (ds as
// ClaimDue returned them) and did not send, so that another dispatcher claims
// them at once (C8). A delivery somebody changed since is left as it is.
// It returns the first error; the lease ends the claims it could not give
// back.
func (in *Inbox) release(ctx context.Context, ds []Delivery) error {
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
	}
	var first error
	for _, d := range ds {
		until := d.ClaimedUntil
		_, err := in.updateDeliveryFrom(ctx, d, func(d *Delivery) bool {
			if d.Status.Current != status.Scheduled || !d.ClaimedUntil.Equal(until) {
				return false
			}
			d.ClaimedUntil = time.Time{}
			return true
		})
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
