package readme_test

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	ptemplate "github.com/parleyhq/parley/template"
)

// A studio: members and a smartlist in the studio's own records, one SMS
// number, a message to the smartlist and the replies it gets.
func Example_studio() {
	ctx := context.Background()

	// The studio's members and smartlists stay in its database; the inbox
	// finds them through a Directory (an in-memory one here).
	dir := memstore.NewDirectory()
	sms := recipient.NewKindSet(channel.SMS) // marketing consent
	members := []recipient.Contact{
		{ID: "m1", FirstName: "Hélène", LastName: "Dupont", Phone: "+33612345678", Consent: sms},
		{ID: "m2", FirstName: "Marc", LastName: "Martin", Phone: "+33687654321", Consent: sms},
		{ID: "m3", FirstName: "Zoé", LastName: "Lefèvre", Email: "zoe@example.fr"},
	}
	for _, m := range members {
		if err := dir.PutContact(m); err != nil {
			panic(err)
		}
	}
	dir.PutAudience(inbox.AudienceInfo{ID: "yoga", Name: "Yoga regulars", Members: members})

	// One SMS number. A fake channel here; twilio.New in production, with
	// twilio.NewHandler feeding ib.Receive and ib.ApplyStatus.
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
	channels := channel.NewRegistry()
	err := channels.Register(channel.SMS, fake, channel.Config{Identities: []channel.Identity{
		{ID: "studio", Address: "+33757000001", TwoWay: true}}})
	if err != nil {
		panic(err)
	}
	ib, err := inbox.New(memstore.New(), inbox.Options{Directory: dir, Channels: channels})
	if err != nil {
		panic(err)
	}
	fake.OnStatus(func(u channel.StatusUpdate) { _ = ib.ApplyStatus(ctx, u) })
	fake.OnInbound(func(in channel.Inbound) {
		m, err := ib.ReceiveMessage(ctx, in)
		if err != nil {
			panic(err)
		}
		th, _ := ib.Thread(ctx, m.ThreadID)
		fmt.Printf("%s replied %q: their own thread, %d unread\n", th.DisplayName(), m.Text, th.Unread)
	})

	// A message to the smartlist from a template: the composer's preflight
	// (who gets it, what each one reads), then the send.
	yoga, _ := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: "yoga"})
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{
		Text: "Hi {{ .Contact.FirstName }}, yoga moves to 19:00 tonight."}, ptemplate.Options{})
	if err != nil {
		panic(err)
	}
	draft := inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Template: tpl}
	pre, _ := ib.Preflight(ctx, draft)
	for _, r := range pre.Recipients {
		if r.Selected {
			fmt.Printf("%s gets %q\n", r.ContactID, r.Text)
		} else {
			fmt.Printf("%s is left out: %v\n", r.ContactID, r.Verdict.Err())
		}
	}
	res, err := ib.Send(ctx, draft)
	if err != nil {
		panic(err)
	}
	fake.Flush() // the provider's status webhooks
	msg, _ := ib.Message(ctx, res.Message.ID)
	fmt.Println("statuses:", msg.Counts)

	// Members reply: each reply lands in the member's own thread, unread,
	// and a STOP opts the member out.
	fake.Reply("+33687654321", "+33757000001", "See you there!")
	fake.Reply("+33612345678", "+33757000001", "STOP")
	counters, _ := ib.Counters(ctx)
	fmt.Println("threads needing attention:", counters.Attention)
	sel, _ := ib.Selection(ctx, draft)
	fmt.Println("the next message to the smartlist goes to:", sel.Selected())
	// Output:
	// m1 gets "Hi Hélène, yoga moves to 19:00 tonight."
	// m2 gets "Hi Marc, yoga moves to 19:00 tonight."
	// m3 is left out: recipient: no sms address
	// statuses: delivered=2
	// Marc Martin replied "See you there!": their own thread, 1 unread
	// Hélène Dupont replied "STOP": their own thread, 1 unread
	// threads needing attention: 2
	// the next message to the smartlist goes to: [m2]
}
