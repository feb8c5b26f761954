package memstore_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parleyhq/parley/inbox/memstore"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// MergeStatus (store.StatusMerger) leaves a store exactly as reading the
// delivery, merging with status.Record.Apply and writing it does (S2, S3):
// two stores fed the same shuffled, duplicated changes, one through each
// way, answer every query alike: deliveries with their histories and
// versions, message Counts, scheduled and due deliveries.
func TestMergeStatusAsReadApplyWrite(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	merged, written := memstore.New(), memstore.New()
	const n = 40
	var dels []store.Delivery
	for i := range n {
		d := store.Delivery{ID: fmt.Sprintf("d%02d", i), MessageID: "m1", ThreadID: "t1", ProviderID: fmt.Sprintf("p%02d", i), CreatedAt: t0,
			Status: status.Record{Current: status.Validated, History: []status.Change{{Status: status.Validated, At: t0, Raw: "accepted"}}}}
		if i%4 == 0 { // provider-scheduled: in the due index until a later status
			d.Status = status.Record{Current: status.Scheduled, History: []status.Change{{Status: status.Scheduled, At: t0}}}
			d.DueAt, d.Anchor = t0.Add(time.Duration(i)*time.Minute), "booking:1"
		}
		dels = append(dels, d)
	}
	for _, s := range []*memstore.Store{merged, written} {
		mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Audience),
			Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Recipients: n}, Deliveries: dels})
	}
	kinds := []status.Status{status.Sent, status.Delivered, status.Failed, status.Read, status.Undelivered}
	var changes []struct {
		pid string
		c   status.Change
	}
	for i := range n {
		for k := range 3 {
			c := status.Change{Status: kinds[rng.IntN(len(kinds))], At: t0.Add(time.Duration(k+1) * time.Second), Raw: fmt.Sprint(k),
				Arrived: rng.IntN(3) == 0}
			if c.Status == status.Failed {
				c.ErrorMessage = fmt.Sprint("no route ", rng.IntN(2))
			}
			pid := fmt.Sprintf("p%02d", i)
			changes = append(changes, struct {
				pid string
				c   status.Change
			}{pid, c}, struct {
				pid string
				c   status.Change
			}{pid, c})
		}
	}
	rng.Shuffle(len(changes), func(i, j int) { changes[i], changes[j] = changes[j], changes[i] })
	for _, x := range changes {
		r, err := merged.MergeStatus(ctx, x.pid, x.c, nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := written.DeliveryByProviderID(ctx, x.pid)
		if err != nil {
			t.Fatal(err)
		}
		prev := d.Status.Current
		changed, err := d.Status.Apply(x.c)
		if err != nil {
			t.Fatal(err)
		}
		if changed {
			if err := written.WriteDelivery(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if want := (store.Merged{DeliveryID: d.ID, MessageID: d.MessageID, ThreadID: d.ThreadID, Kind: d.Kind,
			Previous: prev, Status: d.Status.Current, Changed: changed}); r != want {
			t.Fatalf("MergeStatus = %+v, want %+v", r, want)
		}
	}
	for _, s := range []*memstore.Store{merged, written} {
		if _, err := s.MergeStatus(ctx, "unknown", status.Change{Status: status.Sent, At: t0}, nil); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown provider ID: %v", err)
		}
	}
	if _, err := merged.MergeStatus(ctx, "p01", status.Change{Status: status.Status(200), At: t0}, nil); !errors.Is(err, status.ErrUnknown) {
		t.Fatalf("invalid status: %v", err)
	}
	state := func(s *memstore.Store) any {
		ds, err := s.Deliveries(ctx, store.DeliveryQuery{MessageID: "m1", Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := s.Message(ctx, "m1")
		sch, _ := s.Scheduled(ctx, "booking:1")
		due, _ := s.ClaimDue(ctx, t0.Add(time.Hour), t0.Add(2*time.Hour), 1000)
		return []any{ds, m.Counts, ids(sch), ids(due)}
	}
	if diff := cmp.Diff(state(written), state(merged)); diff != "" {
		t.Fatalf("merged store differs from read-apply-write (-want +got):\n%s", diff)
	}
}

// MergeStatus merges a change into a stored history as status.Record.Apply
// does (S2, S3), whatever the history and the change: new events inserted
// in place (packed as they are, while the history is inline), reports of
// an event already there that arrived earlier or carry a larger error
// message, duplicates, histories that outgrow the inline ones, times
// outside the packed stamps' range. Random histories and changes drawn
// from a few values, so that every case comes up.
func TestMergeStatusAsApplyRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	statuses := []status.Status{status.Validated, status.Sent, status.Delivered, status.Failed}
	draw := func() status.Change {
		at := t0.Add(time.Duration(rng.IntN(3)) * time.Second)
		if rng.IntN(20) == 0 {
			at = time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC) // outside the stamps' range
		}
		return status.Change{
			Status:       statuses[rng.IntN(len(statuses))],
			At:           at,
			Raw:          []string{"sent", ""}[rng.IntN(2)],
			ErrorCode:    []string{"", "30003"}[rng.IntN(2)],
			ErrorMessage: []string{"", "unreachable", "unreachable handset"}[rng.IntN(3)],
			Arrived:      rng.IntN(2) == 0,
		}
	}
	s := memstore.New()
	const n = 300
	dels := make([]store.Delivery, n)
	for i := range dels {
		d := &dels[i]
		d.ID, d.MessageID, d.ThreadID, d.ProviderID, d.CreatedAt = fmt.Sprintf("d%03d", i), "m1", "t1", fmt.Sprintf("p%03d", i), t0
		for range rng.IntN(6) {
			if _, err := d.Status.Apply(draw()); err != nil {
				t.Fatal(err)
			}
		}
	}
	mustWrite(t, s, store.ThreadWrite{Thread: newThread("t1", store.Audience),
		Message: &store.Message{ID: "m1", ThreadID: "t1", Direction: store.Outbound, Recipients: n}, Deliveries: dels})
	changed := 0
	for range 10 {
		for i := range dels {
			c := draw()
			want := dels[i].Status.Clone()
			wantChanged, err := want.Apply(c)
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.MergeStatus(ctx, dels[i].ProviderID, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Delivery(ctx, dels[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Changed != wantChanged || r.Status != want.Current {
				t.Fatalf("merging %+v into %+v: MergeStatus = %+v, Apply changed %v to %s", c, dels[i].Status, r, wantChanged, want.Current)
			}
			if diff := cmp.Diff(want, got.Status); diff != "" {
				t.Fatalf("merging %+v into %+v (-Apply +MergeStatus):\n%s", c, dels[i].Status, diff)
			}
			dels[i].Status = got.Status
			if wantChanged {
				changed++
			}
		}
	}
	if changed == 0 || changed == 10*n {
		t.Fatalf("%d changes of %d: the draws do not exercise both cases", changed, 10*n)
	}
}
