package memstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
)

// Directory is an in-memory directory of contacts, audiences, events and
// agents, for examples, tests and small hosts: it implements
// inbox.Directory, inbox.ContactIDFinder, inbox.AgentDirectory and
// inbox.DetailsResolver. Like the Store, it keeps nothing across restarts.
// It is safe for concurrent use.
type Directory struct {
	mu sync.RWMutex
	// contacts and byAddr share each contact's record, replaced whole by
	// PutContact: looking a sender up is one index lookup.
	contacts  map[string]*recipient.Contact
	byAddr    [channel.Airbnb + 1]addrIndex // by kind (see addrs), then address
	audiences map[string]store.AudienceInfo
	events    map[string]store.EventInfo
	agents    map[string]store.AgentInfo
	details   map[store.Subject]store.Details
	// strs keeps the addresses that do not fit in their index's slot with
	// their contact's ID (see addrIndex), side by side: a lookup's read of
	// them is a read of a compact region, whose page table entries stay in
	// the processor's caches, not of a string anywhere in the heap.
	strs strArena
}

// NewDirectory returns an empty Directory.
func NewDirectory() *Directory {
	d := &Directory{contacts: map[string]*recipient.Contact{},
		audiences: map[string]store.AudienceInfo{}, events: map[string]store.EventInfo{}, agents: map[string]store.AgentInfo{},
		details: map[store.Subject]store.Details{}}
	hash := newHash()
	for k := range d.byAddr {
		d.byAddr[k].hash = hash
	}
	return d
}

// addrs returns the index of kind's addresses, nil for a kind that is not
// a channel kind: SMS, MMS and WhatsApp share the phone's.
func (d *Directory) addrs(kind channel.Kind) *addrIndex {
	switch kind {
	case channel.MMS, channel.WhatsApp:
		kind = channel.SMS
	}
	if !kind.Valid() || int(kind) >= len(d.byAddr) {
		return nil
	}
	return &d.byAddr[kind]
}

// PutContact adds or replaces a contact. A contact with an empty ID is
// refused with an error.
func (d *Directory) PutContact(c recipient.Contact) error {
	if c.ID == "" {
		return fmt.Errorf("memstore: directory: contact without ID")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.contacts[c.ID]; ok {
		for _, k := range channel.Kinds() {
			if x := d.addrs(k); x != nil {
				x.remove(old.Address(k), old) // unless another contact took it since
			}
		}
	}
	c.PushTokens = slices.Clone(c.PushTokens)
	rec := &c
	d.contacts[c.ID] = rec
	for _, k := range channel.Kinds() {
		if a := c.Address(k); a != "" {
			if x := d.addrs(k); x != nil {
				x.set(a, c.ID, rec, &d.strs)
			}
		}
	}
	return nil
}

// PutAudience adds or replaces an audience.
func (d *Directory) PutAudience(a store.AudienceInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a.Members = slices.Clone(a.Members)
	d.audiences[a.ID] = a
}

// PutEvent adds or replaces an event.
func (d *Directory) PutEvent(e store.EventInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	e.Attendees = slices.Clone(e.Attendees)
	d.events[e.ID] = e
}

// PutAgent adds or replaces an agent (a staff user).
func (d *Directory) PutAgent(a store.AgentInfo) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.agents[a.ID] = a
}

// Agent implements inbox.AgentDirectory.
func (d *Directory) Agent(ctx context.Context, id string) (store.AgentInfo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.agents[id]
	if !ok {
		return store.AgentInfo{}, fmt.Errorf("memstore: agent %q: %w", id, store.ErrNotFound)
	}
	return a, nil
}

// PutDetails sets the details pane of a subject (T19).
func (d *Directory) PutDetails(s store.Subject, det store.Details) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.details[s] = det
}

// Contact implements inbox.Directory.
func (d *Directory) Contact(ctx context.Context, id string) (recipient.Contact, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	rec, ok := d.contacts[id]
	if !ok {
		return recipient.Contact{}, fmt.Errorf("memstore: contact %q: %w", id, store.ErrNotFound)
	}
	c := *rec
	c.PushTokens = slices.Clone(c.PushTokens)
	return c, nil
}

// ContactByAddress implements inbox.Directory.
func (d *Directory) ContactByAddress(ctx context.Context, kind channel.Kind, addr string) (recipient.Contact, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v := d.byAddress(kind, addr)
	if v == nil {
		return recipient.Contact{}, fmt.Errorf("memstore: %s address %q: %w", kind, addr, store.ErrNotFound)
	}
	c := *v.c
	c.PushTokens = slices.Clone(c.PushTokens)
	return c, nil
}

// ContactIDByAddress implements inbox.ContactIDFinder: it is
// ContactByAddress returning only the contact's ID, which is what the
// inbox needs to find the thread of an inbound message's sender (T2). It
// reads neither the contact's record nor copies it.
func (d *Directory) ContactIDByAddress(ctx context.Context, kind channel.Kind, addr string) (string, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v := d.byAddress(kind, addr)
	if v == nil {
		return "", fmt.Errorf("memstore: %s address %q: %w", kind, addr, store.ErrNotFound)
	}
	return v.id(), nil
}

// byAddress finds the slot of address addr of kind, nil for none. Call it
// under the read lock at least; the slot is valid while it is held.
func (d *Directory) byAddress(kind channel.Kind, addr string) *addrSlot {
	x := d.addrs(kind)
	if x == nil {
		return nil
	}
	return x.get(addr)
}

// Audience implements inbox.Directory. Its Members are a view of the
// directory's own, not a copy (a send to an audience of 100,000 reads them
// without copying them): the caller must not change them. They never change
// under the caller: PutAudience replaces an audience whole.
func (d *Directory) Audience(ctx context.Context, id string) (store.AudienceInfo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	a, ok := d.audiences[id]
	if !ok {
		return store.AudienceInfo{}, fmt.Errorf("memstore: audience %q: %w", id, store.ErrNotFound)
	}
	a.Members = a.Members[:len(a.Members):len(a.Members)] // an append copies
	return a, nil
}

// Event implements inbox.Directory.
func (d *Directory) Event(ctx context.Context, id string) (store.EventInfo, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	e, ok := d.events[id]
	if !ok {
		return store.EventInfo{}, fmt.Errorf("memstore: event %q: %w", id, store.ErrNotFound)
	}
	e.Attendees = slices.Clone(e.Attendees)
	return e, nil
}

// Details implements inbox.DetailsResolver: the details set with PutDetails,
// else what the directory knows of the subject.
func (d *Directory) Details(ctx context.Context, s store.Subject) (store.Details, error) {
	d.mu.RLock()
	det, ok := d.details[s]
	d.mu.RUnlock()
	if ok {
		return det, nil
	}
	switch s.Kind {
	case store.Contact:
		c, err := d.Contact(ctx, s.ID)
		if err != nil {
			return store.Details{}, err
		}
		return store.Details{Contact: &store.ContactDetails{ID: c.ID, Name: c.Name(), Phone: c.Phone, Email: c.Email}}, nil
	case store.Audience:
		a, err := d.Audience(ctx, s.ID)
		if err != nil {
			return store.Details{}, err
		}
		return store.Details{Audience: &store.AudienceDetails{Members: len(a.Members), Filters: slices.Clone(a.Filters), Description: a.Description}}, nil
	case store.Event:
		e, err := d.Event(ctx, s.ID)
		if err != nil {
			return store.Details{}, err
		}
		ed := &store.EventDetails{Start: e.Start, Teacher: e.Teacher, Room: e.Room, Address: e.Address, Online: e.OnlineURL != ""}
		for _, at := range e.Attendees {
			switch at.Group {
			case recipient.Booked:
				ed.Booked++
			case recipient.Waitlisted:
				ed.Waitlist++
			case recipient.Cancelled:
				ed.Cancelled++
			}
		}
		return store.Details{Event: ed}, nil
	}
	return store.Details{}, fmt.Errorf("memstore: subject %s: %w", s, store.ErrNotFound)
}
