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
// Time comes from Options.Now, the one clock (the recipient rules and the
// fake channels of channeltest take their time from the inbox), and IDs
// from Options.NewID, so tests are deterministic.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the documentation
// and tests cite, is https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Sending
//
// Preflight and Send come from one plan (C14): it checks the draft, picks
// the recipients (R2–R4; Selection gives a composer the same list), renders
// a template once for each of them with the values of the scopes the send
// provides (C5), and measures each rendered text's SMS segments and cost
// (C6, C13); Send records and sends exactly that. A send provides a scope
// only when it has a source for it; a variable of any other scope is a
// preflight problem with its position, and Preflight.Scopes is what a
// variable picker offers:
//
//	scope         contact thread  audience thread  event thread     source
//	contact       yes             yes (members)    yes (attendees)  the recipient, from the Directory
//	audience      -               yes              -                Directory.Audience
//	event         -               -                yes              Directory.Event
//	account       if set          if set           if set           Options.Account
//	agent         if known        if known         if known         Draft.Author.Agent, by an AgentDirectory
//	booking       if given        if given         if given         Draft.Values, Draft.RecipientValues,
//	giftcard      if given        if given         if given         or Options.TemplateData with its scopes
//	appointment   if given        if given         if given         declared in Options.TemplateScopes
//	host's own    if given        if given         if given         or Draft.Scopes
//
// A scheduled send is rendered again when it goes with the same sources,
// except Draft.Values and Draft.RecipientValues, which are not kept (see
// Draft.Values). The built-in variables of each scope are listed in package
// template's documentation.
//
// What a send stores: one message in the thread (for a direct message what
// the contact received; for a group message the template with its
// variables by their labels, and its Source) and one delivery per
// recipient holding what that recipient was sent (rendered subject, text
// and HTML, SMS measurement, cost) with its status and status history
// (S2, S3). With Options.MirrorBroadcasts each recipient's own thread also
// shows what they received (M3).
//
// An accepted send is never lost (the outbox): a delivery is marked as
// sending in the store (Delivery.Sending) before its provider is called,
// and the mark is cleared with the outcome. An outcome the store refuses
// (an outage) is kept in memory and written again for Options.OutcomeRetry,
// also after the send's context ended; a status report for it writes it
// too. Recover, which RunDispatcher calls every round, resolves the
// deliveries still marked after that (a crash): it asks the provider when
// the channel's Sender is a channel.Finder, and otherwise leaves the
// delivery pending with the reason and publishes EventOutcomeUnknown; it
// never sends them again. A status report that carries a delivery's
// reference (channel.StatusUpdate.Reference) gives it its provider ID.
//
// # Input
//
// One input policy, in the inbox rather than in each store, makes whatever
// enters it storable by every store: text from providers, the host's
// directory and composers is cleaned to valid UTF-8 without NUL (invalid
// bytes become U+FFFD), over-long provider IDs and addresses are keyed so
// that they stay unique and searchable by their first characters, indexed
// words are capped (inbox/store/textindex), and addresses are normalised with
// the recipient rules' phone parsing and default region (T2, R6), so that
// one person is one subject and one opt-out. Inbound messages and outbound
// deliveries have separate provider-ID namespaces (M5).
//
// # Concurrency
//
// An Inbox is safe for concurrent use, and several Inboxes may share one
// Store: writes use optimistic concurrency, and a write that lost a race
// retries from a fresh read after a pause with capped exponential backoff
// and jitter. Event subscribers each have a bounded buffer; a slow one
// misses events (and is told how many) but never blocks the inbox. Events
// are numbered (Event.Seq) and the inbox keeps the latest ones
// (Options.EventHistory), so a subscriber that reconnects resumes where it
// stopped (SubscribeOptions.After), or is told to reload (EventResync) when
// it stopped too long ago. A send outcome the store refused is written by a
// goroutine that outlives its send for Options.OutcomeRetry at most; Close
// waits for those.
//
// # Errors
//
// Errors match ErrNotFound, ErrInvalidArgument, ErrMarkUnreadNotAllowed,
// ErrConflict and ErrUnstorable with errors.Is, and the channel package's
// sentinels where a channel rule is concerned (channel.ErrInvalidMessage,
// channel.ErrUnknownMessage, channel.ErrWindowClosed, and
// channel.ErrTemplateNotApproved with a *channel.TemplateStateError for a
// WhatsApp template that is not approved). For webhook handlers, the
// Receiver methods return errors matching channel.ErrInvalidMessage for
// input that can never be stored (ErrUnstorable among them) and
// channel.ErrUnknownMessage for a status update whose delivery did not
// appear within Options.StatusWait: both are acknowledged, never retried;
// any other error may succeed when retried. A context's error is returned
// as is. A failed store write leaves the inbox as it was.
package inbox
