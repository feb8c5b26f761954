package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the venue's time zone works on machines without a zoneinfo database

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
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

// venueZone is the hotel's IANA time zone: scheduling rules and the times
// the story prints are in it.
const venueZone = "Europe/Paris"

// hotelNumber is the hotel's phone number, on SMS and WhatsApp.
const hotelNumber = "+33757000001"

// clock is the story's clock: it moves only when the story says so. The
// inbox reads it from its own goroutines, hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// guest is a PMS guest with one booking.
type guest struct {
	contact recipient.Contact
	booking inbox.Booking
}

// pms is the host's property-management system: it owns guests and
// bookings; the inbox only finds them through the directory and the
// template data function.
type pms struct {
	loc    *time.Location
	dir    *memstore.Directory
	guests map[string]*guest
}

// add records a guest and shows their booking in the details pane (T19).
func (p *pms) add(g *guest) error {
	if err := p.dir.PutContact(g.contact); err != nil {
		return err
	}
	p.guests[g.contact.ID] = g
	p.publish(g)
	return nil
}

func (p *pms) publish(g *guest) {
	p.dir.PutDetails(inbox.Subject{Kind: inbox.SubjectContact, ID: g.contact.ID}, inbox.Details{
		Contact: &inbox.ContactDetails{ID: g.contact.ID, Name: g.contact.Name(), Phone: g.contact.Phone,
			Email: g.contact.Email, Bookings: []inbox.Booking{g.booking}}})
}

// move changes a booking's dates, as a receptionist does in the PMS.
func (p *pms) move(id string, checkIn, checkOut time.Time) {
	g := p.guests[id]
	g.booking.CheckIn, g.booking.CheckOut = checkIn, checkOut
	p.publish(g)
}

// templateData gives templates the guest's contact fields and booking
// (scopes contact and booking, C5).
func (p *pms) templateData(_ context.Context, c recipient.Contact, _ inbox.Subject) (ptemplate.Resolver, error) {
	v := ptemplate.Values{ptemplate.ScopeContact: map[string]any{
		"ID": c.ID, "FirstName": c.FirstName, "LastName": c.LastName, "FullName": c.Name(), "Email": c.Email, "Phone": c.Phone}}
	if g, ok := p.guests[c.ID]; ok {
		b := g.booking
		v[ptemplate.ScopeBooking] = map[string]any{"Reference": b.ID, "Room": b.Room, "Status": b.Status,
			"CheckIn": b.CheckIn.In(p.loc).Format("Mon 2 January, 15:04"), "CheckOut": b.CheckOut.In(p.loc).Format("Mon 2 January, 15:04")}
	}
	return v, nil
}

// story holds what every section of the story uses.
type story struct {
	out    io.Writer
	clk    *clock
	loc    *time.Location
	ib     *inbox.Inbox
	hotel  *pms
	wa     *channeltest.Fake
	sms    *channeltest.Fake
	airbnb *channeltest.Fake
}

func run(ctx context.Context, out io.Writer) error {
	loc, err := time.LoadLocation(venueZone)
	if err != nil {
		return err
	}
	clk := &clock{t: time.Date(2026, 3, 20, 9, 0, 0, 0, loc)}
	st, closeStore, err := openStore(ctx)
	if err != nil {
		return err
	}
	defer closeStore()
	s := &story{out: out, clk: clk, loc: loc}
	if err := s.setUp(ctx, st); err != nil {
		return err
	}
	defer s.ib.Close()
	for _, step := range []func(context.Context) error{s.whatsAppWindow, s.airbnbFirstMessage, s.costs, s.relativeSchedule, s.statuses, s.threadList} {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// openStore returns memstore, or PostgreSQL when PARLEY_POSTGRES_DSN is set
// (a fresh tenant per run, so the story's IDs never collide with an
// earlier run's).
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
	st, err := pgstore.Open(ctx, pool, fmt.Sprintf("hotel-%d", time.Now().UnixNano()))
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	return st, pool.Close, nil
}

// setUp builds the PMS, registers the fake channels and creates the inbox
// on st.
func (s *story) setUp(ctx context.Context, st inbox.Store) error {
	s.say("== 1. The hotel, its guests and its channels")
	s.hotel = &pms{loc: s.loc, dir: memstore.NewDirectory(), guests: map[string]*guest{}}
	at := func(d time.Month, day, h int) time.Time { return time.Date(2026, d, day, h, 0, 0, 0, s.loc) }
	for _, g := range []*guest{
		{contact: recipient.Contact{ID: "g-helene", FirstName: "Hélène", LastName: "Martin", Phone: "+33612345678",
			Email: "helene.martin@example.fr", Consent: recipient.NewKindSet(channel.WhatsApp, channel.SMS)},
			booking: inbox.Booking{ID: "BK-1042", Room: "12", Status: "booked", CheckIn: at(time.March, 30, 15), CheckOut: at(time.April, 2, 11)}},
		{contact: recipient.Contact{ID: "g-dan", FirstName: "Dan", LastName: "Walker", Phone: "+12015550123",
			AirbnbID: "abnb-7781", TimeZone: "America/New_York"},
			booking: inbox.Booking{ID: "BK-1043", Room: "4", Status: "booked", CheckIn: at(time.March, 27, 16), CheckOut: at(time.March, 29, 10)}},
	} {
		if err := s.hotel.add(g); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "guest %-13s booking %s, room %-2s  %s → %s\n", g.contact.Name(), g.booking.ID, g.booking.Room,
			s.day(g.booking.CheckIn), s.day(g.booking.CheckOut))
	}

	reg := channel.NewRegistry()
	s.wa = channeltest.NewFake(channel.WhatsApp, channeltest.Options{IDPrefix: "wamid.",
		Statuses: []status.Status{status.Sent, status.Delivered, status.Read}})
	s.sms = channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})
	s.airbnb = channeltest.NewFake(channel.Airbnb, channeltest.Options{IDPrefix: "AB"})
	for _, c := range []struct {
		f  *channeltest.Fake
		id channel.Identity
	}{
		{s.wa, channel.Identity{ID: "front-desk", Address: hotelNumber, Name: "Hôtel des Tilleuls", TwoWay: true}},
		{s.sms, channel.Identity{ID: "front-desk", Address: hotelNumber, TwoWay: true}},
		{s.airbnb, channel.Identity{ID: "listing-55", Address: "listing-55", TwoWay: true}},
	} {
		if err := reg.Register(c.f.Kind(), c.f, channel.Config{Identities: []channel.Identity{c.id}}); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.out, "channels:", reg.Kinds())

	// The price table (C13), in millionths of a euro, by calling code.
	prices := &inbox.Prices{Currency: "EUR",
		SMS: map[string]int64{"33": 72_000, "1": 9_000, "*": 95_000},
		WhatsApp: map[ptemplate.Category]map[string]int64{
			ptemplate.CategoryUtility:   {"33": 30_000, "1": 4_000, "*": 35_000},
			ptemplate.CategoryMarketing: {"33": 110_000, "1": 25_000, "*": 120_000},
		}}
	fmt.Fprintln(s.out, "prices: SMS 0.072 EUR per segment to +33, 0.009 to +1; WhatsApp templates to +33: utility 0.030, marketing 0.110")

	n := 0
	ib, err := inbox.New(st, inbox.Options{Now: s.clk.Now, Directory: s.hotel.dir, Channels: reg, Prices: prices,
		TemplateData: s.hotel.templateData, TemplateScopes: []ptemplate.Scope{ptemplate.ScopeBooking},
		NewID: func() string { n++; return fmt.Sprintf("id%04d", n) }})
	if err != nil {
		return err
	}
	s.ib = ib
	// The fakes play the providers: replies and status webhooks go to the
	// inbox, as the adapters' webhook handlers would send them.
	for _, f := range []*channeltest.Fake{s.wa, s.sms, s.airbnb} {
		f.OnInbound(func(in channel.Inbound) {
			if err := s.ib.Receive(ctx, in); err != nil {
				fmt.Fprintln(s.out, "receive:", err)
			}
		})
		f.OnStatus(func(u channel.StatusUpdate) {
			if err := s.ib.ApplyStatus(ctx, u); err != nil {
				fmt.Fprintln(s.out, "status:", err)
			}
		})
	}
	return nil
}

// whatsAppWindow: free text inside the 24-hour window, refused outside it,
// then an approved utility template (C10).
func (s *story) whatsAppWindow(ctx context.Context) error {
	s.say("\n== 2. WhatsApp and its 24-hour service window (C10)")
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-helene"})
	if err != nil {
		return err
	}
	s.inbound(s.wa, "+33612345678", "Bonjour! Can I leave my bags before check-in on the 30th?")

	s.clk.Set(s.clk.Now().Add(20 * time.Minute))
	reply := inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Of course, the luggage room is open from 7:00. See you soon!",
		Author: inbox.Author{Agent: "lea"}}
	if err := s.send(ctx, "free-text reply, 20 min after she wrote", reply); err != nil {
		return err
	}

	s.clk.Set(time.Date(2026, 3, 21, 10, 0, 0, 0, s.loc))
	late := inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Your room is confirmed for Monday.", Author: inbox.Author{Agent: "lea"}}
	s.preflight(ctx, "free text, 25 h after she wrote", late)
	_, err = s.ib.Send(ctx, late)
	fmt.Fprintf(s.out, "   send refused: %v\n", err)
	fmt.Fprintf(s.out, "   errors.Is(err, channel.ErrWindowClosed) = %v\n", errors.Is(err, channel.ErrWindowClosed))
	if !errors.Is(err, channel.ErrWindowClosed) {
		return fmt.Errorf("hotel: a free-text WhatsApp message outside the window was not refused: %v", err)
	}

	tpl := &ptemplate.WhatsAppTemplate{Name: "arrival_details", Language: "en", Category: ptemplate.CategoryUtility,
		State:  ptemplate.ApprovalApproved,
		Body:   "Hello {{1}}, room {{2}} is ready for you from {{3}}. Reply here if you need anything.",
		Params: []string{"Contact.FirstName", "Booking.Room", "Booking.CheckIn"}}
	if err := tpl.Validate(ptemplate.NewCatalog()); err != nil {
		return err
	}
	if err := s.send(ctx, "approved utility template "+tpl.Name, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: tpl,
		Author: inbox.Author{Agent: "lea"}}); err != nil {
		return err
	}
	last, err := lastSent(s.wa)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   Hélène reads: %q\n", last.Message.Text)
	return nil
}

// airbnbFirstMessage: only an automatic message may start the conversation; free text
// once the guest has written (C11).
func (s *story) airbnbFirstMessage(ctx context.Context) error {
	s.say("\n== 3. Airbnb: who may write first (C11)")
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-dan"})
	if err != nil {
		return err
	}
	manual := inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID, Text: "Hi Dan, anything we can do before you arrive?", Author: inbox.Author{Agent: "lea"}}
	s.preflight(ctx, "manual free text before Dan wrote", manual)
	_, err = s.ib.Send(ctx, manual)
	fmt.Fprintf(s.out, "   send refused: %v\n", err)
	fmt.Fprintf(s.out, "   errors.Is(err, recipient.ErrGuestNotWritten) = %v\n", errors.Is(err, recipient.ErrGuestNotWritten))
	if !errors.Is(err, recipient.ErrGuestNotWritten) {
		return fmt.Errorf("hotel: a manual first Airbnb message was not refused: %v", err)
	}
	welcome := inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID, Origin: inbox.Automatic,
		Text:   "Welcome to Hôtel des Tilleuls! Check-in is from 16:00; the door code comes the day before.",
		Author: inbox.Author{Automation: "airbnb-welcome"}}
	if err := s.send(ctx, "automatic welcome message", welcome); err != nil {
		return err
	}
	s.clk.Set(s.clk.Now().Add(45 * time.Minute))
	s.inbound(s.airbnb, "abnb-7781", "Thanks! Is there parking nearby?")
	s.clk.Set(s.clk.Now().Add(5 * time.Minute))
	return s.send(ctx, "manual free text after Dan wrote", inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID,
		Text: "Yes: free parking in the courtyard, gate code at check-in.", Author: inbox.Author{Agent: "lea"}})
}

// costs: the composer's cost estimate for drafts on each channel (C13).
func (s *story) costs(ctx context.Context) error {
	s.say("\n== 4. What would it cost? Preflight estimates (C13)")
	helene, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-helene"})
	if err != nil {
		return err
	}
	dan, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-dan"})
	if err != nil {
		return err
	}
	long := "Dear guest, breakfast is served from 7:00 to 10:30 in the garden room. Late check-out until 13:00 can be " +
		"booked at the desk for 20 EUR. Parking is free in the courtyard; the gate code is on your key card."
	promo := &ptemplate.WhatsAppTemplate{Name: "spring_offer", Language: "en", Category: ptemplate.CategoryMarketing,
		State: ptemplate.ApprovalApproved, Body: "Hello {{1}}, book your next stay before May and get 15% off.", Params: []string{"Contact.FirstName"}}
	reminder := &ptemplate.WhatsAppTemplate{Name: "checkout_reminder", Language: "en", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Hello {{1}}, check-out is at {{2}}. Have a safe trip!", Params: []string{"Contact.FirstName", "Booking.CheckOut"}}
	for _, c := range []struct {
		label string
		d     inbox.Draft
	}{
		{"SMS to Hélène (+33), short", inbox.Draft{Kind: channel.SMS, ThreadID: helene.ID, Text: "Your room 12 is ready."}},
		{"SMS to Hélène (+33), long", inbox.Draft{Kind: channel.SMS, ThreadID: helene.ID, Text: long}},
		{"SMS to Hélène (+33), emoji", inbox.Draft{Kind: channel.SMS, ThreadID: helene.ID, Text: "Your room is ready 🔑 see you soon!"}},
		{"SMS to Dan (+1), long", inbox.Draft{Kind: channel.SMS, ThreadID: dan.ID, Text: long}},
		{"WhatsApp utility template", inbox.Draft{Kind: channel.WhatsApp, ThreadID: helene.ID, WhatsApp: reminder}},
		{"WhatsApp marketing template", inbox.Draft{Kind: channel.WhatsApp, ThreadID: helene.ID, WhatsApp: promo, Marketing: true}},
		{"Airbnb reply to Dan", inbox.Draft{Kind: channel.Airbnb, ThreadID: dan.ID, Text: "See you on Friday!"}},
	} {
		s.preflight(ctx, c.label, c.d)
	}
	// Inside the window again, a reply is free.
	s.inbound(s.wa, "+33612345678", "Is breakfast included?")
	s.preflight(ctx, "WhatsApp free text, window open", inbox.Draft{Kind: channel.WhatsApp, ThreadID: helene.ID, Text: "Yes, from 7:00 to 10:30."})
	return nil
}

// relativeSchedule: "2 days before check-in at 10:00" in the venue's time
// zone, following the booking when it moves (C15, C8).
func (s *story) relativeSchedule(ctx context.Context) error {
	s.say("\n== 5. Scheduled relative to the booking (C15)")
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-helene"})
	if err != nil {
		return err
	}
	g := s.hotel.guests["g-helene"]
	ten := recipient.Clock{Hour: 10}
	ref := "booking:" + g.booking.ID
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "pre-arrival",
		Text: "Hôtel des Tilleuls: we look forward to your arrival on {{ .Booking.CheckIn }}. Reply with your arrival time, {{ .Contact.FirstName }}!"},
		ptemplate.Options{})
	if err != nil {
		return err
	}
	res, err := s.ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Origin: inbox.Automatic,
		Author: inbox.Author{Automation: "pre-arrival"}, Template: tpl,
		Anchor: &inbox.Anchor{Ref: ref, At: g.booking.CheckIn, Offset: -48 * time.Hour, Clock: &ten, TimeZone: venueZone}})
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "template %q, rendered for Hélène now: %q\n", tpl.Source().Text, res.Deliveries[0].Text)
	if len(res.Deliveries) != 1 {
		return fmt.Errorf("hotel: the reminder has %d deliveries, want 1", len(res.Deliveries))
	}
	fmt.Fprintf(s.out, "rule: 2 days before check-in at 10:00 %s, anchored to %s\n", venueZone, ref)
	fmt.Fprintf(s.out, "check-in %s → %s, due %s\n", s.stamp(g.booking.CheckIn), res.Deliveries[0].Status.Current,
		s.stamp(res.Deliveries[0].DueAt))
	s.say("   (Paris moves to summer time on 29 March: the message still goes at 10:00 local time)")

	// The guest moves her stay in the PMS; the hook tells the inbox.
	s.hotel.move(g.contact.ID, time.Date(2026, 4, 3, 15, 0, 0, 0, s.loc), time.Date(2026, 4, 6, 11, 0, 0, 0, s.loc))
	moved, err := s.ib.MoveAnchor(ctx, ref, g.booking.CheckIn)
	if err != nil {
		return err
	}
	page, err := s.ib.Deliveries(ctx, inbox.DeliveryQuery{MessageID: res.Message.ID, Limit: 10})
	if err != nil {
		return err
	}
	ds := page.Deliveries
	if len(ds) != 1 {
		return fmt.Errorf("hotel: the reminder has %d deliveries, want 1", len(ds))
	}
	fmt.Fprintf(s.out, "booking moved in the PMS: check-in %s → MoveAnchor moved %d message, due %s\n",
		s.stamp(g.booking.CheckIn), moved, s.stamp(ds[0].DueAt))

	for _, step := range []struct {
		at   time.Time
		note string
	}{{time.Date(2026, 3, 28, 10, 0, 0, 0, s.loc), "the old due time"}, {ds[0].DueAt, "the new due time"}} {
		s.clk.Set(step.at)
		n, err := s.ib.Dispatch(ctx, 0)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "dispatcher at %s, %s: %d sent\n", s.stamp(step.at), step.note, n)
	}
	last, err := lastSent(s.sms)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   %s to %s: %q\n", last.Receipt.ProviderID, last.Message.To, last.Message.Text)
	// rendered again when it went, with the booking as the PMS has it now;
	// the delivery keeps what went out, the message when
	page, err = s.ib.Deliveries(ctx, inbox.DeliveryQuery{MessageID: res.Message.ID, Limit: 10})
	if err != nil {
		return err
	}
	m, err := s.ib.Message(ctx, res.Message.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   stored: scheduled for %s, sent %s, %d segment(s): %q\n", s.stamp(m.ScheduledFor), s.stamp(m.SentAt),
		page.Deliveries[0].SMS.Segments, page.Deliveries[0].Text)
	return nil
}

// statuses: the providers' webhooks arrive shuffled and twice; each delivery
// keeps the highest status (S2) and every distinct event once, in the
// providers' event-time order (S3).
func (s *story) statuses(ctx context.Context) error {
	s.say("\n== 6. Delivery statuses, shuffled and duplicated (S2, S3)")
	s.clk.Set(s.clk.Now().Add(2 * time.Minute))
	s.sms.Flush()
	s.airbnb.Flush()
	s.wa.OnStatus(func(u channel.StatusUpdate) {
		d, err := s.ib.ApplyStatusUpdate(ctx, u)
		if err != nil {
			fmt.Fprintln(s.out, "status:", err)
			return
		}
		fmt.Fprintf(s.out, "webhook %-14s %-9s → keeps %s\n", u.ProviderID, u.Status, d.Status.Current)
	})
	s.say("WhatsApp status webhooks (sent, delivered, read for each message) arrive shuffled, each twice:")
	s.wa.FlushShuffled(7, true)
	sent, err := s.ib.Sent(ctx, inbox.SentQuery{Limit: 20})
	if err != nil {
		return err
	}
	ds := sent.Deliveries
	s.say("every delivery, newest first; the status is the highest seen, the history every event once, in event order:")
	for _, d := range ds {
		var hist []string
		for _, c := range d.Status.History {
			hist = append(hist, c.Status.String())
		}
		fmt.Fprintf(s.out, "   %-8s %-14s to %-13s %-9s history %s\n", d.Kind, d.ProviderID, d.Address, d.Status.Current, strings.Join(hist, " → "))
	}
	return nil
}

// threadList prints the inbox as the front desk sees it, and Hélène's
// details pane with her booking as the PMS now has it (T19).
func (s *story) threadList(ctx context.Context) error {
	s.say("\n== 7. The front desk's inbox")
	page, err := s.ib.Threads(ctx, inbox.ThreadQuery{})
	if err != nil {
		return err
	}
	for _, t := range page.Threads {
		fmt.Fprintf(s.out, "   %-13s %2d messages, %d unread, last %s  %q\n", t.DisplayName(),
			t.Messages, t.Unread, s.stamp(t.LastMessageAt), t.Preview)
	}
	th, err := s.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "g-helene"})
	if err != nil {
		return err
	}
	det, err := s.ib.Details(ctx, th.ID)
	if err != nil {
		return err
	}
	if det.Contact == nil {
		return errors.New("hotel: the details pane shows no contact")
	}
	for _, b := range det.Contact.Bookings {
		fmt.Fprintf(s.out, "details pane: %s, booking %s, room %s, %s → %s\n", det.Contact.Name, b.ID, b.Room, s.day(b.CheckIn), s.day(b.CheckOut))
	}
	return nil
}

// lastSent returns the last message a fake provider accepted.
func lastSent(f *channeltest.Fake) (channeltest.Sent, error) {
	sent := f.Sent()
	if len(sent) == 0 {
		return channeltest.Sent{}, fmt.Errorf("hotel: nothing was sent on %s", f.Kind())
	}
	return sent[len(sent)-1], nil
}

// inbound simulates a guest's message through a fake provider.
func (s *story) inbound(f *channeltest.Fake, from, text string) {
	fmt.Fprintf(s.out, "%s guest on %s: %q\n", s.clock(), f.Kind(), text)
	f.Reply(from, "", text)
}

// preflight prints what a composer would show for a draft: blocking
// problems, recipients' verdicts, SMS measurement and cost (C13, C14).
func (s *story) preflight(ctx context.Context, label string, d inbox.Draft) {
	p, err := s.ib.Preflight(ctx, d)
	if err != nil {
		fmt.Fprintf(s.out, "%s preflight %s: %v\n", s.clock(), label, err)
		return
	}
	verdict := "ok"
	if err := p.Err(); err != nil {
		verdict = "blocked"
	}
	line := fmt.Sprintf("%s preflight %-32s %-7s cost %s", s.clock(), label+":", verdict, money(p.Cost))
	if d.Kind == channel.SMS {
		line += fmt.Sprintf(" (%s, %d segment(s))", p.SMS.Encoding, p.SMS.Segments)
	}
	fmt.Fprintln(s.out, line)
}

// send preflights and sends a draft, and prints the result.
func (s *story) send(ctx context.Context, label string, d inbox.Draft) error {
	s.preflight(ctx, label, d)
	res, err := s.ib.Send(ctx, d)
	if err != nil {
		return fmt.Errorf("hotel: %s: %w", label, err)
	}
	for _, dl := range res.Deliveries {
		fmt.Fprintf(s.out, "   sent %s to %s: %s\n", dl.ProviderID, dl.Address, dl.Status.Current)
	}
	return nil
}

func (s *story) say(line string) { fmt.Fprintln(s.out, line) }

// clock prints the story's time of day in the venue's zone.
func (s *story) clock() string { return s.clk.Now().In(s.loc).Format("Mon 2 Jan 15:04") }

// stamp prints a time in the venue's zone and in UTC.
func (s *story) stamp(t time.Time) string {
	return t.In(s.loc).Format("Mon 2 Jan 15:04 MST") + " (" + t.UTC().Format("15:04") + " UTC)"
}

func (s *story) day(t time.Time) string { return t.In(s.loc).Format("Mon 2 Jan 15:04") }

// money prints a cost in its currency with three decimals.
func money(c channel.Cost) string {
	cur := c.Currency
	if cur == "" {
		cur = "EUR"
	}
	return fmt.Sprintf("%d.%03d %s", c.Micros/1_000_000, c.Micros%1_000_000/1_000, cur)
}
