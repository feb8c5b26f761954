package inbox_test

import (
	"context"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/status"
)

// S4: the recipient and reference of a status update are cleaned where
// they are read, for an update whose provider ID no delivery has: a
// reference that is not clean text names no delivery, and the
// unknown-status event carries the recipient as clean text.
func TestStatusRefsCleaned_S4(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	in, err := inbox.New(s, inbox.Options{Logger: quiet, StatusWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	sub := in.Subscribe(subCtx)
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
	// the delivery's ID with a byte that is not text: no delivery has it
	err = in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: "SM-1", Status: status.Delivered,
		Reference: ds[0].ID + "\xff", Recipient: "+3361234\xff5678"})
	if !errors.Is(err, channel.ErrUnknownMessage) {
		t.Fatalf("ApplyStatus = %v, want ErrUnknownMessage", err)
	}
	d, err := s.Delivery(ctx, ds[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.ProviderID != "" || d.Status.Current != status.Pending {
		t.Fatalf("delivery %+v took the update of another reference", d)
	}
	e := <-sub.C()
	if e.Type != inbox.EventUnknownStatus || !utf8.ValidString(e.Address) || e.Address == "" {
		t.Fatalf("event %v %q, want an unknown status with a clean address", e.Type, e.Address)
	}
}
