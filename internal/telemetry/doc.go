// Package telemetry holds what Parley's OpenTelemetry instrumentation shares
// between the inbox, the channel middleware (channel/otelchannel) and the
// webhook handlers (through internal/webhook): the attribute keys of the
// parley namespace, the low-cardinality error.type of an error, how a
// tracer and a meter are found (the host's providers, else the otel global
// ones), and a cache of metric attribute sets so that recording a
// measurement allocates nothing.
//
// Parley uses only the OpenTelemetry API (go.opentelemetry.io/otel,
// .../trace, .../metric). Which SDK and exporters run is the host's choice:
// with none installed the global providers are no-ops and every recording
// costs a few nanoseconds (see the README's "Observe it").
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Concurrency
//
// Every function is safe for concurrent use, and so is a Set.
//
// # Errors
//
// No function returns an error: instruments that cannot be created are
// replaced by no-op ones (the otel API's own rule), and ErrorType maps any
// error, nil included, to a string.
package telemetry
