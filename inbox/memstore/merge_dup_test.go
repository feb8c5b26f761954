package memstore_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// S2, S3: a report of an event the history holds already changes nothing,
// unless it improves on it (an arrival time only moves earlier, an error
// message only grows), exactly as status.Record.Apply merges it; each
// report is checked against Apply on the delivery as read, and the
// histories compared after each.
func TestMergeStatusRepeatedEvents_S2_S3(t *testing.T) {
	s := memstore.New()
	d := store.Delivery{ID: "d1", MessageID: "m1", ThreadID: "t1", ProviderID: "p1", CreatedAt: t0,
		Status: status.Record{Current: status.Validated, History: []status.Change{{Status: status.Validated, At: t0, Raw: "accepted"}}}}
	mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Audience),
		Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Recipients: 1}, Deliveries: []store.Delivery{d}})
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	paris := time.FixedZone("Paris", 3600)
	for i, c := range []status.Change{
		{Status: status.Sent, At: at(2), Raw: "sent"},
		{Status: status.Sent, At: at(2), Raw: "sent"},           // duplicate
		{Status: status.Sent, At: at(2).In(paris), Raw: "sent"}, // the same instant elsewhere
		{Status: status.Sent, At: at(3), Raw: "sent"},           // another time: another event
		{Status: status.Sent, At: at(2), Raw: "SENT"},           // another raw status
		{Status: status.Delivered, At: at(9), Raw: "delivered", Arrived: true},
		{Status: status.Delivered, At: at(9), Raw: "delivered", Arrived: true},  // duplicate
		{Status: status.Delivered, At: at(12), Raw: "delivered", Arrived: true}, // later arrival: nothing
		{Status: status.Delivered, At: at(5), Raw: "delivered", Arrived: true},  // earlier arrival: moves
		{Status: status.Delivered, At: time.Time{}, Raw: "delivered", Arrived: true},
		{Status: status.Failed, At: at(4), ErrorCode: "30003", ErrorMessage: "b"},
		{Status: status.Failed, At: at(4), ErrorCode: "30003", ErrorMessage: "a"}, // smaller message: nothing
		{Status: status.Failed, At: at(4), ErrorCode: "30003", ErrorMessage: "c"}, // larger: kept
		{Status: status.Failed, At: at(4), ErrorCode: "30003", ErrorMessage: "c"}, // duplicate
		{Status: status.Read, At: at(20)},
		{Status: status.Read, At: at(20)},
		{Status: status.Sent, At: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)}, // beyond the stamps
		{Status: status.Sent, At: time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		want, err := s.DeliveryByProviderID(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		changed, _ := want.Status.Apply(c)
		r, err := s.MergeStatus(ctx, "p1", c, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Changed != changed {
			t.Errorf("report %d (%s at %v): changed %v, Apply says %v", i, c.Status, c.At, r.Changed, changed)
		}
		got, err := s.DeliveryByProviderID(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want.Status, got.Status); diff != "" {
			t.Fatalf("report %d: status differs from Apply's (-want +got):\n%s", i, diff)
		}
	}
}
