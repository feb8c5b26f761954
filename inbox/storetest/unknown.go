package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// missWatcher is a store that closes missed the first time a delivery is
// looked up by a provider ID it does not hold.
type missWatcher struct {
	store.Store
	once   sync.Once
	missed chan struct{}
}

func (s *missWatcher) DeliveryByProviderID(ctx context.Context, pid string) (store.Delivery, error) {
	d, err := s.Store.DeliveryByProviderID(ctx, pid)
	if errors.Is(err, store.ErrNotFound) {
		s.once.Do(func() { close(s.missed) })
	}
	return d, err
}

// testUnknownStatus: a status update whose provider ID no delivery has yet
// (S4) waits for the write of its send's outcome and is applied; one for a
// message Parley never sent is acknowledged after Options.StatusWait with
// an error matching channel.ErrUnknownMessage, never a retryable one, and
// reported as EventUnknownStatus.
func testUnknownStatus(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	w := &missWatcher{Store: e.store, missed: make(chan struct{})}
	in, err := inbox.New(w, inbox.Options{Now: e.clock.Now, NewID: ids("u"), Directory: e.dir, StatusWait: time.Minute, Logger: quietLogger})
	e.must(err)
	t.Cleanup(func() { _ = in.Close() })
	th := e.start(contactSubject(helene))
	_, ds, err := in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "bonjour"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone, Status: status.Record{Current: status.Pending}}}})
	e.must(err)
	done := make(chan error, 1)
	go func() {
		done <- in.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-in-flight", Status: status.Delivered, At: t0})
	}()
	select {
	case <-w.missed:
	case err := <-done:
		t.Fatalf("S4: a status for an ID not recorded yet returned at once: %v", err)
	}
	// the send's outcome is written after the status came
	d, err := e.store.Delivery(e.ctx, ds[0].ID)
	e.must(err)
	d.ProviderID = "SM-in-flight"
	_, err = d.Status.Apply(status.Change{Status: status.Validated, At: t0})
	e.must(err)
	e.must(e.store.WriteDelivery(e.ctx, d))
	if err := <-done; err != nil {
		t.Fatalf("S4: the status that raced its send's outcome: %v", err)
	}
	if got, err := e.store.Delivery(e.ctx, d.ID); err != nil || got.Status.Current != status.Delivered {
		t.Fatalf("S4: delivery %s (%v), want delivered", got.Status.Current, err)
	}

	// a message sent outside Parley
	quick, err := inbox.New(e.store, inbox.Options{Now: e.clock.Now, NewID: ids("q"), StatusWait: 30 * time.Millisecond, Logger: quietLogger})
	e.must(err)
	t.Cleanup(func() { _ = quick.Close() })
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	sub := quick.Subscribe(ctx)
	for range 2 { // its sent and read statuses; the second does not wait again
		err = quick.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.WhatsApp, ProviderID: "wamid.outside", Status: status.Read})
		if !errors.Is(err, channel.ErrUnknownMessage) || errors.Is(err, channel.ErrInvalidMessage) {
			t.Fatalf("S4: a status Parley never sent: err = %v, want ErrUnknownMessage", err)
		}
		if ev := <-sub.C(); ev.Type != inbox.EventUnknownStatus || ev.ProviderID != "wamid.outside" || ev.Status != status.Read {
			t.Fatalf("S4: event %+v, want unknown-status", ev)
		}
	}
}
