// Package whatsapp is the WhatsApp Cloud API (Meta) adapter of Parley: a
// channel.Sender that sends through POST /{phone-number-id}/messages of the
// Graph API, and an http.Handler for the webhook that verifies Meta's
// signature and feeds a channel.Receiver (the inbox).
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Sending
//
// New returns a Sender from a Config holding the access token and the phone
// number ID; the Graph API version, base URL, HTTP client and clock are
// configurable. Send sends free text inside the 24-hour service window, an
// approved template outside it (C10: name, language and the body
// parameters of channel.Message.Template), or one media attachment (image,
// video, audio, document, sticker) by link, by media ID or uploaded. The
// Cloud API cannot schedule or cancel messages, so the Sender is not a
// channel.Canceler and refuses SendAt. FetchMedia downloads inbound media.
// A sender identity (channel.Identity.Address) of this adapter is a phone
// number ID.
//
// # Webhooks
//
// NewHandler returns a Handler that answers the GET verification handshake
// (hub.mode, hub.verify_token, hub.challenge) and, for POST notifications,
// verifies X-Hub-Signature-256 (HMAC-SHA256 of the raw body with the app
// secret, compared in constant time) before parsing anything. Messages
// (text, media, button and interactive replies, reactions, locations,
// contacts) become channel.Inbound and statuses (sent, delivered, read,
// failed with its errors) channel.StatusUpdate mapped by
// status.ParseWhatsApp (S4). The Handler answers 200 once the Receiver has
// stored every item (M5 makes a duplicate harmless) or refused it for good
// (a status of a message no delivery has, an item refused as invalid: both
// logged, since Meta retries every answer but a 200 for 7 days and one item
// must not hold back the others of its notification), 500 only when an
// item was not stored in a way a retry can fix, 403 for a bad signature
// (the app secret, or an old one during a rotation), 400 for a body that is
// not a notification and 413 for a body over the limit. VerifySignature and
// ParseNotification are exported for hosts that route webhooks themselves.
//
// Replay protection: Meta's notifications carry no signed timestamp and are
// retried for up to 7 days, so the Handler keeps old items by default and
// relies on deduplication by message ID (M5) and order-independent status
// merging (S2); HandlerConfig.MaxAge drops items older than a limit.
//
// # Concurrency
//
// Sender and Handler are safe for concurrent use; they hold no mutable
// state. Send does not modify its message.
//
// # Errors
//
// Send errors are classified with the sentinels of package channel: an
// *Error (the Graph API's error response, read with errors.As) matches
// channel.ErrTransient for rate limits (ErrRateLimited: codes 4, 80007,
// 130429, 131048, 131056), outages and 5xx, and channel.ErrPermanent
// otherwise, with channel.ErrWindowClosed for code 131047 (more than 24
// hours since the contact's last message), ErrTemplate for template
// problems (132000, 132001, 132015, 132016, …) and ErrAuth for token and
// permission errors. A message that cannot be built matches
// channel.ErrInvalidMessage and channel.ErrPermanent; network failures
// match channel.ErrTransient, and the context's error is returned when it
// ends. Configuration errors match ErrConfig, signature failures
// ErrBadSignature, unreadable bodies ErrMalformed and media problems
// ErrMedia.
package whatsapp
