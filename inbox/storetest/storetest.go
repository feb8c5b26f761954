package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// Run runs the conformance suite against the stores newStore returns. It
// calls newStore once per subtest and expects an empty store each time;
// newStore registers its own cleanup with t. Every rule of the inbox (T1–T20,
// M1–M6, R5, S2–S5, C8) is driven through a real inbox.Inbox on the store,
// so a store that passes serves every rule.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	scenarios := []struct {
		name string
		fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
	}{
		{"T1_OneSubjectOneLiveThread", testT1},
		{"T2_ResumeWindow", testT2},
		{"T3_OrderAndPagination", testT3},
		{"T4_SortTime", testT4},
		{"T3_T4_Property", testT3T4Property},
		{"T5_Unread", testT5},
		{"T6_MarkUnread", testT6},
		{"T7_Mute", testT7},
		{"T8_Favourites", testT8},
		{"T9_Archive", testT9},
		{"T10_Lifecycle", testT10},
		{"T11_Filters", testT11},
		{"T12_Assignment", testT12},
		{"T13_Search", testT13},
		{"T14_SearchInThread", testT14},
		{"T15_Counters", testT15},
		{"T16_Typing", testT16},
		{"T17_VisibilityWindow", testT17},
		{"T18_Dormant", testT18},
		{"T19_Details", testT19},
		{"T20_Events", testT20},
		{"M1_MessageFields", testM1},
		{"M2_GroupMessages", testM2},
		{"M4_RepliesToOwnThread", testM4},
		{"M5_Dedup", testM5},
		{"M6_MessageFilters", testM6},
		{"R5_OptOutKeywords", testR5},
		{"S2_StatusIngestion", testS2},
		{"S3_StatusHistory", testS3},
		{"C8_ClaimDue", testC8},
		{"C8_C15_R8_ScheduledOnStore", testScheduledOnStore},
		{"Store_Promises", testStorePromises},
		{"Store_RoundTrip", testRoundTrip},
		{"Store_MessageTimes", testMessageTimes},
		{"Store_DeliveriesWriter", testDeliveriesWriter},
		{"Stress", testStress},
	}
	scenarios = append(scenarios, issue12Scenarios...)
	scenarios = append(scenarios, feedScenarios...)
	scenarios = append(scenarios, shutdownScenarios...)
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { sc.fn(t, newStore) })
	}
}

func testT1(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	c := e.start(contactSubject(helene))
	a := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	ev := e.start(store.Subject{Kind: store.Event, ID: "e-pilates"})
	if again := e.start(contactSubject(helene)); again.ID != c.ID {
		t.Fatalf("T1: a second start made thread %s, want the live thread %s", again.ID, c.ID)
	}
	if a.Snapshot.Name != "Yoga lovers" || ev.Snapshot.Name != "Pilates débutant 18:00" || c.Snapshot.FirstName != "Hélène" {
		t.Fatalf("T1: snapshots %+v %+v %+v", c.Snapshot, a.Snapshot, ev.Snapshot)
	}
	for kind, want := range map[store.SubjectKind]string{store.Contact: c.ID, store.Audience: a.ID, store.Event: ev.ID} {
		got := e.list(inbox.ThreadQuery{Category: kind}, 10)
		if !slices.Equal(got, []string{want}) {
			t.Errorf("T1: category %s lists %v, want [%s]", kind, got, want)
		}
	}
	if _, err := e.in.Start(e.ctx, store.Subject{Kind: store.Contact, ID: "c-nobody"}); !errors.Is(err, inbox.ErrNotFound) {
		t.Errorf("T1: unknown contact: err = %v, want ErrNotFound", err)
	}
	if _, err := e.in.Start(e.ctx, store.Subject{Kind: 9, ID: "x"}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Errorf("T1: invalid subject kind: err = %v", err)
	}
}

func testT2(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	e.send(th.ID, "Bonjour")
	_, err := e.in.CloseThread(e.ctx, th.ID)
	e.must(err)
	e.clock.Advance(89 * 24 * time.Hour)
	if got := e.start(contactSubject(helene)); got.ID != th.ID {
		t.Fatalf("T2: within the window a closed thread is resumed; got new thread %s", got.ID)
	}
	e.clock.Advance(91 * 24 * time.Hour)
	fresh := e.start(contactSubject(helene))
	if fresh.ID == th.ID {
		t.Fatal("T2: after the resume window a new thread must start")
	}
	if got := e.start(contactSubject(helene)); got.ID != fresh.ID {
		t.Fatal("T2: the new thread is now the live one")
	}
	// a bare phone number resolves to its contact
	byPhone, err := e.in.StartWithAddress(e.ctx, channel.SMS, "+33612345678")
	e.must(err)
	if byPhone.ID != fresh.ID {
		t.Fatalf("T2: sending to Hélène's number started %s, want her thread %s", byPhone.ID, fresh.ID)
	}
	byEmail, err := e.in.StartWithAddress(e.ctx, channel.Email, "marc@example.fr")
	e.must(err)
	if byEmail.Subject != contactSubject(marc) {
		t.Fatalf("T2: email resolved to %v", byEmail.Subject)
	}
	unknown, err := e.in.StartWithAddress(e.ctx, channel.SMS, "+33700000000")
	e.must(err)
	if unknown.Subject != inbox.AddressSubject(channel.SMS, "+33700000000") || unknown.Snapshot.Phone != "+33700000000" {
		t.Fatalf("T2: unknown number subject = %v, snapshot %+v", unknown.Subject, unknown.Snapshot)
	}

	// T2's "0 = always resume" is the window NoLimit (a zero option is
	// the default, 90 days)
	e2 := newEnv(t, ns, inbox.Options{ResumeWindow: inbox.NoLimit})
	th2 := e2.start(contactSubject(marc))
	e2.clock.Advance(3 * 365 * 24 * time.Hour)
	if got := e2.start(contactSubject(marc)); got.ID != th2.ID {
		t.Fatal("T2: a ResumeWindow of NoLimit must resume however old")
	}
	// a configured window
	e3 := newEnv(t, ns, inbox.Options{ResumeWindow: 24 * time.Hour})
	th3 := e3.start(contactSubject(marc))
	e3.clock.Advance(25 * time.Hour)
	if got := e3.start(contactSubject(marc)); got.ID == th3.ID {
		t.Fatal("T2: a 24h window must not resume after 25h")
	}
}

// reference computes the T3 order of threads by sorting them all.
func reference(ts []inbox.Thread) []string {
	slices.SortFunc(ts, func(a, b inbox.Thread) int {
		pa, pb := store.PositionOf(a), store.PositionOf(b)
		switch {
		case pa.Before(pb):
			return -1
		case pb.Before(pa):
			return 1
		}
		return 0
	})
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID
	}
	return out
}

func (e *env) allThreads(ids []string) []inbox.Thread {
	out := make([]inbox.Thread, len(ids))
	for i, id := range ids {
		out[i] = e.thread(id)
	}
	return out
}

func testT3(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	var idsCreated []string
	for i := range 60 {
		th, err := e.in.StartWithAddress(e.ctx, channel.SMS, fmt.Sprintf("+3360000%04d", i))
		e.must(err)
		idsCreated = append(idsCreated, th.ID)
		if i%3 != 0 { // many threads share a sort time: ties broken by ID
			e.clock.Advance(time.Second)
		}
	}
	for i, id := range idsCreated {
		if i%7 == 0 {
			_, err := e.in.SetFavourite(e.ctx, id, true)
			e.must(err)
		}
		if i%5 == 0 {
			e.send(id, "reply")
		}
	}
	want := reference(e.allThreads(idsCreated))
	for _, n := range []int{1, 7, 50, 500} {
		if got := e.list(inbox.ThreadQuery{}, n); !slices.Equal(got, want) {
			t.Fatalf("T3: paging by %d gives\n%v\nwant\n%v", n, got, want)
		}
	}
	// a thread that moves while paging does not make others repeat or vanish
	page, err := e.in.Threads(e.ctx, inbox.ThreadQuery{Limit: 10})
	e.must(err)
	moved := want[40]
	e.send(moved, "news") // jumps to the top of the non-favourites
	rest := e.list(inbox.ThreadQuery{Cursor: page.Next}, 10)
	seen := map[string]int{}
	for _, th := range page.Threads {
		seen[th.ID]++
	}
	for _, id := range rest {
		seen[id]++
	}
	for _, id := range want {
		if id == moved {
			continue
		}
		if seen[id] != 1 {
			t.Fatalf("T3: thread %s seen %d times while another moved", id, seen[id])
		}
	}
	if _, err := e.in.Threads(e.ctx, inbox.ThreadQuery{Cursor: "%%%"}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Fatalf("T3: bad cursor: err = %v", err)
	}
	if _, err := e.in.Threads(e.ctx, inbox.ThreadQuery{Limit: -1}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Fatalf("T3: bad limit: err = %v", err)
	}
}

func testT4(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	in1 := e.receive(channel.SMS, helene.Phone, "Bonjour")
	if th := e.thread(a.ID); !th.SortTime.Equal(in1.SentAt) || !th.LastMessageAt.Equal(in1.SentAt) {
		t.Fatalf("T4: inbound sets sort time to receive time: %v / %v, want %v", th.SortTime, th.LastMessageAt, in1.SentAt)
	}
	out := e.send(b.ID, "Votre cours")
	if th := e.thread(b.ID); !th.SortTime.Equal(out.SentAt) {
		t.Fatalf("T4: outbound sets sort time to send time")
	}
	_, err := e.in.Mute(e.ctx, a.ID, time.Time{})
	e.must(err)
	before := e.thread(a.ID).SortTime
	in2 := e.receive(channel.SMS, helene.Phone, "Encore moi")
	th := e.thread(a.ID)
	if !th.SortTime.Equal(before) {
		t.Fatalf("T4: an inbound message must not move a muted thread (sort %v, was %v)", th.SortTime, before)
	}
	if !th.LastMessageAt.Equal(in2.SentAt) {
		t.Fatal("T4: the latest message time is always kept")
	}
	if got := e.list(inbox.ThreadQuery{}, 10); got[0] != b.ID {
		t.Fatalf("T4: muted thread moved up: %v", got)
	}
	_, err = e.in.MarkRead(e.ctx, a.ID)
	e.must(err)
	if th := e.thread(a.ID); !th.SortTime.Equal(in2.SentAt) {
		t.Fatalf("T4: reading a muted thread sets sort time to its latest message: %v want %v", th.SortTime, in2.SentAt)
	}
	// sending in a muted thread moves it too
	out2 := e.send(a.ID, "ok")
	if th := e.thread(a.ID); !th.SortTime.Equal(out2.SentAt) {
		t.Fatal("T4: outbound in a muted thread sets sort time")
	}
}

func testT5(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	e.receive(channel.SMS, helene.Phone, "1")
	e.receive(channel.SMS, helene.Phone, "2")
	if got := e.thread(th.ID).Unread; got != 2 {
		t.Fatalf("T5: unread = %d, want 2", got)
	}
	_, err := e.in.MarkRead(e.ctx, th.ID)
	e.must(err)
	if got := e.thread(th.ID).Unread; got != 0 {
		t.Fatalf("T5: after read unread = %d", got)
	}
	page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID})
	e.must(err)
	for _, m := range page.Messages {
		if m.Unread {
			t.Fatalf("T5: message %s still unread after reading the thread", m.ID)
		}
	}
	e.receive(channel.SMS, helene.Phone, "3")
	e.send(th.ID, "answer")
	if got := e.thread(th.ID).Unread; got != 0 {
		t.Fatalf("T5: sending in a thread marks it read; unread = %d", got)
	}
}

func testT6(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	if _, err := e.in.MarkUnread(e.ctx, th.ID); !errors.Is(err, inbox.ErrMarkUnreadNotAllowed) {
		t.Fatalf("T6: a thread without messages: err = %v", err)
	}
	m1 := e.receive(channel.SMS, helene.Phone, "1")
	e.receive(channel.SMS, helene.Phone, "2")
	if _, err := e.in.MarkUnread(e.ctx, th.ID); !errors.Is(err, inbox.ErrMarkUnreadNotAllowed) {
		t.Fatalf("T6: a thread with unread messages: err = %v", err)
	}
	_, err := e.in.MarkRead(e.ctx, th.ID)
	e.must(err)
	got, err := e.in.MarkUnread(e.ctx, th.ID)
	e.must(err)
	if got.Unread != 1 || e.thread(th.ID).Unread != 1 {
		t.Fatalf("T6: after mark unread the thread counts %d, want 1", got.Unread)
	}
	page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID})
	e.must(err)
	if n := len(page.Messages); !page.Messages[n-1].Unread || page.Messages[0].Unread {
		t.Fatal("T6: exactly the latest message is unread")
	}
	// single message unread: the count includes it
	got, err = e.in.MarkMessageUnread(e.ctx, m1.ID)
	e.must(err)
	if got.Unread != 2 {
		t.Fatalf("T6: marking a single message unread: count %d, want 2", got.Unread)
	}
	got, err = e.in.MarkMessageUnread(e.ctx, m1.ID)
	e.must(err)
	if got.Unread != 2 {
		t.Fatalf("T6: marking it again changes nothing: %d", got.Unread)
	}
	out := e.send(th.ID, "ok")
	if _, err := e.in.MarkMessageUnread(e.ctx, out.ID); !errors.Is(err, inbox.ErrMarkUnreadNotAllowed) {
		t.Fatalf("T6: outbound message: err = %v", err)
	}
	if _, err := e.in.MarkUnread(e.ctx, "nope"); !errors.Is(err, inbox.ErrNotFound) {
		t.Fatalf("T6: unknown thread: err = %v", err)
	}
}

func testT7(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	e.receive(channel.SMS, helene.Phone, "1")
	e.receive(channel.SMS, marc.Phone, "2")
	_, err := e.in.Mute(e.ctx, a.ID, e.clock.Now().Add(8*time.Hour))
	e.must(err)
	c, err := e.in.Counters(e.ctx)
	e.must(err)
	if c.Attention != 1 {
		t.Fatalf("T7: a muted thread is left out of the badge: attention %d, want 1", c.Attention)
	}
	if th := e.thread(a.ID); th.Unread != 1 || !th.Muted {
		t.Fatalf("T7: muted thread keeps its unread count: %+v", th)
	}
	if got := e.list(inbox.ThreadQuery{Status: inbox.Muted}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T7: muted filter = %v", got)
	}
	e.clock.Advance(9 * time.Hour) // the mute expires by itself
	c, err = e.in.Counters(e.ctx)
	e.must(err)
	if c.Attention != 2 {
		t.Fatalf("T7: after the mute expired attention = %d, want 2", c.Attention)
	}
	if got := e.list(inbox.ThreadQuery{Status: inbox.Muted}, 10); len(got) != 0 {
		t.Fatalf("T7: an expired mute is not listed as muted: %v", got)
	}
	// every thread the inbox returns reads an expired mute as none
	expired := func(how string, th inbox.Thread) {
		t.Helper()
		if th.Muted || !th.MutedUntil.IsZero() {
			t.Fatalf("T7: %s returns a thread whose mute expired as muted (until %v)", how, th.MutedUntil)
		}
	}
	expired("Thread", e.thread(a.ID))
	page, err := e.in.Threads(e.ctx, inbox.ThreadQuery{})
	e.must(err)
	for _, th := range page.Threads {
		expired("Threads", th)
	}
	th, err := e.in.SetFavourite(e.ctx, a.ID, true)
	e.must(err)
	expired("SetFavourite", th)
	th, err = e.in.Start(e.ctx, contactSubject(helene))
	e.must(err)
	expired("Start", th)
	in := e.receive(channel.SMS, helene.Phone, "3")
	if th := e.thread(a.ID); !th.SortTime.Equal(in.SentAt) {
		t.Fatal("T7: after expiry an inbound message moves the thread again")
	}
	_, err = e.in.Mute(e.ctx, b.ID, time.Time{})
	e.must(err)
	_, err = e.in.Unmute(e.ctx, b.ID)
	e.must(err)
	in = e.receive(channel.SMS, marc.Phone, "4")
	if th := e.thread(b.ID); !th.SortTime.Equal(in.SentAt) || th.Muted {
		t.Fatal("T7: unmute restores normal behaviour")
	}
	if _, err := e.in.Mute(e.ctx, b.ID, e.clock.Now().Add(-time.Hour)); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Fatalf("T7: mute until the past: err = %v", err)
	}
}

func testT8(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	e.send(b.ID, "newest")
	_, err := e.in.SetFavourite(e.ctx, a.ID, true)
	e.must(err)
	if got := e.list(inbox.ThreadQuery{}, 10); got[0] != a.ID {
		t.Fatalf("T8: favourite first: %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Status: inbox.Favourites}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T8: favourites filter = %v", got)
	}
	_, err = e.in.SetFavourite(e.ctx, a.ID, false)
	e.must(err)
	if got := e.list(inbox.ThreadQuery{}, 10); got[0] != b.ID {
		t.Fatalf("T8: after un-favourite: %v", got)
	}
}

func testT9(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	_, err := e.in.Archive(e.ctx, a.ID)
	e.must(err)
	if got := e.list(inbox.ThreadQuery{}, 10); !slices.Equal(got, []string{b.ID}) {
		t.Fatalf("T9: archived thread hidden from the default list: %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Search: "helene"}, 10); len(got) != 0 {
		t.Fatalf("T9: archived thread hidden from search: %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Status: inbox.Archived}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T9: archived filter = %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Status: inbox.Archived, Search: "dupont"}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T9: search inside the archived filter = %v", got)
	}
	e.receive(channel.SMS, helene.Phone, "back")
	if e.thread(a.ID).Archived {
		t.Fatal("T9: an inbound message restores an archived thread")
	}
	_, err = e.in.Archive(e.ctx, a.ID)
	e.must(err)
	e.send(a.ID, "hello")
	if e.thread(a.ID).Archived {
		t.Fatal("T9: an outbound message restores an archived thread")
	}
	_, err = e.in.Archive(e.ctx, b.ID)
	e.must(err)
	_, err = e.in.Restore(e.ctx, b.ID)
	e.must(err)
	if th := e.thread(b.ID); th.Archived || th.Messages != 0 {
		t.Fatal("T9: explicit restore, nothing deleted")
	}
}

func testT10(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	c := e.start(contactSubject(john))
	_, err := e.in.CloseThread(e.ctx, a.ID)
	e.must(err)
	if got := e.list(inbox.ThreadQuery{Lifecycle: inbox.Closed}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T10: closed filter = %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Search: "helene"}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("T10: closed threads stay searchable: %v", got)
	}
	e.receive(channel.SMS, helene.Phone, "hi")
	if e.thread(a.ID).Closed {
		t.Fatal("T10: an inbound message reopens a closed thread")
	}
	_, err = e.in.CloseThread(e.ctx, a.ID)
	e.must(err)
	e.send(a.ID, "ok")
	if e.thread(a.ID).Closed {
		t.Fatal("T10: an outbound message reopens a closed thread")
	}
	_, err = e.in.CloseThread(e.ctx, b.ID)
	e.must(err)
	_, err = e.in.ReopenThread(e.ctx, b.ID)
	e.must(err)
	if e.thread(b.ID).Closed {
		t.Fatal("T10: explicit reopen")
	}
	// bulk actions
	e.receive(channel.SMS, marc.Phone, "1")
	e.receive(channel.SMS, john.Phone, "2")
	n, err := e.in.CloseAllRead(e.ctx)
	e.must(err)
	if n != 1 || !e.thread(a.ID).Closed || e.thread(b.ID).Closed || e.thread(c.ID).Closed {
		t.Fatalf("T10: close all read closed %d; only the thread with nothing unread closes", n)
	}
	n, err = e.in.MarkAllRead(e.ctx)
	e.must(err)
	if n != 2 || e.thread(b.ID).Unread != 0 || e.thread(c.ID).Unread != 0 {
		t.Fatalf("T10: mark all read changed %d threads", n)
	}
}

func testT11(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	c := e.start(contactSubject(helene))
	a := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	ev := e.start(store.Subject{Kind: store.Event, ID: "e-pilates"})
	m := e.start(contactSubject(marc))
	e.receive(channel.SMS, helene.Phone, "unread")
	_, err := e.in.SetFavourite(e.ctx, a.ID, true)
	e.must(err)
	_, err = e.in.Mute(e.ctx, ev.ID, time.Time{})
	e.must(err)
	_, err = e.in.Archive(e.ctx, m.ID)
	e.must(err)
	_, err = e.in.CloseThread(e.ctx, ev.ID)
	e.must(err)
	cases := []struct {
		q    inbox.ThreadQuery
		want []string
	}{
		{inbox.ThreadQuery{}, []string{a.ID, c.ID, ev.ID}},
		{inbox.ThreadQuery{Status: inbox.Unread}, []string{c.ID}},
		{inbox.ThreadQuery{Status: inbox.Favourites}, []string{a.ID}},
		{inbox.ThreadQuery{Status: inbox.Muted}, []string{ev.ID}},
		{inbox.ThreadQuery{Status: inbox.Archived}, []string{m.ID}},
		{inbox.ThreadQuery{Lifecycle: inbox.Open}, []string{a.ID, c.ID}},
		{inbox.ThreadQuery{Lifecycle: inbox.Closed}, []string{ev.ID}},
		{inbox.ThreadQuery{Category: inbox.SubjectContact}, []string{c.ID}},
		{inbox.ThreadQuery{Category: inbox.SubjectEvent, Status: inbox.Muted, Lifecycle: inbox.Closed}, []string{ev.ID}},
		{inbox.ThreadQuery{Category: inbox.SubjectAudience, Lifecycle: inbox.Closed}, nil},
	}
	for _, tc := range cases {
		got := e.list(tc.q, 2)
		if !slices.Equal(got, tc.want) {
			t.Errorf("T11: %+v lists %v, want %v", tc.q, got, tc.want)
		}
	}
}

func testT12(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(contactSubject(helene))
	b := e.start(contactSubject(marc))
	_, err := e.in.Assign(e.ctx, a.ID, "alice", "boss")
	e.must(err)
	e.clock.Advance(time.Minute)
	_, err = e.in.Assign(e.ctx, a.ID, "bob", "alice")
	e.must(err)
	e.clock.Advance(time.Minute)
	_, err = e.in.Unassign(e.ctx, a.ID, "bob")
	e.must(err)
	_, err = e.in.Assign(e.ctx, a.ID, "bob", "boss")
	e.must(err)
	h, err := e.in.Assignments(e.ctx, a.ID)
	e.must(err)
	want := []inbox.Assignment{
		{ThreadID: a.ID, From: "", To: "alice", By: "boss", At: t0},
		{ThreadID: a.ID, From: "alice", To: "bob", By: "alice", At: t0.Add(time.Minute)},
		{ThreadID: a.ID, From: "bob", To: "", By: "bob", At: t0.Add(2 * time.Minute)},
		{ThreadID: a.ID, From: "", To: "bob", By: "boss", At: t0.Add(2 * time.Minute)},
	}
	if len(h) != len(want) {
		t.Fatalf("T12: history %+v", h)
	}
	for i := range want {
		if h[i].From != want[i].From || h[i].To != want[i].To || h[i].By != want[i].By || !h[i].At.Equal(want[i].At) {
			t.Errorf("T12: history[%d] = %+v, want %+v", i, h[i], want[i])
		}
	}
	if got := e.list(inbox.ThreadQuery{Assignee: "bob"}, 10); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("T12: assigned to bob = %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Unassigned: true}, 10); !slices.Equal(got, []string{b.ID}) {
		t.Errorf("T12: unassigned = %v", got)
	}
	if got := e.list(inbox.ThreadQuery{Assignee: "alice"}, 10); len(got) != 0 {
		t.Errorf("T12: assigned to alice = %v", got)
	}
	if _, err := e.in.Threads(e.ctx, inbox.ThreadQuery{Assignee: "x", Unassigned: true}); !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Errorf("T12: contradictory filter: err = %v", err)
	}
}

func testT13(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	h := e.start(contactSubject(helene))
	m := e.start(contactSubject(marc))
	j := e.start(contactSubject(john))
	a := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	ev := e.start(store.Subject{Kind: store.Event, ID: "e-pilates"})
	e.send(m.ID, "Votre abonnement annuel est renouvelé")
	cases := map[string][]string{
		"helene":            {h.ID},
		"HÉLÈNE":            {h.ID},
		"hel":               {h.ID},
		"dupont":            {h.ID},
		"helene dupont":     {h.ID},
		"john@example.com":  {j.ID},
		"o'brien":           {j.ID},
		"06 12 34 56 78":    {h.ID},
		"+33612345678":      {h.ID},
		"0612345678":        {h.ID},
		"+1 201 555 0123":   {j.ID},
		"yoga":              {a.ID},
		"pilates debutant":  {ev.ID},
		"abonnement":        {m.ID},
		"ABONNEMENT annuel": {m.ID},
		"zzz":               nil,
	}
	for q, want := range cases {
		got := e.list(inbox.ThreadQuery{Search: q}, 10)
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("T13: search %q = %v, want %v", q, got, w)
		}
	}
	// search combines with the filters
	if got := e.list(inbox.ThreadQuery{Search: "helene", Category: inbox.SubjectEvent}, 10); len(got) != 0 {
		t.Errorf("T13: search inside a category = %v", got)
	}
	// the host changes its records: the snapshot is refreshed and searched
	changed := marc
	changed.LastName, changed.Phone = "Moreau-Martin", "+33699887766"
	e.dir.contacts[marc.ID] = changed
	if _, err := e.in.RefreshSnapshot(e.ctx, contactSubject(marc)); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"moreau", "06 99 88 77 66"} {
		if got := e.list(inbox.ThreadQuery{Search: q}, 10); !slices.Equal(got, []string{m.ID}) {
			t.Errorf("T13: after refresh, search %q = %v", q, got)
		}
	}
	if got := e.list(inbox.ThreadQuery{Search: "06 87 65 43 21"}, 10); len(got) != 0 {
		t.Errorf("T13: the old phone still matches: %v", got)
	}
}

func testT14(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	e.receive(channel.SMS, helene.Phone, "Je voudrais réserver le cours de yoga")
	e.send(th.ID, "Le cours est complet")
	x := e.receive(channel.SMS, helene.Phone, "Dommage, et le cours de Pilates ?")
	page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID, Search: "cours pilates"})
	e.must(err)
	if len(page.Messages) != 1 || page.Messages[0].ID != x.ID {
		t.Fatalf("T14: search in thread = %+v", page.Messages)
	}
	page, err = e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID, Search: "COURS"})
	e.must(err)
	if len(page.Messages) != 3 {
		t.Fatalf("T14: %d messages hold 'cours', want 3", len(page.Messages))
	}
	page, err = e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID, Search: "reserver"})
	e.must(err)
	if len(page.Messages) != 1 {
		t.Fatalf("T14: accent-insensitive search found %d", len(page.Messages))
	}
}

func testT15(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	e.start(contactSubject(helene))
	e.start(contactSubject(marc))
	j := e.start(contactSubject(john))
	z := e.start(contactSubject(zoe))
	e.receive(channel.SMS, helene.Phone, "1")
	e.receive(channel.SMS, helene.Phone, "2")
	e.receive(channel.SMS, marc.Phone, "3")
	e.receive(channel.SMS, john.Phone, "4")
	e.receive(channel.SMS, zoe.Phone, "5")
	_, err := e.in.Mute(e.ctx, j.ID, time.Time{})
	e.must(err)
	_, err = e.in.Archive(e.ctx, z.ID)
	e.must(err)
	c, err := e.in.Counters(e.ctx)
	e.must(err)
	if c.Attention != 2 || c.Contacts != 2 || c.Category(store.Contact) != 2 || c.Audiences != 0 || c.Events != 0 {
		t.Fatalf("T15: counters %+v, want attention 2 (contacts 2)", c)
	}
	if th := e.thread(j.ID); th.Unread != 1 {
		t.Fatal("T15: a muted thread keeps its unread count")
	}
}

func testT16(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	exp, err := e.in.MarkTyping(e.ctx, th.ID, "agent-1")
	e.must(err)
	if !exp.Equal(e.clock.Now().Add(inbox.DefaultTypingTTL)) {
		t.Fatalf("T16: expiry %v", exp)
	}
	if got := e.in.Typers(th.ID); !slices.Equal(got, []string{"agent-1"}) {
		t.Fatalf("T16: typers = %v", got)
	}
	e.clock.Advance(4 * time.Second)
	_, err = e.in.MarkTyping(e.ctx, th.ID, "agent-1") // refreshed
	e.must(err)
	e.clock.Advance(4 * time.Second)
	if got := e.in.Typers(th.ID); len(got) != 1 {
		t.Fatal("T16: a refreshed indicator lasts")
	}
	e.clock.Advance(2 * time.Second)
	if got := e.in.Typers(th.ID); len(got) != 0 {
		t.Fatalf("T16: the indicator expires by itself: %v", got)
	}
	_, err = e.in.MarkTyping(e.ctx, th.ID, "agent-1")
	e.must(err)
	e.send(th.ID, "sent") // by agent-1: ends the indicator
	if got := e.in.Typers(th.ID); len(got) != 0 {
		t.Fatalf("T16: sending ends typing: %v", got)
	}
}

func testT17(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{VisibilityWindow: 90 * 24 * time.Hour})
	old := e.start(contactSubject(helene))
	e.clock.Advance(100 * 24 * time.Hour)
	recent := e.start(contactSubject(marc))
	if got := e.list(inbox.ThreadQuery{}, 10); !slices.Equal(got, []string{recent.ID}) {
		t.Fatalf("T17: list = %v, want only the recent thread", got)
	}
	e.receive(channel.SMS, helene.Phone, "hello again") // resumes? no: a new thread after 90 days
	if got := e.list(inbox.ThreadQuery{}, 10); len(got) != 2 || slices.Contains(got, old.ID) {
		t.Fatalf("T17: list = %v", got)
	}
}

func testT18(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{DormantThreads: true})
	th := e.start(contactSubject(helene))
	for i := range 2 {
		e.clock.Advance(time.Hour)
		_, _, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS,
			Origin: inbox.Automatic, Text: fmt.Sprintf("Rappel %d", i), Author: inbox.Author{Automation: "reminder"}}})
		e.must(err)
	}
	if got := e.list(inbox.ThreadQuery{}, 10); len(got) != 0 {
		t.Fatalf("T18: a thread with only automatic messages is not listed: %v", got)
	}
	e.receive(channel.SMS, helene.Phone, "Merci !")
	if got := e.list(inbox.ThreadQuery{}, 10); !slices.Equal(got, []string{th.ID}) {
		t.Fatalf("T18: after an inbound message the thread is listed: %v", got)
	}
	page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: th.ID})
	e.must(err)
	if len(page.Messages) != 3 {
		t.Fatalf("T18: earlier automatic messages show: %d", len(page.Messages))
	}
	// a manual outbound message also starts the conversation
	m := e.start(contactSubject(marc))
	_, _, err = e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: m.ID, Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Automatic, Text: "auto"}})
	e.must(err)
	e.send(m.ID, "manual")
	if got := e.list(inbox.ThreadQuery{Category: inbox.SubjectContact}, 10); !slices.Contains(got, m.ID) {
		t.Fatal("T18: a manual outbound message wakes the thread")
	}
}

func testT19(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	d, err := e.in.Details(e.ctx, th.ID)
	e.must(err)
	if d.Contact == nil || d.Contact.Phone != helene.Phone || len(d.Contact.Bookings) != 1 {
		t.Fatalf("T19: contact details %+v", d.Contact)
	}
	ev := e.start(store.Subject{Kind: store.Event, ID: "e-pilates"})
	d, err = e.in.Details(e.ctx, ev.ID)
	e.must(err)
	if d.Event == nil || d.Event.Teacher != "Léa" {
		t.Fatalf("T19: event details %+v", d.Event)
	}
}

func testT20(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{EventBuffer: 2})
	ctx, cancel := contextWithCancel(e)
	sub := e.in.Subscribe(ctx)
	th := e.start(contactSubject(helene))
	e.receive(channel.SMS, helene.Phone, "1")
	for range 5 { // the subscriber does not read: the inbox must not block
		e.receive(channel.SMS, helene.Phone, "x")
	}
	first := <-sub.C()
	if first.Type != inbox.EventThreadStarted || first.ThreadID != th.ID {
		t.Fatalf("T20: first event %+v", first)
	}
	<-sub.C()
	_, err := e.in.MarkRead(e.ctx, th.ID)
	e.must(err)
	ev := <-sub.C()
	if ev.Type != inbox.EventThreadRead || ev.Missed != 5 || sub.Missed() != 5 {
		t.Fatalf("T20: event after missing 5: %+v (missed total %d)", ev, sub.Missed())
	}
	cancel()
	for range sub.C() {
	}
}

func testM1(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	e.clock.Advance(time.Minute)
	m, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{
		Kind: channel.Email, Origin: inbox.Manual, Subject: "Votre séjour", Text: "Bonjour", HTML: "<p>Bonjour</p>",
		Attachments: []channel.Attachment{{Name: "plan.pdf", ContentType: "application/pdf", URL: "https://x/plan.pdf", Size: 1200}},
		Identity:    "reception", Author: inbox.Author{Agent: "agent-7"}, Broadcast: "Été 2026", Template: "welcome",
		Cost: channel.Cost{Micros: 0, Currency: "EUR"}, SMS: store.SMSInfo{}},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Email, ProviderID: "<abc@mail>",
			Status: status.Record{Current: status.Validated}}}})
	e.must(err)
	got, err := e.in.Message(e.ctx, m.ID)
	e.must(err)
	if got.Subject != "Votre séjour" || got.HTML != "<p>Bonjour</p>" || got.Author.Agent != "agent-7" || got.Broadcast != "Été 2026" ||
		got.Template != "welcome" || got.Identity != "reception" || got.Origin != inbox.Manual || got.Direction != inbox.Outbound ||
		len(got.Attachments) != 1 || got.Attachments[0].Name != "plan.pdf" || !got.SentAt.Equal(e.clock.Now()) || got.Recipients != 1 {
		t.Fatalf("M1: stored message %+v", got)
	}
	if got.Counts[status.Validated] != 1 {
		t.Fatalf("M1: counts %v", got.Counts)
	}
	d, err := e.store.Delivery(e.ctx, ds[0].ID)
	e.must(err)
	if d.Address != helene.Email || d.ProviderID != "<abc@mail>" || d.Campaign != "Été 2026" || d.MessageID != m.ID {
		t.Fatalf("M1: delivery %+v", d)
	}
}

func testM2(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	var ds []inbox.Delivery
	for i, c := range []recipient.Contact{helene, marc} {
		ds = append(ds, inbox.Delivery{ContactID: c.ID, Address: c.Phone, ProviderID: fmt.Sprintf("g-%d", i)})
	}
	m, stored, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: a.ID,
		Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Manual, Text: "Cours annulé demain"}, Deliveries: ds})
	e.must(err)
	if m.Recipients != 2 || len(stored) != 2 {
		t.Fatalf("M2: recipients %d", m.Recipients)
	}
	e.must(e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "g-0", Status: status.Delivered}))
	e.must(e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "g-1", Status: status.Failed, ErrorCode: "30003"}))
	got, err := e.in.Message(e.ctx, m.ID)
	e.must(err)
	if got.Counts[status.Delivered] != 1 || got.Counts[status.Failed] != 1 || got.Counts.Total() != 2 {
		t.Fatalf("M2/S5: counts %v", got.Counts)
	}
	p1, err := e.in.Deliveries(e.ctx, inbox.DeliveryQuery{MessageID: m.ID, Limit: 1})
	e.must(err)
	p2, err := e.in.Deliveries(e.ctx, inbox.DeliveryQuery{MessageID: m.ID, Cursor: p1.Next, Limit: 1})
	e.must(err)
	all, rest := p1.Deliveries, p2.Deliveries
	if len(all) != 1 || len(rest) != 1 || all[0].ContactID != helene.ID || rest[0].Status.Current != status.Failed {
		t.Fatalf("M2: every recipient's status: %+v %+v", all, rest)
	}
	var each []string
	for d, err := range e.in.AllDeliveries(e.ctx, inbox.DeliveryQuery{MessageID: m.ID, Limit: 1}) {
		e.must(err)
		each = append(each, d.ContactID)
	}
	if !slices.Equal(each, []string{all[0].ContactID, rest[0].ContactID}) {
		t.Fatalf("M2: AllDeliveries = %v", each)
	}
}

func testM4(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	_, _, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: a.ID,
		Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Manual, Text: "Promo"}, Deliveries: []inbox.Delivery{{ContactID: marc.ID, Address: marc.Phone, ProviderID: "p1"}}})
	e.must(err)
	r := e.receive(channel.SMS, marc.Phone, "Intéressé !")
	th := e.thread(r.ThreadID)
	if th.Subject != contactSubject(marc) {
		t.Fatalf("M4: the reply landed in %v, want Marc's own thread", th.Subject)
	}
	if e.thread(a.ID).Unread != 0 {
		t.Fatal("M4: the audience thread got the reply")
	}
	// a reply sent to a group thread's token still lands in the contact's thread
	e.seq++
	m, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: marc.Email, ThreadToken: a.ID, Text: "re", ProviderID: "em-1"})
	e.must(err)
	if m.ThreadID != th.ID {
		t.Fatalf("M4: email reply with a group token landed in %s", m.ThreadID)
	}
	// a token naming the contact's own thread routes there
	m, err = e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.Email, From: "other@x.org", ThreadToken: th.ID, Text: "from another address", ProviderID: "em-2"})
	e.must(err)
	if m.ThreadID != th.ID {
		t.Fatalf("M4: token routing landed in %s", m.ThreadID)
	}
}

func testM5(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	in := channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "Bonjour", ProviderID: "SM123", ReceivedAt: t0}
	m1, err := e.in.ReceiveMessage(e.ctx, in)
	e.must(err)
	m2, err := e.in.ReceiveMessage(e.ctx, in)
	e.must(err)
	e.must(e.in.Receive(e.ctx, in))
	th := e.thread(m1.ThreadID)
	if m1.ID != m2.ID || th.Messages != 1 || th.Unread != 1 {
		t.Fatalf("M5: a webhook delivered three times recorded %d messages (%s, %s)", th.Messages, m1.ID, m2.ID)
	}
	if _, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: 0, From: "x"}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("M5: invalid inbound: err = %v", err)
	}
	if _, err := e.in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("M5: inbound without sender: err = %v", err)
	}
}

func testM6(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	ev := e.start(store.Subject{Kind: store.Event, ID: "e-pilates"})
	rec := func(kind channel.Kind, origin store.Origin, groups []string, text string) inbox.Message {
		e.clock.Advance(time.Hour)
		m, _, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: ev.ID, Message: inbox.Message{Kind: kind, Origin: origin, Groups: groups, Text: text, Subject: "s"}})
		e.must(err)
		return m
	}
	m1 := rec(channel.SMS, inbox.Manual, []string{"booked"}, "a")
	m2 := rec(channel.Email, inbox.Manual, []string{"waitlisted"}, "b")
	m3 := rec(channel.Push, inbox.Automatic, []string{"booked", "cancelled"}, "c")
	check := func(q inbox.MessageQuery, want ...inbox.Message) {
		t.Helper()
		q.ThreadID = ev.ID
		page, err := e.in.Messages(e.ctx, q)
		e.must(err)
		var got, w []string
		for _, m := range page.Messages {
			got = append(got, m.ID)
		}
		for _, m := range want {
			w = append(w, m.ID)
		}
		if !slices.Equal(got, w) {
			t.Errorf("M6: %+v = %v, want %v", q, got, w)
		}
	}
	check(inbox.MessageQuery{Kinds: []channel.Kind{channel.SMS, channel.Push}}, m1, m3)
	check(inbox.MessageQuery{Since: m2.CreatedAt}, m2, m3)
	check(inbox.MessageQuery{Until: m2.CreatedAt}, m1)
	check(inbox.MessageQuery{Direction: inbox.Outbound, Origin: inbox.Automatic}, m3)
	check(inbox.MessageQuery{Groups: []string{"booked"}}, m1, m3)
	check(inbox.MessageQuery{Groups: []string{"cancelled"}}, m3)
	check(inbox.MessageQuery{Direction: inbox.Inbound})
	check(inbox.MessageQuery{Newest: true}, m3, m2, m1)
	page, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: ev.ID, Limit: 2})
	e.must(err)
	page2, err := e.in.Messages(e.ctx, inbox.MessageQuery{ThreadID: ev.ID, Limit: 2, Cursor: page.Next})
	e.must(err)
	if len(page.Messages) != 2 || len(page2.Messages) != 1 || page2.Messages[0].ID != m3.ID || page2.Next != "" {
		t.Fatalf("M6: paging: %d then %d", len(page.Messages), len(page2.Messages))
	}
}

func testR5(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	e.receive(channel.SMS, helene.Phone, "  Arrêt ")
	for _, k := range []channel.Kind{channel.SMS, channel.MMS} {
		out, err := e.in.OptedOut(e.ctx, k, helene.Phone)
		e.must(err)
		if !out {
			t.Fatalf("R5: ARRÊT opts out of %s", k)
		}
	}
	if out, _ := e.in.OptedOut(e.ctx, channel.WhatsApp, helene.Phone); out {
		t.Fatal("R5: an SMS stop does not opt out of WhatsApp")
	}
	e.receive(channel.SMS, helene.Phone, "stop please") // not the whole text
	e.receive(channel.SMS, helene.Phone, "start")
	if out, _ := e.in.OptedOut(e.ctx, channel.SMS, helene.Phone); out {
		t.Fatal("R5: START opts back in")
	}
	e.receive(channel.WhatsApp, "33612345678", "STOP") // WhatsApp gives numbers without +
	if out, _ := e.in.OptedOut(e.ctx, channel.WhatsApp, "+33612345678"); !out {
		t.Fatal("R5: WhatsApp STOP")
	}
	th := e.thread(e.receive(channel.SMS, marc.Phone, "STOP").ThreadID)
	if th.Messages != 1 {
		t.Fatal("R5: the keyword message itself is stored")
	}
	e.must(e.in.SetOptedOut(e.ctx, channel.Email, "ZOE@example.fr", true))
	if out, _ := e.in.OptedOut(e.ctx, channel.Email, "zoe@example.fr"); !out {
		t.Fatal("R5: provider-reported opt-out")
	}
}

func testS2(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	_, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.WhatsApp, Text: "hi"},
		Deliveries: []inbox.Delivery{{ContactID: helene.ID, Address: helene.Phone, ProviderID: "wamid.1", Status: status.Record{Current: status.Validated}}}})
	e.must(err)
	// each provider event has its own time; it arrives out of order and twice
	seq := []status.Status{status.Read, status.Sent, status.Delivered, status.Sent, status.Read, status.Validated}
	for _, s := range seq {
		e.must(e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "wamid.1", Status: s, Raw: s.String(), At: t0.Add(time.Duration(s) * time.Second)}))
	}
	d, err := e.store.Delivery(e.ctx, ds[0].ID)
	e.must(err)
	var got []status.Status
	for _, c := range d.Status.History {
		got = append(got, c.Status)
	}
	if d.Status.Current != status.Read || !slices.Equal(got, []status.Status{status.Validated, status.Sent, status.Delivered, status.Read}) {
		t.Fatalf("S2/S3: %s with history %v; want read with the 4 distinct events in event-time order", d.Status.Current, got)
	}
	err = e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "nope", Status: status.Delivered})
	if !errors.Is(err, channel.ErrUnknownMessage) {
		t.Fatalf("S2: unknown provider ID: err = %v", err)
	}
	if err := e.in.ApplyStatus(e.ctx, channel.StatusUpdate{ProviderID: "wamid.1"}); !errors.Is(err, channel.ErrInvalidMessage) {
		t.Fatalf("S2: invalid status: err = %v", err)
	}
}

func testC8(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	th := e.start(contactSubject(helene))
	due := e.clock.Now().Add(time.Hour)
	_, ds, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Scheduled, Text: "later", ScheduledFor: due},
		Deliveries: []inbox.Delivery{
			{ContactID: helene.ID, Address: helene.Phone, DueAt: due, Anchor: "booking:1", Status: status.Record{Current: status.Scheduled}},
			{ContactID: marc.ID, Address: marc.Phone, DueAt: due.Add(time.Hour), Status: status.Record{Current: status.Scheduled}},
		}})
	e.must(err)
	if th := e.thread(th.ID); th.Messages != 1 || !th.LastMessageAt.IsZero() {
		t.Fatalf("C8: a scheduled message does not move the thread before it is sent: %+v", th)
	}
	got, err := e.store.ClaimDue(e.ctx, e.clock.Now(), e.clock.Now().Add(time.Minute), 10)
	e.must(err)
	if len(got) != 0 {
		t.Fatalf("C8: nothing is due yet, claimed %d", len(got))
	}
	now := due.Add(time.Minute)
	got, err = e.store.ClaimDue(e.ctx, now, now.Add(time.Minute), 10)
	e.must(err)
	if len(got) != 1 || got[0].ID != ds[0].ID {
		t.Fatalf("C8: claimed %+v", got)
	}
	again, err := e.store.ClaimDue(e.ctx, now, now.Add(time.Minute), 10)
	e.must(err)
	if len(again) != 0 {
		t.Fatal("C8: a claimed delivery is not claimed twice")
	}
	later := now.Add(2 * time.Hour) // the first claim expired, the second is due
	again, err = e.store.ClaimDue(e.ctx, later, later.Add(time.Minute), 10)
	e.must(err)
	if len(again) != 2 || again[0].ID != ds[0].ID {
		t.Fatalf("C8: after the lease expired: %+v", again)
	}
	sch, err := e.store.Scheduled(e.ctx, "booking:1")
	e.must(err)
	if len(sch) != 1 || sch[0].ID != ds[0].ID {
		t.Fatalf("C15: scheduled by anchor = %+v", sch)
	}
	// concurrent claimers never claim the same delivery
	_, many, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Scheduled, Text: "bulk", ScheduledFor: due},
		Deliveries: func() []inbox.Delivery {
			var ds []inbox.Delivery
			for i := range 200 {
				ds = append(ds, inbox.Delivery{Address: fmt.Sprintf("+3360000%04d", i), DueAt: due, Status: status.Record{Current: status.Scheduled}})
			}
			return ds
		}()})
	e.must(err)
	far := later.Add(10 * time.Hour)
	type claims struct {
		got []store.Delivery
		err error
	}
	claimed := make(chan claims, 4)
	for range 4 {
		go func() {
			var mine []store.Delivery
			for {
				got, err := e.store.ClaimDue(e.ctx, far, far.Add(time.Hour), 7)
				if err != nil || len(got) == 0 {
					claimed <- claims{mine, err}
					return
				}
				mine = append(mine, got...)
			}
		}()
	}
	seen := map[string]bool{}
	add := func(ds []store.Delivery) {
		for _, d := range ds {
			if seen[d.ID] {
				t.Fatalf("C8: delivery %s claimed twice", d.ID)
			}
			seen[d.ID] = true
		}
	}
	for range 4 {
		c := <-claimed
		e.must(c.err)
		add(c.got)
	}
	// A claimer may find nothing while the last due deliveries are locked
	// by another's claim that then takes fewer (a store that skips locked
	// rows, as pgstore does, answers so): what the concurrent claimers
	// left is claimed now, once.
	for {
		got, err := e.store.ClaimDue(e.ctx, far, far.Add(time.Hour), 7)
		e.must(err)
		if len(got) == 0 {
			break
		}
		add(got)
	}
	if len(seen) != len(many)+2 {
		t.Fatalf("C8: claimed %d of %d", len(seen), len(many)+2)
	}
}
