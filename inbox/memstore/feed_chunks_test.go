package memstore_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
)

// T20 (issue 16): the feed keeps its events in chunks; across chunk
// boundaries, appends in batches, prunes of any length and reads from any
// position give every event held once, in order, with its data, and a
// read before the oldest held is ErrPruned.
func TestFeedAcrossChunks(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	t0 := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(1, 2))
	first, err := s.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first++ // the Seq of the first event
	n := 0  // events appended
	pruned := 0
	for round := range 40 {
		batch := make([]store.FeedEvent, 1+rng.IntN(300))
		for i := range batch {
			batch[i] = store.FeedEvent{At: t0.Add(time.Duration(n+i) * time.Second), Data: []byte(strconv.Itoa(n + i))}
		}
		if err := s.AppendEvents(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		n += len(batch)
		if round%3 == 2 { // prune a random part of what is held
			upto := pruned + rng.IntN(n-pruned+1)
			got, err := s.PruneEvents(ctx, t0.Add(time.Duration(upto)*time.Second))
			if err != nil || got != upto-pruned {
				t.Fatalf("round %d: PruneEvents = %d, %v; want %d", round, got, err, upto-pruned)
			}
			pruned = upto
		}
		if pruned > 0 {
			if _, err := s.ReadEvents(ctx, first+uint64(pruned)-2, 1); !errors.Is(err, store.ErrPruned) {
				t.Fatalf("round %d: reading before the oldest held: %v, want ErrPruned", round, err)
			}
		}
		after := first + uint64(pruned) - 1 + uint64(rng.IntN(n-pruned+1))
		for {
			evs, err := s.ReadEvents(ctx, after, 1+rng.IntN(700))
			if err != nil {
				t.Fatalf("round %d: ReadEvents(%d): %v", round, after, err)
			}
			if len(evs) == 0 {
				break
			}
			for _, e := range evs {
				i := int(e.Seq - first)
				if e.Seq != after+1 || string(e.Data) != strconv.Itoa(i) || !e.At.Equal(t0.Add(time.Duration(i)*time.Second)) {
					t.Fatalf("round %d: after %d got Seq %d data %q at %v", round, after, e.Seq, e.Data, e.At)
				}
				after = e.Seq
			}
		}
		if last, _ := s.LastEventSeq(ctx); after != last || last != first+uint64(n)-1 {
			t.Fatalf("round %d: read up to %d, head %d, want %d", round, after, last, first+uint64(n)-1)
		}
	}
}
