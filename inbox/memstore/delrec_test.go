package memstore_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// sameTime compares times as the store keeps them: the instant and the
// location, not the monotonic clock reading.
var sameTime = cmp.Comparer(func(a, b time.Time) bool {
	return a.Equal(b) && a.IsZero() == b.IsZero() && a.Location().String() == b.Location().String()
})

// The store keeps every field of a delivery as written, however it packs
// the record (M2, S3): inline or not, a delivery reads back as it was
// written, after its insert, after WriteDelivery and after MergeStatus —
// times outside the range of Unix nanoseconds and in many locations,
// numbers beyond 32 bits, an identity and campaign that are or are not the
// message's, histories longer than the record holds inline, empty and nil
// histories, many currencies.
func TestDeliveryFieldsKept_M2(t *testing.T) {
	s := memstore.New()
	paris, _ := time.LoadLocation("Europe/Paris")
	far := time.Date(2500, 1, 2, 3, 4, 5, 6, time.UTC)
	long := time.Date(1500, 1, 2, 3, 4, 5, 6, paris)
	hist := func(n int) []status.Change {
		var h []status.Change
		for i := range n {
			h = append(h, status.Change{Status: status.Sent, At: t0.Add(time.Duration(i) * time.Second), Raw: fmt.Sprint("r", i),
				ErrorCode: fmt.Sprint(i % 2), ErrorMessage: fmt.Sprint("m", i%3), Arrived: i%2 == 1})
		}
		return h
	}
	full := func(id string) store.Delivery {
		return store.Delivery{ID: id, MessageID: "m1", ThreadID: "t1", Kind: channel.Email, ContactID: "c-" + id,
			Address: id + "@example.com", Identity: "other", Subject: "Hello", Text: "text " + id, HTML: "<p>x</p>",
			SMS: store.SMSInfo{Encoding: "UCS-2", Segments: 3, Units: 201}, Cost: channel.Cost{Micros: 72_000, Currency: "EUR"},
			ProviderID: "P" + id, Status: status.Record{Current: status.Sent, History: hist(2)}, Reason: "why",
			Attempts: 2, CreatedAt: t0.In(paris), DueAt: t0.Add(time.Hour), Anchor: "booking:1", AnchorRule: "rule",
			ClaimedUntil: t0.Add(time.Minute), Sending: t0.Add(time.Second), Campaign: "spring",
			CheckIn: t0.AddDate(0, 0, 3), CheckOut: t0.AddDate(0, 0, 5)}
	}
	ds := []store.Delivery{
		full("a"),
		{ID: "b", MessageID: "m1", ThreadID: "t1", Kind: channel.SMS, Identity: "ident", Campaign: "promo", CreatedAt: t0},
		{ID: "c", MessageID: "m1", ThreadID: "t1", Kind: channel.SMS, Identity: "ident", CreatedAt: far, Sending: long,
			Status: status.Record{Current: status.Sent, History: []status.Change{}}},
		{ID: "d", MessageID: "m1", ThreadID: "t1", Attempts: math.MaxInt, SMS: store.SMSInfo{Segments: -1, Units: math.MaxInt},
			Status: status.Record{Current: status.Failed, History: append(hist(6), status.Change{Status: status.Failed, At: far})}},
		{ID: "e", MessageID: "m1", ThreadID: "t1", Status: status.Record{Current: status.Sent, History: hist(7)}, CreatedAt: t0},
	}
	mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Audience), Deliveries: ds,
		Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Identity: "ident", Broadcast: "promo", Recipients: len(ds)}})
	check := func(want store.Delivery) {
		t.Helper()
		got, err := s.Delivery(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, sameTime); diff != "" {
			t.Errorf("delivery %s (-written +read):\n%s", want.ID, diff)
		}
	}
	for _, d := range ds {
		d.Version = 1
		check(d)
	}
	// every field rewritten, the history past what the record holds inline
	// and back, the currencies more than a byte can number
	for i, d := range ds {
		w, _ := s.Delivery(ctx, d.ID)
		n := full(d.ID)
		n.Version, n.Identity, n.Campaign = w.Version, "ident", "promo"
		n.Status.History = hist(5 + i%2)
		n.Cost.Currency = fmt.Sprint("C", i)
		if err := s.WriteDelivery(ctx, n); err != nil {
			t.Fatal(err)
		}
		n.Version++
		check(n)
		n.Status.History, n.Attempts, n.CreatedAt = hist(1), 0, far
		if err := s.WriteDelivery(ctx, n); err != nil {
			t.Fatal(err)
		}
		n.Version++
		check(n)
	}
	for i := range 300 {
		id := fmt.Sprint("x", i)
		d := store.Delivery{ID: id, MessageID: "m2", ThreadID: "t2", CreatedAt: t0, Cost: channel.Cost{Micros: 1, Currency: fmt.Sprint("K", i)},
			SMS: store.SMSInfo{Encoding: fmt.Sprint("E", i)}, Status: status.Record{Current: status.Pending, History: hist(1)}}
		if i == 0 {
			mustWrite(t, s, store.ThreadWrite{Thread: newThread("t2", store.Audience), Deliveries: []store.Delivery{d},
				Message: &store.Message{ID: "m2", ThreadID: "t2", Direction: store.Outbound, Recipients: 300}})
		} else {
			msg := &store.Message{ID: "m2-" + id, ThreadID: "t2", Direction: store.Outbound, Recipients: 1}
			d.MessageID = msg.ID
			th, _ := s.Thread(ctx, "t2")
			mustWrite(t, s, store.ThreadWrite{Thread: th, Message: msg, Deliveries: []store.Delivery{d}})
		}
		d.Version = 1
		check(d)
	}
	// MergeStatus: as read, apply, write, past the inline history and with
	// times outside the stamps' range
	ref, _ := s.Delivery(ctx, "b")
	if err := s.WriteDelivery(ctx, func() store.Delivery { ref.ProviderID = "Pb"; return ref }()); err != nil {
		t.Fatal(err)
	}
	ref.Version++
	for i, c := range append(hist(9), status.Change{Status: status.Delivered, At: long}, status.Change{Status: status.Read, At: far}) {
		for range 2 {
			m, err := s.MergeStatus(ctx, "Pb", c, nil)
			if err != nil {
				t.Fatal(err)
			}
			changed, _ := ref.Status.Apply(c)
			if m.Changed != changed || m.Status != ref.Status.Current {
				t.Fatalf("change %d: merged %+v, want changed %v, status %v", i, m, changed, ref.Status.Current)
			}
			if changed {
				ref.Version++
			}
			check(ref)
		}
	}
}

// C8 (the outbox): Sent with SendingBefore lists exactly the deliveries
// whose Sending is set, however they were marked and unmarked, in Sent
// order.
func TestSendingIndex_C8(t *testing.T) {
	s := memstore.New()
	const n = 60
	var ds []store.Delivery
	for i := range n {
		ds = append(ds, store.Delivery{ID: fmt.Sprintf("d%02d", i), MessageID: "m1", ThreadID: "t1", CreatedAt: t0,
			Status: status.Record{Current: status.Pending}})
	}
	mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Audience), Deliveries: ds,
		Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Recipients: n}})
	marked := map[string]bool{}
	set := func(id string, on bool) {
		t.Helper()
		d, err := s.Delivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		d.Sending = time.Time{}
		if on {
			d.Sending = t0.Add(time.Minute)
		}
		if err := s.WriteDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		marked[id] = on
	}
	for round, step := range []int{1, 3, 7, 2, 5} {
		for i := round; i < n; i += step {
			id := fmt.Sprintf("d%02d", i)
			set(id, !marked[id])
		}
		got, err := s.Sent(ctx, store.SentQuery{SendingBefore: t0.Add(time.Hour), Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.Sent(ctx, store.SentQuery{Limit: n})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, d := range all {
			if marked[d.ID] {
				want = append(want, d.ID)
			}
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("round %d: Sent(SendingBefore) = %v, want %v", round, ids, want)
		}
	}
}
