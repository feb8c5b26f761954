package twilio

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/parleyhq/parley/channel"
)

// Errors that callers branch on with errors.Is.
var (
	// ErrBadSignature reports a webhook whose X-Twilio-Signature (or
	// bodySHA256) does not match, or is missing.
	ErrBadSignature = errors.New("bad Twilio signature")
	// ErrConfig reports an invalid Config or HandlerConfig.
	ErrConfig = errors.New("invalid configuration")
	// ErrSchedule reports a SendAt that Twilio cannot schedule: outside
	// [MinScheduleLead, MaxScheduleLead] from now, or without a Messaging
	// Service. Errors matching it also match channel.ErrPermanent and
	// channel.ErrInvalidMessage.
	ErrSchedule = errors.New("message cannot be scheduled")
)

// Twilio error codes the adapter gives a meaning to.
const (
	// CodeUnsubscribed is Twilio error 21610: the recipient replied STOP and
	// is unsubscribed. It maps to channel.ErrOptedOut (R5).
	CodeUnsubscribed = 21610
	// CodeQueueFull is Twilio error 21611: the sender has too many queued
	// messages. A later retry can succeed.
	CodeQueueFull = 21611
	// CodeWindowClosed is Twilio error 63016: free-form WhatsApp message
	// outside the 24-hour window. It maps to channel.ErrWindowClosed (C10).
	CodeWindowClosed = 63016
	// CodeTooManyRequests is Twilio error 20429: rate limited.
	CodeTooManyRequests = 20429
	// CodeNotFound is Twilio error 20404: no such resource.
	CodeNotFound = 20404
)

// Error is an error response of the Twilio REST API, as Twilio returns it:
//
//	{"code": 21610, "message": "Attempt to send to unsubscribed recipient",
//	 "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}
//
// It unwraps to channel.ErrTransient when a retry can help (HTTP 429, 5xx,
// Twilio errors 20429 and 21611) and to channel.ErrPermanent otherwise, plus
// channel.ErrOptedOut for error 21610, channel.ErrWindowClosed for error
// 63016, so callers use errors.Is for the class and errors.As to read
// Twilio's code.
type Error struct {
	// Status is the HTTP status code of the response.
	Status int
	// Code is Twilio's error code (21610), or 0 when the body had none.
	Code int
	// Message is Twilio's error message, or the start of a body that was not
	// a Twilio error document.
	Message string
	// MoreInfo is the link to Twilio's page on the error code.
	MoreInfo string
}

// Error returns "twilio: HTTP <status>: error <code>: <message>".
func (e *Error) Error() string {
	if e.Code == 0 {
		return fmt.Sprintf("twilio: HTTP %d: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("twilio: HTTP %d: error %d: %s", e.Status, e.Code, e.Message)
}

// Unwrap returns the channel sentinels the error matches; see Error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Temporary() {
		errs = append(errs, channel.ErrTransient)
	} else {
		errs = append(errs, channel.ErrPermanent)
	}
	switch e.Code {
	case CodeUnsubscribed:
		errs = append(errs, channel.ErrOptedOut)
	case CodeWindowClosed:
		errs = append(errs, channel.ErrWindowClosed)
	}
	return errs
}

// Temporary reports whether a retry of the same request can succeed: Twilio
// rate limits (HTTP 429, error 20429), a full sender queue (error 21611) and
// server errors (HTTP 5xx).
func (e *Error) Temporary() bool {
	switch {
	case e.Code == CodeUnsubscribed || e.Code == CodeWindowClosed:
		return false
	case e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	case e.Code == CodeTooManyRequests, e.Code == CodeQueueFull:
		return true
	}
	return false
}
