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
// # Observability
//
// The inbox reports to OpenTelemetry through its API only
// (go.opentelemetry.io/otel); the host brings the SDK and its exporters.
// Options.TracerProvider and Options.MeterProvider default to the otel
// global providers, which are no-ops until the host installs an SDK
// (OpenTelemetry's advice to libraries); without one the instrumentation
// costs a non-recording span per operation (Send, Receive…), nothing per
// delivery or store call, and no measurement (see the README's figures). Spans carry IDs, kinds and statuses, never an address
// or a message's text. Span names and attributes follow the semantic
// conventions of messaging spans (messaging.system "parley", the channel
// kind as messaging.destination.name); latencies are measured on the
// monotonic clock, as span times are, and the dispatcher lag on
// Options.Now.
//
//	span                  kind      started by                        attributes (besides messaging.*)
//	send {kind}           producer  Send                              parley.thread.id, parley.message.id, messaging.batch.message_count
//	deliver {kind}        internal  each delivery Send or Dispatch    parley.thread.id, parley.message.id, parley.delivery.id,
//	                                sends, when their span records    parley.delivery.status, parley.delivery.attempts,
//	                                (a child of theirs)               parley.provider_message.id; an event per failed attempt;
//	                                                                  error.type and status Error when it failed
//	receive {kind}        consumer  Receive, ReceiveMessage           parley.provider_message.id, parley.thread.id, parley.message.id
//	status {kind}         consumer  ApplyStatus, ApplyStatusUpdate,   parley.status.reported, parley.status.raw,
//	                                MarkPushOpened                    parley.provider_message.id, parley.delivery.id,
//	                                                                  parley.delivery.status (after the merge)
//	inbox.Dispatch        internal  Dispatch                          parley.count (deliveries handled)
//	inbox.Recover         internal  Recover                           parley.recovered.{accepted,not_sent,unknown,deferred}
//	inbox.RunDispatcher   internal  each RunDispatcher round: a new   (Recover and Dispatch are its children)
//	                                trace linked to the caller's span
//	store.{Method}        internal  every Store call made inside a    db.operation.name, the IDs it was given, parley.count
//	                                recording span (an operation      (rows returned), parley.found=false for ErrNotFound
//	                                above, or the host's own)
//
// Every span that ends in an error sets error.type (a short name: "conflict",
// "not_found", "opted_out", "transient", "timeout", …, or "_OTHER") and
// the status Error.
//
//	metric                 instrument       unit        attributes
//	parley.deliveries      counter          {delivery}  parley.channel, parley.delivery.status: each delivery once per
//	                                                    status its current status rises to (S1, S2)
//	parley.send.duration   histogram        s           parley.channel, parley.delivery.status (reached), error.type:
//	                                                    one delivery's send, rate-limit waits and retries included
//	parley.send.retries    counter          {retry}     parley.channel, error.type: provider calls retried
//	parley.dispatch.lag    histogram        s           parley.channel: Options.Now when Dispatch sent a scheduled
//	                                                    delivery minus its due time (C8)
//	parley.events.missed   counter          {event}     (none): events slow subscribers missed because their
//	                                                    buffer was full; still in the history (T20)
//	parley.events.resyncs  counter          {subscription} (none): subscriptions that resumed after an event
//	                                                    the history no longer holds and began with EventResync
//
// The webhook handlers (channel/twilio, channel/whatsapp, channel/email)
// add a span per request, parent of the receive and status spans, and
// channel/otelchannel a span per provider call under each delivery's.
// Diagnostics go to Options.Logger, with each operation's context (so an
// OpenTelemetry log bridge ties them to their span); there is none by
// default.
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
