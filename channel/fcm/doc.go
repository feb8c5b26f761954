// Package fcm is the push adapter of Parley: a channel.Sender for Firebase
// Cloud Messaging's HTTP v1 API, which reaches Android, iOS (through APNs)
// and web apps with one device token per app install.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Sending
//
// New takes the service account key of the Firebase project (its JSON, or
// the path of the file) and returns a Sender. Send posts
// {"message": {"token": …, "notification": {"title", "body"}, "data": …,
// "android": …, "apns": …}} to /v1/projects/{project}/messages:send with a
// bearer token: the push's title is the message's subject (required for
// push, C2), its body the text, and its data payload the thread, message
// and delivery IDs (DataThreadID, DataMessageID, DataDeliveryID) so that
// the host's app can open the conversation and report the notification
// opened. Priority, sound, Android channel, TTL, collapsing by thread and an
// icon badge (Config.Badge, the contact's unread count in the host's app)
// are set for Android and APNs alike.
//
// # Authentication
//
// The Sender signs a JWT assertion with the service account's RSA key and
// exchanges it at the key's token_uri for an OAuth2 access token
// (golang.org/x/oauth2/jwt does the signing and the exchange), scope
// Scope. The token is cached and replaced RefreshMargin before it expires,
// by one caller while the others wait; a token FCM refuses (HTTP 401) is
// replaced and the send tried once more. The key is parsed once by New and
// kept in memory as a Secret, which prints and logs as "[redacted]"; no
// error, log or String of this package contains the key or an access
// token.
//
// # Statuses
//
// FCM reports nothing after it accepts a message: a push that FCM accepted
// is sent (S1) and stays sent. When the host's app reports that the user
// opened the notification, inbox.Inbox.MarkPushOpened makes the delivery read.
//
// # Devices and dead tokens
//
// The inbox sends one delivery per contact, to one device: the contact's
// first push token that is not retired. When FCM answers UNREGISTERED (the
// app was uninstalled, the registration expired) or INVALID_ARGUMENT about
// the token itself, the error matches channel.ErrAddressRetired: the
// delivery fails with the reason, the inbox records the token as retired,
// publishes inbox.EventDeviceRetired so the host can drop it, never sends
// to it again, and a contact with retired tokens only is blocked with
// recipient.ErrNoValidDevice (R2). INVALID_ARGUMENT about the payload
// (another field named, or no FCM error detail) retires nothing.
//
// # Limits
//
// Rate and concurrency limits are the inbox's, as for every adapter:
// inbox.Options.RateLimits with Kind channel.Push caps pushes per second,
// inbox.Options.Concurrency bounds those in flight, and the inbox's retries
// wait at least the Retry-After FCM gives with QUOTA_EXCEEDED and
// UNAVAILABLE (Error.RetryAfter, channel.RetryAfter).
//
// # Concurrency
//
// A Sender is safe for concurrent use; it never keeps a reference to a
// message. Its token cache is shared by all its sends.
//
// # Errors
//
// An FCM refusal is an *Error with the HTTP status, the canonical status,
// FCM's error code and the invalid fields. It matches channel.ErrTransient
// for QUOTA_EXCEEDED, UNAVAILABLE, INTERNAL, HTTP 429 and 5xx (with
// RetryAfter), channel.ErrAddressRetired and channel.ErrPermanent for a dead
// token, ErrThirdPartyAuth (the project's APNs key) or ErrSenderMismatch
// with channel.ErrPermanent, and channel.ErrPermanent otherwise. Credentials
// that the token endpoint or FCM refuse give a *CredentialsError matching
// ErrCredentials and channel.ErrPermanent; a token endpoint that is down is
// transient. A message that cannot be a push matches
// channel.ErrInvalidMessage and channel.ErrPermanent; configuration errors
// match ErrConfig. Nothing in this package panics on bad input.
package fcm
