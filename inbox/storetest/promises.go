package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

func contextWithCancel(e *env) (context.Context, context.CancelFunc) {
	return context.WithCancel(e.ctx)
}

// testStorePromises checks the contract's own promises: copies, versions,
// duplicates and atomic failure.
func testStorePromises(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	ctx := e.ctx
	s := e.store
	th := e.start(contactSubject(helene))
	m := e.receive(channel.SMS, helene.Phone, "hello")

	// values go out by copy
	got, err := s.Message(ctx, m.ID)
	e.must(err)
	got.Text = "changed"
	if again, _ := s.Message(ctx, m.ID); again.Text != "hello" {
		t.Fatal("store: a returned message shares memory with the store")
	}
	// a stale version is refused and changes nothing
	cur := e.thread(th.ID)
	stale := cur
	stale.Version--
	stale.Favourite = true
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: stale}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("store: stale version: err = %v, want ErrConflict", err)
	}
	if e.thread(th.ID).Favourite {
		t.Fatal("store: a refused write changed the thread")
	}
	// creating a thread whose subject has another live thread conflicts
	dup := store.Thread{ID: "other", Subject: th.Subject, CreatedAt: t0}
	if err := s.WriteThread(ctx, store.ThreadWrite{Thread: dup}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("store: second live thread: err = %v", err)
	}
	// a duplicate provider ID fails the whole write: the thread is unchanged
	cur = e.thread(th.ID)
	next := cur
	next.Messages++
	next.Unread++
	err = s.WriteThread(ctx, store.ThreadWrite{Thread: next, Message: &store.Message{ID: "m-dup", ThreadID: th.ID,
		Direction: store.Inbound, Kind: channel.SMS, ProviderID: m.ProviderID, CreatedAt: t0}})
	if !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("store: duplicate provider ID: err = %v", err)
	}
	if after := e.thread(th.ID); after.Messages != cur.Messages || after.Version != cur.Version {
		t.Fatal("store: a failed write was half applied")
	}
	if _, err := s.Message(ctx, "m-dup"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("store: the message of a failed write was stored")
	}
	// unknown IDs
	if _, err := s.Thread(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("store: unknown thread: err = %v", err)
	}
	if _, err := s.DeliveryByProviderID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("store: unknown delivery: err = %v", err)
	}
	// a failing store leaves the inbox unchanged
	f := &faulty{Store: s}
	in2, err := inbox.New(f, inbox.Options{Now: e.clock.Now, NewID: ids("f"), Directory: newDirectory()})
	e.must(err)
	f.fail.Store(true)
	before := e.thread(th.ID)
	if _, err := in2.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "lost?", ProviderID: "f-1"}); !errors.Is(err, errInjected) {
		t.Fatalf("store: injected failure: err = %v", err)
	}
	if after := e.thread(th.ID); after.Messages != before.Messages || after.Unread != before.Unread {
		t.Fatal("store: a failed receive changed the thread")
	}
	f.fail.Store(false)
	if _, err := in2.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: helene.Phone, Text: "retry", ProviderID: "f-1"}); err != nil {
		t.Fatalf("store: the retried webhook: %v", err)
	}
	if after := e.thread(th.ID); after.Messages != before.Messages+1 {
		t.Fatal("store: the retry was not stored once")
	}
	if err := ctx.Err(); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.in.Threads(cctx, inbox.ThreadQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("store: cancelled context: err = %v", err)
	}
}

var errInjected = errors.New("storetest: injected write failure")

// faulty fails every write while fail is set.
type faulty struct {
	store.Store
	fail atomicBool
}

type atomicBool struct {
	mu sync.Mutex
	v  bool
}

func (b *atomicBool) Store(v bool) { b.mu.Lock(); b.v = v; b.mu.Unlock() }
func (b *atomicBool) Load() bool   { b.mu.Lock(); defer b.mu.Unlock(); return b.v }

func (f *faulty) WriteThread(ctx context.Context, w store.ThreadWrite) error {
	if f.fail.Load() {
		return errInjected
	}
	return f.Store.WriteThread(ctx, w)
}

func (f *faulty) WriteDelivery(ctx context.Context, d store.Delivery) error {
	if f.fail.Load() {
		return errInjected
	}
	return f.Store.WriteDelivery(ctx, d)
}

func (f *faulty) SetOptOut(ctx context.Context, k channel.Kind, a string, v bool) error {
	if f.fail.Load() {
		return errInjected
	}
	return f.Store.SetOptOut(ctx, k, a, v)
}

// testStress runs goroutines that receive, record, read, mute, archive,
// assign and apply statuses at random, then checks that nothing was lost,
// unread counts equal unread messages, the list follows T3 and the filtered
// lists and counters agree with a scan of every thread.
func testStress(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	ctx := e.ctx
	const workers, ops, phones = 4, 150, 12
	var mu sync.Mutex
	received := map[string]bool{} // provider IDs stored
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range ops {
				phone := fmt.Sprintf("+336100000%02d", rng.IntN(phones))
				th, err := e.in.StartWithAddress(ctx, channel.SMS, phone)
				if err != nil {
					t.Error(err)
					return
				}
				switch rng.IntN(9) {
				case 0, 1, 2:
					pid := fmt.Sprintf("w%d-%d", w, i)
					if _, err := e.in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: phone, Text: "msg " + pid, ProviderID: pid}); err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					received[pid] = true
					mu.Unlock()
				case 3:
					_, _, err = e.in.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID, Message: inbox.Message{Kind: channel.SMS, Text: "out"},
						Deliveries: []inbox.Delivery{{Address: phone, ProviderID: fmt.Sprintf("o%d-%d", w, i), Status: status.Record{Current: status.Validated}}}})
				case 4:
					_, err = e.in.MarkRead(ctx, th.ID)
				case 5:
					if rng.IntN(2) == 0 {
						_, err = e.in.Mute(ctx, th.ID, time.Time{})
					} else {
						_, err = e.in.Unmute(ctx, th.ID)
					}
				case 6:
					if rng.IntN(2) == 0 {
						_, err = e.in.Archive(ctx, th.ID)
					} else {
						_, err = e.in.SetFavourite(ctx, th.ID, rng.IntN(2) == 0)
					}
				case 7:
					_, err = e.in.Assign(ctx, th.ID, fmt.Sprintf("agent-%d", rng.IntN(3)), "boss")
				case 8:
					err = e.in.ApplyStatus(ctx, channel.StatusUpdate{ProviderID: fmt.Sprintf("o%d-%d", w, rng.IntN(i+1)), Status: status.All()[rng.IntN(9)]})
					if errors.Is(err, channel.ErrUnknownMessage) {
						err = nil
					}
				}
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	var all []inbox.Thread
	for _, f := range []inbox.StatusFilter{inbox.All, inbox.Archived} {
		for th, err := range e.in.AllThreads(ctx, inbox.ThreadQuery{Status: f, Limit: 5}) {
			e.must(err)
			all = append(all, th)
		}
	}
	if len(all) != phones {
		t.Fatalf("stress: %d threads, want %d (one per subject, T1)", len(all), phones)
	}
	found := 0
	attention := 0
	for _, th := range all {
		page, err := e.in.Messages(ctx, inbox.MessageQuery{ThreadID: th.ID, Limit: inbox.MaxPageSize})
		e.must(err)
		unread := 0
		for _, m := range page.Messages {
			if m.Unread {
				unread++
			}
			if m.Direction == inbox.Inbound {
				found++
			}
		}
		if unread != th.Unread || len(page.Messages) != th.Messages {
			t.Errorf("stress: thread %s counts %d unread / %d messages, holds %d / %d", th.ID, th.Unread, th.Messages, unread, len(page.Messages))
		}
		if th.Unread > 0 && !th.Archived && !th.MutedAt(e.clock.Now()) {
			attention++
		}
	}
	if found != len(received) {
		t.Errorf("stress: %d inbound messages stored, %d received: messages were lost", found, len(received))
	}
	c, err := e.in.Counters(ctx)
	e.must(err)
	if c.Attention != attention {
		t.Errorf("stress: attention %d, scan says %d", c.Attention, attention)
	}
	// every filtered list equals the scan, in T3 order
	for _, q := range []inbox.ThreadQuery{{}, {Status: inbox.Unread}, {Status: inbox.Favourites}, {Status: inbox.Muted},
		{Status: inbox.Archived}, {Assignee: "agent-1"}, {Unassigned: true}, {Lifecycle: inbox.Open, Status: inbox.Unread}} {
		var want []inbox.Thread
		for _, th := range all {
			if matches(q, th, e.clock.Now()) {
				want = append(want, th)
			}
		}
		got := e.list(q, 3)
		if w := reference(want); !slices.Equal(got, w) {
			t.Errorf("stress: %+v lists %v, scan says %v", q, got, w)
		}
	}
}

func matches(q inbox.ThreadQuery, th inbox.Thread, now time.Time) bool {
	switch q.Status {
	case inbox.All:
		if th.Archived {
			return false
		}
	case inbox.Unread:
		if th.Archived || th.Unread == 0 {
			return false
		}
	case inbox.Favourites:
		if th.Archived || !th.Favourite {
			return false
		}
	case inbox.Muted:
		if th.Archived || !th.MutedAt(now) {
			return false
		}
	case inbox.Archived:
		if !th.Archived {
			return false
		}
	}
	if (q.Lifecycle == inbox.Open && th.Closed) || (q.Lifecycle == inbox.Closed && !th.Closed) {
		return false
	}
	if q.Assignee != "" && th.Assignee != q.Assignee {
		return false
	}
	if q.Unassigned && th.Assignee != "" {
		return false
	}
	return true
}
