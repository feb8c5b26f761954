package storetest

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// shutdownScenarios check Inbox.Shutdown on a store: an app instance that
// goes away while others keep running on the same data.
var shutdownScenarios = []struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
}{
	{"Shutdown_InFlightSend", testShutdownInFlight},
	{"Shutdown_C8_ReleasesClaims", testShutdownReleases},
	{"Shutdown_Deadline", testShutdownDeadline},
}

// gatedSender sends through a fake, but each send first says it started
// (on started) and waits for release (or its context).
type gatedSender struct {
	fake    *channeltest.Fake
	started chan struct{}
	release chan struct{}
}

func newGatedSender() *gatedSender {
	return &gatedSender{fake: channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"}),
		started: make(chan struct{}, 16), release: make(chan struct{})}
}

func (g *gatedSender) Send(ctx context.Context, msg *channel.Message) (channel.Receipt, error) {
	g.started <- struct{}{}
	select {
	case <-g.release:
	case <-ctx.Done():
		return channel.Receipt{}, ctx.Err()
	}
	return g.fake.Send(ctx, msg)
}

// shutdownInbox returns an Inbox on e's store (another app instance) that
// sends SMS through s.
func (e *env) shutdownInbox(prefix string, s channel.Sender) *inbox.Inbox {
	e.t.Helper()
	reg := channel.NewRegistry()
	e.must(reg.Register(channel.SMS, s, channel.Config{Identities: []channel.Identity{{ID: "studio", Address: "+33757000001", TwoWay: true}}}))
	in, err := inbox.New(e.store, inbox.Options{Now: e.clock.Now, Directory: e.dir, NewID: ids(prefix),
		Logger: quietLogger, StatusWait: -1, Channels: reg})
	e.must(err)
	e.t.Cleanup(func() { _ = in.Close() })
	return in
}

// waitClosing returns once in refuses new work, which Shutdown does at
// once but from another goroutine: a Send of an empty draft fails with
// ErrClosed then, with ErrInvalidArgument before.
func waitClosing(t *testing.T, in *inbox.Inbox) {
	t.Helper()
	for {
		_, err := in.Send(context.Background(), inbox.Draft{})
		if errors.Is(err, inbox.ErrClosed) {
			return
		}
		if !errors.Is(err, inbox.ErrInvalidArgument) {
			t.Fatalf("an empty draft: %v, want ErrInvalidArgument or ErrClosed", err)
		}
		runtime.Gosched()
	}
}

// wait returns what ch gives, failing after a minute.
func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("%s: nothing within a minute", what)
	}
	var zero T
	return zero
}

// testShutdownInFlight: Shutdown refuses new work at once (ErrClosed),
// waits for the send in flight, which records its outcome, and returns.
func testShutdownInFlight(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	g := newGatedSender()
	in := e.shutdownInbox("a", g)
	th, err := in.Start(e.ctx, contactSubject(helene))
	e.must(err)
	sent := make(chan inbox.SendResult, 1)
	go func() {
		r, err := in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your room is ready"})
		if err != nil {
			t.Error(err)
		}
		sent <- r
	}()
	wait(t, g.started, "the send")
	stopped := make(chan error, 1)
	go func() { stopped <- in.Shutdown(e.ctx) }()
	waitClosing(t, in)
	_, err = in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, To: "+33757000001", Text: "Merci", ProviderID: "in-late"})
	if !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("a message received while shutting down: %v, want ErrClosed", err)
	}
	if err := in.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-x", Status: status.Delivered}); !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("a status update while shutting down: %v, want ErrClosed", err)
	}
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while a send was in flight", err)
	default:
	}
	close(g.release)
	r := wait(t, sent, "the send in flight")
	if err := wait(t, stopped, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if len(r.Deliveries) != 1 {
		t.Fatalf("the send in flight made %d deliveries, want 1", len(r.Deliveries))
	}
	d, err := e.store.Delivery(e.ctx, r.Deliveries[0].ID)
	e.must(err)
	if d.ProviderID == "" || d.Status.Current != status.Validated {
		t.Fatalf("the send in flight recorded %s, provider ID %q; want its outcome (validated, the provider's ID)", d.Status.Current, d.ProviderID)
	}
	if err := in.Shutdown(e.ctx); err != nil {
		t.Fatalf("a second Shutdown: %v", err)
	}
}

// testShutdownReleases: a dispatcher that shuts down stops between two
// deliveries and gives back the claims of those it did not send, so that
// another instance's dispatcher sends them at once, not after the claim's
// lease (C8).
func testShutdownReleases(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	g := newGatedSender()
	a := e.shutdownInbox("a", g)
	yoga, err := a.Start(e.ctx, store.Subject{Kind: store.Audience, ID: "a-yoga"})
	e.must(err)
	r, err := a.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Yoga moves to 10am", ScheduledFor: t0.Add(time.Hour)})
	e.must(err)
	e.clock.Advance(time.Hour)
	type result struct {
		n   int
		err error
	}
	dispatched := make(chan result, 1)
	go func() {
		n, err := a.Dispatch(e.ctx, 0)
		dispatched <- result{n, err}
	}()
	wait(t, g.started, "the first scheduled send")
	stopped := make(chan error, 1)
	go func() { stopped <- a.Shutdown(e.ctx) }()
	waitClosing(t, a)
	close(g.release)
	got := wait(t, dispatched, "Dispatch")
	if got.n != 1 || !errors.Is(got.err, inbox.ErrClosed) {
		t.Fatalf("C8: Dispatch shut down after its first send returned %d, %v; want 1 and ErrClosed", got.n, got.err)
	}
	if err := wait(t, stopped, "Shutdown"); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if _, err := a.Dispatch(e.ctx, 0); !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("Dispatch after Shutdown: %v, want ErrClosed", err)
	}
	if err := a.RunDispatcher(e.ctx, time.Minute); !errors.Is(err, inbox.ErrClosed) {
		t.Fatalf("RunDispatcher after Shutdown: %v, want ErrClosed", err)
	}

	// another instance, at the same time (well within the lease)
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SB"})
	b := e.shutdownInbox("b", fake)
	n, err := b.Dispatch(e.ctx, 0)
	e.must(err)
	if n != 1 || len(fake.Sent()) != 1 {
		t.Fatalf("C8: the other instance dispatched %d (sent %d), want the 1 delivery given back", n, len(fake.Sent()))
	}
	for _, d := range r.Deliveries {
		d, err := e.store.Delivery(e.ctx, d.ID)
		e.must(err)
		if d.Status.Current != status.Validated {
			t.Fatalf("C8: delivery %s is %s after both dispatchers, want validated", d.ID, d.Status.Current)
		}
	}
}

// testShutdownDeadline: Shutdown returns with ctx's error when ctx ends
// before the work in flight is done; that work then records its outcome.
func testShutdownDeadline(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	g := newGatedSender()
	in := e.shutdownInbox("a", g)
	th, err := in.Start(e.ctx, contactSubject(marc))
	e.must(err)
	sent := make(chan inbox.SendResult, 1)
	go func() {
		r, err := in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "See you at 7"})
		if err != nil {
			t.Error(err)
		}
		sent <- r
	}()
	wait(t, g.started, "the send")
	ctx, cancel := context.WithCancel(e.ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- in.Shutdown(ctx) }()
	waitClosing(t, in)
	cancel()
	if err := wait(t, stopped, "Shutdown"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown whose context ended before the send in flight: %v, want context.Canceled", err)
	}
	close(g.release)
	r := wait(t, sent, "the send in flight")
	d, err := e.store.Delivery(e.ctx, r.Deliveries[0].ID)
	e.must(err)
	if d.Status.Current != status.Validated {
		t.Fatalf("the send in flight recorded %s after Shutdown gave up waiting, want validated", d.Status.Current)
	}
}
