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
// With a search, the matching threads are found through the GIN indexes of
// subject keys and message words, then filtered and ordered.
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
	walk := false
	if !q.Search.IsZero() {
		n, err := s.searchMatches(ctx, q.Search)
		if err != nil {
			return nil, err
		}
		walk = n >= maxCollected
	}
	sql, args := s.threadsSQL(&q, walk)
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

// threadsSQL builds the list query of q and its arguments. A search either
// collects the matching threads from the GIN indexes and sorts them (walk
// false: few matches), or walks the list in order and checks each thread
// (walk true: many matches, so a page is found after a few threads).
func (s *Store) threadsSQL(q *store.ThreadQuery, walk bool) (string, []any) {
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
		conds = append(conds, "last_activity_at >= "+arg(q.ActiveSince))
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
		if walk {
			match := "search_keys @> " + sk
			if len(message) > 0 {
				match += " OR EXISTS (SELECT 1 FROM parley_messages m WHERE m.tenant_id = $1 AND m.thread_id = parley_threads.id" +
					" AND m.search_words @> " + arg(message) + "::text[])"
			}
			conds = append(conds, "("+match+")")
		} else {
			cand := "SELECT id FROM parley_threads WHERE tenant_id = $1 AND search_keys @> " + sk
			if len(message) > 0 {
				cand += " UNION SELECT thread_id FROM parley_messages WHERE tenant_id = $1 AND search_words @> " + arg(message) + "::text[]"
			}
			// ARRAY(…) runs the candidate search once and the threads are
			// then fetched by primary key.
			conds = append(conds, "("+strings.Join(lifecycles, " OR ")+")", "subject_kind IN ("+strings.Join(kinds, ", ")+")",
				"id = ANY(ARRAY("+cand+"))")
			return "SELECT " + threadCols + " FROM parley_threads WHERE " + strings.Join(conds, " AND ") +
				" ORDER BY " + listOrder + " LIMIT " + limit, args
		}
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

// maxCollected is the number of search matches (subject or message hits)
// from which a search walks the list instead of collecting and sorting its
// matches: collecting costs about a heap fetch per match, walking about
// Limit × threads / matches checks.
const maxCollected = 5000

// searchMatches counts the index hits of a search, up to maxCollected.
func (s *Store) searchMatches(ctx context.Context, q store.Search) (int, error) {
	subject, message := searchKeys(s.tenant, q)
	sql := "SELECT id FROM parley_threads WHERE tenant_id = $1 AND search_keys @> $2::text[]"
	args := []any{s.tenant, subject, maxCollected}
	if len(message) > 0 {
		sql += " UNION ALL SELECT thread_id FROM parley_messages WHERE tenant_id = $1 AND search_words @> $4::text[]"
		args = append(args, message)
	}
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM ("+sql+" LIMIT $3) AS hits", args...).Scan(&n); err != nil {
		return 0, mapErr(ctx, "search", err)
	}
	return n, nil
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
