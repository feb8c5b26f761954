package store

import (
	"context"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// StatusMerger is an optional ability of a Store, found by type assertion:
// it merges a provider's status change into a delivery under the store's
// own lock, without handing out a copy of the delivery and taking it back
// for every status report (they arrive by the million). The inbox uses it
// when the store has it, and reads and writes the delivery otherwise.
type StatusMerger interface {
	// MergeStatus merges c into the status record of the delivery whose
	// ProviderID is providerID with status.Record.Apply (S2, S3), as one
	// atomic step. When the merge changes the record, the delivery is
	// written with it as WriteDelivery would write it (Version grows by
	// one, Counts and indexes follow); nothing else of the delivery
	// changes. When the record already holds c, nothing is written
	// (Merged.Changed is false). It returns ErrNotFound when no delivery
	// has providerID, and Apply's error, with nothing written, for a
	// change Apply refuses.
	//
	// When the merge changes the record and events is not nil, the events
	// it returns for the merge are appended to the store's event feed in
	// the same atomic step, as WriteDelivery's events are (see Feed).
	// events runs while the store holds its lock: it must not call the
	// store.
	MergeStatus(ctx context.Context, providerID string, c status.Change, events func(Merged) []FeedEvent) (Merged, error)
}

// Merged is what StatusMerger.MergeStatus did: the delivery's identity and
// its status after the merge.
type Merged struct {
	DeliveryID, MessageID, ThreadID string
	// Kind is the delivery's channel.
	Kind channel.Kind
	// Previous and Status are the delivery's current status before and
	// after the merge.
	Previous, Status status.Status
	// Changed reports whether the merge changed the record and wrote it.
	Changed bool
}
