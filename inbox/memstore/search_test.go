package memstore_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// T13, T3, T9, T11, T12, T17: on random sequences of writes (new threads,
// messages, changed snapshots, filters flipped), every search, in every
// way the store can answer it (word slots or none, list walks that finish
// or give up, few or many candidates), gives the pages a brute-force scan
// of every thread and message gives.
func TestSearchAgainstBruteForce(t *testing.T) {
	type config struct {
		slotPostings, maxListed, walkMin int
	}
	configs := []config{
		{slotPostings: 1 << 30, maxListed: 4096, walkMin: 2048}, // no slots: postings collected
		{slotPostings: 1 << 30, maxListed: 3, walkMin: 2048},    // no slots, walks with the collected set
		{slotPostings: 1, maxListed: 3, walkMin: 1 << 20},       // every word slotted, walks finish
		{slotPostings: 4, maxListed: 3, walkMin: 1},             // slotted walks give up early and collect
		{slotPostings: 20, maxListed: 8, walkMin: 30},           // words slotted as they grow, walks of every kind
	}
	for _, c := range configs {
		for seed := range uint64(3) {
			t.Run(fmt.Sprintf("slot=%d,listed=%d,walk=%d,seed=%d", c.slotPostings, c.maxListed, c.walkMin, seed), func(t *testing.T) {
				s := memstore.New()
				memstore.SetSlotPostings(s, c.slotPostings)
				memstore.SetMaxListed(s, c.maxListed)
				memstore.SetWalkMin(s, c.walkMin)
				randomSearchRun(t, s, rand.New(rand.NewPCG(seed, 99)))
			})
		}
	}
}

var (
	searchNames = []string{"Hélène", "Héloïse", "Marc", "Jean-Pierre", "Zoé", "Ana", "Marie", "Mariel"}
	searchWords = []string{"yoga", "cours", "demain", "annulé", "merci", "rendez-vous", "Pilates", "spa", "réserver", "matin",
		"soir", "parking"}
	searchQueries = []string{"yoga", "demain yoga", "rendez-vous", "rendez-vous annule", "merci cours demain", "spa", "parking soir",
		"pilates", "hel", "mari", "marie", "jean-pierre", "jean-p", "helene marcs", "u1", "u12@example", "marie yoga", "ana merci",
		"06 00 00 00", "zzz", "yoga zzz", "cours-matin", "-"}
)

func randomSearchRun(t *testing.T, s *memstore.Store, rng *rand.Rand) {
	model := map[string]store.Thread{}
	texts := map[string][]string{}
	agents := []string{"", "ana", "bob"}
	now := t0
	nextMsg := 0
	for batch := range 12 {
		for range 120 {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Minute)
			var th store.Thread
			var id string
			if len(model) < 20 || rng.IntN(5) == 0 {
				id = fmt.Sprintf("t%03d", len(model))
				th = store.Thread{ID: id, Subject: store.Subject{Kind: store.SubjectKind(1 + rng.IntN(3)), ID: id}, CreatedAt: now, LastActivityAt: now,
					Snapshot: store.Snapshot{FirstName: searchNames[rng.IntN(len(searchNames))], LastName: searchNames[rng.IntN(len(searchNames))] + "s",
						Email: fmt.Sprintf("u%d@example.fr", rng.IntN(40)), Phone: fmt.Sprintf("+336%08d", rng.IntN(100))}}
			} else {
				id = fmt.Sprintf("t%03d", rng.IntN(len(model)))
				th = model[id]
			}
			th.SortTime = now.Add(-time.Duration(rng.IntN(600)) * time.Minute)
			th.LastActivityAt = th.SortTime
			switch rng.IntN(8) {
			case 0:
				th.Archived = !th.Archived
			case 1:
				th.Closed = !th.Closed
			case 2:
				th.Favourite = !th.Favourite
			case 3:
				th.Unread = rng.IntN(3)
			case 4:
				th.Assignee = agents[rng.IntN(len(agents))]
			case 5:
				th.Muted = !th.Muted
			case 6:
				if th.Version > 0 && rng.IntN(3) == 0 { // the host's records changed
					th.Snapshot.FirstName = searchNames[rng.IntN(len(searchNames))]
					th.Snapshot.Email = fmt.Sprintf("u%d@example.fr", rng.IntN(40))
				}
			}
			w := store.ThreadWrite{Thread: th}
			if rng.IntN(3) != 0 {
				// Skewed word frequencies: the first words of the list are
				// much more frequent.
				var words []string
				for range 1 + rng.IntN(3) {
					words = append(words, searchWords[min(rng.IntN(len(searchWords)), rng.IntN(len(searchWords)))])
				}
				text := strings.Join(words, " ")
				w.Message = &store.Message{ID: fmt.Sprint("m", nextMsg), ThreadID: id, Direction: store.Inbound, Text: text, CreatedAt: now}
				nextMsg++
				texts[id] = append(texts[id], text)
			}
			mustWrite(t, s, w)
			th.Version++
			model[id] = th
		}
		checkSearches(t, s, model, texts, now, rng, batch)
	}
}

func checkSearches(t *testing.T, s *memstore.Store, model map[string]store.Thread, texts map[string][]string, now time.Time, rng *rand.Rand, batch int) {
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
	for _, query := range searchQueries {
		for range 4 {
			q := store.ThreadQuery{Search: textindex.ParseQuery(query), Now: now, Limit: 1 + rng.IntN(6),
				Status: store.StatusFilter(rng.IntN(5)), Lifecycle: store.Lifecycle(rng.IntN(3)), Category: store.SubjectKind(rng.IntN(4))}
			if rng.IntN(2) == 0 {
				q.Status, q.Lifecycle, q.Category = store.All, store.AnyLifecycle, 0
			}
			switch rng.IntN(4) {
			case 0:
				q.Unassigned = true
			case 1:
				q.Assignee = "ana"
			}
			if rng.IntN(4) == 0 {
				q.ActiveSince = now.Add(-3 * time.Hour)
			}
			var want []string
			for _, th := range all {
				if bruteMatch(&th, &q, texts[th.ID]) {
					want = append(want, th.ID)
				}
			}
			var got []string
			for {
				res, err := s.Threads(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, th := range res {
					got = append(got, th.ID)
				}
				if len(res) < q.Limit {
					break
				}
				p := store.PositionOf(res[len(res)-1])
				q.After = &p
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("batch %d, search %q, query %+v (-want +got):\n%s", batch, query, q, diff)
			}
		}
	}
}

// T13 and the contract's concurrency promise: searches that walk with word
// slots, give up and collect, running beside writes that add messages and
// give words their slots, find every thread that had the words before the
// writes began, without a race (run with -race).
func TestConcurrentSlottedSearch(t *testing.T) {
	s := memstore.New()
	memstore.SetSlotPostings(s, 40)
	memstore.SetMaxListed(s, 3)
	memstore.SetWalkMin(s, 5)
	const threads = 100
	for i := range threads {
		id := fmt.Sprintf("t%03d", i)
		mustWrite(t, s, store.ThreadWrite{Thread: newThread(id, store.Contact),
			Message: &store.Message{ID: "m" + id, ThreadID: id, Direction: store.Inbound, Text: "yoga demain", CreatedAt: t0}})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	done := make(chan struct{})
	for _, query := range []string{"yoga", "demain yoga", "yoga soir", "soir"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := store.ThreadQuery{Search: textindex.ParseQuery(query), Now: t0, Limit: 7}
			for {
				select {
				case <-done:
					return
				default:
				}
				n := 0
				for p := q; ; {
					got, err := s.Threads(ctx, p)
					if err != nil {
						errs <- err
						return
					}
					n += len(got)
					if len(got) < p.Limit {
						break
					}
					pos := store.PositionOf(got[len(got)-1])
					p.After = &pos
				}
				if !strings.Contains(query, "soir") && n < threads {
					errs <- fmt.Errorf("search %q: %d threads found, want at least %d", query, n, threads)
					return
				}
			}
		}()
	}
	for i := range 200 {
		id := fmt.Sprintf("u%03d", i)
		mustWrite(t, s, store.ThreadWrite{Thread: newThread(id, store.Contact),
			Message: &store.Message{ID: "m" + id, ThreadID: id, Direction: store.Inbound, Text: "yoga soir", CreatedAt: t0}})
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for query, want := range map[string]int{"yoga": threads + 200, "yoga demain": threads, "soir yoga": 200} {
		n := 0
		q := store.ThreadQuery{Search: textindex.ParseQuery(query), Now: t0, Limit: 500}
		got, err := s.Threads(ctx, q)
		if n = len(got); err != nil || n != want {
			t.Fatalf("after the writes, search %q: %d threads, %v; want %d", query, n, err, want)
		}
	}
}
