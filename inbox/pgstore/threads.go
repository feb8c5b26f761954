package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/inbox/store"
)

// listOrder is the list order of T3 on the stored keys (see keys.go).
const listOrder = "list_pin, list_rank, id"

// Threads implements store.Store.
//
// Without a search, the filters pick one index of the filter family (all,
// by assignee, unread, favourites and muted, each also by assignee; see
// migrations 1 and 8), whose leading columns are the tenant, the archived flag, the
// lifecycle and the category, followed by the list order. A query with
// "any" lifecycle or category is a UNION ALL of one branch per value, each
// reading at most Limit entries from the front of its index range, merged
// and cut to Limit, so a first page reads at most six times Limit index
// entries whatever the filters. A visibility window (T17) that keeps few
// threads collects them from the activity index instead and sorts them.
//
// A search collects its matches from the GIN index of search keys and
// filter markers, inside windows of the list when they are many, or walks
// the filters' index and checks each thread (see search).
func (s *Store) Threads(ctx context.Context, q store.ThreadQuery) ([]store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("thread query limit %d", q.Limit)
	}
	if q.Category != 0 && !q.Category.Valid() {
		return []store.Thread{}, nil
	}
	if !q.Search.IsZero() {
		return s.search(ctx, &q)
	}
	plan, err := s.activePlan(ctx, &q)
	if err != nil {
		return nil, err
	}
	return s.readThreads(ctx, &q, plan, nil)
}

// readThreads reads the page of q as plan says; a collected search keeps to
// the threads that hold one of the window markers, when there are some
// (see readWindowed).
func (s *Store) readThreads(ctx context.Context, q *store.ThreadQuery, plan listPlan, window []string) ([]store.Thread, error) {
	sql, args := s.threadsSQL(q, plan, window)
	if plan != walkList {
		// A collecting query is planned for its own values (an unnamed
		// statement): a cached generic plan would guess how many threads
		// the search or the window keeps instead of reading the statistics.
		// It is sent without a describe step (QueryExecModeExec: one round
		// trip, where QueryExecModeDescribeExec takes two), its arguments
		// encoded from their Go types.
		args = append([]any{pgx.QueryExecModeExec}, args...)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(ctx, "threads", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Thread, error) { return scanThread(r) })
	if err != nil {
		return nil, mapErr(ctx, "threads", err)
	}
	if out == nil {
		out = []store.Thread{}
	}
	return out, nil
}

// listPlan is how a thread query reads the list.
type listPlan int

const (
	// walkList reads the list in order from the filter's index.
	walkList listPlan = iota
	// collectSearch collects the threads that match the search and the
	// filters from the GIN index of search keys and filter markers, and
	// sorts them.
	collectSearch
	// collectActive collects the threads active inside the visibility
	// window and sorts them.
	collectActive
	// probeSearch collects the matches of a search as collectSearch does,
	// checking the messages of a search of several message words on each
	// candidate, up to a cap (see probe).
	probeSearch
	// collectAll collects every match of a search as collectSearch does,
	// with the filters that keep about half of the list as markers when no
	// other filter is one (see filterMarkers): for a collection of many
	// matches.
	collectAll
)

// Search windows. A search whose matches are many reads them inside a
// window of the list: the entries from the cursor (the start of the list
// for a first page) down to the k-th after it, whatever the filters
// (favourites first, as the list goes). The window is given to the GIN
// index as window markers (see migration 6 and windowKeys): the buckets of
// list rank the window's threads are in, so that one index scan
// intersects the posting lists of the search keys, the filter markers and
// the window, and PostgreSQL visits only the matches inside the window,
// about windowPages pages of them. The page is exact when it is full,
// since the window is a prefix of the rest of the list: every match left
// out comes after every match kept. A window that does not fill the page
// grows by windowGrowth until it holds the rest of the list.
//
// A search estimated to match at most collectPages pages of threads
// collects them all, which visits no more rows than a window would. k is
// sized from the planner's estimates of the matches. The position of
// the k-th entry is counted in the list-order index up to exactWindow
// entries; a wider window is extrapolated from the ranks those entries
// span (a window that holds more or fewer entries than k only costs more
// heap visits or another read).
const (
	collectPages = 4
	windowPages  = 2
	windowGrowth = 8
	exactWindow  = 4096
)

// searchEstimate holds the planner's estimates of a search's threads, and
// the shape of the search and its filters.
type searchEstimate struct {
	listed   float64 // threads of the tenant's list (not dormant)
	kept     float64 // threads the filters keep
	marked   float64 // threads the filters a collection gives the index as markers keep (see filterMarkers)
	found    float64 // threads whose keys match the search, in or out of the filters
	branches int     // list index ranges a walk reads: lifecycles × categories
	keys     int     // search keys of the longest kind (subject or message) the index scan reads
	walked   bool    // capped walks were read and did not fill the page: found is what they saw
	keyed    float64 // the planner's estimate of found, the length of the search keys' posting lists
	named    bool    // the filters keep audiences or events only (see walkCap)
}

// newSearchEstimate returns the estimates of q's search.
func newSearchEstimate(q *store.ThreadQuery, tenant int64, listed, kept, marked, found float64) searchEstimate {
	branches := 6
	if q.Lifecycle != store.AnyLifecycle {
		branches /= 2
	}
	if q.Category != 0 {
		branches /= 3
	}
	subject, message := searchKeys(tenant, q.Search)
	return searchEstimate{listed: listed, kept: kept, marked: marked, found: found, keyed: found, branches: branches,
		keys: max(len(subject), len(message)), named: q.Category == store.Audience || q.Category == store.Event}
}

// window returns the number of list entries a first window of a search
// spans to hold windowPages pages of limit matches, or 0 when the search
// matches at most collectPages pages of threads, which are all collected. A search is taken to
// match the same share of every filter's threads: the filters keep found ×
// kept/listed matches, and a window of k list entries holds k ×
// matches/listed of them. The window follows the share of the list a
// search matches, not the number of threads, so the cost of a page does not
// change with the size of the list.
func (e searchEstimate) window(limit int) int64 {
	listed := max(e.listed, 1)
	found := min(max(e.found, 1), listed)
	matches := max(found*e.kept/listed, 1)
	if matches <= float64(collectPages*limit) {
		return 0
	}
	want := float64(windowPages * limit)
	return int64(min(want*listed/matches, math.MaxInt32)) + int64(limit)
}

// walkShare is the share of the threads its filters keep that a search
// must match to walk the list in order, checking each thread on its row:
// a page then costs about Limit/walkShare row checks in each lifecycle and
// category range, fewer than the heap visits and posting lists of a window
// (at 1M threads, two message words the planner takes to be in a tenth to a
// quarter of the threads: 12-14 ms walking, 35-115 ms in windows, whose
// page check of the words' message rejects many candidates). Like the window, the choice follows
// the share of the list a search matches, not its number of matches, so it
// does not change with the size of the list. (A walk costs more in a range
// the matches avoid, which a share this high makes unlikely.)
const walkShare = 0.1

// collectSpan is the share of the list (its inverse) from which a first
// window is not read: every match is collected (see searchEstimate.plan).
// At 1,000,000 threads, "martin" among the events, which no event holds,
// read windows of 94,000 and 755,000 entries and then the whole list, in
// 15 ms; collected, its filter marker leaves no thread to visit.
const collectSpan = 16

// walks reports whether a search walks the list (see walkShare).
func (e searchEstimate) walks() bool {
	listed := max(e.listed, 1)
	return min(max(e.found, 1), listed)/listed >= walkShare
}

// Walks of small filters. A walk reads each lifecycle and category range
// of the filters' list index in order until it holds a page of matches or
// the range ends: about Limit/share rows per range for a search that
// matches that share of the list, and at worst every thread the filters
// keep (when the search's matches avoid the filters: "du" among the
// events, which no event name holds, read 44,853 rows in 400 ms, and
// 6,696 open unassigned audiences in 17 ms, four times its collection). A
// collection visits the rows of the matches inside the filters it gives
// the GIN index as markers (see filterMarkers), and its index scan decodes
// the posting lists of the search keys wherever the markers' entries fall,
// which for a word in a large share of the list is nearly all of its list,
// even inside a small filter (at 1,000,000 threads, "annulation spa" among
// the 2,226 unread open events: 12.6 ms to decode the two words' lists,
// 1.7 ms walked). Measured at 1,000,000 threads, a walk reads and checks a
// row in about 3.4 µs, a collection visits one in half that (heapShare)
// and decodes a posting-list entry in a decodeShare-th of it (13 ns). A
// search walks its filters when the walk should cost less than the
// collection, and would cost at most walkWorst times as much if it read
// every thread they keep. Neither bound depends on the size of the list,
// only on shares of it.
const (
	heapShare   = 0.5
	decodeShare = 256
	walkWorst   = 2
)

// walkCosts returns the rows a walk should read, the most it could read,
// and what a collection costs in rows read by a walk.
func (e searchEstimate) walkCosts(limit int) (expected, worst, collect float64) {
	listed := max(e.listed, 1)
	found := min(max(e.found, 1), listed)
	share := found / listed
	worst = max(e.kept, 1)
	expected = min(worst, float64(max(e.branches, 1)*limit)/share)
	collect = max(e.marked, e.kept)*share*heapShare + found*float64(max(e.keys, 1))/decodeShare
	return expected, worst, collect
}

// plan returns how a search reads its page once the planner's estimates
// say that its matches are not all on a few pages (see search): it walks
// the list when the walk should cost less than a collection, and at worst
// not much more (see walkWorst); it collects them all (collectAll) when the filters
// keep at most collectPages pages of them, whatever share of the list it
// matches, or when the first window would span a collectSpan-th of the
// list or more (the matches inside the filters are then at most
// collectSpan × windowPages pages, and the next two windows would hold all
// of the list, each read after a read of the list bounds); it walks the
// list when it matches a large share of it; else it reads windows of k
// list entries.
func (e searchEstimate) plan(limit int) (plan listPlan, k int64) {
	k = e.window(limit)
	expected, worst, collect := e.walkCosts(limit)
	switch {
	case !e.walked && expected < collect && worst <= walkWorst*collect:
		return walkList, 0
	case k == 0 || float64(k)*collectSpan >= e.listed:
		return collectAll, 0
	case !e.walked && e.walks():
		return walkList, 0
	}
	return collectSearch, k
}

// Capped walks. A collection's index scan steps through the posting lists
// of its search keys and filter markers together, and costs about the
// length of the shortest of them, whatever the number of matches: at
// 1,000,000 threads, "du" (69,700 threads) among the 99,400 archived
// threads stepped through 69,700 entries in 13.7 ms for 6,958 candidates,
// "dupont" (11,600) among them in 1.7 ms; a walk reads and checks a row in
// 2.7 µs, the time of ginShare entries. A search whose collection would
// step through more entries than ginShare times twice the rows its walk
// should read (the list in order, merged over the lifecycle and category
// ranges of the filters, until a page of matches) first walks up to a cap
// of walkSlack times those rows (see cappedWalk). When the page is not full by then, its
// matches are the first of the page, the rest of the page comes after the
// last row the walk read, and the share of matches the walk saw replaces
// the planner's share of the list (a search may avoid a filter: "du" is in
// no audience name; and the front of a list may hold fewer matches than
// the rest: among the 1,430 newest unread open contacts of the benchmark,
// 43 hold "du", 3% instead of 7.7%). The rest is walked again when that
// share says so, else collected: all of its matches when they are a few
// pages, else in windows (see readSearch). At worst the walks cost what
// an index scan of their length does, on top of the collection.
const ginShare = 13

// walkCap returns the most rows a capped walk of the search reads before
// its collection (see ginShare), or 0 when it is not walked first: when
// the planner's estimates choose a walk already, or when the collection
// should cost less than the capped walk. After a walk, the rows come from
// the share of matches it saw, and the posting lists are as long as the
// planner says.
//
// Audiences and events are not walked first: they are named for what they
// gather (a segment, a class), not for the people in them, so a name
// searched among them is often in none of them (the planner takes a
// search to match the same share of every category), which a walk learns
// only by reading all of its rows, and their collection then visits no
// row (at 1,000,000 threads, "du" among the unassigned audiences: 7.8 ms
// collected, 26 ms walked first).
func (e searchEstimate) walkCap(limit int) int64 {
	if e.named || e.marked*markedShare > e.listed {
		return 0
	}
	if plan, _ := e.plan(limit); plan == walkList {
		return 0
	}
	listed := max(e.listed, 1)
	found := min(max(e.found, 1), listed)
	rows := float64(limit)*listed/found + float64(max(e.branches, 1))
	if 2*rows*ginShare > min(max(e.keyed, found), max(e.marked, e.kept)) {
		return 0
	}
	return int64(math.Ceil(walkSlack * rows))
}

// markedShare is the share of the list (its inverse) that the filters a
// collection gives the index as markers keep at most for a search to be
// walked first. Without such a marker (the listed threads, the contacts, a
// lifecycle) the search's matches are collected in windows, whose index
// scan steps through the window's markers rather than the long posting
// lists of the search keys (at 1,000,000 threads, "du" in the whole list:
// 7.0 ms in windows, 16.5 ms walked first, the newest 1,000 threads having
// no name).
const markedShare = 4

// walkSlack is the cap of a capped walk in rows a page should take: the
// front of a list may hold fewer matches than the rest (see ginShare), and
// a second walk costs a statement of its own.
const walkSlack = 3

// walkedEstimate returns e as capped walks that read rows of the
// filters' list and saw matches among them say: the search is taken to
// match the share of the list the walks saw (one match more, so that walks
// that saw none still take a few), and is not walked without a cap.
func (e searchEstimate) walkedEstimate(matches, rows int64) searchEstimate {
	e.found = max(e.listed, 1) * float64(matches+1) / float64(max(rows, 1))
	e.walked = true
	return e
}

// Probes. A search whose matches should be few collects them up to a cap
// of probePages pages, in one statement that returns the page with the
// number of matches collected (see probe); when they are more than the
// cap, the page is read as the estimates say. Probed are the phone
// searches of at least probeDigits digits, before any estimate (a prefix
// of six digits leaves a ten-thousandth of the numbers of a country, a
// whole number one thread), and the searches the planner takes to match
// at most probeShare of the table's rows. The statistics of the key
// columns list the keys of at least about a hundredth of the rows they
// sampled; for any other key the planner's estimate is a guess, half the
// frequency of the rarest key listed, whatever the key's real frequency
// (at 1,000,000 threads: 4,300 threads for a phone prefix that 83 hold,
// 5,700 for a word nobody wrote). A window sized from such a guess holds
// far fewer matches than a page, and widens read after read.
const (
	probePages  = 4
	probeDigits = 6
	probeShare  = 0.01
)

// search reads the page of a search (T13). Its matches are counted by
// PostgreSQL's planner first (the statistics of the key columns know the
// frequent keys; the estimate reads no index): a search that should find
// at most collectPages pages of threads, or whose estimate is a guess, is
// probed (see probe), which collects its matches from the GIN index. When
// they are more, the planner estimates the threads of the list, those the
// filters keep and those the filters a collection gives the index as
// markers keep, which choose a plan (see searchEstimate.plan): a walk of
// the filters' list index, a collection of every match, or windows of the
// list (see readWindowed).
//
// A walk that checks a few matches of a small filter reads the filter's
// threads to its end in each lifecycle and category range, so a search
// walks a small filter only when reading all of it would cost little more
// than collecting (see walkWorst): "annulation spa" among the muted
// unassigned threads at 1,000,000 threads is walked (its words' posting
// lists are long, the filter short), "du" among the events is collected
// (no event name holds it).
func (s *Store) search(ctx context.Context, q *store.ThreadQuery) ([]store.Thread, error) {
	probed := len(q.Search.Phone) >= probeDigits
	if probed {
		if page, ok, err := s.probe(ctx, q); err != nil || ok {
			return page, err
		}
	}
	found, rows, err := s.estimateFound(ctx, q)
	if err != nil {
		return nil, err
	}
	if !probed && (found <= float64(collectPages*q.Limit) || found <= probeShare*rows) {
		probed = true
		if page, ok, err := s.probe(ctx, q); err != nil || ok {
			return page, err
		}
	}
	listed, kept, marked, err := s.estimateList(ctx, q)
	if err != nil {
		return nil, err
	}
	e := newSearchEstimate(q, s.tenant, listed, kept, marked, found)
	if !probed && e.probesNamed(q.Limit) {
		if page, ok, err := s.probe(ctx, q); err != nil || ok {
			return page, err
		}
	}
	return s.readSearch(ctx, q, e, searchEstimate.walkCap)
}

// probesNamed reports whether a search among the audiences or the events
// is probed before it reads windows of the list: the planner takes it to
// match the same share of them as of the list, which a name searched is
// often in none of (see walkCap), and a probe of a search that matches
// none of them steps through the posting lists of its keys and category
// once (at 1,000,000 threads, "du" among the audiences: 3.3 ms; in windows,
// each of whose index scans also steps through the window's markers, then
// all of them: 25 ms).
func (e searchEstimate) probesNamed(limit int) bool {
	plan, k := e.plan(limit)
	return e.named && plan == collectSearch && k > 0
}

// maxWalks is the most capped walks a search reads before it reads the
// rest of its page as its estimates say (see readSearch).
const maxWalks = 3

// readSearch reads the page of a search whose estimates are e. While e
// says so (see walkCap), it walks the list up to a cap, each walk from
// where the last one stopped: the matches a walk saw are the first of the
// page, and the rest of the page comes after the last row it read, which
// the next read takes as its cursor. Each walk that does not fill the
// page re-plans the search from the share of matches the walks saw. The
// rest of the page is then read as the estimates say (see
// searchEstimate.plan), never by an uncapped walk. walkCap is
// searchEstimate.walkCap, which tests replace.
func (s *Store) readSearch(ctx context.Context, q *store.ThreadQuery, e searchEstimate, walkCap func(searchEstimate, int) int64) ([]store.Thread, error) {
	rq := *q
	var page []store.Thread
	var rows, matches int64
	for range maxWalks {
		capped := walkCap(e, rq.Limit)
		if capped == 0 {
			break
		}
		seen, edge, err := s.cappedWalk(ctx, &rq, capped)
		if err != nil {
			return nil, err
		}
		page = append(page, seen...)
		if edge == nil {
			return page, nil
		}
		rows, matches = rows+capped, matches+int64(len(seen))
		e = e.walkedEstimate(matches, rows)
		after := store.PositionOf(*edge)
		rq.After, rq.Limit = &after, rq.Limit-len(seen)
	}
	plan, k := e.plan(rq.Limit)
	var rest []store.Thread
	var err error
	if plan == walkList || k == 0 {
		rest, err = s.readThreads(ctx, &rq, plan, nil)
	} else {
		rest, err = s.readWindowed(ctx, &rq, k, exactWindow, e.listed)
	}
	if err != nil {
		return nil, err
	}
	if page == nil {
		return rest, nil
	}
	return append(page, rest...), nil
}

// cappedWalk reads the page of a search by walking the filters' list
// index in order up to capped rows (see cappedWalkSQL): the page, and no
// edge, when it is exact, because it is full or the walk read every row
// after the cursor; otherwise the matches the walk saw, in order, and the
// last row it read (the capped-th), after which the rest of the page is.
func (s *Store) cappedWalk(ctx context.Context, q *store.ThreadQuery, capped int64) (page []store.Thread, edge *store.Thread, err error) {
	sql, args := s.listSQL(q, walkList, nil, capped)
	// Planned for its own values, as a collection (see readThreads): the
	// cap changes from one search to the next.
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, nil, mapErr(ctx, "threads", err)
	}
	defer rows.Close()
	page = []store.Thread{}
	var hit, last bool
	for rows.Next() {
		t, err := scanThread(flaggedRow{rows, &hit, &last})
		if err != nil {
			return nil, nil, mapErr(ctx, "threads", err)
		}
		if hit {
			page = append(page, t)
		}
		if len(page) == q.Limit {
			return page, nil, nil
		}
		if last {
			return page, &t, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, mapErr(ctx, "threads", err)
	}
	return page, nil, nil
}

// flaggedRow is a row of a capped walk: a thread, whether it matches the
// search and whether it is the last row the walk read, which Scan stores
// in hit and edge.
type flaggedRow struct {
	pgx.Rows
	hit, edge *bool
}

// Scan scans the thread into dest and the flags into r.hit and r.edge.
func (r flaggedRow) Scan(dest ...any) error { return r.Rows.Scan(append(dest, r.hit, r.edge)...) }

// probe reads the page of a search from its matches when they are at most
// probePages pages (ok), collected in one statement (probeSearch) that
// stops at one more and returns the page with the number it collected.
func (s *Store) probe(ctx context.Context, q *store.ThreadQuery) (page []store.Thread, ok bool, err error) {
	sql, args := s.threadsSQL(q, probeSearch, nil)
	rows, err := s.pool.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
	if err != nil {
		return nil, false, mapErr(ctx, "threads", err)
	}
	var n int64
	page, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Thread, error) {
		return scanThread(countedRow{r, &n})
	})
	if err != nil {
		return nil, false, mapErr(ctx, "threads", err)
	}
	if page == nil {
		// No page: no match at all (a match would be on it).
		page = []store.Thread{}
	}
	return page, n <= int64(probePages*q.Limit), nil
}

// countedRow is a row of a probe: a thread and the number of matches
// collected, which Scan stores in n.
type countedRow struct {
	pgx.CollectableRow
	n *int64
}

// Scan scans the thread into dest and the count into r.n.
func (r countedRow) Scan(dest ...any) error { return r.CollectableRow.Scan(append(dest, r.n)...) }

// readWindowed reads the page of a search inside a window of k list
// entries after the cursor (0: the rest of the list), widening it until the
// page is full or the window holds the rest of the list. The window's end
// is counted up to exact entries, and extrapolated beyond. A window that
// holds the rest of the list is read without window markers: its buckets
// would name most of the list, whose long posting lists the index scan
// would read for nothing (the cursor's condition keeps the page after it).
// So is the rest of a list of listed threads (the planner's estimate) once
// the next window would span a wholeShare-th of it: its markers would
// name about as many entries, and it is one statement instead of two (at
// 1,000,000 threads, "du" among the closed audiences, which no audience
// name holds, read windows of 61,000 and 487,000 entries and then the
// whole list).
func (s *Store) readWindowed(ctx context.Context, q *store.ThreadQuery, k, exact int64, listed float64) ([]store.Thread, error) {
	for {
		b, err := s.listBounds(ctx, q, k, exact)
		if err != nil || b.first == nil {
			return []store.Thread{}, err // nothing follows the cursor
		}
		keys, whole := b.window(s.tenant, k)
		if whole {
			keys = nil
		}
		plan := collectSearch
		if keys == nil {
			plan = collectAll
		}
		page, err := s.readThreads(ctx, q, plan, keys)
		if err != nil || len(page) >= q.Limit || whole {
			return page, err
		}
		k *= windowGrowth
		if float64(k)*wholeShare >= listed {
			return s.readThreads(ctx, q, collectAll, nil)
		}
	}
}

// wholeShare is the share of the list (its inverse) from which a search
// reads the rest of the list instead of a window (see readWindowed).
const wholeShare = 4

// listPos is a position in the list order: list_pin (not favourite) and
// list_rank.
type listPos struct {
	pin  bool
	rank int64
}

// listBounds are positions of the list after a query's cursor, read from
// the list-order index; nil where there is none.
type listBounds struct {
	first, last *listPos // the first and the last entry
	at          *listPos // the n-th entry
	n           int64
	lastFav     *int64 // the rank of the last favourite
	firstOther  *int64 // the rank of the first thread that is not a favourite
	atOther     *int64 // the rank of the n-th thread that is not a favourite
}

// listBounds reads the bounds of the list after q's cursor, with the
// positions of the min(k, exact)-th entry and of the min(k, exact)-th
// that is not a favourite: one statement of six reads of the list-order
// index.
func (s *Store) listBounds(ctx context.Context, q *store.ThreadQuery, k, exact int64) (listBounds, error) {
	b := listBounds{n: max(min(k, exact), 1)}
	args := []any{s.tenant, b.n - 1}
	base := "tenant_id = $1 AND NOT dormant"
	if q.After != nil {
		base += " AND (" + listOrder + ") > ($3, $4, $5)"
		args = append(args, !q.After.Favourite, listRank(q.After.SortTime), q.After.ID)
	}
	from := "SELECT list_pin, list_rank FROM parley_threads WHERE " + base
	asc, desc := " ORDER BY "+listOrder, " ORDER BY list_pin DESC, list_rank DESC, id DESC"
	var (
		fPin, aPin, lPin    *bool
		fRank, aRank, lRank *int64
	)
	err := s.pool.QueryRow(ctx, "SELECT f.list_pin, f.list_rank, a.list_pin, a.list_rank, l.list_pin, l.list_rank, lf.list_rank, fo.list_rank, ao.list_rank"+
		" FROM (SELECT 1) AS one"+
		" LEFT JOIN ("+from+asc+" LIMIT 1) AS f ON true"+
		" LEFT JOIN ("+from+asc+" OFFSET $2 LIMIT 1) AS a ON true"+
		" LEFT JOIN ("+from+desc+" LIMIT 1) AS l ON true"+
		" LEFT JOIN ("+from+" AND NOT list_pin"+desc+" LIMIT 1) AS lf ON true"+
		" LEFT JOIN ("+from+" AND list_pin"+asc+" LIMIT 1) AS fo ON true"+
		" LEFT JOIN ("+from+" AND list_pin"+asc+" OFFSET $2 LIMIT 1) AS ao ON true", args...).
		Scan(&fPin, &fRank, &aPin, &aRank, &lPin, &lRank, &b.lastFav, &b.firstOther, &b.atOther)
	if err != nil {
		return listBounds{}, mapErr(ctx, "threads: search window", err)
	}
	pos := func(pin *bool, rank *int64) *listPos {
		if pin == nil || rank == nil {
			return nil
		}
		return &listPos{pin: *pin, rank: *rank}
	}
	b.first, b.at, b.last = pos(fPin, fRank), pos(aPin, aRank), pos(lPin, lRank)
	return b, nil
}

// window returns the window markers of the first k entries of b (0: all of
// them), and whether the window holds all of b. Past the n-th entry, the
// end of the window is extrapolated from the ranks the first n span, in
// the favourites or in the rest of the list where the n-th entry is. A
// window that reaches past the favourites holds as many of the rest as
// the favourites, extrapolated likewise, leave of its k entries, at the
// rest's own spacing, from the ranks its first n span (the favourites are
// far sparser than the rest: at 1,000,000 threads, with 9,900 favourites,
// a window of 10,400 entries was once taken to hold the whole list).
// Markers are nil when the window is too wide for them.
func (b listBounds) window(tenant int64, k int64) (keys []string, whole bool) {
	end := *b.last
	switch {
	case k == 0 || b.at == nil:
	case k <= b.n:
		end = *b.at
	default:
		start := *b.first
		if start.pin != b.at.pin {
			start = listPos{pin: true, rank: *b.firstOther}
		}
		r := float64(start.rank) + float64(b.at.rank-start.rank)*float64(k)/float64(b.n)
		switch {
		case !b.at.pin && r <= float64(*b.lastFav):
			end = listPos{pin: false, rank: int64(r)}
		case !b.at.pin && b.atOther != nil && b.at.rank > start.rank:
			favs := float64(b.n) * float64(*b.lastFav-start.rank) / float64(b.at.rank-start.rank)
			r := float64(*b.firstOther) + float64(*b.atOther-*b.firstOther)*(float64(k)-favs)/float64(b.n)
			if r < float64(b.last.rank) {
				end = listPos{pin: true, rank: int64(r)}
			}
		case b.at.pin && r < float64(b.last.rank):
			end = listPos{pin: true, rank: int64(r)}
		}
	}
	whole = end == *b.last
	if b.first.pin == end.pin {
		return windowKeys(tenant, end.pin, b.first.rank, end.rank), whole
	}
	favs := windowKeys(tenant, false, b.first.rank, *b.lastFav)
	others := windowKeys(tenant, true, *b.firstOther, end.rank)
	if favs == nil || others == nil {
		return nil, whole
	}
	return append(favs, others...), whole
}

// estimateFound returns the planner's estimate of the threads whose keys
// match q's search, in or out of its filters, and of the rows of
// parley_threads (every tenant's), from the table's statistics, without
// reading the table: one EXPLAIN. The arguments are sent as literals
// (simple protocol), so that the estimates are for these values and not a
// cached generic plan's guess. The search keys name the tenant, so the
// search count has no tenant condition, which the planner would take as
// independent of the keys.
func (s *Store) estimateFound(ctx context.Context, q *store.ThreadQuery) (found, rows float64, err error) {
	subject, message := searchKeys(s.tenant, q.Search)
	for _, k := range slices.Concat(subject, message) {
		// The protocol ends a literal at a NUL; PostgreSQL text cannot
		// hold one anyway.
		if strings.IndexByte(k, 0) >= 0 {
			return 0, 0, invalid("search %q: NUL byte", k)
		}
	}
	where, args := "search_keys @> $1::text[]", []any{subject}
	if len(message) > 0 {
		where += " OR message_words @> $2::text[]"
		args = append(args, message)
	}
	est, err := s.explainRows(ctx, "SELECT 1 FROM parley_threads WHERE "+where+" UNION ALL SELECT 1 FROM parley_threads", args)
	if err != nil {
		return 0, 0, err
	}
	return est[0], est[1], nil
}

// estimateList returns the planner's estimates of the threads of the
// tenant's list (not dormant), of those q's filters keep, and of those
// the filters a collection of all matches gives the GIN index as markers
// keep (see filterMarkers: the others are checked on the rows it visits):
// one EXPLAIN, as estimateFound.
func (s *Store) estimateList(ctx context.Context, q *store.ThreadQuery) (listed, kept, marked float64, err error) {
	args := []any{s.tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	kc := filterConds(q, arg)
	mq := *q
	_, rows, _ := filterMarkers(s.tenant, q, true)
	for _, c := range rows {
		switch c {
		case "NOT closed", "closed":
			mq.Lifecycle = store.AnyLifecycle
		case "assignee = ''":
			mq.Unassigned = false
		case "subject_kind = " + strconv.Itoa(int(store.Contact)):
			mq.Category = 0
		}
	}
	mc := filterConds(&mq, arg)
	est, err := s.explainRows(ctx, "SELECT 1 FROM parley_threads WHERE tenant_id = $1 AND NOT dormant"+
		" UNION ALL SELECT 1 FROM parley_threads WHERE "+strings.Join(kc, " AND ")+
		" UNION ALL SELECT 1 FROM parley_threads WHERE "+strings.Join(mc, " AND "), args)
	if err != nil {
		return 0, 0, 0, err
	}
	return est[0], est[1], est[2], nil
}

// explainRows returns the planner's estimates of the rows of each branch
// of union, a UNION ALL of two queries or more.
func (s *Store) explainRows(ctx context.Context, union string, args []any) ([]float64, error) {
	var js []byte
	err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+union, append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...).Scan(&js)
	if err != nil {
		return nil, mapErr(ctx, "threads: estimate", err)
	}
	var plans []struct {
		Plan struct {
			Plans []struct {
				Rows float64 `json:"Plan Rows"`
			}
		}
	}
	branches := strings.Count(union, " UNION ALL ") + 1
	if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 || len(plans[0].Plan.Plans) != branches {
		return nil, fmt.Errorf("pgstore: threads: estimate %q: %v", js, err)
	}
	est := make([]float64, branches)
	for i, p := range plans[0].Plan.Plans {
		est[i] = p.Rows
	}
	return est, nil
}

// maxActiveCollected is the number of threads active inside a visibility
// window from which a query walks the list instead. The walk meets active
// threads early (sort time and activity mostly move together), so it wins
// sooner than in a search, except in a list range that holds fewer than a
// page of them, which it reads to its end: below this count that is the
// likely case, and collecting costs at most this many heap visits.
const maxActiveCollected = 2000

// activePlan chooses how a query without a search reads the list: a
// visibility window counts its threads, up to maxActiveCollected, in the
// activity index alone.
func (s *Store) activePlan(ctx context.Context, q *store.ThreadQuery) (listPlan, error) {
	if q.ActiveSince.IsZero() {
		return walkList, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM parley_threads
		WHERE tenant_id = $1 AND NOT dormant AND last_activity_at >= $2 LIMIT $3) AS active`,
		s.tenant, q.ActiveSince, maxActiveCollected).Scan(&n)
	if err != nil {
		return walkList, mapErr(ctx, "threads: active count", err)
	}
	if n < maxActiveCollected {
		return collectActive, nil
	}
	return walkList, nil
}

// filterConds returns the conditions of q's status, assignee and window
// filters on parley_threads' columns, the tenant being $1; arg adds an
// argument and returns its placeholder.
func filterConds(q *store.ThreadQuery, arg func(any) string) []string {
	conds := []string{"tenant_id = $1", "NOT dormant"}
	switch {
	case q.Assignee != "":
		conds = append(conds, "assignee = "+arg(q.Assignee))
	case q.Unassigned:
		conds = append(conds, "assignee = ''")
	}
	switch q.Status {
	case store.Archived:
		conds = append(conds, "archived")
	case store.Unread:
		conds = append(conds, "NOT archived", "unread > 0")
	case store.Favourites:
		conds = append(conds, "NOT archived", "favourite")
	case store.Muted:
		conds = append(conds, "NOT archived", "muted", "(muted_until IS NULL OR muted_until > "+arg(q.Now)+")")
	default:
		conds = append(conds, "NOT archived")
	}
	if !q.ActiveSince.IsZero() {
		conds = append(conds, "last_activity_at >= "+arg(q.ActiveSince))
	}
	switch q.Lifecycle {
	case store.Open:
		conds = append(conds, "NOT closed")
	case store.Closed:
		conds = append(conds, "closed")
	}
	if q.Category != 0 {
		conds = append(conds, "subject_kind = "+strconv.Itoa(int(q.Category)))
	}
	return conds
}

// markedConds returns the conditions of q's filters for collecting search
// matches: markers of filter_keys (see migration 6 and filterMarkers),
// which the GIN index intersects with the search keys, and on the columns
// what markers do not say (a mute's end, the visibility window, an agent
// ID too long for a marker); and the conditions of the filters it leaves
// to the collected rows (see filterMarkers; half as there). A filter is
// never given both ways, so that the planner does not count it twice.
func (s *Store) markedConds(q *store.ThreadQuery, half bool, arg func(any) string) (conds, rows []string) {
	conds = []string{"tenant_id = $1", "NOT dormant"}
	markers, rows, assignee := filterMarkers(s.tenant, q, half)
	if len(markers) > 0 {
		conds = append(conds, "filter_keys @> "+arg(markers)+"::text[]")
	}
	if q.Status == store.Muted {
		conds = append(conds, "(muted_until IS NULL OR muted_until > "+arg(q.Now)+")")
	}
	if assignee {
		conds = append(conds, "assignee = "+arg(q.Assignee))
	}
	if !q.ActiveSince.IsZero() {
		conds = append(conds, "last_activity_at >= "+arg(q.ActiveSince))
	}
	return conds, rows
}

// threadsSQL builds the list query of q read as plan, and its arguments.
func (s *Store) threadsSQL(q *store.ThreadQuery, plan listPlan, window []string) (string, []any) {
	return s.listSQL(q, plan, window, 0)
}

// listSQL builds the list query of q read as plan, and its arguments; a
// walk of a search with a cap reads at most that many rows of the filters'
// list in order (see cappedWalk).
func (s *Store) listSQL(q *store.ThreadQuery, plan listPlan, window []string, cap int64) (string, []any) {
	args := []any{s.tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	w := s.listConds(q, plan, window, arg)
	conds, match, check := w.conds, w.match, w.check
	lifecycles := []string{"NOT closed", "closed"}
	switch q.Lifecycle {
	case store.Open:
		lifecycles = lifecycles[:1]
	case store.Closed:
		lifecycles = lifecycles[1:]
	}
	kinds := []string{"1", "2", "3"}
	if q.Category != 0 {
		kinds = []string{strconv.Itoa(int(q.Category))}
	}
	limit := arg(q.Limit)
	if plan == probeSearch {
		// The matches are collected as by collectSearch, as the outer
		// query reads them: the materialised CTE is planned to collect
		// them all, and its scan stops at the cap. (Keeping their rows
		// instead of looking the page's up again took twice as long.)
		capped := arg(probePages*q.Limit + 1)
		with := "WITH hits AS MATERIALIZED (" + hitsSQL(append(conds, match), w.rows, "") + ")" +
			", capped AS MATERIALIZED (SELECT id, list_pin, list_rank FROM hits LIMIT " + capped + ")"
		return with + " SELECT " + threadCols + ", (SELECT count(*) FROM capped) FROM parley_threads WHERE tenant_id = $1 AND id IN (" +
			"SELECT id FROM capped ORDER BY " + listOrder + " LIMIT " + limit + ") ORDER BY " + listOrder, args
	}
	if plan != walkList {
		// The matches are collected with their order keys only, from the
		// indexes the planner picks for the search or the window (the
		// materialised CTE has no order to walk an index in), sorted, and
		// the page's threads are then fetched by primary key.
		if match != "" {
			conds = append(conds, match)
		}
		var subj string
		if check != "" {
			// Whether the subject keys match, read on the row the
			// collection visits anyway, so that the check reads no row
			// again.
			subj = w.subject
		}
		with := "WITH hits AS MATERIALIZED (" + hitsSQL(conds, w.rows, subj) + ")"
		page := "SELECT id FROM hits ORDER BY " + listOrder + " LIMIT " + limit
		if check != "" {
			// The check runs on the sorted matches until a page passes it
			// (OFFSET 0 keeps it out of the sort's input), not on every
			// match of the window; the page is materialised so that it is
			// computed once, whatever join the planner picks.
			with += ", page AS MATERIALIZED (SELECT id FROM (SELECT id, list_pin, list_rank, subj FROM hits ORDER BY " + listOrder +
				" OFFSET 0) AS h WHERE " + check + " LIMIT " + limit + ")"
			page = "SELECT id FROM page"
		}
		return with + " SELECT " + threadCols + " FROM parley_threads WHERE tenant_id = $1 AND id IN (" + page + ") ORDER BY " + listOrder, args
	}

	walk := func(where string) string {
		if match != "" {
			// The search is checked on each row the filters' list index
			// gives in order, as a subquery (OFFSET 0 keeps it one): the
			// planner cannot read the GIN index for it, and takes it to
			// keep half of the rows, so the LIMIT makes the ordered index
			// scan the cheapest plan and the branches merge in order,
			// each read only as far as the page needs. Left to the
			// planner, the search would be intersected as a bitmap with
			// the list index's and the result sorted, which for words in
			// a large share of the list decodes their long posting lists
			// (at 1,000,000 threads, "annulation spa" among 685 unread
			// unassigned audiences: 166 ms, 1.4 ms walked).
			where += " AND (SELECT " + match + " OFFSET 0)"
		}
		return "SELECT " + threadCols + ", list_pin, list_rank FROM parley_threads WHERE " + where +
			" ORDER BY " + listOrder + " LIMIT " + limit
	}
	where := strings.Join(conds, " AND ")
	if cap > 0 && match != "" {
		return cappedWalkSQL(where, match, lifecycles, kinds, limit, arg(cap)), args
	}
	if len(lifecycles) == 1 && len(kinds) == 1 {
		// filterConds holds the one lifecycle and category.
		return "SELECT " + threadCols + " FROM (" + walk(where) + ") AS t ORDER BY " + listOrder, args
	}
	// Each branch reads its first page from its index range; the outer
	// query merges at most Limit rows of each. A lifecycle or category
	// the query fixes is in filterConds already.
	var branches []string
	for _, branch := range rangeConds(where, lifecycles, kinds) {
		branches = append(branches, "("+walk(branch)+")")
	}
	return "SELECT " + threadCols + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS t ORDER BY " +
		listOrder + " LIMIT " + limit, args
}

// rangeConds returns the conditions of the list index ranges a walk
// merges: where with each lifecycle and category in turn, one range per
// pair (a lifecycle or category the query fixes is in where already).
func rangeConds(where string, lifecycles, kinds []string) []string {
	out := make([]string, 0, len(lifecycles)*len(kinds))
	for _, l := range lifecycles {
		for _, k := range kinds {
			branch := where
			if len(lifecycles) > 1 {
				branch += " AND " + l
			}
			if len(kinds) > 1 {
				branch += " AND subject_kind = " + k
			}
			out = append(out, branch)
		}
	}
	return out
}

// cappedWalkSQL is the query of a capped walk (see cappedWalk): the rows
// of the filters' list index ranges (where, one range per lifecycle and
// category), merged in list order without the search, so that each range
// is read only as far as the merged list reaches; the first cap of them,
// numbered; of those, the threads that match and the cap-th row, up to
// limit; and their threads, looked up by primary key, with whether each
// matches and is the cap-th row. Each range is a subquery in list order
// that checks the search on each row it gives, as a subquery the planner
// cannot answer from the GIN index, and keeps every row up to the cap: its
// LIMIT keeps the planner from pushing the outer condition on the check
// into it, which would read each range up to its own matches (to the end
// of the range for a category the search avoids), and has it planned for
// at most the cap's rows, in order from the list index (planned for all
// of its rows, the contacts of a list of 1,000,000 threads were read
// sequentially and sorted). The merged rows carry their order keys only
// (carrying the threads' columns took half as long again).
func cappedWalkSQL(where, match string, lifecycles, kinds []string, limit, cap string) string {
	var branches []string
	for _, branch := range rangeConds(where, lifecycles, kinds) {
		branches = append(branches, "(SELECT id, list_pin, list_rank, (SELECT "+match+" OFFSET 0) AS hit"+
			" FROM parley_threads WHERE "+branch+" ORDER BY "+listOrder+" LIMIT "+cap+")")
	}
	rows := strings.Join(branches, " UNION ALL ")
	if len(branches) == 1 {
		rows = strings.TrimSuffix(strings.TrimPrefix(rows, "("), ")")
	}
	read := "SELECT *, row_number() OVER (ORDER BY " + listOrder + ") AS n FROM (" + rows + ") AS r ORDER BY " + listOrder + " LIMIT " + cap
	walked := "SELECT id AS walked, hit, n = " + cap + " AS edge FROM (" + read + ") AS c WHERE hit OR n = " + cap +
		" ORDER BY " + listOrder + " LIMIT " + limit
	return "WITH w AS MATERIALIZED (" + walked + ") SELECT " + threadCols + ", w.hit, w.edge FROM w JOIN parley_threads" +
		" ON tenant_id = $1 AND id = w.walked ORDER BY " + listOrder
}

// hitsSQL is the query that collects the order keys of the threads that
// meet conds and then rows, and the value of subj as the column subj when
// it is given. The conditions of rows are checked on the rows conds
// collect, behind a fence (OFFSET 0): the planner would otherwise
// intersect the search's bitmap with a B-tree list index's bitmap of most
// of the list (at 1,000,000 threads, "dupont" among the unassigned
// threads read 267,000 entries of the assignee index in 256 ms).
func hitsSQL(conds, rows []string, subj string) string {
	cols, inner := "id, list_pin, list_rank", "id, list_pin, list_rank"
	if subj != "" {
		cols, inner = cols+", subj", inner+", "+subj+" AS subj"
	}
	if len(rows) == 0 {
		return "SELECT " + inner + " FROM parley_threads WHERE " + strings.Join(conds, " AND ")
	}
	return "SELECT " + cols + " FROM (SELECT " + inner + ", archived, closed, subject_kind, assignee FROM parley_threads WHERE " +
		strings.Join(conds, " AND ") + " OFFSET 0) AS c WHERE " + strings.Join(rows, " AND ")
}

// listWhere holds the conditions of the threads a plan reads (see
// listConds).
type listWhere struct {
	conds   []string // the filters, and the window markers
	rows    []string // a collection's filters checked on the collected rows, and the cursor
	match   string   // the search ("" for none)
	check   string   // a collection's check of a page's matches ("" for none)
	subject string   // the condition of the subject keys
}

// listConds returns the conditions of the threads q reads with plan: its
// filters (on the columns for a walk, with markers for a collection: see
// markedConds), the window markers of a collected search when there are
// some, and its cursor (on the collected rows for a collection); the
// condition of its search; and, for a collected search of several message
// words, the check of a collected match h that its subject keys match
// (h.subj, the subject condition read on the collected row) or one of its
// messages holds every word.
//
// A walk checks the whole search on each thread, and so does a probe on
// each thread it collects (its candidates are few). A collected search
// collects the threads whose subject keys or message words match, which
// the GIN index answers with the markers, and leaves the check of its
// messages to the sorted matches, as many as a page needs.
func (s *Store) listConds(q *store.ThreadQuery, plan listPlan, window []string, arg func(any) string) (w listWhere) {
	collect := plan == collectSearch || plan == collectAll || plan == probeSearch
	if collect {
		w.conds, w.rows = s.markedConds(q, plan == collectAll, arg)
		if len(window) > 0 {
			w.conds = append(w.conds, "filter_keys && "+arg(window)+"::text[]")
		}
	} else {
		w.conds = filterConds(q, arg)
	}
	if q.After != nil {
		cursor := "(" + listOrder + ") > (" + arg(!q.After.Favourite) + ", " + arg(listRank(q.After.SortTime)) + ", " + arg(q.After.ID) + ")"
		if collect {
			w.rows = append(w.rows, cursor)
		} else {
			w.conds = append(w.conds, cursor)
		}
	}
	if q.Search.IsZero() {
		return w
	}
	subjectKeys, message := searchKeys(s.tenant, q.Search)
	w.subject = "search_keys @> " + arg(subjectKeys) + "::text[]"
	w.match = w.subject
	if len(message) == 0 {
		return w
	}
	mk := arg(message) + "::text[]"
	if len(message) == 1 {
		w.match = "(" + w.subject + " OR message_words @> " + mk + ")"
		return w
	}
	// The thread holds every word; check that one message does. OFFSET 0
	// keeps each check a per-row probe of the thread's row and messages:
	// without it PostgreSQL may hash every matching thread or message of
	// the tenant first.
	if plan == collectSearch || plan == collectAll {
		w.match = "(" + w.subject + " OR message_words @> " + mk + ")"
		w.check = "(h.subj OR EXISTS (SELECT 1 FROM parley_messages m WHERE m.tenant_id = $1 AND m.thread_id = h.id AND m.search_words @> " + mk + " OFFSET 0))"
		return w
	}
	w.match = "(" + w.subject + " OR (message_words @> " + mk + " AND EXISTS (SELECT 1 FROM parley_messages m WHERE m.tenant_id = $1" +
		" AND m.thread_id = parley_threads.id AND m.search_words @> " + mk + " OFFSET 0)))"
	return w
}

// Counters implements store.Store: one pass over the unread index, grouped
// by category (T15).
func (s *Store) Counters(ctx context.Context, now time.Time) (store.Counters, error) {
	if err := ctx.Err(); err != nil {
		return store.Counters{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT subject_kind, count(*) FROM parley_threads
		WHERE tenant_id = $1 AND NOT dormant AND unread > 0 AND NOT archived
			AND NOT (muted AND (muted_until IS NULL OR muted_until > $2))
		GROUP BY subject_kind`, s.tenant, now)
	if err != nil {
		return store.Counters{}, mapErr(ctx, "counters", err)
	}
	var c store.Counters
	var kind int16
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&kind, &n}, func() error {
		c.Add(store.SubjectKind(kind), int(n))
		return nil
	})
	if err != nil {
		return store.Counters{}, mapErr(ctx, "counters", err)
	}
	return c, nil
}
