// Command webhooks runs a hotel's HTTP server with Parley's real webhook
// handlers — Twilio, the WhatsApp Cloud API and inbound email — mounted on
// one http.ServeMux in front of an inbox on the in-memory store, and then
// plays each provider's part against it: signed, tampered, re-split and
// duplicated Twilio webhooks, status callbacks (one for a message sent
// outside Parley), Meta's verification handshake and a signed notification
// with a message and a status, and inbound email posted by a relay, signed
// and stale. It prints every HTTP status, then the thread list and the
// delivery statuses the handlers fed into the inbox.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// The server is an http.Server with the timeouts every host must set in
// front of webhook handlers (webhookServer): without ReadHeaderTimeout and
// ReadTimeout a client that trickles its request a byte at a time holds a
// handler, a goroutine and a connection for as long as it likes. The
// program's test shows such a client cut off.
//
//	go run ./examples/webhooks
//
// Outbound messages go through channeltest fakes, so nothing leaves the
// machine: the server listens on 127.0.0.1 only while the program runs.
package main
