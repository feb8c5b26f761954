// Command quickstart runs a day of a studio inbox with fake channels: it
// registers channels, measures an SMS, merges out-of-order delivery
// statuses, catches a template variable the context cannot provide, builds
// a smartlist selection, then drives the inbox (replies, mute, favourite,
// archive, search, counters) and prints what a staff user would see.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
//	go run ./examples/quickstart
//
// With PARLEY_POSTGRES_DSN set it runs on PostgreSQL (inbox/pgstore) instead
// of the in-memory store.
package main
