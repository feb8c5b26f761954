package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// TestMigrateVersion4 takes a database whose provider IDs were one
// namespace for both directions (before version 4) to version 4 with
// Migrate: the inbound messages' claims leave parley_provider_ids, an
// inbound message may then carry an outbound delivery's provider ID (M5 per
// direction), inbound duplicates are still refused, and messages get a
// Truncated flag that is false for the old ones.
func TestMigrateVersion4(t *testing.T) {
	ctx := context.Background()
	server.Require(t)
	admin := server.Pool(t)
	schema := pgx.Identifier{fmt.Sprintf("migrate_v4_%d", time.Now().UnixNano())}.Sanitize()
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
	s, err := pgstore.Open(ctx, pool, "hotel")
	if err != nil {
		t.Fatal(err)
	}
	th := store.Thread{ID: "t", Subject: store.Subject{Kind: store.Contact, ID: "c"}, CreatedAt: t0, SortTime: t0, LastActivityAt: t0}
	write := func(w store.ThreadWrite) error {
		t.Helper()
		cur, err := s.Thread(ctx, th.ID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			t.Fatal(err)
		default:
			w.Thread = cur
		}
		if w.Thread.ID == "" {
			w.Thread = th
		}
		return s.WriteThread(ctx, w)
	}
	in := &store.Message{ID: "in", ThreadID: "t", Direction: store.Inbound, Kind: channel.Email, ProviderID: "<in@x>", CreatedAt: t0}
	if err := write(store.ThreadWrite{Message: in}); err != nil {
		t.Fatal(err)
	}
	out := &store.Message{ID: "out", ThreadID: "t", Direction: store.Outbound, Kind: channel.Email, ProviderID: "<out@x>", CreatedAt: t0}
	del := store.Delivery{ID: "d", MessageID: "out", ThreadID: "t", Kind: channel.Email, ProviderID: "<out@x>", Status: status.Record{Current: status.Validated}}
	if err := write(store.ThreadWrite{Message: out, Deliveries: []store.Delivery{del}}); err != nil {
		t.Fatal(err)
	}
	// Back to version 3 as the earlier versions left it: one namespace.
	for _, stmt := range []string{
		"ALTER TABLE parley_messages DROP COLUMN truncated",
		"DROP INDEX parley_messages_inbound_provider",
		"CREATE UNIQUE INDEX parley_messages_provider ON parley_messages (tenant_id, provider_id) WHERE provider_id IS NOT NULL",
		"INSERT INTO parley_provider_ids (tenant_id, provider_id, message_id, message_claim) SELECT tenant_id, provider_id, id, true FROM parley_messages WHERE direction = 1",
		"DELETE FROM parley_schema_migrations WHERE version >= 4", // later versions run again
	} {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := pgstore.Open(ctx, pool, "hotel"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Open before version 4 = %v, want ErrNotMigrated", err)
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if s, err = pgstore.Open(ctx, pool, "hotel"); err != nil {
		t.Fatal(err)
	}
	var claims int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM parley_provider_ids WHERE message_id = 'in'").Scan(&claims); err != nil || claims != 0 {
		t.Fatalf("inbound claims left in parley_provider_ids: %d (%v)", claims, err)
	}
	redirect := &store.Message{ID: "in2", ThreadID: "t", Direction: store.Inbound, Kind: channel.Email, ProviderID: "<out@x>", CreatedAt: t0, Truncated: true}
	if err := write(store.ThreadWrite{Message: redirect}); err != nil {
		t.Fatalf("M5: an inbound message with an outbound provider ID after migration: %v", err)
	}
	dup := &store.Message{ID: "in3", ThreadID: "t", Direction: store.Inbound, Kind: channel.Email, ProviderID: "<in@x>", CreatedAt: t0}
	if err := write(store.ThreadWrite{Message: dup}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("M5: an inbound duplicate after migration: err = %v, want ErrDuplicate", err)
	}
	again := &store.Message{ID: "out2", ThreadID: "t", Direction: store.Outbound, Kind: channel.Email, CreatedAt: t0}
	d2 := store.Delivery{ID: "d2", MessageID: "out2", ThreadID: "t", Kind: channel.Email, ProviderID: "<out@x>"}
	if err := write(store.ThreadWrite{Message: again, Deliveries: []store.Delivery{d2}}); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("M5: an outbound duplicate after migration: err = %v, want ErrDuplicate", err)
	}
	for id, want := range map[string]bool{"in": false, "in2": true} {
		m, err := s.Message(ctx, id)
		if err != nil || m.Truncated != want {
			t.Fatalf("message %s: Truncated %v (%v), want %v", id, m.Truncated, err, want)
		}
	}
	if m, err := s.MessageByProviderID(ctx, "<out@x>"); err != nil || m.ID != "in2" {
		t.Fatalf("MessageByProviderID(<out@x>) = %s, %v; want the inbound in2", m.ID, err)
	}
}
