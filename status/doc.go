// Package status models the delivery status of a message to one recipient
// and merges status reports that arrive duplicated and out of order.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// The nine statuses of the specification (S1) are ranked
//
//	scheduled < pending < validated < cancelled < failed < sent < undelivered < delivered < read
//
// and a delivery keeps the highest it has seen (S2): Merge is commutative,
// associative and idempotent, so webhooks can be applied in any order and any
// number of times. A Record keeps every distinct event with its time, raw
// provider value and error code, once, in event-time order (S3): its history,
// like its status, is the same whatever the order and number of arrivals.
// ParseTwilio, ParseWhatsApp and ParseEmailEvent map provider values to
// statuses (S4), and Counts tallies many deliveries per status (S5).
//
// # Concurrency
//
// Status and Counts are plain values. Record is a value with a slice; a Record
// must not be mutated from several goroutines at once. Every function is safe
// for concurrent use.
//
// # Errors
//
// Parsing functions return errors that match ErrUnknown (no such status),
// ErrInbound (a Twilio status of an inbound message) or ErrNotDeliveryStatus
// (a provider event that is not a delivery status) with errors.Is.
package status
