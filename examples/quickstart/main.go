package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/channel/sms"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// clock is the demo's clock: it moves only when the story says so.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func run(ctx context.Context, out io.Writer) error {
	clk := &clock{t: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)}

	fmt.Fprintln(out, "== 1. Channels")
	reg := channel.NewRegistry()
	smsFake := channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	emailFake := channeltest.NewFake(channel.Email, channeltest.Options{IDPrefix: "EM"})
	if err := reg.Register(channel.SMS, smsFake, channel.Config{Identities: []channel.Identity{
		{ID: "studio", Address: "+33757000001", TwoWay: true, Default: true}}}); err != nil {
		return err
	}
	if err := reg.Register(channel.Email, emailFake, channel.Config{Identities: []channel.Identity{
		{ID: "hello", Address: "hello@studio-lumiere.fr", Name: "Studio Lumière"}}}); err != nil {
		return err
	}
	fmt.Fprintln(out, "registered:", reg.Kinds())
	if _, err := reg.Sender(channel.WhatsApp); errors.Is(err, channel.ErrNotRegistered) {
		fmt.Fprintf(out, "a WhatsApp send is refused (C1): %v\n", err)
	}

	fmt.Fprintln(out, "\n== 2. SMS length (C6)")
	for _, body := range []string{
		"Hi Marc, your Pilates class moves to 19:00 tonight. See you there!",
		"Salut Zoé 🧘 ton cours commence dans 1 h",
		"“Yoga” at 9 – don’t be late…",
	} {
		m := sms.Measure(body)
		fmt.Fprintf(out, "%-5s %2d units, %d segment(s), %3d left: %q\n", m.Encoding, m.Units, m.Segments, m.Remaining, body)
		if m.SmartGSM7 {
			norm, reps := sms.Normalize(body)
			fmt.Fprintf(out, "      smart encoding replaces %d characters -> %s: %q\n", len(reps), sms.Measure(norm).Encoding, norm)
		}
	}

	fmt.Fprintln(out, "\n== 3. Statuses merged out of order (S2, S3)")
	webhooks := []struct {
		s   status.Status
		sec int // the provider's event time, seconds after 08:00
	}{{status.Delivered, 3}, {status.Validated, 1}, {status.Sent, 2}, {status.Delivered, 3}}
	var rec status.Record
	for _, w := range webhooks {
		ok, _ := rec.Apply(status.Change{Status: w.s, At: clk.now().Add(time.Duration(w.sec) * time.Second), Raw: w.s.String()})
		fmt.Fprintf(out, "webhook %-9s -> kept %-9s (new event: %v)\n", w.s, rec.Current, ok)
	}
	var timeline []string
	for _, h := range rec.History {
		timeline = append(timeline, h.Status.String()+" "+h.At.Format("15:04:05"))
	}
	fmt.Fprintln(out, "history:", strings.Join(timeline, " → "))

	fmt.Fprintln(out, "\n== 4. Templates (C5)")
	cat := ptemplate.NewCatalog()
	tpl, err := ptemplate.Parse(cat, ptemplate.Source{Name: "gift",
		Text: "Hi {{ .Contact.FirstName }}, your gift card of {{ .GiftCard.Value }} expires soon."}, ptemplate.Options{})
	if err != nil {
		return err
	}
	var problems *ptemplate.CheckError
	if errors.As(tpl.Check(ptemplate.ScopeEvent, ptemplate.ScopeAccount, ptemplate.ScopeAgent), &problems) {
		for _, p := range problems.Problems {
			fmt.Fprintf(out, "to an event: %s at %d:%d cannot be filled (%s)\n", p.Variable, p.Line, p.Column, p.Kind)
		}
	}

	fmt.Fprintln(out, "\n== 5. Smartlist selection (R2, R3)")
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	if err != nil {
		return err
	}
	helene := recipient.Contact{ID: "m-helene", FirstName: "Hélène", LastName: "Dupont", Phone: "+33612345678", Email: "helene@example.fr",
		Consent: recipient.NewKindSet(channel.SMS, channel.Email)}
	marc := recipient.Contact{ID: "m-marc", FirstName: "Marc", LastName: "Martin", Phone: "+33687654321", Email: "marc@example.fr"}
	zoe := recipient.Contact{ID: "m-zoe", FirstName: "Zoé", LastName: "Lefèvre", Email: "zoe@example.fr",
		Consent: recipient.NewKindSet(channel.SMS, channel.Email)}
	ines := recipient.Contact{ID: "m-ines", FirstName: "Inès", LastName: "Moreau", Phone: "+33611223344",
		Consent: recipient.NewKindSet(channel.SMS)}
	members := []recipient.Contact{helene, marc, zoe, ines}
	sel, err := rules.Audience(members, recipient.Target{Kind: channel.SMS, Purpose: recipient.Marketing})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "selected:", sel.Selected())
	for _, is := range sel.NotSelectable() {
		fmt.Fprintf(out, "not selectable: %s (%v)\n", is.ContactID, is.Reason)
	}
	for _, is := range sel.Warnings() {
		fmt.Fprintf(out, "warning: %s (%v)\n", is.ContactID, is.Reason)
	}

	fmt.Fprintln(out, "\n== 6. A day in the inbox")
	dir := memstore.NewDirectory()
	for _, c := range members {
		if err := dir.PutContact(c); err != nil {
			return err
		}
	}
	dir.PutAudience(inbox.AudienceInfo{ID: "sl-yoga", Name: "Yoga regulars", Members: members})
	dir.PutEvent(inbox.EventInfo{ID: "ev-pilates", Name: "Pilates 18:00", Start: clk.now().Add(10 * time.Hour),
		Attendees: []recipient.Attendee{{Contact: marc, Group: recipient.Booked}, {Contact: zoe, Group: recipient.Waitlisted}}})
	st, closeStore, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	ids := 0
	ib, err := inbox.New(st, inbox.Options{Now: clk.now, Directory: dir, Channels: reg, Rules: rules,
		Concurrency: 1, NewID: func() string { ids++; return fmt.Sprintf("id%04d", ids) }})
	if err != nil {
		return err
	}
	defer ib.Close()
	smsFake.OnInbound(func(in channel.Inbound) {
		if err := ib.Receive(ctx, in); err != nil {
			log.Print(err)
		}
	})
	smsFake.OnStatus(func(u channel.StatusUpdate) { _ = ib.ApplyStatus(ctx, u) })

	// A smartlist message through the sending pipeline: preflight first (C14).
	yoga, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectAudience, ID: "sl-yoga"})
	if err != nil {
		return err
	}
	draft := inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Marketing: true, Broadcast: "sunday-yoga",
		Text: "New yoga class on Sunday 10:00!", Author: inbox.Author{Agent: "lea"}}
	pre, err := ib.Preflight(ctx, draft)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "preflight: %d selected, %d segment(s), can send: %v\n", pre.Selected, pre.SMS.Segments, pre.Err() == nil)
	for _, r := range pre.Recipients {
		if r.Verdict.Level != recipient.Eligible {
			fmt.Fprintf(out, "   %-8s %-8s %v\n", r.ContactID, r.Verdict.Level, errors.Join(append(r.Verdict.Reasons, r.Verdict.Info...)...))
		}
	}
	sent, err := ib.Send(ctx, draft)
	if err != nil {
		return err
	}
	smsFake.FlushShuffled(7, true) // webhooks arrive shuffled and twice (S2)
	group, _ := ib.Message(ctx, sent.Message.ID)
	fmt.Fprintf(out, "smartlist message to %d recipients: %v\n", group.Recipients, group.Counts)
	dp, _ := ib.Deliveries(ctx, inbox.DeliveryQuery{MessageID: group.ID, Limit: 10})
	for _, d := range dp.Deliveries {
		var hist []string
		for _, h := range d.Status.History {
			hist = append(hist, h.Status.String())
		}
		fmt.Fprintf(out, "   %-8s %-9s history %v\n", d.ContactID, d.Status.Current, hist)
	}

	// A session message with a template, to the booked attendees (C5).
	pilates, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectEvent, ID: "ev-pilates"})
	if err != nil {
		return err
	}
	reminder, err := ptemplate.Parse(cat, ptemplate.Source{Name: "class-reminder",
		Text: "Hi {{ .Contact.FirstName }}, see you at Pilates at 18:00!"}, ptemplate.Options{})
	if err != nil {
		return err
	}
	if _, err := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: pilates.ID, Template: reminder,
		Groups: []recipient.Group{recipient.Booked}}); err != nil {
		return err
	}
	last := smsFake.Sent()
	fmt.Fprintf(out, "session message rendered for the booked attendee: %q\n", last[len(last)-1].Message.Text)
	// What exactly did we send Marc? One call: each delivery to his number
	// keeps the text he got and its status (M1, M7).
	toMarc, err := ib.Sent(ctx, inbox.SentQuery{Phone: marc.Phone})
	if err != nil {
		return err
	}
	for _, d := range toMarc.Deliveries {
		fmt.Fprintf(out, "   sent to Marc: %q (%s, %d segment(s))\n", d.Text, d.Status.Current, d.SMS.Segments)
	}
	_, err = ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: pilates.ID, Template: tpl, Groups: []recipient.Group{recipient.Booked}})
	if errors.As(err, &problems) {
		var vars []string
		for _, p := range problems.Problems {
			vars = append(vars, p.Variable)
		}
		fmt.Fprintf(out, "the gift-card template is refused for the session: a session message cannot fill %s (C5)\n", strings.Join(vars, ", "))
	}

	// Schedule a message for tomorrow, then cancel it (C8).
	later, err := ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Reminder: yoga tomorrow",
		ScheduledFor: clk.now().Add(24 * time.Hour)})
	if err != nil {
		return err
	}
	n, err := ib.CancelScheduled(ctx, later.Message.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "a reminder scheduled for %s, then cancelled before it went: %d deliveries cancelled\n",
		later.Message.ScheduledFor.Format("Mon 15:04"), n)

	// Members reply: replies land in their own threads (M4).
	clk.advance(10 * time.Minute)
	smsFake.Reply(helene.Phone, "+33757000001", "Super, je viens !")
	clk.advance(5 * time.Minute)
	smsFake.Reply(marc.Phone, "+33757000001", "Is there parking near the studio?")
	clk.advance(5 * time.Minute)
	smsFake.Reply("+33700000099", "+33757000001", "Who is this?")
	printList(ctx, out, ib, "after the replies", inbox.ThreadQuery{})
	fmt.Fprintln(out, "   (a group thread shows its message with each variable by its label; each member got their own text)")

	marcT, _ := ib.StartWithAddress(ctx, channel.SMS, marc.Phone)
	heleneT, _ := ib.StartWithAddress(ctx, channel.SMS, helene.Phone)
	unknownT, _ := ib.StartWithAddress(ctx, channel.SMS, "+33700000099")
	if _, err := ib.Mute(ctx, heleneT.ID, clk.now().Add(8*time.Hour)); err != nil {
		return err
	}
	if _, err := ib.SetFavourite(ctx, pilates.ID, true); err != nil {
		return err
	}
	if _, err := ib.Archive(ctx, unknownT.ID); err != nil {
		return err
	}
	if _, err := ib.Assign(ctx, marcT.ID, "lea", "lea"); err != nil {
		return err
	}
	clk.advance(30 * time.Minute)
	smsFake.Reply(helene.Phone, "+33757000001", "Et je peux amener une amie ?") // muted: stays in place
	printList(ctx, out, ib, "after mute (Hélène), favourite (Pilates), archive (unknown number) and a new reply", inbox.ThreadQuery{})

	c, err := ib.Counters(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "attention badge: %d (Hélène's thread is muted)\n", c.Attention)
	for _, q := range []string{"helene", "06 87 65 43 21", "parking"} {
		page, err := ib.Threads(ctx, inbox.ThreadQuery{Search: q})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "search %-16q -> %s\n", q, names(page.Threads))
	}

	// Marc is answered: his thread is read and moves up (T4, T5).
	clk.advance(2 * time.Minute)
	if _, _, err := ib.RecordOutbound(ctx, inbox.Outgoing{ThreadID: marcT.ID,
		Message: inbox.Message{Kind: channel.SMS, Text: "Yes, free parking behind the studio.", Author: inbox.Author{Agent: "lea"}}}); err != nil {
		return err
	}
	// Inès stops SMS (R5).
	clk.advance(time.Minute)
	smsFake.Reply(ines.Phone, "+33757000001", "Arrêt")
	stopped, _ := ib.OptedOut(ctx, channel.SMS, ines.Phone)
	printList(ctx, out, ib, "after answering Marc", inbox.ThreadQuery{})
	fmt.Fprintf(out, "Inès opted out of SMS after replying \"Arrêt\": %v\n", stopped)

	return pushDemo(ctx, out, ib, reg, dir, clk, members)
}

// openStore returns memstore, or PostgreSQL when PARLEY_POSTGRES_DSN is set
// (a fresh tenant per run, so the demo's IDs never collide with an earlier
// run's).
func openStore(ctx context.Context) (inbox.Store, func(), error) {
	dsn := os.Getenv("PARLEY_POSTGRES_DSN")
	if dsn == "" {
		return memstore.New(), func() {}, nil
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, nil, err
	}
	s, err := pgstore.Open(ctx, pool, fmt.Sprintf("quickstart-%d", time.Now().UnixNano()))
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return s, pool.Close, nil
}

func names(ts []inbox.Thread) string {
	var b []string
	for _, t := range ts {
		b = append(b, t.DisplayName())
	}
	return "[" + strings.Join(b, ", ") + "]"
}

func printList(ctx context.Context, out io.Writer, ib *inbox.Inbox, title string, q inbox.ThreadQuery) {
	page, err := ib.Threads(ctx, q)
	if err != nil {
		fmt.Fprintln(out, "list:", err)
		return
	}
	fmt.Fprintf(out, "-- list %s:\n", title)
	for _, t := range page.Threads {
		flags := ""
		if t.Favourite {
			flags += " ★"
		}
		if t.Muted {
			flags += " muted"
		}
		if t.Assignee != "" {
			flags += " @" + t.Assignee
		}
		last := "  -  "
		if !t.LastMessageAt.IsZero() {
			last = t.LastMessageAt.Format("15:04")
		}
		fmt.Fprintf(out, "   %-22s unread %d  last %s%s  %q\n", t.DisplayName(), t.Unread, last, flags, t.Preview)
	}
}
