package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/pgstore/internal/pgtest"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// instance is one app instance: its own pool, store and inbox on the
// shared tenant.
type instance struct {
	store *pgstore.Store
	in    *inbox.Inbox
}

func newInstances(t *testing.T, tenant string, n int, now func() time.Time) []instance {
	t.Helper()
	server.Require(t)
	out := make([]instance, n)
	for i := range out {
		pool, err := pgtest.NewPool(context.Background(), server.DSN)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		s, err := pgstore.Open(context.Background(), pool, tenant)
		if err != nil {
			t.Fatal(err)
		}
		in, err := inbox.New(s, inbox.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = in.Close() })
		out[i] = instance{store: s, in: in}
	}
	return out
}

// TestInstancesHammerOneDatabase runs several app instances (separate pools)
// on one tenant at once: the same webhooks delivered to several instances
// (M5), replies, reads, archives, mutes and assignments racing on the same
// threads (T1, T5, T9, T12). Afterwards no message is lost or stored twice,
// every thread counts exactly its messages and unread messages, and the
// attention badge (T15) equals a count of the threads.
func TestInstancesHammerOneDatabase(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }
	insts := newInstances(t, newTenant(t), 3, now)
	const workersPerInstance, ops, webhooks, phones = 2, 60, 90, 8
	phoneOf := func(n int) string { return fmt.Sprintf("+3361000%04d", n%phones) }
	var (
		mu       sync.Mutex
		received = map[string]string{} // provider ID → message ID
		sent     = 0
		wg       sync.WaitGroup
	)
	for i, inst := range insts {
		for w := range workersPerInstance {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(i), uint64(w)))
				for op := range ops {
					n := rng.IntN(webhooks)
					phone := phoneOf(n)
					var err error
					switch rng.IntN(7) {
					case 0, 1, 2: // a webhook, maybe already delivered to another instance
						pid := fmt.Sprintf("wh-%d", n)
						var m inbox.Message
						m, err = inst.in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: phone, Text: "hello " + pid, ProviderID: pid})
						if err == nil {
							mu.Lock()
							if prev, ok := received[pid]; ok && prev != m.ID {
								t.Errorf("M5: webhook %s stored as %s and %s", pid, prev, m.ID)
							}
							received[pid] = m.ID
							mu.Unlock()
						}
					case 3: // a reply
						var th inbox.Thread
						if th, err = inst.in.StartWithAddress(ctx, channel.SMS, phone); err == nil {
							_, _, err = inst.in.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID,
								Message:    inbox.Message{Kind: channel.SMS, Text: "reply"},
								Deliveries: []inbox.Delivery{{Address: phone, ProviderID: fmt.Sprintf("out-%d-%d-%d", i, w, op)}}})
							if err == nil {
								mu.Lock()
								sent++
								mu.Unlock()
							}
						}
					case 4, 5, 6: // read, archive, mute or assign the same threads
						var th inbox.Thread
						if th, err = inst.in.StartWithAddress(ctx, channel.SMS, phone); err == nil {
							switch rng.IntN(4) {
							case 0:
								_, err = inst.in.MarkRead(ctx, th.ID)
							case 1:
								_, err = inst.in.Archive(ctx, th.ID)
							case 2:
								_, err = inst.in.Mute(ctx, th.ID, time.Time{})
							case 3:
								_, err = inst.in.Assign(ctx, th.ID, fmt.Sprintf("agent-%d", rng.IntN(3)), "boss")
							}
						}
					}
					if err != nil {
						t.Errorf("instance %d: %v", i, err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	in := insts[0].in
	var threads []inbox.Thread
	for _, f := range []inbox.StatusFilter{inbox.All, inbox.Archived} {
		for th, err := range in.AllThreads(ctx, inbox.ThreadQuery{Status: f, Limit: 3}) {
			if err != nil {
				t.Fatal(err)
			}
			threads = append(threads, th)
		}
	}
	if len(threads) != phones {
		t.Fatalf("T1: %d threads for %d subjects", len(threads), phones)
	}
	inbound, outbound, attention := 0, 0, 0
	for _, th := range threads {
		page, err := in.Messages(ctx, inbox.MessageQuery{ThreadID: th.ID, Limit: inbox.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		unread := 0
		for _, m := range page.Messages {
			if m.Unread {
				unread++
			}
			if m.Direction == inbox.Inbound {
				inbound++
			} else {
				outbound++
			}
		}
		if unread != th.Unread || len(page.Messages) != th.Messages {
			t.Errorf("T5: thread %s counts %d unread / %d messages, holds %d / %d", th.ID, th.Unread, th.Messages, unread, len(page.Messages))
		}
		if th.Unread > 0 && !th.Archived && !th.MutedAt(now()) {
			attention++
		}
	}
	if inbound != len(received) || outbound != sent {
		t.Errorf("M5: %d inbound and %d outbound messages stored; %d distinct webhooks and %d replies recorded", inbound, outbound, len(received), sent)
	}
	for pid, id := range received {
		m, err := insts[1].store.MessageByProviderID(ctx, pid)
		if err != nil || m.ID != id {
			t.Errorf("M5: webhook %s: stored %q (%v), recorded %q", pid, m.ID, err, id)
		}
	}
	c, err := insts[2].in.Counters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c.Attention != attention {
		t.Errorf("T15: attention %d, the threads say %d", c.Attention, attention)
	}
}

// TestInstancesClaimDueExactlyOnce runs dispatchers in several instances on
// one tenant's scheduled deliveries (C8): each claims due deliveries with
// ClaimDue (FOR UPDATE SKIP LOCKED), "sends" them and records the result
// with WriteDelivery. Every delivery is sent exactly once, and the message's
// counts (S5) end with every delivery sent.
func TestInstancesClaimDueExactlyOnce(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	insts := newInstances(t, newTenant(t), 3, func() time.Time { return at })
	th, err := insts[0].in.StartWithAddress(ctx, channel.SMS, "+33612345678")
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	due := at.Add(time.Hour)
	ds := make([]inbox.Delivery, n)
	for i := range ds {
		ds[i] = inbox.Delivery{Address: fmt.Sprintf("+3360000%04d", i), DueAt: due.Add(time.Duration(i%5) * time.Minute),
			Status: status.Record{Current: status.Scheduled}}
	}
	m, _, err := insts[0].in.RecordOutbound(ctx, inbox.Outgoing{ThreadID: th.ID,
		Message: inbox.Message{Kind: channel.SMS, Origin: inbox.Scheduled, Text: "Rappel", ScheduledFor: due}, Deliveries: ds})
	if err != nil {
		t.Fatal(err)
	}
	now := due.Add(time.Hour)
	var (
		mu     sync.Mutex
		sentBy = map[string]int{}
		wg     sync.WaitGroup
	)
	for i, inst := range insts {
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := inst.store.ClaimDue(ctx, now, now.Add(time.Minute), 7)
					if err != nil {
						t.Errorf("instance %d: %v", i, err)
						return
					}
					if len(got) == 0 {
						return
					}
					for _, d := range got {
						mu.Lock()
						sentBy[d.ID]++
						mu.Unlock()
						if _, err := d.Status.Apply(status.Change{Status: status.Sent, At: now}); err != nil {
							t.Error(err)
							return
						}
						d.ProviderID = fmt.Sprintf("sent-%s-%d%d", d.ID, i, w)
						if err := inst.store.WriteDelivery(ctx, d); err != nil {
							t.Errorf("instance %d: record send of %s: %v", i, d.ID, err)
							return
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(sentBy) != n {
		t.Fatalf("C8: %d of %d deliveries sent", len(sentBy), n)
	}
	for id, k := range sentBy {
		if k != 1 {
			t.Errorf("C8: delivery %s sent %d times", id, k)
		}
	}
	got, err := insts[1].in.Message(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Counts[status.Sent] != n || got.Counts.Total() != n {
		t.Errorf("S5: counts %v, want sent=%d", got.Counts, n)
	}
	if _, err := insts[2].store.DeliveryByProviderID(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown provider ID: %v", err)
	}
}
