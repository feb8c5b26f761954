package pgstore_test

import (
	"context"
	"slices"
	"testing"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// TestSearchProbe reads searches (T13) inside every combination of the
// filters (T11, T12), from the start of the list and after a cursor (T3),
// as a probe does: collecting the matches up to ProbePages pages in one
// statement. The probe must say that it answered exactly when the matches
// after the cursor are at most that many, and its page is then memstore's,
// the reference store's; its broad filters (listed, lifecycle, contacts,
// unassigned) are checked on the rows and the others in the GIN index.
func TestSearchProbe(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	ref := memstore.New()
	writeFilterThreads(t, s, ref)
	const limit = 3
	answered, overflowed := 0, 0
	for _, typed := range []string{"06 12 34", "+33 6 12 34 00 07", "dupont", "du", "annulation spa", "zzzz"} {
		for _, q := range filterQueries() {
			q.Search = textindex.ParseQuery(typed)
			all, err := ref.Threads(ctx, withLimit(q, 1000))
			if err != nil {
				t.Fatal(err)
			}
			for _, cursor := range []bool{false, true} {
				q, rest := q, all
				if cursor {
					if len(all) == 0 {
						continue
					}
					p := store.PositionOf(all[0])
					q.After, rest = &p, all[1:]
				}
				q.Limit = limit
				page, ok, err := s.ThreadsProbe(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if want := len(rest) <= pgstore.ProbePages*limit; ok != want {
					t.Errorf("%q in %s, after a cursor %v: probe answered %v with %d matches, want %v",
						typed, filterName(q), cursor, ok, len(rest), want)
					continue
				}
				if !ok {
					overflowed++
					continue
				}
				answered++
				if got, want := threadIDs(page), threadIDs(rest[:min(limit, len(rest))]); !slices.Equal(got, want) {
					t.Errorf("%q in %s, after a cursor %v: probe page %v, memstore: %v", typed, filterName(q), cursor, got, want)
				}
			}
		}
	}
	if answered == 0 || overflowed == 0 {
		t.Fatalf("%d probes answered and %d overflowed, want some of each", answered, overflowed)
	}
}

func withLimit(q store.ThreadQuery, limit int) store.ThreadQuery {
	q.Limit = limit
	return q
}

// TestSearchProbes checks which searches Threads probes after the
// planner's estimate of their matches (T13): those it takes to match at
// most a hundredth of the table, which is all it can say of a key its
// statistics do not list (half the frequency of the rarest key they list:
// at 1,000,000 threads, 4,300 for a phone prefix that 83 threads hold,
// 5,700 for a word nobody wrote), and not a family name or a two-letter
// prefix the statistics know.
func TestSearchProbes(t *testing.T) {
	for _, n := range []float64{1e4, 2e5, 1e6, 5e6} {
		for _, tc := range []struct {
			name   string
			share  float64
			probes bool
		}{
			{"a key the statistics do not list, in the subject or the messages", 0.0057, true},
			{"a phone prefix the statistics do not list", 0.0043, true},
			{"a family name", 0.0116, false},
			{"a two-letter prefix", 0.07, false},
		} {
			if got := pgstore.SearchProbes(tc.share*n, n); got != tc.probes {
				t.Errorf("%s among %.0f threads: probes %v, want %v", tc.name, n, got, tc.probes)
			}
		}
	}
}

// TestSearchPlan checks how Threads reads a search whose matches the
// planner takes to fill more than a few pages (T13 inside the filters of
// T11 and T12). A search that matches a large share of the list but lies
// in a small filter walks the filter's list index, which reads at most the
// filter's threads and about a page's worth per lifecycle and category
// range, where a collection decodes the long posting lists of its words
// ("annulation spa" among the muted threads of one agent, or among the
// unread open events: 12–25 ms collected at 1,000,000 threads, 2–8 ms
// walked); so do message words among the muted unassigned threads at
// 1,000,000 threads, whose collection visits every match among the muted
// threads (the unassigned filter is checked on those rows), but not at
// 200,000, where their candidates and shorter posting lists cost less
// than the walk's rows. A two-letter prefix among the events or the open
// unassigned audiences, and a first name among the events, are not
// walked: the walk could read every thread of the filter (the search may
// be rarer there than in the list: "du" among the events, which no event
// name holds, read 44,853 rows in 400 ms), which costs more than twice
// the collection. So does a search whose first window would span a
// sixteenth of the list or more (a family name among the unread threads
// at 1,000,000 threads); a family
// name among the unread threads at 5,000,000 and a two-letter prefix read
// windows; message words in a large share of the list walk it at every
// size.
func TestSearchPlan(t *testing.T) {
	const limit = 51
	for _, tc := range []struct {
		name                string
		sizes               []float64
		kept, marked, found float64 // shares of the list
		branches, keys      int
		plan                pgstore.ListPlan
		windowed            bool
	}{
		{"message words among the muted threads of one agent", []float64{1e4, 2e5, 1e6, 5e6}, 6.3e-4, 6.3e-4, 0.25, 6, 2, pgstore.PlanWalk, false},
		{"message words among the unread open events", []float64{1e4, 2e5, 1e6, 5e6}, 2.2e-3, 4.5e-3, 0.25, 1, 2, pgstore.PlanWalk, false},
		{"message words among the muted unassigned threads", []float64{1e6, 5e6}, 5.4e-3, 1.8e-2, 0.25, 6, 2, pgstore.PlanWalk, false},
		{"message words among the muted unassigned threads", []float64{1e4, 2e5}, 5.4e-3, 1.8e-2, 0.25, 6, 2, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the open unassigned audiences", []float64{1e4, 2e5, 1e6}, 6.9e-3, 0.05, 0.0725, 1, 1, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the events", []float64{1e6, 5e6}, 0.045, 0.05, 0.072, 2, 1, pgstore.PlanCollectSearch, true},
		{"a first name among the events", []float64{2e5, 1e6}, 0.045, 0.05, 0.024, 2, 1, pgstore.PlanCollectAll, false},
		{"a family name among the unread threads", []float64{5e6}, 0.1, 0.1, 0.0116, 6, 1, pgstore.PlanCollectSearch, true},
		{"a family name among the unread threads", []float64{1e6}, 0.1, 0.1, 0.0116, 6, 1, pgstore.PlanCollectAll, false},
		{"a two-letter prefix", []float64{2e5, 1e6, 5e6}, 0.9, 0.9, 0.07, 6, 1, pgstore.PlanCollectSearch, true},
		{"message words in the list", []float64{1e4, 2e5, 1e6, 5e6}, 0.9, 0.9, 0.44, 6, 2, pgstore.PlanWalk, false},
	} {
		for _, n := range tc.sizes {
			plan, k := pgstore.SearchPlan(n, tc.kept*n, tc.marked*n, tc.found*n, tc.branches, tc.keys, limit)
			if plan != tc.plan || (k > 0) != tc.windowed {
				t.Errorf("%s among %.0f threads: plan %v with a window of %d entries, want plan %v, windowed %v",
					tc.name, n, plan, k, tc.plan, tc.windowed)
			}
		}
	}
}

// TestWindowPastFavourites checks the window of a search that reaches
// past the favourites (T3: favourites first), where its end is
// extrapolated from the first entries: 100 favourites a day apart, then
// 100,000 threads sixteen minutes apart, counted to the 10th entry (a
// favourite). A window of 1,000 entries holds the favourites and about the
// next 900 threads, not the whole list, which it once took (the
// favourites' spacing said nothing of the rest's), reading every match.
func TestWindowPastFavourites(t *testing.T) {
	const day, quarter = int64(1e11), int64(1e9) // about a day and 16 minutes in µs
	fav, other := [2]int64{0, 0}, [2]int64{1, 0}
	first, at := fav, fav
	at[1] = 9 * day
	last := other
	last[1] = 99_999 * quarter
	keys, whole := pgstore.ListWindow(1, first, at, last, 99*day, 0, 9*quarter, 10, 1000)
	if whole || keys == nil {
		t.Fatalf("window of 1,000 entries: markers %v, whole list %v; want a window of the favourites and the next 900 threads", keys, whole)
	}
	covers := func(pin bool, rank int64) bool {
		for _, m := range pgstore.WindowMarkers(1, pin, rank) {
			if slices.Contains(keys, m) {
				return true
			}
		}
		return false
	}
	if !covers(false, 99*day) || !covers(true, 800*quarter) {
		t.Errorf("window %v: want the last favourite and the 800th other thread in it", keys)
	}
	if covers(true, last[1]) {
		t.Errorf("window %v: holds the last thread of the list, want about the first 900 after the favourites", keys)
	}
}
