package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/pgstore/internal/pgtest"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// seed writes into s the same thread, message and scheduled delivery IDs and
// provider IDs every tenant of TestTenantIsolation uses.
func seed(t *testing.T, s *pgstore.Store, first string) {
	t.Helper()
	th := store.Thread{ID: "th1", Subject: store.Subject{Kind: store.Contact, ID: "c1"},
		Snapshot: store.Snapshot{FirstName: first, Phone: "+33612345678"}, CreatedAt: t0, SortTime: t0, LastActivityAt: t0, Unread: 1, Messages: 2}
	in := &store.Message{ID: "m1", ThreadID: "th1", Direction: store.Inbound, Kind: channel.SMS, Text: "bonjour " + first,
		ProviderID: "SM1", Unread: true, CreatedAt: t0}
	if err := s.WriteThread(context.Background(), store.ThreadWrite{Thread: th, Message: in}); err != nil {
		t.Fatal(err)
	}
	th.Version = 1
	out := &store.Message{ID: "m2", ThreadID: "th1", Direction: store.Outbound, Kind: channel.SMS, Text: "rappel", CreatedAt: t0}
	d := store.Delivery{ID: "d1", MessageID: "m2", ThreadID: "th1", Kind: channel.SMS, Address: "+33612345678", ProviderID: "SM2",
		DueAt: t0, Anchor: "booking:1", Status: status.Record{Current: status.Scheduled}, CreatedAt: t0}
	if err := s.WriteThread(context.Background(), store.ThreadWrite{Thread: th, Message: out, Deliveries: []store.Delivery{d}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOptOut(context.Background(), channel.SMS, "+33612345678", first == "alice"); err != nil {
		t.Fatal(err)
	}
}

// TestTenantIsolation writes the same IDs and provider IDs in two tenants of
// one database and checks that no method of one tenant's store reads,
// finds, counts, claims or changes the other's rows.
func TestTenantIsolation(t *testing.T) {
	ctx := context.Background()
	pool := server.Pool(t)
	a, b := openStore(t, pool), openStore(t, pool)
	seed(t, a, "alice")
	seed(t, b, "bruno") // same IDs and provider IDs: not duplicates across tenants (M5)

	for _, tc := range []struct {
		s     *pgstore.Store
		mine  string
		other string
		out   bool
	}{{a, "alice", "bruno", true}, {b, "bruno", "alice", false}} {
		th, err := tc.s.Thread(ctx, "th1")
		if err != nil || th.Snapshot.FirstName != tc.mine {
			t.Errorf("%s: thread %+v, %v", tc.mine, th.Snapshot, err)
		}
		live, err := tc.s.LiveThread(ctx, store.Subject{Kind: store.Contact, ID: "c1"})
		if err != nil || live.Snapshot.FirstName != tc.mine {
			t.Errorf("%s: live thread %+v, %v", tc.mine, live.Snapshot, err)
		}
		m, err := tc.s.MessageByProviderID(ctx, "SM1")
		if err != nil || m.Text != "bonjour "+tc.mine {
			t.Errorf("%s: message by provider ID %q, %v", tc.mine, m.Text, err)
		}
		for _, q := range []string{tc.other, "bonjour " + tc.other} {
			got, err := tc.s.Threads(ctx, store.ThreadQuery{Search: textindex.ParseQuery(q), Limit: 10})
			if err != nil || len(got) != 0 {
				t.Errorf("%s: search %q found %d threads of the other tenant (%v)", tc.mine, q, len(got), err)
			}
		}
		got, err := tc.s.Threads(ctx, store.ThreadQuery{Search: textindex.ParseQuery("0612"), Limit: 10})
		if err != nil || len(got) != 1 || got[0].Snapshot.FirstName != tc.mine {
			t.Errorf("%s: phone search: %v, %v", tc.mine, got, err)
		}
		list, err := tc.s.Threads(ctx, store.ThreadQuery{Limit: 10})
		if err != nil || len(list) != 1 {
			t.Errorf("%s: list holds %d threads (%v)", tc.mine, len(list), err)
		}
		c, err := tc.s.Counters(ctx, t0)
		if err != nil || c.Attention != 1 {
			t.Errorf("%s: attention %d (%v)", tc.mine, c.Attention, err)
		}
		sch, err := tc.s.Scheduled(ctx, "booking:1")
		if err != nil || len(sch) != 1 {
			t.Errorf("%s: %d scheduled (%v)", tc.mine, len(sch), err)
		}
		opted, err := tc.s.OptedOut(ctx, channel.SMS, []string{"+33612345678"})
		if err != nil || opted["+33612345678"] != tc.out {
			t.Errorf("%s: opted out %v (%v)", tc.mine, opted, err)
		}
		sent, err := tc.s.Sent(ctx, store.SentQuery{Limit: 10})
		if err != nil || len(sent) != 1 {
			t.Errorf("%s: %d sent (%v)", tc.mine, len(sent), err)
		}
	}
	// a's writes and claims leave b alone
	claimed, err := a.ClaimDue(ctx, t0, t0.Add(time.Minute), 10)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim in a: %d (%v)", len(claimed), err)
	}
	if d, err := b.Delivery(ctx, "d1"); err != nil || !d.ClaimedUntil.IsZero() || d.Version != 1 {
		t.Errorf("a's claim changed b's delivery: %+v, %v", d, err)
	}
	th, _ := a.Thread(ctx, "th1")
	th.Favourite = true
	if err := a.WriteThread(ctx, store.ThreadWrite{Thread: th, ReadAll: true}); err != nil {
		t.Fatal(err)
	}
	if th, _ := b.Thread(ctx, "th1"); th.Favourite || th.Version != 2 {
		t.Errorf("a's write changed b's thread: %+v", th)
	}
	if m, _ := b.Message(ctx, "m1"); !m.Unread {
		t.Error("a's ReadAll marked b's message read")
	}
}

// TestProviderIDNamespace checks the one namespace of provider IDs across
// messages and deliveries (M5), and WriteDelivery's claims when a delivery
// gets or changes its provider ID.
func TestProviderIDNamespace(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	th := store.Thread{ID: "th", Subject: store.Subject{Kind: store.Contact, ID: "c"}, CreatedAt: t0, SortTime: t0}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	write := func(m *store.Message, ds ...store.Delivery) error {
		cur, err := s.Thread(ctx, "th")
		if errors.Is(err, store.ErrNotFound) {
			cur = th
		} else if err != nil {
			return err
		}
		return s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Message: m, Deliveries: ds})
	}
	msg := func(id, pid string) *store.Message {
		return &store.Message{ID: id, ThreadID: "th", Direction: store.Outbound, Kind: channel.SMS, ProviderID: pid, CreatedAt: t0}
	}
	del := func(id, mid, pid string) store.Delivery {
		return store.Delivery{ID: id, MessageID: mid, ThreadID: "th", Kind: channel.SMS, ProviderID: pid, CreatedAt: t0,
			Status: status.Record{Current: status.Validated}}
	}
	// a direct outbound message shares its one delivery's provider ID
	must(write(msg("m1", "P1"), del("d1", "m1", "P1")))
	if d, err := s.DeliveryByProviderID(ctx, "P1"); err != nil || d.ID != "d1" {
		t.Fatalf("delivery by P1: %+v %v", d, err)
	}
	// a message or a delivery reusing a stored provider ID is a duplicate
	if err := write(msg("m2", "P1")); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("message reusing P1: %v", err)
	}
	if err := write(msg("m3", ""), del("d3", "m3", "P1")); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("delivery reusing P1: %v", err)
	}
	if _, err := s.Message(ctx, "m3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a failed write stored its message")
	}
	// a delivery gets a provider ID once sent; another may not take it
	must(write(msg("m4", ""), del("d4", "m4", ""), del("d5", "m4", "")))
	d4, err := s.Delivery(ctx, "d4")
	must(err)
	d4.ProviderID = "P4"
	must(s.WriteDelivery(ctx, d4))
	d5, err := s.Delivery(ctx, "d5")
	must(err)
	d5.ProviderID = "P4"
	if err := s.WriteDelivery(ctx, d5); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("d5 taking d4's provider ID: %v", err)
	}
	d5.ProviderID = "P1"
	if err := s.WriteDelivery(ctx, d5); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("d5 taking m1's provider ID: %v", err)
	}
	// a changed provider ID frees the old one
	d4, err = s.Delivery(ctx, "d4")
	must(err)
	d4.ProviderID = "P4b"
	must(s.WriteDelivery(ctx, d4))
	d5.ProviderID = "P4"
	must(s.WriteDelivery(ctx, d5))
	if d, err := s.DeliveryByProviderID(ctx, "P4"); err != nil || d.ID != "d5" || d.Version != 2 {
		t.Fatalf("P4 now names %+v, %v", d, err)
	}
	// stale versions and unknown IDs
	if err := s.WriteDelivery(ctx, d5); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale delivery version: %v", err)
	}
	if err := s.WriteDelivery(ctx, store.Delivery{ID: "nope", Version: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown delivery: %v", err)
	}
	d5, _ = s.Delivery(ctx, "d5")
	d5.MessageID = "m1"
	if err := s.WriteDelivery(ctx, d5); !errors.Is(err, pgstore.ErrInvalid) {
		t.Fatalf("delivery moved to another message: %v", err)
	}
}

// TestInvalidValues checks that values the contract does not allow fail with
// ErrInvalid and write nothing.
func TestInvalidValues(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	th := store.Thread{ID: "th", Subject: store.Subject{Kind: store.Contact, ID: "c"}, CreatedAt: t0}
	for name, w := range map[string]store.ThreadWrite{
		"no ID":             {Thread: store.Thread{Subject: th.Subject}},
		"bad kind":          {Thread: store.Thread{ID: "x", Subject: store.Subject{Kind: 9}}},
		"foreign message":   {Thread: th, Message: &store.Message{ID: "m", ThreadID: "other"}},
		"orphan delivery":   {Thread: th, Deliveries: []store.Delivery{{ID: "d", ThreadID: "th"}}},
		"NUL in a snapshot": {Thread: store.Thread{ID: "th", Subject: th.Subject, Snapshot: store.Snapshot{Name: "a\x00b"}}},
	} {
		if err := s.WriteThread(ctx, w); !errors.Is(err, pgstore.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := s.Thread(ctx, "th"); !errors.Is(err, store.ErrNotFound) {
		t.Error("an invalid write stored a thread")
	}
	if _, err := s.Threads(ctx, store.ThreadQuery{}); !errors.Is(err, pgstore.ErrInvalid) {
		t.Errorf("limit 0: %v", err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.WriteThread(ctx, store.ThreadWrite{Thread: th}))
	th.Version = 1
	th.Subject.ID = "changed"
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); !errors.Is(err, pgstore.ErrInvalid) {
		t.Errorf("changed subject: %v", err)
	}
	th.Subject.ID = "c"
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Unread: []string{"nope"}}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unread of an unknown message: %v", err)
	}
	if got, _ := s.Thread(ctx, "th"); got.Version != 1 {
		t.Errorf("a failed write moved the version to %d", got.Version)
	}
	if _, err := s.Messages(ctx, store.MessageQuery{ThreadID: "nope", Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("messages of an unknown thread: %v", err)
	}
	if _, err := s.Deliveries(ctx, store.DeliveryQuery{MessageID: "nope", Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deliveries of an unknown message: %v", err)
	}
	if _, err := s.Sent(ctx, store.SentQuery{After: "nope", Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("sent after an unknown delivery: %v", err)
	}
	if _, err := pgstore.Open(ctx, server.Pool(t), ""); !errors.Is(err, pgstore.ErrInvalid) {
		t.Errorf("empty tenant: %v", err)
	}
}

// schemaPool returns a pool whose search_path is a new, empty schema,
// dropped when t ends: a database of its own for migration tests.
func schemaPool(t *testing.T, pools int) []*pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	admin := server.Pool(t)
	schema := fmt.Sprintf("parley_test_%d", time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = admin.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE") })
	out := make([]*pgxpool.Pool, pools)
	for i := range out {
		cfg, err := pgxpool.ParseConfig(server.DSN)
		if err != nil {
			t.Fatal(err)
		}
		cfg.ConnConfig.RuntimeParams["search_path"] = schema
		if out[i], err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(out[i].Close)
	}
	return out
}

// TestMigrateConcurrentAndIdempotent migrates an empty schema from several
// instances at once: the advisory lock makes them take turns, each version
// is applied once, and migrating again changes nothing. Open refuses the
// schema before it is migrated.
func TestMigrateConcurrentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	pools := schemaPool(t, 4)
	if _, err := pgstore.Open(ctx, pools[0], "x"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("open before migrating: %v", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(pools))
	for i, p := range pools {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = pgstore.Migrate(ctx, p) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
	}
	if err := pgstore.Migrate(ctx, pools[0]); err != nil {
		t.Fatalf("second migration: %v", err)
	}
	var versions []int
	rows, err := pools[0].Query(ctx, "SELECT version FROM parley_schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v)
	}
	want := pgstore.MigrationVersions()
	if !slices.Equal(versions, want) {
		t.Fatalf("applied versions %v, want %v", versions, want)
	}
	s, err := pgstore.Open(ctx, pools[1], "x")
	if err != nil {
		t.Fatal(err)
	}
	if s.Tenant() != "x" {
		t.Fatalf("tenant %q", s.Tenant())
	}
	if _, err := pgtest.NewPool(ctx, "host=/nonexistent-dir user=nobody"); err == nil {
		t.Fatal("pgtest: a pool on no server pinged")
	}
}
