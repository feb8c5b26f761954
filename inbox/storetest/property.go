package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
)

// testT3T4Property applies random operation sequences and checks after every
// step that each list equals a reference computed by sorting all threads
// (T3), and that sort time follows T4: an inbound message moves a thread
// only when it is not muted, an outbound one always, and the latest message
// time is always kept.
func testT3T4Property(t *testing.T, ns func(*testing.T) store.Store) {
	for seed := range uint64(3) {
		e := newEnv(t, ns, inbox.Options{})
		rng := rand.New(rand.NewPCG(seed, 99))
		var threads []string
		for i := range 8 {
			th, err := e.in.StartWithAddress(e.ctx, channel.SMS, fmt.Sprintf("+3362000%04d", i))
			e.must(err)
			threads = append(threads, th.ID)
		}
		for step := range 120 {
			id := threads[rng.IntN(len(threads))]
			before := e.thread(id)
			if rng.IntN(3) > 0 {
				e.clock.Advance(time.Duration(rng.IntN(3)) * time.Minute) // equal times happen
			}
			now := e.clock.Now()
			var err error
			op := rng.IntN(8)
			switch op {
			case 0, 1:
				_, err = e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: before.Snapshot.Phone, Text: "in",
					ProviderID: fmt.Sprintf("p%d-%d", seed, step), ReceivedAt: now})
			case 2:
				_, _, err = e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: id, Message: inbox.Message{Kind: channel.SMS, Text: "out"}})
			case 3:
				_, err = e.in.MarkRead(e.ctx, id)
			case 4:
				if before.Muted {
					_, err = e.in.Unmute(e.ctx, id)
				} else {
					_, err = e.in.Mute(e.ctx, id, time.Time{})
				}
			case 5:
				_, err = e.in.SetFavourite(e.ctx, id, !before.Favourite)
			case 6:
				if before.Archived {
					_, err = e.in.Restore(e.ctx, id)
				} else {
					_, err = e.in.Archive(e.ctx, id)
				}
			case 7:
				_, err = e.in.CloseThread(e.ctx, id)
			}
			e.must(err)
			after := e.thread(id)
			switch {
			case op <= 1 && before.Muted && !after.SortTime.Equal(before.SortTime):
				t.Fatalf("T4: an inbound message moved a muted thread (step %d)", step)
			case op <= 1 && !before.Muted && !after.SortTime.Equal(now):
				t.Fatalf("T4: an inbound message sets sort time to its receive time (step %d)", step)
			case op == 2 && !after.SortTime.Equal(now):
				t.Fatalf("T4: an outbound message sets sort time to its send time (step %d)", step)
			case op <= 2 && !after.LastMessageAt.Equal(now):
				t.Fatalf("T4: latest message time not kept (step %d)", step)
			}
			all := e.allThreads(threads)
			for _, q := range []inbox.ThreadQuery{{}, {Status: inbox.Unread}, {Status: inbox.Favourites}, {Status: inbox.Muted}, {Status: inbox.Archived}, {Lifecycle: inbox.Closed}} {
				var want []inbox.Thread
				for _, th := range all {
					if matches(q, th, now) && (q.Lifecycle != inbox.Closed || th.Closed) {
						want = append(want, th)
					}
				}
				if got, w := e.list(q, 3), reference(want); !slices.Equal(got, w) {
					t.Fatalf("T3: step %d, %+v lists %v, reference %v", step, q, got, w)
				}
			}
		}
	}
}
