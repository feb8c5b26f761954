package store

import (
	"fmt"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// SubjectKind is what a thread is about (T1): a contact, an audience or an
// event. The zero value is not a valid kind; in a ThreadQuery it means any.
type SubjectKind uint8

// The subject kinds of T1.
const (
	Contact SubjectKind = iota + 1
	Audience
	Event
)

// String returns "contact", "audience", "event" or "subject(N)".
func (k SubjectKind) String() string {
	switch k {
	case Contact:
		return "contact"
	case Audience:
		return "audience"
	case Event:
		return "event"
	}
	return fmt.Sprintf("subject(%d)", uint8(k))
}

// Valid reports whether k is one of the three subject kinds.
func (k SubjectKind) Valid() bool { return k >= Contact && k <= Event }

// Subject identifies the one subject of a thread (T1).
type Subject struct {
	Kind SubjectKind
	// ID is the host's ID of the contact, audience or event. For a sender
	// the host does not know, it is the sender's address prefixed with the
	// channel kind ("sms:+33612345678").
	ID string
}

// String returns "kind:id".
func (s Subject) String() string { return s.Kind.String() + ":" + s.ID }

// Snapshot holds a thread subject's searchable fields (T13), copied from the
// host's records when the thread starts and refreshed when the host says
// they changed.
type Snapshot struct {
	// FirstName and LastName are a contact's names.
	FirstName string
	LastName  string
	// Name is an audience's or event's name.
	Name string
	// Email is a contact's email address.
	Email string
	// Phone is a contact's phone in E.164.
	Phone string
}

// Thread is one conversation (T1). Stores keep it as a value: nothing a
// caller changes in a Thread it got changes the store.
type Thread struct {
	// ID is unique in the store.
	ID string
	// Subject is the thread's one subject.
	Subject Subject
	// Snapshot is the subject's searchable fields.
	Snapshot Snapshot
	// CreatedAt is when the thread started.
	CreatedAt time.Time
	// SortTime orders the list (T3, T4).
	SortTime time.Time
	// LastMessageAt is the time of the latest message, always kept (T4).
	LastMessageAt time.Time
	// LastActivityAt is the latest of CreatedAt and every message time:
	// the resume window (T2) and the visibility window (T17) use it.
	LastActivityAt time.Time
	// LastInboundAt is the time of the latest inbound message, any kind.
	LastInboundAt time.Time
	// LastWhatsAppAt is the time of the latest inbound WhatsApp message: the
	// 24-hour service window (C10) runs from it.
	LastWhatsAppAt time.Time
	// InboundKinds has bit 1<<kind set for every channel kind the contact
	// has written on in this thread (Airbnb free text, C11). See HasInbound.
	InboundKinds uint8
	// Preview is the beginning of the latest message's text.
	Preview string
	// Messages is the number of messages in the thread.
	Messages int
	// Unread is the number of unread messages (T5, T6).
	Unread int
	// Muted marks a muted thread (T7); MutedUntil, when not zero, is when
	// the mute ends by itself. A store keeps them as written (and judges
	// them at ThreadQuery.Now, see MutedAt); every thread the inbox returns
	// has them as they stand at the inbox's now: a mute that expired reads
	// as Muted false and MutedUntil zero.
	Muted      bool
	MutedUntil time.Time
	// Favourite pins the thread first (T8).
	Favourite bool
	// Archived hides the thread from the default list and search (T9).
	Archived bool
	// Closed is the team lifecycle (T10): false means open.
	Closed bool
	// Assignee is the agent the thread is assigned to, "" when unassigned
	// (T12).
	Assignee string
	// Dormant marks a contact thread that holds only automatic messages and
	// is not listed until a conversation starts (T18).
	Dormant bool
	// Version is the store's optimistic-concurrency counter: every write of
	// the thread must carry the version it read, and the store increments
	// it. Zero for a thread not yet stored.
	Version int64
}

// HasInbound reports whether the thread holds an inbound message of kind k.
func (t *Thread) HasInbound(k channel.Kind) bool { return k.Valid() && t.InboundKinds&(1<<k) != 0 }

// MutedAt reports whether the thread is muted at time now: muted and either
// with no expiry or an expiry after now (T7). Stores use it to judge a
// stored thread; threads from the inbox are already judged at its now.
func (t *Thread) MutedAt(now time.Time) bool {
	return t.Muted && (t.MutedUntil.IsZero() || now.Before(t.MutedUntil))
}

// DisplayName returns how a screen names the thread's subject (T1): a
// contact's first and last names, else its email, else its phone; an
// audience's or event's name; for a sender the host does not know, its
// address ("+33612345678", "guest@example.com"). When the snapshot holds
// nothing to show, it is the subject's ID.
func (t *Thread) DisplayName() string {
	s := &t.Snapshot
	if t.Subject.Kind == Contact {
		first, last := strings.TrimSpace(s.FirstName), strings.TrimSpace(s.LastName)
		if n := strings.TrimSpace(first + " " + last); n != "" {
			return n
		}
	}
	for _, v := range [...]string{s.Name, s.Email, s.Phone} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return t.Subject.ID
}

// Direction tells inbound messages (from a contact) from outbound ones.
type Direction uint8

// The two directions of a message.
const (
	Inbound Direction = iota + 1
	Outbound
)

// String returns "inbound", "outbound" or "direction(N)".
func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return fmt.Sprintf("direction(%d)", uint8(d))
}

// Origin tells how an outbound message came to be (M1).
type Origin uint8

// The origins of M1.
const (
	// Direct: written in the contact's own thread, to that contact.
	Direct Origin = iota + 1
	// Manual: written by an agent to a group (audience, event, broadcast).
	Manual
	// Automatic: sent by an automation (reminders, confirmations).
	Automatic
	// Scheduled: written for a later time.
	Scheduled
)

// String returns "direct", "manual", "automatic", "scheduled" or
// "origin(N)".
func (o Origin) String() string {
	switch o {
	case Direct:
		return "direct"
	case Manual:
		return "manual"
	case Automatic:
		return "automatic"
	case Scheduled:
		return "scheduled"
	}
	return fmt.Sprintf("origin(%d)", uint8(o))
}

// Author says who wrote a message.
type Author struct {
	// Agent is the ID of the staff user who wrote it, "" for automation and
	// inbound messages.
	Agent string
	// Automation names the automation that sent it ("reminder-24h").
	Automation string
}

// SMSInfo is the SMS measurement of an outbound body (C6).
type SMSInfo struct {
	Encoding string
	Segments int
	Units    int
}

// Message is one message of a thread (M1). Stores keep it as a value.
type Message struct {
	// ID is unique in the store.
	ID string
	// ThreadID is the thread it belongs to.
	ThreadID string
	// Direction, Kind and Origin (Origin is zero for inbound messages).
	Direction Direction
	Kind      channel.Kind
	Origin    Origin
	// Subject (email, push), Text and HTML (email).
	Subject string
	Text    string
	HTML    string
	// Attachments are the files of the message.
	Attachments []channel.Attachment
	// Identity is the sender identity: for outbound messages the identity
	// it went out from, for inbound ones the identity it was sent to.
	Identity string
	// Address is the contact's address: the sender of an inbound message,
	// the recipient of a direct outbound one.
	Address string
	// Author is who wrote an outbound message.
	Author Author
	// Broadcast is the broadcast or campaign name (M3, M7).
	Broadcast string
	// Template names the template the message was written from: a
	// template's name, or "whatsapp:name:language" for an approved WhatsApp
	// template.
	Template string
	// Source is the source of the template the message was written from
	// (C4, C5); zero for a message written as plain text and for a WhatsApp
	// template, which Template names.
	Source TemplateSource
	// Templated marks a message written from a template and rendered for
	// each recipient: each delivery holds what its recipient was sent, and
	// a scheduled one is rendered again (from Source, or the WhatsApp
	// template) when it goes. Subject, Text and HTML are what the thread
	// shows: what the contact received for a direct message, the template
	// with every variable shown by its label ("Hi {First name}") for a group
	// message.
	Templated bool
	// Marketing marks a promotional message (R2 consent, R8 quiet hours);
	// false means transactional.
	Marketing bool
	// CreatedAt is when it was recorded; ScheduledFor when it is due (zero
	// for immediate sends; it follows a moved anchor, C15); SentAt when it
	// was sent or received (zero until a scheduled message goes, C8).
	CreatedAt    time.Time
	ScheduledFor time.Time
	SentAt       time.Time
	// ProviderID is the provider's ID of an inbound message (M5) or of a
	// direct outbound message's one delivery. Inbound and outbound provider
	// IDs are separate namespaces (see Store.WriteThread).
	ProviderID string
	// InReplyTo holds provider IDs the inbound message answers.
	InReplyTo []string
	// Truncated reports that the provider's payload held more than could
	// be parsed (parts or nesting beyond the parser's limits): the text kept
	// is incomplete (channel.Inbound.Truncated).
	Truncated bool
	// Cost is the cost estimate (C13): for a group message, the total over
	// its deliveries when it was recorded.
	Cost channel.Cost
	// SMS is the SMS measurement of what was sent, for SMS and MMS (C6): for
	// a group message Segments and Units are totals over its deliveries and
	// Encoding is UCS-2 when any delivery needs it.
	SMS SMSInfo
	// Unread marks an unread message (T5, T6).
	Unread bool
	// Recipients is the number of deliveries (M2).
	Recipients int
	// Groups are the event groups a group message went to (M6):
	// "booked", "waitlisted", "cancelled".
	Groups []string
	// MirrorOf is the ID of the broadcast message this one mirrors in a
	// contact's own thread (M3), "" otherwise.
	MirrorOf string
	// Counts is the number of deliveries per status (S5). The store keeps
	// it from the deliveries; what a writer puts here is ignored.
	Counts status.Counts
}

// TemplateSource is the source of a template (C4): subject, text and HTML
// bodies with their variables.
type TemplateSource struct {
	Subject string
	Text    string
	HTML    string
}

// IsZero reports whether s holds no source.
func (s TemplateSource) IsZero() bool { return s == TemplateSource{} }

// Delivery is one recipient of an outbound message, with its status (M1,
// S1–S3) and what that recipient was sent. Stores keep it as a value.
type Delivery struct {
	// ID is unique in the store.
	ID string
	// MessageID and ThreadID locate the message.
	MessageID string
	ThreadID  string
	// Kind is the channel kind.
	Kind channel.Kind
	// ContactID is the recipient contact's ID, Address the address it went to.
	ContactID string
	Address   string
	// Identity is the sender identity ID used.
	Identity string
	// Subject, Text and HTML are what this recipient was sent, rendered for
	// them when the message is a template (C5). A scheduled delivery holds
	// the rendering of when it was scheduled until it goes, then what went.
	Subject string
	Text    string
	HTML    string
	// SMS is the SMS measurement of Text, for SMS and MMS (C6).
	SMS SMSInfo
	// Cost is the cost estimate of this delivery (C13).
	Cost channel.Cost
	// ProviderID is the provider's message ID once sent; unique in the store
	// when not empty.
	ProviderID string
	// Status is the merged status and its history.
	Status status.Record
	// Reason says why a delivery was not sent (opted out at dispatch, a
	// permanent failure, the context ended before it was attempted).
	Reason string
	// Attempts counts send attempts.
	Attempts int
	// CreatedAt is when the delivery was recorded (its message's
	// CreatedAt).
	CreatedAt time.Time
	// DueAt is when a scheduled delivery is due; zero when it is not
	// scheduled.
	DueAt time.Time
	// Anchor names the booking or event a relatively scheduled delivery is
	// anchored to ("booking:123", C15); "" otherwise.
	Anchor string
	// AnchorRule is the inbox's encoding of how DueAt follows the anchor's
	// time (offset, wall-clock time, time zone). Stores keep it verbatim.
	AnchorRule string
	// ClaimedUntil is the lease of a dispatcher that claimed the delivery
	// (C8); zero when unclaimed.
	ClaimedUntil time.Time
	// Sending is the outbox marker: when the inbox began handing the
	// delivery to its provider. It is written before the provider is called
	// and cleared when the outcome is written. A delivery whose Sending is
	// not zero may have been accepted by the provider without the store
	// knowing (a crash, a store outage): the inbox never sends it again, and
	// resolves it (Inbox.Recover). It stays set after an attempt that was
	// interrupted until it is resolved; zero otherwise.
	Sending time.Time
	// Campaign is the message's broadcast name, kept for the sent-messages
	// query (M7).
	Campaign string
	// CheckIn and CheckOut are the recipient's booking dates, for the
	// sent-messages query (M7).
	CheckIn  time.Time
	CheckOut time.Time
	// Version is the optimistic-concurrency counter, as on Thread.
	Version int64
}

// Assignment is one entry of a thread's ownership history (T12).
type Assignment struct {
	ThreadID string
	// From and To are the agents before and after; "" is unassigned.
	From string
	To   string
	// By is the agent who made the change.
	By string
	At time.Time
}
