package pgstore

import (
	"context"
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
	sql, args := s.threadsSQL(&q, plan)
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
// about a heap fetch per match, walking about Limit × threads / matches
// row checks, and both stay in a few milliseconds up to here at a million
// threads.
const maxCollected = 5000

// threadsPlan chooses how q reads the list: it counts, from the indexes
// alone and up to maxCollected, the threads the search or the visibility
// window keeps.
func (s *Store) threadsPlan(ctx context.Context, q *store.ThreadQuery) (listPlan, error) {
	var (
		sql  string
		args []any
		plan listPlan
	)
	switch {
	case !q.Search.IsZero():
		// The keys carry the tenant, so the count needs no heap column and
		// PostgreSQL counts all-visible pages from the bitmap alone.
		subject, message := searchKeys(s.tenant, q.Search)
		sql, args, plan = "search_keys @> $1::text[]", []any{subject, maxCollected}, collectSearch
		if len(message) > 0 {
			sql += " OR message_words @> $3::text[]"
			args = append(args, message)
		}
	case !q.ActiveSince.IsZero():
		sql, args, plan = "tenant_id = $3 AND NOT dormant AND last_activity_at >= $1", []any{q.ActiveSince, maxCollected, s.tenant}, collectActive
	default:
		return walkList, nil
	}
	var n int
	err := s.pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM parley_threads WHERE "+sql+" LIMIT $2) AS hits", args...).Scan(&n)
	if err != nil {
		return walkList, mapErr(ctx, "threads: count", err)
	}
	if n >= maxCollected {
		return walkList, nil
	}
	return plan, nil
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
		if plan == collectActive {
			conds = append(conds, "id = ANY(ARRAY(SELECT id FROM parley_threads WHERE tenant_id = $1 AND NOT dormant"+
				" AND last_activity_at >= "+since+"))")
		}
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
		if plan == collectSearch {
			// ARRAY(…) collects the candidates from the GIN indexes once;
			// the threads are then fetched by primary key and sorted.
			cand := "search_keys @> " + sk
			if mk != "" {
				cand += " OR message_words @> " + mk
			}
			conds = append(conds, "id = ANY(ARRAY(SELECT id FROM parley_threads WHERE tenant_id = $1 AND ("+cand+")))")
		}
	}
	if plan != walkList {
		conds = append(conds, "("+strings.Join(lifecycles, " OR ")+")", "subject_kind IN ("+strings.Join(kinds, ", ")+")")
		return "SELECT " + threadCols + " FROM parley_threads WHERE " + strings.Join(conds, " AND ") +
			" ORDER BY " + listOrder + " LIMIT " + limit, args
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
