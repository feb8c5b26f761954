package channel

import (
	"context"
	"time"

	"github.com/parleyhq/parley/status"
)

// Sender sends one outbound message on one channel kind. It is the one
// method a host (or a provider adapter) implements.
//
// Send hands msg to the provider and returns a Receipt once the provider has
// accepted it. Like http.RoundTripper, a Sender must be safe for concurrent
// use, must not modify msg or keep references to it after returning, and must
// honour ctx: when ctx ends it returns promptly with ctx.Err() (unwrapped, or
// wrapped so that errors.Is matches it).
//
// A non-nil error means the provider did not accept the message, or that
// whether it did is unknown. Senders classify their errors by wrapping
// ErrTransient (a retry may help) or ErrPermanent, ErrOptedOut or
// ErrWindowClosed (a retry will fail again); see Retryable. An unclassified
// error is treated as permanent, so a message that may have reached the
// provider is never sent twice.
type Sender interface {
	Send(ctx context.Context, msg *Message) (Receipt, error)
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, msg *Message) (Receipt, error)

// Send calls f(ctx, msg).
func (f SenderFunc) Send(ctx context.Context, msg *Message) (Receipt, error) { return f(ctx, msg) }

// Middleware wraps a Sender with cross-cutting behaviour (rate limits,
// logging, metrics). It returns a new Sender and leaves its argument as is.
type Middleware func(Sender) Sender

// Chain wraps s with each middleware, the first one outermost.
func Chain(s Sender, mw ...Middleware) Sender {
	for i := len(mw) - 1; i >= 0; i-- {
		s = mw[i](s)
	}
	return s
}

// Canceler is implemented by Senders that can cancel a message the provider
// holds for a later time (provider-side scheduling, C8). Cancel returns nil
// when the message is cancelled, and an error wrapping ErrPermanent when it
// can no longer be (already sent, unknown ID).
type Canceler interface {
	Cancel(ctx context.Context, providerID string) error
}

// Finder is implemented by Senders whose provider can be asked what became
// of a message they were given: whether it accepted the message sent with
// msg.Reference (a provider that keeps the caller's reference, or one that
// can be searched by recipient, sender and content), and under which ID.
// The inbox asks it about a delivery whose send was interrupted before its
// outcome was recorded (a crash, a store outage) instead of sending it
// again, which could deliver it twice.
//
// msg is the message as the caller knows it: Kind, From, To, the content
// and Reference. Find returns the Receipt of the accepted message (its
// ProviderID, and the status the provider reports now when it says); an
// error matching ErrUnknownMessage when the provider has no such message,
// so it never accepted it; any other error when it cannot tell now (ask
// again later). Like Send, Find must be safe for concurrent use and must
// not modify msg.
type Finder interface {
	Find(ctx context.Context, msg *Message) (Receipt, error)
}

// CapabilityReporter is implemented by Senders that know the capabilities of
// their provider better than the defaults of their kind (a provider with a
// lower attachment size limit, say). The Registry uses it when a
// registration gives no capabilities of its own.
type CapabilityReporter interface {
	Capabilities() Capabilities
}

// Message is one outbound message to one recipient on one channel.
type Message struct {
	// Kind is the channel kind of the message.
	Kind Kind
	// From is the sender identity the message goes out from. Its zero value
	// lets the Sender use its own configured sender.
	From Identity
	// To is the recipient's address for the kind: an E.164 phone number, an
	// email address, a push token, a WhatsApp number, an Airbnb thread ID.
	To string
	// Subject is the subject (email, push); empty on other kinds (C2).
	Subject string
	// Text is the plain-text body.
	Text string
	// HTML is the HTML body (email only); empty otherwise.
	HTML string
	// Attachments are the files sent with the message (C7).
	Attachments []Attachment
	// Template, when set, asks the provider to send a template it has
	// approved (a WhatsApp template outside the service window, C10) instead
	// of free text.
	Template *TemplateRef
	// SendAt, when not zero, asks the provider to hold the message until then
	// (provider-side scheduling). Senders that cannot schedule refuse it with
	// ErrPermanent.
	SendAt time.Time
	// ReplyTo is an address replies should go to (email Reply-To, a
	// per-thread reply address).
	ReplyTo string
	// InReplyTo is the provider ID of the message this one answers (email
	// threading headers), if any.
	InReplyTo string
	// Reference is the caller's own ID for this delivery. Senders pass it to
	// providers that accept an idempotency key, so that a retried send is not
	// delivered twice, and to providers that report it back with the
	// message's statuses (StatusUpdate.Reference).
	Reference string
	// Metadata carries provider-specific options (a status callback URL, a
	// Twilio Messaging Service SID) that have no field of their own.
	Metadata map[string]string
}

// Clone returns a deep copy of m.
func (m *Message) Clone() *Message {
	if m == nil {
		return nil
	}
	c := *m
	if m.Attachments != nil {
		c.Attachments = make([]Attachment, len(m.Attachments))
		for i, a := range m.Attachments {
			c.Attachments[i] = a.Clone()
		}
	}
	if m.Template != nil {
		t := *m.Template
		t.Params = append([]string(nil), m.Template.Params...)
		c.Template = &t
	}
	if m.Metadata != nil {
		c.Metadata = make(map[string]string, len(m.Metadata))
		for k, v := range m.Metadata {
			c.Metadata[k] = v
		}
	}
	return &c
}

// TemplateRef names a template registered and approved at the provider (a
// WhatsApp message template, a Twilio Content SID) and its parameter values.
type TemplateRef struct {
	// Name is the template's name at the provider.
	Name string
	// Language is the template's language code ("en_US", "fr").
	Language string
	// ProviderID is the provider's own template ID where it has one (a Twilio
	// ContentSid).
	ProviderID string
	// Params are the values of the positional parameters {{1}}…{{n}}, in
	// order.
	Params []string
}

// Receipt is what a provider returned when it accepted a message.
type Receipt struct {
	// ProviderID is the provider's message ID; later status updates and
	// replies refer to it.
	ProviderID string
	// Status is the status the provider reported on acceptance, usually
	// status.Validated or status.Scheduled; Unknown if it reported none.
	Status status.Status
	// At is when the provider accepted the message.
	At time.Time
	// Cost is the provider's price for the message, when it says.
	Cost Cost
	// Segments is the number of SMS segments billed, when the provider says.
	Segments int
}

// Cost is an amount of money in millionths of a currency unit, so that
// per-segment prices such as 0.0079 USD are exact.
type Cost struct {
	// Micros is the amount in millionths of the currency unit.
	Micros int64
	// Currency is the ISO 4217 code ("EUR"); empty when the amount is zero
	// and unknown.
	Currency string
}

// IsZero reports whether c holds no amount.
func (c Cost) IsZero() bool { return c.Micros == 0 }

// Inbound is a message received from a contact, as a provider adapter parses
// it from a webhook.
type Inbound struct {
	// Kind is the channel kind it arrived on.
	Kind Kind
	// From is the sender's address (E.164 number, email address, WhatsApp
	// number, Airbnb guest ID).
	From string
	// Name is the sender's display name when the provider gives one.
	Name string
	// To is the address it was sent to: one of the host's identities.
	To string
	// Subject is the subject (email).
	Subject string
	// Text is the plain-text body (for email, the new text with quoted
	// history stripped).
	Text string
	// HTML is the HTML body (email), if any.
	HTML string
	// Attachments are the media that came with the message.
	Attachments []Attachment
	// ProviderID is the provider's message ID, used to deduplicate (M5).
	ProviderID string
	// InReplyTo is the provider ID of the message this one answers, when the
	// provider reports it (email In-Reply-To and References, a WhatsApp
	// reply context).
	InReplyTo []string
	// ThreadToken is a routing token taken from a per-thread reply address,
	// if the message came to one.
	ThreadToken string
	// Truncated reports that the provider's payload held more than could be
	// parsed (parts or nesting beyond the parser's limits): the text kept is
	// incomplete.
	Truncated bool
	// ReceivedAt is when the provider received it.
	ReceivedAt time.Time
}

// StatusUpdate is a delivery status report from a provider (S4).
type StatusUpdate struct {
	// Kind is the channel kind of the message.
	Kind Kind
	// ProviderID is the provider's message ID from the Receipt.
	ProviderID string
	// Recipient is the recipient address, when the provider says.
	Recipient string
	// Reference is the Message.Reference the message was sent with, when
	// the provider reports it back (WhatsApp's biz_opaque_callback_data).
	// It lets a Receiver find the delivery of a status whose provider ID it
	// does not know: a send whose outcome was never recorded.
	Reference string
	// Status is the mapped status.
	Status status.Status
	// Raw is the provider's own status value.
	Raw string
	// ErrorCode and ErrorMessage are the provider's error, if any.
	ErrorCode    string
	ErrorMessage string
	// At is when the change happened at the provider; zero when the
	// provider does not say (Twilio), and the receiver then keeps the
	// arrival time (S3).
	At time.Time
}
