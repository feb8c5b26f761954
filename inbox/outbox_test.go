package inbox_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// errStoreDown is what an outage store answers while it is down.
var errStoreDown = errors.New("outage: connection refused")

// outage is a store whose deliveries and messages cannot be read or
// written while it is down: the store outage of issue 12, after a provider
// accepted a message.
type outage struct {
	store.Store
	down atomic.Bool
}

func (s *outage) fail() error {
	if s.down.Load() {
		return errStoreDown
	}
	return nil
}

func (s *outage) WriteDelivery(ctx context.Context, d store.Delivery, events ...store.FeedEvent) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteDelivery(ctx, d, events...)
}

func (s *outage) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if err := s.fail(); err != nil {
		return store.Delivery{}, err
	}
	return s.Store.Delivery(ctx, id)
}

func (s *outage) DeliveryByProviderID(ctx context.Context, id string) (store.Delivery, error) {
	if err := s.fail(); err != nil {
		return store.Delivery{}, err
	}
	return s.Store.DeliveryByProviderID(ctx, id)
}

func (s *outage) Sent(ctx context.Context, q store.SentQuery) ([]store.Delivery, error) {
	if err := s.fail(); err != nil {
		return nil, err
	}
	return s.Store.Sent(ctx, q)
}

func (s *outage) Message(ctx context.Context, id string) (store.Message, error) {
	if err := s.fail(); err != nil {
		return store.Message{}, err
	}
	return s.Store.Message(ctx, id)
}

func (s *outage) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if err := s.fail(); err != nil {
		return err
	}
	return s.Store.WriteThread(ctx, w)
}

// outboxRig is an inbox on an outage store whose provider, the rig's SMS
// fake, takes the store down as it accepts a message. The inbox's clock is
// the synctest bubble's.
type outboxRig struct {
	*rig
	st   *outage
	fake *channeltest.Fake
}

func newOutboxRig(t *testing.T) *outboxRig {
	r := newRig(t, inbox.Options{}, nil)
	o := &outboxRig{rig: r, st: &outage{Store: r.store}, fake: r.fakes[channel.SMS]}
	o.fake.FailWhen(func(*channel.Message) error {
		o.st.down.Store(true) // the provider has the message; the store goes
		return nil
	})
	return o
}

// open returns an inbox on the outage store, as a process of the host
// would (a restart opens another one), sending through reg.
func (o *outboxRig) open(reg *channel.Registry, opts inbox.Options) *inbox.Inbox {
	o.t.Helper()
	opts.Now, opts.Directory, opts.Channels = time.Now, o.dir, reg
	opts.Logger = slog.New(slog.DiscardHandler)
	opts.Retry = inbox.Retry{Attempts: 1, Backoff: time.Millisecond}
	in, err := inbox.New(o.st, opts)
	if err != nil {
		o.t.Fatal(err)
	}
	o.t.Cleanup(func() { _ = in.Close() })
	return in
}

// send sends one SMS to Ana with a context that ends after ten seconds,
// and returns the ID of its delivery and the error of Send.
func (o *outboxRig) send(in *inbox.Inbox) (string, error) {
	o.t.Helper()
	th, err := in.Start(o.ctx, contactT("ana"))
	if err != nil {
		o.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(o.ctx, 10*time.Second)
	defer cancel()
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre cours commence à 18h"})
	if len(res.Deliveries) != 1 {
		o.t.Fatalf("Send: %d deliveries, %v", len(res.Deliveries), err)
	}
	return res.Deliveries[0].ID, err
}

// accepted returns the receipt of the one message the fake accepted.
func (o *outboxRig) accepted() channel.Receipt {
	o.t.Helper()
	sent := o.fake.Sent()
	if len(sent) != 1 || o.fake.Attempts() != 1 {
		o.t.Fatalf("the provider got %d messages in %d attempts, want 1 in 1: never sent twice", len(sent), o.fake.Attempts())
	}
	return sent[0].Receipt
}

// S1, M1 (issue 12): a store outage that outlasts the send's context after
// the provider accepted the message loses nothing: the send returns when
// its context ends, and the outcome is written once the store is back,
// with the provider ID every later status needs. Nothing is sent twice.
func TestOutcomeSurvivesStoreOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		in := o.open(o.reg, inbox.Options{})
		id, err := o.send(in)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send during the outage: err = %v, want the context's error", err)
		}
		r := o.accepted()
		d := o.delivery(id)
		if d.ProviderID != "" || d.Sending.IsZero() || d.Status.Current != status.Pending {
			t.Fatalf("during the outage the delivery holds its mark only: %+v", d)
		}
		time.Sleep(20 * time.Second) // the outage lasts 30 s in all
		o.st.down.Store(false)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		d = o.delivery(id)
		if d.ProviderID != r.ProviderID || d.Status.Current != status.Validated || !d.Sending.IsZero() || d.Attempts != 1 {
			t.Fatalf("S1: the accepted outcome after the outage: %+v, want provider ID %s, validated, unmarked, 1 attempt", d, r.ProviderID)
		}
		for _, u := range o.fake.Flush() {
			if err := in.ApplyStatus(o.ctx, u); err != nil {
				t.Fatalf("S2: a status after the outage: %v", err)
			}
		}
		if got := o.delivery(id).Status.Current; got != status.Delivered {
			t.Fatalf("S2: status %s after the provider's statuses, want delivered", got)
		}
		o.accepted()
	})
}

// S1, S4 (issue 12): an outage longer than Options.OutcomeRetry. The
// outcome the store refused is reported (EventOutcomeUnknown with its
// provider ID) and kept in memory: a status for it during the outage gets
// an error a retry can fix (the handler answers 5xx), and once the store is
// back the status writes the outcome and is applied.
func TestOutcomeKeptPastRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		in := o.open(o.reg, inbox.Options{OutcomeRetry: time.Minute, StatusWait: -1})
		ctx, cancel := context.WithCancel(o.ctx)
		defer cancel()
		sub := in.Subscribe(ctx)
		id, _ := o.send(in)
		r := o.accepted()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		var reported bool
		for len(sub.C()) > 0 {
			if e := <-sub.C(); e.Type == inbox.EventOutcomeUnknown {
				reported = e.DeliveryID == id && e.ProviderID == r.ProviderID
			}
		}
		if !reported {
			t.Fatal("an accepted outcome the store refused for OutcomeRetry is reported with its provider ID")
		}
		updates := o.fake.Flush()
		err := in.ApplyStatus(o.ctx, updates[0])
		if err == nil || errors.Is(err, channel.ErrUnknownMessage) || errors.Is(err, channel.ErrInvalidMessage) {
			t.Fatalf("S4: a status during the outage: err = %v, want a store error a retry can fix", err)
		}
		o.st.down.Store(false)
		for _, u := range updates {
			if err := in.ApplyStatus(o.ctx, u); err != nil {
				t.Fatalf("S4: a status once the store is back: %v", err)
			}
		}
		d := o.delivery(id)
		if d.ProviderID != r.ProviderID || d.Status.Current != status.Delivered || !d.Sending.IsZero() {
			t.Fatalf("S1: %+v, want provider ID %s, delivered, unmarked", d, r.ProviderID)
		}
		if rec, err := in.Recover(o.ctx); err != nil || rec != (inbox.Recovery{}) {
			t.Fatalf("Recover after the outcome was written: %+v, %v; want nothing to do", rec, err)
		}
		o.accepted()
	})
}

// issue 12: a restart with a delivery left marked as sending (the process
// died during an outage, its memory with it). The new process's Recover
// asks the provider (channel.Finder) and records what it accepted; the
// delivery is never sent again, and a second Recover finds nothing.
func TestRecoverAsksTheProvider(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		before := o.open(o.reg, inbox.Options{OutcomeRetry: time.Minute})
		id, _ := o.send(before)
		r := o.accepted()
		_ = before.Close() // the old process stops during the outage
		time.Sleep(10 * time.Minute)
		o.st.down.Store(false)

		after := o.open(o.reg, inbox.Options{OutcomeRetry: time.Minute})
		rec, err := after.Recover(o.ctx)
		if err != nil || rec != (inbox.Recovery{Accepted: 1}) {
			t.Fatalf("Recover = %+v, %v; want 1 accepted", rec, err)
		}
		d := o.delivery(id)
		if d.ProviderID != r.ProviderID || d.Status.Current != status.Validated || !d.Sending.IsZero() || d.Reason != "" {
			t.Fatalf("after Recover: %+v, want provider ID %s, validated, unmarked", d, r.ProviderID)
		}
		if rec, err := after.Recover(o.ctx); err != nil || rec != (inbox.Recovery{}) {
			t.Fatalf("second Recover = %+v, %v; want nothing to do", rec, err)
		}
		o.accepted()
	})
}

// issue 12, S4: a restart where the provider cannot be asked (no
// channel.Finder). Recover leaves the delivery pending with a reason that
// says its outcome is unknown and reports it (EventOutcomeUnknown); it is
// not sent again. A status without the delivery's reference stays unknown;
// the provider's statuses that carry it complete the delivery.
func TestRecoverOutcomeUnknown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		reg := channel.NewRegistry() // the fake without its Find
		if err := reg.Register(channel.SMS, channel.SenderFunc(o.fake.Send), channel.Config{
			Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}}); err != nil {
			t.Fatal(err)
		}
		before := o.open(reg, inbox.Options{OutcomeRetry: time.Minute})
		id, _ := o.send(before)
		r := o.accepted()
		_ = before.Close()
		time.Sleep(10 * time.Minute)
		o.st.down.Store(false)

		after := o.open(reg, inbox.Options{OutcomeRetry: time.Minute, StatusWait: -1})
		ctx, cancel := context.WithCancel(o.ctx)
		defer cancel()
		sub := after.Subscribe(ctx)
		rec, err := after.Recover(o.ctx)
		if err != nil || rec != (inbox.Recovery{Unknown: 1}) {
			t.Fatalf("Recover = %+v, %v; want 1 unknown", rec, err)
		}
		if e := <-sub.C(); e.Type != inbox.EventOutcomeUnknown || e.DeliveryID != id || e.Address != ana.Phone {
			t.Fatalf("event %+v, want outcome-unknown of delivery %s", e, id)
		}
		d := o.delivery(id)
		if d.Status.Current != status.Pending || !d.Sending.IsZero() || !strings.Contains(d.Reason, "outcome unknown") {
			t.Fatalf("after Recover: %+v, want pending, unmarked, outcome unknown", d)
		}
		updates := o.fake.Flush()
		blind := updates[0]
		blind.Reference = "" // a provider that does not report it
		if err := after.ApplyStatus(o.ctx, blind); !errors.Is(err, channel.ErrUnknownMessage) {
			t.Fatalf("S4: a status without the reference: err = %v, want ErrUnknownMessage", err)
		}
		for _, u := range updates {
			if err := after.ApplyStatus(o.ctx, u); err != nil {
				t.Fatalf("S4: a status with the delivery's reference: %v", err)
			}
		}
		d = o.delivery(id)
		if d.ProviderID != r.ProviderID || d.Status.Current != status.Delivered || d.Reason != "" {
			t.Fatalf("after the provider's statuses: %+v, want provider ID %s, delivered", d, r.ProviderID)
		}
		o.accepted()
	})
}

// C8 (issue 12): a scheduled delivery whose dispatcher died after the
// provider accepted it is sent exactly once: it is pending from the moment
// it is marked, so no dispatcher claims it again when the lease ends, and
// Recover records what the provider accepted.
func TestScheduledSendLeftMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		opts := inbox.Options{OutcomeRetry: time.Minute, ClaimLease: time.Minute}
		before := o.open(o.reg, opts)
		th, err := before.Start(o.ctx, contactT("ana"))
		if err != nil {
			t.Fatal(err)
		}
		due := time.Now().Add(time.Hour)
		res, err := before.Send(o.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Rappel", ScheduledFor: due})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		ctx, cancel := context.WithTimeout(o.ctx, 10*time.Second)
		if _, err := before.Dispatch(ctx, 0); err == nil {
			t.Fatal("Dispatch during the outage reports it")
		}
		cancel()
		r := o.accepted()
		_ = before.Close()
		time.Sleep(10 * time.Minute)
		o.st.down.Store(false)

		after := o.open(o.reg, opts)
		if n, err := after.Dispatch(o.ctx, 0); err != nil || n != 0 {
			t.Fatalf("C8: Dispatch after the lease claimed %d (%v), want 0: the delivery is being sent", n, err)
		}
		if _, err := after.CancelScheduled(o.ctx, res.Message.ID); !errors.Is(err, inbox.ErrTooLate) {
			t.Fatalf("C8: cancelling a delivery being sent: err = %v, want ErrTooLate", err)
		}
		if rec, err := after.Recover(o.ctx); err != nil || rec.Accepted != 1 {
			t.Fatalf("Recover = %+v, %v; want 1 accepted", rec, err)
		}
		if d := o.delivery(res.Deliveries[0].ID); d.ProviderID != r.ProviderID || d.Status.Current != status.Validated {
			t.Fatalf("C8: %+v, want provider ID %s, validated", d, r.ProviderID)
		}
		o.accepted()
	})
}

// issue 12: a send interrupted while the provider held it (it hung until
// the context ended) keeps its mark. When the provider says it never
// accepted it, Recover fails the delivery with the reason; when the
// provider cannot say now, the delivery stays marked for the next Recover.
func TestRecoverNotSentAndDeferred(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, inbox.Options{}, nil)
		fake := r.fakes[channel.SMS]
		finder := &flakyFinder{Fake: fake, err: channeltest.Transient("lookup timed out")}
		reg := channel.NewRegistry()
		if err := reg.Register(channel.SMS, finder, channel.Config{
			Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}}); err != nil {
			t.Fatal(err)
		}
		in, err := inbox.New(r.store, inbox.Options{Now: time.Now, Directory: r.dir, Channels: reg, OutcomeRetry: time.Minute,
			Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		th := r.thread(contactT("ana"))
		fake.Hang(true)
		ctx, cancel := context.WithTimeout(r.ctx, 10*time.Second)
		res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x"})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		id := res.Deliveries[0].ID
		if d := r.delivery(id); d.Sending.IsZero() || d.Attempts != 1 || !strings.Contains(d.Reason, "outcome unknown") {
			t.Fatalf("an interrupted send keeps its mark: %+v", d)
		}
		if rec, err := in.Recover(r.ctx); err != nil || rec != (inbox.Recovery{}) {
			t.Fatalf("Recover before OutcomeRetry = %+v, %v; want nothing: the send may still be in flight", rec, err)
		}
		time.Sleep(2 * time.Minute)
		if rec, err := in.Recover(r.ctx); err != nil || rec != (inbox.Recovery{Deferred: 1}) {
			t.Fatalf("Recover, provider cannot tell = %+v, %v; want 1 deferred", rec, err)
		}
		if d := r.delivery(id); d.Sending.IsZero() {
			t.Fatal("a deferred delivery keeps its mark")
		}
		finder.err = nil
		if rec, err := in.Recover(r.ctx); err != nil || rec != (inbox.Recovery{NotSent: 1}) {
			t.Fatalf("Recover, provider never had it = %+v, %v; want 1 not sent", rec, err)
		}
		d := r.delivery(id)
		if d.Status.Current != status.Failed || !d.Sending.IsZero() || !strings.Contains(d.Reason, "not sent") {
			t.Fatalf("S1: never accepted: %+v, want failed with the reason", d)
		}
		if fake.Attempts() != 1 || len(fake.Sent()) != 0 {
			t.Fatalf("attempts %d, sent %d: never sent again", fake.Attempts(), len(fake.Sent()))
		}
	})
}

// flakyFinder is a fake whose Find fails with err while it is set.
type flakyFinder struct {
	*channeltest.Fake
	err error
}

func (f *flakyFinder) Find(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
	if f.err != nil {
		return channel.Receipt{}, f.err
	}
	return f.Fake.Find(ctx, m)
}

// Recover leaves alone a delivery its own Inbox is sending, however long
// the provider takes; another instance takes a mark older than
// Options.OutcomeRetry for an interrupted send (bound the provider calls
// below it), and the late end of the send changes nothing then.
func TestRecoverSkipsSendsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, inbox.Options{}, nil)
		fake := r.fakes[channel.SMS]
		fake.Hang(true)
		open := func() *inbox.Inbox {
			in, err := inbox.New(r.store, inbox.Options{Now: time.Now, Directory: r.dir, Channels: r.reg, OutcomeRetry: time.Minute,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = in.Close() })
			return in
		}
		in := open()
		th := r.thread(contactT("ana"))
		ctx, cancel := context.WithCancel(r.ctx)
		defer cancel()
		done := make(chan inbox.SendResult, 1)
		go func() {
			res, _ := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x"})
			done <- res
		}()
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if rec, err := in.Recover(r.ctx); err != nil || rec != (inbox.Recovery{}) {
			t.Fatalf("Recover during its own send = %+v, %v; want nothing", rec, err)
		}
		if rec, err := open().Recover(r.ctx); err != nil || rec != (inbox.Recovery{NotSent: 1}) {
			t.Fatalf("Recover of another instance = %+v, %v; want 1 not sent (the provider never accepted it)", rec, err)
		}
		cancel()
		res := <-done
		d := r.delivery(res.Deliveries[0].ID)
		if d.Status.Current != status.Failed || !d.Sending.IsZero() || !strings.Contains(d.Reason, "not sent") {
			t.Fatalf("after the send ended: %+v, want Recover's verdict kept", d)
		}
	})
}

// S2, S3 (issue 12): on two instances, a status report that carries the
// delivery's reference reaches one while the other still holds the send's
// outcome (the store refused it): the report gives the delivery its
// provider ID at once, and the outcome written later completes it (its
// attempt, the mark cleared) without a second acceptance in the history.
func TestStatusByReferenceBeforeOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOutboxRig(t)
		a := o.open(o.reg, inbox.Options{})
		b := o.open(o.reg, inbox.Options{StatusWait: -1})
		id, _ := o.send(a)
		r := o.accepted()
		o.st.down.Store(false)
		for _, u := range o.fake.Flush() {
			if err := b.ApplyStatus(o.ctx, u); err != nil {
				t.Fatalf("S2: a status with the delivery's reference: %v", err)
			}
		}
		if d := o.delivery(id); d.ProviderID != r.ProviderID || d.Status.Current != status.Delivered || d.Sending.IsZero() {
			t.Fatalf("after the status report: %+v, want provider ID %s, delivered, still marked", d, r.ProviderID)
		}
		time.Sleep(5 * time.Second) // the first instance writes its outcome
		synctest.Wait()
		d := o.delivery(id)
		validated := 0
		for _, c := range d.Status.History {
			if c.Status == status.Validated {
				validated++
			}
		}
		if d.ProviderID != r.ProviderID || d.Status.Current != status.Delivered || !d.Sending.IsZero() || d.Attempts != 1 || validated != 1 {
			t.Fatalf("S3: after the outcome: %+v, want delivered, unmarked, 1 attempt, one acceptance", d)
		}
		o.accepted()
	})
}
