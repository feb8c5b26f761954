package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// revertVersion6 takes a schema at version 6 back to version 5 as that
// version left it: no filter markers, a GIN index per key column and the
// list-rank index of search windows.
var revertVersion6 = []string{
	"DROP INDEX parley_threads_keys",
	"DROP INDEX parley_threads_order",
	"ALTER TABLE parley_threads DROP COLUMN filter_keys",
	"CREATE INDEX parley_threads_search ON parley_threads USING gin (search_keys)",
	"CREATE INDEX parley_threads_message_words ON parley_threads USING gin (message_words)",
	"CREATE INDEX parley_threads_rank ON parley_threads (tenant_id, list_rank) WHERE NOT dormant",
	"DELETE FROM parley_schema_migrations WHERE version = 6",
}

// migrationSchema returns a pool on a new, migrated schema of the test
// server, dropped when t ends.
func migrationSchema(t *testing.T, name string) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	server.Require(t)
	admin := server.Pool(t)
	schema := pgx.Identifier{fmt.Sprintf("%s_%d", name, time.Now().UnixNano())}.Sanitize()
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })
	cfg, err := pgxpool.ParseConfig(server.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = schema
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// TestMigrateVersion6 takes a database written at schema version 5 (no
// filter markers) to version 6 with Migrate, twice: the markers of the
// existing threads are computed, so that searches inside every filter
// (T11, T12, T13) give memstore's pages, and running the migration again
// on a schema it already changed changes nothing.
func TestMigrateVersion6(t *testing.T) {
	ctx := context.Background()
	pool := migrationSchema(t, "migrate_v6")
	s, err := pgstore.Open(ctx, pool, "studio")
	if err != nil {
		t.Fatal(err)
	}
	ref := memstore.New()
	for _, stmt := range revertVersion6 {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	// The rows as version 5 wrote them: WriteThread's statements do not
	// name filter_keys, which a version 5 table does not have.
	writeFilterThreads(t, s, ref)
	if _, err := pgstore.Open(ctx, pool, "studio"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Open on version 5 = %v, want ErrNotMigrated", err)
	}
	for run := range 2 {
		if run == 1 {
			if _, err := pool.Exec(ctx, "DELETE FROM parley_schema_migrations WHERE version = 6"); err != nil {
				t.Fatal(err)
			}
		}
		if err := pgstore.Migrate(ctx, pool); err != nil {
			t.Fatalf("migration run %d: %v", run+1, err)
		}
		if s, err = pgstore.Open(ctx, pool, "studio"); err != nil {
			t.Fatal(err)
		}
		for _, typed := range []string{"dupont", "annulation spa"} {
			for _, q := range filterQueries() {
				q.Search, q.Limit = textindex.ParseQuery(typed), 100
				want, err := ref.Threads(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.ThreadsWithPlan(ctx, q, pgstore.PlanCollectSearch)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(threadIDs(got), threadIDs(want)) {
					t.Errorf("run %d, %q in %s: %v, memstore: %v", run+1, typed, filterName(q), threadIDs(got), threadIDs(want))
				}
			}
		}
	}
}
