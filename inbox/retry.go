package inbox

import (
	"context"
	"math/rand/v2"
	"time"
)

// Writes lose optimistic-concurrency races (store.ErrConflict) when several
// writers change one thread or delivery at once. A write that lost retries
// from a fresh read after a random pause (full jitter) whose bound doubles
// from minConflictPause to maxConflictPause, so that the writers of a busy
// thread spread out instead of colliding again at once; after maxRetries
// attempts it gives up with ErrConflict.
const (
	// maxRetries bounds the attempts of a write: with the pauses below, a
	// write gives up after about 3 s of pauses on average (6 s at most).
	maxRetries = 32
	// minConflictPause bounds the pause before the first retry.
	minConflictPause = time.Millisecond
	// maxConflictPause bounds every pause.
	maxConflictPause = 250 * time.Millisecond
)

// conflictPause waits before attempt try (counted from 0) of a write: not
// at all before the first, a random time below min(minConflictPause <<
// (try-1), maxConflictPause) before the others. It returns ctx's error when
// ctx ends first.
func (in *Inbox) conflictPause(ctx context.Context, try int) error {
	if try == 0 {
		return ctx.Err()
	}
	bound := maxConflictPause
	if try <= 10 {
		bound = min(minConflictPause<<(try-1), maxConflictPause)
	}
	t := time.NewTimer(rand.N(bound) + 1)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
