package storetest

import (
	"testing"

	"github.com/parleyhq/parley/inbox/store"
)

// issue12Scenarios are the scenarios of real-world input: poison input,
// provider IDs per direction, truncated messages, unknown statuses, write
// contention and addresses in every format.
var issue12Scenarios = []struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
}{
	{"M5_PerDirection", testM5PerDirection},
	{"M1_Truncated", testTruncated},
}
