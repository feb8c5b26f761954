package pgstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// longAgent is an agent ID too long for a filter marker (migration 6),
// which the store filters on the row instead.
var longAgent = "agent-" + strings.Repeat("x", 70)

// writeFilterThreads writes the same 120 threads into every store: names
// and message words that the searches of TestSearchFiltersAgree find in
// part, and every filter state of T7–T12 (unread, favourite, muted with and
// without an expired mute, archived, closed, dormant, each category, no
// assignee, short and long agent IDs), drawn from a fixed seed.
func writeFilterThreads(t *testing.T, stores ...store.Store) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(18, 6))
	names := []string{"Dupont", "Dupond", "Durand", "Martin", "Petit", "Roux"}
	words := []string{"annulation", "spa", "petit-déjeuner", "merci", "bonjour", "facture"}
	agents := []string{"", "", "agent-1", "agent-2", longAgent}
	for i := range 120 {
		at := t0.Add(-time.Duration(rng.IntN(90*24)) * time.Hour)
		th := store.Thread{ID: fmt.Sprintf("f%03d", i), Subject: store.Subject{Kind: store.Contact, ID: fmt.Sprintf("s%03d", i)},
			CreatedAt: at, SortTime: at, LastMessageAt: at, LastActivityAt: at,
			Favourite: rng.IntN(6) == 0, Archived: rng.IntN(6) == 0, Closed: rng.IntN(2) == 0, Dormant: rng.IntN(15) == 0,
			Assignee: agents[rng.IntN(len(agents))]}
		switch r := rng.IntN(10); {
		case r < 2:
			th.Subject.Kind, th.Snapshot.Name = store.Audience, "Segment "+names[rng.IntN(len(names))]
		case r < 4:
			th.Subject.Kind, th.Snapshot.Name = store.Event, "Cours "+words[rng.IntN(len(words))]
		default:
			th.Snapshot.FirstName, th.Snapshot.LastName = "Anne", names[rng.IntN(len(names))]
			th.Snapshot.Phone = fmt.Sprintf("+3361234%04d", i)
		}
		if rng.IntN(5) == 0 {
			th.Muted = true
			if rng.IntN(2) == 0 {
				th.MutedUntil = t0.Add(time.Duration(rng.IntN(5)-2) * time.Hour) // expired or not at t0
			}
		}
		var texts []string
		for range rng.IntN(3) {
			var b strings.Builder
			for w := range 1 + rng.IntN(3) {
				if w > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(words[rng.IntN(len(words))])
			}
			texts = append(texts, b.String())
		}
		unread := rng.IntN(3) == 0
		for _, s := range stores {
			th := th
			if len(texts) == 0 {
				if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
					t.Fatal(err)
				}
				continue
			}
			for j, text := range texts {
				th.Version, th.Messages = int64(j), j+1
				if unread {
					th.Unread = j + 1
				}
				m := &store.Message{ID: fmt.Sprintf("%s-m%d", th.ID, j), ThreadID: th.ID, Direction: store.Inbound,
					Kind: channel.SMS, Text: text, Unread: unread, CreatedAt: at.Add(time.Duration(j-len(texts)) * time.Second)}
				if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th, Message: m}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// filterQueries returns every combination of the T11 and T12 filters, with
// the long agent ID beside a short one.
func filterQueries() []store.ThreadQuery {
	var qs []store.ThreadQuery
	for _, st := range []store.StatusFilter{store.All, store.Unread, store.Favourites, store.Muted, store.Archived} {
		for _, lc := range []store.Lifecycle{store.AnyLifecycle, store.Open, store.Closed} {
			for _, cat := range []store.SubjectKind{0, store.Contact, store.Audience, store.Event} {
				for _, as := range []string{"", "-", "agent-1", longAgent} {
					q := store.ThreadQuery{Status: st, Lifecycle: lc, Category: cat, Now: t0}
					switch as {
					case "-":
						q.Unassigned = true
					default:
						q.Assignee = as
					}
					qs = append(qs, q)
				}
			}
		}
	}
	return qs
}

// pages reads every page of q with read, pages of q.Limit threads, and
// returns the thread IDs in order.
func pages(t *testing.T, q store.ThreadQuery, read func(store.ThreadQuery) ([]store.Thread, error)) []string {
	t.Helper()
	var ids []string
	for range 200 {
		page, err := read(q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		ids = append(ids, threadIDs(page)...)
		if len(page) < q.Limit {
			return ids
		}
		p := store.PositionOf(page[len(page)-1])
		q.After = &p
	}
	t.Fatalf("%+v: more than 200 pages", q)
	return nil
}

// TestSearchFiltersAgree searches (T13) inside every combination of the
// status, lifecycle, category and assignee filters (T9, T11, T12; mutes
// judged at Now, T7), page by page (T3), with Threads and with every plan
// (walks and collections, with and without windows of the list), and checks
// each against memstore, the reference store: the filter markers of the
// GIN index and the windows change the cost, never the answer.
func TestSearchFiltersAgree(t *testing.T) {
	ctx := context.Background()
	s := openStore(t, server.Pool(t))
	ref := memstore.New()
	writeFilterThreads(t, s, ref)
	for _, typed := range []string{"dupont", "du", "annulation spa", "06 12 34"} {
		for _, q := range filterQueries() {
			q.Search, q.Limit = textindex.ParseQuery(typed), 4
			want := pages(t, q, func(q store.ThreadQuery) ([]store.Thread, error) { return ref.Threads(ctx, q) })
			readers := map[string]func(store.ThreadQuery) ([]store.Thread, error){
				"Threads": func(q store.ThreadQuery) ([]store.Thread, error) { return s.Threads(ctx, q) },
			}
			for _, plan := range []pgstore.ListPlan{pgstore.PlanWalk, pgstore.PlanCollectSearch, pgstore.PlanCollectAll} {
				readers[fmt.Sprint("plan ", plan)] = func(q store.ThreadQuery) ([]store.Thread, error) {
					return s.ThreadsWithPlan(ctx, q, plan)
				}
			}
			for _, w := range [][2]int64{{1, 4096}, {5, 2}} {
				readers[fmt.Sprint("windows from ", w[0], ", counted to ", w[1])] = func(q store.ThreadQuery) ([]store.Thread, error) {
					return s.ThreadsWindowed(ctx, q, w[0], w[1], math.Inf(1))
				}
			}
			// A window of one entry, then the rest of a list taken to hold
			// 32 threads (the next window would span a quarter of it).
			readers["a window, then the rest of the list"] = func(q store.ThreadQuery) ([]store.Thread, error) {
				return s.ThreadsWindowed(ctx, q, 1, 4096, 32)
			}
			for name, read := range readers {
				if got := pages(t, q, read); !slices.Equal(got, want) {
					t.Errorf("%s: %q in %s: %v, memstore: %v", name, typed, filterName(q), got, want)
				}
			}
		}
	}
}

// filterName names q's filters for test messages.
func filterName(q store.ThreadQuery) string {
	as := q.Assignee
	if len(as) > 12 {
		as = as[:12] + "…"
	}
	return fmt.Sprintf("status %d, lifecycle %d, category %d, assignee %q, unassigned %v", q.Status, q.Lifecycle, q.Category, as, q.Unassigned)
}

// TestSearchFilterMarkers checks the plan of a search inside a filter
// (T13 in T11, T12): the GIN index answers the filter with the search, so
// that the threads PostgreSQL visits are those that match both, not every
// thread the search finds, nor every thread the filter keeps. Of 40
// threads of one family name among 20,200, 8 are unread and 4 of those are
// audiences, while 4,000 other threads are unread and 2,000 are audiences:
// collecting "dupont" among the unread threads visits 8 threads, and 4
// among the unread audiences, and no index scan gives more.
func TestSearchFilterMarkers(t *testing.T) {
	ctx := context.Background()
	pool := migrationSchema(t, "markers")
	s, err := pgstore.Open(ctx, pool, "studio")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		th := store.Thread{ID: fmt.Sprintf("m%03d", i), Subject: store.Subject{Kind: store.Contact, ID: fmt.Sprintf("c%03d", i)},
			Snapshot: store.Snapshot{FirstName: "Anne", LastName: "Martin"}, SortTime: t0, LastActivityAt: t0}
		if i%5 == 0 {
			th.Snapshot.LastName = "Dupont"
			if i%50 == 0 || i%50 == 10 {
				th.Subject.Kind, th.Snapshot = store.Audience, store.Snapshot{Name: "Dupont"}
			}
		}
		if i%50 == 0 || i%50 == 5 {
			th.Unread = 1
		}
		if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
			t.Fatal(err)
		}
	}
	// Many other threads, so that the planner weighs the indexes as on a
	// real list, and VACUUM, which moves the GIN index's pending entries
	// into the index proper, as autovacuum does.
	filler := store.Snapshot{FirstName: "Anne", LastName: "Martin"}
	i := 0
	_, err = pool.CopyFrom(ctx, pgx.Identifier{"parley_threads"}, []string{"tenant_id", "id", "subject_kind", "subject_id",
		"first_name", "last_name", "name", "email", "phone", "inbound_kinds", "preview", "messages", "unread", "muted", "favourite",
		"archived", "closed", "assignee", "dormant", "version", "list_rank", "search_keys"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == 20000 {
				return nil, nil
			}
			i++
			kind, unread := store.Contact, int32(0)
			if i%5 == 0 {
				unread = 1
			}
			if i%10 == 0 {
				kind = store.Audience
			}
			return []any{s.TenantID(), fmt.Sprintf("x%05d", i), int16(kind), fmt.Sprintf("x%05d", i), filler.FirstName,
				filler.LastName, "", "", "", int16(0), "", int32(0), unread, false, false, false, false, "", false, int64(1),
				pgstore.ListRank(t0), pgstore.ThreadKeys(s.TenantID(), filler)}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE parley_threads"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    store.ThreadQuery
		want int
	}{
		{store.ThreadQuery{Status: store.Unread}, 8},
		{store.ThreadQuery{Status: store.Unread, Category: store.Audience}, 4},
	} {
		q := tc.q
		q.Search, q.Now, q.Limit = textindex.ParseQuery("dupont"), t0, 50
		got, err := s.ThreadsWithPlan(ctx, q, pgstore.PlanCollectSearch)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tc.want {
			t.Fatalf("%s: %d threads, want %d", filterName(q), len(got), tc.want)
		}
		sql, args := s.HitsSQL(q)
		var js []byte
		if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&js); err != nil {
			t.Fatal(err)
		}
		if visited, scanned := scanRows(t, js, "parley_threads"); visited != tc.want || scanned > tc.want {
			t.Errorf("%s: the collection visits %d threads and an index scan gives %d, want the %d that match the search and the filters: %s",
				filterName(q), visited, scanned, tc.want, js)
		}
	}
}

// scanRows returns the rows the scans of table read in an EXPLAIN
// (ANALYZE, FORMAT JSON) plan (those they returned and those their filters
// and rechecks removed), and the most rows one index scan gave a bitmap.
func scanRows(t *testing.T, js []byte, table string) (visited, scanned int) {
	t.Helper()
	type node struct {
		Type     string  `json:"Node Type"`
		Relation string  `json:"Relation Name"`
		Rows     float64 `json:"Actual Rows"`
		Loops    float64 `json:"Actual Loops"`
		Filtered float64 `json:"Rows Removed by Filter"`
		Recheck  float64 `json:"Rows Removed by Index Recheck"`
		Plans    []json.RawMessage
	}
	var plans []struct{ Plan json.RawMessage }
	if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", js, err)
	}
	var walk func(json.RawMessage)
	walk = func(raw json.RawMessage) {
		var p node
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		loops := max(p.Loops, 1)
		switch {
		case p.Relation == table:
			visited += int((p.Rows + p.Filtered + p.Recheck) * loops)
		case p.Type == "Bitmap Index Scan":
			scanned = max(scanned, int(p.Rows*loops))
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	return visited, scanned
}

// TestSearchWindow checks the window of the list a search reads its page
// in (T13), for the planner's estimates: a search that finds few threads
// collects them all; a family name among a million threads, alone or in a
// filter that keeps a tenth of them, reads a window that should hold two
// pages of its matches; and a search that finds the same share of the list
// (message words in a quarter to all of the threads) reads a window of the
// same entries at every size from 10,000 to 5,000,000 threads, where a
// fixed number of matches once chose the plan, so that the plan changed
// with the size of the list.
func TestSearchWindow(t *testing.T) {
	const limit = 51
	for _, tc := range []struct {
		name                string
		listed, kept, found float64
		min, max            int64
	}{
		{"a rare word", 1e6, 9e5, 150, 0, 0},
		{"a family name", 1e6, 9e5, 1e4, 11000, 11500},
		{"a family name among the unread threads", 1e6, 1e5, 1e4, 100000, 105000},
		{"a two-letter prefix", 1e6, 9e5, 7e4, 1500, 1750},
	} {
		if k := pgstore.SearchWindow(tc.listed, tc.kept, tc.found, limit); k < tc.min || k > tc.max {
			t.Errorf("%s: window of %d entries, want %d to %d", tc.name, k, tc.min, tc.max)
		}
	}
	for _, share := range []float64{0.25, 0.44, 1} {
		want := pgstore.SearchWindow(1e4, 0.9e4, share*1e4, limit)
		for _, n := range []float64{2e5, 1e6, 5e6} {
			if k := pgstore.SearchWindow(n, 0.9*n, share*n, limit); k != want || k > 1000 {
				t.Errorf("a search that finds %.0f%% of %.0f threads: window of %d entries, want %d as at 10,000 threads, at most 1000",
					100*share, n, k, want)
			}
		}
	}
}

// TestSearchWalks checks which searches walk the list (T13): those that
// match at least a tenth of it, at every size, so that message words in
// a tenth to a third of the threads do not collect and sort a window of
// matches, and a family name, a two-letter prefix or a rare word never
// walk.
func TestSearchWalks(t *testing.T) {
	for _, n := range []float64{1e4, 2e5, 1e6, 5e6} {
		for _, tc := range []struct {
			name  string
			share float64
			walks bool
		}{
			{"a rare word", 1.5e-4, false},
			{"a family name", 0.01, false},
			{"a two-letter prefix", 0.07, false},
			{"message words in a tenth of the threads", 0.1, true},
			{"message words in a third of the threads", 0.33, true},
			{"a word in every thread", 1, true},
		} {
			if got := pgstore.SearchWalks(n, tc.share*n); got != tc.walks {
				t.Errorf("%s among %.0f threads: walks %v, want %v", tc.name, n, got, tc.walks)
			}
		}
	}
}

// TestWindowMarkers checks the window markers PostgreSQL computes for
// threads (migration 6) against those a search names for their list ranks:
// every listed thread holds, for each width, the marker of its group
// (favourite or not) and bucket; a dormant thread holds none. Sort times
// before and after 1970 and on bucket edges are covered, since the bucket
// is an arithmetic shift of the rank.
func TestWindowMarkers(t *testing.T) {
	ctx := context.Background()
	pool := server.Pool(t)
	s := openStore(t, pool)
	times := []time.Time{t0, t0.Add(-time.Microsecond), time.UnixMicro(1 << 35), time.UnixMicro(1<<35 - 1),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), {}}
	for i, at := range times {
		for _, fav := range []bool{false, true} {
			th := store.Thread{ID: fmt.Sprintf("w%d-%v", i, fav), Subject: store.Subject{Kind: store.Contact, ID: fmt.Sprintf("w%d-%v", i, fav)},
				SortTime: at, LastActivityAt: at, Favourite: fav, Dormant: i == len(times)-1 && fav}
			if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); err != nil {
				t.Fatal(err)
			}
			var keys []string
			err := pool.QueryRow(ctx, "SELECT filter_keys FROM parley_threads WHERE tenant_id = $1 AND id = $2", s.TenantID(), th.ID).Scan(&keys)
			if err != nil {
				t.Fatal(err)
			}
			want := pgstore.WindowMarkers(s.TenantID(), !fav, pgstore.ListRank(at))
			if len(want) != 6 {
				t.Fatalf("WindowMarkers: %v, want one per width", want)
			}
			for _, m := range want {
				if got := slices.Contains(keys, m); got == th.Dormant {
					t.Errorf("thread at %v (favourite %v, dormant %v): markers %v; %s among them: %v, want %v", at, fav, th.Dormant, keys, m, got, !th.Dormant)
				}
			}
		}
	}
}

// TestSearchChecksMessagesOfAPage checks that a collected search of
// several message words (T13: one message holds them all) looks at the
// messages of the sorted candidates only until a page is full, not at those
// of every thread whose words match: the first page is memstore's, and
// the probes of parley_messages are at most the candidates that come
// before the page's last thread.
func TestSearchChecksMessagesOfAPage(t *testing.T) {
	ctx := context.Background()
	pool := server.Pool(t)
	s := openStore(t, pool)
	ref := memstore.New()
	writeFilterThreads(t, s, ref)
	// The statistics autovacuum would have by now, so that the planner
	// knows the tenant's messages are many (other tests share the tables).
	if _, err := pool.Exec(ctx, "ANALYZE parley_threads, parley_messages"); err != nil {
		t.Fatal(err)
	}
	q := store.ThreadQuery{Search: textindex.ParseQuery("annulation spa"), Now: t0, Limit: 1000}
	all, err := ref.Threads(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	q.Limit = 3
	if len(all) <= q.Limit {
		t.Fatalf("%d matches, want more than a page", len(all))
	}
	hits, args := s.HitsSQL(q)
	rows, err := pool.Query(ctx, hits+" ORDER BY list_pin, list_rank, id", args...)
	if err != nil {
		t.Fatal(err)
	}
	type hit struct {
		ID   string
		Pin  bool
		Rank int64
	}
	candidates, err := pgx.CollectRows(rows, pgx.RowToStructByPos[hit])
	if err != nil {
		t.Fatal(err)
	}
	last := slices.IndexFunc(candidates, func(h hit) bool { return h.ID == all[q.Limit-1].ID }) + 1
	if last == 0 || last >= len(candidates) {
		t.Fatalf("the page's last thread is candidate %d of %d, want one before the last", last, len(candidates))
	}
	got, err := s.ThreadsWithPlan(ctx, q, pgstore.PlanCollectSearch)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(threadIDs(got), threadIDs(all[:q.Limit])) {
		t.Fatalf("page %v, memstore: %v", threadIDs(got), threadIDs(all[:q.Limit]))
	}
	sql, args := s.CollectSQL(q)
	var js []byte
	if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+sql, args...).Scan(&js); err != nil {
		t.Fatal(err)
	}
	// Each thread of writeFilterThreads has at most two messages.
	if probes, read := relationLoops(t, js, "parley_messages"); probes > last || read > 2*last {
		t.Errorf("%d probes of the candidates' messages reading %d messages, want at most %d probes and %d messages (%d candidates): %s",
			probes, read, last, 2*last, len(candidates), js)
	}
}

// relationLoops returns how many times the scans of table ran in an
// EXPLAIN (ANALYZE, FORMAT JSON) plan, and how many rows they read (those
// they returned and those their filters removed).
func relationLoops(t *testing.T, js []byte, table string) (loops, read int) {
	t.Helper()
	type node struct {
		Relation string  `json:"Relation Name"`
		Loops    float64 `json:"Actual Loops"`
		Rows     float64 `json:"Actual Rows"`
		Filtered float64 `json:"Rows Removed by Filter"`
		Plans    []json.RawMessage
	}
	var plans []struct{ Plan json.RawMessage }
	if err := json.Unmarshal(js, &plans); err != nil || len(plans) != 1 {
		t.Fatalf("EXPLAIN output %s: %v", js, err)
	}
	var walk func(json.RawMessage)
	walk = func(raw json.RawMessage) {
		var p node
		if err := json.Unmarshal(raw, &p); err != nil {
			t.Fatal(err)
		}
		if p.Relation == table {
			loops += int(p.Loops)
			read += int((p.Rows + p.Filtered) * p.Loops)
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	return loops, read
}
