// Package channel defines the channel kinds Parley sends on (email, SMS, MMS,
// push, WhatsApp, Airbnb), the one-method Sender interface a host or a
// provider adapter implements, the message types adapters share, the
// capabilities of each kind, sender identities (C9), attachment rules (C7)
// and the Registry in which a host registers its channels (C1).
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// A Sender sends one message and returns a Receipt; optional abilities are
// separate interfaces found by type assertion, the way net/http finds
// http.Flusher: Canceler (cancel a provider-scheduled message) and
// CapabilityReporter. Cross-cutting behaviour wraps a Sender (Middleware).
//
// Subpackages: sms measures SMS bodies (C6), channeltest is a fake channel
// for tests, and the provider adapters live beside them.
//
// # Concurrency
//
// Registry is safe for concurrent use. Sender implementations must be safe
// for concurrent use. Message, Inbound and the other types are plain values;
// Clone copies a Message deeply.
//
// # Errors
//
// Errors match the sentinels of this package with errors.Is:
// ErrNotRegistered for a kind the host has not registered, ErrUnknownKind,
// ErrNoIdentity, ErrInvalidMessage, and ErrAttachment (each attachment
// problem is an *AttachmentError). Senders classify failures with
// ErrTransient, ErrPermanent, ErrOptedOut and ErrWindowClosed; Retryable
// tells the two apart.
package channel
