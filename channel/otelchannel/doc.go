// Package otelchannel is a channel.Middleware that reports every call of a
// channel.Sender with OpenTelemetry: a span per provider call ("submit
// sms", a client span) and the parley.submit.duration histogram. Wrap the
// Senders a host registers with it to see each provider call, with its
// attempts and errors, under the inbox's "deliver {kind}" span:
//
//	s := channel.Chain(twilioSender, otelchannel.Middleware(otelchannel.Options{Provider: "twilio"}))
//	reg.Register(channel.SMS, s, channel.Config{})
//
// It uses the OpenTelemetry API only: the host brings the SDK and its
// exporters, through Options or the otel global providers (no-ops until
// it installs one, so that an unobserved Sender pays a few nanoseconds a
// call). The spans and metric are listed on Middleware; no span or metric
// carries an address or a message's text.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Concurrency
//
// The middleware and the Senders it returns are safe for concurrent use
// when the wrapped Sender is.
//
// # Errors
//
// The wrapper returns the wrapped Sender's receipts and errors unchanged;
// it adds none of its own.
package otelchannel
