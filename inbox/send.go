package inbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

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
	// Template, when set, is rendered for each recipient (C4, C5) with the
	// values of the scopes the send provides; see Values.
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
	// Values are this send's own template values (C5): scopes that belong
	// to the message rather than to the thread or the recipient's records
	// (a gift card, an appointment, a booking). Each scope in Values is
	// provided, so preflight accepts its variables.
	//
	// The scopes a send provides are: the contact (always); the account
	// when Options.Account is set; the agent when Author.Agent is set and
	// the Directory is an AgentDirectory that knows the agent; the event of
	// an event thread and the audience of an audience thread, from the
	// Directory; Options.TemplateScopes and Scopes (filled by
	// Options.TemplateData); and those of Values and RecipientValues. A
	// template variable of any other scope is a preflight problem, with its
	// position. Preflight renders the message for every recipient: one
	// whose values leave a variable without a value is reported
	// (RecipientCheck.Problem) and not sent to.
	//
	// Values are not kept: a scheduled message is rendered again when it
	// goes, with the records as they are then, and a template that needs
	// its send's values then goes as it was rendered when it was scheduled.
	// A scheduled WhatsApp template, whose parameters are rendered when it
	// goes, cannot take them from Values.
	Values ptemplate.Values
	// RecipientValues are per-recipient values by contact ID (each guest's
	// booking); a recipient's values come before Values.
	RecipientValues map[string]ptemplate.Values
	// Scopes declares scopes that Options.TemplateData provides for this
	// send only (C5).
	Scopes []ptemplate.Scope
	// Selection is the composer's recipient selection for a group send
	// (R3, R4), from Inbox.Selection; nil means the default selection
	// (audience: every valid member; event: the valid members of Groups).
	// Only its members who are selectable now are sent to.
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
	// Scopes are the template scopes the send provides (C5): a variable
	// picker offers the catalog's Variables of these scopes.
	Scopes []ptemplate.Scope
	// SMS is the measurement (C6), for SMS and MMS, of the text a selected
	// recipient receives: for a group message, the one with the most
	// segments. Like the cost, it is measured on each recipient's rendered
	// text, as Send sends it.
	SMS sms.Measurement
	// Segments is the total number of SMS segments over the selected
	// recipients; MinSegments and MaxSegments are the fewest and the most
	// one recipient gets.
	Segments, MinSegments, MaxSegments int
	// Cost is the estimated total cost (C13).
	Cost channel.Cost
}

// RecipientCheck is one recipient's verdict in a preflight, and for a
// selected recipient what they would be sent.
type RecipientCheck struct {
	ContactID string
	Address   string
	Verdict   recipient.Verdict
	Selected  bool
	// Problem is why the message cannot be rendered for this recipient (a
	// *ptemplate.RenderError: a variable without a value, C5); such a
	// recipient is not selected.
	Problem error
	// Subject, Text and HTML are the message rendered for the recipient.
	Subject, Text, HTML string
	// Segments and Cost are the SMS segments (C6) and the cost (C13) of
	// what the recipient would be sent.
	Segments int
	Cost     channel.Cost
}

// Err returns the blocking problems joined, or nil when the message can go.
func (p Preflight) Err() error {
	errs := append([]error(nil), p.Problems...)
	if len(p.Problems) == 0 && p.Selected == 0 {
		errs = append(errs, ErrNoRecipient)
		for _, r := range p.Recipients {
			if err := r.Verdict.Err(); err != nil {
				errs = append(errs, err)
			} else if r.Problem != nil {
				errs = append(errs, r.Problem)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("inbox: cannot send: %w", errors.Join(errs...))
}

// plan is a preflight with what sending needs: Preflight and Send come
// from one plan, so that Send sends what Preflight reported.
type plan struct {
	Preflight
	thread   Thread
	ident    channel.Identity
	caps     channel.Capabilities
	sender   channel.Sender
	origin   Origin
	targets  []target
	groups   []string
	content  content
	src      *sources
	event    *EventInfo
	audience *AudienceInfo
}

// target is a selected recipient: the contact, the address and what it is
// sent, rendered once by the plan.
type target struct {
	contact *recipient.Contact // in the plan's copy of the selection's members
	address string
	check   int // index in Preflight.Recipients
	out     rendered
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
	p := &plan{thread: th, origin: originOf(d, th)}
	problem := func(err error) { p.Problems = append(p.Problems, err) }
	if in.channels == nil {
		problem(fmt.Errorf("inbox: %s %w", d.Kind, channel.ErrNotRegistered))
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
	subject := d.Subject
	switch {
	case d.WhatsApp != nil:
		p.content = content{kind: d.Kind, wa: d.WhatsApp}
	case d.Template != nil:
		p.content = content{kind: d.Kind, tpl: d.Template}
	default:
		p.content = content{kind: d.Kind, subject: d.Subject, text: d.Text, html: d.HTML}
	}
	if d.Template != nil {
		subject = d.Template.Source().Subject
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
	// the thread's event or audience: recipients and template values (C5)
	if err := in.groupOf(ctx, p); err != nil {
		return nil, err
	}
	if p.src, err = in.sources(ctx, th, p.event, p.audience, d.Author, &d); err != nil {
		return nil, err
	}
	p.Scopes = p.src.declared
	renderable := true
	if d.Template != nil {
		if err := d.Template.Check(p.Scopes...); err != nil {
			problem(err)
			renderable = false
		}
	}
	if d.WhatsApp != nil {
		if err := in.checkWhatsAppScopes(d.WhatsApp, p.Scopes); err != nil {
			problem(err)
			renderable = false
		}
	}
	if d.WhatsApp != nil && (d.ScheduledFor.After(in.now()) || d.Anchor != nil) && in.waTemplates == nil {
		problem(fmt.Errorf("inbox: %w: a scheduled WhatsApp template is looked up again when it is sent: set Options.WhatsAppTemplates", ErrInvalidArgument))
	}
	if d.WhatsApp != nil && (d.ScheduledFor.After(in.now()) || d.Anchor != nil) {
		// its parameters are rendered again when it goes, and a send's own
		// values are not kept until then
		for _, path := range d.WhatsApp.Params {
			root, _, _ := strings.Cut(strings.TrimPrefix(path, "."), ".")
			if scope, ok := in.catalog.ScopeOf(root); ok && in.draftOnly(p, d, scope) {
				problem(fmt.Errorf("inbox: %w: a scheduled WhatsApp template is rendered again when it goes: parameter %s needs the %s scope, which only this send's Values provide", ErrInvalidArgument, path, scope))
			}
		}
	}
	if d.WhatsApp != nil && !d.WhatsApp.Approved() {
		problem(fmt.Errorf("inbox: %w", templateState(d.WhatsApp)))
	}
	if err := p.caps.Attachments.Validate(d.Attachments); err != nil {
		problem(err)
	}
	// recipients (R2–R4, C10, C11)
	if err := in.recipients(ctx, p, d); err != nil {
		return nil, err
	}
	// what each recipient is sent, its segments and cost (C5, C6, C13)
	if renderable {
		in.renderTargets(ctx, p)
	}
	return p, nil
}

// draftOnly reports whether only the draft's own values (not kept for a
// scheduled message) provide scope.
func (in *Inbox) draftOnly(p *plan, d Draft, scope ptemplate.Scope) bool {
	_, given := d.Values[scope]
	for _, v := range d.RecipientValues {
		if _, ok := v[scope]; ok {
			given = true
		}
	}
	if !given || scope == ptemplate.ScopeContact || slices.Contains(in.templateScopes, scope) || slices.Contains(d.Scopes, scope) {
		return false
	}
	_, shared := p.src.shared[scope]
	return !shared
}

// templateState is the refusal of a WhatsApp template that is not approved
// (C10).
func templateState(w *ptemplate.WhatsAppTemplate) *channel.TemplateStateError {
	return &channel.TemplateStateError{Name: w.Name, Language: w.Language, State: string(w.State), Reason: w.RejectionReason}
}

// groupOf reads the event or audience of a group thread.
func (in *Inbox) groupOf(ctx context.Context, p *plan) error {
	s := p.thread.Subject
	if s.Kind == store.Contact {
		return nil
	}
	if in.dir == nil {
		return fmt.Errorf("inbox: %s: no directory: %w", s, ErrNotFound)
	}
	switch s.Kind {
	case store.Audience:
		a, err := in.dir.Audience(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("inbox: audience %s: %w", s.ID, err)
		}
		p.audience = &a
	case store.Event:
		e, err := in.dir.Event(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("inbox: event %s: %w", s.ID, err)
		}
		p.event = &e
	}
	return nil
}

// renderTargets renders the message for every selected recipient, once:
// a recipient it cannot be rendered for is deselected with the reason, and
// the SMS measurement and cost add up over the others (C5, C6, C13).
func (in *Inbox) renderTargets(ctx context.Context, p *plan) {
	errs := in.renderAll(ctx, &p.content, p.src, p.targets)
	kept := p.targets[:0]
	for i, t := range p.targets {
		rc := &p.Recipients[t.check]
		if errs[i] != nil {
			rc.Selected, rc.Problem = false, errs[i]
			p.Selected--
			if p.thread.Subject.Kind == store.Contact {
				p.Problems = append(p.Problems, errs[i])
			}
			continue
		}
		rc.Subject, rc.Text, rc.HTML, rc.Segments, rc.Cost = t.out.subject, t.out.text, t.out.html, t.out.sms.Segments, t.out.cost
		if t.out.sms.Segments > p.SMS.Segments || t.out.sms.Segments == p.SMS.Segments && t.out.sms.Units > p.SMS.Units {
			p.SMS = t.out.sms
		}
		if len(kept) == 0 || t.out.sms.Segments < p.MinSegments {
			p.MinSegments = t.out.sms.Segments
		}
		p.MaxSegments = max(p.MaxSegments, t.out.sms.Segments)
		p.Segments += t.out.sms.Segments
		p.Cost.Micros += t.out.cost.Micros
		if t.out.cost.Currency != "" {
			p.Cost.Currency = t.out.cost.Currency
		}
		kept = append(kept, t)
	}
	p.targets = kept
}

// lastWA returns the contact's latest inbound WhatsApp time as addFacts
// recorded it (C10, C13).
func lastWA(c recipient.Contact) time.Time {
	v, _ := c.Attributes[lastWAKey].(time.Time)
	return v
}

const lastWAKey = "parley.lastWhatsApp"

// recipients fills the plan's recipients and verdicts, from the selection
// Selection returns (what a composer shows is what Send sends to).
func (in *Inbox) recipients(ctx context.Context, p *plan, d Draft) error {
	sel, err := in.selectionFor(ctx, p, d)
	if err != nil {
		return err
	}
	chosen := sel
	if d.Selection != nil && p.thread.Subject.Kind != store.Contact {
		chosen = d.Selection
		for _, g := range d.Selection.Groups() {
			if d.Selection.GroupSelected(g) {
				p.groups = append(p.groups, g.String())
			}
		}
	}
	// sel is this plan's own: the targets point into its members
	members := sel.MemberView()
	p.Recipients = make([]RecipientCheck, 0, len(members))
	p.targets = make([]target, 0, chosen.Count())
	for i := range members {
		m := &members[i]
		// the plan's own selection by position; the composer's by contact
		var picked bool
		if chosen == sel {
			picked = sel.IsSelectedAt(i)
		} else {
			picked = chosen.IsSelected(m.Contact.ID)
		}
		ok := picked && m.Selectable()
		addr := m.Contact.Address(d.Kind)
		p.Recipients = append(p.Recipients, RecipientCheck{ContactID: m.Contact.ID, Address: addr, Verdict: m.Verdict, Selected: ok})
		if ok {
			p.Selected++
			p.targets = append(p.targets, target{contact: &m.Contact, address: addr, check: len(p.Recipients) - 1})
		}
	}
	if p.thread.Subject.Kind == store.Contact && p.Selected == 0 {
		// a direct message to an ineligible contact: the verdict is the problem
		if err := sel.MemberView()[0].Verdict.Err(); err != nil {
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

// addFacts returns cs with the recorded opt-outs (R5) marked and, for
// WhatsApp and Airbnb, the facts of each contact's own thread (C10, C11).
// It changes no contact of cs: the contacts it marks are in a copy of cs,
// made on the first change, so that cs may be the directory's own slice (a
// send to an audience of 100,000 with no opt-out copies none of them).
func (in *Inbox) addFacts(ctx context.Context, cs []recipient.Contact, kind channel.Kind, own *Thread) ([]recipient.Contact, error) {
	copied := false
	mine := func() {
		if !copied {
			cs, copied = slices.Clone(cs), true
		}
	}
	if kind == channel.Push {
		retired, err := in.markRetired(ctx, cs)
		if err != nil {
			return nil, err
		}
		if retired != nil {
			cs, copied = retired, true
		}
	}
	// each contact's address, canonical, once: the opt-outs are read by it
	canon := make([]string, len(cs))
	addrs := make([]string, 0, len(cs))
	for i := range cs {
		if a := cs[i].Address(kind); a != "" {
			canon[i] = in.address(kind, a)
			addrs = append(addrs, canon[i])
		}
	}
	out, err := in.optedOut(ctx, kind, addrs)
	if err != nil {
		return nil, err
	}
	if kind == channel.WhatsApp || kind == channel.Airbnb {
		mine() // every contact gets the facts of its own thread
	}
	for i := range cs {
		if len(out) > 0 && out[canon[i]] && !cs[i].OptedOut.Has(kind) {
			mine()
			cs[i].OptedOut = cs[i].OptedOut.With(kind)
		}
		if kind != channel.WhatsApp && kind != channel.Airbnb {
			continue
		}
		th := own
		if th == nil {
			t, err := in.store.LiveThread(ctx, Subject{Kind: store.Contact, ID: cs[i].ID})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, wrapStore("live thread", err)
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
	return cs, nil
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
// Each delivery is marked as sending in the store before its provider is
// called (Delivery.Sending, the outbox): one that cannot be marked (the
// store is down for Options.OutcomeRetry) is not sent, and an outcome the
// store refuses is kept and written in the background, for
// Options.OutcomeRetry; a delivery still marked after that is resolved by
// Recover, never sent again. On a store that writes deliveries in batches
// (store.DeliveriesWriter, as memstore does), without a rate limit and
// outside a recording trace, each worker marks a short run of deliveries
// in one write before sending them, and records their outcomes in one
// write after: the run is as long as its sends take about a millisecond,
// from 1 to 64 deliveries.
//
// When ctx ends during the fan-out, deliveries not attempted stay pending
// with the reason recorded; none is lost and none is sent twice. Send
// returns ctx's error then; per-recipient failures do not fail the send:
// they are in the deliveries' statuses (failed, with the reason). Once
// every delivery is sent and recorded, a store that cannot give the
// message back (its final counts) does not fail the send either: the
// failure is logged and the result holds the message as recorded.
func (in *Inbox) Send(ctx context.Context, d Draft) (out SendResult, err error) {
	if err := in.begin("send"); err != nil {
		return SendResult{}, err
	}
	defer in.work.leave()
	ctx, span := in.obs.startSend(ctx, d)
	defer func() { in.obs.endSend(span, out, err) }()
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
	direct := p.thread.Subject.Kind == store.Contact
	msg := Message{Kind: d.Kind, Origin: p.origin, Attachments: d.Attachments, Identity: p.ident.ID, Author: d.Author,
		Broadcast: d.Broadcast, Marketing: d.Marketing, Groups: p.groups, Cost: p.Cost}
	// the thread shows what the contact receives, or for a group the
	// message with its variables by their labels (M2)
	switch {
	case direct:
		o := p.targets[0].out
		msg.Subject, msg.Text, msg.HTML = o.subject, o.text, o.html
	default:
		msg.Subject, msg.Text, msg.HTML = in.display(ctx, &p.content)
	}
	if d.Template != nil {
		src := d.Template.Source()
		msg.Template, msg.Templated = d.Template.Name(), true
		msg.Source = store.TemplateSource{Subject: src.Subject, Text: src.Text, HTML: src.HTML}
	}
	if d.WhatsApp != nil {
		msg.Template, msg.Templated = whatsAppRef(d.WhatsApp), true
	}
	if scheduled {
		msg.ScheduledFor = due
		if msg.Origin == store.Direct || msg.Origin == store.Manual {
			msg.Origin = store.Scheduled
		}
	}
	ds := make([]Delivery, len(p.targets))
	b := deliveryBuild{targets: p.targets, ds: ds, firsts: make([]status.Change, len(ds)), identity: p.ident.ID,
		status: status.Pending, now: now, anchor: anchor, rule: rule, stays: d.Stays}
	if scheduled {
		b.status, b.due = status.Scheduled, due
	}
	msg.SMS = b.all()
	m, ds, err := in.recordOutbound(ctx, Outgoing{ThreadID: p.thread.ID, Message: msg, Deliveries: ds})
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{Message: m, Deliveries: ds, Preflight: p.Preflight}
	if scheduled {
		// a scheduled broadcast is mirrored as each delivery goes (M3)
		return res, nil
	}
	if in.mirrors(m, p.thread) {
		for _, dl := range ds {
			if err := in.mirror1(ctx, m, dl); err != nil {
				return res, err
			}
		}
	}
	var params [][]string // only a WhatsApp template has parameters
	if d.WhatsApp != nil {
		params = make([][]string, len(p.targets))
		for i, t := range p.targets {
			params[i] = t.out.params
		}
	}
	job := &fanout{in: in, msg: m, wa: d.WhatsApp, sender: p.sender, ident: p.ident, params: params, replyTo: in.replyAddress}
	err = job.run(ctx, ds)
	res.Deliveries = ds
	if err != nil {
		return res, err
	}
	fresh, err := in.Message(ctx, m.ID)
	switch {
	case err == nil:
		res.Message = fresh
	case ctx.Err() != nil:
		return res, ctx.Err()
	default:
		// Everything is sent and every outcome recorded: a failed read of
		// the message's final counts must not read as a failed send (the
		// host would send again). The message as recorded stands in.
		in.log.Warn("inbox: send: the sent message cannot be read back; its counts are those it was recorded with",
			"message", m.ID, "err", err)
	}
	return res, nil
}

// addSMS adds the SMS measurement of a delivery, or a total of several in
// order, to total: the segments and units add up; the encoding is the last
// one other than GSM-7, else GSM-7 when any is.
func addSMS(total *store.SMSInfo, m store.SMSInfo) {
	if m.Encoding != "" && (total.Encoding == "" || m.Encoding != sms.GSM7.String()) {
		total.Encoding = m.Encoding
	}
	total.Segments += m.Segments
	total.Units += m.Units
}

// parallelMin is the least number of items per part that inParts hands
// to a goroutine of its own.
const parallelMin = 8192

// deliveryBuild makes a send's deliveries, one per target: each its first
// status change (from firsts, one array for all), its rendering, its
// address as the plan found it (recordOutbound makes it canonical) and its
// booking dates.
type deliveryBuild struct {
	targets  []target
	ds       []Delivery
	firsts   []status.Change
	identity string
	status   status.Status // Pending, or Scheduled
	now, due time.Time     // due: when scheduled
	anchor   string
	rule     string
	stays    map[string]Stay
}

// all builds every delivery and returns their SMS total: a broadcast's in
// parts, side by side, each part its own range and its own total, added
// up in order. One part is built on the caller's goroutine, with nothing
// allocated (the closure that a goroutine needs is made only for several).
func (b *deliveryBuild) all() store.SMSInfo {
	parts := partsOf(len(b.ds))
	if parts <= 1 {
		return b.part(0, len(b.ds))
	}
	totals := make([]store.SMSInfo, parts)
	c := *b // the goroutines' own: b stays where its caller made it
	inParts(len(b.ds), parts, func(part, lo, hi int) { totals[part] = c.part(lo, hi) })
	var total store.SMSInfo
	for _, t := range totals {
		addSMS(&total, t)
	}
	return total
}

// part builds deliveries [lo, hi) and returns their SMS total.
func (b *deliveryBuild) part(lo, hi int) store.SMSInfo {
	var total store.SMSInfo
	for i := lo; i < hi; i++ {
		t := &b.targets[i]
		o := &t.out
		b.firsts[i] = status.Change{Status: b.status, At: b.now}
		x := &b.ds[i]
		x.ContactID, x.Address, x.Identity = t.contact.ID, t.address, b.identity
		x.Subject, x.Text, x.HTML, x.SMS, x.Cost = o.subject, o.text, o.html, o.smsInfo(), o.cost
		x.Status = status.Record{Current: b.status, History: b.firsts[i : i+1 : i+1]}
		x.Anchor, x.AnchorRule, x.DueAt = b.anchor, b.rule, b.due
		if s, ok := b.stays[t.contact.ID]; ok {
			x.CheckIn, x.CheckOut = s.CheckIn, s.CheckOut
		}
		addSMS(&total, x.SMS)
	}
	return total
}

// partsOf is the number of parts inParts splits n items into: one per
// processor at most, with parallelMin items each at least.
func partsOf(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n/parallelMin)) }

// inParts calls fn with the ranges [lo, hi) that split [0, n) into parts
// parts (two or more), in order, each from its own goroutine, and returns
// when every call has. A caller with one part calls its work directly: the
// closure a goroutine needs would move what it uses to the heap.
func inParts(n, parts int, fn func(part, lo, hi int)) {
	size := (n + parts - 1) / parts
	var wg sync.WaitGroup
	for part := range parts {
		lo, hi := part*size, min(n, (part+1)*size)
		if lo >= hi {
			break
		}
		wg.Go(func() { fn(part, lo, hi) })
	}
	wg.Wait()
}

// whatsAppRef is how a message records the approved WhatsApp template it
// was sent with, so a dispatcher can look it up again (C8, C10).
func whatsAppRef(w *ptemplate.WhatsAppTemplate) string {
	return "whatsapp:" + w.Name + ":" + w.Language
}

// mirrors reports whether a group message m in thread th is a broadcast
// that every recipient's own thread shows (M3).
func (in *Inbox) mirrors(m Message, th Thread) bool {
	return in.mirror && m.Broadcast != "" && th.Subject.Kind != store.Contact
}

// mirror1 records broadcast m in the own thread of delivery d's recipient
// (M3), without a delivery (the group message holds it), as that recipient
// received it. It does not mark the thread read: the recipient's own
// messages there are still unanswered (T5).
func (in *Inbox) mirror1(ctx context.Context, m Message, d Delivery) error {
	th, err := in.threadFor(ctx, Subject{Kind: store.Contact, ID: d.ContactID}, time.Time{}, nil)
	if err != nil {
		return err
	}
	mm := Message{Kind: m.Kind, Origin: m.Origin, Subject: d.Subject, Text: d.Text, HTML: d.HTML, Attachments: m.Attachments,
		Identity: m.Identity, Address: d.Address, Author: m.Author, Broadcast: m.Broadcast, Template: m.Template,
		Marketing: m.Marketing, Cost: d.Cost, SMS: d.SMS, MirrorOf: m.ID, Groups: m.Groups}
	_, _, err = in.RecordOutbound(ctx, Outgoing{ThreadID: th.ID, Message: mm})
	return err
}

// fanout sends the deliveries of one message.
type fanout struct {
	in      *Inbox
	msg     Message
	wa      *ptemplate.WhatsAppTemplate
	sender  channel.Sender
	ident   channel.Identity
	params  [][]string // the WhatsApp template's parameters per delivery; nil without one
	replyTo func(threadID string) string
	// rooms is where the outcomes of the deliveries copy their histories
	// (outcome.room), handed out by room: one allocation for every
	// delivery of a fan-out rather than one each.
	rooms []status.Change
	used  atomic.Int64
}

// room returns an empty slice of capacity n from f.rooms, nil when too
// little is left.
func (f *fanout) room(n int) []status.Change {
	end := f.used.Add(int64(n))
	if end > int64(len(f.rooms)) {
		return nil
	}
	start := int(end) - n
	return f.rooms[start:start:end]
}

func (f *fanout) run(ctx context.Context, ds []Delivery) error {
	in := f.in
	lim := in.limiter(f.ident)
	// a delivery's history is its first change and its outcome's (more
	// when a status report came first: room falls back to an allocation)
	f.rooms = make([]status.Change, 2*len(ds))
	// a fixed pool of workers takes the deliveries in order; each slot of
	// ds is written by the one worker that took it
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	failed := func(err error) {
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	// on a store that writes deliveries in batches, each worker takes runs
	// of deliveries (see batch); not under a rate limit, which paces each
	// send, nor in a recording trace, where each delivery's span holds the
	// store writes of its mark and outcome; nor when each worker takes one
	// delivery at most, whose batch would be that delivery alone
	workers := min(in.concurrency, len(ds))
	batched := in.batch != nil && lim == nil && !traced(ctx) && len(ds) > workers
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			// the message handed to the sender, one per worker: a Sender
			// keeps no reference to it after returning (channel.Sender)
			msg := new(channel.Message)
			if batched {
				b := f.newBatch(len(ds) / workers)
				defer b.close()
				for size := 1; ; {
					end := int(next.Add(int64(size)))
					start := end - size
					if start >= len(ds) || gctx.Err() != nil {
						return nil
					}
					end = min(end, len(ds))
					var params [][]string
					if f.params != nil {
						params = f.params[start:end]
					}
					took, err := b.run(gctx, ds[start:end], params, msg)
					failed(err)
					switch {
					case took < batchSpan:
						size = min(2*size, maxBatch)
					case took > batchSpan:
						size = max(size/2, 1)
					}
				}
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ds) || gctx.Err() != nil {
					return nil
				}
				var params []string
				if f.params != nil {
					params = f.params[i]
				}
				d, err := f.one(gctx, lim, ds[i], params, false, msg)
				ds[i] = d
				failed(err)
			}
		})
	}
	_ = g.Wait()
	// deliveries never attempted: recorded as such (still pending)
	if ctx.Err() != nil {
		for i := range ds {
			if ds[i].Attempts == 0 && ds[i].Status.Current == status.Pending && ds[i].Reason == "" {
				d, err := in.updateDelivery(context.WithoutCancel(ctx), ds[i].ID, func(d *Delivery) bool {
					if d.Attempts > 0 || d.Reason != "" || !d.Sending.IsZero() {
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

// one sends delivery d, whose Subject, Text and HTML are what its recipient
// is sent (params: the WhatsApp template's parameters), with retries, and
// records the outcome; rendered says d's content and measurement were
// rendered just now and are recorded with it. Before the provider is
// called, d is marked as sending in the store (the outbox, see mark): a
// delivery whose mark cannot be written is not sent. It returns a store
// error only; channel failures are recorded on the delivery. msg, when not
// nil, is where the message handed to the sender is written (its previous
// content is replaced).
func (f *fanout) one(ctx context.Context, lim *sendLimiter, d Delivery, params []string, rendered bool, msg *channel.Message) (out Delivery, err error) {
	in := f.in
	ctx, span := in.obs.startDeliver(ctx, f.msg.Kind, d)
	defer func() { in.obs.endDeliver(ctx, span, out, err) }()
	if msg == nil {
		msg = new(channel.Message)
	}
	f.message(msg, &d, params)
	if ctx.Err() != nil {
		return d, nil // not attempted: the caller records it
	}
	if lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return d, nil // not attempted: the caller records it
		}
	}
	marked, ok, err := in.mark(ctx, d)
	switch {
	case err != nil && ctx.Err() != nil:
		return d, nil // not attempted: the caller records it
	case err != nil:
		return d, err
	case !ok:
		return marked, nil // sent, being sent or resolved elsewhere
	}
	if rendered {
		// the mark's write kept what is sent when it held it; the outcome
		// writes it in any case
		marked.Subject, marked.Text, marked.HTML, marked.SMS, marked.Cost = d.Subject, d.Text, d.HTML, d.SMS, d.Cost
	}
	d = marked
	in.outbox.begin(d.ID) // the outbox counts this send in flight
	defer in.outbox.end(d.ID)
	if err := ctx.Err(); err != nil {
		return f.finish(ctx, d, channel.Receipt{}, err, 0, rendered)
	}
	r, attempts, err := f.attempt(ctx, lim, msg, &span)
	return f.finish(ctx, d, r, err, attempts, rendered)
}

// message writes into msg the message handed to the sender for delivery d
// (params: the WhatsApp template's parameters), replacing what it held.
func (f *fanout) message(msg *channel.Message, d *Delivery, params []string) {
	*msg = channel.Message{Kind: f.msg.Kind, From: f.ident, To: d.Address, Subject: d.Subject, Text: d.Text,
		HTML: d.HTML, Attachments: f.msg.Attachments, Reference: d.ID}
	if f.replyTo != nil && f.msg.Kind == channel.Email {
		msg.ReplyTo = f.replyTo(f.msg.ThreadID)
	}
	if f.msg.Kind == channel.Push {
		msg.Metadata = pushMetadata(f.msg, d.ContactID)
	}
	if f.wa != nil {
		msg.Template = &channel.TemplateRef{Name: f.wa.Name, Language: f.wa.Language, Params: params}
	}
}

// attempt hands msg, whose delivery is marked, to the provider, with
// retries of transient failures (lim, when not nil, paces each retry): it
// returns the last receipt, the number of attempts and the last error.
func (f *fanout) attempt(ctx context.Context, lim *sendLimiter, msg *channel.Message, span *deliverSpan) (channel.Receipt, int, error) {
	in := f.in
	backoff := in.retry.Backoff
	for attempts := 1; ; attempts++ {
		r, err := f.sender.Send(ctx, msg)
		span.attempted(err)
		if err == nil || !channel.Retryable(err) || attempts >= in.retry.Attempts || ctx.Err() != nil {
			return r, attempts, err
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		if ra := channel.RetryAfter(err); ra > in.retry.MaxBackoff {
			// the provider asks for a longer wait than the policy allows
			return r, attempts, err
		} else if ra > wait {
			wait = ra
		}
		in.obs.retried(ctx, f.msg.Kind, err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return channel.Receipt{}, attempts, err
		case <-t.C:
		}
		backoff = min(2*backoff, in.retry.MaxBackoff)
		if lim != nil {
			if werr := lim.Wait(ctx); werr != nil {
				return channel.Receipt{}, attempts, werr
			}
		}
	}
}

// finish records a send's outcome on its delivery d (see settle and
// Inbox.record).
func (f *fanout) finish(ctx context.Context, d Delivery, r channel.Receipt, sendErr error, attempts int, rendered bool) (Delivery, error) {
	o := outcome{d: d}
	f.settle(ctx, &o, r, sendErr, attempts, rendered)
	return f.in.record(ctx, o)
}

// settle fills o, whose d is the delivery sent, with the send's outcome,
// to be recorded (Inbox.record), and does what the provider's error says
// of the address: an opt-out recorded, a retired device.
func (f *fanout) settle(ctx context.Context, o *outcome, r channel.Receipt, sendErr error, attempts int, rendered bool) {
	in := f.in
	now := in.now()
	if errors.Is(sendErr, channel.ErrOptedOut) {
		_ = in.SetOptedOut(context.WithoutCancel(ctx), o.d.Kind, o.d.Address, true)
	}
	if errors.Is(sendErr, channel.ErrAddressRetired) {
		in.retireDevice(context.WithoutCancel(ctx), o.d)
	}
	o.r, o.err, o.attempts, o.at, o.rendered = r, sendErr, attempts, now, rendered
	o.room = f.room(len(o.d.Status.History) + 1)
}

// updateDelivery reads a delivery, lets fn change it (false: no change) and
// writes it, retrying on conflicts.
func (in *Inbox) updateDelivery(ctx context.Context, id string, fn func(*Delivery) bool) (Delivery, error) {
	return in.updateDeliveryFrom(ctx, Delivery{ID: id}, fn)
}

// updateDeliveryFrom is updateDelivery starting from a copy the caller
// holds when it has a version (saving a read when nobody wrote since). fn
// then shares held's history: it merges a status with applyOwn, not
// status.Record.Apply, which may change a change of the history in place.
func (in *Inbox) updateDeliveryFrom(ctx context.Context, held Delivery, fn func(*Delivery) bool) (Delivery, error) {
	return in.updateDeliveryEv(ctx, held, fn, writeEvents{})
}

// writeEvents are the events a delivery's write carries, of the delivery
// as changed.
type writeEvents struct {
	// status: its status event (statusEvent).
	status bool
	// of, when not nil, returns others.
	of func(*Delivery) []Event
}

// updateDeliveryEv is updateDeliveryFrom writing, with the change, the
// events ev says for the delivery as changed.
func (in *Inbox) updateDeliveryEv(ctx context.Context, held Delivery, fn func(*Delivery) bool, ev writeEvents) (Delivery, error) {
	id := held.ID
	// fn changes a record from a pool rather than one that escapes to the
	// heap with every call; the events are encoded into a buffer that is
	// reused too
	d := in.outbox.scratch()
	defer in.outbox.release(d)
	var eb *eventBuf
	if ev.status || ev.of != nil {
		eb = in.eventBuf()
		defer in.putEventBuf(eb)
	}
	for try := range maxRetries {
		if err := in.conflictPause(ctx, try); err != nil {
			return Delivery{}, err
		}
		prev := held.Status.Current
		if try > 0 || held.Version == 0 {
			var err error
			if *d, err = in.store.Delivery(ctx, id); err != nil {
				return Delivery{}, wrapStore("delivery "+id, err)
			}
			prev = d.Status.Current
		} else {
			// the caller keeps held: its history is shared, full, so that
			// an append copies it, and fn merges a status with applyOwn
			*d = held
			h := held.Status.History
			d.Status.History = h[:len(h):len(h)]
		}
		was := textsOf(d)
		if !fn(d) {
			return *d, nil
		}
		// a provider's ID and error text, as every store keeps them: d was
		// read from the store (or is held as the store returned it), so
		// only what fn changed needs cleaning
		cleanChanged(d, &was)
		var events []store.FeedEvent
		switch {
		case ev.status && ev.of != nil:
			events = eb.encode(append([]Event{statusEvent(*d)}, ev.of(d)...)...)
		case ev.status:
			events = eb.encode(statusEvent(*d))
		case ev.of != nil:
			events = eb.encode(ev.of(d)...)
		}
		err := in.store.WriteDelivery(ctx, *d, events...)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return Delivery{}, wrapStore("write delivery "+id, err)
		}
		d.Version++
		if len(events) > 0 {
			in.delivered(ctx)
		}
		in.obs.changed(ctx, prev, *d)
		return *d, nil
	}
	return Delivery{}, fmt.Errorf("inbox: delivery %s: %w", id, ErrConflict)
}

// applyOwn merges c into r (status.Record.Apply) on a copy of r's history,
// made with room for c: r may share its history with a copy the caller of
// updateDeliveryFrom keeps.
func applyOwn(r *status.Record, c status.Change) (bool, error) {
	return applyInto(r, c, nil)
}

// applyInto is applyOwn copying r's history into room when room has the
// capacity for it and c: room must be the caller's alone.
func applyInto(r *status.Record, c status.Change, room []status.Change) (bool, error) {
	if cap(room) < len(r.History)+1 {
		room = make([]status.Change, 0, len(r.History)+1)
	}
	r.History = append(room[:0], r.History...)
	return r.Apply(c)
}

// RateLimit caps sends per second through one sender identity, or through
// each identity of a kind when Identity is "" (C9). The limit holds across
// every Inbox on the store (several app instances): sends reserve their
// turns in the store's token bucket (store.Limiter), on the store's clock.
// Burst (at least 1) is how many may go at once after a quiet time; over
// any span of time d at most Burst + d×PerSecond sends start.
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
	// MaxBackoff (default 5 s), with jitter. A wait is never shorter than
	// the provider's Retry-After (channel.RetryAfter); when the provider
	// asks for a wait longer than MaxBackoff, the delivery is not retried
	// and fails with the provider's error.
	Backoff, MaxBackoff time.Duration
}

// statusEvent is the event of a delivery whose status changed.
func statusEvent(d Delivery) Event {
	return Event{Type: EventStatusChanged, ThreadID: d.ThreadID, MessageID: d.MessageID, DeliveryID: d.ID,
		ProviderID: d.ProviderID, Status: d.Status.Current}
}
