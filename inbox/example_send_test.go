package inbox_test

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

// A marketing SMS to a saved audience: the composer's selection, with the
// STOP a member sent applied (R3, R5), a preflight that renders the
// template for each recipient with its segments and cost (C5, C6, C13,
// C14), then the send to exactly those selected (M2).
func ExampleInbox_Preflight() {
	ctx := context.Background()
	dir := memstore.NewDirectory()
	sms := recipient.NewKindSet(channel.SMS)
	members := []recipient.Contact{
		{ID: "ana", FirstName: "Ana", Phone: "+33612345678", Consent: sms},
		{ID: "ben", FirstName: "Ben", Phone: "+33687654321"}, // no marketing consent: a warning
		{ID: "cleo", FirstName: "Cléo", Email: "cleo@example.fr", Consent: sms},
		{ID: "dan", FirstName: "Dan", Phone: "+33611223344", Consent: sms},
	}
	for _, c := range members {
		_ = dir.PutContact(c)
	}
	dir.PutAudience(inbox.AudienceInfo{ID: "yoga", Name: "Yoga regulars", Members: members})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.SMS, channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"}), channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}})
	ib, _ := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg,
		Prices: &inbox.Prices{Currency: "EUR", SMS: map[string]int64{"33": 45_000}}}) // 0.045 € a segment in France

	_ = ib.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: "+33611223344", Text: "STOP", ProviderID: "in-1"}) // Dan
	yoga, _ := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: "yoga"})
	tpl, _ := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "promo",
		Text: "Hi {{ .Contact.FirstName }}, -20 % on yoga this week with code YOGA20!"}, ptemplate.Options{})
	draft := inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Template: tpl, Marketing: true, Broadcast: "spring"}

	sel, _ := ib.Selection(ctx, draft)
	fmt.Println("selected:", sel.Selected())
	for _, is := range sel.NotSelectable() {
		fmt.Printf("not selectable: %s (%v)\n", is.ContactID, is.Reason)
	}
	draft.Selection = sel
	pre, _ := ib.Preflight(ctx, draft)
	for _, r := range pre.Recipients {
		if r.Selected {
			fmt.Printf("%-4s %-8s %q %d segment(s) %.3f €\n", r.ContactID, r.Verdict.Level, r.Text, r.Segments, float64(r.Cost.Micros)/1e6)
		}
	}
	fmt.Printf("can send: %v, %d segments, %.3f €\n", pre.Err() == nil, pre.Segments, float64(pre.Cost.Micros)/1e6)

	res, _ := ib.Send(ctx, draft)
	for _, d := range res.Deliveries {
		fmt.Println("sent to", d.ContactID, d.Address, d.Status.Current)
	}
	fmt.Printf("the audience thread shows %q, %d recipients: %v\n", res.Message.Text, res.Message.Recipients, res.Message.Counts)
	// Output:
	// selected: [ana ben]
	// not selectable: cleo (recipient: no sms address)
	// not selectable: dan (recipient: opted out of sms)
	// ana  eligible "Hi Ana, -20 % on yoga this week with code YOGA20!" 1 segment(s) 0.045 €
	// ben  warning  "Hi Ben, -20 % on yoga this week with code YOGA20!" 1 segment(s) 0.045 €
	// can send: true, 2 segments, 0.090 €
	// sent to ana +33612345678 validated
	// sent to ben +33687654321 validated
	// the audience thread shows "Hi {First name}, -20 % on yoga this week with code YOGA20!", 2 recipients: validated=2
}

// An approved WhatsApp template through the inbox (C10): outside the
// 24-hour service window free text is refused, and the template goes with
// its parameters rendered for the recipient.
func ExampleInbox_Send_whatsAppTemplate() {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	dir := memstore.NewDirectory()
	_ = dir.PutContact(recipient.Contact{ID: "guest-12", FirstName: "Hélène", Phone: "+33612345678"})
	fake := channeltest.NewFake(channel.WhatsApp, channeltest.Options{IDPrefix: "wamid."})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.WhatsApp, fake, channel.Config{Identities: []channel.Identity{{ID: "hotel", Address: "106540352242922", TwoWay: true}}})
	ib, _ := inbox.New(memstore.New(), inbox.Options{Now: func() time.Time { return now }, Directory: dir, Channels: reg,
		Account: map[string]any{"Name": "Hôtel du Parc"}})
	th, _ := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "guest-12"})

	_, err := ib.Send(ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Your room is ready"})
	fmt.Println("free text:", errors.Is(err, channel.ErrWindowClosed))

	arrival := &ptemplate.WhatsAppTemplate{Name: "room_ready", Language: "en", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Hello {{1}}, your room at {{2}} is ready.",
		Params: []string{"Contact.FirstName", "Account.Name"}}
	res, err := ib.Send(ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: arrival})
	fmt.Println("template:", err, res.Message.Template)
	ref := fake.Sent()[0].Message.Template
	fmt.Printf("provider gets %s (%s) with %q\n", ref.Name, ref.Language, ref.Params)
	fmt.Printf("the thread shows %q\n", res.Message.Text)
	// Output:
	// free text: true
	// template: <nil> whatsapp:room_ready:en
	// provider gets room_ready (en) with ["Hélène" "Hôtel du Parc"]
	// the thread shows "Hello Hélène, your room at Hôtel du Parc is ready."
}

// The app reports that a push was opened: the notification's data carries
// the delivery ID (channel.Message.Reference, "parley_delivery_id" with
// channel/fcm), and the delivery becomes read (S1, S2).
func ExampleInbox_MarkPushOpened() {
	ctx := context.Background()
	dir := memstore.NewDirectory()
	_ = dir.PutContact(recipient.Contact{ID: "mia", FirstName: "Mia", PushTokens: []string{"token-of-mias-phone"}})
	fake := channeltest.NewFake(channel.Push, channeltest.Options{IDPrefix: "projects/studio/messages/"})
	reg := channel.NewRegistry()
	_ = reg.Register(channel.Push, fake, channel.Config{})
	ib, _ := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: reg})
	th, _ := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "mia"})
	res, _ := ib.Send(ctx, inbox.Draft{Kind: channel.Push, ThreadID: th.ID, Subject: "Studio Lumière", Text: "Pilates moves to 19:00"})
	fmt.Println("sent:", res.Deliveries[0].Status.Current)

	deliveryID := fake.Sent()[0].Message.Reference // in the app: data["parley_delivery_id"]
	d, err := ib.MarkPushOpened(ctx, deliveryID, time.Time{})
	fmt.Println("opened:", d.Status.Current, err)
	// Output:
	// sent: validated
	// opened: read <nil>
}
