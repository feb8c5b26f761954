package memstore_test

import (
	"errors"
	"testing"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// T1: a write goes to the thread it names, whichever thread was read last,
// and is checked against that thread's version (optimistic concurrency).
func TestWriteAfterReadingAnotherThread(t *testing.T) {
	s := memstore.New()
	a, b := newThread("ta", store.Contact), newThread("tb", store.Contact)
	mustWrite(t, s, store.ThreadWrite{Thread: a})
	mustWrite(t, s, store.ThreadWrite{Thread: b})
	curB, err := s.Thread(ctx, "tb")
	if err != nil {
		t.Fatal(err)
	}
	curA, err := s.LiveThread(ctx, a.Subject) // read last
	if err != nil {
		t.Fatal(err)
	}
	curB.Preview = "b's"
	mustWrite(t, s, store.ThreadWrite{Thread: curB})
	if got, _ := s.Thread(ctx, "tb"); got.Preview != "b's" || got.Version != 2 {
		t.Errorf("tb after its write: preview %q, version %d; want \"b's\", 2", got.Preview, got.Version)
	}
	if got, _ := s.Thread(ctx, "ta"); got.Preview != "" || got.Version != 1 {
		t.Errorf("ta after tb's write: preview %q, version %d; want \"\", 1", got.Preview, got.Version)
	}
	// tb was read last now; a's read is still at a's version
	curA.Preview = "a's"
	mustWrite(t, s, store.ThreadWrite{Thread: curA})
	stale := curB // version 1, tb is at 2
	stale.Preview = "stale"
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: stale}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("stale write of tb: %v, want ErrConflict", err)
	}
	if _, err := s.Thread(ctx, "ta"); err != nil {
		t.Fatal(err)
	}
	missing := newThread("tc", store.Contact)
	missing.Version = 1
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: missing}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("write of a thread never created: %v, want ErrNotFound", err)
	}
}
