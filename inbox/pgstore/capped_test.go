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

// TestCappedWalk reads searches (T13) inside every combination of the
// filters (T11, T12, mutes judged at Now as T7 says), from the start of
// the list and after a cursor (T3), as a capped walk does: the threads the
// filters keep, in list order over every lifecycle and category, up to a
// cap, checking the search on each. The walk must say that its page is
// exact when the cap-th thread after the cursor comes after the page's
// last match, or the filters keep fewer threads than the cap after the
// cursor, and not otherwise; its page is then memstore's, the reference
// store's, and otherwise the matches among the first cap threads, in
// order (what the search is re-planned from).
func TestCappedWalk(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	ref := memstore.New()
	writeFilterThreads(t, s, ref)
	const limit = 3
	exact, short := 0, 0
	for _, typed := range []string{"dupont", "du", "annulation spa"} {
		for _, q := range filterQueries() {
			kept, err := ref.Threads(ctx, withLimit(q, 1000))
			if err != nil {
				t.Fatal(err)
			}
			q.Search = textindex.ParseQuery(typed)
			all, err := ref.Threads(ctx, withLimit(q, 1000))
			if err != nil {
				t.Fatal(err)
			}
			for _, cursor := range []bool{false, true} {
				q, list, matches := q, threadIDs(kept), threadIDs(all)
				if cursor {
					if len(kept) < 2 {
						continue
					}
					p := store.PositionOf(kept[1])
					q.After, list = &p, list[2:]
					matches = slices.DeleteFunc(matches, func(id string) bool { return !slices.Contains(list, id) })
				}
				q.Limit = limit
				for _, capped := range []int64{1, 2, 5, 12, 1000} {
					page, ok, err := s.ThreadsCappedWalk(ctx, q, capped)
					if err != nil {
						t.Fatal(err)
					}
					read := list[:min(int(capped), len(list))]
					seen := slices.DeleteFunc(slices.Clone(matches), func(id string) bool { return !slices.Contains(read, id) })
					want := len(seen) >= limit || len(list) < int(capped)
					if ok != want {
						t.Errorf("%q in %s, after a cursor %v, cap %d: exact %v, want %v (%d of %d threads kept, %d matches)",
							typed, filterName(q), cursor, capped, ok, want, len(read), len(list), len(matches))
						continue
					}
					wantPage := seen[:min(limit, len(seen))]
					if ok {
						exact++
					} else {
						short++
					}
					if got := threadIDs(page); !slices.Equal(got, wantPage) {
						t.Errorf("%q in %s, after a cursor %v, cap %d (exact %v): page %v, want %v", typed, filterName(q), cursor, capped, ok, got, wantPage)
					}
				}
			}
		}
	}
	if exact == 0 || short == 0 {
		t.Fatalf("%d capped walks exact and %d short, want some of each", exact, short)
	}
}

// TestSearchWalkCap checks which searches Threads walks up to a cap of
// rows before it collects them (T13 inside the filters of T11 and T12),
// and how it reads them when the walk does not fill the page. The index
// scan of a collection steps through the shortest posting list of its
// keys and markers: a two-letter prefix (7% of the list) among the
// archived, unread or unassigned threads, or the threads of one agent,
// costs more to collect than to walk the list merged over its ranges
// until a page (about 720 rows), and is walked up to three times that; a
// family name (1%, 4,400 rows to walk), any search among the favourites
// (a short marker list), or among the audiences or the events (a name is
// often in none of them), is not, nor is a search whose filters give the
// index no marker of at most a quarter of the list (the whole list, one
// lifecycle: its windows step through the window's markers), nor a search
// the estimates walk already (message words in a large share of the list),
// nor a two-letter prefix at 200,000 threads or fewer, whose posting lists
// are short. A walk that saw no match, or a few, collects every match; one
// that saw more, whose matches are then many pages, reads windows.
func TestSearchWalkCap(t *testing.T) {
	const limit = 51
	for _, tc := range []struct {
		name                string
		sizes               []float64
		kept, marked, found float64 // shares of the list
		branches, keys      int
		named               bool
		walked              bool
		seen                int
		plan                pgstore.ListPlan
		windowed            bool
	}{
		{"a two-letter prefix among the archived open unassigned threads", []float64{1e6, 5e6}, 0.015, 0.1, 0.0713, 3, 1, false, true, 0, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the unread closed threads", []float64{1e6, 5e6}, 0.045, 0.09, 0.0713, 3, 1, false, true, 0, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the closed threads of one agent", []float64{1e6, 5e6}, 0.0175, 0.035, 0.0713, 3, 1, false, true, 0, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the unassigned open threads", []float64{1e6}, 0.15, 0.15, 0.0713, 3, 1, false, true, 10, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the unassigned open threads", []float64{1e6, 5e6}, 0.15, 0.15, 0.0713, 3, 1, false, true, 40, pgstore.PlanCollectSearch, true},
		{"a two-letter prefix among the unassigned open threads", []float64{1e4, 2e5}, 0.15, 0.15, 0.0713, 3, 1, false, false, 0, pgstore.PlanCollectSearch, true},
		{"a two-letter prefix", []float64{1e6, 5e6}, 0.9, 0.9, 0.0713, 6, 1, false, false, 0, pgstore.PlanCollectSearch, true},
		{"a two-letter prefix among the open threads", []float64{1e6, 5e6}, 0.45, 0.45, 0.0713, 3, 1, false, false, 0, pgstore.PlanCollectSearch, true},
		{"a two-letter prefix among the audiences", []float64{1e6, 5e6}, 0.05, 0.05, 0.0713, 2, 1, true, false, 0, pgstore.PlanCollectAll, false},
		{"a two-letter prefix among the favourites", []float64{2e5, 1e6}, 0.009, 0.01, 0.0713, 6, 1, false, false, 0, pgstore.PlanCollectAll, false},
		{"a family name among the unassigned open threads", []float64{1e6, 5e6}, 0.15, 0.3, 0.0116, 3, 1, false, false, 0, pgstore.PlanCollectSearch, true},
		{"message words in the list", []float64{1e4, 2e5, 1e6, 5e6}, 0.9, 0.9, 0.44, 6, 2, false, false, 0, pgstore.PlanWalk, false},
	} {
		for _, n := range tc.sizes {
			capped, plan, k := pgstore.SearchWalkCap(n, tc.kept*n, tc.marked*n, tc.found*n, tc.branches, tc.keys, limit, tc.seen, tc.named)
			if (capped > 0) != tc.walked {
				t.Errorf("%s among %.0f threads: capped walk of %d rows, want one %v", tc.name, n, capped, tc.walked)
				continue
			}
			if !tc.walked {
				continue
			}
			if plan != tc.plan || (k > 0) != tc.windowed {
				t.Errorf("%s among %.0f threads, %d matches in a walk of %d rows: plan %v with a window of %d entries, want plan %v, windowed %v",
					tc.name, n, tc.seen, capped, plan, k, tc.plan, tc.windowed)
			}
		}
	}
}

// TestSearchWalkedFirst reads searches (T13) inside every combination of
// the filters (T11, T12), page by page (T3), as Threads does when its
// estimates say to walk the list up to a cap first, with caps of 1, 3 and
// 10 rows, and checks each against memstore, the reference store. A walk
// that does not fill the page leaves the rest of the page to a read after
// the last row it read (another capped walk, then a collection as the
// matches the walks saw say), so the page is the walks' matches and the
// first matches after the last row read.
func TestSearchWalkedFirst(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	ref := memstore.New()
	writeFilterThreads(t, s, ref)
	for _, typed := range []string{"dupont", "du", "annulation spa"} {
		for _, q := range filterQueries() {
			q.Search, q.Limit = textindex.ParseQuery(typed), 4
			want := pages(t, q, func(q store.ThreadQuery) ([]store.Thread, error) { return ref.Threads(ctx, q) })
			for _, capped := range []int64{1, 3, 10} {
				got := pages(t, q, func(q store.ThreadQuery) ([]store.Thread, error) {
					return s.ThreadsWalkedFirst(ctx, q, capped, 1e6, 5e4)
				})
				if !slices.Equal(got, want) {
					t.Errorf("%q in %s, walks of %d rows: %v, memstore: %v", typed, filterName(q), capped, got, want)
				}
			}
		}
	}
}

// TestSearchProbesNamed checks which searches among the audiences or the
// events Threads probes before it reads windows of the list (T13 inside
// the category filter of T12): a two-letter prefix the planner takes to
// match 7% of them, which may be in none of their names, at 1,000,000
// threads and more; not the same prefix among the contacts or the whole
// list, nor a search whose matches the estimates collect (at 200,000
// threads) or walk (message words).
func TestSearchProbesNamed(t *testing.T) {
	const limit = 51
	for _, tc := range []struct {
		name                string
		sizes               []float64
		kept, marked, found float64 // shares of the list
		branches, keys      int
		named               bool
		probes              bool
	}{
		{"a two-letter prefix among the audiences", []float64{1e6, 5e6}, 0.05, 0.05, 0.0713, 2, 1, true, true},
		{"a two-letter prefix among the closed events", []float64{1e6, 5e6}, 0.025, 0.05, 0.0713, 1, 1, true, true},
		{"a two-letter prefix among the closed events", []float64{2e5}, 0.025, 0.05, 0.0713, 1, 1, true, false},
		{"a two-letter prefix among the contacts", []float64{1e6, 5e6}, 0.8, 0.8, 0.0713, 2, 1, false, false},
		{"a two-letter prefix", []float64{1e6, 5e6}, 0.9, 0.9, 0.0713, 6, 1, false, false},
		{"message words among the events", []float64{1e6, 5e6}, 0.05, 0.05, 0.25, 2, 2, true, false},
	} {
		for _, n := range tc.sizes {
			if got := pgstore.SearchProbesNamed(n, tc.kept*n, tc.marked*n, tc.found*n, tc.branches, tc.keys, limit, tc.named); got != tc.probes {
				t.Errorf("%s among %.0f threads: probed %v, want %v", tc.name, n, got, tc.probes)
			}
		}
	}
}
