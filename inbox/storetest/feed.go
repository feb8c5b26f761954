package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
)

// feedScenarios check the event feed (T20) and the shared rate limiter
// (C9): what several app instances on one store share.
var feedScenarios = []struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) store.Store)
}{
	{"T20_Feed_Promises", testFeedPromises},
	{"T20_Feed_TwoInboxes", testFeedTwoInboxes},
	{"T20_Feed_Resume", testFeedResume},
	{"T16_TypingAcrossInboxes", testTypingAcrossInboxes},
	{"C9_ReserveSends", testReserveSends},
}

// second returns another Inbox on e's store, with its own IDs: another
// app instance.
func (e *env) second(prefix string) *inbox.Inbox {
	e.t.Helper()
	in, err := inbox.New(e.store, inbox.Options{Now: e.clock.Now, Directory: e.dir, NewID: ids(prefix),
		Logger: quietLogger, StatusWait: -1})
	e.must(err)
	e.t.Cleanup(func() { _ = in.Close() })
	return in
}

// waitEvent returns the next event of s, failing when none comes in a
// minute (a store's watch is asynchronous).
func waitEvent(t *testing.T, s *inbox.Subscription) inbox.Event {
	t.Helper()
	select {
	case e, ok := <-s.C():
		if !ok {
			t.Fatal("T20: the subscription closed")
		}
		return e
	case <-time.After(time.Minute):
		t.Fatal("T20: no event within a minute")
	}
	return inbox.Event{}
}

// testFeedPromises checks the Feed contract on the store alone:
// consecutive numbers, order, limits, pruning of a prefix, watch notices.
func testFeedPromises(t *testing.T, ns func(*testing.T) store.Store) {
	s := ns(t)
	ctx := context.Background()
	head, err := s.LastEventSeq(ctx)
	if err != nil {
		t.Fatal(err)
	}
	notices := make(chan store.Notice, 100)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := s.Watch(wctx, func(n store.Notice) {
		select {
		case notices <- n:
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	at := t0
	ev := func(i int) store.FeedEvent {
		return store.FeedEvent{At: at.Add(time.Duration(i) * time.Minute), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))}
	}
	first := []store.FeedEvent{ev(0), ev(1), ev(2)}
	if err := s.AppendEvents(ctx, first...); err != nil {
		t.Fatal(err)
	}
	// The writer may reuse its Data once the write returns (store.FeedEvent):
	// the store keeps a copy.
	for _, e := range first {
		copy(e.Data, "XXXXXX")
	}
	if err := s.AppendEvents(ctx, ev(3)); err != nil {
		t.Fatal(err)
	}
	got, err := s.ReadEvents(ctx, head, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("T20: read %d events, want 4", len(got))
	}
	for i, e := range got {
		if e.Seq != head+uint64(i)+1 || string(e.Data) != fmt.Sprintf(`{"n":%d}`, i) || !e.At.Equal(ev(i).At) {
			t.Fatalf("T20: event %d = %d %q %v, want %d in order", i, e.Seq, e.Data, e.At, head+uint64(i)+1)
		}
	}
	got[0].Data[0] = 'X' // a copy: the store keeps its own
	if again, _ := s.ReadEvents(ctx, head, 1); len(again) != 1 || again[0].Data[0] != '{' {
		t.Fatal("T20: ReadEvents returned the store's own memory")
	}
	if page, _ := s.ReadEvents(ctx, head+1, 2); len(page) != 2 || page[0].Seq != head+2 {
		t.Fatalf("T20: a page of 2 after %d: %+v", head+1, page)
	}
	if last, _ := s.LastEventSeq(ctx); last != head+4 {
		t.Fatalf("T20: LastEventSeq = %d, want %d", last, head+4)
	}
	if none, err := s.ReadEvents(ctx, head+4, 5); err != nil || len(none) != 0 {
		t.Fatalf("T20: after the latest: %v, %v", none, err)
	}
	if _, err := s.ReadEvents(ctx, head, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("T20: limit 0: %v, want ErrInvalid", err)
	}
	// every append is noticed; the first notice says "read"
	deadline := time.After(time.Minute)
	sawStart, sawHead := false, false
	for !sawStart || !sawHead {
		select {
		case n := <-notices:
			sawStart = sawStart || (n.Seq == 0 && n.Ephemeral == nil)
			sawHead = sawHead || n.Seq == head+4
		case <-deadline:
			t.Fatalf("T20: notices: start %v, head %v", sawStart, sawHead)
		}
	}
	if err := s.PublishEphemeral(ctx, []byte("typing")); err != nil {
		t.Fatal(err)
	}
	for n := range notices {
		if string(n.Ephemeral) == "typing" {
			break
		}
	}
	if err := s.PublishEphemeral(ctx, make([]byte, store.MaxEphemeral+1)); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("T16: an ephemeral event too large: %v, want ErrInvalid", err)
	}
	// pruning removes a prefix only: event 2 is old but event 1 is not
	old := []store.FeedEvent{{At: t0, Data: []byte("a")}, {At: t0.Add(time.Hour), Data: []byte("b")}, {At: t0, Data: []byte("c")}}
	if err := s.AppendEvents(ctx, old...); err != nil {
		t.Fatal(err)
	}
	// events head+1…head+4 are at t0…t0+3m; head+5 t0, head+6 t0+1h, head+7 t0
	n, err := s.PruneEvents(ctx, t0.Add(30*time.Minute))
	if err != nil || n != 5 {
		t.Fatalf("T20: PruneEvents = %d, %v; want 5 (up to the first newer event)", n, err)
	}
	if _, err := s.ReadEvents(ctx, head+4, 10); !errors.Is(err, store.ErrPruned) {
		t.Fatalf("T20: read after a pruned event: %v, want ErrPruned", err)
	}
	rest, err := s.ReadEvents(ctx, head+5, 10)
	if err != nil || len(rest) != 2 || string(rest[0].Data) != "b" || string(rest[1].Data) != "c" {
		t.Fatalf("T20: what pruning left: %+v, %v", rest, err)
	}
	if last, _ := s.LastEventSeq(ctx); last != head+7 {
		t.Fatalf("T20: LastEventSeq after pruning = %d, want %d", last, head+7)
	}
}

// testFeedTwoInboxes: two Inboxes on one store (two app instances) write
// at once; a subscriber of each sees every event, its own instance's and
// the other's, in one order, exactly once (T20).
func testFeedTwoInboxes(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{EventBuffer: 10_000})
	a, b := e.in, e.second("b")
	ctx, cancel := contextWithCancel(e)
	defer cancel()
	subA := a.SubscribeWith(ctx, inbox.SubscribeOptions{Buffer: 10_000})
	subB := b.SubscribeWith(ctx, inbox.SubscribeOptions{Buffer: 10_000})
	start := a.LastEventSeq()
	const n = 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	want := map[string]bool{} // message IDs received by either
	for i, in := range []*inbox.Inbox{a, b} {
		wg.Go(func() {
			for j := range n {
				m, err := in.ReceiveMessage(e.ctx, channel.Inbound{Kind: channel.SMS, From: fmt.Sprintf("+3361%d%07d", i, j%5),
					To: "+33757000001", Text: "hello", ProviderID: fmt.Sprintf("feed-%d-%d", i, j), ReceivedAt: e.clock.Now()})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := in.SetFavourite(e.ctx, m.ThreadID, j%2 == 0); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want[m.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	head, err := e.store.LastEventSeq(e.ctx)
	e.must(err)
	var seen [2][]inbox.Event
	for i, sub := range []*inbox.Subscription{subA, subB} {
		for next := start + 1; next <= head; next++ {
			ev := waitEvent(t, sub)
			if ev.Seq != next || ev.Missed != 0 {
				t.Fatalf("T20: instance %d's subscriber got %d (missed %d), want %d: an event was lost, repeated or reordered",
					i, ev.Seq, ev.Missed, next)
			}
			seen[i] = append(seen[i], ev)
		}
	}
	if !slices.EqualFunc(seen[0], seen[1], func(x, y inbox.Event) bool { return x == y }) {
		t.Fatal("T20: the two instances' subscribers saw different events")
	}
	received := 0
	for _, ev := range seen[0] {
		if ev.Type == inbox.EventMessageReceived {
			if !want[ev.MessageID] {
				t.Fatalf("T20: event for message %s, which nobody received", ev.MessageID)
			}
			received++
		}
	}
	if received != 2*n {
		t.Fatalf("T20: %d message-received events, want %d", received, 2*n)
	}
	select {
	case ev := <-subB.C():
		t.Fatalf("T20: an event after the head: %+v", ev)
	default:
	}
}

// testFeedResume: a subscriber resumes after the last event it handled on
// another instance, or on one started later (a restart), and gets what
// it missed; after pruning it is told to resync (T20).
func testFeedResume(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a := e.in
	th := e.start(contactSubject(helene))
	handled := a.LastEventSeq()
	var missed []string
	for range 5 {
		missed = append(missed, e.receive(channel.SMS, helene.Phone, "x").ID)
	}
	restarted := e.second("r") // an instance started after the events
	ctx, cancel := contextWithCancel(e)
	defer cancel()
	sub := restarted.SubscribeWith(ctx, inbox.SubscribeOptions{After: handled})
	for i, id := range missed {
		ev := waitEvent(t, sub)
		if ev.Type != inbox.EventMessageReceived || ev.MessageID != id || ev.Seq != handled+uint64(i)+1 {
			t.Fatalf("T20: resumed event %d: %+v, want message %s", i, ev, id)
		}
	}
	_, err := a.MarkRead(e.ctx, th.ID)
	e.must(err)
	if ev := waitEvent(t, sub); ev.Type != inbox.EventThreadRead || ev.Seq != handled+6 {
		t.Fatalf("T20: live after the replay: %+v", ev)
	}
	// retention: the events of a day ago are pruned
	e.clock.Advance(25 * time.Hour)
	e.receive(channel.SMS, helene.Phone, "a day later")
	if _, err := a.PruneEvents(e.ctx); err != nil {
		t.Fatal(err)
	}
	sub = restarted.SubscribeWith(ctx, inbox.SubscribeOptions{After: handled})
	resync := waitEvent(t, sub)
	if resync.Type != inbox.EventResync || resync.Seq < handled+6 {
		t.Fatalf("T20: resume after pruned events: %+v, want a resync", resync)
	}
	// after the resync: the events after its Seq follow, then live ones
	_, err = a.SetFavourite(e.ctx, th.ID, true)
	e.must(err)
	for next := resync.Seq + 1; ; next++ {
		ev := waitEvent(t, sub)
		if ev.Seq != next {
			t.Fatalf("T20: after the resync at %d: %+v, want %d", resync.Seq, ev, next)
		}
		if ev.Type == inbox.EventThreadChanged {
			break
		}
	}
}

// testTypingAcrossInboxes: an agent typing through one instance shows on
// another's subscribers and Typers; sending through the other ends it
// everywhere (T16).
func testTypingAcrossInboxes(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	a, b := e.in, e.second("b")
	th := e.start(contactSubject(helene))
	ctx, cancel := contextWithCancel(e)
	defer cancel()
	subA, subB := a.Subscribe(ctx), b.Subscribe(ctx)
	_, err := a.MarkTyping(e.ctx, th.ID, "agent-1")
	e.must(err)
	for ev := waitEvent(t, subB); ev.Type != inbox.EventTyping; ev = waitEvent(t, subB) {
	}
	if got := b.Typers(th.ID); !slices.Equal(got, []string{"agent-1"}) {
		t.Fatalf("T16: the other instance's typers = %v", got)
	}
	_, _, err = b.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: th.ID,
		Message: inbox.Message{Kind: channel.SMS, Text: "done", Author: inbox.Author{Agent: "agent-1"}}})
	e.must(err)
	for ev := waitEvent(t, subA); ev.Type != inbox.EventTypingStopped; ev = waitEvent(t, subA) {
	}
	if got := a.Typers(th.ID); len(got) != 0 {
		t.Fatalf("T16: sending through another instance ends typing: %v", got)
	}
}

// testReserveSends checks the Limiter contract: reservations of one key
// are spaced by the interval, whoever asks; a burst goes at once.
func testReserveSends(t *testing.T, ns func(*testing.T) store.Store) {
	s := ns(t)
	ctx := context.Background()
	const interval = time.Hour // a rate of one per hour: the test's own time does not count
	first, err := s.ReserveSends(ctx, "sms/main", 1.0/3600, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.ReserveSends(ctx, "sms/main", 1.0/3600, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	third, err := s.ReserveSends(ctx, "sms/main", 1.0/3600, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	slack := time.Minute // how long the calls above may take
	switch {
	case first > 0:
		t.Fatalf("C9: the first send waits %v", first)
	case second <= interval-slack || second > interval:
		t.Fatalf("C9: the second waits %v, want about %v", second, interval)
	case third <= 4*interval-slack || third > 4*interval:
		t.Fatalf("C9: after 1 + 3 sends the next waits %v, want about %v", third, 4*interval)
	}
	other, err := s.ReserveSends(ctx, "sms/other", 1.0/3600, 1, 1)
	if err != nil || other > 0 {
		t.Fatalf("C9: another key waits %v, %v", other, err)
	}
	burst, err := s.ReserveSends(ctx, "sms/burst", 1.0/3600, 5, 5)
	if err != nil || burst > 0 {
		t.Fatalf("C9: a burst of 5 with burst 5 waits %v, %v", burst, err)
	}
	if after, _ := s.ReserveSends(ctx, "sms/burst", 1.0/3600, 5, 1); after <= interval-slack || after > interval {
		t.Fatalf("C9: the send after a full burst waits %v, want about %v", after, interval)
	}
	for _, bad := range [][3]float64{{0, 1, 1}, {1, 0, 1}, {1, 1, 0}} {
		if _, err := s.ReserveSends(ctx, "k", bad[0], int(bad[1]), int(bad[2])); !errors.Is(err, store.ErrInvalid) {
			t.Fatalf("C9: ReserveSends(rate %v, burst %v, n %v): %v, want ErrInvalid", bad[0], bad[1], bad[2], err)
		}
	}
}
