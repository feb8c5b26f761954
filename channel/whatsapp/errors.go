package whatsapp

import (
	"errors"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/channel"
)

// Errors that callers branch on with errors.Is. Send errors also match the
// classification sentinels of package channel (channel.ErrTransient,
// channel.ErrPermanent, channel.ErrWindowClosed).
var (
	// ErrBadSignature reports a webhook body whose X-Hub-Signature-256 header
	// is missing, malformed or does not match the body.
	ErrBadSignature = errors.New("bad webhook signature")
	// ErrMalformed reports a webhook body that is not a WhatsApp notification
	// Parley can read (invalid JSON, entries or changes that are not
	// arrays). Malformed items inside a notification do not make it
	// malformed: they are listed in Notification.Malformed.
	ErrMalformed = errors.New("malformed webhook body")
	// ErrConfig reports an invalid Config or HandlerConfig.
	ErrConfig = errors.New("invalid configuration")
	// ErrRateLimited marks a send refused by one of Meta's rate limits (API
	// call rate, throughput, pair rate, spam rate). It comes with
	// channel.ErrTransient.
	ErrRateLimited = errors.New("rate limited")
	// ErrTemplate marks a send refused because of the template: it does not
	// exist in that language, is not approved, is paused or disabled, or its
	// parameters do not match. It comes with channel.ErrPermanent.
	ErrTemplate = errors.New("template refused")
	// ErrAuth marks a send refused because the access token is invalid or
	// expired or lacks a permission. It comes with channel.ErrPermanent.
	ErrAuth = errors.New("not authorized")
	// ErrMedia reports media that could not be fetched, or whose content does
	// not match its size limit or checksum.
	ErrMedia = errors.New("media unavailable")
)

// Error is an error response of the Graph API to a send, an upload or a
// media fetch (the "error" object of the response body), with the HTTP
// status. Read it with errors.As; it
// matches its classification with errors.Is: channel.ErrTransient or
// channel.ErrPermanent, plus channel.ErrWindowClosed, ErrRateLimited,
// ErrTemplate or ErrAuth where the code says so.
type Error struct {
	// StatusCode is the HTTP status of the response.
	StatusCode int
	// Code is Meta's error code (131047, 130429, …); 0 when the body held
	// none.
	Code int
	// Subcode is error_subcode, when given.
	Subcode int
	// Type is the error type ("OAuthException").
	Type string
	// Message is the error message; it includes the code's title.
	Message string
	// Details is error_data.details, Meta's explanation.
	Details string
	// TraceID is fbtrace_id, for Meta support.
	TraceID string
	// Transient is is_transient as Meta reported it.
	Transient bool

	kind []error // classification sentinels
}

// Error returns the HTTP status, code, message and details.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "whatsapp: graph API refused: HTTP %d", e.StatusCode)
	if e.Code != 0 {
		fmt.Fprintf(&b, ", code %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Details != "" && e.Details != e.Message {
		b.WriteString(": ")
		b.WriteString(e.Details)
	}
	return b.String()
}

// Unwrap returns the classification sentinels of the error.
func (e *Error) Unwrap() []error { return e.kind }

// classify sets the classification of e from its code and HTTP status.
// Codes are those of Meta's Cloud API error code reference.
func (e *Error) classify() {
	switch c := e.Code; {
	case c == 131047: // Re-engagement message: more than 24 hours since the customer's last message.
		e.kind = []error{channel.ErrWindowClosed, channel.ErrPermanent}
	case c == 4 || c == 80007 || c == 130429 || c == 131056 || c == 131048:
		// API too many calls, WABA rate limit, throughput limit, pair rate
		// limit, spam rate limit: a later retry can pass.
		e.kind = []error{ErrRateLimited, channel.ErrTransient}
	case c == 1 || c == 2 || c == 131000 || c == 131016 || c == 131057 || c == 133004:
		// Unknown API error, service temporarily unavailable, something went
		// wrong, service unavailable, account in maintenance mode, server
		// temporarily unavailable.
		e.kind = []error{channel.ErrTransient}
	case c == 132000 || c == 132001 || c == 132005 || c == 132007 || c == 132012 ||
		c == 132015 || c == 132016 || c == 132068 || c == 132069:
		// Parameter count mismatch, template does not exist (or not approved
		// in that language), hydrated text too long, format character policy,
		// parameter format mismatch, template paused, template disabled, flow
		// blocked or throttled.
		e.kind = []error{ErrTemplate, channel.ErrPermanent}
	case c == 0 && e.StatusCode == 401, c == 190, c == 3, c == 10, c >= 200 && c <= 299:
		// Authentication, expired token, capability or permission missing.
		e.kind = []error{ErrAuth, channel.ErrPermanent}
	case e.Transient || e.StatusCode == 429 || e.StatusCode >= 500:
		e.kind = []error{channel.ErrTransient}
	default:
		// 131026 undeliverable, 131051 unsupported type, 131009 invalid
		// parameter, 131050 marketing opt-out, 131049 not delivered to keep
		// engagement healthy, 133010 number not registered, 368 policy
		// block and every other 4xx: sending again fails again.
		e.kind = []error{channel.ErrPermanent}
	}
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("whatsapp: %w (%w): %s", channel.ErrInvalidMessage, channel.ErrPermanent, fmt.Sprintf(format, args...))
}
