package channel

import "context"

// Receiver takes what providers report through webhooks: inbound messages
// and delivery status updates. The inbox implements it; provider adapters'
// webhook handlers call it, and answer the provider with a 2xx status only
// after it returned nil, or an error no retry can change.
//
// Receive stores an inbound message. Receiving a message whose ProviderID was
// already stored returns nil and stores nothing new (M5), so a webhook
// delivered twice is harmless.
//
// ApplyStatus merges a status update into the delivery it concerns (S2, S3),
// idempotently and in any order. An update for a provider ID no delivery has
// may be racing the write of its own send's outcome, so the Receiver waits
// a bounded time for the delivery to appear; it then returns an error
// matching ErrUnknownMessage, having reported the update (the inbox
// publishes an event and logs it): the message was sent outside Parley or
// its send was never recorded, and a retry would not find it either.
// Handlers acknowledge it (2xx) and log it; it never fails the other
// updates of its batch.
//
// Errors matching ErrInvalidMessage or ErrPermanent mean the input can never
// be stored, even cleaned, and a retry will not help (a Receiver wraps its
// store's refusal of invalid input in one of them): handlers answer 4xx with
// the reason, or 2xx and log it when their provider retries 4xx answers too,
// never a 5xx that the provider would retry for hours. Any other error means
// the input was not stored this time and a retry may store it: handlers
// answer 5xx.
type Receiver interface {
	Receive(ctx context.Context, in Inbound) error
	ApplyStatus(ctx context.Context, u StatusUpdate) error
}
