package pgstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// revertVersion8 takes a schema at version 8 back to version 7: no list
// index of the muted or favourite threads by assignee.
var revertVersion8 = []string{
	"DROP INDEX parley_threads_list_muted_assignee",
	"DROP INDEX parley_threads_list_favourite_assignee",
	"DELETE FROM parley_schema_migrations WHERE version = 8",
}

// TestMigrateVersion8 takes a database written at schema version 7 to
// version 8 with Migrate, twice: a walk of a search among the muted or
// favourite threads of one agent, or the unassigned ones (T11, T12, T13),
// then reads the new list index of its filters in order instead of every
// muted or favourite thread of the range, and every walk still gives
// memstore's pages; running the migration again on a schema it already
// changed changes nothing.
func TestMigrateVersion8(t *testing.T) {
	ctx := context.Background()
	pool := migrationSchema(t, "migrate_v8")
	s, err := pgstore.Open(ctx, pool, "studio")
	if err != nil {
		t.Fatal(err)
	}
	ref := memstore.New()
	for _, stmt := range revertVersion8 {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	writeFilterThreads(t, s, ref)
	if _, err := pgstore.Open(ctx, pool, "studio"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Open on version 7 = %v, want ErrNotMigrated", err)
	}
	walkIndex := func(q store.ThreadQuery) string {
		t.Helper()
		sql, args := s.PlanSQL(q, pgstore.PlanWalk)
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		// A few threads: without this the planner reads the table.
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(ctx, "EXPLAIN (COSTS OFF) "+sql, args...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(lines, "\n")
	}
	for run := range 2 {
		if run == 1 {
			if _, err := pool.Exec(ctx, "DELETE FROM parley_schema_migrations WHERE version = 8"); err != nil {
				t.Fatal(err)
			}
		}
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatalf("migration run %d: %v", run+1, err)
		}
		if s, err = pgstore.Open(ctx, pool, "studio"); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			q     store.ThreadQuery
			index string
		}{
			{store.ThreadQuery{Status: store.Muted, Assignee: "agent-1", Lifecycle: store.Open, Category: store.Contact}, "parley_threads_list_muted_assignee"},
			{store.ThreadQuery{Status: store.Muted, Unassigned: true, Lifecycle: store.Closed, Category: store.Contact}, "parley_threads_list_muted_assignee"},
			{store.ThreadQuery{Status: store.Favourites, Assignee: "agent-1", Lifecycle: store.Open, Category: store.Contact}, "parley_threads_list_favourite_assignee"},
		} {
			q := tc.q
			q.Search, q.Now, q.Limit = textindex.ParseQuery("annulation spa"), t0, 4
			if plan := walkIndex(q); !strings.Contains(plan, "Index Scan using "+tc.index+" ") {
				t.Errorf("run %d, walk of %s: want an index scan of %s, plan:\n%s", run+1, filterName(q), tc.index, plan)
			}
		}
		for _, typed := range []string{"dupont", "annulation spa"} {
			for _, q := range filterQueries() {
				q.Search, q.Limit = textindex.ParseQuery(typed), 4
				want := pages(t, q, func(q store.ThreadQuery) ([]store.Thread, error) { return ref.Threads(ctx, q) })
				got := pages(t, q, func(q store.ThreadQuery) ([]store.Thread, error) { return s.ThreadsWithPlan(ctx, q, pgstore.PlanWalk) })
				if !slices.Equal(got, want) {
					t.Errorf("run %d, %q in %s: %v, memstore: %v", run+1, typed, filterName(q), got, want)
				}
			}
		}
	}
}
