// Package pgtest gives pgstore's tests a real PostgreSQL server: the one
// PARLEY_POSTGRES_DSN names, or a throw-away cluster it creates in a
// temporary directory, listening only on a Unix socket there, and removes
// afterwards.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// PostgreSQL refuses to run as root. When the tests run as root, the
// cluster runs as Debian's "postgres" user (runuser -u postgres --) in a
// directory that user owns.
//
// Without a server the tests skip, saying how to install one, unless
// PARLEY_REQUIRE_POSTGRES=1, when they fail.
//
// # Concurrency
//
// A Server is safe for concurrent use once Start has returned.
//
// # Errors
//
// Start records why no server is available; Require reports it through
// testing.TB as a skip or a failure.
package pgtest
