package inbox

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// Selection returns the recipient selection a composer shows for a draft
// (R3, R4): every member of the thread's audience or event, or its one
// contact, with their eligibility for d.Kind, and with what the inbox knows
// and the host's records do not: the opt-outs it recorded (STOP replies and
// providers' reports, R5), retired push devices, and each contact's
// WhatsApp service window and Airbnb conversation (C10, C11). An audience's
// valid members are selected; an event's valid members of d.Groups.
//
// Only the draft's fields that choose recipients count: Kind, ThreadID,
// Identity, Marketing, WhatsApp, Origin, ScheduledFor, Anchor and Groups.
// The composer changes the selection (Select, Deselect, SelectGroup) and
// passes it back as Draft.Selection; Preflight and Send judge every member
// the same way, so what the composer shows as selected is what Send sends
// to. Its verdicts are those of when it was built: Preflight and Send judge
// again at their time.
func (in *Inbox) Selection(ctx context.Context, d Draft) (*recipient.Selection, error) {
	th, err := in.Thread(ctx, d.ThreadID)
	if err != nil {
		return nil, err
	}
	if !d.Kind.Valid() {
		return nil, fmt.Errorf("inbox: %w: kind %d", ErrInvalidArgument, uint8(d.Kind))
	}
	p := &plan{thread: th, origin: originOf(d, th)}
	if in.channels != nil {
		// an unknown identity only loses the R7 information here; Preflight
		// reports it
		p.ident, _ = in.channels.Identity(d.Kind, d.Identity)
	}
	if err := in.groupOf(ctx, p); err != nil {
		return nil, err
	}
	return in.selectionFor(ctx, p, d)
}

// originOf returns the origin of a draft in thread th: its own, else direct
// in a contact's thread and manual in a group's.
func originOf(d Draft, th Thread) Origin {
	switch {
	case d.Origin != 0:
		return d.Origin
	case th.Subject.Kind == store.Contact:
		return store.Direct
	}
	return store.Manual
}

// selectionFor builds the selection of plan p's thread for draft d with the
// inbox's facts on every member (see Selection), and records the event
// groups d selects in p.groups.
func (in *Inbox) selectionFor(ctx context.Context, p *plan, d Draft) (*recipient.Selection, error) {
	purpose := recipient.Transactional
	if d.Marketing {
		purpose = recipient.Marketing
	}
	facts := recipient.Facts{Now: in.now(), ApprovedTemplate: d.WhatsApp != nil && d.WhatsApp.Approved(),
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
			return nil, err
		}
		members, err := in.addFacts(ctx, []recipient.Contact{c}, d.Kind, &p.thread)
		if err != nil {
			return nil, err
		}
		if sel, err = in.rules.Audience(members, tgt); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
	case store.Audience:
		// the directory's members, shared: addFacts copies what it marks
		members, err := in.addFacts(ctx, p.audience.Members, d.Kind, nil)
		if err != nil {
			return nil, err
		}
		if sel, err = in.rules.Audience(members, tgt); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
	case store.Event:
		e := p.event
		cs := make([]recipient.Contact, len(e.Attendees))
		for i, a := range e.Attendees {
			cs[i] = a.Contact
		}
		cs, err := in.addFacts(ctx, cs, d.Kind, nil)
		if err != nil {
			return nil, err
		}
		att := make([]recipient.Attendee, len(e.Attendees))
		for i, a := range e.Attendees {
			att[i] = recipient.Attendee{Contact: cs[i], Group: a.Group}
		}
		if sel, err = in.rules.Event(att, tgt); err != nil {
			return nil, fmt.Errorf("inbox: %w", err)
		}
		for _, g := range d.Groups {
			if err := sel.SelectGroup(g); err != nil {
				return nil, fmt.Errorf("inbox: %w: %w", ErrInvalidArgument, err)
			}
			p.groups = append(p.groups, g.String())
		}
	}
	return sel, nil
}
