package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// planThread is a thread of TestListPlansAgree with the texts of its
// messages, written one write each.
type planThread struct {
	id       string
	snap     store.Snapshot
	kind     store.SubjectKind
	texts    []string
	age      time.Duration // sort time and activity before t0
	fav      bool
	closed   bool
	archived bool
}

var planThreads = []planThread{
	{id: "a", snap: store.Snapshot{FirstName: "Hélène", LastName: "Dupont"}, texts: []string{"bonjour"}, age: 1 * time.Hour},
	// The words of "annulation spa" in two messages: no message holds both (T13).
	{id: "b", snap: store.Snapshot{FirstName: "Marc", LastName: "Durand"}, texts: []string{"annulation demain", "spa merci"}, age: 2 * time.Hour},
	{id: "c", snap: store.Snapshot{FirstName: "Zoé", LastName: "Martin"}, texts: []string{"bonjour", "annulation du spa"}, age: 3 * time.Hour},
	{id: "d", kind: store.Audience, snap: store.Snapshot{Name: "Annulation spa"}, age: 4 * time.Hour},
	// A word first written by the third message still finds the thread.
	{id: "e", snap: store.Snapshot{FirstName: "Léa", LastName: "Petit"}, texts: []string{"bonjour", "merci", "facture payée"}, age: 5 * time.Hour, fav: true},
	{id: "f", kind: store.Event, snap: store.Snapshot{Name: "Cours de yoga"}, texts: []string{"petit-déjeuner servi", "facture"}, age: 30 * 24 * time.Hour, closed: true},
	{id: "g", snap: store.Snapshot{FirstName: "Paul", LastName: "Dupont"}, texts: []string{"annulation spa"}, age: 40 * 24 * time.Hour, archived: true},
	{id: "h", snap: store.Snapshot{FirstName: "Anna", LastName: "Dupond"}, texts: []string{"le petit déjeuner"}, age: 50 * 24 * time.Hour},
	// An old favourite still comes before newer threads (T3, T8).
	{id: "i", snap: store.Snapshot{FirstName: "Inès", LastName: "Roux"}, texts: []string{"bonjour à tous"}, age: 60 * 24 * time.Hour, fav: true},
}

// writePlanThreads writes planThreads into s, a message per write.
func writePlanThreads(t testing.TB, s *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	for _, p := range planThreads {
		at := t0.Add(-p.age)
		kind := p.kind
		if kind == 0 {
			kind = store.Contact
		}
		th := store.Thread{ID: p.id, Subject: store.Subject{Kind: kind, ID: "s-" + p.id}, Snapshot: p.snap, CreatedAt: at,
			SortTime: at, LastMessageAt: at, LastActivityAt: at, Favourite: p.fav, Closed: p.closed, Archived: p.archived}
		if len(p.texts) == 0 {
			if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for i, text := range p.texts {
			th.Version, th.Messages = int64(i), i+1
			m := &store.Message{ID: fmt.Sprintf("%s-m%d", p.id, i), ThreadID: p.id, Direction: store.Inbound, Kind: channel.SMS,
				Text: text, CreatedAt: at.Add(time.Duration(i-len(p.texts)) * time.Second)}
			if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: m}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestListPlansAgree reads searches (T13) and visibility windows (T17) with
// every list plan, the one Threads picks and the others, page by page (T3),
// and checks that each gives exactly the expected threads in list order:
// the plan changes the cost, never the answer.
func TestListPlansAgree(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	writePlanThreads(t, s)
	for _, tc := range []struct {
		q    store.ThreadQuery
		want []string
	}{
		// T13: one message must hold every word; thread b holds them in two.
		{store.ThreadQuery{Search: textindex.ParseQuery("annulation spa")}, []string{"c", "d"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("facture")}, []string{"e", "f"}},
		// "petit-déjeuner" needs "petit" and "dejeuner" in one message, or
		// a subject word with both prefixes (none here): e is Léa Petit.
		{store.ThreadQuery{Search: textindex.ParseQuery("petit-dejeuner")}, []string{"f", "h"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("petit")}, []string{"e", "f", "h"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("dup")}, []string{"a", "h"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("helene dup")}, []string{"a"}},
		// T9: archived threads are searched only inside the archived filter.
		{store.ThreadQuery{Search: textindex.ParseQuery("dupont"), Status: store.Archived}, []string{"g"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("annulation spa"), Lifecycle: store.Open, Category: store.Audience}, []string{"d"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("facture"), Lifecycle: store.Closed}, []string{"f"}},
		{store.ThreadQuery{Search: textindex.ParseQuery("zzz")}, nil},
		{store.ThreadQuery{Search: textindex.ParseQuery("bonjour")}, []string{"e", "i", "a", "c"}},
		// T17 windows, alone and with a search.
		{store.ThreadQuery{ActiveSince: t0.Add(-4 * time.Hour)}, []string{"a", "b", "c", "d"}},
		{store.ThreadQuery{ActiveSince: t0.Add(-45 * 24 * time.Hour), Category: store.Event}, []string{"f"}},
		{store.ThreadQuery{ActiveSince: t0.Add(-45 * 24 * time.Hour), Search: textindex.ParseQuery("petit")}, []string{"e", "f"}},
		{store.ThreadQuery{ActiveSince: t0.Add(-time.Minute)}, nil},
	} {
		plans := []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectSearch, pgstore.PlanCollectAll}
		if tc.q.Search.IsZero() {
			plans = []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectActive}
		}
		for _, limit := range []int{1, 2, 10} {
			q := tc.q
			q.Now, q.Limit = t0, limit
			got, err := s.Threads(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if ids := threadIDs(got); !slices.Equal(ids, firstN(tc.want, limit)) {
				t.Errorf("Threads(%+v) = %v, want %v", q, ids, firstN(tc.want, limit))
			}
			type reader struct {
				name string
				read func(store.ThreadQuery) ([]store.Thread, error)
			}
			var readers []reader
			for _, plan := range plans {
				readers = append(readers, reader{fmt.Sprint("plan ", plan), func(q store.ThreadQuery) ([]store.Thread, error) {
					return s.ThreadsWithPlan(ctx, q, plan)
				}})
			}
			if !tc.q.Search.IsZero() {
				// Windows of 1, 2 and 3 list entries, widened until a page
				// is full or the window holds the rest of the list, and
				// windows of 3 and 5 entries whose end is extrapolated from
				// the first entry or two.
				for k := range int64(3) {
					readers = append(readers, reader{fmt.Sprint("window ", k+1), func(q store.ThreadQuery) ([]store.Thread, error) {
						return s.ThreadsWindowed(ctx, q, k+1, 4096, math.Inf(1))
					}})
				}
				for _, n := range []int64{1, 2} {
					readers = append(readers, reader{fmt.Sprint("window 3 and 5, counted to ", n), func(q store.ThreadQuery) ([]store.Thread, error) {
						return s.ThreadsWindowed(ctx, q, 1+2*n, n, math.Inf(1))
					}})
				}
			}
			for _, r := range readers {
				var all []string
				for page := 0; ; page++ {
					got, err := r.read(q)
					if err != nil {
						t.Fatalf("%s: %v", r.name, err)
					}
					all = append(all, threadIDs(got)...)
					if len(got) < limit || page > len(planThreads) {
						break
					}
					p := store.PositionOf(got[len(got)-1])
					q.After = &p
				}
				q.After = nil
				if !slices.Equal(all, tc.want) {
					t.Errorf("%s, pages of %d, %+v: %v, want %v", r.name, limit, q, all, tc.want)
				}
			}
		}
	}
}

func threadIDs(ts []store.Thread) []string {
	var ids []string
	for _, t := range ts {
		ids = append(ids, t.ID)
	}
	return ids
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// TestMigrateVersion2 takes a database written at schema version 1 (no
// thread message words, the per-message search index) to version 2 with
// Migrate, and checks that the message words of existing threads were
// filled in, so a message search (T13) still finds them, and that a store
// cannot open the old schema (ErrNotMigrated).
func TestMigrateVersion2(t *testing.T) {
	ctx := context.Background()
	server.Require(t)
	admin := server.Pool(t)
	schema := pgx.Identifier{fmt.Sprintf("migrate_v2_%d", time.Now().UnixNano())}.Sanitize()
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
	writePlanThreads(t, s)
	// Back to version 1 as that version left it.
	for _, stmt := range slices.Concat(revertVersion6, []string{
		// version 3
		`ALTER TABLE parley_messages DROP COLUMN templated, DROP COLUMN marketing, DROP COLUMN source_subject,
			DROP COLUMN source_text, DROP COLUMN source_html`,
		`ALTER TABLE parley_deliveries DROP COLUMN anchor_rule, DROP COLUMN subject, DROP COLUMN body, DROP COLUMN html,
			DROP COLUMN sms_encoding, DROP COLUMN sms_segments, DROP COLUMN sms_units, DROP COLUMN cost_micros, DROP COLUMN cost_currency`,
		"DELETE FROM parley_schema_migrations WHERE version = 3",
		// version 2
		"DROP INDEX parley_threads_activity",
		"DROP INDEX parley_threads_rank",
		"DROP INDEX parley_threads_message_words",
		"ALTER TABLE parley_threads DROP COLUMN message_words",
		"CREATE INDEX parley_messages_search ON parley_messages USING gin (search_words)",
		"DELETE FROM parley_schema_migrations WHERE version >= 2", // later versions run again
	}) {
		if _, err := pool.Exec(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if _, err := pgstore.Open(ctx, pool, "hotel"); !errors.Is(err, pgstore.ErrNotMigrated) {
		t.Fatalf("Open on version 1 = %v, want ErrNotMigrated", err)
	}
	if err := pgstore.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if s, err = pgstore.Open(ctx, pool, "hotel"); err != nil {
		t.Fatal(err)
	}
	for typed, want := range map[string][]string{"facture": {"e", "f"}, "annulation spa": {"c", "d"}, "servi": {"f"}} {
		for _, plan := range []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectSearch} {
			got, err := s.ThreadsWithPlan(ctx, store.ThreadQuery{Search: textindex.ParseQuery(typed), Now: t0, Limit: 10}, plan)
			if err != nil {
				t.Fatal(err)
			}
			if ids := threadIDs(got); !slices.Equal(ids, want) {
				t.Errorf("after migration, plan %d, %q: %v, want %v", plan, typed, ids, want)
			}
		}
	}
}

// TestSearchOddText searches (T13) for text with quotes, braces,
// backslashes, placeholders and SQL, which reaches the planner's estimate
// as literal keys: every search answers without error, finds the thread
// whose words it names, and gives the same threads with every plan. A NUL
// byte, which PostgreSQL text cannot hold, is refused with ErrInvalid.
func TestSearchOddText(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	th := store.Thread{ID: "odd", Subject: store.Subject{Kind: store.Contact, ID: "c-odd"},
		Snapshot: store.Snapshot{FirstName: "Seán", LastName: "O'Brien"}, SortTime: t0, LastActivityAt: t0}
	m := &store.Message{ID: "odd-m", ThreadID: "odd", Direction: store.Inbound, Kind: channel.SMS, CreatedAt: t0,
		Text: `l'été {spa}, "promo" \ 100% $1 '; DROP TABLE parley_threads; --`}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: m}); err != nil {
		t.Fatal(err)
	}
	for typed, found := range map[string]bool{
		"o'brien": true, "sean o'b": true, "l'ete": true, "{spa}": true, `"promo"`: true, "100%": true, "$1": true,
		"drop table parley_threads": true, `\`: false, "'; --": false, "{}": false, `a"b'c\d`: false, "ünïcödé ✓": false,
	} {
		q := store.ThreadQuery{Search: textindex.ParseQuery(typed), Now: t0, Limit: 10}
		got, err := s.Threads(ctx, q)
		if err != nil {
			t.Errorf("search %q: %v", typed, err)
			continue
		}
		if ids := threadIDs(got); slices.Equal(ids, []string{"odd"}) != found {
			t.Errorf("search %q found %v, want the thread: %v", typed, ids, found)
		}
		for _, plan := range []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectSearch} {
			other, err := s.ThreadsWithPlan(ctx, q, plan)
			if err != nil {
				t.Errorf("search %q, plan %d: %v", typed, plan, err)
			} else if !slices.Equal(threadIDs(other), threadIDs(got)) {
				t.Errorf("search %q, plan %d: %v, Threads gave %v", typed, plan, threadIDs(other), threadIDs(got))
			}
		}
	}
	_, err := s.Threads(ctx, store.ThreadQuery{Search: textindex.ParseQuery("a\x00b"), Now: t0, Limit: 10})
	if !errors.Is(err, pgstore.ErrInvalid) {
		t.Errorf("search with a NUL byte: %v, want ErrInvalid", err)
	}
}

// FuzzThreadsSearch runs any typed search (T13) on the threads of
// TestListPlansAgree: the search answers without error (ErrInvalid only for
// a NUL byte), and every plan gives the threads Threads gives.
func FuzzThreadsSearch(f *testing.F) {
	for _, typed := range []string{"dupont", "helene dup", "annulation spa", "petit-dejeuner", "06 12 34", "+33 6",
		"o'brien", `{a,b}`, `"x"`, `\`, "$2", "'; --", "ünï ✓", "a\x00b", "\xff\xfe"} {
		f.Add(typed)
	}
	server.Require(f)
	s := openStore(f, server.Pool(f))
	writePlanThreads(f, s)
	f.Fuzz(func(t *testing.T, typed string) {
		ctx := context.Background()
		q := store.ThreadQuery{Search: textindex.ParseQuery(typed), Now: t0, Limit: 5}
		if q.Search.IsZero() {
			return
		}
		got, err := s.Threads(ctx, q)
		if err != nil {
			if !errors.Is(err, pgstore.ErrInvalid) || !strings.Contains(typed, "\x00") {
				t.Fatalf("search %q: %v", typed, err)
			}
			return
		}
		for _, plan := range []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectSearch} {
			other, err := s.ThreadsWithPlan(ctx, q, plan)
			if err != nil {
				t.Fatalf("search %q, plan %d: %v", typed, plan, err)
			}
			if !slices.Equal(threadIDs(other), threadIDs(got)) {
				t.Fatalf("search %q, plan %d: %v, Threads gave %v", typed, plan, threadIDs(other), threadIDs(got))
			}
		}
	})
}
