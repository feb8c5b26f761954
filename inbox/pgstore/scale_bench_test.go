package pgstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/pgstore"
	"github.com/parleyhq/parley/inbox/pgstore/internal/pgtest"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// scaleWorkers is the number of goroutines each instance runs in the scale
// benchmarks (requests in flight per app instance).
const scaleWorkers = 4

// scaleContacts is the number of guests the scale benchmarks write to, so
// that the instances mostly touch different threads, as a hotel's do.
const scaleContacts = 256

// scaleEnv is n app instances (each its own pool, store and Inbox) on one
// tenant of one PostgreSQL, sending SMS through one fake provider.
type scaleEnv struct {
	ins      []*inbox.Inbox
	fake     *channeltest.Fake
	contacts []recipient.Contact
}

func newScaleEnv(b *testing.B, n int) *scaleEnv {
	b.Helper()
	server.Require(b)
	ctx := context.Background()
	dir := memstore.NewDirectory()
	e := &scaleEnv{fake: channeltest.NewFake(channel.SMS, channeltest.Options{IDPrefix: "SM"})}
	for i := range scaleContacts {
		c := recipient.Contact{ID: fmt.Sprintf("g%04d", i), FirstName: "Guest", Phone: fmt.Sprintf("+3361200%04d", i)}
		if err := dir.PutContact(c); err != nil {
			b.Fatal(err)
		}
		e.contacts = append(e.contacts, c)
	}
	tenant := newTenant(b)
	for range n {
		pool, err := pgtest.NewPool(ctx, server.DSN)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		s, err := pgstore.Open(ctx, pool, tenant)
		if err != nil {
			b.Fatal(err)
		}
		reg := channel.NewRegistry()
		if err := reg.Register(channel.SMS, e.fake, channel.Config{Identities: []channel.Identity{{ID: "front", Address: "+33757000001", TwoWay: true}}}); err != nil {
			b.Fatal(err)
		}
		in, err := inbox.New(s, inbox.Options{Directory: dir, Channels: reg, StatusWait: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = in.Close() })
		e.ins = append(e.ins, in)
	}
	return e
}

// run calls fn b.N times in all, from scaleWorkers goroutines per instance
// at once, and reports the rate as unit.
func (e *scaleEnv) run(b *testing.B, unit string, fn func(in *inbox.Inbox, i int) error) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu := processCPU()
	b.ResetTimer()
	for _, in := range e.ins {
		for range scaleWorkers {
			wg.Go(func() {
				for {
					i := int(next.Add(1)) - 1
					if i >= b.N {
						return
					}
					if err := fn(in, i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
	if cpu >= 0 {
		b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "app-cpu-µs/op")
	}
}

// receive stores the i-th guest message of a run.
func (e *scaleEnv) receive(ctx context.Context, in *inbox.Inbox, run string, i int) (inbox.Message, error) {
	return in.ReceiveMessage(ctx, channel.Inbound{Kind: channel.SMS, From: e.contacts[i%len(e.contacts)].Phone,
		To: "+33757000001", Text: "Could we have a late check-out tomorrow?", ProviderID: fmt.Sprintf("%s-%d", run, i)})
}

// BenchmarkScale runs 1, 2 and 4 app instances (separate pools) on one
// PostgreSQL and one tenant, scaleWorkers requests in flight per instance
// (issue 16; docs/scaling.md has the figures):
//   - receive: guest messages received (receives/s);
//   - send: one-recipient messages sent through a fake provider (sends/s);
//   - status: provider status updates applied (updates/s);
//   - feed: the latency of the event feed, from the return of a Receive on
//     one instance (its commit) to the event's arrival at a subscriber of
//     another instance (p50, p99), with every other instance receiving.
func BenchmarkScale(b *testing.B) {
	ctx := context.Background()
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("instances=%d/receive", n), func(b *testing.B) {
			e := newScaleEnv(b, n)
			e.run(b, "receives/s", func(in *inbox.Inbox, i int) error {
				_, err := e.receive(ctx, in, "r", i)
				return err
			})
		})
		b.Run(fmt.Sprintf("instances=%d/send", n), func(b *testing.B) {
			e := newScaleEnv(b, n)
			threads := e.threads(b, e.ins[0])
			e.run(b, "sends/s", func(in *inbox.Inbox, i int) error {
				_, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: threads[i%len(threads)], Text: "Your room is ready"})
				return err
			})
		})
		b.Run(fmt.Sprintf("instances=%d/status", n), func(b *testing.B) {
			e := newScaleEnv(b, n)
			threads := e.threads(b, e.ins[0])
			for i := range b.N {
				if _, err := e.ins[0].Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: threads[i%len(threads)], Text: "Your room is ready"}); err != nil {
					b.Fatal(err)
				}
			}
			sent := e.fake.Sent()
			e.run(b, "updates/s", func(in *inbox.Inbox, i int) error {
				return in.ApplyStatus(ctx, channel.StatusUpdate{Kind: channel.SMS, ProviderID: sent[i].Receipt.ProviderID, Status: status.Delivered})
			})
		})
		if n > 1 {
			b.Run(fmt.Sprintf("instances=%d/feed", n), func(b *testing.B) { benchFeed(b, n) })
		}
	}
}

// threads starts a thread with each guest and returns their IDs.
func (e *scaleEnv) threads(b *testing.B, in *inbox.Inbox) []string {
	b.Helper()
	var ids []string
	for _, c := range e.contacts {
		th, err := in.Start(context.Background(), inbox.Subject{Kind: inbox.SubjectContact, ID: c.ID})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, th.ID)
	}
	return ids
}

// benchFeed measures the event feed's latency across instances: instances
// 1…n-1 receive, a subscriber of instance 0 notes when each message's event
// arrives.
func benchFeed(b *testing.B, n int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newScaleEnv(b, n)
	sub := e.ins[0].Subscribe(ctx)
	var (
		mu      sync.Mutex
		arrived = map[string]time.Time{}
		all     = make(chan struct{})
	)
	go func() {
		for ev := range sub.C() {
			if ev.Type != inbox.EventMessageReceived {
				continue
			}
			mu.Lock()
			arrived[ev.MessageID] = time.Now()
			done := len(arrived) == b.N
			mu.Unlock()
			if done {
				close(all)
				return
			}
		}
	}()
	writers := &scaleEnv{ins: e.ins[1:], fake: e.fake, contacts: e.contacts}
	committed := make([]time.Time, b.N)
	ids := make([]string, b.N)
	writers.run(b, "receives/s", func(in *inbox.Inbox, i int) error {
		m, err := e.receive(ctx, in, "f", i)
		committed[i], ids[i] = time.Now(), m.ID
		return err
	})
	select {
	case <-all:
	case <-time.After(time.Minute):
		b.Fatal("T20: not every event reached the other instance within a minute")
	}
	mu.Lock()
	defer mu.Unlock()
	lat := make([]time.Duration, b.N)
	for i, id := range ids {
		lat[i] = max(arrived[id].Sub(committed[i]), 0)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-p50")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "ms-p99")
}
