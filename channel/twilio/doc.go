// Package twilio is the Twilio adapter of Parley: a channel.Sender for SMS,
// MMS and WhatsApp through Twilio's Messages REST resource, and an
// http.Handler for Twilio's messaging webhooks (incoming messages and status
// callbacks) that verifies X-Twilio-Signature before it feeds the inbox.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Sending
//
// New returns a Sender configured with the account SID and an auth token or
// API key. Send posts the message form-encoded with HTTP basic auth to
// /2010-04-01/Accounts/{AccountSid}/Messages.json: To, From and/or
// MessagingServiceSid, Body, one MediaUrl per attachment (MMS), ContentSid
// and ContentVariables for an approved template (WhatsApp outside the 24-hour
// window, C10), StatusCallback, and ScheduleType=fixed with SendAt for a
// message Twilio holds until later (C8: it needs a Messaging Service and a
// SendAt between 15 minutes and 35 days ahead). WhatsApp addresses get the
// "whatsapp:" prefix. Cancel cancels such a message (Status=canceled). The
// message's Reference travels in the StatusCallback URL (ReferenceParam),
// from which the Handler gives it back in StatusUpdate.Reference.
//
// # Webhooks
//
// NewHandler returns a Handler for both kinds of messaging webhook. It
// refuses other methods (405) and bodies over the size limit (413) before
// reading them whole, verifies the signature against the public URL the host
// configures, with the account's auth token or one of the old tokens of a
// rotation (403, the Receiver is never called), checks the shape of every
// field it trusts and that AccountSid is the configured account (400: a
// captured request whose names and values were re-split still verifies, and
// is refused here), parses Body, From, To, MessageSid, NumMedia, MediaUrlN
// and MediaContentTypeN into a channel.Inbound, or MessageSid, MessageStatus,
// ErrorCode and the URL's ReferenceParam into a channel.StatusUpdate (status mapped with
// status.ParseTwilio, S4), and answers 200 once the Receiver has stored it
// (M5: a duplicate is stored once and still answered 200), 200 for a status
// of a message no delivery has (logged: no retry would find it), 400 for
// malformed input or input the Receiver refuses as invalid, and 500 only
// when the Receiver failed in a way a retry can fix. A webhook whose
// I-Twilio-Idempotency-Token was already handled within the replay window
// is answered 200 without calling the Receiver again; the replay cache keeps
// a hash of each token and is bounded in bytes. Handler's documentation
// says why each code suits Twilio's retry policy, and which http.Server
// timeouts to set.
//
// Signature, VerifySignature and VerifySignatureWithBody implement Twilio's
// request validation: HMAC-SHA1, keyed with the auth token, over the full URL
// followed by the POST parameters sorted by name (each name's distinct
// values sorted, a repeated value signed once, as Twilio's helper libraries
// do), base64-encoded; for a JSON body, over the URL alone, whose
// bodySHA256 query parameter must be the hex SHA-256 of the body. Twilio may
// sign the URL with or without an explicit port, so the URL as given, without
// its port, or with the scheme's default port added are accepted, and nothing
// looser.
//
// # Telemetry
//
// The Handler reports each webhook request with OpenTelemetry (the API
// only: the host brings the SDK, through HandlerConfig.TracerProvider and
// MeterProvider or the otel global providers, no-ops until it installs
// one). Each request is one span, named after the request's method and
// the route the Handler is mounted on ("POST /hooks/twilio", r.Pattern of
// http.ServeMux), a server span (an internal one under a span the host's
// own HTTP middleware started), parent of the inbox's spans for its
// items; its attributes are http.request.method, url.path, url.scheme,
// http.route, http.response.status_code, parley.provider ("twilio") and
// parley.webhook.outcome (the worst outcome of its items: stored,
// unknown, invalid, retry; rejected when refused before any reached the
// Receiver, none when it carried none); a 5xx answer sets error.type and
// the span's Error status. The histogram parley.webhook.request.duration
// (s) counts and times the requests by parley.provider,
// http.request.method, http.response.status_code and
// parley.webhook.outcome. The Logger is silent unless set.
//
// # Concurrency
//
// Sender and Handler are safe for concurrent use; neither keeps a reference
// to its inputs. The functions of the package have no state.
//
// # Errors
//
// A Twilio error response is an *Error carrying the HTTP status, Twilio's
// code, message and more_info link. It matches channel.ErrTransient when a
// retry can help (HTTP 429 or 5xx, Twilio errors 20429 and 21611), else
// channel.ErrPermanent, and also channel.ErrOptedOut for error 21610 (the
// recipient unsubscribed: the inbox records the opt-out, R5) and
// channel.ErrWindowClosed for error 63016. Network failures match
// channel.ErrTransient; the end of the context matches ctx.Err(). A message
// the adapter cannot send matches channel.ErrInvalidMessage and
// channel.ErrPermanent, and ErrSchedule when SendAt cannot be scheduled.
// Signature checks fail with ErrBadSignature and configuration with
// ErrConfig. Nothing in this package panics on bad input.
package twilio
