// Package fold provides the case- and accent-insensitive folding that Parley
// uses wherever people type names and keywords: the inbox search index (T13:
// "helene" finds "Hélène"), opt-out keyword matching (R5) and phone search
// across formats.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
//
// # Concurrency
//
// Every function is safe for concurrent use; the package holds no state.
//
// # Errors
//
// No function returns an error: any string, including invalid UTF-8, folds to
// a string. Invalid bytes become U+FFFD.
package fold
