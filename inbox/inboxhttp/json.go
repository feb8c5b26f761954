package inboxhttp

import (
	"errors"
	"strings"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/sms"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
	ptemplate "github.com/parleyhq/parley/template"
)

// The JSON shapes of the API. Field names are camelCase; times are RFC 3339
// and left out when zero; enumerations are lower-case words.

// ThreadJSON is a thread in the list and the conversation header.
type ThreadJSON struct {
	ID string `json:"id"`
	// Name is the subject's display name: a contact's first and last
	// name, an audience's or event's name, else the address.
	Name          string       `json:"name"`
	Subject       SubjectJSON  `json:"subject"`
	Snapshot      SnapshotJSON `json:"snapshot"`
	CreatedAt     time.Time    `json:"createdAt"`
	SortTime      time.Time    `json:"sortTime"`
	LastMessageAt time.Time    `json:"lastMessageAt,omitzero"`
	Preview       string       `json:"preview"`
	Messages      int          `json:"messages"`
	Unread        int          `json:"unread"`
	Muted         bool         `json:"muted"`
	MutedUntil    time.Time    `json:"mutedUntil,omitzero"`
	Favourite     bool         `json:"favourite"`
	Archived      bool         `json:"archived"`
	Closed        bool         `json:"closed"`
	Assignee      string       `json:"assignee,omitempty"`
}

// SubjectJSON is a thread's subject (T1).
type SubjectJSON struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// SnapshotJSON holds a subject's searchable fields.
type SnapshotJSON struct {
	FirstName string `json:"firstName,omitempty"`
	LastName  string `json:"lastName,omitempty"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// ThreadPageJSON is a page of the thread list.
type ThreadPageJSON struct {
	Threads []ThreadJSON `json:"threads"`
	// Next is the cursor of the next page, absent after the last.
	Next string `json:"next,omitempty"`
}

func threadJSON(t inbox.Thread, now time.Time) ThreadJSON {
	muted := t.MutedAt(now)
	j := ThreadJSON{ID: t.ID, Name: t.DisplayName(), Subject: SubjectJSON{Kind: t.Subject.Kind.String(), ID: t.Subject.ID},
		Snapshot: SnapshotJSON{FirstName: t.Snapshot.FirstName, LastName: t.Snapshot.LastName, Name: t.Snapshot.Name,
			Email: t.Snapshot.Email, Phone: t.Snapshot.Phone},
		CreatedAt: t.CreatedAt, SortTime: t.SortTime, LastMessageAt: t.LastMessageAt, Preview: t.Preview,
		Messages: t.Messages, Unread: t.Unread, Muted: muted, Favourite: t.Favourite, Archived: t.Archived,
		Closed: t.Closed, Assignee: t.Assignee}
	if muted {
		j.MutedUntil = t.MutedUntil
	}
	return j
}

// MessageJSON is a message of the conversation (M1).
type MessageJSON struct {
	ID           string           `json:"id"`
	ThreadID     string           `json:"threadId"`
	Direction    string           `json:"direction"`
	Kind         string           `json:"kind"`
	Origin       string           `json:"origin,omitempty"`
	Subject      string           `json:"subject,omitempty"`
	Text         string           `json:"text"`
	HTML         string           `json:"html,omitempty"`
	Attachments  []AttachmentJSON `json:"attachments,omitempty"`
	Identity     string           `json:"identity,omitempty"`
	Address      string           `json:"address,omitempty"`
	Agent        string           `json:"agent,omitempty"`
	Automation   string           `json:"automation,omitempty"`
	Broadcast    string           `json:"broadcast,omitempty"`
	Template     string           `json:"template,omitempty"`
	Marketing    bool             `json:"marketing"`
	CreatedAt    time.Time        `json:"createdAt"`
	ScheduledFor time.Time        `json:"scheduledFor,omitzero"`
	SentAt       time.Time        `json:"sentAt,omitzero"`
	Cost         *CostJSON        `json:"cost,omitempty"`
	SMS          *SMSInfoJSON     `json:"sms,omitempty"`
	Unread       bool             `json:"unread"`
	Recipients   int              `json:"recipients"`
	Groups       []string         `json:"groups,omitempty"`
	MirrorOf     string           `json:"mirrorOf,omitempty"`
	// Counts is the number of deliveries per status (S5).
	Counts map[string]int `json:"counts,omitempty"`
	// Status is the highest status among the deliveries: for a direct
	// message, its one delivery's status.
	Status string `json:"status,omitempty"`
}

// AttachmentJSON describes an attachment (its data is not sent).
type AttachmentJSON struct {
	Name        string `json:"name,omitempty"`
	ContentType string `json:"contentType,omitempty"`
	URL         string `json:"url,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// CostJSON is a cost estimate (C13).
type CostJSON struct {
	Micros   int64  `json:"micros"`
	Currency string `json:"currency,omitempty"`
}

// SMSInfoJSON is a recorded SMS measurement.
type SMSInfoJSON struct {
	Encoding string `json:"encoding"`
	Segments int    `json:"segments"`
	Units    int    `json:"units"`
}

// MessagePageJSON is a page of messages.
type MessagePageJSON struct {
	Messages []MessageJSON `json:"messages"`
	Next     string        `json:"next,omitempty"`
}

func costJSON(c channel.Cost) *CostJSON {
	if c.IsZero() && c.Currency == "" {
		return nil
	}
	return &CostJSON{Micros: c.Micros, Currency: c.Currency}
}

func lower(s interface{ String() string }) string { return s.String() }

func messageJSON(m inbox.Message) MessageJSON {
	j := MessageJSON{ID: m.ID, ThreadID: m.ThreadID, Direction: lower(m.Direction), Kind: lower(m.Kind), Subject: m.Subject,
		Text: m.Text, HTML: m.HTML, Identity: m.Identity, Address: m.Address, Agent: m.Author.Agent,
		Automation: m.Author.Automation, Broadcast: m.Broadcast, Template: m.Template, Marketing: m.Marketing,
		CreatedAt: m.CreatedAt, ScheduledFor: m.ScheduledFor, SentAt: m.SentAt, Cost: costJSON(m.Cost), Unread: m.Unread,
		Recipients: m.Recipients, Groups: m.Groups, MirrorOf: m.MirrorOf}
	if m.Origin != 0 {
		j.Origin = lower(m.Origin)
	}
	for _, a := range m.Attachments {
		size := a.Size
		if len(a.Data) > 0 {
			size = int64(len(a.Data))
		}
		j.Attachments = append(j.Attachments, AttachmentJSON{Name: a.Name, ContentType: a.ContentType, URL: a.URL, Size: size})
	}
	if m.SMS.Encoding != "" {
		j.SMS = &SMSInfoJSON{Encoding: m.SMS.Encoding, Segments: m.SMS.Segments, Units: m.SMS.Units}
	}
	if m.Direction == inbox.Outbound {
		for s := status.Scheduled; s <= status.Read; s++ {
			if n := m.Counts[s]; n > 0 {
				if j.Counts == nil {
					j.Counts = map[string]int{}
				}
				j.Counts[s.String()] = n
				j.Status = s.String()
			}
		}
	}
	return j
}

// DeliveryJSON is one recipient of an outbound message with its status and
// history (M1, S1–S3).
type DeliveryJSON struct {
	ID         string       `json:"id"`
	MessageID  string       `json:"messageId"`
	ThreadID   string       `json:"threadId"`
	Kind       string       `json:"kind"`
	ContactID  string       `json:"contactId,omitempty"`
	Address    string       `json:"address"`
	Identity   string       `json:"identity,omitempty"`
	ProviderID string       `json:"providerId,omitempty"`
	Status     string       `json:"status"`
	History    []ChangeJSON `json:"history"`
	Reason     string       `json:"reason,omitempty"`
	Attempts   int          `json:"attempts"`
	CreatedAt  time.Time    `json:"createdAt"`
	DueAt      time.Time    `json:"dueAt,omitzero"`
	Campaign   string       `json:"campaign,omitempty"`
}

// ChangeJSON is one entry of a delivery's status history (S3).
type ChangeJSON struct {
	Status       string    `json:"status"`
	At           time.Time `json:"at"`
	Raw          string    `json:"raw,omitempty"`
	ErrorCode    string    `json:"errorCode,omitempty"`
	ErrorMessage string    `json:"errorMessage,omitempty"`
}

// DeliveryPageJSON is a page of deliveries.
type DeliveryPageJSON struct {
	Deliveries []DeliveryJSON `json:"deliveries"`
	Next       string         `json:"next,omitempty"`
}

func deliveryJSON(d inbox.Delivery) DeliveryJSON {
	j := DeliveryJSON{ID: d.ID, MessageID: d.MessageID, ThreadID: d.ThreadID, Kind: lower(d.Kind), ContactID: d.ContactID,
		Address: d.Address, Identity: d.Identity, ProviderID: d.ProviderID, Status: d.Status.Current.String(),
		History: []ChangeJSON{}, Reason: d.Reason, Attempts: d.Attempts, CreatedAt: d.CreatedAt, DueAt: d.DueAt, Campaign: d.Campaign}
	for _, c := range d.Status.History {
		j.History = append(j.History, ChangeJSON{Status: c.Status.String(), At: c.At, Raw: c.Raw, ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage})
	}
	return j
}

// CountersJSON are the attention counters (T15).
type CountersJSON struct {
	Attention int `json:"attention"`
	Contacts  int `json:"contacts"`
	Audiences int `json:"audiences"`
	Events    int `json:"events"`
}

func countersJSON(c inbox.Counters) CountersJSON {
	return CountersJSON{Attention: c.Attention, Contacts: c.Contacts, Audiences: c.Audiences, Events: c.Events}
}

// AssignmentJSON is one entry of the ownership history (T12).
type AssignmentJSON struct {
	From string    `json:"from,omitempty"`
	To   string    `json:"to,omitempty"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
}

// EventJSON is the data of one SSE event (T20).
type EventJSON struct {
	Seq        uint64    `json:"seq"`
	Type       string    `json:"type"`
	ThreadID   string    `json:"threadId,omitempty"`
	MessageID  string    `json:"messageId,omitempty"`
	DeliveryID string    `json:"deliveryId,omitempty"`
	Agent      string    `json:"agent,omitempty"`
	Kind       string    `json:"kind,omitempty"`
	Address    string    `json:"address,omitempty"`
	Status     string    `json:"status,omitempty"`
	At         time.Time `json:"at,omitzero"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
}

func eventJSON(e inbox.Event) EventJSON {
	j := EventJSON{Seq: e.Seq, Type: e.Type.String(), ThreadID: e.ThreadID, MessageID: e.MessageID, DeliveryID: e.DeliveryID,
		Agent: e.Agent, Address: e.Address, At: e.At, ExpiresAt: e.ExpiresAt}
	if e.Kind.Valid() {
		j.Kind = e.Kind.String()
	}
	if e.Status.Valid() {
		j.Status = e.Status.String()
	}
	return j
}

// SendProblem is one problem that blocks a send (C14), with its position
// in the template when it concerns a variable (C5).
type SendProblem struct {
	// Code is a stable word: subject-required, subject-not-allowed,
	// empty-body, free-form-not-allowed, not-registered, no-identity,
	// attachment, window-closed, guest-not-written, no-recipient,
	// template-syntax, template-unknown-variable,
	// template-scope-unavailable, template-invalid, template-duplicate,
	// or other.
	Code     string `json:"code"`
	Message  string `json:"message"`
	Field    string `json:"field,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Variable string `json:"variable,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

var problemCodes = []struct {
	err  error
	code string
}{
	{inbox.ErrSubjectRequired, "subject-required"},
	{inbox.ErrSubjectNotAllowed, "subject-not-allowed"},
	{inbox.ErrEmptyBody, "empty-body"},
	{inbox.ErrFreeFormNotAllowed, "free-form-not-allowed"},
	{inbox.ErrNoRecipient, "no-recipient"},
	{channel.ErrNotRegistered, "not-registered"},
	{channel.ErrNoIdentity, "no-identity"},
	{channel.ErrAttachment, "attachment"},
	{channel.ErrWindowClosed, "window-closed"},
	{recipient.ErrGuestNotWritten, "guest-not-written"},
}

func sendProblems(errs []error) []SendProblem {
	out := []SendProblem{}
	for _, err := range errs {
		var ce *ptemplate.CheckError
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				out = append(out, SendProblem{Code: "template-" + strings.ReplaceAll(string(p.Kind), "_", "-"), Message: p.Message,
					Field: string(p.Field), Line: p.Line, Column: p.Column, Variable: p.Variable, Scope: string(p.Scope)})
			}
			continue
		}
		code := "other"
		for _, c := range problemCodes {
			if errors.Is(err, c.err) {
				code = c.code
				break
			}
		}
		out = append(out, SendProblem{Code: code, Message: err.Error()})
	}
	return out
}

// RecipientJSON is one recipient's eligibility in a preflight (R2).
type RecipientJSON struct {
	ContactID string `json:"contactId"`
	Address   string `json:"address,omitempty"`
	// Verdict is eligible, warning or blocked.
	Verdict string `json:"verdict"`
	// Reasons explain a warning or a block: no-address, invalid-address,
	// opted-out, no-device, no-consent, guest-not-written, window-closed
	// or other.
	Reasons []ReasonJSON `json:"reasons,omitempty"`
	// Info are facts that change nothing about sending
	// (replies-impossible, R7).
	Info     []ReasonJSON `json:"info,omitempty"`
	Selected bool         `json:"selected"`
}

// ReasonJSON is one reason of a verdict.
type ReasonJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

var reasonCodes = []struct {
	err  error
	code string
}{
	{recipient.ErrNoAddress, "no-address"},
	{recipient.ErrInvalidAddress, "invalid-address"},
	{channel.ErrOptedOut, "opted-out"},
	{recipient.ErrNoDevice, "no-device"},
	{recipient.ErrNoConsent, "no-consent"},
	{recipient.ErrGuestNotWritten, "guest-not-written"},
	{channel.ErrWindowClosed, "window-closed"},
	{recipient.ErrRepliesImpossible, "replies-impossible"},
}

func reasons(errs []error) []ReasonJSON {
	var out []ReasonJSON
	for _, err := range errs {
		code := "other"
		for _, c := range reasonCodes {
			if errors.Is(err, c.err) {
				code = c.code
				break
			}
		}
		out = append(out, ReasonJSON{Code: code, Message: err.Error()})
	}
	return out
}

func recipientsJSON(rs []inbox.RecipientCheck) []RecipientJSON {
	out := []RecipientJSON{}
	for _, r := range rs {
		out = append(out, RecipientJSON{ContactID: r.ContactID, Address: r.Address, Verdict: r.Verdict.Level.String(),
			Reasons: reasons(r.Verdict.Reasons), Info: reasons(r.Verdict.Info), Selected: r.Selected})
	}
	return out
}

// SMSJSON is the SMS measurement of a draft's body (C6): encoding, units,
// segments and what is left in the last segment.
type SMSJSON struct {
	Encoding   string `json:"encoding"`
	Characters int    `json:"characters"`
	Units      int    `json:"units"`
	Segments   int    `json:"segments"`
	PerSegment int    `json:"perSegment"`
	Remaining  int    `json:"remaining"`
}

func smsJSON(m sms.Measurement) *SMSJSON {
	return &SMSJSON{Encoding: m.Encoding.String(), Characters: m.Characters, Units: m.Units, Segments: m.Segments,
		PerSegment: m.PerSegment, Remaining: m.Remaining}
}

// PreflightJSON is everything a composer needs before sending (C14).
type PreflightJSON struct {
	// OK says whether Send would go: no blocking problem and at least one
	// selected recipient.
	OK         bool            `json:"ok"`
	Problems   []SendProblem   `json:"problems"`
	Recipients []RecipientJSON `json:"recipients"`
	Selected   int             `json:"selected"`
	SMS        *SMSJSON        `json:"sms,omitempty"`
	Cost       *CostJSON       `json:"cost,omitempty"`
}

func preflightJSON(p inbox.Preflight, kind channel.Kind) PreflightJSON {
	j := PreflightJSON{OK: p.Err() == nil, Problems: sendProblems(p.Problems), Recipients: recipientsJSON(p.Recipients),
		Selected: p.Selected, Cost: costJSON(p.Cost)}
	if kind == channel.SMS || kind == channel.MMS {
		j.SMS = smsJSON(p.SMS)
	}
	return j
}

// SendResultJSON is what a send did.
type SendResultJSON struct {
	Message    MessageJSON    `json:"message"`
	Deliveries []DeliveryJSON `json:"deliveries"`
}

// DetailsJSON is the details pane (T19): the part of the subject's kind.
type DetailsJSON struct {
	Contact  *ContactDetailsJSON  `json:"contact,omitempty"`
	Audience *AudienceDetailsJSON `json:"audience,omitempty"`
	Event    *EventDetailsJSON    `json:"event,omitempty"`
}

// ContactDetailsJSON are a contact's details.
type ContactDetailsJSON struct {
	ID               string        `json:"id,omitempty"`
	Name             string        `json:"name,omitempty"`
	Phone            string        `json:"phone,omitempty"`
	Email            string        `json:"email,omitempty"`
	SignedUp         time.Time     `json:"signedUp,omitzero"`
	BirthDate        time.Time     `json:"birthDate,omitzero"`
	Barcode          string        `json:"barcode,omitempty"`
	Address          string        `json:"address,omitempty"`
	EmergencyContact string        `json:"emergencyContact,omitempty"`
	Tags             []string      `json:"tags,omitempty"`
	Balance          int64         `json:"balance"`
	Currency         string        `json:"currency,omitempty"`
	UnpaidInvoices   int           `json:"unpaidInvoices"`
	Documents        []string      `json:"documents,omitempty"`
	Notes            string        `json:"notes,omitempty"`
	Bookings         []BookingJSON `json:"bookings,omitempty"`
}

// BookingJSON is a guest's booking.
type BookingJSON struct {
	ID       string    `json:"id"`
	CheckIn  time.Time `json:"checkIn,omitzero"`
	CheckOut time.Time `json:"checkOut,omitzero"`
	Room     string    `json:"room,omitempty"`
	Status   string    `json:"status,omitempty"`
}

// AudienceDetailsJSON are an audience's details.
type AudienceDetailsJSON struct {
	Members     int      `json:"members"`
	Filters     []string `json:"filters,omitempty"`
	Description string   `json:"description,omitempty"`
}

// EventDetailsJSON are an event's details.
type EventDetailsJSON struct {
	Start     time.Time `json:"start,omitzero"`
	Booked    int       `json:"booked"`
	Capacity  int       `json:"capacity"`
	Waitlist  int       `json:"waitlist"`
	Cancelled int       `json:"cancelled"`
	Level     string    `json:"level,omitempty"`
	Online    bool      `json:"online"`
	Teacher   string    `json:"teacher,omitempty"`
	Room      string    `json:"room,omitempty"`
	Address   string    `json:"address,omitempty"`
}

func detailsJSON(d inbox.Details) DetailsJSON {
	var j DetailsJSON
	if c := d.Contact; c != nil {
		j.Contact = &ContactDetailsJSON{ID: c.ID, Name: c.Name, Phone: c.Phone, Email: c.Email, SignedUp: c.SignedUp,
			BirthDate: c.BirthDate, Barcode: c.Barcode, Address: c.Address, EmergencyContact: c.EmergencyContact, Tags: c.Tags,
			Balance: c.Balance, Currency: c.Currency, UnpaidInvoices: c.UnpaidInvoices, Documents: c.Documents, Notes: c.Notes}
		for _, b := range c.Bookings {
			j.Contact.Bookings = append(j.Contact.Bookings, BookingJSON{ID: b.ID, CheckIn: b.CheckIn, CheckOut: b.CheckOut, Room: b.Room, Status: b.Status})
		}
	}
	if a := d.Audience; a != nil {
		j.Audience = &AudienceDetailsJSON{Members: a.Members, Filters: a.Filters, Description: a.Description}
	}
	if e := d.Event; e != nil {
		j.Event = &EventDetailsJSON{Start: e.Start, Booked: e.Booked, Capacity: e.Capacity, Waitlist: e.Waitlist, Cancelled: e.Cancelled,
			Level: e.Level, Online: e.Online, Teacher: e.Teacher, Room: e.Room, Address: e.Address}
	}
	return j
}

// ComposerJSON is what the composer's pickers offer for a thread.
type ComposerJSON struct {
	Channels  []ChannelJSON  `json:"channels"`
	Templates []TemplateJSON `json:"templates"`
	// Variables are the catalog's variables the thread can provide (C5).
	Variables []VariableJSON `json:"variables"`
	// Groups are the event groups a message to an event thread can go to
	// (R4): booked, waitlisted, cancelled; empty for other threads.
	Groups []string `json:"groups"`
}

// ChannelJSON is a registered channel kind with its sender identities (C9).
type ChannelJSON struct {
	Kind            string         `json:"kind"`
	SubjectRequired bool           `json:"subjectRequired"`
	Identities      []IdentityJSON `json:"identities"`
}

// IdentityJSON is a sender identity.
type IdentityJSON struct {
	ID      string `json:"id"`
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	Default bool   `json:"default"`
	TwoWay  bool   `json:"twoWay"`
}

// TemplateJSON is a template in the picker.
type TemplateJSON struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Kinds   []string `json:"kinds,omitempty"`
	Subject string   `json:"subject,omitempty"`
	Text    string   `json:"text"`
}

// VariableJSON is a variable in the picker.
type VariableJSON struct {
	Path  string `json:"path"`
	Scope string `json:"scope"`
	Label string `json:"label"`
	Token string `json:"token"`
}

// AgentJSON is the agent behind the request.
type AgentJSON struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}
