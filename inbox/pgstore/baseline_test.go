package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/inbox/store"
)

// The thread list and search of schema version 5 (before the filter
// markers of migration 6), kept for the benchmarks, which run it beside
// Threads in the same run as its baseline. It reads the same tables; its
// search windows need the index BaselineIndex creates (the list-rank index
// migration 6 replaced), which only the benchmarks' schemas have. The
// search keys it queries are entries of the GIN index of migration 6 as
// they were of the two indexes that index replaced.

// BaselineIndex is the index the baseline's search windows read.
const BaselineIndex = `CREATE INDEX IF NOT EXISTS parley_threads_rank_baseline ON parley_threads (tenant_id, list_rank) WHERE NOT dormant`

// ThreadsBaseline reads a page of threads as Threads did at schema version
// 5.
func (s *Store) ThreadsBaseline(ctx context.Context, q store.ThreadQuery) ([]store.Thread, error) {
	if q.Limit < 1 {
		return nil, invalid("thread query limit %d", q.Limit)
	}
	plan, matches, err := s.baseThreadsPlan(ctx, &q)
	if err != nil {
		return nil, err
	}
	if plan == collectSearch && matches > baseWindowPages*float64(q.Limit) {
		k, err := s.baseWindowSize(ctx, &q, matches)
		if err != nil {
			return nil, err
		}
		if k <= baseWindowMax {
			return s.baseReadWindowed(ctx, &q, k)
		}
	}
	return s.baseReadThreads(ctx, &q, plan, nil)
}

func (s *Store) baseReadThreads(ctx context.Context, q *store.ThreadQuery, plan listPlan, cut *int64) ([]store.Thread, error) {
	sql, args := s.baseThreadsSQL(q, plan, cut)
	if plan != walkList {
		args = append([]any{pgx.QueryExecModeDescribeExec}, args...)
	}
	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, mapErr(ctx, "threads", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Thread, error) { return scanThread(r) })
	if err != nil {
		return nil, mapErr(ctx, "threads", err)
	}
	return out, nil
}

// baseMaxCollected is the estimated number of matching threads from which a
// search walks the list instead of collecting and sorting its matches.
// Walking costs about Limit × threads / matches row checks in each
// lifecycle and category range, and far more in a range the matches avoid
// (a family name in the audience range); collecting inside a window (see
// baseReadWindowed) costs a few GIN and B-tree bitmaps and a few pages of heap
// visits, whatever the number of matches.
const baseMaxCollected = 100000

// Search windows (baseReadWindowed): a collecting search first looks among
// the favourites and the newest threads of the list, as many as should
// hold baseWindowPages pages of matches, and widens the window by baseWindowGrowth
// before it collects every match. Finding a window's boundary reads its
// entries of the (tenant, list rank) index, so windows span at most
// baseWindowMax entries: a search whose matches are too few for that (or that
// the statistics do not know, which they estimate low) collects them all.
const (
	baseWindowPages  = 4
	baseWindowGrowth = 8
	baseWindowMax    = 25000
)

// baseWindowSize returns the number of list entries (from q.After on) a search
// window spans to hold baseWindowPages pages of the matches q's filters keep,
// by the planner's estimates of the tenant's listed threads, of those the
// filters keep and of the search's matches.
func (s *Store) baseWindowSize(ctx context.Context, q *store.ThreadQuery, matches float64) (int64, error) {
	listed, err := s.baseEstimate(ctx, "tenant_id = $1 AND NOT dormant", s.tenant)
	if err != nil {
		return 0, err
	}
	args := []any{s.tenant}
	conds := baseFilterConds(q, func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	})
	kept, err := s.baseEstimate(ctx, strings.Join(conds, " AND "), args...)
	if err != nil {
		return 0, err
	}
	// A window of k listed threads holds about k × matches/listed ×
	// kept/listed matches that the filters keep.
	k := baseWindowPages * float64(q.Limit) * listed / max(matches, 1) * listed / max(kept, 1)
	return int64(min(k, math.MaxInt32)) + int64(q.Limit), nil
}

// baseReadWindowed reads the page of a search with many matches, where
// collecting every match would visit each in the table. It takes the list
// rank of the k-th thread after the cursor from the (tenant, list rank)
// index and collects only the matches that are favourites or rank at most
// that, which PostgreSQL finds by intersecting the GIN bitmaps of the
// search with the bitmaps of the favourite and rank indexes before it
// visits the table. That page is exact when it is full: every match left
// out ranks after every match kept, and favourites come first whatever
// their rank. A page that is not full widens the window, up to baseWindowMax
// entries, and then every match is collected.
func (s *Store) baseReadWindowed(ctx context.Context, q *store.ThreadQuery, k int64) ([]store.Thread, error) {
	for ; k <= baseWindowMax; k *= baseWindowGrowth {
		cut, ok, err := s.baseWindowCut(ctx, q, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			break // the window would hold the rest of the list
		}
		page, err := s.baseReadThreads(ctx, q, collectSearch, &cut)
		if err != nil || len(page) >= q.Limit {
			return page, err
		}
	}
	return s.baseReadThreads(ctx, q, collectSearch, nil)
}

// baseWindowCut returns the list rank of the k-th listed thread after q's
// cursor (favourites aside), read from the (tenant, list rank) index; ok is
// false when fewer threads follow.
func (s *Store) baseWindowCut(ctx context.Context, q *store.ThreadQuery, k int64) (cut int64, ok bool, err error) {
	from := int64(math.MinInt64)
	if q.After != nil && !q.After.Favourite {
		from = listRank(q.After.SortTime)
	}
	err = s.pool.QueryRow(ctx, `SELECT list_rank FROM parley_threads WHERE tenant_id = $1 AND NOT dormant
		AND list_rank >= $2 ORDER BY list_rank OFFSET $3 LIMIT 1`, s.tenant, from, k).Scan(&cut)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, mapErr(ctx, "threads: search window", err)
	}
	return cut, true, nil
}

// estimate returns the planner's estimate of the number of threads that
// match where, from the table's statistics, without reading the table. The
// arguments are sent as literals (simple protocol), so that the estimate
// is for these values and not a cached generic plan's guess.
func (s *Store) baseEstimate(ctx context.Context, where string, args ...any) (float64, error) {
	var js []byte
	err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM parley_threads WHERE "+where,
		append([]any{pgx.QueryExecModeSimpleProtocol}, args...)...).Scan(&js)
	if err != nil {
		return 0, mapErr(ctx, "threads: estimate", err)
	}
	var plans []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 {
		return 0, fmt.Errorf("pgstore: threads: estimate %q: %v", js, err)
	}
	return plans[0].Plan.Rows, nil
}

// baseMaxActiveCollected is the number of threads active inside a visibility
// window from which a query walks the list instead. The walk meets active
// threads early (sort time and activity mostly move together), so it wins
// sooner than in a search, except in a list range that holds fewer than a
// page of them, which it reads to its end: below this count that is the
// likely case, and collecting costs at most this many heap visits.
const baseMaxActiveCollected = 2000

// baseThreadsPlan chooses how q reads the list.
//
// A search asks PostgreSQL's planner how many threads hold its keys: the
// statistics of the search_keys and message_words columns know the
// frequent keys, the estimate costs no index or table read, and a key the
// statistics do not list is rare, so its threads are collected. (Counting
// the matches in the GIN indexes would read every posting of a frequent
// word, which is the cost the walk avoids.) A visibility window counts its
// threads, up to baseMaxActiveCollected, in the activity index alone.
func (s *Store) baseThreadsPlan(ctx context.Context, q *store.ThreadQuery) (plan listPlan, matches float64, err error) {
	switch {
	case !q.Search.IsZero():
		subject, message := searchKeys(s.tenant, q.Search)
		for _, k := range slices.Concat(subject, message) {
			// The estimate sends the keys as literals, which the protocol
			// ends at a NUL; PostgreSQL text cannot hold one anyway.
			if strings.IndexByte(k, 0) >= 0 {
				return walkList, 0, invalid("search %q: NUL byte", k)
			}
		}
		where, args := "search_keys @> $1::text[]", []any{subject}
		if len(message) > 0 {
			where += " OR message_words @> $2::text[]"
			args = append(args, message)
		}
		matches, err := s.baseEstimate(ctx, where, args...)
		if err != nil || matches >= baseMaxCollected {
			return walkList, matches, err
		}
		return collectSearch, matches, nil
	case !q.ActiveSince.IsZero():
		var n int
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM parley_threads
			WHERE tenant_id = $1 AND NOT dormant AND last_activity_at >= $2 LIMIT $3) AS active`,
			s.tenant, q.ActiveSince, baseMaxActiveCollected).Scan(&n)
		if err != nil {
			return walkList, 0, mapErr(ctx, "threads: active count", err)
		}
		if n < baseMaxActiveCollected {
			return collectActive, float64(n), nil
		}
	}
	return walkList, 0, nil
}

// baseFilterConds returns the conditions of q's status, assignee and window
// filters on parley_threads, the tenant being $1; arg adds an argument and
// returns its placeholder.
func baseFilterConds(q *store.ThreadQuery, arg func(any) string) []string {
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

// baseThreadsSQL builds the list query of q read as plan, and its arguments.
func (s *Store) baseThreadsSQL(q *store.ThreadQuery, plan listPlan, cut *int64) (string, []any) {
	args := []any{s.tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	conds := baseFilterConds(q, arg)
	if q.After != nil {
		conds = append(conds, "("+listOrder+") > ("+arg(!q.After.Favourite)+", "+arg(listRank(q.After.SortTime))+", "+arg(q.After.ID)+")")
	}
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

	if !q.Search.IsZero() {
		subject, message := searchKeys(s.tenant, q.Search)
		sk := arg(subject) + "::text[]"
		match, mk := "search_keys @> "+sk, ""
		if len(message) > 0 {
			mk = arg(message) + "::text[]"
			words := "message_words @> " + mk
			if len(message) > 1 {
				// The thread holds every word; check that one message
				// does. OFFSET 0 keeps the check a per-row probe of the
				// thread's messages: without it PostgreSQL may hash every
				// matching message of the tenant first.
				words = "(" + words + " AND EXISTS (SELECT 1 FROM parley_messages m WHERE m.tenant_id = $1" +
					" AND m.thread_id = parley_threads.id AND m.search_words @> " + mk + " OFFSET 0))"
			}
			match = "(" + match + " OR " + words + ")"
		}
		conds = append(conds, match)
	}
	if plan != walkList {
		// The matches are collected with their order keys only, from the
		// indexes the planner picks for the search or the window (the
		// materialised CTE has no order to walk an index in), sorted, and
		// the page's threads are then fetched by primary key.
		if cut != nil {
			conds = append(conds, "(favourite OR list_rank <= "+arg(*cut)+")")
		}
		if q.Lifecycle == store.AnyLifecycle && q.Category != 0 {
			// Always true, but it lets a list index give the category's
			// threads as two ranges (open and closed) for the planner to
			// intersect with the search's bitmaps, instead of a scan of the
			// whole tenant range.
			conds = append(conds, "closed = ANY('{false,true}')")
		}
		return "WITH hits AS MATERIALIZED (SELECT id, list_pin, list_rank FROM parley_threads WHERE " +
			strings.Join(conds, " AND ") + ") SELECT " + threadCols + " FROM parley_threads WHERE tenant_id = $1 AND id IN (" +
			"SELECT id FROM hits ORDER BY " + listOrder + " LIMIT " + limit + ") ORDER BY " + listOrder, args
	}

	where := strings.Join(conds, " AND ")
	if len(lifecycles) == 1 && len(kinds) == 1 {
		// baseFilterConds holds the one lifecycle and category.
		return "SELECT " + threadCols + " FROM parley_threads WHERE " + where + " ORDER BY " + listOrder + " LIMIT " + limit, args
	}
	// Each branch reads its first page from its index range; the outer
	// query merges at most Limit rows of each. A lifecycle or category
	// the query fixes is in baseFilterConds already.
	var branches []string
	for _, l := range lifecycles {
		for _, k := range kinds {
			branch := where
			if len(lifecycles) > 1 {
				branch += " AND " + l
			}
			if len(kinds) > 1 {
				branch += " AND subject_kind = " + k
			}
			branches = append(branches, "(SELECT "+threadCols+", list_pin, list_rank FROM parley_threads WHERE "+
				branch+" ORDER BY "+listOrder+" LIMIT "+limit+")")
		}
	}
	return "SELECT " + threadCols + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS t ORDER BY " +
		listOrder + " LIMIT " + limit, args
}
