// Package channeltest provides Fake, an in-memory channel.Sender for tests
// and demos, in the way net/http/httptest provides a recorder: it records
// what was sent (Sent), can be scripted to fail transiently or permanently
// (FailNext, FailAlways, FailWhen), to take time (SetLatency) or to hang
// until the caller's context ends (Hang), and emits scripted delivery
// statuses, in order or shuffled and duplicated as real webhooks arrive
// (Flush, FlushShuffled, Emit), and inbound replies (Reply). Like a
// provider that keeps the caller's reference, it reports each message's
// Reference with its statuses and answers Find (channel.Finder) by it.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// Nothing happens behind the test's back: statuses are delivered only when
// the test calls Flush, provider IDs are sequential, and the fake reads no
// clock: its reports carry no time, so the receiver stamps them on arrival
// with its own (an inbox's Options.Now), unless Options.Now gives the fake
// a provider clock of its own. Tests are deterministic. Latency uses real
// timers; run such tests inside testing/synctest to keep them instant.
//
// # Concurrency
//
// A Fake is safe for concurrent use. Callbacks (OnStatus, OnInbound) are
// called on the goroutine that calls Flush or Reply, with no lock held, so
// they may call the Fake.
//
// # Errors
//
// Send returns channel.ErrInvalidMessage (wrapped) for a nil message or one
// of another kind, the context's error when it ends, and the scripted errors
// as given. ErrScripted, Transient and Permanent build classified errors
// (channel.ErrTransient, channel.ErrPermanent).
package channeltest
