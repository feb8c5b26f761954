package channel

import "errors"

// Errors that callers branch on with errors.Is.
var (
	// ErrUnknownKind reports a kind name or value that is not a channel kind.
	ErrUnknownKind = errors.New("unknown channel kind")
	// ErrNotRegistered reports a send on a kind the host has not registered (C1).
	ErrNotRegistered = errors.New("not registered")
	// ErrNoIdentity reports a sender identity that does not exist for the kind,
	// or a kind with no default identity when a send names none.
	ErrNoIdentity = errors.New("no such sender identity")
	// ErrInvalidMessage reports a message that is malformed (no recipient,
	// nil message, invalid kind), or inbound input a Receiver can never
	// store: retrying it cannot help.
	ErrInvalidMessage = errors.New("invalid message")
	// ErrTransient marks a send failure that may succeed if retried (timeouts,
	// rate limits, provider outages). Senders wrap it; retries happen only for
	// errors that match it.
	ErrTransient = errors.New("transient channel failure")
	// ErrPermanent marks a send failure that will fail again if retried
	// (invalid number, unsubscribed recipient, rejected content).
	ErrPermanent = errors.New("permanent channel failure")
	// ErrOptedOut marks a provider refusal because the recipient has opted out
	// (Twilio error 21610, say). It is permanent; the inbox records the
	// opt-out (R5).
	ErrOptedOut = errors.New("recipient opted out")
	// ErrWindowClosed marks a free-form WhatsApp message refused because the
	// 24-hour service window is closed (C10). It is permanent.
	ErrWindowClosed = errors.New("service window closed")
	// ErrUnknownMessage reports a status update or a reference to a provider
	// message ID that no stored message has. A Receiver's ApplyStatus
	// returns it only after it gave up waiting; handlers acknowledge it. A
	// Finder returns it for a message its provider does not have.
	ErrUnknownMessage = errors.New("unknown provider message")
	// ErrAttachment is matched by every attachment validation error (C7).
	ErrAttachment = errors.New("attachment not allowed")
)

// Retryable reports whether err is worth retrying: it matches ErrTransient and
// none of the permanent markers. An unclassified error is not retryable, so a
// send that may have reached the provider is never repeated blindly.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, ErrPermanent) || errors.Is(err, ErrOptedOut) || errors.Is(err, ErrWindowClosed) ||
		errors.Is(err, ErrTemplateNotApproved) {
		return false
	}
	return errors.Is(err, ErrTransient)
}
