package pgstore

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// TenantID returns the tenant number of s, for the benchmark's bulk load.
func (s *Store) TenantID() int64 { return s.tenant }

// ThreadKeys and MessageKeys are the search keys the store writes, for the
// benchmark's bulk load.
func ThreadKeys(tenant int64, snap store.Snapshot) []string { return threadKeys(tenant, snap) }

func MessageKeys(tenant int64, text string) []string {
	k := messageKeys(tenant, textindex.MessageWords(text))
	if k == nil {
		k = []string{}
	}
	return k
}

// ListRank and Micros are the stored order keys.
func ListRank(t time.Time) int64 { return listRank(t) }
func Micros(t time.Time) int64   { return micros(t) }

// ThreadsSQL returns the list query of q as Threads would run it first,
// for EXPLAIN in the benchmark (a probe's, when Threads probes first).
func (s *Store) ThreadsSQL(ctx context.Context, q store.ThreadQuery) (string, []any, error) {
	if q.Search.IsZero() {
		plan, err := s.activePlan(ctx, &q)
		if err != nil {
			return "", nil, err
		}
		sql, args := s.threadsSQL(&q, plan, nil)
		return sql, args, nil
	}
	if len(q.Search.Phone) >= probeDigits {
		sql, args := s.threadsSQL(&q, probeSearch, nil)
		return sql, args, nil
	}
	found, rows, err := s.estimateFound(ctx, &q)
	if err != nil {
		return "", nil, err
	}
	if found <= float64(collectPages*q.Limit) || found <= probeShare*rows {
		sql, args := s.threadsSQL(&q, probeSearch, nil)
		return sql, args, nil
	}
	listed, kept, marked, err := s.estimateList(ctx, &q)
	if err != nil {
		return "", nil, err
	}
	e := newSearchEstimate(&q, s.tenant, listed, kept, marked, found)
	if e.probesNamed(q.Limit) {
		sql, args := s.threadsSQL(&q, probeSearch, nil)
		return sql, args, nil
	}
	if capped := e.walkCap(q.Limit); capped > 0 {
		sql, args := s.listSQL(&q, walkList, nil, capped)
		return sql, args, nil
	}
	plan, k := e.plan(q.Limit)
	if plan == walkList || k == 0 {
		sql, args := s.threadsSQL(&q, plan, nil)
		return sql, args, nil
	}
	var keys []string
	b, err := s.listBounds(ctx, &q, k, exactWindow)
	if err != nil {
		return "", nil, err
	}
	if b.first != nil {
		var whole bool
		if keys, whole = b.window(s.tenant, k); whole {
			keys = nil
		}
	}
	plan = collectSearch
	if keys == nil {
		plan = collectAll
	}
	sql, args := s.threadsSQL(&q, plan, keys)
	return sql, args, nil
}

// ListPlan is how a thread query reads the list; the plans are exported for
// tests that read one query every way.
type ListPlan = listPlan

const (
	PlanWalk          = walkList
	PlanCollectSearch = collectSearch
	PlanCollectActive = collectActive
	PlanCollectAll    = collectAll
)

// ThreadsWithPlan reads a page of threads as plan says, whatever Threads
// would choose, without a window. q must be valid (Limit at least 1).
func (s *Store) ThreadsWithPlan(ctx context.Context, q store.ThreadQuery, plan ListPlan) ([]store.Thread, error) {
	return s.readThreads(ctx, &q, plan, nil)
}

// ThreadsWindowed reads a page of a search in windows of k list entries
// and more, whatever the estimates, counting the window's end up to exact
// entries and extrapolating it beyond, in a list taken to hold listed
// threads (see readWindowed).
func (s *Store) ThreadsWindowed(ctx context.Context, q store.ThreadQuery, k, exact int64, listed float64) ([]store.Thread, error) {
	return s.readWindowed(ctx, &q, k, exact, listed)
}

// SearchWindow returns the list entries of the first window Threads would
// read a page of limit threads in (0: every match is collected), given the
// planner's estimates: listed threads, threads the filters keep, threads
// the search keys find.
func SearchWindow(listed, kept, found float64, limit int) int64 {
	return searchEstimate{listed: listed, kept: kept, found: found}.window(limit)
}

// SearchWalks reports whether Threads walks the list for a search, given
// the planner's estimates: listed threads, threads the search keys find.
func SearchWalks(listed, found float64) bool {
	return searchEstimate{listed: listed, found: found}.walks()
}

// SearchEstimate returns the planner's estimates Threads sizes q's search
// window from: listed threads, threads the filters keep, threads the search
// keys find.
func (s *Store) SearchEstimate(ctx context.Context, q store.ThreadQuery) (listed, kept, found float64, err error) {
	if found, _, err = s.estimateFound(ctx, &q); err != nil {
		return 0, 0, 0, err
	}
	listed, kept, _, err = s.estimateList(ctx, &q)
	return listed, kept, found, err
}

// SearchPlan returns how Threads reads a search whose matches the planner
// takes to fill more than a few pages, given its estimates (see
// SearchWindow; marked: the threads the filters a collection gives the
// index as markers keep), the lifecycle and category ranges its filters
// span and the number of its search keys: walking the list, collecting every match
// (window 0), or collecting them in windows of the list from that many
// entries.
func SearchPlan(listed, kept, marked, found float64, branches, keys, limit int) (ListPlan, int64) {
	return searchEstimate{listed: listed, kept: kept, marked: marked, found: found, branches: branches, keys: keys}.plan(limit)
}

// SearchProbes reports whether Threads probes a search the planner takes
// to match found of the table's rows before it estimates its filters.
func SearchProbes(found, rows float64) bool { return found <= probeShare*rows }

// ThreadsProbe reads a page of a search as a probe does: ok when its
// matches are at most probePages pages, and the page then exact.
func (s *Store) ThreadsProbe(ctx context.Context, q store.ThreadQuery) (page []store.Thread, ok bool, err error) {
	return s.probe(ctx, &q)
}

// WindowMarkers returns the window markers, one per width, of a thread of
// that list rank (a favourite when pin is false).
func WindowMarkers(tenant int64, pin bool, rank int64) []string {
	var keys []string
	for _, w := range windowLevels {
		keys = append(keys, windowKey(tenant, pin, w, rank>>w))
	}
	return keys
}

// WindowKeys returns the window markers of the threads of one group
// (favourites when pin is false) with list ranks from `from` to `to`.
func WindowKeys(tenant int64, pin bool, from, to int64) []string {
	return windowKeys(tenant, pin, from, to)
}

// HitsSQL returns the query that collects the order keys of every
// candidate of q's search (its subject keys or its thread's message words
// match), as a collecting plan does before it sorts them.
func (s *Store) HitsSQL(q store.ThreadQuery) (string, []any) {
	args := []any{s.tenant}
	w := s.listConds(&q, collectSearch, nil, func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	})
	return hitsSQL(append(w.conds, w.match), w.rows, ""), args
}

// CollectSQL returns the query that reads a page of q by collecting every
// match of its search (no window).
func (s *Store) CollectSQL(q store.ThreadQuery) (string, []any) {
	return s.threadsSQL(&q, collectSearch, nil)
}

// ProbePages is the most pages of matches a probe collects.
const ProbePages = probePages

// ListWindow returns the window markers of the first k entries of a list
// after a cursor whose first entry, n-th entry and last entry are at
// first, at and last (favourite when the bool is false, as list_pin),
// whose last favourite and first other thread rank lastFav and
// firstOther, and whose n-th other thread ranks atOther; and whether the
// window holds all of the list.
func ListWindow(tenant int64, first, at, last [2]int64, lastFav, firstOther, atOther, n, k int64) ([]string, bool) {
	pos := func(p [2]int64) *listPos { return &listPos{pin: p[0] != 0, rank: p[1]} }
	b := listBounds{first: pos(first), at: pos(at), last: pos(last), n: n, lastFav: &lastFav, firstOther: &firstOther, atOther: &atOther}
	return b.window(tenant, k)
}

// PlanSQL returns the list query of q read as plan says, without a window.
func (s *Store) PlanSQL(q store.ThreadQuery, plan ListPlan) (string, []any) {
	return s.threadsSQL(&q, plan, nil)
}

// ThreadsCappedWalk reads a page of a search as a capped walk of at most
// capped rows does: ok when the page is exact, else the matches the walk
// saw.
func (s *Store) ThreadsCappedWalk(ctx context.Context, q store.ThreadQuery, capped int64) (page []store.Thread, ok bool, err error) {
	page, edge, err := s.cappedWalk(ctx, &q, capped)
	return page, edge == nil, err
}

// ThreadsWalkedFirst reads a page of a search as Threads does when its
// estimates say to walk the list up to a cap first, with walks of capped
// rows (up to the most Threads reads) whatever the estimates, and the rest
// of the page read as estimates of a list of listed threads that the
// search keys find found of say once the walks saw their share.
func (s *Store) ThreadsWalkedFirst(ctx context.Context, q store.ThreadQuery, capped int64, listed, found float64) ([]store.Thread, error) {
	e := newSearchEstimate(&q, s.tenant, listed, listed, listed, found)
	return s.readSearch(ctx, &q, e, func(searchEstimate, int) int64 { return capped })
}

// SearchProbesNamed reports whether Threads probes a search among the
// audiences or the events (named) before it reads windows of the list,
// given the planner's estimates as SearchPlan takes them.
func SearchProbesNamed(listed, kept, marked, found float64, branches, keys, limit int, named bool) bool {
	e := searchEstimate{listed: listed, kept: kept, marked: marked, found: found, keyed: found, branches: branches, keys: keys, named: named}
	return e.probesNamed(limit)
}

// SearchWalkCap returns the most rows Threads walks a search in before it
// collects it, given the planner's estimates as SearchPlan takes them and
// whether the filters keep audiences or events only (0: no capped walk),
// and how Threads then reads it when the walk saw seen matches without
// filling the page.
func SearchWalkCap(listed, kept, marked, found float64, branches, keys, limit, seen int, named bool) (int64, ListPlan, int64) {
	e := searchEstimate{listed: listed, kept: kept, marked: marked, found: found, keyed: found, branches: branches, keys: keys, named: named}
	capped := e.walkCap(limit)
	plan, k := e.walkedEstimate(int64(seen), capped).plan(limit)
	return capped, plan, k
}
