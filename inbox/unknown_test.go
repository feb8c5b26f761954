package inbox_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/status"
)

// S4: a status update racing the write of its own send's outcome (the
// provider's callback came before the delivery got its provider ID) is
// applied once the delivery has it, within Options.StatusWait; a status for
// a provider ID Parley never sent is acknowledged after the wait with
// channel.ErrUnknownMessage and reported, and the next updates of that ID
// are answered without waiting again. Time is the bubble's (synctest).
func TestUnknownStatusWaitsThenGivesUp_S4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := memstore.New()
		const wait = 4 * time.Second
		in, err := inbox.New(s, inbox.Options{StatusWait: wait, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer in.Close()
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		sub := in.Subscribe(subCtx)
		ds := recordPendingSMS(t, ctx, in, sub)

		// the callback arrives first; the send's outcome is written 3 s later
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			done <- in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-race", Status: status.Delivered})
		}()
		time.Sleep(3 * time.Second)
		d, err := s.Delivery(ctx, ds[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		d.ProviderID = "SM-race"
		d.Status.Apply(status.Change{Status: status.Validated, At: time.Now()})
		if err := s.WriteDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("S4: a status racing its send's outcome: %v", err)
		}
		if got, _ := s.Delivery(ctx, d.ID); got.Status.Current != status.Delivered {
			t.Fatalf("S4: delivery is %s after the raced status, want delivered", got.Status.Current)
		}
		if ev := <-sub.C(); ev.Type != inbox.EventStatusChanged || ev.ProviderID != "SM-race" {
			t.Fatalf("S4: event %+v, want status-changed", ev)
		}
		if waited := time.Since(start); waited >= wait {
			t.Fatalf("S4: applied after %v, not within the status wait %v", waited, wait)
		}

		// a message sent outside Parley: given up after the wait, reported
		start = time.Now()
		err = in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.WhatsApp, ProviderID: "wamid.outside", Recipient: "+33687654321", Status: status.Delivered})
		if !errors.Is(err, channel.ErrUnknownMessage) || errors.Is(err, channel.ErrInvalidMessage) {
			t.Fatalf("S4: unknown provider ID: err = %v, want ErrUnknownMessage", err)
		}
		if waited := time.Since(start); waited != wait {
			t.Fatalf("S4: gave up after %v, want the status wait %v", waited, wait)
		}
		ev := <-sub.C()
		if ev.Type != inbox.EventUnknownStatus || ev.ProviderID != "wamid.outside" || ev.Status != status.Delivered ||
			ev.Kind != channel.WhatsApp || ev.Address != "+33687654321" {
			t.Fatalf("S4: event %+v, want unknown-status for wamid.outside", ev)
		}
		// its next status (read) is answered without waiting again
		start = time.Now()
		err = in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.WhatsApp, ProviderID: "wamid.outside", Status: status.Read})
		if !errors.Is(err, channel.ErrUnknownMessage) || time.Since(start) != 0 {
			t.Fatalf("S4: a known-unknown ID: err = %v after %v, want ErrUnknownMessage at once", err, time.Since(start))
		}

		// a context that ends while waiting gives its error: retryable
		cctx, stop := context.WithTimeout(ctx, time.Second)
		defer stop()
		if err := in.ApplyStatus(cctx, channel.StatusUpdate{ProviderID: "SM-other", Status: status.Sent}); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("S4: ended context while waiting: err = %v", err)
		}
	})
}

// S4: with a negative StatusWait an unknown provider ID is given up at once.
func TestUnknownStatusNoWait_S4(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		in, err := inbox.New(memstore.New(), inbox.Options{StatusWait: -1, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		err = in.ApplyStatus(context.Background(), channel.StatusUpdate{ProviderID: "nope", Status: status.Sent})
		if !errors.Is(err, channel.ErrUnknownMessage) || time.Since(start) != 0 {
			t.Fatalf("err = %v after %v, want ErrUnknownMessage at once", err, time.Since(start))
		}
	})
}

// quiet is a logger that drops everything.
var quiet = slog.New(slog.DiscardHandler)

// recordPendingSMS starts a thread with +33612345678, records one outbound
// SMS to it with a pending delivery, reads the two events this publishes
// from sub (thread started, message sent) and returns the deliveries.
func recordPendingSMS(t *testing.T, ctx context.Context, in *inbox.Inbox, sub *inbox.Subscription) []inbox.Delivery {
	t.Helper()
	th, err := in.StartWithAddress(ctx, channel.SMS, "+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	_, ds, err := in.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "hi"},
		Deliveries: []inbox.Delivery{{Address: "+33612345678", Status: status.Record{Current: status.Pending}}}})
	if err != nil {
		t.Fatal(err)
	}
	<-sub.C() // thread started
	<-sub.C() // message sent
	return ds
}
