package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
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
// by assignee, unread, unread by assignee, favourites, muted; see the
// migration), whose leading columns are the tenant, the archived flag, the
// lifecycle and the category, followed by the list order. A query with
// "any" lifecycle or category is a UNION ALL of one branch per value, each
// reading at most Limit entries from the front of its index range, merged
// and cut to Limit, so a first page reads at most six times Limit index
// entries whatever the filters.
//
// A search or a visibility window (T17) that keeps few threads collects
// them from an index (the GIN indexes of subject keys and message words,
// or the activity index) and sorts them; one that keeps many walks the list
// as above and checks each thread on its row, which finds a page after a
// few threads.
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
	plan, err := s.threadsPlan(ctx, &q)
	if err != nil {
		return nil, err
	}
	return s.readThreads(ctx, &q, plan)
}

// readThreads reads the page of q as plan says.
func (s *Store) readThreads(ctx context.Context, q *store.ThreadQuery, plan listPlan) ([]store.Thread, error) {
	sql, args := s.threadsSQL(q, plan)
	if plan != walkList {
		// A collecting query is planned for its own values (an unnamed
		// statement): a cached generic plan would guess how many threads
		// the search or the window keeps instead of reading the statistics.
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
	// collectSearch collects the threads that match the search and sorts
	// them.
	collectSearch
	// collectActive collects the threads active inside the visibility
	// window and sorts them.
	collectActive
)

// maxCollected is the number of matching threads from which a query walks
// the list instead of collecting and sorting its matches: collecting costs
// a heap visit per match, walking about Limit × threads / matches row
// checks in each lifecycle and category range, and at a million threads
// both take about as long here.
const maxCollected = 15000

// maxActiveCollected is the number of threads active inside a visibility
// window from which a query walks the list instead. The walk meets active
// threads early (sort time and activity mostly move together), so it wins
// sooner than in a search, except in a list range that holds fewer than a
// page of them, which it reads to its end: below this count that is the
// likely case, and collecting costs at most this many heap visits.
const maxActiveCollected = 2000

// threadsPlan chooses how q reads the list.
//
// A search asks PostgreSQL's planner how many threads hold its keys: the
// statistics of the search_keys and message_words columns know the
// frequent keys, the estimate costs no index or table read, and a key the
// statistics do not list is rare, so its threads are collected. (Counting
// the matches in the GIN indexes would read every posting of a frequent
// word, which is the cost the walk avoids.) A visibility window counts its
// threads, up to maxActiveCollected, in the activity index alone.
func (s *Store) threadsPlan(ctx context.Context, q *store.ThreadQuery) (listPlan, error) {
	switch {
	case !q.Search.IsZero():
		subject, message := searchKeys(s.tenant, q.Search)
		for _, k := range slices.Concat(subject, message) {
			// The estimate sends the keys as literals, which the protocol
			// ends at a NUL; PostgreSQL text cannot hold one anyway.
			if strings.IndexByte(k, 0) >= 0 {
				return walkList, invalid("search %q: NUL byte", k)
			}
		}
		sql, args := "search_keys @> $1::text[]", []any{pgx.QueryExecModeSimpleProtocol, subject}
		if len(message) > 0 {
			sql += " OR message_words @> $2::text[]"
			args = append(args, message)
		}
		var js []byte
		if err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) SELECT 1 FROM parley_threads WHERE "+sql, args...).Scan(&js); err != nil {
			return walkList, mapErr(ctx, "threads: search estimate", err)
		}
		var plans []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			}
		}
		if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 {
			return walkList, fmt.Errorf("pgstore: threads: search estimate %q: %v", js, err)
		}
		if plans[0].Plan.Rows < maxCollected {
			return collectSearch, nil
		}
		return walkList, nil
	case !q.ActiveSince.IsZero():
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
	}
	return walkList, nil
}

// threadsSQL builds the list query of q read as plan, and its arguments.
func (s *Store) threadsSQL(q *store.ThreadQuery, plan listPlan) (string, []any) {
	args := []any{s.tenant}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
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
		since := arg(q.ActiveSince)
		conds = append(conds, "last_activity_at >= "+since)
	}
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
		if len(lifecycles) == 1 {
			conds = append(conds, lifecycles[0])
		}
		if len(kinds) == 1 {
			conds = append(conds, "subject_kind = "+kinds[0])
		}
		return "WITH hits AS MATERIALIZED (SELECT id, list_pin, list_rank FROM parley_threads WHERE " +
			strings.Join(conds, " AND ") + ") SELECT " + threadCols + " FROM parley_threads WHERE tenant_id = $1 AND id IN (" +
			"SELECT id FROM hits ORDER BY " + listOrder + " LIMIT " + limit + ") ORDER BY " + listOrder, args
	}

	where := strings.Join(conds, " AND ")
	if len(lifecycles) == 1 && len(kinds) == 1 {
		return "SELECT " + threadCols + " FROM parley_threads WHERE " + where + " AND " + lifecycles[0] +
			" AND subject_kind = " + kinds[0] + " ORDER BY " + listOrder + " LIMIT " + limit, args
	}
	// Each branch reads its first page from its index range; the outer
	// query merges at most Limit rows of each.
	var branches []string
	for _, l := range lifecycles {
		for _, k := range kinds {
			branches = append(branches, "(SELECT "+threadCols+", list_pin, list_rank FROM parley_threads WHERE "+
				where+" AND "+l+" AND subject_kind = "+k+" ORDER BY "+listOrder+" LIMIT "+limit+")")
		}
	}
	return "SELECT " + threadCols + " FROM (" + strings.Join(branches, " UNION ALL ") + ") AS t ORDER BY " +
		listOrder + " LIMIT " + limit, args
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
		if store.SubjectKind(kind).Valid() {
			c.ByCategory[kind] += int(n)
			c.Attention += int(n)
		}
		return nil
	})
	if err != nil {
		return store.Counters{}, mapErr(ctx, "counters", err)
	}
	return c, nil
}
