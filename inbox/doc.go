// Package inbox is Parley's multi-channel inbox: threads with one subject
// each (a contact, an audience or an event), their messages and deliveries,
// and every inbox rule of the specification (T1–T20, M1–M6), over a Store.
//
// An Inbox owns the policy: it starts or resumes threads (T2), stores
// inbound messages with deduplication (M5) and opt-out keywords (R5), records
// outbound ones, keeps sort time and latest-message time apart (T4), counts
// unread messages (T5, T6), mutes, pins, archives, closes and assigns threads
// (T7–T12), lists and searches them with keyset pagination (T3, T11, T13),
// counts what needs attention (T15), publishes events (T20) and merges
// delivery statuses in any order (S2). The Store only keeps values and
// indexes: inbox/memstore is the in-memory one, inbox/storetest the
// conformance suite any store must pass.
//
// Contacts, audiences and events belong to the host: the inbox finds them
// through a Directory the host implements, and each thread keeps a Snapshot
// of its subject's searchable fields.
//
// Time comes from Options.Now and IDs from Options.NewID, so tests are
// deterministic.
//
// # Concurrency
//
// An Inbox is safe for concurrent use, and several Inboxes may share one
// Store: writes use optimistic concurrency and retry on conflict. Event
// subscribers each have a bounded buffer; a slow one misses events (and is
// told how many) but never blocks the inbox. Events are numbered (Event.Seq)
// and the inbox keeps the latest ones (Options.EventHistory), so a
// subscriber that reconnects resumes where it stopped
// (SubscribeOptions.After), or is told to reload (EventResync) when it
// stopped too long ago.
//
// # Errors
//
// Errors match ErrNotFound, ErrInvalidArgument, ErrMarkUnreadNotAllowed and
// ErrConflict with errors.Is, and the channel package's sentinels where a
// channel rule is concerned (channel.ErrInvalidMessage,
// channel.ErrUnknownMessage). A context's error is returned as is. A failed
// store write leaves the inbox as it was.
package inbox
