package inbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/sms"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

// Errors of the composer rules (C2, C3, C12), matched with errors.Is.
var (
	// ErrSubjectRequired: email and push need a subject (C2).
	ErrSubjectRequired = errors.New("subject required")
	// ErrSubjectNotAllowed: SMS, MMS, WhatsApp and Airbnb take no subject (C2).
	ErrSubjectNotAllowed = errors.New("subject not allowed on this channel")
	// ErrEmptyBody: a message needs a non-blank body or a template (C3).
	ErrEmptyBody = errors.New("message needs a body or a template")
	// ErrFreeFormNotAllowed: the channel accepts only templates (C12).
	ErrFreeFormNotAllowed = errors.New("free-form messages not allowed on this channel")
	// ErrNoRecipient: nobody selected can receive the message.
	ErrNoRecipient = errors.New("no eligible recipient")
	// ErrTooLate: a scheduled message is being sent and can no longer be
	// cancelled (C8).
	ErrTooLate = errors.New("too late to cancel")
)

// Draft is a message a composer wants to send (C1–C15).
type Draft struct {
	// Kind is the channel kind (C1).
	Kind channel.Kind
	// ThreadID is where it goes: a contact thread (a direct message to
	// that contact) or an audience or event thread (a group message to the
	// selected members, M2).
	ThreadID string
	// Identity is the sender identity's ID; "" is the kind's default (C9).
	Identity string
	// Subject, Text and HTML are the content. With Template set they are
	// ignored.
	Subject, Text, HTML string
	// Template, when set, is rendered per recipient (C4, C5).
	Template *ptemplate.Template
	// WhatsApp, when set, sends an approved WhatsApp template (C10).
	WhatsApp *ptemplate.WhatsAppTemplate
	// Attachments are checked against the channel's rules (C7).
	Attachments []channel.Attachment
	// Marketing marks a promotional message: consent warnings (R2) and
	// quiet hours (R8) apply.
	Marketing bool
	// Origin is direct (default for contact threads), manual (default for
	// group threads), automatic or scheduled.
	Origin Origin
	// Author is who writes it.
	Author Author
	// Broadcast names a campaign; with Options.MirrorBroadcasts every
	// recipient's own thread shows the message too (M3).
	Broadcast string
	// Scopes are extra template scopes the host provides for this send
	// (booking, gift card, appointment …) beyond those of the thread (C5).
	Scopes []ptemplate.Scope
	// Selection is the composer's recipient selection for a group send
	// (R3, R4); nil means the default selection (audience: every valid
	// member; event: the valid members of Groups).
	Selection *recipient.Selection
	// Groups are the event groups to send to when Selection is nil.
	Groups []recipient.Group
	// Stays holds recipients' booking dates by contact ID, kept for the
	// sent-messages query (M7).
	Stays map[string]Stay
	// ScheduledFor, when in the future, schedules the message (C8).
	ScheduledFor time.Time
	// Anchor, when set, schedules the message relative to a booking or
	// event time (C15); it overrides ScheduledFor.
	Anchor *Anchor
}

// Stay is a guest's booking dates.
type Stay struct{ CheckIn, CheckOut time.Time }

// Preflight is everything a composer needs before sending (C14), computed
// without side effects.
type Preflight struct {
	// Problems are the message-level problems that block the send: typed
	// errors matching ErrSubjectRequired, ErrEmptyBody,
	// channel.ErrNotRegistered, channel.ErrAttachment, *ptemplate.CheckError,
	// channel.ErrWindowClosed, ErrFreeFormNotAllowed ….
	Problems []error
	// Recipients holds each recipient's eligibility (R2), selected or not.
	Recipients []RecipientCheck
	// Selected is the number of recipients the message would go to.
	Selected int
	// SMS is the measurement of the body for SMS and MMS (C6).
	SMS sms.Measurement
	// Cost is the estimated total cost (C13).
	Cost channel.Cost
}

// RecipientCheck is one recipient's verdict in a preflight.
type RecipientCheck struct {
	ContactID string
	Address   string
	Verdict   recipient.Verdict
	Selected  bool
}

// Err returns the blocking problems joined, or nil when the message can go.
func (p Preflight) Err() error {
	errs := append([]error(nil), p.Problems...)
	if len(p.Problems) == 0 && p.Selected == 0 {
		errs = append(errs, ErrNoRecipient)
		for _, r := range p.Recipients {
			if err := r.Verdict.Err(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("inbox: cannot send: %w", errors.Join(errs...))
}

// plan is a preflight with what sending needs.
type plan struct {
	Preflight
	thread  Thread
	ident   channel.Identity
	caps    channel.Capabilities
	sender  channel.Sender
	origin  Origin
	targets []target
	groups  []string
	scopes  []ptemplate.Scope
}

type target struct {
	contact recipient.Contact
	address string
}

// Preflight checks a draft without sending or recording anything (C14).
func (in *Inbox) Preflight(ctx context.Context, d Draft) (Preflight, error) {
	p, err := in.plan(ctx, d)
	if err != nil {
		return Preflight{}, err
	}
	return p.Preflight, nil
}

func (in *Inbox) plan(ctx context.Context, d Draft) (*plan, error) {
	th, err := in.Thread(ctx, d.ThreadID)
	if err != nil {
		return nil, err
	}
	if !d.Kind.Valid() {
		return nil, fmt.Errorf("inbox: %w: kind %d", ErrInvalidArgument, uint8(d.Kind))
	}
	p := &plan{thread: th, origin: d.Origin}
	if p.origin == 0 {
		p.origin = store.Direct
		if th.Subject.Kind != store.Contact {
			p.origin = store.Manual
		}
	}
	problem := func(err error) { p.Problems = append(p.Problems, err) }
	if in.channels == nil {
		problem(fmt.Errorf("inbox: %s: %w", d.Kind, channel.ErrNotRegistered))
	} else if p.sender, err = in.channels.Sender(d.Kind); err != nil {
		problem(err)
	} else {
		p.caps, _ = in.channels.Capabilities(d.Kind)
		if p.ident, err = in.channels.Identity(d.Kind, d.Identity); err != nil {
			problem(err)
		}
	}
	if p.sender == nil {
		p.caps = channel.DefaultCapabilities(d.Kind)
	}
	// content (C2, C3, C5, C12)
	subject, text := d.Subject, d.Text
	if d.Template != nil {
		src := d.Template.Source()
		subject, text = src.Subject, src.Text
		if text == "" {
			text = src.HTML
		}
	}
	if d.WhatsApp != nil {
		text = d.WhatsApp.Body
	}
	if p.caps.SubjectRequired && strings.TrimSpace(subject) == "" {
		problem(fmt.Errorf("inbox: %s: %w", d.Kind, ErrSubjectRequired))
	}
	if !p.caps.SubjectAllowed && strings.TrimSpace(subject) != "" {
		problem(fmt.Errorf("inbox: %s: %w", d.Kind, ErrSubjectNotAllowed))
	}
	if d.Template == nil && d.WhatsApp == nil && strings.TrimSpace(d.Text) == "" && strings.TrimSpace(d.HTML) == "" {
		problem(fmt.Errorf("inbox: %w", ErrEmptyBody))
	}
	if !p.caps.FreeForm && d.Template == nil && d.WhatsApp == nil {
		problem(fmt.Errorf("inbox: %s: %w", d.Kind, ErrFreeFormNotAllowed))
	}
	p.scopes = in.scopesFor(th.Subject.Kind, d.Scopes)
	if d.Template != nil {
		if err := d.Template.Check(p.scopes...); err != nil {
			problem(err)
		}
	}
	if d.WhatsApp != nil && (d.ScheduledFor.After(in.now()) || d.Anchor != nil) && in.waTemplates == nil {
		problem(fmt.Errorf("inbox: %w: a scheduled WhatsApp template is looked up again when it is sent: set Options.WhatsAppTemplates", ErrInvalidArgument))
	}
	if d.WhatsApp != nil && !d.WhatsApp.Approved() {
		problem(fmt.Errorf("inbox: whatsapp template %q is %s: %w", d.WhatsApp.Name, d.WhatsApp.State, channel.ErrWindowClosed))
	}
	if err := p.caps.Attachments.Validate(d.Attachments); err != nil {
		problem(err)
	}
	if d.Kind == channel.SMS || d.Kind == channel.MMS {
		p.SMS = sms.Measure(text)
	}
	// recipients (R2–R4, C10, C11)
	if err := in.recipients(ctx, p, d); err != nil {
		return nil, err
	}
	// cost (C13)
	if in.prices != nil {
		now := in.now()
		for _, t := range p.targets {
			open := d.Kind == channel.WhatsApp && now.Sub(lastWA(t.contact)) < 24*time.Hour
			c := in.prices.estimate(d.Kind, t.address, p.SMS.Segments, open, d.WhatsApp)
			p.Cost.Micros += c.Micros
			p.Cost.Currency = c.Currency
		}
	}
	return p, nil
}

// lastWA returns the contact's latest inbound WhatsApp time as addFacts
// recorded it (C10, C13).
func lastWA(c recipient.Contact) time.Time {
	v, _ := c.Attributes[lastWAKey].(time.Time)
	return v
}

const lastWAKey = "parley.lastWhatsApp"

// scopesFor returns the template scopes a send context provides (C5).
func (in *Inbox) scopesFor(k SubjectKind, extra []ptemplate.Scope) []ptemplate.Scope {
	s := []ptemplate.Scope{ptemplate.ScopeContact, ptemplate.ScopeAccount, ptemplate.ScopeAgent}
	switch k {
	case store.Audience:
		s = append(s, ptemplate.ScopeAudience)
	case store.Event:
		s = append(s, ptemplate.ScopeEvent)
	}
	return append(s, extra...)
}

// recipients fills the plan's recipients and verdicts.
func (in *Inbox) recipients(ctx context.Context, p *plan, d Draft) error {
	purpose := recipient.Transactional
	if d.Marketing {
		purpose = recipient.Marketing
	}
	facts := recipient.Facts{ApprovedTemplate: d.WhatsApp != nil && d.WhatsApp.Approved(),
		Automatic: p.origin == store.Automatic || p.origin == store.Scheduled || !d.ScheduledFor.IsZero() || d.Anchor != nil}
	if p.ident.ID != "" {
		id := p.ident
		facts.Identity = &id
	}
	tgt := recipient.Target{Kind: d.Kind, Purpose: purpose, Facts: facts,
		ContactFacts: func(c recipient.Contact, f recipient.Facts) recipient.Facts {
			if c.Attributes != nil {
				f.LastInboundWhatsApp, _ = c.Attributes[lastWAKey].(time.Time)
				f.GuestWrote, _ = c.Attributes[guestKey].(bool)
			}
			return f
		}}
	var sel *recipient.Selection
	switch p.thread.Subject.Kind {
	case store.Contact:
		c, err := in.contactOf(ctx, p.thread.Subject)
		if err != nil {
			return err
		}
		members := []recipient.Contact{c}
		if err := in.addFacts(ctx, members, d.Kind, &p.thread); err != nil {
			return err
		}
		sel, err = in.rules.Audience(members, tgt)
		if err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	case store.Audience:
		a, err := in.dir.Audience(ctx, p.thread.Subject.ID)
		if err != nil {
			return fmt.Errorf("inbox: audience %s: %w", p.thread.Subject.ID, err)
		}
		members := a.Members
		if err := in.addFacts(ctx, members, d.Kind, nil); err != nil {
			return err
		}
		if sel, err = in.rules.Audience(members, tgt); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
	case store.Event:
		e, err := in.dir.Event(ctx, p.thread.Subject.ID)
		if err != nil {
			return fmt.Errorf("inbox: event %s: %w", p.thread.Subject.ID, err)
		}
		cs := make([]recipient.Contact, len(e.Attendees))
		for i, a := range e.Attendees {
			cs[i] = a.Contact
		}
		if err := in.addFacts(ctx, cs, d.Kind, nil); err != nil {
			return err
		}
		att := make([]recipient.Attendee, len(e.Attendees))
		for i, a := range e.Attendees {
			att[i] = recipient.Attendee{Contact: cs[i], Group: a.Group}
		}
		if sel, err = in.rules.Event(att, tgt); err != nil {
			return fmt.Errorf("inbox: %w", err)
		}
		for _, g := range d.Groups {
			if err := sel.SelectGroup(g); err != nil {
				return fmt.Errorf("inbox: %w: %w", ErrInvalidArgument, err)
			}
			p.groups = append(p.groups, g.String())
		}
	}
	chosen := sel.Selected()
	if d.Selection != nil && p.thread.Subject.Kind != store.Contact {
		chosen = d.Selection.Selected()
		for _, g := range d.Selection.Groups() {
			if d.Selection.GroupSelected(g) {
				p.groups = append(p.groups, g.String())
			}
		}
	}
	isChosen := make(map[string]bool, len(chosen))
	for _, id := range chosen {
		isChosen[id] = true
	}
	for _, m := range sel.Members() {
		ok := isChosen[m.Contact.ID] && m.Selectable()
		p.Recipients = append(p.Recipients, RecipientCheck{ContactID: m.Contact.ID, Address: m.Contact.Address(d.Kind), Verdict: m.Verdict, Selected: ok})
		if ok {
			p.Selected++
			p.targets = append(p.targets, target{contact: m.Contact, address: m.Contact.Address(d.Kind)})
		}
	}
	if p.thread.Subject.Kind == store.Contact && p.Selected == 0 {
		// a direct message to an ineligible contact: the verdict is the problem
		if err := sel.Members()[0].Verdict.Err(); err != nil {
			p.Problems = append(p.Problems, err)
		}
	}
	return nil
}

const guestKey = "parley.guestWrote"

// contactOf returns the contact of a contact subject; an address subject
// gives a contact with just that address.
func (in *Inbox) contactOf(ctx context.Context, s Subject) (recipient.Contact, error) {
	if isAddressSubject(s) || in.dir == nil {
		snap := addressSnapshot(s)
		return recipient.Contact{ID: s.ID, Phone: snap.Phone, Email: snap.Email,
			AirbnbID: strings.TrimPrefix(s.ID, "airbnb:"), PushTokens: pushTokens(s)}, nil
	}
	c, err := in.dir.Contact(ctx, s.ID)
	if err != nil {
		return recipient.Contact{}, fmt.Errorf("inbox: contact %s: %w", s.ID, err)
	}
	return c, nil
}

func pushTokens(s Subject) []string {
	if t, ok := strings.CutPrefix(s.ID, "push:"); ok {
		return []string{t}
	}
	return nil
}

// addFacts marks the recorded opt-outs (R5) and, for WhatsApp and Airbnb,
// the facts of each contact's own thread (C10, C11) on the contacts.
func (in *Inbox) addFacts(ctx context.Context, cs []recipient.Contact, kind channel.Kind, own *Thread) error {
	addrs := make([]string, 0, len(cs))
	for _, c := range cs {
		if a := c.Address(kind); a != "" {
			addrs = append(addrs, in.address(kind, a))
		}
	}
	out, err := in.optedOut(ctx, kind, addrs)
	if err != nil {
		return err
	}
	for i := range cs {
		if out[in.address(kind, cs[i].Address(kind))] {
			cs[i].OptedOut = cs[i].OptedOut.With(kind)
		}
		if kind != channel.WhatsApp && kind != channel.Airbnb {
			continue
		}
		th := own
		if th == nil {
			t, err := in.store.LiveThread(ctx, Subject{Kind: store.Contact, ID: cs[i].ID})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return wrapStore("live thread", err)
			}
			if err == nil {
				th = &t
			}
		}
		attrs := make(map[string]any, len(cs[i].Attributes)+2)
		for k, v := range cs[i].Attributes {
			attrs[k] = v
		}
		if th != nil {
			attrs[lastWAKey] = th.LastWhatsAppAt
			attrs[guestKey] = th.HasInbound(channel.Airbnb)
		}
		cs[i].Attributes = attrs
	}
	return nil
}

// SendResult is what a send did.
type SendResult struct {
	// Message is the message recorded in the thread.
	Message Message
	// Deliveries are its deliveries as they ended (or as scheduled).
	Deliveries []Delivery
	// Preflight is the check the send passed.
	Preflight Preflight
}

// Send checks a draft exactly as Preflight does, refuses it with the same
// typed errors when anything blocks it, records the message with one
// delivery per selected recipient (M2) before anything is sent, and then
// sends them, with bounded concurrency, per-identity rate limits and retries
// of transient failures only. A scheduled draft is recorded and sent later
// by Dispatch (C8, C15).
//
// When ctx ends during the fan-out, deliveries not attempted stay pending
// with the reason recorded; none is lost and none is sent twice. Send
// returns ctx's error then; per-recipient failures do not fail the send:
// they are in the deliveries' statuses (failed, with the reason).
func (in *Inbox) Send(ctx context.Context, d Draft) (SendResult, error) {
	p, err := in.plan(ctx, d)
	if err != nil {
		return SendResult{}, err
	}
	if err := p.Err(); err != nil {
		return SendResult{Preflight: p.Preflight}, err
	}
	now := in.now()
	due := d.ScheduledFor
	var anchor, rule string
	if d.Anchor != nil {
		if due, err = d.Anchor.due(); err != nil {
			return SendResult{}, err
		}
		anchor, rule = d.Anchor.Ref, d.Anchor.encode()
	}
	scheduled := due.After(now)
	msg := Message{Kind: d.Kind, Origin: p.origin, Subject: d.Subject, Text: d.Text, HTML: d.HTML,
		Attachments: d.Attachments, Identity: p.ident.ID, Author: d.Author, Broadcast: d.Broadcast,
		Marketing: d.Marketing, Groups: p.groups, Cost: p.Cost,
		SMS: store.SMSInfo{Encoding: p.SMS.Encoding.String(), Segments: p.SMS.Segments, Units: p.SMS.Units}}
	if scheduled {
		msg.ScheduledFor, msg.SentAt = due, due
		if msg.Origin == store.Direct || msg.Origin == store.Manual {
			msg.Origin = store.Scheduled
		}
	}
	if d.Template != nil {
		src := d.Template.Source()
		msg.Subject, msg.Text, msg.HTML, msg.Template = src.Subject, src.Text, src.HTML, d.Template.Name()
		msg.Templated = true
	}
	if d.WhatsApp != nil {
		msg.Text, msg.Template, msg.Templated = d.WhatsApp.Body, whatsAppRef(d.WhatsApp), true
	}
	direct := p.thread.Subject.Kind == store.Contact && len(p.targets) == 1
	if direct && d.WhatsApp != nil {
		// the thread shows the template as the contact receives it
		data, err := in.templateData(ctx, p.targets[0].contact, p.thread.Subject)
		if err != nil {
			return SendResult{}, fmt.Errorf("inbox: template data: %w", err)
		}
		params, err := d.WhatsApp.Render(in.catalog, data)
		if err != nil {
			return SendResult{}, fmt.Errorf("inbox: %w", err)
		}
		msg.Text, msg.Templated = d.WhatsApp.Text(params), false
	}
	if direct && msg.Templated && d.WhatsApp == nil {
		// a direct message shows what the contact receives
		out, err := in.render(ctx, d.Template, d.Kind, p.targets[0].contact, p.thread.Subject)
		if err != nil {
			return SendResult{}, err
		}
		msg.Subject, msg.Text, msg.HTML, msg.Templated = out.Subject, out.Text, out.HTML, false
	}
	st := status.Pending
	if scheduled {
		st = status.Scheduled
	}
	ds := make([]Delivery, len(p.targets))
	for i, t := range p.targets {
		ds[i] = Delivery{ContactID: t.contact.ID, Address: in.address(d.Kind, t.address), Identity: p.ident.ID,
			Status: status.Record{Current: st, History: []status.Change{{Status: st, At: now}}}, Anchor: anchor, AnchorRule: rule}
		if scheduled {
			ds[i].DueAt = due
		}
		if s, ok := d.Stays[t.contact.ID]; ok {
			ds[i].CheckIn, ds[i].CheckOut = s.CheckIn, s.CheckOut
		}
	}
	m, ds, err := in.RecordOutbound(ctx, Outgoing{ThreadID: p.thread.ID, Message: msg, Deliveries: ds})
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{Message: m, Deliveries: ds, Preflight: p.Preflight}
	if in.mirror && d.Broadcast != "" && !direct {
		if err := in.mirrorBroadcast(ctx, m, p.targets); err != nil {
			return res, err
		}
	}
	if scheduled {
		return res, nil
	}
	job := &fanout{in: in, msg: m, tpl: d.Template, wa: d.WhatsApp, sender: p.sender, ident: p.ident,
		subject: p.thread.Subject, contacts: p.targets, replyTo: in.replyAddress}
	err = job.run(ctx, ds)
	res.Deliveries = ds
	if err == nil {
		res.Message, err = in.Message(ctx, m.ID)
	}
	return res, err
}

// whatsAppRef is how a message records the approved WhatsApp template it
// was sent with, so a dispatcher can look it up again (C8, C10).
func whatsAppRef(w *ptemplate.WhatsAppTemplate) string {
	return "whatsapp:" + w.Name + ":" + w.Language
}

// mirrorBroadcast records the broadcast in every recipient's own thread
// (M3), without deliveries: the group message holds them.
func (in *Inbox) mirrorBroadcast(ctx context.Context, m Message, targets []target) error {
	for _, t := range targets {
		th, _, err := in.threadFor(ctx, Subject{Kind: store.Contact, ID: t.contact.ID}, nil)
		if err != nil {
			return err
		}
		mm := m
		mm.MirrorOf, mm.Recipients, mm.Counts = m.ID, 0, status.Counts{}
		if _, _, err := in.RecordOutbound(ctx, Outgoing{ThreadID: th.ID, Message: mm}); err != nil {
			return err
		}
	}
	return nil
}

// render renders a template for one recipient.
func (in *Inbox) render(ctx context.Context, t *ptemplate.Template, kind channel.Kind, c recipient.Contact, s Subject) (ptemplate.Output, error) {
	data, err := in.templateData(ctx, c, s)
	if err != nil {
		return ptemplate.Output{}, fmt.Errorf("inbox: template data: %w", err)
	}
	f := ptemplate.FormatText
	switch kind {
	case channel.Email:
		f = ptemplate.FormatEmail
	case channel.Airbnb:
		f = ptemplate.FormatAirbnb
	}
	out, err := t.Render(ctx, f, data)
	if err != nil {
		return ptemplate.Output{}, fmt.Errorf("inbox: render %s for %s: %w", t.Name(), c.ID, err)
	}
	return *out, nil
}

// DefaultTemplateData gives a template the contact's fields and attributes
// (scope contact), the thread's audience or event name, and the account
// values of Options.Account.
func (in *Inbox) defaultTemplateData(ctx context.Context, c recipient.Contact, s Subject) (ptemplate.Resolver, error) {
	contact := map[string]any{"ID": c.ID, "FirstName": c.FirstName, "LastName": c.LastName, "Email": c.Email, "Phone": c.Phone, "Name": c.Name()}
	for k, v := range c.Attributes {
		if !strings.HasPrefix(k, "parley.") {
			contact[k] = v
		}
	}
	v := ptemplate.Values{ptemplate.ScopeContact: contact}
	if in.account != nil {
		v[ptemplate.ScopeAccount] = in.account
	}
	return v, nil
}

// fanout sends the deliveries of one message.
type fanout struct {
	in       *Inbox
	msg      Message
	tpl      *ptemplate.Template
	wa       *ptemplate.WhatsAppTemplate
	sender   channel.Sender
	ident    channel.Identity
	subject  Subject
	contacts []target
	replyTo  func(threadID string) string
}

func (f *fanout) run(ctx context.Context, ds []Delivery) error {
	in := f.in
	lim := in.limiter(f.ident)
	// a fixed pool of workers takes the deliveries in order; each slot of
	// ds is written by the one worker that took it
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	g, gctx := errgroup.WithContext(ctx)
	for range min(in.concurrency, len(ds)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ds) || gctx.Err() != nil {
					return nil
				}
				d, err := f.one(gctx, lim, ds[i], f.contacts[i].contact)
				ds[i] = d
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	_ = g.Wait()
	// deliveries never attempted: recorded as such (still pending)
	if ctx.Err() != nil {
		for i := range ds {
			if ds[i].Attempts == 0 && ds[i].Status.Current == status.Pending && ds[i].Reason == "" {
				d, err := in.updateDelivery(context.WithoutCancel(ctx), ds[i].ID, func(d *Delivery) bool {
					if d.Attempts > 0 || d.Reason != "" {
						return false
					}
					d.Reason = "not attempted: " + ctx.Err().Error()
					return true
				})
				if err == nil {
					ds[i] = d
				}
			}
		}
		return ctx.Err()
	}
	return firstErr
}

// one sends one delivery with retries and records the outcome. It returns
// a store error only; channel failures are recorded on the delivery.
func (f *fanout) one(ctx context.Context, lim *rate.Limiter, d Delivery, c recipient.Contact) (Delivery, error) {
	in := f.in
	msg := &channel.Message{Kind: f.msg.Kind, From: f.ident, To: d.Address, Subject: f.msg.Subject, Text: f.msg.Text,
		HTML: f.msg.HTML, Attachments: f.msg.Attachments, Reference: d.ID}
	if f.replyTo != nil && f.msg.Kind == channel.Email {
		msg.ReplyTo = f.replyTo(f.msg.ThreadID)
	}
	if f.wa != nil || f.msg.Templated {
		switch {
		case f.wa != nil:
			data, err := in.templateData(ctx, c, f.subject)
			if err == nil {
				var params []string
				params, err = f.wa.Render(in.catalog, data)
				msg.Template = &channel.TemplateRef{Name: f.wa.Name, Language: f.wa.Language, Params: params}
				msg.Text = f.wa.Text(params)
			}
			if err != nil {
				return f.finish(ctx, d, channel.Receipt{}, fmt.Errorf("inbox: %w: %w", channel.ErrPermanent, err), 0)
			}
		case f.tpl != nil:
			out, err := in.render(ctx, f.tpl, f.msg.Kind, c, f.subject)
			if err != nil {
				return f.finish(ctx, d, channel.Receipt{}, fmt.Errorf("%w: %w", channel.ErrPermanent, err), 0)
			}
			msg.Subject, msg.Text, msg.HTML = out.Subject, out.Text, out.HTML
		}
	}
	attempts := 0
	backoff := in.retry.Backoff
	for {
		if attempts == 0 && ctx.Err() != nil {
			return d, nil // not attempted: the caller records it
		}
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				if attempts == 0 {
					return d, nil // not attempted: the caller records it
				}
				return f.finish(ctx, d, channel.Receipt{}, err, attempts)
			}
		}
		attempts++
		r, err := f.sender.Send(ctx, msg)
		if err == nil || !channel.Retryable(err) || attempts >= in.retry.Attempts || ctx.Err() != nil {
			return f.finish(ctx, d, r, err, attempts)
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return f.finish(ctx, d, channel.Receipt{}, err, attempts)
		case <-t.C:
		}
		backoff = min(2*backoff, in.retry.MaxBackoff)
	}
}

// finish records a send's outcome on its delivery.
func (f *fanout) finish(ctx context.Context, d Delivery, r channel.Receipt, sendErr error, attempts int) (Delivery, error) {
	in := f.in
	now := in.now()
	wctx := context.WithoutCancel(ctx)
	if errors.Is(sendErr, channel.ErrOptedOut) {
		_ = in.SetOptedOut(wctx, d.Kind, d.Address, true)
	}
	// The send happened (or failed): its outcome must be recorded, so a
	// failing store write is retried a few times before giving up.
	var out Delivery
	var err error
	for try := 0; try < 5; try++ {
		if try > 0 {
			t := time.NewTimer(in.retry.Backoff << (try - 1))
			<-t.C
		}
		out, err = in.recordOutcome(wctx, d, r, sendErr, attempts, now)
		if err == nil {
			break
		}
	}
	if err != nil {
		return d, err
	}
	if sendErr == nil {
		in.publish(Event{Type: EventStatusChanged, ThreadID: out.ThreadID, MessageID: out.MessageID, DeliveryID: out.ID,
			ProviderID: out.ProviderID, Status: out.Status.Current, At: now})
	}
	return out, nil
}

// recordOutcome writes a send's outcome on its delivery, first on the
// version the caller holds (usually still current), then on a fresh read.
func (in *Inbox) recordOutcome(ctx context.Context, d Delivery, r channel.Receipt, sendErr error, attempts int, now time.Time) (Delivery, error) {
	return in.updateDeliveryFrom(ctx, d, func(d *Delivery) bool {
		d.Attempts += attempts
		switch {
		case sendErr == nil:
			d.ProviderID = r.ProviderID
			s := r.Status
			if !s.Valid() {
				s = status.Validated
			}
			_, _ = d.Status.Apply(status.Change{Status: s, At: now, Raw: "accepted"})
		case errors.Is(sendErr, context.Canceled) || errors.Is(sendErr, context.DeadlineExceeded):
			d.Reason = "interrupted, outcome unknown: " + sendErr.Error()
		default:
			d.Reason = sendErr.Error()
			_, _ = d.Status.Apply(status.Change{Status: status.Failed, At: now, ErrorMessage: sendErr.Error()})
		}
		return true
	})
}

// updateDelivery reads a delivery, lets fn change it (false: no change) and
// writes it, retrying on conflicts.
func (in *Inbox) updateDelivery(ctx context.Context, id string, fn func(*Delivery) bool) (Delivery, error) {
	return in.updateDeliveryFrom(ctx, Delivery{ID: id}, fn)
}

// updateDeliveryFrom is updateDelivery starting from a copy the caller
// holds when it has a version (saving a read when nobody wrote since).
func (in *Inbox) updateDeliveryFrom(ctx context.Context, held Delivery, fn func(*Delivery) bool) (Delivery, error) {
	id := held.ID
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return Delivery{}, err
		}
		d := held
		if try > 0 || held.Version == 0 {
			var err error
			if d, err = in.store.Delivery(ctx, id); err != nil {
				return Delivery{}, wrapStore("delivery "+id, err)
			}
		} else {
			d.Status = d.Status.Clone()
		}
		if !fn(&d) {
			return d, nil
		}
		cleanDelivery(&d) // a provider's ID and error text, as every store keeps them
		err := in.store.WriteDelivery(ctx, d)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Delivery{}, wrapStore("write delivery "+id, err)
		}
		d.Version++
		return d, nil
	}
	return Delivery{}, fmt.Errorf("inbox: delivery %s: %w", id, ErrConflict)
}

// limiter returns the rate limiter of an identity, nil when unlimited.
func (in *Inbox) limiter(id channel.Identity) *rate.Limiter {
	in.limMu.Lock()
	defer in.limMu.Unlock()
	key := id.Kind.String() + "/" + id.ID
	if l, ok := in.limiters[key]; ok {
		return l
	}
	var l *rate.Limiter
	for _, rl := range in.rateLimits {
		if rl.Kind == id.Kind && (rl.Identity == "" || rl.Identity == id.ID) {
			burst := rl.Burst
			if burst < 1 {
				burst = 1
			}
			l = rate.NewLimiter(rate.Limit(rl.PerSecond), burst)
			if rl.Identity == id.ID {
				break
			}
		}
	}
	in.limiters[key] = l
	return l
}

// RateLimit caps sends per second through one sender identity, or through
// every identity of a kind when Identity is "".
type RateLimit struct {
	Kind      channel.Kind
	Identity  string
	PerSecond float64
	Burst     int
}

// Retry is the retry policy of transient send failures.
type Retry struct {
	// Attempts is the largest number of attempts per delivery (default 3).
	Attempts int
	// Backoff is the first wait (default 200 ms); it doubles up to
	// MaxBackoff (default 5 s), with jitter.
	Backoff, MaxBackoff time.Duration
}
