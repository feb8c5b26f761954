// Command webinbox serves Parley's web inbox on localhost: two tenants, a
// yoga studio and a hotel, each with its own inbox on the in-memory store,
// fake SMS, email and WhatsApp channels, and a trickle of simulated guest
// replies and delivery webhooks so that a visitor sees the inbox live.
//
//	go run ./examples/webinbox                 # http://localhost:8080/studio/ and /hotel/
//	go run ./examples/webinbox -addr :9000 -lang fr
//	go run ./examples/webinbox -check          # start, use the API once, stop (CI)
//
// Each tenant is one inboxhttp.Handler mounted on the host's own mux. The
// agent is fixed here ("lea"); a real host's Agent function reads its
// session instead. Nothing leaves the machine: sends go to channeltest
// fakes, whose status webhooks the simulator replays every few seconds.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/inboxhttp"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	check := flag.Bool("check", false, "start on a free port, use the API once, print what it saw and exit")
	every := flag.Duration("every", 4*time.Second, "interval of simulated guest replies and delivery webhooks (0: none)")
	lang := flag.String("lang", "", "language of the web inbox: en or fr (default: the browser's)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *check {
		err = runCheck(ctx, os.Stdout)
	} else {
		err = serve(ctx, *addr, *every, *lang, os.Stdout)
	}
	if err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context, addr string, every time.Duration, lang string, out io.Writer) error {
	d, err := newDemo(time.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.mux, ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + ln.Addr().String()
	q := ""
	if lang != "" {
		q = "?lang=" + lang
	}
	fmt.Fprintf(out, "Parley web inbox\n  studio: %s/studio/%s\n  hotel:  %s/hotel/%s\n  API:    %s/studio/openapi.json\nCtrl-C stops.\n", base, q, base, q, base)
	if every > 0 {
		go d.simulate(ctx, every)
	}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		d.close()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// demo is the two tenants on one mux.
type demo struct {
	mux    *http.ServeMux
	studio *tenant
	hotel  *tenant
	now    func() time.Time
}

// tenant is one business: its inbox, its fake channels and its contacts.
type tenant struct {
	name     string
	ib       *inbox.Inbox
	dir      *memstore.Directory
	fakes    []*channeltest.Fake
	contacts []recipient.Contact
	handler  *inboxhttp.Handler
	mu       sync.Mutex
	rng      *rand.Rand
	replies  []string
}

func newDemo(now func() time.Time) (*demo, error) {
	d := &demo{mux: http.NewServeMux(), now: now}
	var err error
	if d.studio, err = newStudio(now); err != nil {
		return nil, err
	}
	if d.hotel, err = newHotel(now); err != nil {
		return nil, err
	}
	for _, t := range []*tenant{d.studio, d.hotel} {
		d.mux.Handle("/"+t.name+"/", http.StripPrefix("/"+t.name, t.handler))
	}
	d.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><meta charset="utf-8"><title>Parley demo</title>`+
			`<body style="font:16px system-ui;margin:40px"><h1>Parley web inbox</h1><ul>`+
			`<li><a href="/studio/">Studio Lumière</a> (<a href="/studio/?lang=fr">français</a>)</li>`+
			`<li><a href="/hotel/">Hôtel des Tilleuls</a> (<a href="/hotel/?lang=fr">français</a>)</li>`+
			`<li><a href="/studio/openapi.json">OpenAPI document</a></li></ul></body></html>`)
	})
	return d, nil
}

func (d *demo) close() {
	d.studio.ib.Close()
	d.hotel.ib.Close()
}

// newTenant builds an inbox with fake channels that replay their status
// webhooks into it, and its handler.
func newTenant(name string, now func() time.Time, dir *memstore.Directory, account string, templates []inboxhttp.Template, kinds map[channel.Kind][]channel.Identity) (*tenant, error) {
	t := &tenant{name: name, dir: dir, rng: rand.New(rand.NewPCG(uint64(len(name)), 7))}
	reg := channel.NewRegistry()
	var ib *inbox.Inbox
	for _, k := range []channel.Kind{channel.SMS, channel.Email, channel.WhatsApp} {
		ids, ok := kinds[k]
		if !ok {
			continue
		}
		f := channeltest.NewFake(k, channeltest.Options{IDPrefix: strings.ToUpper(k.String()[:2]),
			Statuses: []status.Status{status.Sent, status.Delivered}})
		f.OnStatus(func(u channel.StatusUpdate) { _ = ib.ApplyStatus(context.Background(), u) })
		if err := reg.Register(k, f, channel.Config{Identities: ids}); err != nil {
			return nil, err
		}
		t.fakes = append(t.fakes, f)
	}
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	if err != nil {
		return nil, err
	}
	ib, err = inbox.New(memstore.New(), inbox.Options{Now: now, Directory: dir, Channels: reg, Rules: rules,
		Account: map[string]any{"Name": account}})
	if err != nil {
		return nil, err
	}
	t.ib = ib
	t.handler, err = inboxhttp.New(ib, inboxhttp.Options{
		// A real host returns the agent of its session here.
		Agent: func(*http.Request) (inboxhttp.Agent, error) {
			return inboxhttp.Agent{ID: "lea", Name: "Léa", Tenant: name}, nil
		},
		Channels:  reg,
		Templates: func(context.Context, inboxhttp.Agent) ([]inboxhttp.Template, error) { return templates, nil },
		Now:       now,
	})
	return t, err
}

var (
	studioNumber = channel.Identity{ID: "main", Address: "+33757000001", Name: "Studio Lumière", TwoWay: true, Default: true}
	hotelNumber  = channel.Identity{ID: "desk", Address: "+33757000002", Name: "Réception", TwoWay: true, Default: true}
)

func newStudio(now func() time.Time) (*tenant, error) {
	dir := memstore.NewDirectory()
	members := []recipient.Contact{
		{ID: "m-ana", FirstName: "Ana", LastName: "Silva", Phone: "+33612345678", Email: "ana@example.fr", Consent: recipient.NewKindSet(channel.SMS, channel.Email)},
		{ID: "m-helene", FirstName: "Hélène", LastName: "Dupont", Phone: "+33698765432", Email: "helene@example.fr", Consent: recipient.NewKindSet(channel.SMS)},
		{ID: "m-karim", FirstName: "Karim", LastName: "Benali", Phone: "+33611223344", Email: "karim@example.fr"},
		{ID: "m-julie", FirstName: "Julie", LastName: "Martin", Email: "julie@example.fr", Consent: recipient.NewKindSet(channel.Email)},
		{ID: "m-tom", FirstName: "Tom", LastName: "Leroy", Phone: "+33655443322", Consent: recipient.NewKindSet(channel.SMS)},
	}
	for _, c := range members {
		if err := dir.PutContact(c); err != nil {
			return nil, err
		}
	}
	start := now().Truncate(time.Hour).Add(26 * time.Hour)
	dir.PutAudience(inbox.AudienceInfo{ID: "a-morning", Name: "Yoga du matin", Description: "Members who booked a morning class this month",
		Filters: []string{"bookings", "time of day"}, Members: members[:4]})
	dir.PutEvent(inbox.EventInfo{ID: "e-pilates", Name: "Pilates 18h", Start: start, TimeZone: "Europe/Paris", Attendees: []recipient.Attendee{
		{Contact: members[0], Group: recipient.Booked}, {Contact: members[1], Group: recipient.Booked},
		{Contact: members[4], Group: recipient.Waitlisted}, {Contact: members[2], Group: recipient.Cancelled}}})
	dir.PutDetails(inbox.Subject{Kind: inbox.SubjectContact, ID: "m-ana"}, inbox.Details{Contact: &inbox.ContactDetails{
		ID: "m-ana", Name: "Ana Silva", Phone: "+33612345678", Email: "ana@example.fr", SignedUp: now().AddDate(-2, 0, 0),
		BirthDate: time.Date(1991, 4, 12, 0, 0, 0, 0, time.UTC), Barcode: "2000012345678", Address: "12 rue des Lilas, 69003 Lyon",
		EmergencyContact: "Marc Silva +33600000001", Tags: []string{"yoga", "10-class card"}, Balance: -2500, Currency: "EUR",
		UnpaidInvoices: 1, Documents: []string{"medical certificate"}, Notes: "Prefers evening classes"}})
	dir.PutDetails(inbox.Subject{Kind: inbox.SubjectAudience, ID: "a-morning"}, inbox.Details{Audience: &inbox.AudienceDetails{
		Members: 4, Filters: []string{"bookings", "time of day"}, Description: "Members who booked a morning class this month"}})
	dir.PutDetails(inbox.Subject{Kind: inbox.SubjectEvent, ID: "e-pilates"}, inbox.Details{Event: &inbox.EventDetails{
		Start: start, Booked: 2, Capacity: 12, Waitlist: 1, Cancelled: 1, Level: "All levels", Teacher: "Camille", Room: "Studio 2",
		Address: "4 place Bellecour, Lyon"}})
	text := []channel.Kind{channel.SMS, channel.WhatsApp}
	templates := []inboxhttp.Template{
		{ID: "welcome", Name: "Welcome", Kinds: []channel.Kind{channel.Email}, Source: ptemplate.Source{Subject: "Welcome to {{ .Account.Name }}",
			Text: "Hi {{ .Contact.FirstName }}, welcome to {{ .Account.Name }}! Your first class is on us."}},
		{ID: "reminder", Name: "Class reminder", Kinds: text, Source: ptemplate.Source{
			Text: "Hi {{ .Contact.FirstName }}, see you at {{ .Event.Name }}. Bring water!"}},
		{ID: "gift", Name: "Gift card", Kinds: text, Source: ptemplate.Source{
			Text: "Hi {{ .Contact.FirstName }}, your gift card of {{ .GiftCard.Value }} is waiting at the desk."}},
		{ID: "gift-email", Name: "Gift card", Kinds: []channel.Kind{channel.Email}, Source: ptemplate.Source{Subject: "A gift from {{ .Account.Name }}",
			Text: "Hi {{ .Contact.FirstName }}, your gift card of {{ .GiftCard.Value }} is waiting at the desk."}},
	}
	t, err := newTenant("studio", now, dir, "Studio Lumière", templates, map[channel.Kind][]channel.Identity{
		channel.SMS:   {studioNumber, {ID: "brand", Address: "LUMIERE", Name: "LUMIERE (no replies)"}},
		channel.Email: {{ID: "hello", Address: "hello@lumiere.example", Name: "Studio Lumière", Default: true}},
	})
	if err != nil {
		return nil, err
	}
	t.contacts = members
	t.replies = []string{"Merci, à demain !", "Is the 18h class still on?", "Can I bring a friend?", "Je serai en retard de 10 minutes 🙏",
		"Do you have mats to borrow?", "Super cours hier, merci Camille"}
	return t, t.seed(now, []seedMsg{
		{from: "m-ana", text: "Bonjour, il reste de la place au Pilates de 18h ?"},
		{to: "m-ana", text: "Oui, 10 places ! Je vous inscris ?"},
		{from: "m-ana", text: "Oui s'il vous plaît 🙂"},
		{from: "m-helene", text: "Hello, I lost my water bottle in Studio 2 yesterday"},
		{from: "m-karim", text: "Can I switch to the 7am class?"},
		{to: "m-tom", text: "You are on the waiting list for Pilates 18h. We'll text you if a spot opens."},
		{subject: inbox.Subject{Kind: inbox.SubjectAudience, ID: "a-morning"}},
		{subject: inbox.Subject{Kind: inbox.SubjectEvent, ID: "e-pilates"}},
	})
}

func newHotel(now func() time.Time) (*tenant, error) {
	dir := memstore.NewDirectory()
	guests := []recipient.Contact{
		{ID: "g-schmidt", FirstName: "Lena", LastName: "Schmidt", Phone: "+4915123456789", Email: "lena@example.de", Consent: recipient.NewKindSet(channel.SMS, channel.WhatsApp)},
		{ID: "g-rossi", FirstName: "Marco", LastName: "Rossi", Phone: "+393471234567", Email: "marco@example.it"},
		{ID: "g-durand", FirstName: "Claire", LastName: "Durand", Phone: "+33687654321", Email: "claire@example.fr", Consent: recipient.NewKindSet(channel.Email)},
	}
	for _, c := range guests {
		if err := dir.PutContact(c); err != nil {
			return nil, err
		}
	}
	day := now().Truncate(24 * time.Hour)
	dir.PutDetails(inbox.Subject{Kind: inbox.SubjectContact, ID: "g-schmidt"}, inbox.Details{Contact: &inbox.ContactDetails{
		ID: "g-schmidt", Name: "Lena Schmidt", Phone: "+4915123456789", Email: "lena@example.de", Tags: []string{"returning guest"},
		Bookings: []inbox.Booking{{ID: "B-1042", CheckIn: day.Add(38 * time.Hour), CheckOut: day.Add(86 * time.Hour), Room: "Room 12", Status: "confirmed"}}}})
	templates := []inboxhttp.Template{
		{ID: "checkin", Name: "Check-in information", Kinds: []channel.Kind{channel.SMS, channel.WhatsApp}, Source: ptemplate.Source{
			Text: "Dear {{ .Contact.FirstName }}, check-in opens at 15:00. Reply to this message with your arrival time."}},
		{ID: "checkin-email", Name: "Check-in information", Kinds: []channel.Kind{channel.Email}, Source: ptemplate.Source{
			Subject: "Your stay at {{ .Account.Name }}",
			Text:    "Dear {{ .Contact.FirstName }}, check-in opens at 15:00. Reply to this message with your arrival time."}},
		{ID: "spa", Name: "Spa offer", Kinds: []channel.Kind{channel.Email}, Source: ptemplate.Source{Subject: "Relax at our spa",
			Text: "Dear {{ .Contact.FirstName }}, enjoy 20% off at our spa with your gift card {{ .GiftCard.Code }}."}},
	}
	t, err := newTenant("hotel", now, dir, "Hôtel des Tilleuls", templates, map[channel.Kind][]channel.Identity{
		channel.SMS:      {hotelNumber},
		channel.WhatsApp: {{ID: "wa", Address: "+33757000002", Name: "Hôtel des Tilleuls", TwoWay: true, Default: true}},
		channel.Email:    {{ID: "frontdesk", Address: "frontdesk@tilleuls.example", Name: "Hôtel des Tilleuls", Default: true}},
	})
	if err != nil {
		return nil, err
	}
	t.contacts = guests
	t.replies = []string{"We land at 14:30, can we check in early?", "Is breakfast included?", "Grazie mille!",
		"Could we get a cot for the baby?", "Where can we park?"}
	return t, t.seed(now, []seedMsg{
		{from: "g-schmidt", text: "Hallo! We arrive around 22:00, is that OK?"},
		{to: "g-schmidt", text: "Of course, the night desk will have your key ready."},
		{from: "g-rossi", text: "Buongiorno, is there parking at the hotel?"},
		{to: "g-durand", text: "Thank you for your booking! Check-in opens at 15:00."},
	})
}

// seedMsg is one message of the seed: from or to a contact, or a thread
// started with a subject.
type seedMsg struct {
	from, to, text string
	subject        inbox.Subject
}

func (t *tenant) contact(id string) recipient.Contact {
	for _, c := range t.contacts {
		if c.ID == id {
			return c
		}
	}
	return recipient.Contact{}
}

func (t *tenant) seed(now func() time.Time, msgs []seedMsg) error {
	ctx := context.Background()
	for _, m := range msgs {
		var err error
		switch {
		case m.from != "":
			err = t.receive(ctx, t.contact(m.from), m.text, now())
		case m.to != "":
			var th inbox.Thread
			if th, err = t.ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: m.to}); err == nil {
				_, err = t.ib.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: m.text, Author: inbox.Author{Agent: "lea"}})
			}
		default:
			_, err = t.ib.Start(ctx, m.subject)
		}
		if err != nil {
			return fmt.Errorf("webinbox: seed %s: %w", t.name, err)
		}
	}
	t.flush()
	return nil
}

var inboundSeq struct {
	sync.Mutex
	n int
}

// receive records an SMS from a contact, as the SMS provider's webhook
// would.
func (t *tenant) receive(ctx context.Context, c recipient.Contact, text string, at time.Time) error {
	inboundSeq.Lock()
	inboundSeq.n++
	id := fmt.Sprintf("IN%06d", inboundSeq.n)
	inboundSeq.Unlock()
	to := studioNumber.Address
	if t.name == "hotel" {
		to = hotelNumber.Address
	}
	return t.ib.Receive(ctx, channel.Inbound{Kind: channel.SMS, From: c.Phone, To: to, Text: text, ProviderID: id, ReceivedAt: at})
}

// flush replays the fake channels' pending status webhooks.
func (t *tenant) flush() {
	for _, f := range t.fakes {
		f.Flush()
	}
}

// guestReply makes one contact with a phone write in.
func (t *tenant) guestReply(ctx context.Context, at time.Time) error {
	t.mu.Lock()
	var withPhone []recipient.Contact
	for _, c := range t.contacts {
		if c.Phone != "" {
			withPhone = append(withPhone, c)
		}
	}
	c := withPhone[t.rng.IntN(len(withPhone))]
	text := t.replies[t.rng.IntN(len(t.replies))]
	t.mu.Unlock()
	return t.receive(ctx, c, text, at)
}

// simulate replays delivery webhooks at every tick and a guest reply every
// few ticks, until ctx ends.
func (d *demo) simulate(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, t := range []*tenant{d.studio, d.hotel} {
			t.flush()
			if n%3 == 0 {
				if err := t.guestReply(ctx, d.now()); err != nil && ctx.Err() == nil {
					log.Printf("webinbox: simulated reply: %v", err)
				}
			}
		}
	}
}

// runCheck starts the demo on a free loopback port and uses it the way the
// web inbox does: the page, the thread list, the event stream, a reply and
// its statuses. It prints what it saw.
func runCheck(ctx context.Context, out io.Writer) error {
	d, err := newDemo(time.Now)
	if err != nil {
		return err
	}
	defer d.close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	get := func(path string, v any) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("webinbox: GET %s: %s", path, res.Status)
		}
		if v == nil {
			_, err = io.Copy(io.Discard, res.Body)
			return err
		}
		return json.NewDecoder(res.Body).Decode(v)
	}
	if err := get("/studio/", nil); err != nil {
		return err
	}
	if err := get("/studio/ui/parley-inbox.js", nil); err != nil {
		return err
	}
	var page inboxhttp.ThreadPageJSON
	if err := get("/studio/api/threads", &page); err != nil {
		return err
	}
	fmt.Fprintf(out, "studio threads: %d\n", len(page.Threads))
	for _, th := range page.Threads {
		fmt.Fprintf(out, "  %-16s unread %d  %s\n", th.Name, th.Unread, th.Preview)
	}
	// the event stream
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/studio/api/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	events := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "event: ") {
				events <- strings.TrimPrefix(line, "event: ")
			}
		}
		close(events)
	}()
	if ev := <-events; ev != "ready" {
		return fmt.Errorf("webinbox: first event %q, want ready", ev)
	}
	// a reply from the page's composer, then the webhooks replayed
	ana := page.Threads[len(page.Threads)-1]
	for _, th := range page.Threads {
		if th.Subject.ID == "m-ana" {
			ana = th
		}
	}
	body := strings.NewReader(`{"kind":"sms","text":"See you at 18h!"}`)
	req, _ = http.NewRequestWithContext(ctx, "POST", base+"/studio/api/threads/"+ana.ID+"/messages", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "check-1")
	sres, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	var sent inboxhttp.SendResultJSON
	err = json.NewDecoder(sres.Body).Decode(&sent)
	sres.Body.Close()
	if err != nil || sres.StatusCode != http.StatusCreated {
		return fmt.Errorf("webinbox: send: %s %v", sres.Status, err)
	}
	fmt.Fprintf(out, "sent to %s: %q (%s)\n", ana.Name, sent.Message.Text, sent.Message.Status)
	d.studio.flush()
	if err := d.studio.guestReply(ctx, time.Now()); err != nil {
		return err
	}
	seen := map[string]bool{}
	for !(seen["status-changed"] && seen["message-received"]) {
		select {
		case ev, ok := <-events:
			if !ok {
				return errors.New("webinbox: event stream ended")
			}
			seen[ev] = true
		case <-ctx.Done():
			return fmt.Errorf("webinbox: events seen %v: %w", seen, ctx.Err())
		}
	}
	var m inboxhttp.MessageJSON
	if err := get("/studio/api/messages/"+sent.Message.ID, &m); err != nil {
		return err
	}
	var c inboxhttp.CountersJSON
	if err := get("/studio/api/counters", &c); err != nil {
		return err
	}
	fmt.Fprintf(out, "after the webhooks: %s; live events received; attention badge %d\n", m.Status, c.Attention)
	if m.Status != "delivered" {
		return fmt.Errorf("webinbox: status %s, want delivered", m.Status)
	}
	return nil
}
