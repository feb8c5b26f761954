package channel

import "context"

// Receiver takes what providers report through webhooks: inbound messages
// and delivery status updates. The inbox implements it; provider adapters'
// webhook handlers call it, and answer the provider with a 2xx status only
// after it returned nil.
//
// Receive stores an inbound message. Receiving a message whose ProviderID was
// already stored returns nil and stores nothing new (M5), so a webhook
// delivered twice is harmless.
//
// ApplyStatus merges a status update into the delivery it concerns (S2, S3),
// idempotently and in any order. An update for a provider ID no delivery has
// (yet) returns an error matching ErrUnknownMessage, so that the provider, or
// the host, retries it later rather than losing it.
//
// Errors matching ErrInvalidMessage mean the input can never be stored
// (a retry will not help); any other error means it was not stored this time
// and may be retried.
type Receiver interface {
	Receive(ctx context.Context, in Inbound) error
	ApplyStatus(ctx context.Context, u StatusUpdate) error
}
