package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// victimApp is the application_name of the connections
// TestOutcomesSurviveKilledConnections kills.
const victimApp = "parley-outbox-victim"

// TestOutcomesSurviveKilledConnections (issue 12, S1): a broadcast runs
// while a second connection terminates every connection of the store's
// pool every 20 ms (pg_terminate_backend), so writes die mid-flight, some
// after PostgreSQL committed them. Afterwards every message the provider
// accepted has its delivery holding its provider ID (before the outbox, a
// probe saw 4 of them left pending), and no message was sent twice.
func TestOutcomesSurviveKilledConnections(t *testing.T) {
	server.Require(t)
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(server.DSN)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = victimApp
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	s := openStore(t, pool)
	killer := server.Pool(t)

	dir := memstore.NewDirectory()
	const members = 120
	var all []recipient.Contact
	for i := range members {
		c := recipient.Contact{ID: fmt.Sprintf("m%03d", i), FirstName: "Membre", Phone: fmt.Sprintf("+336120%05d", i)}
		if err := dir.PutContact(c); err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	dir.PutAudience(store.AudienceInfo{ID: "everyone", Name: "Everyone", Members: all})
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, fake, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001"}}}); err != nil {
		t.Fatal(err)
	}
	in, err := inbox.New(s, inbox.Options{Directory: dir, Channels: reg, Concurrency: 8, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	th, err := in.Start(ctx, store.Subject{Kind: store.Audience, ID: "everyone"})
	if err != nil {
		t.Fatal(err)
	}

	// the killer starts with the first provider call, so that the
	// broadcast's deliveries are recorded, and runs while the broadcast runs
	// (for 5 s at most: on a loaded machine a new connection takes longer
	// than 20 ms to set up, and nothing gets through while it runs)
	stop := make(chan struct{})
	var kills, acceptedWhileKilling atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	fake.FailWhen(func(*channel.Message) error {
		once.Do(func() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				end := time.NewTimer(5 * time.Second)
				defer end.Stop()
				for {
					select {
					case <-stop:
						return
					case <-end.C:
						acceptedWhileKilling.Store(int64(len(fake.Sent())))
						return
					case <-tick.C:
					}
					var n int64
					err := killer.QueryRow(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
						WHERE application_name = $1 AND pid <> pg_backend_pid()) k`, victimApp).Scan(&n)
					if err == nil {
						kills.Add(n)
					}
				}
			}()
		})
		return nil
	})
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Le cours de 18h est annulé"})
	if acceptedWhileKilling.Load() == 0 {
		acceptedWhileKilling.Store(int64(len(fake.Sent())))
	}
	close(stop)
	wg.Wait()
	if err := in.Close(); err != nil { // waits for the outcomes written in the background
		t.Fatal(err)
	}
	t.Logf("Send: %v", err)
	if res.Message.ID == "" {
		t.Fatal("no send got its deliveries recorded")
	}
	sent := fake.Sent()
	t.Logf("%d connections killed; %d of %d deliveries accepted by the provider, %d of them while connections were killed",
		kills.Load(), len(sent), len(res.Deliveries), acceptedWhileKilling.Load())
	if kills.Load() == 0 || len(sent) == 0 {
		t.Fatalf("the test killed %d connections and sent %d messages: nothing was tested", kills.Load(), len(sent))
	}
	seen := map[string]bool{}
	lost := 0
	for _, m := range sent {
		ref := m.Message.Reference
		if seen[ref] {
			t.Errorf("delivery %s was sent twice", ref)
		}
		seen[ref] = true
		d, err := s.Delivery(ctx, ref)
		if err != nil {
			t.Fatal(err)
		}
		if d.ProviderID != m.Receipt.ProviderID || d.Status.Current != status.Validated {
			lost++
			t.Errorf("S1: an accepted message's delivery %s: provider ID %q, status %s; want %s, validated",
				d.ID, d.ProviderID, d.Status.Current, m.Receipt.ProviderID)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d accepted outcomes lost", lost, len(sent))
	}
}

// TestMigrateVersion5 takes a database of version 4 to version 5 with
// Migrate: deliveries get the outbox mark (Sending), zero for the old ones,
// kept and found through SentQuery.SendingBefore afterwards.
func TestMigrateVersion5(t *testing.T) {
	ctx := context.Background()
	server.Require(t)
	admin := server.Pool(t)
	schema := pgx.Identifier{fmt.Sprintf("migrate_v5_%d", time.Now().UnixNano())}.Sanitize()
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
	s, err := pgstore.Open(ctx, pool, "studio")
	if err != nil {
		t.Fatal(err)
	}
	th := store.Thread{ID: "t", Subject: store.Subject{Kind: store.Audience, ID: "a"}, CreatedAt: t0, SortTime: t0, LastActivityAt: t0}
	m := &store.Message{ID: "m", ThreadID: "t", Direction: store.Outbound, Kind: channel.SMS, CreatedAt: t0}
	old := store.Delivery{ID: "old", MessageID: "m", ThreadID: "t", Kind: channel.SMS, CreatedAt: t0, Status: status.Record{Current: status.Pending}}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: m, Deliveries: []store.Delivery{old}}); err != nil {
		t.Fatal(err)
	}
	// Back to version 4 as it was.
	for _, stmt := range slices.Concat(revertVersion6, []string{
		"DROP INDEX parley_deliveries_sending",
		"ALTER TABLE parley_deliveries DROP COLUMN sending",
		"DELETE FROM parley_schema_migrations WHERE version >= 5", // later versions run again
	}) {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := pgstore.Open(ctx, pool, "studio"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Open before version 5 = %v, want ErrNotMigrated", err)
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if s, err = pgstore.Open(ctx, pool, "studio"); err != nil {
		t.Fatal(err)
	}
	d, err := s.Delivery(ctx, "old")
	if err != nil || !d.Sending.IsZero() {
		t.Fatalf("an old delivery after migration: Sending %v (%v), want zero", d.Sending, err)
	}
	d.Sending = t0.Add(time.Minute)
	if err := s.WriteDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := s.Sent(ctx, store.SentQuery{SendingBefore: t0.Add(time.Hour), Limit: 10})
	if err != nil || len(got) != 1 || !got[0].Sending.Equal(d.Sending) {
		t.Fatalf("Sent(SendingBefore) after migration = %+v, %v; want the marked delivery", got, err)
	}
}
