package inbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// One clock: a fake clock set once, on the inbox, drives the WhatsApp
// service window (C10), quiet hours (R8), the typing TTL (T16) and the times
// of the fake channel's statuses and replies (S3). Neither the recipient
// rules nor the fakes are given a clock.
func TestOneClockDrivesEverything(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: t0} // a Monday, 09:00 UTC
	rules, err := recipient.NewRules(recipient.Options{QuietHours: recipient.QuietHours{
		Start: recipient.Clock{Hour: 21}, End: recipient.Clock{Hour: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	dir := memstore.NewDirectory()
	if err := dir.PutContact(ana); err != nil {
		t.Fatal(err)
	}
	reg := channel.NewRegistry()
	wa := channeltest.NewFake(channel.WhatsApp, channeltest.Options{})
	sms := channeltest.NewFake(channel.SMS, channeltest.Options{})
	for _, f := range []*channeltest.Fake{wa, sms} {
		if err := reg.Register(f.Kind(), f, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	in, err := inbox.New(memstore.New(), inbox.Options{Now: clk.Now, Rules: rules, Directory: dir, Channels: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []*channeltest.Fake{wa, sms} {
		f.OnStatus(func(u channel.StatusUpdate) {
			if err := in.ApplyStatus(ctx, u); err != nil {
				t.Error(err)
			}
		})
	}
	var th inbox.Thread
	wa.OnInbound(func(m channel.Inbound) {
		got, err := in.ReceiveMessage(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		th, _ = in.Thread(ctx, got.ThreadID)
	})

	// C10: the reply carries no time of its own; the inbox's clock opens
	// the window, and closes it 24 hours later
	wa.Reply(ana.Phone, "+33757000001", "Bonjour")
	if !th.LastWhatsAppAt.Equal(t0) {
		t.Fatalf("reply stamped %v, want the inbox's %v", th.LastWhatsAppAt, t0)
	}
	free := inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Votre chambre est prête"}
	clk.Set(t0.Add(23 * time.Hour))
	if p, err := in.Preflight(ctx, free); err != nil || p.Err() != nil {
		t.Fatalf("C10: 23 h after the reply the window is closed: %v %v", err, p.Err())
	}
	clk.Set(t0.Add(24 * time.Hour))
	if p, err := in.Preflight(ctx, free); err != nil || !errors.Is(p.Err(), channel.ErrWindowClosed) {
		t.Fatalf("C10: 24 h after the reply the window is open: %v %v", err, p.Err())
	}

	// T16: the typing indicator expires on the inbox's clock
	if _, err := in.MarkTyping(ctx, th.ID, "lea"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(inbox.DefaultTypingTTL - time.Second)
	if got := in.Typers(th.ID); len(got) != 1 {
		t.Fatalf("T16: typers before the TTL = %v", got)
	}
	clk.Advance(time.Second)
	if got := in.Typers(th.ID); len(got) != 0 {
		t.Fatalf("T16: typers after the TTL = %v", got)
	}

	// R8: marketing due at 23:00 on the inbox's clock is held until 08:00
	night := time.Date(2026, 3, 3, 23, 0, 0, 0, time.UTC)
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Spa -20 % ce week-end",
		Marketing: true, ScheduledFor: night})
	if err != nil {
		t.Fatal(err)
	}
	clk.Set(night)
	if _, err := in.Dispatch(ctx, 0); err != nil {
		t.Fatal(err)
	}
	d, err := in.Store().Delivery(ctx, res.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if morning := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC); d.Status.Current != status.Scheduled || !d.DueAt.Equal(morning) {
		t.Fatalf("R8: at 23:00 the delivery is %s due %v, want held until %v", d.Status.Current, d.DueAt, morning)
	}
	clk.Set(time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC))
	if n, err := in.Dispatch(ctx, 0); err != nil || n != 1 || len(sms.Sent()) != 1 {
		t.Fatalf("R8: at 08:00 dispatched %d (%v), sent %d", n, err, len(sms.Sent()))
	}

	// S3: the fake's statuses carry no time; the inbox stamps them on arrival
	clk.Advance(time.Minute)
	arrived := clk.Now()
	sms.Flush()
	d, err = in.Store().Delivery(ctx, res.Deliveries[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d.Status.Current != status.Delivered {
		t.Fatalf("S2: status %s after the webhooks", d.Status.Current)
	}
	for _, c := range d.Status.History {
		if (c.Status == status.Sent || c.Status == status.Delivered) && (!c.At.Equal(arrived) || !c.Arrived) {
			t.Errorf("S3: %s recorded at %v (arrived %v), want the inbox's %v", c.Status, c.At, c.Arrived, arrived)
		}
	}
}

// T2, T4, M6: a receive reads the clock once. The message received without
// a provider time is created and received at that reading, the thread it
// starts is created then, and the thread moves to it; a later receive into
// the thread reads the clock again.
func TestReceiveReadsTheClockOnce(t *testing.T) {
	ctx := context.Background()
	var reads int
	now := t0
	tick := func() time.Time { // every reading a microsecond later
		reads++
		now = now.Add(time.Microsecond)
		return now
	}
	dir := memstore.NewDirectory()
	if err := dir.PutContact(ana); err != nil {
		t.Fatal(err)
	}
	in, err := inbox.New(memstore.New(), inbox.Options{Now: tick, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	for i, pid := range []string{"SM1", "SM2"} {
		before := reads
		m, err := in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: ana.Phone, Text: "Bonjour", ProviderID: pid})
		if err != nil {
			t.Fatal(err)
		}
		if n := reads - before; i == 1 && n != 1 {
			t.Errorf("a receive into an existing thread read the clock %d times, want 1", n)
		}
		if !m.SentAt.Equal(m.CreatedAt) {
			t.Errorf("receive %d: SentAt %v, CreatedAt %v: want one reading", i, m.SentAt, m.CreatedAt)
		}
		if !m.CreatedAt.After(prev) {
			t.Errorf("receive %d: CreatedAt %v not after the previous receive's %v", i, m.CreatedAt, prev)
		}
		prev = m.CreatedAt
		th, err := in.Thread(ctx, m.ThreadID)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 && !th.CreatedAt.Equal(m.CreatedAt) {
			t.Errorf("thread started by the message: CreatedAt %v, the message's %v", th.CreatedAt, m.CreatedAt)
		}
		if !th.SortTime.Equal(m.SentAt) || !th.LastMessageAt.Equal(m.SentAt) {
			t.Errorf("receive %d: thread SortTime %v, LastMessageAt %v; want the message's %v", i, th.SortTime, th.LastMessageAt, m.SentAt)
		}
	}
}
