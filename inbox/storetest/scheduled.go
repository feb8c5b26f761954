package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

// sendEnv is an env whose inbox sends SMS through a fake channel (which
// has no clock: the inbox stamps what it reports with the env's).
func sendEnv(t *testing.T, ns func(*testing.T) store.Store, opts inbox.Options) (*env, *channeltest.Fake) {
	t.Helper()
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, fake, channel.Config{Identities: []channel.Identity{{ID: "studio", Address: "+33757000001", TwoWay: true}}}); err != nil {
		t.Fatal(err)
	}
	opts.Channels = reg
	e := newEnv(t, ns, opts)
	return e, fake
}

// testScheduledOnStore sends scheduled messages through a store and a
// dispatcher, so that every field the dispatcher reads back must have been
// stored: a group template is rendered per recipient when it goes (C5, C8),
// a marketing message due in the quiet hours is held (R8) while a
// transactional one goes, and a message anchored to a booking follows it
// with its rule (C15).
func testScheduledOnStore(t *testing.T, ns func(*testing.T) store.Store) {
	rules, err := recipient.NewRules(recipient.Options{QuietHours: recipient.QuietHours{Start: recipient.Clock{Hour: 21}, End: recipient.Clock{Hour: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	e, fake := sendEnv(t, ns, inbox.Options{Rules: rules})

	yoga := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "reminder", Text: "Bonjour {{ .Contact.FirstName }}, cours demain 9h"}, ptemplate.Options{})
	e.must(err)
	due := t0.Add(2 * time.Hour)
	_, err = e.in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Template: tpl, ScheduledFor: due})
	e.must(err)
	e.clock.Advance(2 * time.Hour)
	_, err = e.in.Dispatch(e.ctx, 0)
	e.must(err)
	var texts []string
	for _, s := range fake.Sent() {
		texts = append(texts, s.Message.Text)
	}
	slices.Sort(texts)
	if !slices.Equal(texts, []string{"Bonjour Hélène, cours demain 9h", "Bonjour Marc, cours demain 9h"}) {
		t.Fatalf("C5, C8: a scheduled group template went out as %q, want it rendered per recipient", texts)
	}

	// R8: due at 22:00, a marketing message waits for 08:00; a
	// transactional one goes.
	th := e.start(contactSubject(helene))
	night := time.Date(2026, 3, 2, 22, 0, 0, 0, time.UTC)
	promo, err := e.in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Promo -20 %", Marketing: true, ScheduledFor: night})
	e.must(err)
	code, err := e.in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre code : 1234", ScheduledFor: night})
	e.must(err)
	e.clock.Advance(night.Sub(e.clock.Now()))
	_, err = e.in.Dispatch(e.ctx, 0)
	e.must(err)
	held, err := e.store.Delivery(e.ctx, promo.Deliveries[0].ID)
	e.must(err)
	if held.Status.Current != status.Scheduled || !held.DueAt.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("R8: a marketing message due at 22:00 is %s, due %v; want held until 08:00", held.Status.Current, held.DueAt)
	}
	if d, _ := e.store.Delivery(e.ctx, code.Deliveries[0].ID); d.Status.Current != status.Validated {
		t.Fatalf("R8: a transactional message due at 22:00 is %s, want sent", d.Status.Current)
	}

	// C15: two days before check-in at 10:00, Paris time; the booking moves.
	paris, err := time.LoadLocation("Europe/Paris")
	e.must(err)
	ten := recipient.Clock{Hour: 10}
	res, err := e.in.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre séjour approche", Origin: inbox.Automatic,
		Anchor: &inbox.Anchor{Ref: "booking:77", At: time.Date(2026, 3, 20, 15, 0, 0, 0, paris), Offset: -48 * time.Hour, Clock: &ten, TimeZone: "Europe/Paris"}})
	e.must(err)
	n, err := e.in.MoveAnchor(e.ctx, "booking:77", time.Date(2026, 4, 10, 15, 0, 0, 0, paris))
	e.must(err)
	moved, err := e.store.Delivery(e.ctx, res.Deliveries[0].ID)
	e.must(err)
	want := time.Date(2026, 4, 8, 10, 0, 0, 0, paris)
	if n != 1 || !moved.DueAt.Equal(want) {
		t.Fatalf("C15: the booking moved to 10 April: %d moved, due %v, want %v (two days before at 10:00)", n, moved.DueAt.In(paris), want)
	}
	// C8, C15: the message says when it is due now, and has no SentAt
	// until it goes; then SentAt is when it went
	m, err := e.in.Message(e.ctx, res.Message.ID)
	e.must(err)
	if !m.ScheduledFor.Equal(want) || !m.SentAt.IsZero() {
		t.Fatalf("C15: the moved message is scheduled for %v, sent at %v; want %v and not sent", m.ScheduledFor, m.SentAt, want)
	}
	went := want.Add(3 * time.Minute)
	e.clock.Advance(went.Sub(e.clock.Now()))
	_, err = e.in.Dispatch(e.ctx, 0)
	e.must(err)
	m, err = e.in.Message(e.ctx, res.Message.ID)
	e.must(err)
	if !m.SentAt.Equal(went) || !m.ScheduledFor.Equal(want) {
		t.Fatalf("C8: after dispatch the message was sent at %v, scheduled for %v; want %v, %v", m.SentAt, m.ScheduledFor, went, want)
	}
	if d, _ := e.store.Delivery(e.ctx, res.Deliveries[0].ID); d.Status.Current != status.Validated || d.Text != "Votre séjour approche" {
		t.Fatalf("C8: the anchored delivery is %s with text %q", d.Status.Current, d.Text)
	}
}
