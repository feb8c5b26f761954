package memstore_test

import (
	"testing"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/storetest"
)

// TestConformance runs the inbox conformance suite (every T, M, R5, S2 and
// C8 rule through a real Inbox) on memstore.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

// TestConformanceCollidingKeys runs the suite on stores whose ID and
// provider-ID indexes give every key one hash: every thread and message
// is then found by comparing its key's string.
func TestConformanceCollidingKeys(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s := memstore.New()
		memstore.CollideKeys(s)
		return s
	})
}
