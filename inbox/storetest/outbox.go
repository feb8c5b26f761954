package storetest

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/channel/channeltest"
	"github.com/parleyhq/parley/inbox"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// testOutboxQuery checks SentQuery.SendingBefore: Sent returns the
// deliveries whose Sending mark is set and before the bound, in Sent
// order, and pages past a delivery that left the outbox meanwhile.
func testOutboxQuery(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	yoga := e.start(store.Subject{Kind: store.Audience, ID: "a-yoga"})
	var ds []inbox.Delivery
	for range 2 {
		e.clock.Advance(time.Minute)
		_, got, err := e.in.RecordOutbound(e.ctx, inbox.Outgoing{ThreadID: yoga.ID, Message: inbox.Message{Kind: channel.SMS, Text: "cours"},
			Deliveries: []inbox.Delivery{
				{ContactID: helene.ID, Address: helene.Phone, Status: status.Record{Current: status.Pending}},
				{ContactID: marc.ID, Address: marc.Phone, Status: status.Record{Current: status.Pending}},
				{ContactID: zoe.ID, Address: zoe.Phone, Status: status.Record{Current: status.Pending}},
			}})
		e.must(err)
		ds = append(ds, got...)
	}
	bound := e.clock.Now().Add(time.Hour)
	// marked before the bound: ds[0], ds[2], ds[4]; after it: ds[5]
	for i, at := range map[int]time.Time{0: bound.Add(-time.Minute), 2: bound.Add(-time.Second), 4: bound.Add(-time.Hour), 5: bound} {
		d, err := e.store.Delivery(e.ctx, ds[i].ID)
		e.must(err)
		d.Sending = at
		e.must(e.store.WriteDelivery(e.ctx, d))
	}
	// Sent order: the newer message first, then by ID
	want := []string{ds[4].ID, ds[0].ID, ds[2].ID}
	got, err := e.store.Sent(e.ctx, store.SentQuery{SendingBefore: bound, Limit: 10})
	e.must(err)
	if ids := deliveryIDs(got); !slices.Equal(ids, want) {
		t.Fatalf("Sent(SendingBefore) = %v, want %v (marked before the bound, in Sent order)", ids, want)
	}
	for _, d := range got {
		if d.Sending.IsZero() || !d.Sending.Before(bound) {
			t.Fatalf("delivery %s: Sending %v", d.ID, d.Sending)
		}
	}
	// page by page, the first one leaving the outbox after it was read
	page, err := e.store.Sent(e.ctx, store.SentQuery{SendingBefore: bound, Limit: 1})
	e.must(err)
	if ids := deliveryIDs(page); !slices.Equal(ids, want[:1]) {
		t.Fatalf("first page %v, want %v", ids, want[:1])
	}
	d := page[0]
	d.Sending = time.Time{}
	e.must(e.store.WriteDelivery(e.ctx, d))
	var rest []string
	after := page[0].ID
	for {
		page, err := e.store.Sent(e.ctx, store.SentQuery{SendingBefore: bound, After: after, Limit: 1})
		e.must(err)
		if len(page) == 0 {
			break
		}
		rest = append(rest, page[0].ID)
		after = page[0].ID
	}
	if !slices.Equal(rest, want[1:]) {
		t.Fatalf("next pages %v, want %v", rest, want[1:])
	}
	// combined with another filter
	got, err = e.store.Sent(e.ctx, store.SentQuery{SendingBefore: bound, Address: marc.Phone, Limit: 10})
	e.must(err)
	if ids := deliveryIDs(got); len(ids) != 0 {
		t.Fatalf("Sent(SendingBefore, Address) = %v, want none", ids)
	}
}

func deliveryIDs(ds []store.Delivery) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

// downOnAccept is a store whose deliveries cannot be written or read while
// it is down; the provider takes it down as it accepts a message.
type downOnAccept struct {
	store.Store
	down atomic.Bool
}

var errDown = errors.New("storetest: store unreachable")

func (s *downOnAccept) WriteDelivery(ctx context.Context, d store.Delivery) error {
	if s.down.Load() {
		return errDown
	}
	return s.Store.WriteDelivery(ctx, d)
}

func (s *downOnAccept) Delivery(ctx context.Context, id string) (store.Delivery, error) {
	if s.down.Load() {
		return store.Delivery{}, errDown
	}
	return s.Store.Delivery(ctx, id)
}

// testOutboxRecovery: a provider accepts a broadcast's messages and the
// store fails for longer than the inbox retries the outcomes; the process
// stops. The next one (Recover, asking the provider) records every
// accepted message's provider ID and sends nothing again.
func testOutboxRecovery(t *testing.T, ns func(*testing.T) store.Store) {
	e := newEnv(t, ns, inbox.Options{})
	fake := channeltest.NewFake(channel.SMS, channeltest.Options{Now: e.clock.Now})
	reg := channel.NewRegistry()
	e.must(reg.Register(channel.SMS, fake, channel.Config{Identities: []channel.Identity{{ID: "main", Address: "+33757000001"}}}))
	st := &downOnAccept{Store: e.store}
	opts := inbox.Options{Now: e.clock.Now, NewID: ids("o"), Directory: e.dir, Channels: reg, Logger: quietLogger,
		OutcomeRetry: 20 * time.Millisecond, Concurrency: 1}
	before, err := inbox.New(st, opts)
	e.must(err)
	yoga, err := before.Start(e.ctx, store.Subject{Kind: store.Audience, ID: "a-yoga"})
	e.must(err)
	fake.FailWhen(func(*channel.Message) error {
		st.down.Store(true)
		return nil
	})
	res, err := before.Send(e.ctx, inbox.Draft{Kind: channel.SMS, ThreadID: yoga.ID, Text: "Cours annulé"})
	if err == nil {
		t.Fatal("a send whose outcome could not be written reports it")
	}
	e.must(before.Close())
	st.down.Store(false)
	sent := fake.Sent()
	if len(sent) != 1 || len(res.Deliveries) != 2 {
		t.Fatalf("sent %d of %d deliveries, want 1: the store was down for the second one's mark", len(sent), len(res.Deliveries))
	}

	e.clock.Advance(time.Minute)
	after, err := inbox.New(e.store, opts)
	e.must(err)
	defer after.Close()
	rec, err := after.Recover(e.ctx)
	if err != nil || rec != (inbox.Recovery{Accepted: 1}) {
		t.Fatalf("Recover = %+v, %v; want 1 accepted", rec, err)
	}
	for _, d := range res.Deliveries {
		got, err := e.store.Delivery(e.ctx, d.ID)
		e.must(err)
		switch {
		case got.ID == sent[0].Message.Reference:
			if got.ProviderID != sent[0].Receipt.ProviderID || got.Status.Current != status.Validated || !got.Sending.IsZero() {
				t.Fatalf("the accepted delivery after Recover: %+v, want provider ID %s", got, sent[0].Receipt.ProviderID)
			}
		case got.ProviderID != "" || !got.Sending.IsZero() || got.Attempts != 0:
			t.Fatalf("the delivery never sent: %+v", got)
		}
	}
	if fake.Attempts() != 1 {
		t.Fatalf("%d attempts: nothing is sent twice", fake.Attempts())
	}
}
