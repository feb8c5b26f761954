package store

import "context"

// DeliveriesWriter is an optional ability of a Store, found by type
// assertion: it writes several deliveries in one call, under one lock or in
// one round trip, as a fan-out marks its sends and records their outcomes a
// batch at a time. The inbox uses it when the store has it, and calls
// WriteDelivery for each delivery otherwise.
//
// A store that wraps another by embedding it (to count its writes, to
// inject faults) would inherit the embedded store's WriteDeliveries, which
// bypasses the wrapper's own WriteDelivery: Batched guards against it. The
// inbox uses WriteDeliveries only on a store whose Batched returns that
// very store, so a wrapper is written through its own WriteDelivery unless
// it defines both methods.
type DeliveriesWriter interface {
	// WriteDeliveries applies each write of ws as WriteDelivery would apply
	// it, in order, each atomically on its own: a write that fails
	// (ErrConflict on a stale version, ErrNotFound, ErrDuplicate,
	// ErrInvalid) changes nothing and does not keep the others from being
	// applied. It returns nil when every write was applied, else one error
	// per write, nil for those applied. When ctx has ended, it writes
	// nothing and every write fails with ctx.Err().
	WriteDeliveries(ctx context.Context, ws []DeliveryWrite) []error
	// Batched returns the store WriteDeliveries writes to: the receiver
	// itself (see DeliveriesWriter).
	Batched() Store
}

// DeliveryWrite is one write of DeliveriesWriter.WriteDeliveries: a changed
// delivery and the events appended to the feed with it, as WriteDelivery
// takes them.
type DeliveryWrite struct {
	Delivery Delivery
	Events   []FeedEvent
}
