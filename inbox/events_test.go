package inbox_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
)

// newEventInbox returns an inbox on memstore with a fixed clock and the
// given history, and a function that publishes one event (a favourite
// toggled) per call.
func newEventInbox(t *testing.T, opts inbox.Options) (*inbox.Inbox, func() string) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	ib, err := inbox.New(memstore.New(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ib.Close() })
	ctx := context.Background()
	th, err := ib.Start(ctx, inbox.Subject{Kind: inbox.SubjectContact, ID: "ana"})
	if err != nil {
		t.Fatal(err)
	}
	on := false
	return ib, func() string {
		t.Helper()
		on = !on
		if _, err := ib.SetFavourite(ctx, th.ID, on); err != nil {
			t.Fatal(err)
		}
		return th.ID
	}
}

// drain returns the events ready on s without waiting.
func drain(s *inbox.Subscription) []inbox.Event {
	var out []inbox.Event
	for {
		select {
		case e, ok := <-s.C():
			if !ok {
				return out
			}
			out = append(out, e)
		default:
			return out
		}
	}
}

func seqs(es []inbox.Event) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.Seq
	}
	return out
}

// T20: every event has a Seq one above the previous one's.
func TestEventSeqIncreases(t *testing.T) {
	ib, publish := newEventInbox(t, inbox.Options{})
	sub := ib.Subscribe(context.Background())
	first := ib.LastEventSeq()
	for range 5 {
		publish()
	}
	got := drain(sub)
	if len(got) != 5 {
		t.Fatalf("got %d events, want 5", len(got))
	}
	for i, e := range got {
		if e.Seq != first+uint64(i)+1 {
			t.Fatalf("event %d: Seq %d, want %d (events %v)", i, e.Seq, first+uint64(i)+1, seqs(got))
		}
	}
	if ib.LastEventSeq() != got[4].Seq {
		t.Fatalf("LastEventSeq %d, want %d", ib.LastEventSeq(), got[4].Seq)
	}
}

// T20: numbering starts from the inbox's creation time, so a new inbox
// (a restarted process) numbers above the old one and a resume across it
// is a resync.
func TestEventSeqAcrossRestart(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	old, publish := newEventInbox(t, inbox.Options{Now: clock})
	for range 3 {
		publish()
	}
	last := old.LastEventSeq()
	now = now.Add(time.Minute)
	restarted, _ := newEventInbox(t, inbox.Options{Now: clock})
	if restarted.LastEventSeq() <= last {
		t.Fatalf("restarted inbox starts at %d, not above %d", restarted.LastEventSeq(), last)
	}
	got := drain(restarted.SubscribeWith(context.Background(), inbox.SubscribeOptions{After: last}))
	if len(got) != 1 || got[0].Type != inbox.EventResync {
		t.Fatalf("resume across a restart: got %v, want one resync", got)
	}
}

// T20: a subscriber that resumes within the history gets exactly what it
// missed, in order, then live events.
func TestSubscribeAfterReplaysMissed(t *testing.T) {
	ib, publish := newEventInbox(t, inbox.Options{EventHistory: 10})
	ctx := context.Background()
	first := ib.Subscribe(ctx)
	for range 6 {
		publish()
	}
	all := drain(first)
	handled := all[1].Seq // the client handled two events, then lost its connection

	sub := ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: handled})
	publish()
	live := drain(first)
	got := drain(sub)
	want := append(seqs(all[2:]), live[0].Seq)
	if fmt.Sprint(seqs(got)) != fmt.Sprint(want) {
		t.Fatalf("resumed after %d: got %v, want %v", handled, seqs(got), want)
	}
	for i, e := range got[:4] {
		if e != all[2+i] {
			t.Fatalf("replayed event %d = %+v, want %+v", i, e, all[2+i])
		}
	}
	// Resuming after the latest event gives live events only.
	latest := ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: ib.LastEventSeq()})
	if got := drain(latest); len(got) != 0 {
		t.Fatalf("resume at the latest event replayed %v", seqs(got))
	}
	publish()
	if got := drain(latest); len(got) != 1 || got[0].Type != inbox.EventThreadChanged {
		t.Fatalf("live after resume: %v", got)
	}
}

// T20: a subscriber that resumes further back than the history first gets
// a resync event, then live events.
func TestSubscribeAfterTooFarBackResyncs(t *testing.T) {
	ib, publish := newEventInbox(t, inbox.Options{EventHistory: 3})
	ctx := context.Background()
	old := ib.LastEventSeq()
	// The history holds the last three; resuming after "old" needs five.
	for range 5 {
		publish()
	}
	sub := ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: old})
	last := ib.LastEventSeq()
	publish()
	got := drain(sub)
	if len(got) != 2 || got[0].Type != inbox.EventResync || got[0].Seq != last ||
		got[1].Type != inbox.EventThreadChanged || got[1].Seq != last+1 {
		t.Fatalf("got %+v, want resync at %d then the live event", got, last)
	}
	// The oldest event still held can be resumed after exactly.
	// The history now holds last-1, last, last+1.
	sub = ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: last - 2})
	if got := drain(sub); fmt.Sprint(seqs(got)) != fmt.Sprint([]uint64{last - 1, last, last + 1}) {
		t.Fatalf("resume at the edge of the history: %v", seqs(got))
	}
	sub = ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: last - 3})
	if got := drain(sub); len(got) != 1 || got[0].Type != inbox.EventResync {
		t.Fatalf("resume one past the edge: %v", got)
	}
	// A number this inbox never gave is a resync too.
	sub = ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: last + 100})
	if got := drain(sub); len(got) != 1 || got[0].Type != inbox.EventResync {
		t.Fatalf("resume from the future: %+v", got)
	}
}

// T20: a slow subscriber never blocks the inbox; the next event it gets
// says how many it missed, and it gets them back by resuming after the last
// event it handled.
func TestSlowSubscriberMissesThenResumes(t *testing.T) {
	ib, publish := newEventInbox(t, inbox.Options{EventHistory: 100})
	ctx := context.Background()
	sub := ib.SubscribeWith(ctx, inbox.SubscribeOptions{Buffer: 2})
	publish()
	publish()
	select {
	case <-sub.Lagged():
		t.Fatal("lagged before missing anything")
	default:
	}
	for range 3 { // nobody reads: these do not fit
		publish()
	}
	select {
	case <-sub.Lagged():
	default:
		t.Fatal("not told at once that it missed events")
	}
	got := drain(sub)
	if len(got) != 2 || sub.Missed() != 3 {
		t.Fatalf("got %d events and %d missed, want 2 and 3", len(got), sub.Missed())
	}
	publish()
	next := drain(sub)
	if len(next) != 1 || next[0].Missed != 3 {
		t.Fatalf("next event %+v, want Missed 3", next)
	}
	again := drain(ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: got[1].Seq}))
	if len(again) != 4 || again[0].Seq != got[1].Seq+1 || again[3].Seq != next[0].Seq {
		t.Fatalf("resumed: %v after %d", seqs(again), got[1].Seq)
	}
}

// T20: a subscription ends when its context ends, and its channel closes;
// a subscription made after Close is closed.
func TestSubscriptionEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ib, publish := newEventInbox(t, inbox.Options{})
		ctx, cancel := context.WithCancel(context.Background())
		sub := ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: 1})
		cancel()
		synctest.Wait()
		publish()
		var got []inbox.Event
		for e := range sub.C() {
			got = append(got, e)
		}
		if len(got) != 1 || got[0].Type != inbox.EventResync {
			t.Fatalf("after cancel: %+v, want only the resync queued before", got)
		}
		ib.Close()
		if _, ok := <-ib.Subscribe(context.Background()).C(); ok {
			t.Fatal("subscription after Close is open")
		}
	})
}

func TestEventHistoryOption(t *testing.T) {
	_, err := inbox.New(memstore.New(), inbox.Options{EventHistory: -1})
	if !errors.Is(err, inbox.ErrInvalidArgument) {
		t.Fatalf("negative history: %v", err)
	}
}
