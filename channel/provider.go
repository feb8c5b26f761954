package channel

import (
	"errors"
	"time"
)

// ErrAddressRetired marks a send refused because the recipient's address no
// longer exists at the provider: a push device token whose app was
// uninstalled or whose registration expired (FCM UNREGISTERED), or a string
// the provider says is not a device token at all. It always comes with
// ErrPermanent. For push, the inbox records the token as retired, never
// sends to it again and publishes an event so the host can drop it; a
// contact left with retired tokens only has no valid device (R2).
var ErrAddressRetired = errors.New("recipient address retired")

// Metadata keys the inbox sets on the Message of every push delivery, so
// that an adapter can tell the recipient's app which conversation a
// notification belongs to (an FCM data payload, say) and a host callback can
// find the contact. Adapters of other kinds ignore them.
const (
	// MetaThreadID is the ID of the thread the message belongs to.
	MetaThreadID = "parley.thread_id"
	// MetaMessageID is the ID of the message.
	MetaMessageID = "parley.message_id"
	// MetaContactID is the host's ID of the recipient contact.
	MetaContactID = "parley.contact_id"
)

// RetryAfter returns how long the provider asked the caller to wait before
// retrying (an HTTP Retry-After header, say), as told by err or any error it
// wraps that has a method RetryAfter() time.Duration. It returns zero when
// none says, or when the wait is not positive. The inbox's retries wait at
// least that long.
func RetryAfter(err error) time.Duration {
	var ra interface{ RetryAfter() time.Duration }
	if err == nil || !errors.As(err, &ra) {
		return 0
	}
	if d := ra.RetryAfter(); d > 0 {
		return d
	}
	return 0
}
