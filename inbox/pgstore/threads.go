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
// "any" lifecycle or category is a UNION ALL of one branch per value, which
// PostgreSQL merges in order (Merge Append), so the first page reads about
// Limit index entries whatever the filters.
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
	sql, args := s.threadsSQL(&q)
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

// threadsSQL builds the list query of q and its arguments.
func (s *Store) threadsSQL(q *store.ThreadQuery) (string, []any) {
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
		cand := "SELECT id FROM parley_threads WHERE tenant_id = $1 AND search_keys @> " + arg(subject) + "::text[]"
		if len(message) > 0 {
			cand += " UNION SELECT thread_id FROM parley_messages WHERE tenant_id = $1 AND search_words @> " + arg(message) + "::text[]"
		}
		var lc, kc []string
		for _, l := range lifecycles {
			lc = append(lc, "("+l+")")
		}
		kc = kinds
		conds = append(conds, "("+strings.Join(lc, " OR ")+")", "subject_kind IN ("+strings.Join(kc, ", ")+")", "id IN ("+cand+")")
		return "SELECT " + threadCols + " FROM parley_threads WHERE " + strings.Join(conds, " AND ") +
			" ORDER BY " + listOrder + " LIMIT " + limit, args
	}

	where := strings.Join(conds, " AND ")
	if len(lifecycles) == 1 && len(kinds) == 1 {
		return "SELECT " + threadCols + " FROM parley_threads WHERE " + where + " AND " + lifecycles[0] +
			" AND subject_kind = " + kinds[0] + " ORDER BY " + listOrder + " LIMIT " + limit, args
	}
	var branches []string
	for _, l := range lifecycles {
		for _, k := range kinds {
			branches = append(branches, "SELECT "+threadCols+", list_pin, list_rank FROM parley_threads WHERE "+
				where+" AND "+l+" AND subject_kind = "+k)
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
