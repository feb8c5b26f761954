package storetest

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// testM5PerDirection: inbound messages are deduplicated among themselves
// (M5); outbound messages and deliveries are another namespace. An inbound
// email carrying the Message-ID of one of our outbound emails (a mail
// client's "redirect" keeps it) is a new message, not a duplicate.
func testM5PerDirection(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	const mid = "<20260302.abc@parley.example>"
	out, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID,
		Message:    inbox.Message{Kind: channel.Email, Subject: "Votre séjour", Text: "Bonjour"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Email, ProviderID: mid, Status: status.Record{Current: status.Validated}}}})
	e.must(err)

	redirect := channel.Inbound{Kind: channel.Email, From: helene.Email, Subject: "Fwd: Votre séjour", Text: "Voir plus bas", ProviderID: mid, ReceivedAt: t0}
	in, err := e.in.ReceiveMessage(e.ctx, redirect)
	if err != nil {
		t.Fatalf("M5: an inbound email with an outbound Message-ID is refused: %v", err)
	}
	if in.ID == out.ID || in.Direction != inbox.Inbound || in.ProviderID != mid {
		t.Fatalf("M5: the inbound message is %+v, want a new inbound message", in)
	}
	again, err := e.in.ReceiveMessage(e.ctx, redirect)
	e.must(err)
	if again.ID != in.ID {
		t.Fatalf("M5: the same inbound webhook twice stored %s and %s", in.ID, again.ID)
	}
	if got := e.thread(th.ID); got.Messages != 2 || got.Unread != 1 {
		t.Fatalf("M5: thread holds %d messages (%d unread), want 2 (1)", got.Messages, got.Unread)
	}
	if m, err := e.store.MessageByProviderID(e.ctx, mid); err != nil || m.ID != in.ID {
		t.Fatalf("M5: MessageByProviderID = %s, %v; want the inbound message %s", m.ID, err, in.ID)
	}
	if d, err := e.store.DeliveryByProviderID(e.ctx, mid); err != nil || d.ID != ds[0].ID {
		t.Fatalf("M5: DeliveryByProviderID = %s, %v; want the delivery %s", d.ID, err, ds[0].ID)
	}
	e.must(e.in.ApplyStatus(e.ctx, channel.StatusUpdate{Kind: channel.Email, ProviderID: mid, Status: status.Delivered}))
	if d, _ := e.store.Delivery(e.ctx, ds[0].ID); d.Status.Current != status.Delivered {
		t.Fatalf("M5: the status of the outbound email went to %s", d.Status.Current)
	}

	// the outbound namespace still refuses its own duplicates
	_, _, err = e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.Email, Subject: "s", Text: "again"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Email, ProviderID: mid}}})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("M5: a second delivery with provider ID %s: err = %v, want ErrDuplicate", mid, err)
	}
	cur, err := e.store.Delivery(e.ctx, ds[0].ID)
	e.must(err)
	_, other, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "sms"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone}}})
	e.must(err)
	moved := other[0]
	moved.ProviderID = cur.ProviderID
	if err := e.store.WriteDelivery(e.ctx, moved); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("M5: WriteDelivery with another delivery's provider ID: err = %v, want ErrDuplicate", err)
	}

	// and an outbound delivery may carry an inbound message's provider ID
	sms, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "hello", ProviderID: "SM-shared"})
	e.must(err)
	moved.ProviderID = "SM-shared"
	if err := e.store.WriteDelivery(e.ctx, moved); err != nil {
		t.Fatalf("M5: a delivery with an inbound message's provider ID: %v", err)
	}
	if m, err := e.store.MessageByProviderID(e.ctx, "SM-shared"); err != nil || m.ID != sms.ID {
		t.Fatalf("M5: MessageByProviderID after the delivery took it = %s, %v", m.ID, err)
	}
	if m, err := e.store.MessageByProviderID(e.ctx, "SM-shared-not"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("M5: unknown provider ID found %s, err %v", m.ID, err)
	}
}

// testTruncated: an inbound message whose provider payload held more than
// the parser could read is stored with Truncated set, so a UI can say the
// text is incomplete (M1).
func testTruncated(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	cut, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: helene.Email, Subject: "Pièces jointes",
		Text: "Le début seulement", ProviderID: "<cut@mail>", Truncated: true})
	e.must(err)
	whole := e.receive(channel.SMS, helene.Phone, "complet")
	if !cut.Truncated {
		t.Fatal("M1: ReceiveMessage dropped Truncated")
	}
	_, err = e.in.MarkRead(e.ctx, cut.ThreadID) // a later write of the thread keeps it
	e.must(err)
	for id, want := range map[string]bool{cut.ID: true, whole.ID: false} {
		m, err := e.store.Message(e.ctx, id)
		e.must(err)
		if m.Truncated != want {
			t.Errorf("M1: stored message %s has Truncated %v, want %v", id, m.Truncated, want)
		}
	}
}
