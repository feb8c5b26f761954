package main

import (
	"context"
	"fmt"
	"io"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// pushDemo sends one push to the members of the smartlist who have the
// studio's app (C2: a push needs a subject; R2: members without a device are
// left out), then Hélène opens it in the app (S1: read). A real host
// registers channel/fcm's Sender for channel.Push; a fake stands in for it
// here.
func pushDemo(ctx context.Context, out io.Writer, ib *inbox.Inbox, reg *channel.Registry, dir *memstore.Directory,
	clk *clock, members []recipient.Contact) error {
	fmt.Fprintln(out, "\n== 7. A push to members who have the app")
	fake := channeltest.NewFake(channel.Push, channeltest.Options{IDPrefix: "projects/studio-lumiere/messages/",
		Statuses: []status.Status{}}) // push providers report nothing after accepting
	asFCM := channel.SenderFunc(func(ctx context.Context, m *channel.Message) (channel.Receipt, error) {
		r, err := fake.Send(ctx, m)
		r.Status = status.Sent // what channel/fcm reports when FCM accepts a push
		return r, err
	})
	if err := reg.Register(channel.Push, asFCM, channel.Config{}); err != nil {
		return err
	}
	// Hélène and Zoé installed the app; their device tokens reach the directory.
	withApp := append([]recipient.Contact(nil), members...)
	for i, c := range withApp {
		if c.ID == "m-helene" || c.ID == "m-zoe" {
			withApp[i].PushTokens = []string{"fcm-token-" + c.ID}
			if err := dir.PutContact(withApp[i]); err != nil {
				return err
			}
		}
	}
	dir.PutAudience(inbox.AudienceInfo{ID: "sl-yoga", Name: "Yoga regulars", Members: withApp})

	yoga, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: "sl-yoga"})
	if err != nil {
		return err
	}
	res, err := ib.Send(ctx, inbox.Draft{Kind: channel.Push, ThreadID: yoga.ID, Subject: "Studio Lumière",
		Text: "Sunday yoga: two spots left!", Author: inbox.Author{Agent: "lea"}})
	if err != nil {
		return err
	}
	for _, r := range res.Preflight.Recipients {
		if !r.Selected {
			fmt.Fprintf(out, "no push for %s (%v)\n", r.ContactID, r.Verdict.Err())
		}
	}
	m, err := ib.Message(ctx, res.Message.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "push to the %d members who have the app: %v\n", m.Recipients, m.Counts)
	// The app reports the notification opened, with the delivery ID of its data.
	sent := fake.Sent()
	if _, err := ib.MarkPushOpened(ctx, sent[0].Message.Reference, clk.now()); err != nil {
		return err
	}
	m, err = ib.Message(ctx, res.Message.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "after %s opened it: %v\n", sent[0].Message.Metadata[channel.MetaContactID], m.Counts)
	return nil
}
