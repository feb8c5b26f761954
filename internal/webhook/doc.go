// Package webhook holds what every provider adapter's webhook handler does
// the same way: read a bounded body, and decide what to answer the provider
// from what the inbox (a channel.Receiver) said.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// Classify is the one mapping from a Receiver's error to an Outcome; each
// handler turns outcomes into HTTP status codes with its provider's retry
// policy in mind (Outcome.Code), and Batch folds the outcomes of a request
// that carries many items (a WhatsApp notification) into one answer.
//
// # Concurrency
//
// The functions hold no state and are safe for concurrent use. A Batch
// belongs to one request.
//
// # Errors
//
// ReadBody returns the read error with the HTTP status to answer.
package webhook
