// Command hotel runs a hotel guest conversation over fake channels: a small
// PMS with guests and bookings, the WhatsApp 24-hour service window (C10),
// Airbnb's first-message rule (C11), cost estimates from a price table on
// every preflight (C13), a message scheduled "2 days before check-in at
// 10:00" in the hotel's time zone that follows the booking when it moves
// (C15), and delivery statuses that arrive shuffled and twice (S2, S3).
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
//	go run ./examples/hotel
//
// Every channel is a channeltest fake registered in a channel.Registry, and
// the clock is the story's own, so the program needs no network and prints
// the same story every time. With PARLEY_POSTGRES_DSN set it runs on
// PostgreSQL (inbox/pgstore) instead of the in-memory store, and prints the
// same story.
package main
