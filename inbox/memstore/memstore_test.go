package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

var ctx = context.Background()

func newThread(id string, kind store.SubjectKind) store.Thread {
	return store.Thread{
		ID: id, Subject: store.Subject{Kind: kind, ID: "s-" + id},
		Snapshot:  store.Snapshot{FirstName: "Hélène", LastName: "Dubois", Email: id + "@example.fr", Phone: "+33612345678"},
		CreatedAt: t0, SortTime: t0, LastActivityAt: t0,
	}
}

func mustWrite(t *testing.T, s *memstore.Store, w store.ThreadWrite) {
	t.Helper()
	if err := s.WriteThread(ctx, w); err != nil {
		t.Fatalf("WriteThread: %v", err)
	}
}

// Contract: values go in and out by copy.
func TestCopies(t *testing.T) {
	s := memstore.New()
	th := newThread("t1", store.Contact)
	m := &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Kind: channel.MMS, Text: "hello",
		Attachments: []channel.Attachment{{Name: "a.png", Data: []byte{1, 2, 3}}}, InReplyTo: []string{"x"}, Groups: []string{"booked"}}
	d := store.Delivery{ID: "d1", MessageID: "m1", ThreadID: "t1", Status: status.Record{Current: status.Pending, History: []status.Change{{Status: status.Pending, At: t0}}}}
	mustWrite(t, s, store.ThreadWrite{Thread: th, Message: m, Deliveries: []store.Delivery{d}})

	m.Attachments[0].Data[0] = 9
	m.InReplyTo[0] = "changed"
	m.Groups[0] = "changed"
	d.Status.History[0].Raw = "changed"

	got, err := s.Message(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Attachments[0].Data[0] != 1 || got.InReplyTo[0] != "x" || got.Groups[0] != "booked" {
		t.Fatalf("the store kept the caller's memory: %+v", got)
	}
	got.Attachments[0].Data[0] = 7
	got.Groups[0] = "mutated"
	again, _ := s.Message(ctx, "m1")
	if again.Attachments[0].Data[0] != 1 || again.Groups[0] != "booked" {
		t.Fatal("the store returned its own memory")
	}
	gd, _ := s.Delivery(ctx, "d1")
	if gd.Status.History[0].Raw != "" {
		t.Fatal("delivery history shared with the caller")
	}
	gd.Status.History[0].Raw = "mutated"
	if gd2, _ := s.Delivery(ctx, "d1"); gd2.Status.History[0].Raw != "" {
		t.Fatal("delivery history shared with a reader")
	}
	// S5: Counts come from the deliveries, whatever the writer said.
	if got.Counts[status.Pending] != 1 || got.Counts.Total() != 1 {
		t.Fatalf("Counts = %v, want pending=1", got.Counts)
	}
}

// Contract: optimistic concurrency, live threads (T1) and atomic failures.
func TestVersionsAndAtomicity(t *testing.T) {
	s := memstore.New()
	th := newThread("t1", store.Contact)
	mustWrite(t, s, store.ThreadWrite{Thread: th})
	stored, _ := s.Thread(ctx, "t1")
	if stored.Version != 1 {
		t.Fatalf("version after create = %d, want 1", stored.Version)
	}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: th}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("creating an existing thread: %v, want ErrConflict", err)
	}
	other := newThread("t2", store.Contact)
	other.Subject = th.Subject
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: other}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second live thread with ReplacesLive empty: %v, want ErrConflict", err)
	}
	mustWrite(t, s, store.ThreadWrite{Thread: other, ReplacesLive: "t1"})
	if live, _ := s.LiveThread(ctx, th.Subject); live.ID != "t2" {
		t.Fatalf("live thread = %q, want t2", live.ID)
	}
	stale := stored
	stored.Unread = 1
	mustWrite(t, s, store.ThreadWrite{Thread: stored, Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Inbound, Text: "a", ProviderID: "p1", Unread: true}})
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: stale}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale version: %v, want ErrConflict", err)
	}
	if _, err := s.Thread(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown thread: %v", err)
	}
	missing := newThread("t9", store.Event)
	missing.Version = 3
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: missing}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of an unknown thread: %v, want ErrNotFound", err)
	}

	// M5: a duplicate provider ID fails and changes nothing, not even the
	// thread state written with it.
	cur, _ := s.Thread(ctx, "t1")
	next := cur
	next.Unread = 2
	next.Favourite = true
	err := s.WriteThread(ctx, store.ThreadWrite{Thread: next, Message: &store.Message{ID: "m2", ThreadID: "t1", Direction: store.Inbound, Text: "b", ProviderID: "p1"}})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("duplicate provider ID: %v, want ErrDuplicate", err)
	}
	after, _ := s.Thread(ctx, "t1")
	if diff := cmp.Diff(cur, after); diff != "" {
		t.Fatalf("failed write changed the thread:\n%s", diff)
	}
	if _, err := s.Message(ctx, "m2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("failed write stored its message")
	}
	if page, _ := s.Threads(ctx, store.ThreadQuery{Status: store.Favourites, Limit: 10}); len(page) != 0 {
		t.Fatal("failed write changed the list index")
	}
	// A delivery's provider ID is in the namespace of outbound messages
	// (M5 per direction): an outbound message's is taken, an inbound one's
	// is not.
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: "o1", ThreadID: "t1", Direction: store.Outbound, ProviderID: "po"}}); err != nil {
		t.Fatal(err)
	}
	cur, _ = s.Thread(ctx, "t1")
	err = s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: "m3", ThreadID: "t1", Direction: store.Outbound},
		Deliveries: []store.Delivery{{ID: "d1", MessageID: "m3", ThreadID: "t1", ProviderID: "po"}}})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("delivery with an outbound message's provider ID: %v, want ErrDuplicate", err)
	}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: "m3", ThreadID: "t1", Direction: store.Outbound},
		Deliveries: []store.Delivery{{ID: "d1", MessageID: "m3", ThreadID: "t1", ProviderID: "p1"}}}); err != nil {
		t.Fatalf("delivery with an inbound message's provider ID: %v", err)
	}
	cur, _ = s.Thread(ctx, "t1")
	// T6: marking an unknown message unread fails.
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Unread: []string{"m-other"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unread of a foreign message: %v, want ErrNotFound", err)
	}
	// Invalid values.
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: "m4", ThreadID: "t2"}}); !errors.Is(err, memstore.ErrInvalid) {
		t.Fatalf("message of another thread: %v, want ErrInvalid", err)
	}
	if _, err := s.Threads(ctx, store.ThreadQuery{}); !errors.Is(err, memstore.ErrInvalid) {
		t.Fatalf("limit 0: %v, want ErrInvalid", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Thread(cctx, "t1"); err != context.Canceled {
		t.Fatalf("ended context: %v", err)
	}
}

// S2, S5, C8, C15, M5: delivery writes keep counts and indexes.
func TestDeliveries(t *testing.T) {
	s := memstore.New()
	th := newThread("t1", store.Audience)
	dels := []store.Delivery{
		{ID: "d2", MessageID: "m1", ThreadID: "t1", Status: status.Record{Current: status.Scheduled}, DueAt: t0.Add(time.Hour), Anchor: "booking:1", CreatedAt: t0},
		{ID: "d1", MessageID: "m1", ThreadID: "t1", Status: status.Record{Current: status.Scheduled}, DueAt: t0.Add(2 * time.Hour), Anchor: "booking:1", CreatedAt: t0},
		{ID: "d3", MessageID: "m1", ThreadID: "t1", Status: status.Record{Current: status.Scheduled}, DueAt: t0.Add(3 * time.Hour), CreatedAt: t0},
	}
	mustWrite(t, s, store.ThreadWrite{Thread: th, Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Origin: store.Manual, Recipients: 3, ProviderID: "pm"}, Deliveries: dels})

	page, _ := s.Deliveries(ctx, store.DeliveryQuery{MessageID: "m1", Limit: 2})
	page2, _ := s.Deliveries(ctx, store.DeliveryQuery{MessageID: "m1", After: "d2", Limit: 2})
	if ids(page) != "d1 d2" || ids(page2) != "d3" {
		t.Fatalf("deliveries pages %q %q", ids(page), ids(page2))
	}
	sch, _ := s.Scheduled(ctx, "booking:1")
	if ids(sch) != "d1 d2" {
		t.Fatalf("Scheduled = %q", ids(sch))
	}
	claimed, _ := s.ClaimDue(ctx, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10)
	if ids(claimed) != "d2 d1" || claimed[0].Version != 2 || !claimed[0].ClaimedUntil.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("ClaimDue = %+v", claimed)
	}
	if again, _ := s.ClaimDue(ctx, t0.Add(2*time.Hour), t0.Add(3*time.Hour), 10); len(again) != 0 {
		t.Fatalf("claimed twice: %q", ids(again))
	}
	d := claimed[0]
	d.Status.Current = status.Sent
	d.ProviderID = "pd2"
	if err := s.WriteDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteDelivery(ctx, d); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale delivery write: %v", err)
	}
	d1 := claimed[1]
	d1.ProviderID = "pd2"
	if err := s.WriteDelivery(ctx, d1); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("provider ID of another delivery: %v", err)
	}
	d1.ProviderID = "pm" // the message's own provider ID (direct sends)
	if err := s.WriteDelivery(ctx, d1); err != nil {
		t.Fatalf("the message's own provider ID: %v", err)
	}
	if got, _ := s.DeliveryByProviderID(ctx, "pd2"); got.ID != "d2" || got.Version != 3 {
		t.Fatalf("by provider ID: %+v", got)
	}
	m, _ := s.Message(ctx, "m1")
	if m.Counts[status.Sent] != 1 || m.Counts[status.Scheduled] != 2 {
		t.Fatalf("counts = %v", m.Counts)
	}
	if sch, _ := s.Scheduled(ctx, "booking:1"); ids(sch) != "d1" {
		t.Fatalf("Scheduled after send = %q", ids(sch))
	}
	sent, _ := s.Sent(ctx, store.SentQuery{Status: status.Sent, Limit: 5})
	if ids(sent) != "d2" {
		t.Fatalf("Sent = %q", ids(sent))
	}
	all, _ := s.Sent(ctx, store.SentQuery{Limit: 2})
	rest, _ := s.Sent(ctx, store.SentQuery{Limit: 2, After: "d2"})
	if ids(all) != "d1 d2" || ids(rest) != "d3" {
		t.Fatalf("Sent pages %q %q", ids(all), ids(rest))
	}
}

func ids(ds []store.Delivery) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return fmt.Sprint(out)[1 : len(fmt.Sprint(out))-1]
}

// M6, T14: message filters and paging inside a thread.
func TestMessages(t *testing.T) {
	s := memstore.New()
	th := newThread("t1", store.Event)
	mustWrite(t, s, store.ThreadWrite{Thread: th})
	texts := []string{"Bonjour Hélène", "Cours de yoga confirmé", "Rendez-vous demain", "yoga annulé", "Merci"}
	for i, txt := range texts {
		cur, _ := s.Thread(ctx, "t1")
		dir := store.Inbound
		if i%2 == 1 {
			dir = store.Outbound
		}
		// Inserted out of order: the store orders by CreatedAt.
		at := t0.Add(time.Duration((i*3)%5) * time.Minute)
		mustWrite(t, s, store.ThreadWrite{Thread: cur, Message: &store.Message{ID: fmt.Sprint("m", i), ThreadID: "t1", Direction: dir, Kind: channel.SMS, Text: txt, CreatedAt: at}})
	}
	var got []string
	q := store.MessageQuery{ThreadID: "t1", Limit: 2}
	for {
		page, err := s.Messages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, m := range page {
			got = append(got, m.ID)
		}
		q.After = page[len(page)-1].ID
	}
	if diff := cmp.Diff([]string{"m0", "m2", "m4", "m1", "m3"}, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
	page, _ := s.Messages(ctx, store.MessageQuery{ThreadID: "t1", Terms: []string{"yoga"}, Newest: true, Limit: 10})
	if len(page) != 2 || page[0].ID != "m3" || page[1].ID != "m1" {
		t.Fatalf("T14 yoga newest first: %+v", page)
	}
	page, _ = s.Messages(ctx, store.MessageQuery{ThreadID: "t1", Direction: store.Outbound, Since: t0.Add(time.Minute), Until: t0.Add(4 * time.Minute), Limit: 10})
	if len(page) != 1 || page[0].ID != "m1" {
		t.Fatalf("direction and dates: %+v", page)
	}
	if _, err := s.Messages(ctx, store.MessageQuery{ThreadID: "nope", Limit: 1}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown thread: %v", err)
	}
}

// T15, T7: counters judge timed mutes at the given time.
func TestCounters(t *testing.T) {
	s := memstore.New()
	a := newThread("a", store.Contact)
	a.Unread = 1
	b := newThread("b", store.Event)
	b.Unread = 2
	b.Muted, b.MutedUntil = true, t0.Add(time.Hour)
	c := newThread("c", store.Contact)
	c.Unread = 1
	c.Muted = true
	d := newThread("d", store.Audience)
	d.Unread = 1
	d.Archived = true
	for _, th := range []store.Thread{a, b, c, d} {
		mustWrite(t, s, store.ThreadWrite{Thread: th})
	}
	got, _ := s.Counters(ctx, t0)
	if got != (store.Counters{Attention: 1, Contacts: 1}) {
		t.Fatalf("counters now = %+v", got)
	}
	got, _ = s.Counters(ctx, t0.Add(time.Hour))
	if got != (store.Counters{Attention: 2, Contacts: 1, Events: 1}) {
		t.Fatalf("counters after the mute expired = %+v", got)
	}
}

// T3, T11–T13, T15, T17: a randomised run of thousands of writes, after each
// batch of which every list query, the counters and searches are compared
// with a brute-force scan of all threads.
func TestIndexesAgainstBruteForce(t *testing.T) {
	for _, maxListed := range []int{4096, 3} {
		t.Run(fmt.Sprint("maxListed=", maxListed), func(t *testing.T) {
			s := memstore.New()
			memstore.SetMaxListed(s, maxListed)
			randomRun(t, s)
		})
	}
}

func randomRun(t *testing.T, s *memstore.Store) {
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]store.Thread{}
	texts := map[string][]string{} // thread → message texts
	agents := []string{"", "ana", "bob", "cy"}
	names := []string{"Hélène", "Héloïse", "Marc", "Jean-Pierre", "Zoé", "Ana"}
	words := []string{"yoga", "cours", "demain", "annulé", "merci", "rendez-vous", "Pilates"}
	now := t0
	nextMsg := 0
	for batch := range 40 {
		for range 100 {
			now = now.Add(time.Duration(rng.IntN(3)) * time.Minute) // ties on purpose
			var th store.Thread
			var id string
			if len(model) < 10 || rng.IntN(4) == 0 {
				id = fmt.Sprintf("t%03d", len(model))
				th = store.Thread{ID: id, Subject: store.Subject{Kind: store.SubjectKind(1 + rng.IntN(3)), ID: id}, CreatedAt: now, LastActivityAt: now}
			} else {
				id = fmt.Sprintf("t%03d", rng.IntN(len(model)))
				th = model[id]
			}
			th.SortTime = now.Add(-time.Duration(rng.IntN(600)) * time.Minute)
			th.LastActivityAt = th.SortTime
			th.Favourite = rng.IntN(6) == 0
			th.Archived = rng.IntN(8) == 0
			th.Closed = rng.IntN(4) == 0
			th.Dormant = rng.IntN(20) == 0
			th.Unread = max(0, rng.IntN(5)-2)
			th.Muted = rng.IntN(6) == 0
			th.MutedUntil = time.Time{}
			if th.Muted && rng.IntN(2) == 0 {
				th.MutedUntil = now.Add(time.Duration(rng.IntN(120)-60) * time.Minute)
			}
			th.Assignee = agents[rng.IntN(len(agents))]
			th.Snapshot = store.Snapshot{FirstName: names[rng.IntN(len(names))], LastName: names[rng.IntN(len(names))] + "s",
				Email: fmt.Sprintf("u%d@example.fr", rng.IntN(50)), Phone: fmt.Sprintf("+336%08d", rng.IntN(100))}
			w := store.ThreadWrite{Thread: th}
			if rng.IntN(2) == 0 {
				text := words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))]
				w.Message = &store.Message{ID: fmt.Sprint("m", nextMsg), ThreadID: id, Direction: store.Inbound, Text: text, CreatedAt: now}
				nextMsg++
				texts[id] = append(texts[id], text)
			}
			mustWrite(t, s, w)
			th.Version++
			model[id] = th
		}
		checkQueries(t, s, model, texts, now, agents, batch)
	}
}

func checkQueries(t *testing.T, s *memstore.Store, model map[string]store.Thread, texts map[string][]string, now time.Time, agents []string, batch int) {
	t.Helper()
	all := make([]store.Thread, 0, len(model))
	for _, th := range model {
		all = append(all, th)
	}
	slices.SortFunc(all, func(a, b store.Thread) int {
		if store.PositionOf(a).Before(store.PositionOf(b)) {
			return -1
		}
		return 1
	})
	// T15.
	var want store.Counters
	for _, th := range all {
		if th.Unread > 0 && !th.Archived && !th.Dormant && !th.MutedAt(now) {
			want.Add(th.Subject.Kind, 1)
		}
	}
	if got, _ := s.Counters(ctx, now); got != want {
		t.Fatalf("batch %d: counters %+v, want %+v", batch, got, want)
	}
	searches := []store.Search{{}, textindex.ParseQuery("hel"), textindex.ParseQuery("jean-pierre"), textindex.ParseQuery("helene marcs"),
		textindex.ParseQuery("06 00 00 00"), textindex.ParseQuery("yoga"), textindex.ParseQuery("rendez-vous annule"), textindex.ParseQuery("u1")}
	for st := store.All; st <= store.Archived; st++ {
		for lc := store.AnyLifecycle; lc <= store.Closed; lc++ {
			for cat := store.SubjectKind(0); cat <= store.Event; cat++ {
				for ai := -1; ai < len(agents); ai++ {
					for si, search := range searches {
						if si > 0 && (cat != 0 || ai > 0) && batch%5 != 0 {
							continue // keep the test fast: full cross product every 5th batch
						}
						q := store.ThreadQuery{Status: st, Lifecycle: lc, Category: cat, Now: now, Search: search, Limit: 7}
						if ai == 0 {
							q.Unassigned = true
						} else if ai > 0 {
							q.Assignee = agents[ai]
						}
						if batch%3 == 0 {
							q.ActiveSince = now.Add(-5 * time.Hour)
						}
						var expect []string
						for _, th := range all {
							if bruteMatch(&th, &q, texts[th.ID]) {
								expect = append(expect, th.ID)
							}
						}
						var got []string
						for page := 0; ; page++ {
							res, err := s.Threads(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							for _, th := range res {
								got = append(got, th.ID)
							}
							if len(res) < q.Limit {
								break
							}
							p := store.PositionOf(res[len(res)-1])
							q.After = &p
						}
						if diff := cmp.Diff(expect, got); diff != "" {
							t.Fatalf("batch %d, query %+v (-want +got):\n%s", batch, q, diff)
						}
					}
				}
			}
		}
	}
}

// bruteMatch is the reference semantics of a ThreadQuery: its filters, then
// its search on the snapshot or on one message's text.
func bruteMatch(th *store.Thread, q *store.ThreadQuery, texts []string) bool {
	if !memstore.ListMatch(th, q) {
		return false
	}
	if q.Search.IsZero() || textindex.MatchSubject(th.Snapshot, q.Search) {
		return true
	}
	if q.Search.Phone != "" || len(textindex.MessageTerms(q.Search.Terms)) == 0 {
		return false
	}
	return slices.ContainsFunc(texts, func(text string) bool { return textindex.MatchMessage(text, q.Search.Terms) })
}

// T3: threads whose SortTime is outside the range of Unix nanoseconds (the
// zero time, year 3000) keep list order as they move between the trees
// and back.
func TestListOrderOutsideNanoRange(t *testing.T) {
	s := memstore.New()
	times := []time.Time{{}, time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(3000, 1, 1, 0, 0, 0, 1000, time.UTC), t0,
		time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)}
	model := map[string]store.Thread{}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		id := fmt.Sprintf("t%02d", rng.IntN(20))
		th, ok := model[id]
		if !ok {
			th = newThread(id, store.Contact)
		}
		th.SortTime = times[rng.IntN(len(times))]
		th.Unread = rng.IntN(2)
		th.Favourite = rng.IntN(3) == 0
		w := store.ThreadWrite{Thread: th}
		mustWrite(t, s, w)
		th.Version++
		model[id] = th
		if i%10 != 0 {
			continue
		}
		for _, st := range []store.StatusFilter{store.All, store.Unread} {
			var want []string
			all := slices.Collect(func(yield func(store.Thread) bool) {
				for _, th := range model {
					if st == store.All || th.Unread > 0 {
						if !yield(th) {
							return
						}
					}
				}
			})
			slices.SortFunc(all, func(a, b store.Thread) int {
				if store.PositionOf(a).Before(store.PositionOf(b)) {
					return -1
				}
				return 1
			})
			for _, th := range all {
				want = append(want, th.ID)
			}
			got, err := s.Threads(ctx, store.ThreadQuery{Status: st, Now: t0, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []string
			for _, th := range got {
				gotIDs = append(gotIDs, th.ID)
			}
			if diff := cmp.Diff(want, gotIDs); diff != "" {
				t.Fatalf("write %d, status %v (-want +got):\n%s", i, st, diff)
			}
		}
	}
}

// T13 and the contract's concurrency promise: searches for a frequent
// message word running beside writes find every thread that has it, and
// share the word's thread set without a race (run with -race).
func TestConcurrentFrequentWordSearch(t *testing.T) {
	s := memstore.New()
	memstore.SetMaxListed(s, 3)
	const threads = 100
	for i := range threads {
		id := fmt.Sprintf("t%03d", i)
		mustWrite(t, s, store.ThreadWrite{Thread: newThread(id, store.Contact),
			Message: &store.Message{ID: "m" + id, ThreadID: id, Direction: store.Inbound, Text: "yoga demain", CreatedAt: t0}})
	}
	q := store.ThreadQuery{Search: textindex.ParseQuery("yoga"), Now: t0, Limit: threads + 50}
	done := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-done:
					errs <- nil
					return
				default:
				}
				got, err := s.Threads(ctx, q)
				if err == nil && len(got) < threads {
					err = fmt.Errorf("%d threads found, want at least %d", len(got), threads)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 50 {
		id := fmt.Sprintf("u%03d", i)
		mustWrite(t, s, store.ThreadWrite{Thread: newThread(id, store.Contact),
			Message: &store.Message{ID: "m" + id, ThreadID: id, Direction: store.Inbound, Text: "yoga", CreatedAt: t0}})
	}
	close(done)
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Threads(ctx, q)
	if err != nil || len(got) != threads+50 {
		t.Fatalf("after the writes: %d threads, %v; want %d", len(got), err, threads+50)
	}
}
