package memstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/inbox/store"
)

// T3, T4, T7–T12, T17, T18: the list index against a brute-force sort of
// every thread, on random sequences of the writes an inbox makes: messages
// written now (the thread moves to the top, unless muted), reads (a muted
// thread's SortTime goes back to its latest message), marking unread,
// favourites, mutes with and without expiry, archiving and restoring,
// closing, assignment, dormant threads, SortTimes in the past, tied with
// other threads' and outside the range of UnixNano. Blocks hold a few
// entries so that splits, sweeps and merges happen all the time; after
// every few writes the index's own invariants are checked, and every
// filter combination is paged through (with and without a visibility
// window) and compared with the sort.
func TestListIndexAgainstSort(t *testing.T) {
	for _, c := range []struct {
		cap  int32
		seed uint64
	}{{4, 1}, {8, 2}, {8, 3}, {blockCap, 4}} {
		t.Run(fmt.Sprintf("cap=%d/seed=%d", c.cap, c.seed), func(t *testing.T) {
			s := New()
			s.lists.cap = c.cap
			runListOps(t, s, rand.New(rand.NewPCG(c.seed, 99)), 3000)
		})
	}
}

var listT0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func runListOps(t *testing.T, s *Store, rng *rand.Rand, steps int) {
	ctx := context.Background()
	agents := []string{"", "ana", "bob", "cy"}
	odd := []time.Time{{}, time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(3000, 1, 1, 0, 0, 0, 1000, time.UTC)}
	model := map[string]store.Thread{}
	var ids []string
	now := listT0
	for step := range steps {
		now = now.Add(time.Duration(rng.IntN(3)) * time.Second) // ties on purpose
		var th store.Thread
		if len(ids) < 8 || rng.IntN(25) == 0 {
			id := fmt.Sprintf("t%03d", len(ids))
			ids = append(ids, id)
			th = store.Thread{ID: id, Subject: store.Subject{Kind: store.SubjectKind(1 + rng.IntN(3)), ID: id},
				CreatedAt: now, SortTime: now, LastActivityAt: now, LastMessageAt: now, Assignee: agents[rng.IntN(len(agents))],
				Dormant: rng.IntN(10) == 0}
		} else {
			// Busy threads write more: a few threads get most writes.
			i := rng.IntN(len(ids))
			if rng.IntN(2) == 0 {
				i = rng.IntN(min(len(ids), 5))
			}
			th = model[ids[i]]
			switch op := rng.IntN(100); {
			case op < 35: // inbound message now (T4, T5, T9, T10, T18)
				th.LastMessageAt, th.LastActivityAt = now, now
				if !th.MutedAt(now) {
					th.SortTime = now
				}
				th.Unread++
				th.Archived, th.Closed, th.Dormant = false, false, false
			case op < 50: // outbound message now
				th.LastMessageAt, th.LastActivityAt, th.SortTime = now, now, now
				th.Unread = 0
				th.Archived, th.Closed = false, false
				th.Dormant = th.Dormant && rng.IntN(2) == 0
			case op < 60: // read: a muted thread goes back to its latest message (T4)
				th.Unread = 0
				if th.Muted {
					th.SortTime = th.LastMessageAt
				}
			case op < 64: // mark unread (T6)
				th.Unread = 1
			case op < 70: // favourite (T8)
				th.Favourite = !th.Favourite
			case op < 76: // mute, for a while or not; unmute (T7)
				th.Muted, th.MutedUntil = !th.Muted, time.Time{}
				if th.Muted && rng.IntN(2) == 0 {
					th.MutedUntil = now.Add(time.Duration(rng.IntN(120)-30) * time.Second)
				}
			case op < 81: // archive, restore (T9)
				th.Archived = !th.Archived
			case op < 85: // close, reopen (T10)
				th.Closed = !th.Closed
			case op < 91: // assign, reassign, unassign (T12)
				th.Assignee = agents[rng.IntN(len(agents))]
			case op < 93: // dormant (T18)
				th.Dormant = !th.Dormant
			case op < 97: // a SortTime in the past, often another thread's
				th.SortTime = now.Add(-time.Duration(rng.IntN(300)) * time.Second)
				if o := model[ids[rng.IntN(len(ids))]]; rng.IntN(2) == 0 && !o.SortTime.IsZero() {
					th.SortTime = o.SortTime
				}
			default: // outside the range of UnixNano
				th.SortTime = odd[rng.IntN(len(odd))]
			}
		}
		if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		th.Version++
		model[th.ID] = th
		if step%10 == 0 || step == steps-1 {
			checkListIndex(t, s, step)
			checkLists(t, s, model, agents, now, step)
		}
	}
}

// checkListIndex checks the invariants of the list index: blocks in log
// order and within their capacity, firsts, stale counts, and that every
// listed thread has exactly one current entry in each list it belongs to.
func checkListIndex(t *testing.T, s *Store, step int) {
	t.Helper()
	x := s.lists
	want := map[*list]map[uint32]bool{} // thread numbers each list must have
	for num, st := range x.state {
		for set := range nSets {
			if st.sets&(1<<set) == 0 {
				continue
			}
			for _, l := range []*list{x.any[set][st.place], x.groups[st.agent][set][st.place]} {
				if want[l] == nil {
					want[l] = map[uint32]bool{}
				}
				want[l][uint32(num)] = true
			}
		}
	}
	groups := append([]*listGroup{&x.any}, x.groups...)
	for _, g := range groups {
		for set := range nSets {
			for place := range nPlaces {
				l := g[set][place]
				if l == nil {
					continue
				}
				if len(l.firsts) != len(l.blocks) {
					t.Fatalf("step %d: %d firsts, %d blocks", step, len(l.firsts), len(l.blocks))
				}
				stale := 0
				seen := map[uint32]bool{}
				var prev *probe
				for bi, b := range l.blocks {
					if b.n > x.cap || b.n == 0 && len(l.blocks) > 1 {
						t.Fatalf("step %d: block %d of %d holds %d entries", step, bi, len(l.blocks), b.n)
					}
					if b.n > 0 && l.firsts[bi] != b.ats[0] {
						t.Fatalf("step %d: block %d: first %d, entry %d", step, bi, l.firsts[bi], b.ats[0])
					}
					for j := range int(b.n) {
						at, num := b.ats[j], b.nums[j]
						r := (*x.recs)[num]
						p := &probe{at, r.t.SortTime, r.t.ID}
						if prev != nil && x.cmp(prev, at, num) >= 0 {
							t.Fatalf("step %d: list set %d place %d: entry %d of block %d (%s) out of log order", step, set, place, j, bi, r.t.ID)
						}
						prev = p
						if !x.current(l, at, num) {
							if outside(at) {
								t.Fatalf("step %d: stale entry of %s outside the range of UnixNano", step, r.t.ID)
							}
							stale++
							continue
						}
						if seen[num] {
							t.Fatalf("step %d: two current entries of %s", step, r.t.ID)
						}
						seen[num] = true
						if !want[l][num] {
							t.Fatalf("step %d: current entry of %s in a list it does not belong to", step, r.t.ID)
						}
					}
				}
				if stale != l.stale {
					t.Fatalf("step %d: list set %d place %d: %d stale entries, counted %d", step, set, place, stale, l.stale)
				}
				if len(seen) != len(want[l]) {
					t.Fatalf("step %d: list set %d place %d: %d current entries, want %d", step, set, place, len(seen), len(want[l]))
				}
			}
		}
	}
}

// checkLists pages through every filter combination with and without a
// visibility window and compares the pages with the sorted threads.
func checkLists(t *testing.T, s *Store, model map[string]store.Thread, agents []string, now time.Time, step int) {
	t.Helper()
	all := make([]store.Thread, 0, len(model))
	for _, th := range model {
		all = append(all, th)
	}
	slices.SortFunc(all, func(a, b store.Thread) int {
		if store.PositionOf(a).Before(store.PositionOf(b)) {
			return -1
		}
		return 1
	})
	for st := store.All; st <= store.Archived; st++ {
		for lc := store.AnyLifecycle; lc <= store.Closed; lc++ {
			for cat := store.SubjectKind(0); cat <= store.Event; cat++ {
				for ai := -1; ai < len(agents); ai++ {
					for _, window := range []bool{false, true} {
						q := store.ThreadQuery{Status: st, Lifecycle: lc, Category: cat, Now: now, Limit: 3}
						if ai == 0 {
							q.Unassigned = true
						} else if ai > 0 {
							q.Assignee = agents[ai]
						}
						if window {
							q.ActiveSince = now.Add(-time.Minute)
						}
						var want, got []string
						for i := range all {
							if listMatch(&all[i], &q) {
								want = append(want, all[i].ID)
							}
						}
						for {
							page, err := s.Threads(context.Background(), q)
							if err != nil {
								t.Fatal(err)
							}
							for _, th := range page {
								got = append(got, th.ID)
							}
							if len(page) < q.Limit {
								break
							}
							p := store.PositionOf(page[len(page)-1])
							q.After = &p
						}
						if !slices.Equal(want, got) {
							t.Fatalf("step %d: status %v lifecycle %v category %v agent %d window %v:\n got %v\nwant %v", step, st, lc, cat, ai, window, got, want)
						}
					}
				}
			}
		}
	}
}

// listMatch is the reference semantics of a ThreadQuery without a search.
func listMatch(th *store.Thread, q *store.ThreadQuery) bool {
	if th.Dormant {
		return false
	}
	switch q.Status {
	case store.Archived:
		if !th.Archived {
			return false
		}
	case store.Unread:
		if th.Archived || th.Unread == 0 {
			return false
		}
	case store.Favourites:
		if th.Archived || !th.Favourite {
			return false
		}
	case store.Muted:
		if th.Archived || !th.MutedAt(q.Now) {
			return false
		}
	default:
		if th.Archived {
			return false
		}
	}
	if q.Lifecycle == store.Open && th.Closed || q.Lifecycle == store.Closed && !th.Closed {
		return false
	}
	if q.Category != 0 && th.Subject.Kind != q.Category {
		return false
	}
	if q.Assignee != "" && th.Assignee != q.Assignee || q.Unassigned && th.Assignee != "" {
		return false
	}
	return q.ActiveSince.IsZero() || !th.LastActivityAt.Before(q.ActiveSince)
}
