package channel

import "context"

// Receiver takes what providers report through webhooks: inbound messages
// and delivery status updates. The inbox implements it; provider adapters'
// webhook handlers call it, and answer the provider with a 2xx status after
// it returned nil.
//
// Receive stores an inbound message. Receiving a message whose ProviderID was
// already stored returns nil and stores nothing new (M5), so a webhook
// delivered twice is harmless.
//
// ApplyStatus merges a status update into the delivery it concerns (S2, S3),
// idempotently and in any order. An update for a provider ID no delivery has
// may be racing the write of its own send's outcome, so the Receiver waits
// a bounded time for the delivery to appear; ApplyStatus returns an error
// matching ErrUnknownMessage only after it gave up waiting, having reported
// the update (the inbox publishes an event and logs it). Handlers
// acknowledge it (2xx): a retry cannot help, and one unknown status never
// fails the batch it came in.
//
// Errors matching ErrInvalidMessage mean the input can never be stored,
// even cleaned (a retry will not help): handlers acknowledge them with a 2xx
// and log them, or answer 4xx, never a 5xx that the provider would retry for
// hours. Any other error means it was not stored this time and may succeed
// when retried (a 5xx).
type Receiver interface {
	Receive(ctx context.Context, in Inbound) error
	ApplyStatus(ctx context.Context, u StatusUpdate) error
}
