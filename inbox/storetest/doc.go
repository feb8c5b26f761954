// Package storetest is the conformance suite of inbox stores. A store
// implementation proves itself with one test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return mystore.New(…) })
//	}
//
// A store written outside this module passes it with public API only: the
// contract of package store and the search rules of inbox/store/textindex
// (which words and phone forms a query matches). The suite's own tests
// prove it with a naive store that answers every query by scanning, in
// scan_test.go, which imports nothing internal (a test checks it).
//
// The behaviour contract, with the rule IDs the suite cites, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// Run drives every inbox rule (T1–T20, M1–M6, R5, S2–S5, C8) through a real
// inbox.Inbox on a fresh store per scenario, checks the Store contract's
// own promises (copies, optimistic versions, duplicate provider IDs, atomic
// failure, cancelled contexts), runs a concurrency stress test whose
// result is compared with a scan of every thread and 8 writers on one
// thread that must all succeed, and feeds the inbox input that cannot be
// stored as it came (invalid UTF-8, NUL bytes, provider IDs, addresses and
// words of 3,000 bytes), which every store must then keep alike.
//
// # Concurrency
//
// Run uses t.Run for each scenario; scenarios do not run in parallel.
//
// # Errors
//
// Failures are reported through t.
package storetest
