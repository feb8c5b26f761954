package inbox_test

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// exampleInbox returns an inbox on memstore with one contact, a fake SMS
// channel and a fixed clock.
func exampleInbox() (*inbox.Inbox, *channeltest.Fake) {
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := memstore.NewDirectory()
	_ = dir.PutContact(recipient.Contact{ID: "helene", FirstName: "Hélène", LastName: "Dupont", Phone: "+33612345678"})
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, fake, channel.Config{})
	n := 0
	ib, _ := inbox.New(memstore.New(), inbox.Options{Now: clock, Directory: dir, Channels: reg,
		NewID: func() string { n++; return fmt.Sprintf("id%d", n) }})
	return ib, fake
}

// An inbound SMS lands in the sender's thread, unread (T2, T5); a webhook
// delivered twice is stored once (M5).
func ExampleInbox_Receive() {
	ib, _ := exampleInbox()
	ctx := context.Background()
	in := channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Bonjour !", ProviderID: "SM-in-1"}
	_ = ib.Receive(ctx, in)
	_ = ib.Receive(ctx, in)
	page, _ := ib.Threads(ctx, inbox.ThreadQuery{Status: inbox.Unread})
	th := page.Threads[0]
	fmt.Println(th.Snapshot.FirstName, th.Messages, "message,", th.Unread, "unread")
	// Output: Hélène 1 message, 1 unread
}

// The thread list with filters, search and keyset pages (T3, T11, T13).
func ExampleInbox_Threads() {
	ib, _ := exampleInbox()
	ctx := context.Background()
	_ = ib.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Une place pour le yoga ?", ProviderID: "a"})
	_ = ib.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: "+33700000001", Text: "Wrong number", ProviderID: "b"})
	for _, q := range []string{"helene", "06 12 34 56 78", "yoga"} {
		page, _ := ib.Threads(ctx, inbox.ThreadQuery{Search: q})
		fmt.Printf("%-15q %d thread(s): %s\n", q, len(page.Threads), page.Threads[0].Snapshot.Phone)
	}
	page, _ := ib.Threads(ctx, inbox.ThreadQuery{Limit: 1})
	next, _ := ib.Threads(ctx, inbox.ThreadQuery{Limit: 1, Cursor: page.Next})
	fmt.Println(page.Threads[0].Snapshot.Phone, "then", next.Threads[0].Snapshot.Phone)
	// Output:
	// "helene"        1 thread(s): +33612345678
	// "06 12 34 56 78" 1 thread(s): +33612345678
	// "yoga"          1 thread(s): +33612345678
	// +33612345678 then +33700000001
}

// Sending: preflight, send, then delivery statuses from webhooks in any
// order (C14, S2).
func ExampleInbox_Send() {
	ib, fake := exampleInbox()
	ctx := context.Background()
	th, _ := ib.StartWithAddress(ctx, channel.SMS, "+33612345678")
	draft := inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre cours commence à 18:00."}
	pre, _ := ib.Preflight(ctx, draft)
	fmt.Println("segments:", pre.SMS.Segments, "can send:", pre.Err() == nil)
	res, _ := ib.Send(ctx, draft)
	fake.OnStatus(func(u channel.StatusUpdate) { _ = ib.ApplyStatus(ctx, u) })
	fake.FlushShuffled(1, true)
	page, _ := ib.Deliveries(ctx, inbox.DeliveryQuery{MessageID: res.Message.ID, Limit: 1})
	d := page.Deliveries
	fmt.Println("delivery:", d[0].Status.Current, d[0].Status.Current == status.Delivered)
	_, err := ib.Send(ctx, inbox.Draft{Kind: channel.Email, ThreadID: th.ID, Subject: "x", Text: "y"})
	fmt.Println(err)
	// Output:
	// segments: 1 can send: true
	// delivery: delivered true
	// inbox: cannot send: channel: email not registered
	// recipient: no email address
}

// Events for a live UI (T20).
func ExampleInbox_Subscribe() {
	ib, _ := exampleInbox()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := ib.Subscribe(ctx)
	_ = ib.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: "+33612345678", Text: "Hi", ProviderID: "x"})
	fmt.Println((<-sub.C()).Type, (<-sub.C()).Type)
	// Output: thread-started message-received
}

// A restart. The provider did not answer before the send's context ended
// (a crash would do the same), so the delivery was left marked as sending:
// it may have been accepted. Recover, called when the host starts, asks the
// provider (the fake is a channel.Finder) instead of sending it again; this
// one never got the message, so the delivery fails with the reason.
func ExampleInbox_Recover() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := memstore.New()
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Now: clock})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, fake, channel.Config{})
	before, _ := inbox.New(s, inbox.Options{Now: clock, Channels: reg})
	th, _ := before.StartWithAddress(ctx, channel.SMS, "+33612345678")
	fake.Hang(true)
	sendCtx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	res, _ := before.Send(sendCtx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "See you at 6pm"})
	cancel()
	id := res.Deliveries[0].ID
	d, _ := s.Delivery(ctx, id)
	fmt.Println("marked as sending:", !d.Sending.IsZero())

	now = now.Add(time.Hour) // the host starts again
	after, _ := inbox.New(s, inbox.Options{Now: clock, Channels: reg})
	rec, _ := after.Recover(ctx)
	d, _ = s.Delivery(ctx, id)
	fmt.Printf("%+v\n", rec)
	fmt.Println(d.Status.Current, "| marked:", !d.Sending.IsZero(), "| sent again:", fake.Attempts() > 1)
	// Output:
	// marked as sending: true
	// {Accepted:0 NotSent:1 Unknown:0 Deferred:0}
	// failed | marked: false | sent again: false
}
