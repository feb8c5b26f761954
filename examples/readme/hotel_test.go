package readme_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

// A hotel: a guest with a booking writes on WhatsApp; the front desk
// answers inside the 24-hour service window, uses an approved template
// outside it, and schedules an SMS two days before check-in.
func Example_hotel() {
	ctx := context.Background()
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Date(2026, 3, 20, 9, 0, 0, 0, paris) // the inbox's one clock
	checkIn := time.Date(2026, 3, 30, 15, 0, 0, 0, paris)

	// The PMS keeps guests and bookings; the inbox finds guests through a
	// Directory and takes the booking's values with each send.
	dir := memstore.NewDirectory()
	guest := recipient.Contact{ID: "g-42", FirstName: "Hélène", LastName: "Martin", Phone: "+33612345678"}
	if err := dir.PutContact(guest); err != nil {
		panic(err)
	}
	booking := ptemplate.Values{ptemplate.ScopeBooking: map[string]any{"Reference": "BK-1042", "Room": "12"}}

	// WhatsApp and SMS: fakes here; whatsapp.New and twilio.New in production.
	wa := channeltest.NewFake(channel.WhatsApp, channeltest.Options{})
	sms := channeltest.NewFake(channel.SMS, channeltest.Options{})
	channels := channel.NewRegistry()
	for _, f := range []*channeltest.Fake{wa, sms} {
		err := channels.Register(f.Kind(), f, channel.Config{Identities: []channel.Identity{
			{ID: "front-desk", Address: "+33140000000", TwoWay: true}}})
		if err != nil {
			panic(err)
		}
	}
	ib, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: channels,
		Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}

	// The guest writes on WhatsApp; the front desk answers within 24 hours.
	in, _ := ib.ReceiveMessage(ctx, wa.Reply(guest.Phone, "+33140000000", "Can I leave my bags before check-in?"))
	thread := in.ThreadID
	now = now.Add(20 * time.Minute)
	res, err := ib.Send(ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: thread, Text: "Of course, the desk is open from 7:00."})
	if err != nil {
		panic(err)
	}
	fmt.Println("free-text reply inside the window:", res.Deliveries[0].Status.Current)

	// A day later the window is closed: free text is refused, an approved
	// template goes (C10).
	now = now.Add(25 * time.Hour)
	_, err = ib.Send(ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: thread, Text: "Your room is ready!"})
	fmt.Println("free text a day later, window closed:", errors.Is(err, channel.ErrWindowClosed))
	ready := &ptemplate.WhatsAppTemplate{Name: "room_ready", Language: "en", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Hello {{1}}, room {{2}} is ready for you.",
		Params: []string{"Contact.FirstName", "Booking.Room"}}
	res, err = ib.Send(ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: thread, WhatsApp: ready, Values: booking})
	if err != nil {
		panic(err)
	}
	fmt.Printf("approved template instead: the guest reads %q\n", res.Deliveries[0].Text)

	// An SMS two days before check-in at 10:00, hotel time (C15); the
	// dispatcher sends it when it is due.
	res, err = ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: thread, Origin: inbox.Automatic,
		Text: "We look forward to welcoming you! Reply with your arrival time.",
		Anchor: &inbox.Anchor{Ref: "booking:BK-1042", At: checkIn, Offset: -48 * time.Hour,
			Clock: &recipient.Clock{Hour: 10}, TimeZone: "Europe/Paris"}})
	if err != nil {
		panic(err)
	}
	fmt.Println("pre-arrival SMS due", res.Message.ScheduledFor.In(paris).Format("Mon 2 Jan 15:04"))
	now = res.Message.ScheduledFor
	n, _ := ib.Dispatch(ctx, 0)
	fmt.Printf("dispatched %d: %q to %s\n", n, sms.Sent()[0].Message.Text, sms.Sent()[0].Message.To)
	// Output:
	// free-text reply inside the window: validated
	// free text a day later, window closed: true
	// approved template instead: the guest reads "Hello Hélène, room 12 is ready for you."
	// pre-arrival SMS due Sat 28 Mar 10:00
	// dispatched 1: "We look forward to welcoming you! Reply with your arrival time." to +33612345678
}
