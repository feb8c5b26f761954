// Package email is Parley's email channel: a channel.Sender that sends over
// SMTP (github.com/wneessen/go-mail), a parser for inbound replies
// (github.com/emersion/go-message) that keeps only the new text, per-thread
// reply addresses that cannot be guessed or forged, and an http.Handler
// that takes inbound mail from a relay and feeds a channel.Receiver.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// Outbound: New(Config) returns a *Sender. Each Send opens a connection
// (STARTTLS required by default; opportunistic STARTTLS, implicit TLS on
// port 465 and plain text are options), authenticates when a Username is
// set, and sends one multipart/alternative message with a Message-ID of the
// Sender's own making, returned without angle brackets as
// Receipt.ProviderID.
//
// Inbound: Parse and Parser.Parse read a raw RFC 5322 message, keep the
// text part (or the HTML part turned into text, HTMLToText), strip quoted
// history and signature (StripQuoted), and report Message-ID, In-Reply-To
// and References so the inbox routes the reply to its thread (M4, M5).
// ReplyAddress gives each thread its own reply address
// ("reply+<thread>.<token>@domain"); a reply sent to it carries the
// verified thread ID in Inbound.ThreadToken. A message with more parts than
// MaxParts, parts nested deeper than MaxDepth, or a MIME structure that
// breaks off keeps what could be read and has Inbound.Truncated set. NewHandler
// mounts the inbound webhook, authenticated by an HMAC-SHA256 signature of
// the body with a timestamp (Sign, VerifySignature, SignatureHeader); its
// documentation says which code it answers for what, and which http.Server
// timeouts to set.
//
// # Concurrency
//
// Sender and Handler are safe for concurrent use; a Sender keeps no
// connection between sends, so there is nothing to close. A Parser is safe
// for concurrent use once its fields are set. The functions are pure.
//
// # Errors
//
// Send refuses a message it cannot send as email with an error matching
// channel.ErrInvalidMessage and channel.ErrPermanent. Server refusals are
// *SMTPError (Code, EnhancedCode, Message, Stage), matching
// channel.ErrTransient for 4xx replies and channel.ErrPermanent for 5xx.
// Network failures before the message went out match channel.ErrTransient;
// TLS failures match channel.ErrPermanent; a connection lost while waiting
// for the final reply matches ErrDeliveryUnknown, which channel.Retryable
// does not retry. A cancelled context gives an error matching ctx.Err().
// Configuration errors match ErrConfig. Parsing fails with ErrMalformed or
// ErrTooLarge; reply addresses with ErrNoReplyToken or ErrBadReplyToken;
// webhook signatures with ErrBadSignature.
package email
