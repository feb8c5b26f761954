package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var (
	ana  = recipient.Contact{ID: "ana", FirstName: "Ana", LastName: "Silva", Phone: "+33612345678", Email: "ana@example.fr", Consent: recipient.NewKindSet(channel.SMS, channel.Email, channel.WhatsApp)}
	ben  = recipient.Contact{ID: "ben", FirstName: "Ben", LastName: "Roy", Phone: "+33687654321", Email: "ben@example.fr"}
	cleo = recipient.Contact{ID: "cleo", FirstName: "Cléo", Email: "cleo@example.fr", Consent: recipient.NewKindSet(channel.SMS)}
	dan  = recipient.Contact{ID: "dan", FirstName: "Dan", Phone: "+12015550123", AirbnbID: "abnb-dan", TimeZone: "America/New_York", Consent: recipient.NewKindSet(channel.SMS)}
)

type rig struct {
	t     *testing.T
	ctx   context.Context
	clock *clock
	in    *inbox.Inbox
	store *memstore.Store
	dir   *memstore.Directory
	fakes map[channel.Kind]*channeltest.Fake
	reg   *channel.Registry
}

func newRig(t *testing.T, opts inbox.Options, fix func(k channel.Kind, c *channel.Capabilities)) *rig {
	t.Helper()
	r := &rig{t: t, ctx: context.Background(), clock: &clock{t: t0}, store: memstore.New(), dir: memstore.NewDirectory(),
		fakes: map[channel.Kind]*channeltest.Fake{}, reg: channel.NewRegistry()}
	for _, c := range []recipient.Contact{ana, ben, cleo, dan} {
		if err := r.dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	r.dir.PutAudience(store.AudienceInfo{ID: "yoga", Name: "Yoga", Members: []recipient.Contact{ana, ben, cleo}})
	r.dir.PutEvent(store.EventInfo{ID: "pilates", Name: "Pilates", Attendees: []recipient.Attendee{
		{Contact: ana, Group: recipient.Booked}, {Contact: ben, Group: recipient.Waitlisted}, {Contact: dan, Group: recipient.Cancelled}}})
	for _, k := range []channel.Kind{channel.SMS, channel.MMS, channel.Email, channel.WhatsApp, channel.Airbnb} {
		caps := channel.DefaultCapabilities(k)
		if fix != nil {
			fix(k, &caps)
		}
		f := channeltest.NewFake(k, channeltest.Options{Capabilities: &caps})
		r.fakes[k] = f
		if err := r.reg.Register(k, f, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001", TwoWay: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	opts.Now, opts.Directory, opts.Channels = r.clock.Now, r.dir, r.reg
	if opts.Retry.Backoff == 0 {
		opts.Retry = inbox.Retry{Attempts: 3, Backoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	}
	in, err := inbox.New(r.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	r.in = in
	return r
}

func (r *rig) thread(s store.Subject) inbox.Thread {
	r.t.Helper()
	th, err := r.in.Start(r.ctx, s)
	if err != nil {
		r.t.Fatal(err)
	}
	return th
}

func contactT(id string) store.Subject { return store.Subject{Kind: store.Contact, ID: id} }

func (r *rig) delivery(id string) inbox.Delivery {
	r.t.Helper()
	d, err := r.store.Delivery(r.ctx, id)
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// C1, C2, C3, C12: message-level problems, reported by preflight and refused
// by Send with the same typed errors.
func TestC1C2C3C12MessageProblems(t *testing.T) {
	r := newRig(t, inbox.Options{}, func(k channel.Kind, c *channel.Capabilities) {
		if k == channel.Email {
			c.FreeForm = false // C12: this host allows only templates by email
		}
	})
	th := r.thread(contactT("ana"))
	cases := []struct {
		name  string
		draft inbox.Draft
		want  error
	}{
		{"C1 push not registered", inbox.Draft{Kind: channel.Push, ThreadID: th.ID, Subject: "s", Text: "x"}, channel.ErrNotRegistered},
		{"C2 email needs a subject", inbox.Draft{Kind: channel.Email, ThreadID: th.ID, Text: "x"}, inbox.ErrSubjectRequired},
		{"C2 sms takes no subject", inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Subject: "s", Text: "x"}, inbox.ErrSubjectNotAllowed},
		{"C3 blank body", inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "  \n"}, inbox.ErrEmptyBody},
		{"C12 free-form email off", inbox.Draft{Kind: channel.Email, ThreadID: th.ID, Subject: "s", Text: "x"}, inbox.ErrFreeFormNotAllowed},
	}
	for _, c := range cases {
		p, err := r.in.Preflight(r.ctx, c.draft)
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(p.Err(), c.want) {
			t.Errorf("%s: preflight = %v, want %v", c.name, p.Err(), c.want)
		}
		if _, err := r.in.Send(r.ctx, c.draft); !errors.Is(err, c.want) {
			t.Errorf("%s: send = %v, want %v", c.name, err, c.want)
		}
	}
	if got := len(r.fakes[channel.SMS].Sent()) + len(r.fakes[channel.Email].Sent()); got != 0 {
		t.Fatalf("refused drafts sent %d messages", got)
	}
	if th := r.thread(contactT("ana")); th.Messages != 0 {
		t.Fatal("refused drafts were recorded")
	}
}

// C5: a gift-card variable in a message to an event is caught before
// sending, with its position; C4 preview renders the full message.
func TestC5TemplateScopes(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	ev := r.thread(store.Subject{Kind: store.Event, ID: "pilates"})
	tpl, err := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "gift", Text: "Hi {{ .Contact.FirstName }}, gift: {{ .GiftCard.Value }}"}, ptemplate.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := inbox.Draft{Kind: channel.SMS, ThreadID: ev.ID, Template: tpl, Groups: []recipient.Group{recipient.Booked}}
	p, err := r.in.Preflight(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	var ce *ptemplate.CheckError
	if !errors.As(p.Err(), &ce) || len(ce.Problems) != 1 || ce.Problems[0].Variable != ".GiftCard.Value" || ce.Problems[0].Column != 39 {
		t.Fatalf("C5: problems = %v", p.Err())
	}
	if _, err := r.in.Send(r.ctx, d); !errors.As(err, &ce) {
		t.Fatalf("C5: send = %v", err)
	}
	// with the gift-card scope provided by the host it goes, rendered per recipient
	ok, _ := ptemplate.Parse(ptemplate.NewCatalog(), ptemplate.Source{Name: "hi", Text: "Hi {{ .Contact.FirstName }}, see you at Pilates"}, ptemplate.Options{})
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: ev.ID, Template: ok, Groups: []recipient.Group{recipient.Booked, recipient.Waitlisted}})
	if err != nil {
		t.Fatal(err)
	}
	sent := r.fakes[channel.SMS].Sent()
	texts := map[string]bool{}
	for _, s := range sent {
		texts[s.Message.Text] = true
	}
	if len(sent) != 2 || !texts["Hi Ana, see you at Pilates"] || !texts["Hi Ben, see you at Pilates"] {
		t.Fatalf("C5: rendered per recipient: %+v", sent)
	}
	if res.Message.Source.Text != "Hi {{ .Contact.FirstName }}, see you at Pilates" || res.Message.Text != "Hi {First name}, see you at Pilates" ||
		!res.Message.Templated || len(res.Message.Groups) != 2 {
		t.Fatalf("M2: the event thread shows the template, its variables by their labels: %+v", res.Message)
	}
}

// C7: MMS attachments are checked before sending.
func TestC7Attachments(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	_, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.MMS, ThreadID: th.ID, Text: "menu",
		Attachments: []channel.Attachment{{Name: "menu.jpg", Data: []byte("%PDF-1.4 not a jpeg")}}})
	var ae *channel.AttachmentError
	if !errors.As(err, &ae) || ae.Rule != channel.RuleType {
		t.Fatalf("C7: err = %v", err)
	}
}

// C10: WhatsApp free text only inside 24 h of the contact's latest inbound
// WhatsApp message; outside it an approved template.
func TestC10WhatsAppWindow(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	_, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Bonjour"})
	if !errors.Is(err, channel.ErrWindowClosed) {
		t.Fatalf("C10: no inbound yet: err = %v", err)
	}
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.WhatsApp, From: ana.Phone, Text: "Hola", ProviderID: "wamid.in1", ReceivedAt: r.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(23 * time.Hour)
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Inside the window"}); err != nil {
		t.Fatalf("C10: inside the window: %v", err)
	}
	r.clock.Advance(2 * time.Hour)
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "Too late"}); !errors.Is(err, channel.ErrWindowClosed) {
		t.Fatalf("C10: after 25 h: err = %v", err)
	}
	wa := &ptemplate.WhatsAppTemplate{Name: "booking_reminder", Language: "fr", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Bonjour {{1}}, à demain !", Params: []string{"Contact.FirstName"}}
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa})
	if err != nil {
		t.Fatalf("C10: approved template outside the window: %v", err)
	}
	last := r.fakes[channel.WhatsApp].Sent()
	m := last[len(last)-1].Message
	if m.Template == nil || m.Template.Name != "booking_reminder" || len(m.Template.Params) != 1 || m.Template.Params[0] != "Ana" {
		t.Fatalf("C10: template sent as %+v", m.Template)
	}
	if res.Deliveries[0].Status.Current != status.Validated {
		t.Fatalf("C10: delivery %+v", res.Deliveries[0].Status)
	}
	pending := *wa
	pending.State = ptemplate.ApprovalPending
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: &pending}); err == nil {
		t.Fatal("C10: a template not approved was sent")
	}
}

// C11: Airbnb conversations start only with automatic messages; free text
// once the guest wrote.
func TestC11Airbnb(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("dan"))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID, Text: "Welcome"}); !errors.Is(err, recipient.ErrGuestNotWritten) {
		t.Fatalf("C11: manual first message: err = %v", err)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID, Text: "Check-in from 15:00", Origin: inbox.Automatic}); err != nil {
		t.Fatalf("C11: automatic first message: %v", err)
	}
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.Airbnb, From: "abnb-dan", Text: "Thanks!", ProviderID: "ab1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Airbnb, ThreadID: th.ID, Text: "You're welcome"}); err != nil {
		t.Fatalf("C11: free text after the guest wrote: %v", err)
	}
}

// C13: cost estimates from the host's price table.
func TestC13Costs(t *testing.T) {
	prices := &inbox.Prices{Currency: "EUR", SMS: map[string]int64{"33": 70000, "1": 8000, "*": 100000},
		WhatsApp: map[ptemplate.Category]map[string]int64{ptemplate.CategoryMarketing: {"33": 120000}, ptemplate.CategoryUtility: {"*": 30000}}}
	r := newRig(t, inbox.Options{Prices: prices}, nil)
	th := r.thread(contactT("ana"))
	long := ""
	for len(long) < 200 {
		long += "Cours de yoga demain. "
	}
	p, err := r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: long})
	if err != nil {
		t.Fatal(err)
	}
	if p.SMS.Segments != 2 || p.Cost.Micros != 140000 || p.Cost.Currency != "EUR" {
		t.Fatalf("C13: sms %d segments cost %+v, want 2 × 0.07 EUR", p.SMS.Segments, p.Cost)
	}
	wa := &ptemplate.WhatsAppTemplate{Name: "promo", Language: "fr", Category: ptemplate.CategoryMarketing, State: ptemplate.ApprovalApproved, Body: "Promo du jour !"}
	p, _ = r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa})
	if p.Cost.Micros != 120000 {
		t.Fatalf("C13: whatsapp marketing template cost %+v", p.Cost)
	}
	_, _ = r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.WhatsApp, From: ana.Phone, Text: "?", ProviderID: "w1", ReceivedAt: r.clock.Now()})
	p, _ = r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, Text: "reply"})
	if p.Cost.Micros != 0 || p.Err() != nil {
		t.Fatalf("C13: a reply inside the window is free: %+v %v", p.Cost, p.Err())
	}
	p, _ = r.in.Preflight(r.ctx, inbox.Draft{Kind: channel.Email, ThreadID: th.ID, Subject: "s", Text: "x"})
	if p.Cost.Micros != 0 {
		t.Fatalf("C13: email is free: %+v", p.Cost)
	}
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: long})
	if err != nil || res.Message.Cost.Micros != 140000 || res.Message.SMS.Segments != 2 {
		t.Fatalf("C13: the estimate is recorded on the message: %+v %v", res.Message.Cost, err)
	}
}

// C14, R2, R3, M2, S2, S5: a smartlist send with one contact not
// selectable and one consent warning; statuses replayed out of order.
func TestC14GroupSend(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	d := inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Nouveau cours dimanche", Marketing: true}
	p, err := r.in.Preflight(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if p.Selected != 2 || p.Err() != nil {
		t.Fatalf("C14: selected %d, err %v", p.Selected, p.Err())
	}
	byID := map[string]inbox.RecipientCheck{}
	for _, rc := range p.Recipients {
		byID[rc.ContactID] = rc
	}
	if rc := byID["cleo"]; rc.Selected || !errors.Is(rc.Verdict.Err(), recipient.ErrNoAddress) {
		t.Fatalf("R3: Cléo has no phone: %+v", rc)
	}
	if rc := byID["ben"]; !rc.Selected || rc.Verdict.Level != recipient.Warning {
		t.Fatalf("R2: Ben has no marketing consent: %+v", rc)
	}
	res, err := r.in.Send(r.ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Recipients != 2 || len(res.Deliveries) != 2 || res.Message.ThreadID != yoga.ID {
		t.Fatalf("M2: one group message with one delivery per recipient: %+v", res.Message)
	}
	fake := r.fakes[channel.SMS]
	fake.OnStatus(func(u channel.StatusUpdate) {
		if err := r.in.ApplyStatus(r.ctx, u); err != nil {
			t.Error(err)
		}
	})
	fake.FlushShuffled(3, true)
	m, _ := r.in.Message(r.ctx, res.Message.ID)
	if m.Counts[status.Delivered] != 2 {
		t.Fatalf("S5: counts %v", m.Counts)
	}
	for _, dl := range res.Deliveries {
		got := r.delivery(dl.ID)
		h := got.Status.History
		if got.Status.Current != status.Delivered || h[0].Status != status.Pending || h[len(h)-1].Status != status.Delivered {
			t.Fatalf("S3: history %+v", got.Status.History)
		}
	}
	// deselecting one recipient
	sel, err := recipient.NewRules(recipient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := sel.Audience([]recipient.Contact{ana, ben, cleo}, recipient.Target{Kind: channel.SMS, Purpose: recipient.Transactional})
	if err := s.Deselect("ben"); err != nil {
		t.Fatal(err)
	}
	res, err = r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "only Ana", Selection: s})
	if err != nil || res.Message.Recipients != 1 || res.Deliveries[0].ContactID != "ana" {
		t.Fatalf("R3: a deselected member is not sent to: %+v %v", res.Message, err)
	}
}

// M3: with mirroring on, every recipient's own thread shows the broadcast.
func TestM3Mirroring(t *testing.T) {
	for _, mirror := range []bool{false, true} {
		r := newRig(t, inbox.Options{MirrorBroadcasts: mirror}, nil)
		yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
		res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Soldes", Broadcast: "spring-sale"})
		if err != nil {
			t.Fatal(err)
		}
		anaT, err := r.in.StartWithAddress(r.ctx, channel.SMS, ana.Phone)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := r.in.Messages(r.ctx, inbox.MessageQuery{ThreadID: anaT.ID})
		if !mirror && len(page.Messages) != 0 {
			t.Fatalf("M3: by default contact threads show only direct messages: %d", len(page.Messages))
		}
		if mirror && (len(page.Messages) != 1 || page.Messages[0].MirrorOf != res.Message.ID || page.Messages[0].Broadcast != "spring-sale") {
			t.Fatalf("M3: mirrored message %+v", page.Messages)
		}
	}
}

// Faults: transient failures then success, permanent failures, a channel
// that hangs until the context ends; every recipient ends with exactly one
// delivery and a true status, nothing is sent twice.
func TestFanoutFaults(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	fake := r.fakes[channel.SMS]
	fake.FailWhen(func(m *channel.Message) error {
		if m.To == ben.Phone {
			return channeltest.Permanent("unreachable number")
		}
		return nil
	})
	fake.FailNext(channeltest.Transient("timeout"), channeltest.Transient("timeout"))
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]inbox.Delivery{}
	for _, d := range res.Deliveries {
		got[d.ContactID] = r.delivery(d.ID)
	}
	if d := got["ana"]; d.Status.Current != status.Validated || d.ProviderID == "" {
		t.Fatalf("transient then success: %+v", d)
	}
	if d := got["ben"]; d.Status.Current != status.Failed || d.Reason == "" || d.Attempts != 1 && d.Attempts != 2 && d.Attempts != 3 {
		t.Fatalf("permanent failure: %+v", d)
	}
	if n := len(fake.Sent()); n != 1 {
		t.Fatalf("sent %d, want 1 (Ana once)", n)
	}
	// a permanent failure is never retried
	fake.Reset()
	fake.FailNext(channeltest.Permanent("bad"))
	th := r.thread(contactT("ana"))
	res, err = r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if fake.Attempts() != 1 || r.delivery(res.Deliveries[0].ID).Status.Current != status.Failed {
		t.Fatalf("permanent: %d attempts", fake.Attempts())
	}
	// an opted-out provider error records the opt-out (R5)
	fake.FailNext(fmt.Errorf("twilio 21610: %w", channel.ErrOptedOut))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "z"}); err != nil {
		t.Fatal(err)
	}
	if out, _ := r.in.OptedOut(r.ctx, channel.SMS, ana.Phone); !out {
		t.Fatal("R5: a provider's unsubscribed error opts the contact out")
	}
}

func TestFanoutHangsUntilContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, inbox.Options{Concurrency: 1}, nil)
		yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
		fake := r.fakes[channel.SMS]
		fake.Hang(true)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := r.in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "x"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
		if len(res.Deliveries) != 2 {
			t.Fatalf("deliveries %d", len(res.Deliveries))
		}
		interrupted, notAttempted := 0, 0
		for _, d := range res.Deliveries {
			got := r.delivery(d.ID)
			if got.Status.Current != status.Pending {
				t.Fatalf("a hung send has no true status but pending: %+v", got)
			}
			switch {
			case got.Attempts == 1 && got.Reason != "":
				interrupted++
			case got.Attempts == 0 && got.Reason != "":
				notAttempted++
			}
		}
		if interrupted != 1 || notAttempted != 1 {
			t.Fatalf("interrupted %d, not attempted %d", interrupted, notAttempted)
		}
		if len(fake.Sent()) != 0 {
			t.Fatal("nothing was accepted")
		}
	})
}

// A webhook replay: every status twice in random order gives the in-order
// result.
func TestWebhookReplay(t *testing.T) {
	final := map[bool]map[string]status.Status{}
	for _, shuffled := range []bool{false, true} {
		r := newRig(t, inbox.Options{}, nil)
		yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
		for range 5 {
			if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		f := r.fakes[channel.SMS]
		f.OnStatus(func(u channel.StatusUpdate) { _ = r.in.ApplyStatus(r.ctx, u) })
		if shuffled {
			f.FlushShuffled(11, true)
		} else {
			f.Flush()
		}
		final[shuffled] = map[string]status.Status{}
		for _, s := range f.Sent() {
			d, _ := r.store.DeliveryByProviderID(r.ctx, s.Receipt.ProviderID)
			final[shuffled][s.Receipt.ProviderID] = d.Status.Current
		}
	}
	if fmt.Sprint(final[false]) != fmt.Sprint(final[true]) {
		t.Fatalf("replayed %v, in order %v", final[true], final[false])
	}
}

// C8: schedule, cancel until due, dispatch exactly once with several
// dispatchers, eligibility checked again at send time.
func TestC8Scheduling(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	due := r.clock.Now().Add(2 * time.Hour)
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Rappel", ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	if res.Message.Origin != inbox.Scheduled || res.Deliveries[0].Status.Current != status.Scheduled || len(r.fakes[channel.SMS].Sent()) != 0 {
		t.Fatalf("C8: scheduled message %+v", res.Message)
	}
	other, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Annulé", ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.in.CancelScheduled(r.ctx, other.Message.ID); err != nil || n != 2 {
		t.Fatalf("C8: cancel = %d, %v", n, err)
	}
	// Ben opts out after scheduling
	if _, err := r.in.ReceiveMessage(r.ctx, channel.Inbound{Kind: channel.SMS, From: ben.Phone, Text: "STOP", ProviderID: "stop1"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := r.in.Dispatch(r.ctx, 0); n != 0 {
		t.Fatalf("C8: dispatched %d before due", n)
	}
	r.clock.Set(due)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = r.in.Dispatch(r.ctx, 1) }()
	}
	wg.Wait()
	for {
		n, err := r.in.Dispatch(r.ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	sent := r.fakes[channel.SMS].Sent()
	if len(sent) != 1 || sent[0].Message.To != ana.Phone {
		t.Fatalf("C8: sent %d messages, want exactly one to Ana", len(sent))
	}
	for _, d := range res.Deliveries {
		got := r.delivery(d.ID)
		switch d.ContactID {
		case "ana":
			if got.Status.Current != status.Validated {
				t.Fatalf("C8: Ana %+v", got.Status)
			}
		case "ben":
			if got.Status.Current != status.Cancelled || got.Reason == "" {
				t.Fatalf("C8: Ben opted out after scheduling: %+v", got)
			}
		}
	}
	if n, err := r.in.CancelScheduled(r.ctx, res.Message.ID); n != 0 || err != nil {
		t.Fatalf("C8: nothing left to cancel: %d %v", n, err)
	}
	if th, _ := r.in.Thread(r.ctx, yoga.ID); !th.SortTime.Equal(due) {
		t.Fatalf("C8: the thread moves when the message is sent: %v", th.SortTime)
	}
}

// C15: relative scheduling in the venue's time zone across a
// daylight-saving change; moving or cancelling the anchor.
func TestC15RelativeScheduling(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	r.clock.Set(time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC))
	th := r.thread(contactT("ana"))
	paris, _ := time.LoadLocation("Europe/Paris")
	checkIn := time.Date(2026, 3, 30, 15, 0, 0, 0, paris) // Paris moves to CEST on 29 March
	ten := recipient.Clock{Hour: 10}
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Votre arrivée approche", Origin: inbox.Automatic,
		Anchor: &inbox.Anchor{Ref: "booking:42", At: checkIn, Offset: -48 * time.Hour, Clock: &ten, TimeZone: "Europe/Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 28, 10, 0, 0, 0, paris) // still CET: 09:00 UTC
	if got := r.delivery(res.Deliveries[0].ID).DueAt; !got.Equal(want) || got.UTC().Hour() != 9 {
		t.Fatalf("C15: due %v, want %v", got, want)
	}
	// the booking moves to 1 April: the message follows, now in CEST (08:00 UTC)
	if n, err := r.in.MoveAnchor(r.ctx, "booking:42", time.Date(2026, 4, 1, 15, 0, 0, 0, paris)); err != nil || n != 1 {
		t.Fatalf("C15: move = %d, %v", n, err)
	}
	if got := r.delivery(res.Deliveries[0].ID).DueAt; got.UTC() != time.Date(2026, 3, 30, 8, 0, 0, 0, time.UTC) {
		t.Fatalf("C15: moved due %v", got.UTC())
	}
	// one hour before a class across the change
	res2, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Cours dans 1 h", Origin: inbox.Automatic,
		Anchor: &inbox.Anchor{Ref: "event:7", At: time.Date(2026, 3, 29, 3, 30, 0, 0, paris), Offset: -time.Hour, TimeZone: "Europe/Paris"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.delivery(res2.Deliveries[0].ID).DueAt; got.UTC() != time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC) {
		t.Fatalf("C15: one hour before %v", got.UTC())
	}
	if n, err := r.in.CancelAnchor(r.ctx, "booking:42"); err != nil || n != 1 {
		t.Fatalf("C15: cancel = %d, %v", n, err)
	}
	if got := r.delivery(res.Deliveries[0].ID).Status.Current; got != status.Cancelled {
		t.Fatalf("C15: cancelled anchor leaves %s", got)
	}
}

// R8: a marketing message due in the recipient's night is held until the
// morning; a transactional one is not.
func TestR8QuietHours(t *testing.T) {
	rules, err := recipient.NewRules(recipient.Options{QuietHours: recipient.QuietHours{Start: recipient.Clock{Hour: 21}, End: recipient.Clock{Hour: 8}}})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, inbox.Options{Rules: rules}, nil)
	th := r.thread(contactT("dan")) // New York
	ny, _ := time.LoadLocation("America/New_York")
	due := time.Date(2026, 3, 2, 23, 0, 0, 0, ny)
	mk, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Promo", Marketing: true, ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Your code", ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Set(due)
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	if got := r.delivery(tr.Deliveries[0].ID).Status.Current; got != status.Validated {
		t.Fatalf("R8: transactional held: %s", got)
	}
	held := r.delivery(mk.Deliveries[0].ID)
	if held.Status.Current != status.Scheduled || !held.DueAt.Equal(time.Date(2026, 3, 3, 8, 0, 0, 0, ny)) {
		t.Fatalf("R8: marketing due %v (%s)", held.DueAt, held.Status.Current)
	}
}

// M7: the sent-messages query by campaign, phone and stay dates.
func TestM7SentQuery(t *testing.T) {
	rules, err := recipient.NewRules(recipient.Options{DefaultRegion: "FR"})
	if err != nil {
		t.Fatal(err)
	}
	r := newRig(t, inbox.Options{Rules: rules}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	stays := map[string]inbox.Stay{"ana": {CheckIn: t0.AddDate(0, 0, 5), CheckOut: t0.AddDate(0, 0, 7)}}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "a", Broadcast: "welcome", Stays: stays}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "b", Broadcast: "other"}); err != nil {
		t.Fatal(err)
	}
	sent := func(q inbox.SentQuery) []inbox.Delivery {
		t.Helper()
		p, err := r.in.Sent(r.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.Deliveries
	}
	if ds := sent(inbox.SentQuery{Campaign: "welcome"}); len(ds) != 2 {
		t.Fatalf("M7: campaign: %d", len(ds))
	}
	for _, ph := range []string{ana.Phone, "06 12 34 56 78"} {
		if ds := sent(inbox.SentQuery{Phone: ph}); len(ds) != 2 {
			t.Fatalf("M7: by phone %q: %d", ph, len(ds))
		}
	}
	if ds := sent(inbox.SentQuery{CheckInFrom: t0.AddDate(0, 0, 4), CheckInTo: t0.AddDate(0, 0, 6)}); len(ds) != 1 || ds[0].ContactID != "ana" {
		t.Fatalf("M7: by check-in: %+v", ds)
	}
	p1, _ := r.in.Sent(r.ctx, inbox.SentQuery{Limit: 3})
	p2, _ := r.in.Sent(r.ctx, inbox.SentQuery{Limit: 3, Cursor: p1.Next})
	if len(p1.Deliveries) != 3 || len(p2.Deliveries) != 1 || p2.Next != "" {
		t.Fatalf("M7: paging %d + %d", len(p1.Deliveries), len(p2.Deliveries))
	}
}

// Email sent from a thread carries the thread's reply address, so replies
// route back (M4 with a per-thread token).
func TestReplyAddress(t *testing.T) {
	r := newRig(t, inbox.Options{ReplyAddress: func(id string) string { return "reply+" + id + "@in.example" }}, nil)
	th := r.thread(contactT("ana"))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.Email, ThreadID: th.ID, Subject: "Votre séjour", Text: "Bonjour"}); err != nil {
		t.Fatal(err)
	}
	sent := r.fakes[channel.Email].Sent()
	if len(sent) != 1 || sent[0].Message.ReplyTo != "reply+"+th.ID+"@in.example" {
		t.Fatalf("reply-to = %q", sent[0].Message.ReplyTo)
	}
}

// flaky fails a number of delivery writes, then recovers.
type flaky struct {
	*memstore.Store
	mu    sync.Mutex
	fails int
}

func (f *flaky) WriteDelivery(ctx context.Context, d store.Delivery, events ...store.FeedEvent) error {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return errors.New("flaky: connection reset")
	}
	f.mu.Unlock()
	return f.Store.WriteDelivery(ctx, d, events...)
}

// A store that fails mid-fan-out: each outcome is still recorded once, with
// a true status, and nothing is sent twice. It runs in a synctest bubble:
// the inbox waits for the store (Options.OutcomeRetry) without sleeping.
func TestFanoutStoreFailsMidway(t *testing.T) {
	synctest.Test(t, testFanoutStoreFailsMidway)
}

func testFanoutStoreFailsMidway(t *testing.T) {
	r := newRig(t, inbox.Options{}, nil)
	fs := &flaky{Store: r.store, fails: 3}
	in, err := inbox.New(fs, inbox.Options{Now: r.clock.Now, Directory: r.dir, Channels: r.reg, Concurrency: 1,
		Retry: inbox.Retry{Attempts: 2, Backoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	yoga, err := in.Start(r.ctx, store.Subject{Kind: store.Audience, ID: "yoga"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	sent := r.fakes[channel.SMS].Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d, want 2 (once each)", len(sent))
	}
	for _, d := range res.Deliveries {
		got := r.delivery(d.ID)
		if got.Status.Current != status.Validated || got.ProviderID == "" || got.Attempts != 1 {
			t.Fatalf("delivery after store failures: %+v", got)
		}
	}
	// a store that stays down: Send reports it, and nothing is sent, since
	// the outbox mark of the delivery cannot be written first
	fs.fails = 1000
	th, _ := in.StartWithAddress(r.ctx, channel.SMS, ana.Phone)
	if _, err := in.Send(r.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "y"}); err == nil {
		t.Fatal("a store that stays down must be reported")
	}
	if n := len(r.fakes[channel.SMS].Sent()); n != 2 {
		t.Fatalf("sent %d, want 2: a delivery that cannot be marked as sending is not sent", n)
	}
}

// C8, C10: a scheduled WhatsApp template is looked up again and rendered
// per recipient when it is sent; without a lookup it cannot be scheduled.
func TestScheduledWhatsAppTemplate(t *testing.T) {
	wa := &ptemplate.WhatsAppTemplate{Name: "class_reminder", Language: "fr", Category: ptemplate.CategoryUtility,
		State: ptemplate.ApprovalApproved, Body: "Bonjour {{1}}, votre cours est demain.", Params: []string{"Contact.FirstName"}}
	due := t0.Add(3 * time.Hour)
	r := newRig(t, inbox.Options{}, nil)
	th := r.thread(contactT("ana"))
	if _, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: th.ID, WhatsApp: wa, ScheduledFor: due}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Fatalf("without a template lookup: err = %v", err)
	}
	approved := map[string]*ptemplate.WhatsAppTemplate{"class_reminder/fr": wa}
	r = newRig(t, inbox.Options{WhatsAppTemplates: func(name, lang string) (*ptemplate.WhatsAppTemplate, bool) {
		w, ok := approved[name+"/"+lang]
		return w, ok
	}}, nil)
	yoga := r.thread(store.Subject{Kind: store.Audience, ID: "yoga"})
	res, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: yoga.ID, WhatsApp: wa, ScheduledFor: due})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Set(due)
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	sent := r.fakes[channel.WhatsApp].Sent()
	texts := map[string]bool{}
	for _, s := range sent {
		if s.Message.Template == nil || s.Message.Template.Name != "class_reminder" || s.Message.Template.Language != "fr" {
			t.Fatalf("template ref %+v", s.Message.Template)
		}
		texts[s.Message.Template.Params[0]] = true
	}
	if len(sent) != 2 || !texts["Ana"] || !texts["Ben"] {
		t.Fatalf("sent %d, params %v", len(sent), texts)
	}
	// a template withdrawn before the due time fails with the reason, nothing is sent
	res2, err := r.in.Send(r.ctx, inbox.Draft{Kind: channel.WhatsApp, ThreadID: yoga.ID, WhatsApp: wa, ScheduledFor: due.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	delete(approved, "class_reminder/fr")
	r.clock.Set(due.Add(time.Hour))
	if _, err := r.in.Dispatch(r.ctx, 0); err != nil {
		t.Fatal(err)
	}
	for _, d := range res2.Deliveries {
		if got := r.delivery(d.ID); got.Status.Current != status.Failed || got.Reason == "" {
			t.Fatalf("withdrawn template: %+v", got)
		}
	}
	if len(r.fakes[channel.WhatsApp].Sent()) != 2 {
		t.Fatal("a withdrawn template was sent")
	}
	_ = res
}

// readBackFails is memstore whose Message fails, as a store whose
// connection drops, once failing is set.
type readBackFails struct {
	*memstore.Store
	failing atomic.Bool
}

func (s *readBackFails) Message(ctx context.Context, id string) (store.Message, error) {
	if s.failing.Load() {
		return store.Message{}, errors.New("connection reset")
	}
	return s.Store.Message(ctx, id)
}

// M2, S1: once every delivery is sent and recorded, a store that cannot
// give the message back does not fail the send (the host would send
// again): Send returns the message as recorded, its deliveries with their
// outcomes, and no error.
func TestSendSurvivesFailedReadBack(t *testing.T) {
	ctx := context.Background()
	dir := memstore.NewDirectory()
	for _, c := range []recipient.Contact{ana, ben} {
		if err := dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All", Members: []recipient.Contact{ana, ben}})
	st := &readBackFails{Store: memstore.New()}
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
	fake.FailWhen(func(*channel.Message) error { st.failing.Store(true); return nil })
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, fake, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	in, err := inbox.New(st, inbox.Options{Directory: dir, Channels: reg})
	if err != nil {
		t.Fatal(err)
	}
	th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "all"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday"})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	if res.Message.ID == "" || res.Message.ThreadID != th.ID || len(res.Deliveries) != 2 || len(fake.Sent()) != 2 {
		t.Fatalf("Send returned message %q of thread %q, %d deliveries, %d sent", res.Message.ID, res.Message.ThreadID, len(res.Deliveries), len(fake.Sent()))
	}
	st.failing.Store(false)
	for _, d := range res.Deliveries {
		got, err := st.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ProviderID == "" || got.Status.Current != status.Validated {
			t.Errorf("delivery %s: provider ID %q, status %s; want recorded as accepted", d.ID, got.ProviderID, got.Status.Current)
		}
	}
}
