// Package inboxhttp serves an inbox over HTTP: a JSON API for the thread
// list, the conversation, the details pane and the composer, a live event
// stream (Server-Sent Events), an OpenAPI 3.1 document of both, and an
// embeddable web inbox (the <parley-inbox> custom element) that uses only
// that public API.
//
// New returns an http.Handler the host mounts where it likes, on its own
// mux, server and middleware, in the way of net/http/pprof:
//
//	h, _ := inboxhttp.New(ib, inboxhttp.Options{
//		Agent: func(r *http.Request) (inboxhttp.Agent, error) { return mySession(r) },
//	})
//	mux.Handle("/inbox/", http.StripPrefix("/inbox", h))
//
// The handler owns no policy: it translates requests to *inbox.Inbox calls
// and the inbox's typed errors to status codes. Every rule stays in package
// inbox.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Routes
//
// Under the mount point: /api/… is the JSON API (GET /openapi.json
// describes every route), /api/events the event stream, /ui/… the web
// inbox's ES modules and stylesheet, and / a page holding the web inbox. A
// host drops the element into its own page with:
//
//	<script type="module" src="/inbox/ui/parley-inbox.js"></script>
//	<parley-inbox api="/inbox" lang="fr"></parley-inbox>
//
// # Identity and tenancy
//
// Auth belongs to the host. Options.Agent returns the agent behind each
// request (an error matching ErrUnauthenticated answers 401); the handler
// never reads an agent ID from the client. Options.CanSee may hide threads
// from an agent (403 on the thread, left out of lists and events). One
// handler serves one inbox, or Options.Inbox picks the inbox of the
// request's tenant.
//
// Every state-changing request goes through http.CrossOriginProtection, so
// hosts that authenticate with cookies are protected against cross-site
// request forgery; Options.TrustedOrigins lists other origins allowed.
//
// # Errors
//
// Every failure is an RFC 9457 problem (application/problem+json) whose
// type is a stable URN ("urn:parley:problem:not-found"); the Problem type
// and the Type constants list them. A send the inbox refuses answers 422
// with each problem of the preflight (template variables with their
// positions, C5).
//
// # Live events
//
// GET /api/events streams every inbox event (T20) with its sequence number
// as the SSE id. A client that reconnects with Last-Event-ID (browsers do
// it by themselves) gets what it missed from the inbox's history, or a
// "resync" event when it missed more than the history holds. A client that
// reads too slowly never blocks the inbox: the stream catches up from the
// history, or sends "resync".
//
// # Idempotent sends
//
// A send with an Idempotency-Key header is sent once: a retry with the same
// key (same agent, same tenant) gets the first response; one that arrives
// while the first is still running gets 409. Options.Idempotency stores the
// keys (default: NewMemoryIdempotency, bounded, with a TTL).
//
// # Concurrency
//
// A Handler is safe for concurrent use.
package inboxhttp
