package inbox_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/recipient"
	"github.com/parleyhq/parley/status"
)

// batchRig is an inbox on st sending SMS through a fake to an audience of
// n members.
func batchRig(t *testing.T, st store.Store, n int) (*inbox.Inbox, *channeltest.Fake, inbox.Thread) {
	t.Helper()
	dir := memstore.NewDirectory()
	cs := make([]recipient.Contact, n)
	for i := range cs {
		cs[i] = recipient.Contact{ID: fmt.Sprintf("c%d", i), Phone: fmt.Sprintf("+3361%07d", i)}
	}
	dir.PutAudience(store.AudienceInfo{ID: "all", Name: "All", Members: cs})
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Statuses: []status.Status{}})
	reg := channel.NewRegistry()
	if err := reg.Register(channel.SMS, fake, channel.Config{}); err != nil {
		t.Fatal(err)
	}
	c := &clock{t: t0}
	in, err := inbox.New(st, inbox.Options{Now: c.Now, Directory: dir, Channels: reg, Logger: quiet,
		Retry: inbox.Retry{Attempts: 2, Backoff: 1, MaxBackoff: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = in.Close() })
	th, err := in.Start(context.Background(), store.Subject{Kind: store.Audience, ID: "all"})
	if err != nil {
		t.Fatal(err)
	}
	return in, fake, th
}

// A fan-out on memstore marks and records its deliveries in batches
// (store.DeliveriesWriter): every delivery of a large audience is sent
// once, and its outcome recorded with its mark cleared, accepted, failed
// for good or failed after a retry, and the message's counts follow (S5).
func TestBatchedFanout_S5(t *testing.T) {
	const n = 1000
	st := memstore.New()
	in, fake, th := batchRig(t, st, n)
	var calls sync.Map // address → attempts
	fake.FailWhen(func(m *channel.Message) error {
		v, _ := calls.LoadOrStore(m.To, new(atomic.Int32))
		k := v.(*atomic.Int32).Add(1)
		switch {
		case strings.HasSuffix(m.To, "7"):
			return fmt.Errorf("%w: no such number", channel.ErrPermanent)
		case strings.HasSuffix(m.To, "3") && k == 1:
			return fmt.Errorf("%w: try again", channel.ErrTransient)
		}
		return nil
	})
	ctx := context.Background()
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deliveries) != n || len(fake.Sent()) != n-n/10 {
		t.Fatalf("%d deliveries, %d accepted; want %d and %d", len(res.Deliveries), len(fake.Sent()), n, n-n/10)
	}
	for _, d := range res.Deliveries {
		got, err := st.Delivery(ctx, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != d.Version || got.Status.Current != d.Status.Current || !got.Sending.IsZero() {
			t.Fatalf("delivery %s returned as %+v, stored as %+v", d.ID, d, got)
		}
		want, attempts := status.Validated, 1
		switch {
		case strings.HasSuffix(d.Address, "7"):
			want = status.Failed
		case strings.HasSuffix(d.Address, "3"):
			attempts = 2
		}
		if got.Status.Current != want || got.Attempts != attempts || (want == status.Validated) != (got.ProviderID != "") {
			t.Fatalf("delivery to %s: %s after %d attempts (provider ID %q); want %s after %d", d.Address, got.Status.Current, got.Attempts, got.ProviderID, want, attempts)
		}
	}
	v, _ := calls.Load("+33610000003")
	if k := v.(*atomic.Int32).Load(); k != 2 {
		t.Fatalf("a transient failure was tried %d times, want 2", k)
	}
	m, err := in.Message(ctx, res.Message.ID)
	if err != nil {
		t.Fatal(err)
	}
	if m.Counts[status.Validated] != n-n/10 || m.Counts[status.Failed] != n/10 {
		t.Fatalf("S5: counts %v", m.Counts)
	}
}

// A fan-out cancelled midway, its deliveries marked a batch at a time:
// none is lost or sent twice. Those sent are recorded; those marked and
// not sent, and those never marked, are pending (S1) with the reason, their
// mark cleared; one whose provider call the cancel cut short keeps its
// mark for Recover.
func TestBatchedFanoutCancelled(t *testing.T) {
	const n = 2000
	st := memstore.New()
	in, fake, th := batchRig(t, st, n)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sends atomic.Int32
	fake.FailWhen(func(*channel.Message) error {
		if sends.Add(1) == n/4 {
			cancel()
		}
		return nil
	})
	res, err := in.Send(ctx, inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "Studio closed on Monday"})
	if err == nil {
		t.Fatal("a cancelled send reports it")
	}
	sent := map[string]int{}
	for _, s := range fake.Sent() {
		sent[s.Message.Reference]++
	}
	if len(sent) == 0 || len(sent) == n {
		t.Fatalf("%d of %d sent: the cancel came midway", len(sent), n)
	}
	bg := context.Background()
	for _, d := range res.Deliveries {
		got, err := st.Delivery(bg, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		switch k := sent[d.ID]; {
		case k > 1:
			t.Fatalf("delivery %s sent %d times", d.ID, k)
		case k == 1 && (got.ProviderID == "" || got.Status.Current != status.Validated):
			t.Fatalf("a sent delivery not recorded: %+v", got)
		case k == 0 && got.Attempts > 0:
			// the provider's call was cut short: it may have accepted it,
			// and the mark stays for Recover
			if got.Status.Current != status.Pending || !strings.HasPrefix(got.Reason, "interrupted, outcome unknown") || got.Sending.IsZero() {
				t.Fatalf("an interrupted delivery: %+v; want pending, marked, with the reason", got)
			}
		case k == 0 && (got.Status.Current != status.Pending || !strings.HasPrefix(got.Reason, "not attempted") || !got.Sending.IsZero()):
			t.Fatalf("a delivery not sent: %+v; want pending, not attempted, unmarked", got)
		}
	}
}

// countingStore is memstore counting its delivery writes: it embeds the
// store, and its batch writes with it (store.DeliveriesWriter), but has a
// WriteDelivery of its own.
type countingStore struct {
	*memstore.Store
	writes atomic.Int64
}

func (s *countingStore) WriteDelivery(ctx context.Context, d store.Delivery, events ...store.FeedEvent) error {
	s.writes.Add(1)
	return s.Store.WriteDelivery(ctx, d, events...)
}

// A store that wraps memstore by embedding it and writes deliveries its
// own way is written through its own WriteDelivery, never through the
// batch writes it inherits: the mark and the outcome of every delivery.
func TestBatchesSkipWrappers(t *testing.T) {
	const n = 200
	st := &countingStore{Store: memstore.New()}
	in, fake, th := batchRig(t, st, n)
	if _, err := in.Send(context.Background(), inbox.Draft{Kind: channel.SMS, ThreadID: th.ID, Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := st.writes.Load(); got != 2*n || len(fake.Sent()) != n {
		t.Fatalf("%d delivery writes through the wrapper for %d sends, want %d", got, len(fake.Sent()), 2*n)
	}
}
