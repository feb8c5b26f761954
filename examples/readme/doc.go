// Package readme holds the two host programs of the README — a studio and
// a hotel — as runnable examples: go test builds and runs them, checks their
// output, and checks that the README shows these files verbatim, so a new
// user's first path through Parley is tested.
//
// The behaviour contract, whose rule IDs (T, M, C, R, S) the
// documentation and tests cite, is
// https://github.com/parleyhq/parley/blob/main/docs/spec.md.
package readme
