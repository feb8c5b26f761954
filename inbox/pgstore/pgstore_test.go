package pgstore_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/pgstore/internal/pgtest"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/storetest"
)

// server is the PostgreSQL server of this test binary, started by TestMain.
var server *pgtest.Server

func TestMain(m *testing.M) {
	flag.Parse()
	server = pgtest.Start()
	if err := server.Err(); err != nil {
		if pgtest.Required() {
			fmt.Fprintf(os.Stderr, "pgstore: %s=1 but no PostgreSQL server: %v\n", pgtest.EnvRequire, err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, server.SkipNotice("pgstore"))
		// Examples cannot skip; leave them out when there is no server.
		skip := "^Example"
		if f := flag.Lookup("test.skip"); f != nil && f.Value.String() != "" {
			skip += "|" + f.Value.String()
		}
		_ = flag.Set("test.skip", skip)
	} else {
		// Examples open the server through the environment, as a host would.
		_ = os.Setenv(pgtest.EnvDSN, server.DSN)
		ctx := context.Background()
		pool, err := pgtest.NewPool(ctx, server.DSN)
		if err == nil {
			err = pgstore.Migrate(ctx, pool)
			pool.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgstore: migrate:", err)
			server.Close()
			os.Exit(1)
		}
	}
	code := m.Run()
	server.Close()
	os.Exit(code)
}

// newTenant returns a tenant name no other test uses.
func newTenant(t testing.TB) string {
	return fmt.Sprintf("test-%s-%s", t.Name(), rand.Text()[:10])
}

// openStore opens a store on a fresh tenant of pool.
func openStore(t testing.TB, pool *pgxpool.Pool) *pgstore.Store {
	t.Helper()
	s, err := pgstore.Open(context.Background(), pool, newTenant(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the whole store conformance suite (T1–T20, M1–M6,
// R5, S2–S5, C8 and the contract's promises) on PostgreSQL. Every subtest
// gets a fresh tenant of one shared database, so that every scenario also
// runs beside the others' rows.
func TestConformance(t *testing.T) {
	pool := server.Pool(t)
	storetest.Run(t, func(t *testing.T) store.Store { return openStore(t, pool) })
}
