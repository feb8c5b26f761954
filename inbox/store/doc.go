// Package store is the storage contract of the inbox: the values a store
// keeps (Thread, Message, Delivery, Assignment), the queries it answers and
// the Store interface, written method by method with the promises every
// implementation keeps.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// It lives apart from package inbox, in the way gocloud.dev/blob/driver lives
// apart from blob, so that implementations (inbox/memstore, inbox/pgstore, a
// host's own) import only this small package, and the inbox can use memstore
// in its examples without an import cycle. Package inbox re-exports the
// value types under the same names.
//
// # Concurrency
//
// Implementations are safe for concurrent use, also across processes where
// they share a database. The value types are plain values.
//
// # Errors
//
// Stores return errors matching ErrNotFound, ErrConflict and ErrDuplicate
// with errors.Is, and the context's error when it ends.
package store
